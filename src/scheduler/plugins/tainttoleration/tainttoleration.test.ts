import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeNode, makePod } from '../../testing/builders.js';
import { onlyPlugin, testCluster } from '../../testing/framework.js';

describe('TaintToleration', () => {
  const nodes = [
    makeNode('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
    makeNode('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] }),
    makeNode('soft', { taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] }),
    makeNode('plain'),
  ];

  it('rejects untolerated NoSchedule and NoExecute taints with the taint in the message', () => {
    const c = testCluster(nodes, [], onlyPlugin('TaintToleration'));
    const r = c.filterAll(makePod('p'));
    assert.equal(r.get('cp'), 'node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }');
    assert.equal(r.get('gpu'), 'node(s) had untolerated taint {dedicated: gpu}');
    assert.equal(r.get('soft'), '');
    assert.equal(r.get('plain'), '');
  });

  it('accepts Equal and Exists tolerations, and an empty key with Exists tolerates everything', () => {
    const c = testCluster(nodes, [], onlyPlugin('TaintToleration'));
    const eq = c.filterAll(
      makePod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }] }),
    );
    assert.equal(eq.get('gpu'), '');
    const wrong = c.filterAll(
      makePod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cpu' }] }),
    );
    assert.notEqual(wrong.get('gpu'), '');
    const all = c.filterAll(makePod('p', { tolerations: [{ operator: 'Exists' }] }));
    assert.deepEqual([...all.values()], ['', '', '', '']);
  });

  it('scores nodes with untolerated PreferNoSchedule taints lower', () => {
    const c = testCluster(nodes, [], onlyPlugin('TaintToleration'));
    const s = c.scoreAll(
      makePod('p', {
        tolerations: [
          { operator: 'Exists', effect: 'NoSchedule' },
          { operator: 'Exists', effect: 'NoExecute' },
        ],
      }),
    );
    assert.equal(s.get('soft'), 0);
    assert.equal(s.get('plain'), 100);
    assert.equal(s.get('cp'), 100);
  });
});
