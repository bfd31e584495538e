import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, ReplicaSet, ReplicationController } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import { PODS, REPLICASETS, REPLICATIONCONTROLLERS } from '../../client/typed-refs.js';
import { FakeClock, formatTime } from '../common/clock.js';
import { EXPECTATIONS_TIMEOUT_MS } from '../common/expectations.js';
import { podFromTemplate, controllerRef } from '../common/pod-control.js';
import { FakePodControl, fakeInformer, put, quotaError, readyPod } from '../testing.js';
import { replicaSetAdapter, replicationControllerAdapter } from './adapter.js';
import { ReplicaSetController } from './replica-set.js';

function frontend(replicas: number, extra: Partial<NonNullable<ReplicaSet['spec']>> = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'frontend', namespace: 'default', generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { tier: 'frontend' } },
      template: {
        metadata: { labels: { tier: 'frontend' } },
        spec: { containers: [{ name: 'myapp', image: 'wangyanglinux/myapp:v1' }] },
      },
      ...extra,
    },
  };
}

const live: ReplicaSetController[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((c) => c.stop()));
});

function setup(adapter = replicaSetAdapter) {
  const clock = new FakeClock();
  const rsInformer = fakeInformer<KubeObject>(
    adapter === replicaSetAdapter ? REPLICASETS : REPLICATIONCONTROLLERS,
  );
  const podInformer = fakeInformer<Pod>(PODS);
  const podControl = new FakePodControl();
  const statuses: KubeObject[] = [];
  const controller = new ReplicaSetController({
    adapter,
    rsInformer,
    podInformer,
    podControl,
    clock,
    client: {
      updateStatus: async (obj) => {
        await Promise.resolve();
        statuses.push(obj);
        return put(rsInformer, obj);
      },
      get: async (ns, name) => {
        await Promise.resolve();
        const o = rsInformer.get(ns, name);
        if (!o) throw new Error('not found');
        return o;
      },
    },
  });
  live.push(controller);
  return { clock, rsInformer, podInformer, podControl, statuses, controller };
}

/** Puts the pods the fake pod control created into the pod cache, as the watch would. */
function observeCreated(t: ReturnType<typeof setup>, ready = false): Pod[] {
  const out: Pod[] = [];
  for (const p of t.podControl.created.splice(0)) {
    const stored = put(t.podInformer, ready ? readyPod(p, t.clock.now()) : p, t.clock);
    t.controller.expectations.creationObserved('default/frontend');
    out.push(stored);
  }
  return out;
}

test('creates the missing pods in slow-start batches of 1, 2, 4, … named after the ReplicaSet', async () => {
  const t = setup();
  put(t.rsInformer, frontend(10));
  await t.controller.sync('default/frontend');
  assert.equal(t.podControl.created.length, 10);
  // Batches 1, 2, 4, 3: the concurrency seen when each create started never exceeds the batch.
  assert.ok(Math.max(...t.podControl.inFlightAtStart) <= 4);
  for (const p of t.podControl.created) {
    assert.equal(p.metadata.generateName, 'frontend-');
    assert.deepEqual(p.metadata.labels, { tier: 'frontend' });
    assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'ReplicaSet');
    assert.equal(p.metadata.ownerReferences?.[0]?.controller, true);
  }
  assert.deepEqual(t.controller.expectations.get('default/frontend'), { add: 10, del: 0 });
});

test('does not create again until its creations are observed (a burst of syncs never over-creates)', async () => {
  const t = setup();
  put(t.rsInformer, frontend(5));
  await t.controller.sync('default/frontend');
  for (let i = 0; i < 20; i++) await t.controller.sync('default/frontend');
  assert.equal(t.podControl.created.length, 5);
  // Half observed: still waiting.
  const created = t.podControl.created.splice(0);
  for (const p of created.slice(0, 3)) {
    put(t.podInformer, p);
    t.controller.expectations.creationObserved('default/frontend');
  }
  await t.controller.sync('default/frontend');
  assert.equal(t.podControl.created.length, 0);
  for (const p of created.slice(3)) {
    put(t.podInformer, p);
    t.controller.expectations.creationObserved('default/frontend');
  }
  await t.controller.sync('default/frontend');
  assert.equal(t.podControl.created.length, 0);
  const last = t.statuses.at(-1) as ReplicaSet;
  assert.equal(last.status?.replicas, 5);
  assert.equal(last.status?.fullyLabeledReplicas, 5);
});

