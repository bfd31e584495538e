import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job, Pod } from '../../api/generated/types.js';
import { JOBS, PODS } from '../../client/typed-refs.js';
import { FakeClock, formatTime } from '../common/clock.js';
import type { JsonPatchOp } from '../common/pod-control.js';
import { FakeRecorder, fakeInformer, put, remove } from '../testing.js';
import { JobController } from './job-controller.js';
import type { JobPodControl } from './pod-control.js';
import { TtlAfterFinishedController, timeLeftMs } from './ttl-after-finished.js';
import {
  COMPLETION_INDEX_ANNOTATION,
  JOB_TRACKING_FINALIZER,
  formatIndexes,
  parseIndexes,
  podFailureBackoffMs,
} from './util.js';

/** Controllers made by the tests, stopped at the end so no requeue timer outlives them. */
const made: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const c of made) await c.stop();
});

class FakeJobPods implements JobPodControl {
  readonly created: Pod[] = [];
  readonly deleted: string[] = [];
  readonly patches: Array<{ name: string; ops: JsonPatchOp[] }> = [];
  private n = 0;
  async createPod(namespace: string, pod: Pod): Promise<Pod> {
    await Promise.resolve();
    const p = structuredClone(pod);
    p.metadata.name = `${pod.metadata.generateName ?? ''}${(++this.n).toString(36).padStart(5, 'x')}`;
    p.metadata.namespace = namespace;
    this.created.push(p);
    return p;
  }
  async deletePod(namespace: string, name: string): Promise<void> {
    await Promise.resolve();
    this.deleted.push(`${namespace}/${name}`);
  }
  async patchPod(_ns: string, name: string, ops: JsonPatchOp[]): Promise<void> {
    await Promise.resolve();
    this.patches.push({ name, ops });
  }
}

function piJob(extra: Partial<NonNullable<Job['spec']>> = {}): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: 'job-uid' },
    spec: {
      completions: 6,
      parallelism: 2,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } },
      template: {
        metadata: {
          labels: { 'batch.kubernetes.io/controller-uid': 'job-uid', 'batch.kubernetes.io/job-name': 'pi' },
        },
        spec: { containers: [{ name: 'pi', image: 'pi:v1' }], restartPolicy: 'Never' },
      },
      ...extra,
    },
  };
}

function setup(job: Job) {
  const clock = new FakeClock();
  const jobInformer = fakeInformer<Job>(JOBS);
  const podInformer = fakeInformer<Pod>(PODS);
  const pods = new FakeJobPods();
  const recorder = new FakeRecorder();
  const statuses: Job[] = [];
  put(jobInformer, job, clock);
  const controller = new JobController({
    jobInformer,
    podInformer,
    podControl: pods,
    recorder,
    clock,
    client: {
      updateStatus: async (j) => {
        await Promise.resolve();
        statuses.push(structuredClone(j));
        return put(jobInformer, j, clock);
      },
    },
    getJob: async (ns, name) => {
      await Promise.resolve();
      const j = jobInformer.get(ns, name);
      if (!j) throw new Error('not found');
      return j;
    },
  });
  made.push(controller);
  const key = 'default/pi';
  const job_ = (): Job => jobInformer.get('default', 'pi')!;
  /** Moves created pods into the cache (as the watch would), in phase Pending. */
  const observe = (): Pod[] => {
    const out: Pod[] = [];
    for (const p of pods.created.splice(0)) {
      const stored = put(podInformer, { ...p, status: { phase: 'Pending' } }, clock);
      controller.expectations.creationObserved(key);
      out.push(stored);
    }
    return out;
  };
  /** The pod finishes; the patches removing finalizers are applied to the cache. */
  const finish = (pod: Pod, phase: 'Succeeded' | 'Failed', exitCode = phase === 'Succeeded' ? 0 : 1): Pod => {
    const cur = podInformer.get('default', pod.metadata.name ?? '') ?? pod;
    const p = structuredClone<Pod>(cur);
    p.status = {
      phase,
      containerStatuses: [
        {
          name: 'pi',
          image: 'pi:v1',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode, finishedAt: formatTime(clock.now()) } },
        },
      ],
    };
    return put(podInformer, p, clock);
  };
  const applyPatches = (): void => {
    for (const { name } of pods.patches.splice(0)) {
      const cur = podInformer.get('default', name);
      if (!cur) continue;
      const p = structuredClone<Pod>(cur);
      p.metadata.finalizers = (p.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
      put(podInformer, p, clock);
    }
  };
  const activeNow = (): number =>
    podInformer.list('default').filter((p) => p.status?.phase === 'Pending' || p.status?.phase === 'Running')
      .length;
  return {
    clock,
    jobInformer,
    podInformer,
    pods,
    recorder,
    statuses,
    controller,
    key,
    job: job_,
    observe,
    finish,
    applyPatches,
    activeNow,
  };
}

