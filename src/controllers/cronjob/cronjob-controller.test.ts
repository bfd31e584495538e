import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../api/errors.js';
import type { CronJob, Job } from '../../api/generated/types.js';
import { parseCron } from '../../api/kinds/cron.js';
import { CRONJOBS, JOBS } from '../../client/typed-refs.js';
import { FakeClock, formatTime } from '../common/clock.js';
import { FakeRecorder, fakeInformer, put, remove } from '../testing.js';
import { CronJobController } from './cronjob-controller.js';
import { formatInZone, jobNameFor, mostRecentScheduleTime, SCHEDULED_TIMESTAMP_ANNOTATION } from './utils.js';

/** Controllers made by the tests, stopped at the end so no requeue timer outlives them. */
const made: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const c of made) await c.stop();
});

const T0 = Date.parse('2026-01-01T00:00:00Z');

function hello(extra: Partial<CronJob['spec']> = {}): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'hello', namespace: 'default', creationTimestamp: formatTime(T0) },
    spec: {
      schedule: '*/1 * * * *',
      concurrencyPolicy: 'Allow',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      suspend: false,
      jobTemplate: {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'hello',
                  image: 'busybox',
                  args: ['/bin/sh', '-c', 'date; echo Hello from the Kubernetes cluster'],
                },
              ],
              restartPolicy: 'OnFailure',
            },
          },
        },
      },
      ...extra,
    },
  };
}

function notFound(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 404,
    reason: 'NotFound',
    message: 'not found',
  });
}

function setup(cj: CronJob) {
  const clock = new FakeClock(T0);
  const cjInformer = fakeInformer<CronJob>(CRONJOBS);
  const jobInformer = fakeInformer<Job>(JOBS);
  const recorder = new FakeRecorder();
  const deleted: string[] = [];
  put(cjInformer, cj, clock);
  const controller = new CronJobController({
    cronJobInformer: cjInformer,
    jobInformer,
    recorder,
    clock,
    client: {
      createJob: async (job) => {
        await Promise.resolve();
        if (jobInformer.get(job.metadata.namespace, job.metadata.name ?? ''))
          throw new StatusError({
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            code: 409,
            reason: 'AlreadyExists',
            message: 'exists',
          });
        return put(jobInformer, job, clock);
      },
      getJob: async (ns, name) => {
        await Promise.resolve();
        const j = jobInformer.get(ns, name);
        if (!j) throw notFound();
        return j;
      },
      deleteJob: async (ns, name) => {
        await Promise.resolve();
        deleted.push(name);
        const j = jobInformer.get(ns, name);
        if (!j) throw notFound();
        remove(jobInformer, j);
      },
      updateStatus: async (c) => {
        await Promise.resolve();
        return put(cjInformer, c, clock);
      },
    },
  });
  made.push(controller);
  const finishJob = (name: string, type: 'Complete' | 'Failed'): void => {
    const j = structuredClone<Job>(jobInformer.get('default', name)!);
    j.status = { startTime: formatTime(clock.now() - 5000), conditions: [{ type, status: 'True' }] };
    if (type === 'Complete') j.status.completionTime = formatTime(clock.now());
    put(jobInformer, j, clock);
  };
  return {
    clock,
    cjInformer,
    jobInformer,
    recorder,
    deleted,
    controller,
    cj: () => cjInformer.get('default', 'hello')!,
    finishJob,
  };
}

test('the hello CronJob starts a Job every minute named after the scheduled minute', async () => {
  const t = setup(hello());
  t.clock.set(T0 + 30_000);
  await t.controller.sync('default/hello');
  assert.equal(t.jobInformer.list().length, 0);
  t.clock.set(T0 + 60_000 + 200);
  await t.controller.sync('default/hello');
  const jobs = t.jobInformer.list();
  assert.equal(jobs.length, 1);
  const name = `hello-${(T0 + 60_000) / 60_000}`;
  assert.equal(jobs[0]?.metadata.name, name);
  assert.equal(jobs[0]?.metadata.annotations?.[SCHEDULED_TIMESTAMP_ANNOTATION], '2026-01-01T00:01:00Z');
  assert.equal(jobs[0]?.metadata.ownerReferences?.[0]?.kind, 'CronJob');
  assert.equal(jobs[0]?.spec?.template.spec?.restartPolicy, 'OnFailure');
  assert.equal(t.cj().status?.lastScheduleTime, '2026-01-01T00:01:00Z');
  assert.deepEqual(
    t.cj().status?.active?.map((r) => r.name),
    [name],
  );
  assert.deepEqual(t.recorder.messages('SuccessfulCreate'), [`Created job ${name}`]);
  // Syncing again in the same minute does nothing.
  await t.controller.sync('default/hello');
  assert.equal(t.jobInformer.list().length, 1);
  // The Job completes: it leaves active, lastSuccessfulTime is set.
  t.finishJob(name, 'Complete');
  await t.controller.sync('default/hello');
  assert.equal(t.cj().status?.active, undefined);
  assert.equal(t.cj().status?.lastSuccessfulTime, formatTime(t.clock.now()));
  assert.equal(t.recorder.messages('SawCompletedJob')[0], `Saw completed job: ${name}, condition: Complete`);
});

