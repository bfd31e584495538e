// The topology pair counts behind PreFilter and Filter, through the plugin: counts by key and
// value, pairs that fall back to zero when preemption removes a pod, and any label of the node.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../../api/generated/types.js';
import { CycleState } from '../../framework/cycle-state.js';
import { PodInfo } from '../../framework/node-info.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { onlyPlugin, testCluster, type TestCluster } from '../../testing/framework.js';
import { ERR_REASON_ANTI_AFFINITY, ERR_REASON_EXISTING_ANTI_AFFINITY } from './index.js';

const ZONE = 'topology.kubernetes.io/zone';
const RACK = 'example.com/rack';
const nodes = () => [
  makeNode('a1', { labels: { [ZONE]: 'a', [RACK]: 'r1' } }),
  makeNode('a2', { labels: { [ZONE]: 'a', [RACK]: 'r2' } }),
  makeNode('b1', { labels: { [ZONE]: 'b', [RACK]: 'r1' } }),
  makeNode('b2', { labels: { [ZONE]: 'b' } }),
];

const antiTo = (app: string, key: string) => ({
  podAntiAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: [
      { labelSelector: { matchLabels: { app } }, topologyKey: key },
    ],
  },
});

function bound(name: string, node: string, o: Parameters<typeof makePod>[1] = {}): Pod {
  const p = makePod(name, { nodeName: node, ...o });
  p.metadata.uid = `uid-${name}`;
  return p;
}

/** Filter results on every node after PreFilter, with `victim` removed as preemption would. */
function filterWithout(c: TestCluster, pod: Pod, victim: Pod, on: string): Map<string, string> {
  const pi = new PodInfo(pod);
  const state = new CycleState();
  assert.ok(c.fwk.runPreFilterPlugins(state, pi, c.cache.list()).status.isSuccess());
  const out = new Map<string, string>();
  for (const ni of c.cache.list()) {
    let s = state;
    let node = ni;
    if (ni.name === on) {
      s = state.clone();
      node = ni.clone();
      node.removePod(victim.metadata.uid!);
      assert.ok(c.fwk.runPreFilterExtensionRemovePod(s, pi, new PodInfo(victim), node).isSuccess());
    }
    const st = c.fwk.runFilterPlugins(s, pi, node);
    out.set(ni.name, st.isSuccess() ? '' : st.message());
  }
  return out;
}

describe('InterPodAffinity topology pair counts', () => {
  it('matches existing anti-affinity on any topology key of the node', () => {
    const c = testCluster(
      nodes(),
      [
        bound('zoned', 'a1', { labels: { app: 'z' }, affinity: antiTo('noisy', ZONE) }),
        bound('racked', 'b1', { labels: { app: 'r' }, affinity: antiTo('noisy', RACK) }),
      ],
      onlyPlugin('InterPodAffinity'),
    );
    const r = c.filterAll(makePod('n', { labels: { app: 'noisy' } }));
    assert.equal(r.get('a1'), ERR_REASON_EXISTING_ANTI_AFFINITY, 'zone a, and rack r1');
    assert.equal(r.get('a2'), ERR_REASON_EXISTING_ANTI_AFFINITY, 'zone a');
    assert.equal(r.get('b1'), ERR_REASON_EXISTING_ANTI_AFFINITY, 'rack r1');
    assert.equal(r.get('b2'), '', 'zone b without a rack');
  });

  it('forgets an existing pod’s anti-affinity when preemption removes it', () => {
    const zoned = bound('zoned', 'a1', { labels: { app: 'z' }, affinity: antiTo('noisy', ZONE) });
    const c = testCluster(nodes(), [zoned], onlyPlugin('InterPodAffinity'));
    const r = filterWithout(c, makePod('n', { labels: { app: 'noisy' } }), zoned, 'a1');
    assert.equal(r.get('a1'), '', 'the only anti-affine pod is gone from this trial');
    assert.equal(r.get('a2'), ERR_REASON_EXISTING_ANTI_AFFINITY, 'other nodes keep the original counts');
  });

  it('forgets a pod the incoming pod is anti-affine to when preemption removes it', () => {
    const target = bound('t', 'a1', { labels: { app: 'noisy' } });
    const other = bound('o', 'a2', { labels: { app: 'noisy' } });
    const c = testCluster(nodes(), [target, other], onlyPlugin('InterPodAffinity'));
    const pod = makePod('n', { labels: { app: 'n' }, affinity: antiTo('noisy', RACK) });
    const plain = c.filterAll(pod);
    assert.equal(plain.get('a1'), ERR_REASON_ANTI_AFFINITY);
    assert.equal(plain.get('b1'), ERR_REASON_ANTI_AFFINITY, 'rack r1 holds t');
    assert.equal(plain.get('b2'), '');
    const r = filterWithout(c, pod, target, 'a1');
    assert.equal(r.get('a1'), '');
    assert.equal(r.get('a2'), ERR_REASON_ANTI_AFFINITY);
  });
});
