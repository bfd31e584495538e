import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod, TopologySpreadConstraint } from '../../../api/generated/types.js';
import { SchedulerCache } from '../../cache/cache.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { onlyPlugin, testCluster } from '../../testing/framework.js';
import { compileLabelSelector } from '../../util/selectors.js';
import { DomainCountMemo, type CountedConstraint } from './domain-memo.js';
import { ERR_REASON_CONSTRAINTS_NOT_MATCH } from './index.js';

const ZONE = 'topology.kubernetes.io/zone';
const HOST = 'kubernetes.io/hostname';

/** The definition, written out plainly: what a full walk over every node and pod counts. */
function fullCount(
  nodes: readonly NodeInfo[],
  constraints: readonly CountedConstraint[],
  ns: string,
): Array<Map<string, number>> {
  const out = constraints.map(() => new Map<string, number>());
  for (const ni of nodes) {
    const labels = ni.node?.metadata.labels ?? {};
    if (!ni.node || constraints.some((c) => !(c.topologyKey in labels))) continue;
    constraints.forEach((c, i) => {
      const v = labels[c.topologyKey]!;
      const n = ni.pods.filter(
        (p) =>
          p.pod.metadata.namespace === ns &&
          !p.pod.metadata.deletionTimestamp &&
          c.selector(p.pod.metadata.labels),
      ).length;
      out[i]!.set(v, (out[i]!.get(v) ?? 0) + n);
    });
  }
  return out;
}

const sorted = (ms: Array<Map<string, number>>): Array<Array<[string, number]>> =>
  ms.map((m) => [...m].sort(([a], [b]) => a.localeCompare(b)));

const bound = (name: string, node: string, labels: Record<string, string>, namespace = 'default'): Pod => {
  const p = makePod(name, { nodeName: node, labels, namespace });
  p.metadata.uid = `uid-${namespace}-${name}`;
  return p;
};

describe('PodTopologySpread domain count memo', () => {
  it('stays equal to a full count while pods, labels and nodes change between cycles', () => {
    const cache = new SchedulerCache();
    for (let i = 0; i < 12; i++) {
      // Every fourth node has no zone label, so it is not counted at all.
      cache.addNode(makeNode(`n${i}`, { labels: i % 4 === 3 ? {} : { [ZONE]: `z${i % 3}` } }));
    }
    const constraints: CountedConstraint[] = [
      { topologyKey: ZONE, selector: compileLabelSelector({ matchLabels: { app: 'x' } }) },
      { topologyKey: HOST, selector: compileLabelSelector({ matchLabels: { app: 'x', tier: 'web' } }) },
    ];
    const memo = new DomainCountMemo(constraints, 'default');
    const check = (step: string): void => {
      assert.deepEqual(
        sorted(memo.counts(cache.list())),
        sorted(fullCount(cache.list(), constraints, 'default')),
        step,
      );
    };
    check('empty nodes: every zone and host is a domain with 0');
    assert.deepEqual(sorted(memo.counts(cache.list()))[0], [
      ['z0', 0],
      ['z1', 0],
      ['z2', 0],
    ]);
    cache.addPod(bound('a', 'n0', { app: 'x', tier: 'web' }));
    cache.addPod(bound('b', 'n1', { app: 'x' }));
    cache.addPod(bound('c', 'n1', { app: 'y' }));
    cache.addPod(bound('d', 'n2', { app: 'x' }, 'other'));
    cache.addPod(bound('e', 'n3', { app: 'x' }));
    check('pods added (other namespace and unlabelled node not counted)');
    assert.deepEqual(sorted(memo.counts(cache.list()))[0], [
      ['z0', 1],
      ['z1', 1],
      ['z2', 0],
    ]);
    const terminating = bound('b', 'n1', { app: 'x' });
    terminating.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
    cache.updatePod(terminating, terminating);
    check('a terminating pod no longer counts');
    cache.updatePod(bound('c', 'n1', { app: 'y' }), bound('c', 'n1', { app: 'x', tier: 'web' }));
    check('a pod relabelled into the selector');
    cache.removePod(bound('a', 'n0', {}));
    check('a pod removed');
    cache.updateNode(makeNode('n1'), makeNode('n1', { labels: { [ZONE]: 'z2' } }));
    check('a node moved to another zone');
    cache.updateNode(makeNode('n3'), makeNode('n3', { labels: { [ZONE]: 'z9' } }));
    check('a node gained the zone label (a new domain)');
    cache.removeNode(makeNode('n0'));
    cache.addNode(makeNode('n20', { labels: { [ZONE]: 'z0' } }));
    check('nodes removed and added');
    for (let i = 0; i < 12; i++) cache.removeNode(makeNode(`n${i}`));
    check('only one node left');
    assert.deepEqual(sorted(memo.counts(cache.list()))[0], [['z0', 0]]);
  });

  it('gives fresh maps each cycle, so a cycle state changed by preemption does not leak into the next', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('n0', { labels: { [ZONE]: 'z0' } }));
    const memo = new DomainCountMemo(
      [{ topologyKey: ZONE, selector: compileLabelSelector({ matchLabels: { app: 'x' } }) }],
      'default',
    );
    memo.counts(cache.list())[0]!.set('z0', 42);
    assert.equal(memo.counts(cache.list())[0]!.get('z0'), 0);
  });
});