test('the pi Job (completions 6, parallelism 2) never runs more than 2 pods and ends Complete 6/6', async () => {
  const t = setup(piJob());
  let maxActive = 0;
  for (let round = 0; round < 10; round++) {
    await t.controller.sync(t.key);
    const created = t.observe();
    maxActive = Math.max(maxActive, t.activeNow());
    for (const p of created) {
      assert.ok(p.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER));
      assert.equal(p.metadata.generateName, 'pi-');
      assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'Job');
    }
    for (const p of t.podInformer.list('default'))
      if (p.status?.phase === 'Pending') t.finish(p, 'Succeeded');
    await t.controller.sync(t.key);
    t.applyPatches();
    t.clock.advance(1000);
  }
  await t.controller.sync(t.key);
  const st = t.job().status!;
  assert.equal(maxActive, 2);
  assert.equal(st.succeeded, 6);
  assert.equal(st.active, 0);
  assert.equal(st.failed, 0);
  assert.deepEqual(st.uncountedTerminatedPods, {});
  assert.ok(st.completionTime);
  assert.ok(st.startTime);
  const types = (st.conditions ?? []).map((c) => `${c.type}=${c.status}:${c.reason}`);
  assert.deepEqual(types, ['SuccessCriteriaMet=True:CompletionsReached', 'Complete=True:CompletionsReached']);
  assert.equal(t.podInformer.list('default').length, 6);
  assert.deepEqual(t.recorder.messages('Completed'), ['Job completed']);
  // Every pod was counted once.
  const rounds = t.statuses.filter((s) => (s.status?.uncountedTerminatedPods?.succeeded ?? []).length > 0);
  const seen = rounds.flatMap((s) => s.status!.uncountedTerminatedPods!.succeeded!);
  assert.equal(new Set(seen).size, 6);
});

test('failures back off 10 s, 20 s, … and exceeding backoffLimit fails the Job with BackoffLimitExceeded', async () => {
  const t = setup(piJob({ completions: 1, parallelism: 1, backoffLimit: 2 }));
  await t.controller.sync(t.key);
  let [p] = t.observe();
  t.finish(p!, 'Failed');
  await t.controller.sync(t.key);
  t.applyPatches();
  assert.equal(t.job().status?.failed, 1);
  // Within the first back-off, no new pod.
  assert.equal(t.controller.remainingBackoffMs(t.key), 10_000);
  await t.controller.sync(t.key);
  assert.equal(t.pods.created.length, 0);
  t.clock.advance(10_000);
  await t.controller.sync(t.key);
  [p] = t.observe();
  assert.ok(p);
  t.finish(p, 'Failed');
  await t.controller.sync(t.key);
  t.applyPatches();
  assert.equal(t.controller.remainingBackoffMs(t.key), 20_000);
  t.clock.advance(20_000);
  await t.controller.sync(t.key);
  [p] = t.observe();
  t.finish(p!, 'Failed');
  await t.controller.sync(t.key);
  t.applyPatches();
  await t.controller.sync(t.key);
  const st = t.job().status!;
  assert.equal(st.failed, 3);
  const failed = st.conditions?.find((c) => c.type === 'Failed');
  assert.equal(failed?.status, 'True');
  assert.equal(failed?.reason, 'BackoffLimitExceeded');
  assert.equal(failed?.message, 'Job has reached the specified backoff limit');
  assert.equal(st.conditions?.find((c) => c.type === 'FailureTarget')?.reason, 'BackoffLimitExceeded');
  assert.equal(st.completionTime, undefined);
  assert.deepEqual(t.recorder.messages('BackoffLimitExceeded'), [
    'Job has reached the specified backoff limit',
  ]);
  assert.equal(podFailureBackoffMs(6), 320_000);
  assert.equal(podFailureBackoffMs(7), 600_000);
});