test('expectations expire after five minutes (a lost watch event costs a delay, not a stuck ReplicaSet)', async () => {
  const t = setup();
  put(t.rsInformer, frontend(2));
  await t.controller.sync('default/frontend');
  t.podControl.created.splice(0);
  await t.controller.sync('default/frontend');
  assert.equal(t.podControl.created.length, 0);
  t.clock.advance(EXPECTATIONS_TIMEOUT_MS + 1);
  await t.controller.sync('default/frontend');
  assert.equal(t.podControl.created.length, 2);
});

test('a failing create stops the slow start, lowers expectations and sets ReplicaFailure', async () => {
  const t = setup();
  put(t.rsInformer, frontend(10));
  t.podControl.failCreatesFrom = { n: 3, err: quotaError() };
  await assert.rejects(() => t.controller.sync('default/frontend'), /exceeded quota/);
  // Batch 1 succeeded, batch 2 had one success and one failure, nothing more was tried.
  assert.equal(t.podControl.created.length, 2);
  assert.equal(t.podControl.inFlightAtStart.length, 3);
  assert.deepEqual(t.controller.expectations.get('default/frontend'), { add: 2, del: 0 });
  const st = (t.statuses.at(-1) as ReplicaSet).status!;
  const cond = st.conditions?.find((c) => c.type === 'ReplicaFailure');
  assert.equal(cond?.status, 'True');
  assert.equal(cond?.reason, 'FailedCreate');
  assert.match(cond?.message ?? '', /exceeded quota/);
  // Once creates work again, the condition goes away.
  observeCreated(t);
  t.podControl.failCreatesFrom = undefined;
  await t.controller.sync('default/frontend');
  observeCreated(t);
  await t.controller.sync('default/frontend');
  const after = (t.statuses.at(-1) as ReplicaSet).status!;
  assert.equal(
    after.conditions?.find((c) => c.type === 'ReplicaFailure'),
    undefined,
  );
  assert.equal(after.replicas, 10);
});

test('scale-down deletes the least valuable pods first', async () => {
  const t = setup();
  const rs = put(t.rsInformer, frontend(2));
  const now = t.clock.now();
  const mk = (name: string, p: (pod: Pod) => Pod, createdAgoMs: number): Pod => {
    const base = podFromTemplate(rs.spec!.template!, rs, controllerRef(rs));
    base.metadata.name = name;
    base.metadata.namespace = 'default';
    base.metadata.creationTimestamp = formatTime(now - createdAgoMs);
    return put(t.podInformer, p(base));
  };
  mk('ready-old', (p) => readyPod(p, now, { node: 'n1', readySinceMs: now - 3_600_000 }), 3_700_000);
  mk('ready-new', (p) => readyPod(p, now, { node: 'n2', readySinceMs: now - 10_000 }), 20_000);
  mk(
    'restarting',
    (p) => readyPod(p, now, { node: 'n3', restarts: 7, readySinceMs: now - 3_600_000 }),
    3_700_000,
  );
  mk('not-ready', (p) => readyPod(p, now, { node: 'n4', ready: false }), 3_700_000);
  mk('pending', (p) => readyPod(p, now, { node: 'n5', ready: false, phase: 'Pending' }), 3_700_000);
  mk('unassigned', (p) => readyPod(p, now, { ready: false, phase: 'Pending' }), 3_700_000);
  await t.controller.sync('default/frontend');
  assert.deepEqual(
    t.podControl.deleted.sort(),
    ['default/not-ready', 'default/pending', 'default/ready-new', 'default/unassigned'].sort(),
  );
  assert.equal(t.controller.expectations.get('default/frontend')?.del, 4);
  // Survivors: the long-ready pod and... the one ready as long but restarting more goes first.
  const t2 = setup();
  const rs2 = put(t2.rsInformer, frontend(1));
  for (const [name, restarts] of [
    ['a', 0],
    ['b', 5],
  ] as const) {
    const base = podFromTemplate(rs2.spec!.template!, rs2, controllerRef(rs2));
    base.metadata.name = name;
    base.metadata.namespace = 'default';
    base.metadata.creationTimestamp = formatTime(now - 100_000);
    put(t2.podInformer, readyPod(base, now, { node: 'n', restarts, readySinceMs: now - 50_000 }));
  }
  await t2.controller.sync('default/frontend');
  assert.deepEqual(t2.podControl.deleted, ['default/b']);
});

