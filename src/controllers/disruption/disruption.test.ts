import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type {
  Deployment,
  Pod,
  PodDisruptionBudget,
  ReplicaSet,
  ReplicationController,
  StatefulSet,
} from '../../api/generated/types.js';
import { metaNamespaceKey, type SharedInformer } from '../../client/informer.js';
import {
  DEPLOYMENTS,
  PODDISRUPTIONBUDGETS,
  PODS,
  REPLICASETS,
  REPLICATIONCONTROLLERS,
  STATEFULSETS,
} from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import { FakeClock, formatTime } from '../common/clock.js';
import type { ScaleClient } from '../common/scale-client.js';
import { FakeRecorder, fakeInformer, put } from '../testing.js';
import { DELETION_TIMEOUT_MS, DisruptionController } from './disruption.js';

const NS = 'ns';
let clock: FakeClock;
let pdbs: SharedInformer<PodDisruptionBudget>;
let pods: SharedInformer<Pod>;
let rss: SharedInformer<ReplicaSet>;
let deployments: SharedInformer<Deployment>;
let written: PodDisruptionBudget[];
let podStatusWrites: Pod[];
let recorder: FakeRecorder;
let controller: DisruptionController;

const noScales: ScaleClient = {
  getScale: () => Promise.reject(new Error('jobs.batch does not implement the scale subresource')),
  updateScale: () => Promise.reject(new Error('unused')),
};

beforeEach(() => {
  clock = new FakeClock();
  pdbs = fakeInformer(PODDISRUPTIONBUDGETS);
  pods = fakeInformer(PODS);
  rss = fakeInformer(REPLICASETS);
  deployments = fakeInformer(DEPLOYMENTS);
  written = [];
  podStatusWrites = [];
  recorder = new FakeRecorder();
  controller = new DisruptionController({
    pdbs,
    pods,
    replicaSets: rss.getLister(),
    deployments: deployments.getLister(),
    statefulSets: fakeInformer<StatefulSet>(STATEFULSETS).getLister(),
    replicationControllers: fakeInformer<ReplicationController>(REPLICATIONCONTROLLERS).getLister(),
    scales: noScales,
    updateStatus: async (pdb) => {
      await Promise.resolve();
      written.push(structuredClone(pdb));
      return put(pdbs, pdb);
    },
    updatePodStatus: async (p) => {
      await Promise.resolve();
      podStatusWrites.push(structuredClone(p));
      return put(pods, p);
    },
    recorder,
    log: createLogger('test'),
    clock,
  });
});

// Stopping drops the rechecks a sync schedules for disrupted pods.
afterEach(() => controller.stop());

function deploymentWithRs(replicas: number): { d: Deployment; rs: ReplicaSet } {
  const d: Deployment = put(deployments, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [] } } },
  });
  const rs: ReplicaSet = put(rss, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'web-1',
      namespace: NS,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata.uid!, controller: true },
      ],
    },
    spec: { replicas, selector: { matchLabels: { app: 'web' } } },
  });
  return { d, rs };
}

