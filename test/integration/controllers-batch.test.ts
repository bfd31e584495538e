// The Job, CronJob and TTL-after-finished controllers against a real in-process API server
// (memory store), run by the controller manager and talking to it over HTTP. The test plays the
// node agent: it moves the Jobs' pods to Succeeded or Failed through pods/status.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CronJob, Job, Pod } from '../../src/api/generated/types.js';
import { builtinResources } from '../../src/api/kinds/index.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { CoreEvent } from '../../src/client/events.js';
import { RestClient, type ResourceRef } from '../../src/client/rest.js';
import { CRONJOBS, EVENTS, JOBS, PODS } from '../../src/client/typed-refs.js';
import type { Clock } from '../../src/controllers/common/clock.js';
import { cronJobControllerDescriptor } from '../../src/controllers/cronjob/index.js';
import { jobControllerDescriptor } from '../../src/controllers/job/index.js';
import {
  createControllerManager,
  registeredControllers,
  type ControllerManager,
} from '../../src/controllers/manager.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';
import { eventually as pollUntil } from '../support/eventually.js';

const NS = 'default';
const CRONJOBS_V1BETA1: ResourceRef = {
  group: 'batch',
  version: 'v1beta1',
  plural: 'cronjobs',
  namespaced: true,
};

let store: MemoryStore;
let server: ApiServer;
let client: RestClient;
let manager: ControllerManager;
/** The CronJob controller's clock runs this far ahead of the wall clock. */
let clockOffsetMs = 0;
const offsetClock: Clock = { now: () => Date.now() + clockOffsetMs };

/** The shared poll, with this file's default timeout and pace. */
const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 20, retryErrors: true });

async function podsOf(job: string): Promise<Pod[]> {
  const list = await client.list<Pod>(PODS, NS, { labelSelector: `batch.kubernetes.io/job-name=${job}` });
  return list.items;
}

const isActive = (p: Pod): boolean =>
  p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata.deletionTimestamp;

/** Plays the kubelet: the pod ran and exited with the code. */
async function finishPod(pod: Pod, exitCode: number): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const name = pod.spec?.containers[0]?.name ?? 'c';
  const image = pod.spec?.containers[0]?.image ?? '';
  for (let attempt = 0; ; attempt++) {
    const cur = await client.get<Pod>(PODS, NS, pod.metadata.name ?? '');
    cur.status = {
      ...(cur.status ?? {}),
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      startTime: now,
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now, reason: 'PodCompleted' }],
      containerStatuses: [
        {
          name,
          image,
          imageID: '',
          ready: false,
          restartCount: 0,
          state: {
            terminated: {
              exitCode,
              reason: exitCode === 0 ? 'Completed' : 'Error',
              startedAt: now,
              finishedAt: now,
            },
          },
        },
      ],
    };
    try {
      await client.update<Pod>(PODS, cur, 'status');
      return;
    } catch (err) {
      if (attempt > 5) throw err;
    }
  }
}

function jobCondition(
  job: Job,
  type: string,
): { status?: string; reason?: string; message?: string } | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

async function events(name: string): Promise<CoreEvent[]> {
  const list = await client.list<CoreEvent>(EVENTS, NS);
  return list.items.filter((e) => e.involvedObject?.name === name);
}

