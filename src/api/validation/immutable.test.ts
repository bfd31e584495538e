import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorMessage } from '../errors.js';
import { semanticEqual, validateImmutableField, validateImmutableFields } from './immutable.js';

test('empty spellings compare equal, as Go zero values do', () => {
  assert.ok(semanticEqual(undefined, null));
  assert.ok(semanticEqual([], undefined));
  assert.ok(semanticEqual({ a: [] }, {}));
  assert.ok(semanticEqual({ a: '' }, {}));
  assert.ok(!semanticEqual({ a: 0 }, {}));
  assert.ok(!semanticEqual(['a'], ['b']));
  assert.ok(semanticEqual({ x: { y: [1, 2] } }, { x: { y: [1, 2] } }));
});

test('a changed immutable field is refused with "field is immutable"', () => {
  assert.deepEqual(validateImmutableField('a', 'a', 'spec.x'), []);
  const errs = validateImmutableFields(
    { spec: { selector: { a: 'b' } } },
    { spec: { selector: { a: 'c' } } },
    ['spec.selector'],
  );
  assert.deepEqual(errs.map(fieldErrorMessage), [
    'spec.selector: Invalid value: {"a":"b"}: field is immutable',
  ]);
});