test('OnFailure: container restarts of active pods count against backoffLimit', async () => {
  const job = piJob({ completions: 1, parallelism: 1, backoffLimit: 2 });
  job.spec!.template.spec!.restartPolicy = 'OnFailure';
  const t = setup(job);
  await t.controller.sync(t.key);
  const [p] = t.observe();
  const running = structuredClone<Pod>(p!);
  running.status = {
    phase: 'Running',
    containerStatuses: [{ name: 'pi', image: 'pi:v1', imageID: '', ready: false, restartCount: 2 }],
  };
  put(t.podInformer, running, t.clock);
  await t.controller.sync(t.key);
  // The running pod is deleted, and the Job fails once it is gone.
  assert.deepEqual(t.pods.deleted, [`default/${p!.metadata.name}`]);
  assert.equal(
    t.job().status?.conditions?.find((c) => c.type === 'FailureTarget')?.reason,
    'BackoffLimitExceeded',
  );
  assert.equal(
    t.job().status?.conditions?.find((c) => c.type === 'Failed'),
    undefined,
  );
  remove(t.podInformer, running);
  t.controller.expectations.deleteExpectations(t.key);
  await t.controller.sync(t.key);
  assert.equal(t.job().status?.conditions?.find((c) => c.type === 'Failed')?.status, 'True');
});

test('activeDeadlineSeconds: pods deleted and the Job fails with DeadlineExceeded', async () => {
  const t = setup(piJob({ activeDeadlineSeconds: 30 }));
  await t.controller.sync(t.key);
  const pods = t.observe();
  assert.equal(pods.length, 2);
  t.clock.advance(31_000);
  await t.controller.sync(t.key);
  assert.equal(t.pods.deleted.length, 2);
  for (const p of pods) remove(t.podInformer, p);
  t.controller.expectations.deleteExpectations(t.key);
  await t.controller.sync(t.key);
  const failed = t.job().status?.conditions?.find((c) => c.type === 'Failed');
  assert.equal(failed?.reason, 'DeadlineExceeded');
  assert.equal(failed?.message, 'Job was active longer than specified deadline');
  assert.deepEqual(t.recorder.messages('DeadlineExceeded'), [
    'Job was active longer than specified deadline',
  ]);
});

test('Indexed: one pod per index with annotation, label, hostname and env; completedIndexes', async () => {
  const t = setup(piJob({ completions: 3, parallelism: 3, completionMode: 'Indexed' }));
  await t.controller.sync(t.key);
  const pods = t.observe();
  assert.deepEqual(pods.map((p) => p.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION]).sort(), [
    '0',
    '1',
    '2',
  ]);
  const p1 = pods.find((p) => p.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION] === '1')!;
  assert.equal(p1.metadata.generateName, 'pi-1-');
  assert.equal(p1.metadata.labels?.['batch.kubernetes.io/job-completion-index'], '1');
  assert.equal(p1.spec?.hostname, 'pi-1');
  assert.equal(p1.spec?.containers[0]?.env?.[0]?.name, 'JOB_COMPLETION_INDEX');
  t.finish(p1, 'Succeeded');
  await t.controller.sync(t.key);
  t.applyPatches();
  assert.equal(t.job().status?.completedIndexes, '1');
  // Index 0 fails: a replacement for index 0 is created once the back-off passes.
  t.finish(
    pods.find((p) => p.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION] === '0')!,
    'Failed',
  );
  await t.controller.sync(t.key);
  t.applyPatches();
  t.clock.advance(11_000);
  await t.controller.sync(t.key);
  const [again] = t.observe();
  assert.equal(again?.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION], '0');
  assert.equal(formatIndexes(parseIndexes('0-2,4,6-7', 10)), '0-2,4,6-7');
});

