import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../api/errors.js';
import type {
  ControllerRevision,
  PersistentVolumeClaim,
  Pod,
  StatefulSet,
} from '../../api/generated/types.js';
import { CONTROLLERREVISIONS, PERSISTENTVOLUMECLAIMS, PODS, STATEFULSETS } from '../../client/typed-refs.js';
import { FakeClock } from '../common/clock.js';
import { FakeRecorder, fakeInformer, put, readyPod, remove } from '../testing.js';
import type { RevisionClient } from './history.js';
import { StatefulSetController } from './statefulset-controller.js';

/** Controllers made by the tests, stopped at the end so no requeue timer outlives them. */
const made: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const c of made) await c.stop();
});

function web(replicas: number, extra: Partial<NonNullable<StatefulSet['spec']>> = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'nginx' } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx:1.27',
              volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'www' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
      ...extra,
    },
  };
}

function exists(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 409,
    reason: 'AlreadyExists',
    message: 'exists',
  });
}

function setup(initial: StatefulSet) {
  const clock = new FakeClock();
  const setInformer = fakeInformer<StatefulSet>(STATEFULSETS);
  const podInformer = fakeInformer<Pod>(PODS);
  const pvcInformer = fakeInformer<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS);
  const revInformer = fakeInformer<ControllerRevision>(CONTROLLERREVISIONS);
  const recorder = new FakeRecorder();
  const log: string[] = [];
  put(setInformer, initial, clock);
  const revisions: RevisionClient = {
    create: async (rev) => {
      await Promise.resolve();
      if (revInformer.get(rev.metadata.namespace, rev.metadata.name ?? '')) throw exists();
      return put(revInformer, rev, clock);
    },
    updateRevisionNumber: async (rev, revision) => {
      await Promise.resolve();
      return put(revInformer, { ...structuredClone(rev), revision }, clock);
    },
    delete: async (ns, name) => {
      await Promise.resolve();
      const r = revInformer.get(ns, name);
      if (r) remove(revInformer, r);
    },
    get: async (ns, name) => {
      await Promise.resolve();
      return revInformer.get(ns, name)!;
    },
  };
  const controller = new StatefulSetController({
    setInformer,
    podInformer,
    pvcInformer,
    revisionInformer: revInformer,
    recorder,
    clock,
    client: {
      createPod: async (pod) => {
        await Promise.resolve();
        if (podInformer.get(pod.metadata.namespace, pod.metadata.name ?? '')) throw exists();
        log.push(`create ${pod.metadata.name}`);
        return put(podInformer, { ...pod, status: { phase: 'Pending' } }, clock);
      },
      deletePod: async (ns, name) => {
        await Promise.resolve();
        log.push(`delete ${name}`);
        const p = podInformer.get(ns, name);
        if (p) remove(podInformer, p);
      },
      patchPod: async () => {
        await Promise.resolve();
      },
      createClaim: async (pvc) => {
        await Promise.resolve();
        if (pvcInformer.get(pvc.metadata.namespace, pvc.metadata.name ?? '')) throw exists();
        log.push(`claim ${pvc.metadata.name}`);
        return put(pvcInformer, pvc, clock);
      },
      patchClaim: async () => {
        await Promise.resolve();
      },
      updateStatus: async (s) => {
        await Promise.resolve();
        return put(setInformer, s, clock);
      },
      get: async (ns, name) => {
        await Promise.resolve();
        return setInformer.get(ns, name)!;
      },
      revisions,
    },
  });
  made.push(controller);
  const makeReady = (name: string): void => {
    const p = podInformer.get('default', name)!;
    put(podInformer, readyPod(p, clock.now()), clock);
  };
  const set = (): StatefulSet => setInformer.get('default', 'web')!;
  const sync = (): Promise<void> => controller.sync('default/web');
  return {
    clock,
    setInformer,
    podInformer,
    pvcInformer,
    revInformer,
    recorder,
    log,
    controller,
    makeReady,
    set,
    sync,
  };
}