test('adopts matching orphans and releases pods that no longer match', async () => {
  const t = setup();
  const rs = put(t.rsInformer, frontend(2));
  const orphan = put(
    t.podInformer,
    readyPod(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'orphan', namespace: 'default', labels: { tier: 'frontend' } },
        spec: { containers: [] },
      },
      t.clock.now(),
    ),
  );
  const owned = podFromTemplate(rs.spec!.template!, rs, controllerRef(rs));
  owned.metadata.name = 'relabelled';
  owned.metadata.namespace = 'default';
  owned.metadata.labels = { tier: 'backend' };
  put(t.podInformer, owned);
  const other = put(t.podInformer, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'elsewhere', namespace: 'other', labels: { tier: 'frontend' } },
  });
  await t.controller.sync('default/frontend');
  const adopt = t.podControl.patches.find((p) => p.name === 'orphan');
  assert.ok(adopt);
  assert.deepEqual(adopt.ops[0], { op: 'test', path: '/metadata/uid', value: orphan.metadata.uid });
  const added = adopt.ops.find((o) => o.op === 'add')?.value as Array<{ uid: string; controller: boolean }>;
  assert.equal(added[0]?.uid, rs.metadata.uid);
  const release = t.podControl.patches.find((p) => p.name === 'relabelled');
  assert.ok(release?.ops.some((o) => o.op === 'remove' && o.path === '/metadata/ownerReferences/0'));
  assert.equal(
    t.podControl.patches.some((p) => p.name === other.metadata.name),
    false,
  );
  // One adopted pod counts, so one more is created.
  assert.equal(t.podControl.created.length, 1);
});

test('status counts ready and available pods (minReadySeconds) and observedGeneration', async () => {
  const t = setup();
  const rs = put(t.rsInformer, frontend(3, { minReadySeconds: 30 }));
  const now = t.clock.now();
  const names = ['a', 'b', 'c'];
  names.forEach((name, i) => {
    const base = podFromTemplate(rs.spec!.template!, rs, controllerRef(rs));
    base.metadata.name = name;
    base.metadata.namespace = 'default';
    put(
      t.podInformer,
      readyPod(base, now, { ready: i < 2, readySinceMs: i === 0 ? now - 60_000 : now - 5_000 }),
    );
  });
  await t.controller.sync('default/frontend');
  const st = (t.statuses.at(-1) as ReplicaSet).status!;
  assert.deepEqual(
    {
      r: st.replicas,
      f: st.fullyLabeledReplicas,
      ready: st.readyReplicas,
      av: st.availableReplicas,
      g: st.observedGeneration,
    },
    { r: 3, f: 3, ready: 2, av: 1, g: 1 },
  );
});

test('a ReplicationController is managed by the same code through its adapter', async () => {
  const t = setup(replicationControllerAdapter);
  const rc: ReplicationController = {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'frontend', namespace: 'default' },
    spec: {
      replicas: 3,
      selector: { app: 'nginx' },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: { containers: [{ name: 'php-redis', image: 'wangyanglinux/myapp:v1' }] },
      },
    },
  };
  put(t.rsInformer, rc);
  await t.controller.sync('default/frontend');
  assert.equal(t.podControl.created.length, 3);
  assert.equal(t.podControl.created[0]?.metadata.ownerReferences?.[0]?.kind, 'ReplicationController');
  assert.equal(t.podControl.created[0]?.metadata.ownerReferences?.[0]?.apiVersion, 'v1');
  observeCreated(t, true);
  await t.controller.sync('default/frontend');
  const st = (t.statuses.at(-1) as ReplicationController).status!;
  assert.equal(st.readyReplicas, 3);
  assert.equal((t.statuses.at(-1) as ReplicationController).spec?.selector?.app, 'nginx');
});

test('a deleted ReplicaSet forgets its expectations', async () => {
  const t = setup();
  const rs = put(t.rsInformer, frontend(2));
  await t.controller.sync('default/frontend');
  t.rsInformer.store.remove('default/frontend');
  await t.controller.sync('default/frontend');
  assert.equal(t.controller.expectations.get('default/frontend'), undefined);
  assert.ok(rs);
});
