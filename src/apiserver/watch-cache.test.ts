import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodedEvent } from './watch-cache.js';

const v = (name: string, label: string): string =>
  JSON.stringify({ kind: 'Pod', metadata: { name, labels: { l: label } } });

test('a MODIFIED event takes its previous state from the parsed event that wrote it', () => {
  const added = new DecodedEvent('ADDED', 5, 'k', v('p', 'a'), 5);
  const parsed = added.object;
  const modified = new DecodedEvent('MODIFIED', 7, 'k', v('p', 'b'), 7, v('p', 'a'), 5);
  modified.adoptPrevFrom(added);
  assert.equal(modified.prev, parsed, 'the same object, not parsed again');
  assert.equal(modified.prev?.metadata.resourceVersion, '5');
  assert.deepEqual(modified.object.metadata.labels, { l: 'b' });
});

test('nothing is taken from an event of another revision or key, or one never parsed', () => {
  const other = new DecodedEvent('ADDED', 4, 'k', v('p', 'x'), 4);
  void other.object;
  const otherKey = new DecodedEvent('ADDED', 5, 'j', v('q', 'x'), 5);
  void otherKey.object;
  const unparsed = new DecodedEvent('ADDED', 5, 'k', v('p', 'x'), 5);
  for (const before of [other, otherKey, unparsed]) {
    const modified = new DecodedEvent('MODIFIED', 7, 'k', v('p', 'b'), 7, v('p', 'a'), 5);
    modified.adoptPrevFrom(before);
    assert.deepEqual(modified.prev?.metadata.labels, { l: 'a' }, 'parsed from its own previous value');
    assert.equal(modified.prev?.metadata.resourceVersion, '5');
  }
});