describe('PodTopologySpread fast paths decide as the general path', () => {
  const nodes = () => [
    makeNode('a1', { labels: { [ZONE]: 'a' } }),
    makeNode('a2', { labels: { [ZONE]: 'a' } }),
    makeNode('b1', { labels: { [ZONE]: 'b' } }),
    makeNode('c1', {
      labels: { [ZONE]: 'c' },
      taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }],
    }),
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
  const incoming = (extra: Parameters<typeof makePod>[1] = {}, c = spread()): Pod =>
    makePod('new', { labels: { app: 'x' }, topologySpreadConstraints: c, ...extra });

  it('counts empty nodes as domains with 0 pods, and follows pods placed between cycles', () => {
    const c = testCluster(nodes(), [bound('p1', 'a1', { app: 'x' })], onlyPlugin('PodTopologySpread'));
    // Zones b and c have no pods: the minimum is 0, so zone a (1 + 1 − 0 > 1) is refused.
    let r = c.filterAll(incoming());
    assert.equal(r.get('a1'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    assert.equal(r.get('b1'), '');
    assert.equal(r.get('c1'), '');
    c.cache.addPod(bound('p2', 'b1', { app: 'x' }));
    c.cache.addPod(bound('p3', 'c1', { app: 'x' }));
    r = c.filterAll(incoming());
    assert.equal(r.get('a1'), '', 'every zone now has one pod');
    c.cache.addPod(bound('p4', 'b1', { app: 'x' }));
    r = c.filterAll(incoming());
    assert.equal(r.get('b1'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    assert.equal(r.get('a2'), '');
  });

  it('still excludes nodes by the pod’s node affinity (Honor) after the memo served other pods', () => {
    const c = testCluster(nodes(), [bound('p1', 'a1', { app: 'x' })], onlyPlugin('PodTopologySpread'));
    assert.equal(c.filterAll(incoming()).get('a2'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    // Only zone a is eligible: the empty zones do not pull the minimum down.
    const selective = c.filterAll(incoming({ nodeSelector: { [ZONE]: 'a' } }));
    assert.equal(selective.get('a2'), '');
    // Ignore: the nodeSelector no longer narrows the domains.
    const ignoring = c.filterAll(
      incoming({ nodeSelector: { [ZONE]: 'a' } }, spread({ nodeAffinityPolicy: 'Ignore' })),
    );
    assert.equal(ignoring.get('a2'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    assert.equal(c.filterAll(incoming()).get('a2'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
  });

  it('excludes tainted nodes from the domains under nodeTaintsPolicy Honor', () => {
    const c = testCluster(
      nodes(),
      [bound('p1', 'a1', { app: 'x' }), bound('p2', 'b1', { app: 'x' })],
      onlyPlugin('PodTopologySpread'),
    );
    // Ignore (default): zone c's tainted node is a domain with 0 pods.
    assert.equal(c.filterAll(incoming()).get('a2'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    const honour = c.filterAll(incoming({}, spread({ nodeTaintsPolicy: 'Honor' })));
    assert.equal(honour.get('a2'), '');
    const tolerating = c.filterAll(
      incoming(
        { tolerations: [{ key: 'dedicated', operator: 'Exists' }] },
        spread({ nodeTaintsPolicy: 'Honor' }),
      ),
    );
    assert.equal(tolerating.get('a2'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
  });

  it('applies minDomains to the memoized domains', () => {
    const c = testCluster(
      nodes().slice(0, 3),
      [bound('p1', 'a1', { app: 'x' }), bound('p2', 'b1', { app: 'x' })],
      onlyPlugin('PodTopologySpread'),
    );
    assert.equal(c.filterAll(incoming()).get('a2'), '');
    // Two domains but three required: the minimum counts as 0.
    const r = c.filterAll(incoming({}, spread({ minDomains: 3 })));
    assert.equal(r.get('a2'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    assert.equal(r.get('b1'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    c.cache.addNode(makeNode('d1', { labels: { [ZONE]: 'd' } }));
    const more = c.filterAll(incoming({}, spread({ minDomains: 3 })));
    assert.equal(more.get('d1'), '');
    assert.equal(more.get('a2'), ERR_REASON_CONSTRAINTS_NOT_MATCH, 'zone d is the minimum with 0');
  });

  it('keeps namespaces and selectors apart', () => {
    const c = testCluster(nodes(), [bound('p1', 'a1', { app: 'x' })], onlyPlugin('PodTopologySpread'));
    assert.equal(c.filterAll(incoming()).get('a2'), ERR_REASON_CONSTRAINTS_NOT_MATCH);
    assert.equal(c.filterAll(incoming({ namespace: 'other' })).get('a2'), '');
    const otherApp = c.filterAll(
      makePod('y', {
        labels: { app: 'y' },
        topologySpreadConstraints: spread({ labelSelector: { matchLabels: { app: 'y' } } }),
      }),
    );
    assert.equal(otherApp.get('a2'), '');
  });
});
