import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Affinity } from '../../../api/generated/types.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { onlyPlugin, testCluster } from '../../testing/framework.js';
import { ERR_REASON_AFFINITY, ERR_REASON_ANTI_AFFINITY, ERR_REASON_EXISTING_ANTI_AFFINITY } from './index.js';

const ZONE = 'topology.kubernetes.io/zone';
const nodes = () => [
  makeNode('a1', { labels: { [ZONE]: 'a' } }),
  makeNode('a2', { labels: { [ZONE]: 'a' } }),
  makeNode('b1', { labels: { [ZONE]: 'b' } }),
  makeNode('nozone'),
];

function term(app: string, key = ZONE) {
  return { labelSelector: { matchLabels: { app } }, topologyKey: key };
}

describe('InterPodAffinity', () => {
  it('requires a matching pod in the same topology domain', () => {
    const c = testCluster(
      nodes(),
      [makePod('db', { nodeName: 'a1', labels: { app: 'db' } })],
      onlyPlugin('InterPodAffinity'),
    );
    const affinity: Affinity = {
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db')] },
    };
    const r = c.filterAll(makePod('web', { labels: { app: 'web' }, affinity }));
    assert.deepEqual(Object.fromEntries(r), {
      a1: '',
      a2: '',
      b1: ERR_REASON_AFFINITY,
      nozone: ERR_REASON_AFFINITY,
    });
  });

  it('lets the first pod of a self-affine group go anywhere the key exists', () => {
    const c = testCluster(nodes(), [], onlyPlugin('InterPodAffinity'));
    const affinity: Affinity = {
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web')] },
    };
    const r = c.filterAll(makePod('web', { labels: { app: 'web' }, affinity }));
    assert.equal(r.get('a1'), '');
    assert.equal(r.get('b1'), '');
    assert.equal(r.get('nozone'), ERR_REASON_AFFINITY);
  });

  it('rejects domains holding pods the incoming pod is anti-affine to', () => {
    const c = testCluster(
      nodes(),
      [makePod('x', { nodeName: 'a2', labels: { app: 'web' } })],
      onlyPlugin('InterPodAffinity'),
    );
    const affinity: Affinity = {
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web')] },
    };
    const r = c.filterAll(makePod('web', { labels: { app: 'web' }, affinity }));
    assert.equal(r.get('a1'), ERR_REASON_ANTI_AFFINITY);
    assert.equal(r.get('a2'), ERR_REASON_ANTI_AFFINITY);
    assert.equal(r.get('b1'), '');
    assert.equal(r.get('nozone'), '');
  });

  it("honours existing pods' required anti-affinity against the incoming pod", () => {
    const loner = makePod('loner', {
      nodeName: 'b1',
      labels: { app: 'loner' },
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [term('noisy', 'kubernetes.io/hostname')],
        },
      },
    });
    const c = testCluster(nodes(), [loner], onlyPlugin('InterPodAffinity'));
    const r = c.filterAll(makePod('n', { labels: { app: 'noisy' } }));
    assert.equal(r.get('b1'), ERR_REASON_EXISTING_ANTI_AFFINITY);
    assert.equal(r.get('a1'), '');
    assert.equal(c.filterAll(makePod('quiet', { labels: { app: 'quiet' } })).get('b1'), '');
  });

  it('only matches pods in the term namespaces (own namespace by default)', () => {
    const c = testCluster(
      nodes(),
      [makePod('db', { namespace: 'other', nodeName: 'a1', labels: { app: 'db' } })],
      onlyPlugin('InterPodAffinity'),
    );
    const anti: Affinity = {
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db')] },
    };
    assert.equal(c.filterAll(makePod('p', { affinity: anti })).get('a1'), '');
    const anyNs: Affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ ...term('db'), namespaceSelector: {} }],
      },
    };
    assert.equal(c.filterAll(makePod('p', { affinity: anyNs })).get('a1'), ERR_REASON_ANTI_AFFINITY);
  });

  it('scores preferred affinity up and preferred anti-affinity down', () => {
    const c = testCluster(
      nodes(),
      [
        makePod('db', { nodeName: 'a1', labels: { app: 'db' } }),
        makePod('cache', { nodeName: 'b1', labels: { app: 'cache' } }),
      ],
      onlyPlugin('InterPodAffinity'),
    );
    const affinity: Affinity = {
      podAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('db') }],
      },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('cache') }],
      },
    };
    const s = c.scoreAll(makePod('web', { affinity }));
    assert.equal(s.get('a1'), 100);
    assert.equal(s.get('a2'), 100);
    assert.equal(s.get('b1'), 0);
    assert.equal(s.get('nozone'), 50);
  });
});
