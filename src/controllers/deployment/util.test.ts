import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, ReplicaSet } from '../../api/generated/types.js';
import { computeHash, safeEncodeString } from './hash.js';
import { nginxDeployment } from './testutil.js';
import {
  equalIgnoreHash,
  getProportion,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  resolveFenceposts,
  setNewReplicaSetAnnotations,
  valueFromIntOrPercent,
} from './util.js';

test('the template hash uses the safe alphabet, is stable, and changes with the collision count', () => {
  const t = nginxDeployment(3).spec!.template;
  const h = computeHash(t);
  assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  assert.equal(computeHash(structuredClone(t)), h);
  assert.notEqual(computeHash(t, 1), h);
  assert.notEqual(computeHash(nginxDeployment(3, 'nginx:1.13').spec!.template), h);
  // Key order does not matter.
  const reordered = { spec: t.spec, metadata: t.metadata };
  assert.equal(computeHash(reordered), h);
  // Decimal digits map as upstream's: "1815823120" is how nginx-deployment-5d59d67564 got its name.
  assert.equal(safeEncodeString('0123456789'), '456789bcdf');
  assert.equal(safeEncodeString('1815823120'), '5d59d67564');
});

test('fenceposts: surge rounds up, unavailable rounds down, both zero means one unavailable', () => {
  assert.deepEqual(resolveFenceposts('25%', '25%', 10), { surge: 3, unavailable: 2 });
  assert.deepEqual(resolveFenceposts('1%', '1%', 10), { surge: 1, unavailable: 0 });
  assert.deepEqual(resolveFenceposts(0, '1%', 10), { surge: 0, unavailable: 1 });
  assert.deepEqual(resolveFenceposts(2, 3, 10), { surge: 2, unavailable: 3 });
  assert.equal(valueFromIntOrPercent('50%', 5, true), 3);
  assert.equal(valueFromIntOrPercent('50%', 5, false), 2);
  assert.throws(() => valueFromIntOrPercent('5', 5, false), /not a percentage/);
  const d = nginxDeployment(4, 'x', {
    type: 'RollingUpdate',
    rollingUpdate: { maxSurge: 1, maxUnavailable: 10 },
  });
  assert.equal(maxUnavailable(d), 4);
  assert.equal(maxSurge({ ...d, spec: { ...d.spec!, strategy: { type: 'Recreate' } } }), 0);
});

function rs(
  name: string,
  replicas: number,
  ann: Record<string, string> = {},
  status?: ReplicaSet['status'],
): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, annotations: ann, uid: name },
    spec: { replicas, selector: {} },
    ...(status ? { status } : {}),
  };
}

test('the new ReplicaSet grows by what surge leaves, counting pods old ReplicaSets still have', () => {
  const d = nginxDeployment(10, 'x', {
    type: 'RollingUpdate',
    rollingUpdate: { maxSurge: '20%', maxUnavailable: 0 },
  });
  const newRS = rs('new', 0);
  assert.equal(newRSNewReplicas(d, [rs('old', 10), newRS], newRS), 2);
  // The old one was scaled to 8 but still has 10 pods: no room yet.
  const shrinking = rs('old', 8, {}, { replicas: 10 });
  assert.equal(newRSNewReplicas(d, [shrinking, rs('new', 2)], rs('new', 2)), 2);
  assert.equal(newRSNewReplicas(d, [rs('old', 8, {}, { replicas: 8 }), rs('new', 2)], rs('new', 2)), 4);
});

test('proportions: a ReplicaSet gets its share of a scaling event, capped by what is left', () => {
  const d: Deployment = nginxDeployment(20, 'x', {
    type: 'RollingUpdate',
    rollingUpdate: { maxSurge: 3, maxUnavailable: 2 },
  });
  const a = rs('a', 8, { 'deployment.kubernetes.io/max-replicas': '13' });
  // 8 * 23 / 13 = 14.15 → 14: +6.
  assert.equal(getProportion(a, d, 10, 0), 6);
  assert.equal(getProportion(a, d, 10, 7), 3);
  assert.equal(getProportion(rs('z', 0), d, 10, 0), 0);
});

test('annotations: revision raised to max+1 with the old one kept in revision-history', () => {
  const d = nginxDeployment(3);
  d.metadata.annotations = {
    'kubernetes.io/change-cause': 'undo',
    'kubectl.kubernetes.io/last-applied-configuration': '{}',
  };
  const r = rs('r', 3, { 'deployment.kubernetes.io/revision': '1' });
  assert.equal(setNewReplicaSetAnnotations(d, r, '3', true), true);
  assert.equal(r.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
  assert.equal(r.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
  assert.equal(r.metadata.annotations?.['kubernetes.io/change-cause'], 'undo');
  assert.equal(r.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  assert.equal(setNewReplicaSetAnnotations(d, r, '3', true), false);
  setNewReplicaSetAnnotations(d, r, '5', true);
  assert.equal(r.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1,3');
  const fresh = rs('f', 0, {});
  setNewReplicaSetAnnotations(d, fresh, '1', false);
  assert.equal(fresh.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '3');
  assert.equal(fresh.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '4');
});

test('templates compare equal apart from the hash label, nulls and empty lists', () => {
  const a = nginxDeployment(1).spec!.template;
  const b = structuredClone(a);
  b.metadata!.labels!['pod-template-hash'] = 'abc';
  (b.metadata as Record<string, unknown>).creationTimestamp = null;
  b.spec!.volumes = [];
  // What a server may write out for Go zero values.
  Object.assign(b.spec!.containers[0]!, { stdin: false, tty: false, resources: {} });
  b.spec!.hostNetwork = false;
  assert.equal(equalIgnoreHash(a, b), true);
  b.spec!.containers[0]!.image = 'nginx:1.13';
  assert.equal(equalIgnoreHash(a, b), false);
});