test('suspend deletes active pods and sets Suspended; resuming resets startTime', async () => {
  const t = setup(piJob());
  await t.controller.sync(t.key);
  t.observe();
  const j = structuredClone(t.job());
  j.spec!.suspend = true;
  put(t.jobInformer, j, t.clock);
  await t.controller.sync(t.key);
  assert.equal(t.pods.deleted.length, 2);
  const s = t.job().status?.conditions?.find((c) => c.type === 'Suspended');
  assert.deepEqual([s?.status, s?.reason, s?.message], ['True', 'JobSuspended', 'Job suspended']);
  for (const p of t.podInformer.list('default')) remove(t.podInformer, p);
  t.controller.expectations.deleteExpectations(t.key);
  t.clock.advance(60_000);
  const r = structuredClone(t.job());
  r.spec!.suspend = false;
  put(t.jobInformer, r, t.clock);
  await t.controller.sync(t.key);
  const s2 = t.job().status?.conditions?.find((c) => c.type === 'Suspended');
  assert.deepEqual([s2?.status, s2?.reason], ['False', 'JobResumed']);
  assert.equal(t.job().status?.startTime, formatTime(t.clock.now()));
  assert.equal(t.pods.created.length, 2);
  assert.deepEqual(
    t.recorder.events.map((e) => e.reason).filter((r) => r === 'Suspended' || r === 'Resumed'),
    ['Suspended', 'Resumed'],
  );
});

test('pod failure policy: FailJob fails at once, Ignore does not count', async () => {
  const t = setup(
    piJob({
      completions: 2,
      parallelism: 2,
      podFailurePolicy: {
        rules: [
          { action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } },
          { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } },
        ],
      },
    }),
  );
  await t.controller.sync(t.key);
  const [a, b] = t.observe();
  t.finish(a!, 'Failed', 3);
  await t.controller.sync(t.key);
  t.applyPatches();
  assert.equal(t.job().status?.failed ?? 0, 0);
  t.finish(b!, 'Failed', 42);
  await t.controller.sync(t.key);
  t.applyPatches();
  for (const p of t.podInformer.list('default')) remove(t.podInformer, p);
  t.controller.expectations.deleteExpectations(t.key);
  await t.controller.sync(t.key);
  const failed = t.job().status?.conditions?.find((c) => c.type === 'Failed');
  assert.equal(failed?.reason, 'PodFailurePolicy');
  assert.match(failed?.message ?? '', /failed with exit code 42 matching FailJob rule at index 1/);
});

test('a finished Job has the tracking finalizers of its pods removed', async () => {
  const job = piJob();
  job.status = { conditions: [{ type: 'Complete', status: 'True' }] };
  const t = setup(job);
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'pi-left',
      namespace: 'default',
      labels: job.spec!.template.metadata!.labels!,
      finalizers: [JOB_TRACKING_FINALIZER],
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: t.job().metadata.uid!, controller: true },
      ],
    },
    status: { phase: 'Succeeded' },
  };
  put(t.podInformer, pod, t.clock);
  await t.controller.sync(t.key);
  assert.equal(t.pods.patches.length, 1);
  assert.deepEqual(t.pods.patches[0]?.ops[1], { op: 'remove', path: '/metadata/finalizers/0' });
});

test('ttl-after-finished deletes a finished Job once its TTL has passed', async () => {
  const clock = new FakeClock();
  const jobInformer = fakeInformer<Job>(JOBS);
  const deleted: string[] = [];
  const job = piJob({ ttlSecondsAfterFinished: 100 });
  job.status = {
    completionTime: formatTime(clock.now()),
    conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: formatTime(clock.now()) }],
  };
  const stored = put(jobInformer, job, clock);
  const c = new TtlAfterFinishedController({
    jobInformer,
    clock,
    client: {
      getJob: async () => {
        await Promise.resolve();
        return stored;
      },
      deleteJob: async (ns, name) => {
        await Promise.resolve();
        deleted.push(`${ns}/${name}`);
      },
    },
  });
  assert.equal(timeLeftMs(stored, clock.now()), 100_000);
  await c.sync('default/pi');
  assert.deepEqual(deleted, []);
  clock.advance(100_000);
  await c.sync('default/pi');
  assert.deepEqual(deleted, ['default/pi']);
  await c.stop();
});

