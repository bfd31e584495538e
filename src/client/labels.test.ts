import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesLabelSelector, parseLabelSelector, selectorFromSet } from './labels.js';

test('label selectors: equality, inequality, set and existence terms', () => {
  const l = { app: 'web', tier: 'front', env: 'prod' };
  assert.ok(matchesLabelSelector(l, ''));
  assert.ok(matchesLabelSelector(l, 'app=web'));
  assert.ok(matchesLabelSelector(l, 'app==web,tier=front'));
  assert.ok(!matchesLabelSelector(l, 'app=web,tier=back'));
  assert.ok(matchesLabelSelector(l, 'tier!=back'));
  assert.ok(matchesLabelSelector(l, 'missing!=x'), '!= matches when the label is absent');
  assert.ok(matchesLabelSelector(l, 'env in (prod, staging)'));
  assert.ok(!matchesLabelSelector(l, 'env notin (prod,staging)'));
  assert.ok(matchesLabelSelector(l, 'app,!missing'));
  assert.ok(!matchesLabelSelector(l, '!app'));
  assert.ok(!matchesLabelSelector(undefined, 'app'));
  assert.equal(parseLabelSelector('a in (x,y),b').length, 2);
  assert.throws(() => parseLabelSelector('a b c'));
  assert.equal(selectorFromSet({ a: 'b', c: 'd' }), 'a=b,c=d');
});