describe('batch controllers against a real API server', { timeout: 120_000 }, () => {
  before(async () => {
    store = new MemoryStore();
    server = await createApiServer({ store, resources: builtinResources, schemas: builtinSchemas() });
    client = new RestClient({ server: server.url, namespace: NS });
    manager = createControllerManager({
      client,
      enable: ['job', 'cronjob', 'ttl-after-finished'],
      controllers: [
        jobControllerDescriptor({ podFailureBackoffMs: 200, maxPodFailureBackoffMs: 1000 }),
        cronJobControllerDescriptor({ clock: offsetClock }),
      ],
    });
    await manager.start();
    assert.equal(await manager.whenRunning(), true);
  });

  after(async () => {
    await manager.stop();
    client.close();
    await server.close();
    await store.close();
  });

  test('the controllers are registered under upstream names', () => {
    const names = registeredControllers();
    for (const n of ['job', 'cronjob', 'ttl-after-finished', 'daemonset', 'statefulset'])
      assert.ok(names.includes(n), n);
  });

  test('the pi Job (completions 6, parallelism 2) never runs more than 2 pods and ends Complete 6/6', async () => {
    await client.create<Job>(JOBS, NS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi' },
      spec: {
        completions: 6,
        parallelism: 2,
        template: {
          metadata: { name: 'pi' },
          spec: { containers: [{ name: 'pi', image: 'pi:v1' }], restartPolicy: 'Never' },
        },
      },
    });
    let maxActive = 0;
    const seen = new Set<string>();
    await eventually(
      'the pi Job to complete',
      async () => {
        const pods = await podsOf('pi');
        const active = pods.filter(isActive);
        maxActive = Math.max(maxActive, active.length);
        for (const p of pods) seen.add(p.metadata.name ?? '');
        // Finish one pod at a time, as a slow cluster would.
        const next = active[0];
        if (next) await finishPod(next, 0);
        const job = await client.get<Job>(JOBS, NS, 'pi');
        return jobCondition(job, 'Complete')?.status === 'True' ? job : undefined;
      },
      60_000,
    );
    const job = await client.get<Job>(JOBS, NS, 'pi');
    assert.ok(maxActive <= 2, `saw ${maxActive} active pods`);
    assert.equal(seen.size, 6);
    assert.equal(job.status?.succeeded, 6);
    assert.equal(job.status?.failed ?? 0, 0);
    assert.equal(job.status?.active ?? 0, 0);
    assert.ok(job.status?.startTime && job.status.completionTime);
    assert.equal(jobCondition(job, 'SuccessCriteriaMet')?.reason, 'CompletionsReached');
    assert.equal(jobCondition(job, 'Complete')?.message, 'Reached expected number of succeeded pods');
    // The pods were released: no tracking finalizer is left.
    const pods = await eventually('finalizers removed', async () => {
      const ps = await podsOf('pi');
      return ps.every((p) => !(p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking'))
        ? ps
        : undefined;
    });
    assert.equal(pods.length, 6);
    assert.equal(pods[0]?.metadata.ownerReferences?.[0]?.kind, 'Job');
    // kubectl get jobs: Complete, 6/6.
    const table = await client.request<{ rows: Array<{ cells: unknown[] }> }>(
      'GET',
      `/apis/batch/v1/namespaces/${NS}/jobs/pi`,
      {
        accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      },
    );
    assert.equal(table.rows[0]?.cells[1], 'Complete');
    assert.equal(table.rows[0]?.cells[2], '6/6');
    const evs = await eventually('Completed event', async () => {
      const e = await events('pi');
      return e.some((x) => x.reason === 'Completed') ? e : undefined;
    });
    assert.equal(evs.find((e) => e.reason === 'Completed')?.message, 'Job completed');
    assert.ok(evs.some((e) => e.reason === 'SuccessfulCreate' && /^Created pod: pi-/.test(e.message ?? '')));
  });

  test('a Job exceeding backoffLimit ends Failed with BackoffLimitExceeded', async () => {
    await client.create<Job>(JOBS, NS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'flaky' },
      spec: {
        backoffLimit: 1,
        template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } },
      },
    });
    const job = await eventually('the Job to fail', async () => {
      for (const p of (await podsOf('flaky')).filter(isActive)) await finishPod(p, 1);
      const j = await client.get<Job>(JOBS, NS, 'flaky');
      return jobCondition(j, 'Failed')?.status === 'True' ? j : undefined;
    });
    assert.equal(job.status?.failed, 2);
    assert.equal(jobCondition(job, 'Failed')?.reason, 'BackoffLimitExceeded');
    assert.equal(jobCondition(job, 'Failed')?.message, 'Job has reached the specified backoff limit');
    assert.equal(jobCondition(job, 'FailureTarget')?.reason, 'BackoffLimitExceeded');
    assert.equal((await podsOf('flaky')).length, 2);
    await eventually('BackoffLimitExceeded event', async () =>
      (await events('flaky')).find((e) => e.reason === 'BackoffLimitExceeded' && e.type === 'Warning'),
    );
  });

  test('ttlSecondsAfterFinished: 0 deletes the Job (in the foreground) once it completes', async () => {
    await client.create<Job>(JOBS, NS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'short-lived' },
      spec: {
        ttlSecondsAfterFinished: 0,
        template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } },
      },
    });
    await eventually('the Job to be deleted', async () => {
      for (const p of (await podsOf('short-lived')).filter(isActive)) await finishPod(p, 0);
      const j = (await client.list<Job>(JOBS, NS)).items.find((x) => x.metadata.name === 'short-lived');
      // Deleted in the foreground: without the garbage collector in this manager it stays terminating.
      return !j || j.metadata.deletionTimestamp ? (j ?? true) : undefined;
    });
    const j = (await client.list<Job>(JOBS, NS)).items.find((x) => x.metadata.name === 'short-lived');
    if (j) assert.ok(j.metadata.finalizers?.includes('foregroundDeletion'));
  });

  test('the hello CronJob (batch/v1beta1, every minute) starts a Job on schedule', async () => {
    await client.create<CronJob>(CRONJOBS_V1BETA1, NS, {
      apiVersion: 'batch/v1beta1',
      kind: 'CronJob',
      metadata: { name: 'hello' },
      spec: {
        schedule: '*/1 * * * *',
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
      },
    });
    const cj0 = await client.get<CronJob>(CRONJOBS, NS, 'hello');
    const created = Date.parse(cj0.metadata.creationTimestamp ?? '');
    const scheduled = Math.floor(created / 60_000) * 60_000 + 60_000;
    const jobName = `hello-${scheduled / 60_000}`;
    // Move the controller's clock half a minute past the first activation, and wake it up.
    clockOffsetMs = scheduled + 30_000 - Date.now();
    await client.patch(CRONJOBS, NS, 'hello', 'merge', { metadata: { labels: { touched: 'yes' } } });
    const job = await eventually('the scheduled Job', () => client.get<Job>(JOBS, NS, jobName));
    assert.equal(job.metadata.ownerReferences?.[0]?.kind, 'CronJob');
    assert.equal(
      job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'],
      new Date(scheduled).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    );
    const cj = await eventually('status.active', async () => {
      const c = await client.get<CronJob>(CRONJOBS, NS, 'hello');
      return (c.status?.active ?? []).length === 1 ? c : undefined;
    });
    assert.equal(cj.status?.active?.[0]?.name, jobName);
    assert.equal(Date.parse(cj.status?.lastScheduleTime ?? ''), scheduled);
    // Its pod runs to completion; the CronJob sees the Job finish.
    const done = await eventually('lastSuccessfulTime', async () => {
      for (const p of (await podsOf(jobName)).filter(isActive)) await finishPod(p, 0);
      const c = await client.get<CronJob>(CRONJOBS, NS, 'hello');
      return c.status?.lastSuccessfulTime && (c.status.active ?? []).length === 0 ? c : undefined;
    });
    assert.ok(done.status?.lastSuccessfulTime);
    // Only one Job: no burst, and the same minute is not started twice.
    const jobs = (await client.list<Job>(JOBS, NS)).items.filter((j) =>
      j.metadata.name?.startsWith('hello-'),
    );
    assert.equal(jobs.length, 1);
    await eventually('SawCompletedJob event', async () =>
      (await events('hello')).find((e) => e.reason === 'SawCompletedJob'),
    );
  });
});
