// The TTL-after-finished controller (upstream's pkg/controller/ttlafterfinished): a finished Job
// with spec.ttlSecondsAfterFinished is deleted (foreground, so its pods go first) once that many
// seconds have passed since it finished. Before deleting, the Job is read again from the server, so
// a TTL changed meanwhile is honoured; until then the key is requeued for the moment it expires.
import type { Job } from '../../api/generated/types.js';
import { metaNamespaceKey, splitMetaNamespaceKey, type SharedInformer } from '../../client/informer.js';
import { createLogger, type Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { realClock, type Clock } from '../common/clock.js';
import { isNotFound } from '../common/errors.js';
import { queueRunner, type QueueRunner } from '../common/runner.js';
import { isJobFinished, jobFinishTime } from './util.js';

const deletedTotal = metrics.counter(
  'k8ts_ttl_after_finished_deleted_total',
  'Finished jobs deleted by the TTL-after-finished controller.',
);

export interface TtlClient {
  getJob(namespace: string, name: string): Promise<Job>;
  /** Deletes with foreground propagation. */
  deleteJob(namespace: string, name: string): Promise<void>;
}

export interface TtlAfterFinishedOptions {
  jobInformer: SharedInformer<Job>;
  client: TtlClient;
  clock?: Clock;
  logger?: Logger;
}

/** Milliseconds until the job expires (≤ 0: expired), or undefined if it has no TTL or is not finished. */
export function timeLeftMs(job: Job, now: number): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || job.metadata.deletionTimestamp || !isJobFinished(job))
    return undefined;
  const finished = jobFinishTime(job);
  if (finished === undefined) return undefined;
  return finished + ttl * 1000 - now;
}

export class TtlAfterFinishedController {
  readonly runner: QueueRunner;
  private readonly jobInformer: SharedInformer<Job>;
  private readonly client: TtlClient;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(o: TtlAfterFinishedOptions) {
    this.jobInformer = o.jobInformer;
    this.client = o.client;
    this.clock = o.clock ?? realClock;
    this.log = o.logger ?? createLogger('controller').child('ttl-after-finished');
    this.runner = queueRunner('ttl_jobs_to_delete', this.log, (key) => this.sync(key));
  }

  registerHandlers(): void {
    this.jobInformer.addEventHandler({
      onAdd: (job) => this.maybeEnqueue(job),
      onUpdate: (_old, cur) => this.maybeEnqueue(cur),
    });
  }

  private maybeEnqueue(job: Job): void {
    if (
      job.metadata.deletionTimestamp ||
      job.spec?.ttlSecondsAfterFinished === undefined ||
      !isJobFinished(job)
    )
      return;
    this.runner.queue.add(metaNamespaceKey(job));
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.jobInformer.get(namespace, name);
    if (!cached) return;
    const left = timeLeftMs(cached, this.clock.now());
    if (left === undefined) return;
    if (left > 0) {
      this.runner.queue.addAfter(key, left);
      return;
    }
    // The cache may be stale: check the TTL on the live object before deleting.
    let fresh: Job;
    try {
      fresh = await this.client.getJob(namespace, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (fresh.metadata.uid !== cached.metadata.uid) return;
    const freshLeft = timeLeftMs(fresh, this.clock.now());
    if (freshLeft === undefined) return;
    if (freshLeft > 0) {
      this.runner.queue.addAfter(key, freshLeft);
      return;
    }
    this.log.info('cleaning up finished job', { job: key });
    try {
      await this.client.deleteJob(namespace, name);
      deletedTotal.inc();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  run(workers: number): Promise<void> {
    return this.runner.run(workers);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }
}