function pod(name: string, o: { ready?: boolean; owner?: ReplicaSet; deleting?: boolean } = {}): Pod {
  return put(pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      labels: { app: 'web' },
      ...(o.deleting ? { deletionTimestamp: formatTime(clock.now()) } : {}),
      ...(o.owner
        ? {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: o.owner.metadata.name!,
                uid: o.owner.metadata.uid!,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: { containers: [{ name: 'c', image: 'i' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False' }],
    },
  });
}

function pdb(spec: PodDisruptionBudget['spec'], status?: PodDisruptionBudget['status']): PodDisruptionBudget {
  return put(pdbs, {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'budget', namespace: NS, generation: 3 },
    spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
    ...(status ? { status } : {}),
  });
}

async function syncOnce(p: PodDisruptionBudget): Promise<PodDisruptionBudget['status']> {
  await controller.sync(metaNamespaceKey(p));
  return written.at(-1)?.status;
}

describe('disruption controller status', () => {
  test('minAvailable as an integer counts the matching pods; one ready pod over the minimum may go', async () => {
    pod('a');
    pod('b');
    pod('c');
    pod('d', { ready: false });
    const st = await syncOnce(pdb({ minAvailable: 2 }));
    assert.equal(st?.expectedPods, 4);
    assert.equal(st?.desiredHealthy, 2);
    assert.equal(st?.currentHealthy, 3);
    assert.equal(st?.disruptionsAllowed, 1);
    assert.equal(st?.observedGeneration, 3);
    const c = st?.conditions?.find((x) => x.type === 'DisruptionAllowed');
    assert.deepEqual([c?.status, c?.reason, c?.observedGeneration], ['True', 'SufficientPods', 3]);
  });

  test('a percentage uses the scale of the pods controller (the Deployment behind the ReplicaSet), rounding up', async () => {
    const { rs } = deploymentWithRs(5);
    for (const n of ['a', 'b', 'c']) pod(n, { owner: rs });
    const st = await syncOnce(pdb({ minAvailable: '50%' }));
    assert.equal(st?.expectedPods, 5);
    assert.equal(st?.desiredHealthy, 3);
    assert.equal(st?.disruptionsAllowed, 0);
    const c = st?.conditions?.find((x) => x.type === 'DisruptionAllowed');
    assert.deepEqual([c?.status, c?.reason], ['False', 'InsufficientPods']);
  });

  test('maxUnavailable: desiredHealthy = expected − maxUnavailable (percent rounds up)', async () => {
    const { rs } = deploymentWithRs(4);
    for (const n of ['a', 'b', 'c', 'd']) pod(n, { owner: rs });
    const st = await syncOnce(pdb({ maxUnavailable: '30%' }));
    assert.equal(st?.expectedPods, 4);
    assert.equal(st?.desiredHealthy, 2);
    assert.equal(st?.disruptionsAllowed, 2);
    const one = await syncOnce(pdb({ maxUnavailable: 1 }));
    assert.deepEqual([one?.desiredHealthy, one?.disruptionsAllowed], [3, 1]);
  });

  test('pods recorded in disruptedPods do not count as healthy until deleted or two minutes pass', async () => {
    pod('a');
    pod('b');
    pod('c');
    pod('gone', { deleting: true });
    const evictedAt = formatTime(clock.now());
    const p = pdb(
      { minAvailable: 1 },
      { disruptedPods: { a: evictedAt, gone: evictedAt }, disruptionsAllowed: 1 },
    );
    const st = await syncOnce(p);
    assert.equal(st?.currentHealthy, 2);
    assert.equal(st?.disruptionsAllowed, 1);
    assert.deepEqual(st?.disruptedPods, { a: evictedAt }, 'a pod being deleted leaves the map');
    clock.advance(DELETION_TIMEOUT_MS + 1000);
    const later = await syncOnce(put(pdbs, written.at(-1)!));
    assert.equal(later?.currentHealthy, 3);
    assert.equal(later?.disruptedPods, undefined);
    assert.deepEqual(recorder.messages('NotDeleted'), [
      "Pod was expected by PDB ns/budget to be deleted but it wasn't",
    ]);
  });

  test('a pod whose controller has no scale fails safe: nothing may be disrupted, SyncFailed', async () => {
    put(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'job-pod',
        namespace: NS,
        labels: { app: 'web' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'u1', controller: true }],
      },
      spec: { containers: [] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const p = pdb({ maxUnavailable: 1 }, { disruptionsAllowed: 1 });
    await assert.rejects(controller.sync(metaNamespaceKey(p)), /does not implement the scale subresource/);
    const st = written.at(-1)?.status;
    assert.equal(st?.disruptionsAllowed, 0);
    const c = st?.conditions?.find((x) => x.type === 'DisruptionAllowed');
    assert.deepEqual([c?.status, c?.reason], ['False', 'SyncFailed']);
    assert.match(
      recorder.messages('CalculateExpectedPodCountFailed')[0] ?? '',
      /^Failed to calculate the number of expected pods: /,
    );
  });

  test('no write when nothing changed; NoPods event for an empty budget', async () => {
    const p = pdb({ minAvailable: 1 });
    await syncOnce(p);
    const n = written.length;
    await controller.sync(metaNamespaceKey(p));
    assert.equal(written.length, n);
    assert.ok(recorder.messages('NoPods').includes('No matching pods found'));
  });

  test('a DisruptionTarget condition on a pod never deleted is reset to False after two minutes', async () => {
    const marked = pod('a');
    marked.status!.conditions!.push({
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'EvictionByEvictionAPI',
      message: 'Eviction API: evicting',
      lastTransitionTime: formatTime(clock.now()),
    });
    put(pods, marked);
    assert.equal(controller.staleDisruptionWait(marked), 120_000);
    await controller.syncStalePodDisruption('ns/a');
    assert.equal(podStatusWrites.length, 0, 'not stale yet');
    clock.advance(120_001);
    await controller.syncStalePodDisruption('ns/a');
    const c = podStatusWrites[0]?.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
    assert.equal(c?.status, 'False');
    assert.equal(c?.lastTransitionTime, formatTime(clock.now()));
    // A pod being deleted keeps its condition.
    const deleting = pod('b', { deleting: true });
    deleting.status!.conditions!.push({
      type: 'DisruptionTarget',
      status: 'True',
      lastTransitionTime: formatTime(0),
    });
    assert.equal(controller.staleDisruptionWait(deleting), undefined);
  });
});
