import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeNode, makePod } from '../../testing/builders.js';
import { onlyPlugin, testCluster } from '../../testing/framework.js';

describe('NodeName', () => {
  it('fits only the named node', () => {
    const c = testCluster([makeNode('a'), makeNode('b')], [], onlyPlugin('NodeName'));
    const r = c.filterAll(makePod('p', { nodeName: 'a' }));
    assert.equal(r.get('a'), '');
    assert.equal(r.get('b'), "node(s) didn't match the requested node name");
    assert.deepEqual([...c.filterAll(makePod('q')).values()], ['', '']);
  });
});
