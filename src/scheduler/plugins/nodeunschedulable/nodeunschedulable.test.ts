import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeNode, makePod } from '../../testing/builders.js';
import { onlyPlugin, testCluster } from '../../testing/framework.js';

describe('NodeUnschedulable', () => {
  it('rejects cordoned nodes unless the pod tolerates node.kubernetes.io/unschedulable', () => {
    const c = testCluster(
      [makeNode('cordoned', { unschedulable: true }), makeNode('ok')],
      [],
      onlyPlugin('NodeUnschedulable'),
    );
    const r = c.filterAll(makePod('p'));
    assert.equal(r.get('cordoned'), 'node(s) were unschedulable');
    assert.equal(r.get('ok'), '');
    const tolerant = makePod('t', {
      tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }],
    });
    assert.equal(c.filterAll(tolerant).get('cordoned'), '');
  });
});
