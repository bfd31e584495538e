import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TopologySpreadConstraint } from '../../../api/generated/types.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { onlyPlugin, testCluster } from '../../testing/framework.js';
import { ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH } from './index.js';

const ZONE = 'topology.kubernetes.io/zone';
const nodes = () => [
  makeNode('a1', { labels: { [ZONE]: 'a' } }),
  makeNode('a2', { labels: { [ZONE]: 'a' } }),
  makeNode('b1', { labels: { [ZONE]: 'b' } }),
  makeNode('nozone'),
];
const spread = (extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint[] => [
  {
    maxSkew: 1,
    topologyKey: ZONE,
    whenUnsatisfiable: 'DoNotSchedule',
    labelSelector: { matchLabels: { app: 'x' } },
    ...extra,
  },
];
const placed = (name: string, node: string) => makePod(name, { nodeName: node, labels: { app: 'x' } });

describe('PodTopologySpread', () => {
  it('rejects domains that would exceed maxSkew and nodes without the topology key', () => {
    const c = testCluster(nodes(), [placed('p1', 'a1'), placed('p2', 'a2')], onlyPlugin('PodTopologySpread'));
    const r = c.filterAll(makePod('new', { labels: { app: 'x' }, topologySpreadConstraints: spread() }));
    assert.equal(r.get('a1'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    assert.equal(r.get('b1'), '');
    assert.equal(r.get('nozone'), ERR_REASON_NODE_LABEL_NOT_MATCH);
    const loose = c.filterAll(
      makePod('new', { labels: { app: 'x' }, topologySpreadConstraints: spread({ maxSkew: 3 }) }),
    );
    assert.equal(loose.get('a1'), '');
  });

  it('treats the global minimum as 0 while there are fewer domains than minDomains', () => {
    const c = testCluster(nodes(), [placed('p1', 'a1'), placed('p2', 'b1')], onlyPlugin('PodTopologySpread'));
    const r = c.filterAll(
      makePod('new', { labels: { app: 'x' }, topologySpreadConstraints: spread({ minDomains: 3 }) }),
    );
    assert.equal(r.get('a1'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    assert.equal(r.get('b1'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    const plain = c.filterAll(makePod('new', { labels: { app: 'x' }, topologySpreadConstraints: spread() }));
    assert.equal(plain.get('a1'), '');
  });

  it('honours node affinity when counting domains (nodeAffinityPolicy Honor)', () => {
    const c = testCluster(nodes(), [placed('p1', 'a1')], onlyPlugin('PodTopologySpread'));
    // Only zone a is eligible, so b's empty domain does not pull the minimum down.
    const r = c.filterAll(
      makePod('new', {
        labels: { app: 'x' },
        nodeSelector: { [ZONE]: 'a' },
        topologySpreadConstraints: spread(),
      }),
    );
    assert.equal(r.get('a2'), '');
  });

  it('scores ScheduleAnyway constraints: fewer matching pods in the domain is better', () => {
    const c = testCluster(nodes(), [placed('p1', 'a1'), placed('p2', 'a2')], onlyPlugin('PodTopologySpread'));
    const s = c.scoreAll(
      makePod('new', {
        labels: { app: 'x' },
        topologySpreadConstraints: spread({ whenUnsatisfiable: 'ScheduleAnyway' }),
      }),
    );
    assert.equal(s.get('b1'), 100);
    assert.ok((s.get('a1') ?? 100) < 100);
    assert.equal(s.get('nozone'), 0);
  });

  it('spreads a ReplicaSet’s pods by default (system default constraints)', () => {
    const c = testCluster(
      [makeNode('n1'), makeNode('n2')],
      [
        makePod('r1', { nodeName: 'n1', labels: { app: 'rs' } }),
        makePod('r2', { nodeName: 'n1', labels: { app: 'rs' } }),
      ],
      onlyPlugin('PodTopologySpread'),
    );
    c.client.add('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'rs', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'rs' } }, template: {} },
    });
    const s = c.scoreAll(makePod('r3', { labels: { app: 'rs' } }));
    assert.ok((s.get('n2') ?? 0) > (s.get('n1') ?? 0), JSON.stringify([...s]));
    const lone = c.scoreAll(makePod('other', { labels: { app: 'none' } }));
    assert.deepEqual([...lone.values()], [0, 0]);
  });
});
