import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatestValues } from './latest-values.js';

const kv = (key: string, value: string, rev: number) => ({
  key,
  value,
  createRevision: 1,
  modRevision: rev,
});

test('keeps the newest value of each key and evicts the least recently used over its budget', () => {
  const c = new LatestValues(20);
  c.set(kv('/a', 'aaaa', 1)); // 6 bytes
  c.set(kv('/b', 'bbbb', 2)); // 12
  c.set(kv('/a', 'AAAA', 3)); // replaces /a: still 12
  assert.equal(c.get('/a')?.value, 'AAAA');
  assert.equal(c.get('/a')?.modRevision, 3);
  c.get('/b'); // /b is now the most recently used
  c.set(kv('/c', 'cccccc', 4)); // 20
  c.set(kv('/d', 'dd', 5)); // 24: /a, the least recently used, goes
  assert.equal(c.get('/a'), undefined);
  assert.equal(c.get('/b')?.value, 'bbbb');
  assert.equal(c.get('/d')?.value, 'dd');
  c.delete('/b');
  assert.equal(c.get('/b'), undefined);
  c.set(kv('/huge', 'x'.repeat(100), 6)); // larger than the whole budget: not kept
  assert.equal(c.get('/huge'), undefined);
  assert.ok(Object.isFrozen(c.get('/d')));
});
