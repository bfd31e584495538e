// Runs the control plane's components (scheduler, controller manager) in a worker thread of the
// server process. The API server's event loop is what limits the whole control plane on a small
// machine; the components' own work (watch decoding, informers, scheduling cycles) then runs on
// another core. This module is the main thread's side and loads none of the components' code.
import { Worker } from 'node:worker_threads';
import { createLogger, currentLogLevel, writeLogLine } from '../util/log.js';
import type { MetricFamily } from '../util/metrics.js';
import type { ComponentsConfig } from './components.js';
import { isFromWorker, type FromWorker, type ToWorker, type WorkerData } from './components-protocol.js';

const log = createLogger('server.components');

/** How long a stop waits for the components to finish before the thread is terminated. */
const STOP_TIMEOUT_MS = 15_000;
/**
 * The components' young generation. Without a limit a worker inherits the server's (bin/k8ts gives the
 * API server a 64 MB semi-space), and the components, which allocate far less, would keep as much
 * resident: 16 MB holds the idle server's memory about 8 MB lower.
 */
const COMPONENTS_YOUNG_GENERATION_MB = 16;
/** A /metrics scrape does not wait longer than this for the components' part. */
const METRICS_TIMEOUT_MS = 2_000;

export interface ComponentsThread {
  /** The components' metrics, for the API server's /metrics (empty once stopped or when slow). */
  metrics(): Promise<readonly MetricFamily[]>;
  stop(): Promise<void>;
}

export interface ComponentsThreadOptions {
  /** Called when the thread dies after it started (an uncaught error in a component). */
  onFailure(err: Error): void;
  /** The thread's module (tests); by default components-worker.js. */
  readonly workerUrl?: URL;
}

/** Starts the components in a worker thread; resolves once they have started, rejects if they could not. */
export function startComponentsThread(
  config: ComponentsConfig,
  opts: ComponentsThreadOptions,
): Promise<ComponentsThread> {
  const data: WorkerData = { config, logLevel: currentLogLevel() };
  const worker = new Worker(opts.workerUrl ?? new URL('./components-worker.js', import.meta.url), {
    workerData: data,
    resourceLimits: { maxYoungGenerationSizeMb: COMPONENTS_YOUNG_GENERATION_MB },
  });
  const pendingMetrics = new Map<number, (families: readonly MetricFamily[]) => void>();
  let nextId = 0;
  let started = false;
  let stopped = false;
  let onStopped: (() => void) | undefined;
  const send = (m: ToWorker): void => worker.postMessage(m);

  return new Promise<ComponentsThread>((resolve, reject) => {
    const thread: ComponentsThread = {
      metrics: () =>
        new Promise((done) => {
          if (stopped) return done([]);
          const id = nextId++;
          const timer = setTimeout(() => {
            pendingMetrics.delete(id);
            done([]);
          }, METRICS_TIMEOUT_MS);
          pendingMetrics.set(id, (families) => {
            clearTimeout(timer);
            done(families);
          });
          send({ type: 'metrics', id });
        }),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        const exited = new Promise<void>((done) => worker.once('exit', () => done()));
        const finished = new Promise<void>((done) => (onStopped = done));
        send({ type: 'stop' });
        const timer = setTimeout(() => {
          log.warn('components did not stop in time; terminating their thread', { ms: STOP_TIMEOUT_MS });
          void worker.terminate();
        }, STOP_TIMEOUT_MS);
        await Promise.race([finished, exited]);
        await worker.terminate();
        clearTimeout(timer);
        for (const done of pendingMetrics.values()) done([]);
        pendingMetrics.clear();
      },
    };

    worker.on('message', (m: unknown) => {
      if (!isFromWorker(m)) {
        log.error('unexpected message from the components thread', { message: String(m) });
        return;
      }
      handle(m);
    });
    const handle = (m: FromWorker): void => {
      switch (m.type) {
        case 'log':
          writeLogLine(m.line);
          return;
        case 'metrics':
          pendingMetrics.get(m.id)?.(m.families);
          pendingMetrics.delete(m.id);
          return;
        case 'started':
          started = true;
          resolve(thread);
          return;
        case 'failed':
          stopped = true;
          void worker.terminate();
          reject(new Error(`control-plane components failed to start: ${m.error}`));
          return;
        case 'stopped':
          onStopped?.();
          return;
      }
    };
    worker.on('error', (err) => {
      stopped = true;
      if (!started) reject(err);
      else opts.onFailure(err);
    });
    worker.on('exit', (code) => {
      if (stopped) return;
      stopped = true;
      const err = new Error(`the components thread exited with code ${code}`);
      if (!started) reject(err);
      else opts.onFailure(err);
    });
  });
}
