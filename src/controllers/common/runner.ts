// The worker loop every controller runs: keys from a rate-limited work queue, one sync per key at a
// time, metrics and structured logs per controller.
import { runWorkers, WorkQueue } from '../../client/workqueue.js';
import type { Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { errText, isConflict } from './errors.js';

const syncsTotal = metrics.counter(
  'k8ts_controller_syncs_total',
  'Syncs run by controllers, by controller and result.',
);
const syncDuration = metrics.histogram(
  'k8ts_controller_sync_duration_seconds',
  'How long one sync takes, by controller.',
);

/** Delay before a sync that hit a write conflict runs again. */
const CONFLICT_RETRY_MS = 20;

export interface QueueRunner {
  readonly queue: WorkQueue<string>;
  /** Starts n workers; resolves when the queue is shut down and they have finished. */
  run(workers: number): Promise<void>;
  /** Shuts the queue down and waits for in-flight syncs. */
  stop(): Promise<void>;
}

export function queueRunner(name: string, log: Logger, sync: (key: string) => Promise<void>): QueueRunner {
  const queue = new WorkQueue<string>({ name });
  let running: Promise<void> | undefined;
  const instrumented = async (key: string): Promise<void> => {
    const start = process.hrtime.bigint();
    try {
      await sync(key);
      syncsTotal.inc({ controller: name, result: 'success' });
    } catch (err) {
      if (isConflict(err)) {
        // A write based on a cached copy lost a race (often with our own previous write, not yet
        // seen through the watch): expected with caches, so retried quietly after a short delay.
        syncsTotal.inc({ controller: name, result: 'conflict' });
        log.debug('sync hit a conflict, retrying', { key, err: errText(err) });
        queue.addAfter(key, CONFLICT_RETRY_MS);
        return;
      }
      syncsTotal.inc({ controller: name, result: 'error' });
      log.debug('sync failed', { key, err: errText(err) });
      throw err;
    } finally {
      syncDuration.observe(Number(process.hrtime.bigint() - start) / 1e9, { controller: name });
    }
  };
  return {
    queue,
    run(workers) {
      running = runWorkers(queue, workers, instrumented, { logger: log });
      return running;
    },
    async stop() {
      await queue.shutDownWithDrain();
      await running;
    },
  };
}
