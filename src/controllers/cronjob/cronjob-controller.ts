// The CronJob controller (upstream's cronjob_controllerv2.go): starts a Job at each scheduled time.
//
// sync(key):
// 1. Read the CronJob (gone: nothing to do) and the Jobs it controls.
// 2. Reconcile status.active with the Jobs: finished ones leave it (SawCompletedJob, and
//    lastSuccessfulTime for Complete ones), missing ones leave it (MissingJob), running ones not
//    listed are added.
// 3. Unless it is being deleted, suspended, or its schedule or time zone is invalid: find the most
//    recent activation that is due (more than 100 missed: TooManyMissedTimes, and only the most
//    recent starts — never a burst after downtime). Too late per startingDeadlineSeconds:
//    MissSchedule. Already started (by name or lastScheduleTime): nothing. Forbid with active
//    Jobs: JobAlreadyActive. Replace: active Jobs are deleted first. Then the Job
//    `<name>-<minutes since epoch>` is created with the scheduled-timestamp annotation.
// 4. Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit are deleted, oldest
//    first.
// 5. Status is written if it changed; the key is requeued for the next activation (+100 ms).
import type { CronJob, CronJobStatus, Job } from '../../api/generated/types.js';
import { CronError, parseCron, type CronSchedule } from '../../api/kinds/cron.js';
import type { EventRecorder } from '../../client/events.js';
import {
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type SharedInformer,
} from '../../client/informer.js';
import { createLogger, type Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { formatTime, parseTime, realClock, type Clock } from '../common/clock.js';
import { errText, isAlreadyExists, isNotFound } from '../common/errors.js';
import { CONTROLLER_UID_INDEX, controllerUidIndexFunc, ensureIndex } from '../common/indexes.js';
import { controllerRefOf } from '../common/pods.js';
import { queueRunner, type QueueRunner } from '../common/runner.js';
import {
  MAX_MISSED_REPORTED,
  NEXT_SCHEDULE_DELTA_MS,
  isJobFinishedOf,
  isValidTimeZone,
  jobFromTemplate,
  jobNameFor,
  jobReference,
  mostRecentScheduleTime,
  nextScheduleTime,
  scheduledTimeOf,
} from './utils.js';

const jobsStarted = metrics.counter(
  'k8ts_cronjob_jobs_created_total',
  'Jobs created by the cronjob controller.',
);
const startSkew = metrics.histogram(
  'k8ts_cronjob_job_creation_skew_seconds',
  'Time between when a cronjob is scheduled to run and when its job is created.',
  [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
);

export interface CronJobClient {
  createJob(job: Job): Promise<Job>;
  getJob(namespace: string, name: string): Promise<Job>;
  /** Deletes with background propagation. */
  deleteJob(namespace: string, name: string): Promise<void>;
  updateStatus(cj: CronJob): Promise<CronJob>;
}

export interface CronJobControllerOptions {
  cronJobInformer: SharedInformer<CronJob>;
  jobInformer: SharedInformer<Job>;
  client: CronJobClient;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}

function rfc1123z(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export class CronJobController {
  readonly runner: QueueRunner;
  private readonly cjInformer: SharedInformer<CronJob>;
  private readonly jobInformer: SharedInformer<Job>;
  private readonly client: CronJobClient;
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(o: CronJobControllerOptions) {
    this.cjInformer = o.cronJobInformer;
    this.jobInformer = o.jobInformer;
    this.client = o.client;
    this.recorder = o.recorder;
    this.clock = o.clock ?? realClock;
    this.log = o.logger ?? createLogger('controller').child('cronjob');
    ensureIndex(this.jobInformer, CONTROLLER_UID_INDEX, controllerUidIndexFunc);
    this.runner = queueRunner('cronjob', this.log, (key) => this.sync(key));
  }

  registerHandlers(): void {
    this.cjInformer.addEventHandler({
      onAdd: (cj) => this.runner.queue.add(metaNamespaceKey(cj)),
      onUpdate: (_o, cur) => this.runner.queue.add(metaNamespaceKey(cur)),
      onDelete: (obj) => this.runner.queue.add(metaNamespaceKey(deletedObject(obj))),
    });
    const onJob = (job: Job): void => {
      const ref = controllerRefOf(job);
      if (!ref || ref.kind !== 'CronJob') return;
      const cj = this.cjInformer.get(job.metadata.namespace, ref.name);
      if (cj && cj.metadata.uid === ref.uid) this.runner.queue.add(metaNamespaceKey(cj));
    };
    this.jobInformer.addEventHandler({
      onAdd: onJob,
      onUpdate: (old, cur) => {
        onJob(cur);
        if (controllerRefOf(old)?.uid !== controllerRefOf(cur)?.uid) onJob(old);
      },
      onDelete: (obj) => onJob(deletedObject(obj)),
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.cjInformer.get(namespace, name);
    if (!cached) return;
    const cj = structuredClone<CronJob>(cached);
    const jobs = this.jobInformer
      .byIndex(CONTROLLER_UID_INDEX, cj.metadata.uid ?? '')
      .filter((j) => j.metadata.namespace === namespace);
    const before = JSON.stringify(cj.status ?? {});
    const status: CronJobStatus = structuredClone(cj.status ?? {});
    cj.status = status;
    let requeueMs: number | undefined;
    let syncErr: unknown;
    try {
      requeueMs = await this.syncCronJob(cj, jobs);
    } catch (err) {
      syncErr = err;
    }
    await this.cleanupFinishedJobs(cj, jobs);
    if (JSON.stringify(cj.status ?? {}) !== before) {
      try {
        await this.client.updateStatus(cj);
      } catch (err) {
        if (!isNotFound(err)) syncErr ??= err;
      }
    }
    if (syncErr !== undefined) throw syncErr instanceof Error ? syncErr : new Error(errText(syncErr));
    if (requeueMs !== undefined) this.runner.queue.addAfter(key, requeueMs);
  }

  /** Returns the delay until the next activation, or undefined when none should be scheduled. */
  private async syncCronJob(cj: CronJob, jobs: readonly Job[]): Promise<number | undefined> {
    const status = cj.status!;
    const now = this.clock.now();
    const byUid = new Set(jobs.map((j) => j.metadata.uid));
    const active = (): NonNullable<CronJobStatus['active']> => status.active ?? [];
    const inActive = (uid: string | undefined): boolean => active().some((r) => r.uid === uid);
    const dropActive = (uid: string | undefined): void => {
      const left = active().filter((r) => r.uid !== uid);
      if (left.length > 0) status.active = left;
      else delete status.active;
    };
    for (const j of jobs) {
      const finished = isJobFinishedOf(j);
      const found = inActive(j.metadata.uid);
      if (!found && !finished) {
        // A running Job we do not list: ours from a status write the cache has not caught up with,
        // or one someone else created for us to track.
        status.active = [...active(), jobReference(j)];
        const sched = scheduledTimeOf(j);
        if (sched === undefined || jobNameFor(cj, sched) !== j.metadata.name)
          this.recorder.event(
            cj,
            'Warning',
            'UnexpectedJob',
            `Saw a job that the controller did not create or forgot: ${j.metadata.name ?? ''}`,
          );
      } else if (found && finished) {
        dropActive(j.metadata.uid);
        this.recorder.event(
          cj,
          'Normal',
          'SawCompletedJob',
          `Saw completed job: ${j.metadata.name ?? ''}, condition: ${finished}`,
        );
      }
      if (finished === 'Complete') {
        const done = parseTime(j.status?.completionTime);
        const last = parseTime(status.lastSuccessfulTime);
        if (done !== undefined && (last === undefined || done > last))
          status.lastSuccessfulTime = formatTime(done);
      }
    }
    // Active references whose Job is not in the cache: check with the server before dropping them.
    for (const ref of [...active()]) {
      if (byUid.has(ref.uid)) continue;
      try {
        const j = await this.client.getJob(ref.namespace ?? cj.metadata.namespace ?? '', ref.name ?? '');
        if (j.metadata.uid !== ref.uid) throw Object.assign(new Error('uid changed'), { replaced: true });
      } catch (err) {
        if (isNotFound(err) || (err instanceof Error && 'replaced' in err)) {
          this.recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name ?? ''}`);
          dropActive(ref.uid);
        } else throw err;
      }
    }

    if (cj.metadata.deletionTimestamp) return undefined;
    const tz = cj.spec.timeZone ?? undefined;
    if (tz !== undefined && !isValidTimeZone(tz)) {
      this.recorder.event(
        cj,
        'Warning',
        'UnknownTimeZone',
        `invalid timeZone: "${tz}": unknown time zone ${tz}`,
      );
      return undefined;
    }
    if (cj.spec.suspend === true) {
      this.log.debug('not starting job because the cron is suspended', { cronjob: metaNamespaceKey(cj) });
      return undefined;
    }
    let sched: CronSchedule;
    try {
      sched = parseCron(cj.spec.schedule);
    } catch (err) {
      const msg = err instanceof CronError ? err.message : errText(err);
      this.recorder.event(
        cj,
        'Warning',
        'UnparseableSchedule',
        `unparseable schedule: "${cj.spec.schedule}" : ${msg}`,
      );
      return undefined;
    }
    const untilNext = (): number | undefined => {
      const n = nextScheduleTime(cj, now, sched);
      return n === undefined ? undefined : n - now + NEXT_SCHEDULE_DELTA_MS;
    };
    const { mostRecent: scheduled, missed } = mostRecentScheduleTime(cj, now, sched, true);
    if (missed > MAX_MISSED_REPORTED)
      this.recorder.event(
        cj,
        'Warning',
        'TooManyMissedTimes',
        `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
      );
    if (scheduled === undefined) return untilNext();
    const deadline = cj.spec.startingDeadlineSeconds;
    if (deadline !== undefined && deadline !== null && scheduled + deadline * 1000 < now) {
      this.recorder.event(
        cj,
        'Warning',
        'MissSchedule',
        `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`,
      );
      return untilNext();
    }
    const jobName = jobNameFor(cj, scheduled);
    if (active().some((r) => r.name === jobName) || parseTime(status.lastScheduleTime) === scheduled)
      return untilNext();
    const policy = cj.spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active().length > 0) {
      this.recorder.event(
        cj,
        'Normal',
        'JobAlreadyActive',
        'Not starting job because prior execution is running and concurrency policy is Forbid',
      );
      return untilNext();
    }
    if (policy === 'Replace') {
      for (const ref of [...active()]) {
        try {
          await this.client.deleteJob(ref.namespace ?? cj.metadata.namespace ?? '', ref.name ?? '');
          this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${ref.name ?? ''}`);
        } catch (err) {
          if (!isNotFound(err)) {
            this.recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${errText(err)}`);
            throw err;
          }
        }
        dropActive(ref.uid);
      }
    }
    const req = jobFromTemplate(cj, scheduled);
    let created: Job;
    try {
      created = await this.client.createJob(req);
    } catch (err) {
      if (isAlreadyExists(err)) {
        // Created before (by us in an earlier life, or by someone else): take it as started.
        try {
          const existing = await this.client.getJob(req.metadata.namespace ?? '', req.metadata.name ?? '');
          if (controllerRefOf(existing)?.uid === cj.metadata.uid) {
            if (!isJobFinishedOf(existing) && !inActive(existing.metadata.uid))
              status.active = [...active(), jobReference(existing)];
            status.lastScheduleTime = formatTime(scheduled);
          }
        } catch (getErr) {
          if (!isNotFound(getErr)) throw getErr;
        }
        return untilNext();
      }
      this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${errText(err)}`);
      throw err;
    }
    jobsStarted.inc();
    startSkew.observe(Math.max(0, now - scheduled) / 1000);
    this.log.debug('created job', { cronjob: metaNamespaceKey(cj), job: created.metadata.name });
    this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name ?? ''}`);
    status.active = [...active(), jobReference(created)];
    status.lastScheduleTime = formatTime(scheduled);
    return untilNext();
  }

  /** Deletes finished Jobs beyond the history limits, oldest first. */
  private async cleanupFinishedJobs(cj: CronJob, jobs: readonly Job[]): Promise<void> {
    const successLimit = cj.spec.successfulJobsHistoryLimit;
    const failedLimit = cj.spec.failedJobsHistoryLimit;
    if (
      (successLimit === undefined || successLimit === null) &&
      (failedLimit === undefined || failedLimit === null)
    )
      return;
    const succeeded: Job[] = [];
    const failed: Job[] = [];
    for (const j of jobs) {
      if (j.metadata.deletionTimestamp) continue;
      const f = isJobFinishedOf(j);
      if (f === 'Complete') succeeded.push(j);
      else if (f === 'Failed') failed.push(j);
    }
    if (successLimit !== undefined && successLimit !== null)
      await this.removeOldest(cj, succeeded, successLimit);
    if (failedLimit !== undefined && failedLimit !== null) await this.removeOldest(cj, failed, failedLimit);
  }

  private async removeOldest(cj: CronJob, jobs: Job[], limit: number): Promise<void> {
    const extra = jobs.length - limit;
    if (extra <= 0) return;
    const start = (j: Job): number =>
      parseTime(j.status?.startTime) ?? parseTime(j.metadata.creationTimestamp) ?? 0;
    const sorted = [...jobs].sort(
      (a, b) => start(a) - start(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    );
    for (const j of sorted.slice(0, extra)) {
      try {
        await this.client.deleteJob(j.metadata.namespace ?? '', j.metadata.name ?? '');
        this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name ?? ''}`);
      } catch (err) {
        if (isNotFound(err)) continue;
        this.recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${errText(err)}`);
        this.log.warn('deleting finished job', { job: j.metadata.name, err: errText(err) });
        continue;
      }
      const left = (cj.status?.active ?? []).filter((r) => r.uid !== j.metadata.uid);
      if (cj.status) {
        if (left.length > 0) cj.status.active = left;
        else delete cj.status.active;
      }
    }
  }

  run(workers: number): Promise<void> {
    return this.runner.run(workers);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }
}