test('after downtime only the most recent missed run starts; more than 100 missed warn', async () => {
  const t = setup(hello());
  t.clock.set(T0 + 3 * 3600_000 + 10_000);
  await t.controller.sync('default/hello');
  assert.equal(t.jobInformer.list().length, 1);
  assert.equal(t.jobInformer.list()[0]?.metadata.name, jobNameFor(t.cj(), T0 + 3 * 3600_000));
  assert.equal(t.recorder.messages('TooManyMissedTimes').length, 1);
  assert.match(
    t.recorder.messages('TooManyMissedTimes')[0]!,
    /^too many missed start times: 180\. Set or decrease \.spec\.startingDeadlineSeconds or check clock skew$/,
  );
  const m = mostRecentScheduleTime(hello(), T0 + 125_000, parseCron('*/1 * * * *'), false);
  assert.deepEqual([m.mostRecent, m.missed], [T0 + 120_000, 2]);
});

test('startingDeadlineSeconds: a run too late is missed (MissSchedule)', async () => {
  const cj = hello({ schedule: '0 * * * *', startingDeadlineSeconds: 30 });
  const t = setup(cj);
  t.clock.set(T0 + 3600_000 + 45_000);
  await t.controller.sync('default/hello');
  assert.equal(t.jobInformer.list().length, 0);
  t.clock.set(T0 + 2 * 3600_000 + 10_000);
  await t.controller.sync('default/hello');
  assert.equal(t.jobInformer.list().length, 1);
});

test('concurrencyPolicy Forbid skips while a Job runs; Replace deletes it first', async () => {
  const t = setup(hello({ concurrencyPolicy: 'Forbid' }));
  t.clock.set(T0 + 60_000);
  await t.controller.sync('default/hello');
  t.clock.set(T0 + 120_000);
  await t.controller.sync('default/hello');
  assert.equal(t.jobInformer.list().length, 1);
  assert.equal(t.recorder.messages('JobAlreadyActive').length, 1);

  const r = setup(hello({ concurrencyPolicy: 'Replace' }));
  r.clock.set(T0 + 60_000);
  await r.controller.sync('default/hello');
  r.clock.set(T0 + 120_000);
  await r.controller.sync('default/hello');
  assert.deepEqual(r.deleted, [`hello-${(T0 + 60_000) / 60_000}`]);
  assert.deepEqual(
    r.jobInformer.list().map((j) => j.metadata.name),
    [`hello-${(T0 + 120_000) / 60_000}`],
  );
  assert.deepEqual(
    r.cj().status?.active?.map((a) => a.name),
    [`hello-${(T0 + 120_000) / 60_000}`],
  );
});

test('suspend stops new runs; history limits keep 3 successful and 1 failed Job', async () => {
  const t = setup(hello());
  for (let i = 1; i <= 6; i++) {
    t.clock.set(T0 + i * 60_000);
    await t.controller.sync('default/hello');
    t.finishJob(`hello-${(T0 + i * 60_000) / 60_000}`, i <= 4 ? 'Complete' : 'Failed');
  }
  await t.controller.sync('default/hello');
  const left = t.jobInformer
    .list()
    .map((j) => j.metadata.name)
    .sort();
  const n = (i: number): string => `hello-${(T0 + i * 60_000) / 60_000}`;
  assert.deepEqual(left, [n(2), n(3), n(4), n(6)].sort());
  const s = structuredClone(t.cj());
  s.spec.suspend = true;
  put(t.cjInformer, s, t.clock);
  t.clock.set(T0 + 10 * 60_000);
  await t.controller.sync('default/hello');
  assert.equal(t.jobInformer.list().length, 4);
});

test('timeZone: the schedule reads in the zone and the annotation carries its offset', async () => {
  const t = setup(hello({ schedule: '30 9 * * *', timeZone: 'Asia/Shanghai' }));
  // 09:30 in Shanghai is 01:30 UTC.
  t.clock.set(T0 + 90 * 60_000 + 5000);
  await t.controller.sync('default/hello');
  const [job] = t.jobInformer.list();
  assert.equal(job?.metadata.annotations?.[SCHEDULED_TIMESTAMP_ANNOTATION], '2026-01-01T09:30:00+08:00');
  assert.equal(formatInZone(T0, 'America/New_York'), '2025-12-31T19:00:00-05:00');
  // An unknown zone is reported and nothing starts.
  const u = setup(hello({ timeZone: 'Mars/Olympus' }));
  u.clock.set(T0 + 60_000);
  await u.controller.sync('default/hello');
  assert.equal(u.jobInformer.list().length, 0);
  assert.equal(u.recorder.events[0]?.reason, 'UnknownTimeZone');
});

test('a CronJob a year behind finds its most recent run quickly', () => {
  const cj = hello();
  const now = T0 + 365 * 24 * 3600_000 + 30_000;
  const started = Date.now();
  const m = mostRecentScheduleTime(cj, now, parseCron('*/1 * * * *'), false);
  assert.equal(m.mostRecent, T0 + 365 * 24 * 3600_000);
  assert.ok(m.missed > 100);
  assert.ok(Date.now() - started < 2000);
});