test('lowering parallelism deletes the extra active pods; no completions: done after the first success once others end', async () => {
  const t = setup(piJob({ completions: undefined, parallelism: 3 }));
  await t.controller.sync(t.key);
  const pods = t.observe();
  assert.equal(pods.length, 3);
  const j = structuredClone(t.job());
  j.spec!.parallelism = 1;
  put(t.jobInformer, j, t.clock);
  await t.controller.sync(t.key);
  assert.equal(t.pods.deleted.length, 2);
  for (const name of t.pods.deleted.splice(0)) {
    const p = t.podInformer.get('default', name.split('/')[1]!)!;
    remove(t.podInformer, p);
  }
  t.controller.expectations.deleteExpectations(t.key);
  const left = t.podInformer.list('default')[0]!;
  t.finish(left, 'Succeeded');
  await t.controller.sync(t.key);
  t.applyPatches();
  await t.controller.sync(t.key);
  assert.equal(t.job().status?.conditions?.find((c) => c.type === 'Complete')?.status, 'True');
  assert.equal(t.pods.created.length, 0);
});

test('Indexed: status.succeeded counts indexes, a second success of an index is not counted again', async () => {
  const t = setup(piJob({ completions: 2, parallelism: 2, completionMode: 'Indexed' }));
  await t.controller.sync(t.key);
  const pods = t.observe();
  for (const p of pods) t.finish(p, 'Succeeded');
  // A stray extra pod for index 0 also succeeds.
  const extra = structuredClone(pods[0]!);
  extra.metadata.name = 'pi-0-extra';
  extra.metadata.uid = 'extra-uid';
  t.finish(put(t.podInformer, extra, t.clock), 'Succeeded');
  await t.controller.sync(t.key);
  t.applyPatches();
  await t.controller.sync(t.key);
  const st = t.job().status!;
  assert.equal(st.succeeded, 2);
  assert.equal(st.completedIndexes, '0-1');
  assert.deepEqual(st.uncountedTerminatedPods, {});
  assert.equal(st.conditions?.find((c) => c.type === 'Complete')?.status, 'True');
});

test('a Job being deleted creates nothing and releases its pods', async () => {
  const t = setup(piJob());
  await t.controller.sync(t.key);
  const pods = t.observe();
  const j = structuredClone(t.job());
  j.metadata.deletionTimestamp = formatTime(t.clock.now());
  put(t.jobInformer, j, t.clock);
  t.finish(pods[0]!, 'Succeeded');
  await t.controller.sync(t.key);
  assert.equal(t.pods.created.length, 0);
  assert.equal(t.pods.deleted.length, 0);
  assert.deepEqual(t.pods.patches.map((p) => p.name).sort(), pods.map((p) => p.metadata.name).sort());
});

test('success policy: an Indexed Job succeeds once its rule matches; the other pods are deleted', async () => {
  const t = setup(
    piJob({
      completions: 3,
      parallelism: 3,
      completionMode: 'Indexed',
      successPolicy: { rules: [{ succeededIndexes: '0' }] },
    }),
  );
  await t.controller.sync(t.key);
  const pods = t.observe();
  t.finish(
    pods.find((p) => p.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION] === '0')!,
    'Succeeded',
  );
  await t.controller.sync(t.key);
  t.applyPatches();
  assert.equal(t.pods.deleted.length, 2);
  const met = t.job().status?.conditions?.find((c) => c.type === 'SuccessCriteriaMet');
  assert.deepEqual([met?.reason, met?.message], ['SuccessPolicy', 'Matched rules at index 0']);
  for (const name of t.pods.deleted.splice(0))
    remove(t.podInformer, t.podInformer.get('default', name.split('/')[1]!)!);
  t.controller.expectations.deleteExpectations(t.key);
  await t.controller.sync(t.key);
  const done = t.job().status?.conditions?.find((c) => c.type === 'Complete');
  assert.deepEqual([done?.status, done?.reason], ['True', 'SuccessPolicy']);
});