test('OrderedReady: pods start one at a time, each after the previous is Running and Ready', async () => {
  const t = setup(web(3));
  await t.sync();
  await t.sync();
  assert.deepEqual(t.log, ['claim www-web-0', 'create web-0']);
  const p0 = t.podInformer.get('default', 'web-0')!;
  assert.equal(p0.spec?.hostname, 'web-0');
  assert.equal(p0.spec?.subdomain, 'nginx');
  assert.equal(p0.metadata.labels?.['statefulset.kubernetes.io/pod-name'], 'web-0');
  assert.equal(p0.metadata.labels?.['apps.kubernetes.io/pod-index'], '0');
  assert.equal(p0.metadata.labels?.['controller-revision-hash'], t.set().status?.updateRevision);
  assert.deepEqual(p0.spec?.volumes, [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }]);
  assert.deepEqual(t.pvcInformer.get('default', 'www-web-0')?.metadata.labels, { app: 'nginx' });
  t.makeReady('web-0');
  await t.sync();
  t.makeReady('web-1');
  await t.sync();
  await t.sync();
  assert.deepEqual(t.log, [
    'claim www-web-0',
    'create web-0',
    'claim www-web-1',
    'create web-1',
    'claim www-web-2',
    'create web-2',
  ]);
  t.makeReady('web-2');
  await t.sync();
  const st = t.set().status!;
  assert.deepEqual(
    [st.replicas, st.readyReplicas, st.availableReplicas, st.currentReplicas, st.updatedReplicas],
    [3, 3, 3, 3, 3],
  );
  assert.equal(st.currentRevision, st.updateRevision);
  assert.deepEqual(t.recorder.messages('SuccessfulCreate').slice(0, 2), [
    'create Claim www-web-0 Pod web-0 in StatefulSet web success',
    'create Pod web-0 in StatefulSet web successful',
  ]);
});

test('scale-down deletes the highest ordinal first, one at a time; claims survive', async () => {
  const t = setup(web(3));
  for (const n of ['web-0', 'web-1', 'web-2']) {
    await t.sync();
    t.makeReady(n);
  }
  t.log.length = 0;
  const s = structuredClone(t.set());
  s.spec!.replicas = 1;
  put(t.setInformer, s);
  await t.sync();
  assert.deepEqual(t.log, ['delete web-2']);
  await t.sync();
  assert.deepEqual(t.log, ['delete web-2', 'delete web-1']);
  await t.sync();
  assert.deepEqual(t.log, ['delete web-2', 'delete web-1']);
  assert.ok(t.pvcInformer.get('default', 'www-web-2'));
  assert.equal(t.set().status?.replicas, 1);
});

test('Parallel creates every pod at once', async () => {
  const t = setup(web(3, { podManagementPolicy: 'Parallel', volumeClaimTemplates: [] }));
  await t.sync();
  assert.deepEqual(t.log, ['create web-0', 'create web-1', 'create web-2']);
});

test('rolling update goes from the highest ordinal down, honouring the partition', async () => {
  const t = setup(
    web(3, {
      volumeClaimTemplates: [],
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } },
    }),
  );
  for (const n of ['web-0', 'web-1', 'web-2']) {
    await t.sync();
    t.makeReady(n);
  }
  await t.sync();
  const oldRev = t.set().status?.currentRevision;
  const s = structuredClone(t.set());
  s.spec!.template.spec!.containers[0]!.image = 'nginx:1.28';
  put(t.setInformer, s);
  t.log.length = 0;
  await t.sync();
  assert.deepEqual(t.log, ['delete web-2']);
  await t.sync();
  assert.deepEqual(t.log, ['delete web-2', 'create web-2']);
  assert.equal(t.podInformer.get('default', 'web-2')?.spec?.containers[0]?.image, 'nginx:1.28');
  t.makeReady('web-2');
  await t.sync();
  assert.deepEqual(t.log, ['delete web-2', 'create web-2', 'delete web-1']);
  await t.sync();
  t.makeReady('web-1');
  await t.sync();
  // web-0 is below the partition: it stays at the old revision.
  assert.equal(t.podInformer.get('default', 'web-0')?.metadata.labels?.['controller-revision-hash'], oldRev);
  const st = t.set().status!;
  assert.equal(st.updatedReplicas, 2);
  assert.equal(st.currentRevision, oldRev);
  assert.notEqual(st.updateRevision, oldRev);
  assert.equal(t.revInformer.list().length, 2);
});

test('a failed pod is deleted and recreated with the same name', async () => {
  const t = setup(web(1, { volumeClaimTemplates: [] }));
  await t.sync();
  const p = structuredClone<Pod>(t.podInformer.get('default', 'web-0')!);
  p.status = { phase: 'Failed' };
  put(t.podInformer, p);
  await t.sync();
  await t.sync();
  assert.deepEqual(t.log, ['create web-0', 'delete web-0', 'create web-0']);
  assert.equal(
    t.recorder.events.find((e) => e.reason === 'RecreatingFailedPod')?.message,
    'StatefulSet default/web is recreating failed Pod web-0',
  );
});
