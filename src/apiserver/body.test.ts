import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonDetectingDuplicates, parseYamlDetectingDuplicates } from './body.js';

test('JSON parse reports duplicate keys with their paths', () => {
  const r = parseJsonDetectingDuplicates('{"a":1,"b":{"c":[{"d":1,"d":2}]},"a":3}');
  assert.deepEqual(r.value, { a: 3, b: { c: [{ d: 2 }] } });
  assert.deepEqual([...r.duplicates].sort(), ['a', 'b.c[0].d']);
});

test('JSON parse matches JSON.parse on ordinary documents', () => {
  const doc = {
    s: 'x"\\\n\u00e9',
    n: -1.5e3,
    t: true,
    f: false,
    z: null,
    a: [1, [2], {}],
    o: { '': 'empty' },
  };
  const text = JSON.stringify(doc);
  assert.deepEqual(parseJsonDetectingDuplicates(text).value, JSON.parse(text));
  assert.throws(() => parseJsonDetectingDuplicates('{"a":'));
  assert.throws(() => parseJsonDetectingDuplicates('{"a":1} x'));
  assert.throws(() => parseJsonDetectingDuplicates("{'a':1}"));
});

test('YAML parse reports duplicate keys', () => {
  const r = parseYamlDetectingDuplicates('a: 1\nb:\n  c: 2\n  c: 3\n');
  assert.deepEqual(r.duplicates, ['b.c']);
});
