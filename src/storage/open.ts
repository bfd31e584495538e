// Choosing and opening a backend from the --storage flag, and the periodic compactor.
import { InvalidInputError, UnavailableError } from './errors.js';
import { MemoryStore } from './memory/memory-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';
import { createLogger } from '../util/log.js';
import { metrics } from '../util/metrics.js';

const log = createLogger('storage');

export const STORAGE_SPEC_HELP =
  'sqlite (default: <data-dir>/state.db), memory, or etcd://host:port[,host:port...][/key-prefix] (http:// URLs also accepted)';

const HOST_PORT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;

export interface EtcdSpec {
  readonly endpoints: string[];
  readonly keyPrefix: string;
}

/** Parse an etcd spec: `etcd://h:p,h:p/prefix` or `http://h:p,http://h:p`. */
export function parseEtcdSpec(spec: string): EtcdSpec {
  const bad = (why: string): InvalidInputError =>
    new InvalidInputError(`invalid storage ${JSON.stringify(spec)}: ${why}; expected ${STORAGE_SPEC_HELP}`);
  let rest: string;
  if (spec.startsWith('etcd://')) rest = spec.slice('etcd://'.length);
  else if (spec.startsWith('http://')) rest = spec.replace(/(^|,)http:\/\//g, '$1');
  else throw bad('unknown scheme');
  const slash = rest.indexOf('/');
  const hosts = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash).replace(/\/+$/, '');
  const endpoints = hosts.split(',').map((h) => h.trim());
  if (endpoints.length === 0 || endpoints.some((h) => h === '')) throw bad('no endpoint');
  for (const h of endpoints) {
    if (!HOST_PORT.test(h)) throw bad(`${JSON.stringify(h)} is not host:port`);
    const port = Number(h.slice(h.lastIndexOf(':') + 1));
    if (port < 1 || port > 65535) throw bad(`port ${port} is out of range`);
  }
  if (path.includes('\0') || /\s/.test(path)) throw bad('the key prefix must not contain NUL or spaces');
  return { endpoints: endpoints.map((h) => `http://${h}`), keyPrefix: path };
}

/** Open the store a spec names; sqlite keeps its file in dataDir. Fails with a one-line error. */
export async function openStore(spec: string, dataDir: string): Promise<Store> {
  const s = spec.trim();
  if (s === '' || s === 'sqlite') return SqliteStore.open(dataDir);
  if (s === 'memory') return new MemoryStore();
  if (s.startsWith('etcd://') || s.startsWith('http://')) {
    const { endpoints, keyPrefix } = parseEtcdSpec(s);
    // Loaded only when asked for: the gRPC stack costs startup time that sqlite users need not pay.
    const { EtcdStore } = await import('./etcd/etcd-store.js');
    const store = new EtcdStore({ endpoints, keyPrefix });
    try {
      // Fail at startup, not at the first request, when etcd is not there.
      await store.currentRevision();
    } catch (err) {
      await store.close();
      throw new UnavailableError(
        `cannot reach etcd at ${endpoints.join(',')}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return store;
  }
  throw new InvalidInputError(`invalid storage ${JSON.stringify(spec)}: expected ${STORAGE_SPEC_HELP}`);
}

export interface CompactorOptions {
  /** How often to compact (upstream's API server: every 5 minutes). */
  readonly intervalMs: number;
  /** Revisions of history kept behind the current one (kine keeps about 1000). */
  readonly retainRevisions: number;
}

export const DEFAULT_COMPACTOR: CompactorOptions = { intervalMs: 5 * 60_000, retainRevisions: 1000 };

const compactions = metrics.counter(
  'k8ts_storage_compactions_total',
  'Compactions run, by backend and result.',
);
const compactSeconds = metrics.histogram(
  'k8ts_storage_compaction_duration_seconds',
  'Time taken by one compaction.',
);
const compactedRevisionGauge = metrics.gauge(
  'k8ts_storage_compacted_revision',
  'The newest compacted revision.',
);

/**
 * Compact periodically, keeping retainRevisions of history. `runOnce` compacts now (tests, shutdown
 * hooks); stop() ends the schedule and is safe to call twice.
 */
export function startCompactor(
  store: Store,
  opts: CompactorOptions,
): { stop(): void; runOnce(): Promise<number | undefined> } {
  if (!(opts.intervalMs > 0))
    throw new InvalidInputError(`compactor intervalMs must be positive, got ${opts.intervalMs}`);
  if (!Number.isInteger(opts.retainRevisions) || opts.retainRevisions < 0)
    throw new InvalidInputError(
      `compactor retainRevisions must be a non-negative integer, got ${opts.retainRevisions}`,
    );
  let running: Promise<number | undefined> | undefined;
  let stopped = false;

  const once = async (): Promise<number | undefined> => {
    const current = await store.currentRevision();
    const target = current - opts.retainRevisions;
    if (target <= 0 || target <= (await store.compactedRevision())) return undefined;
    const start = performance.now();
    try {
      await store.compact(target);
    } catch (err) {
      compactions.inc({ backend: store.backend, result: 'error' });
      throw err;
    }
    const seconds = (performance.now() - start) / 1000;
    compactions.inc({ backend: store.backend, result: 'ok' });
    compactSeconds.observe(seconds, { backend: store.backend });
    compactedRevisionGauge.set(target, { backend: store.backend });
    log.info('compaction done', {
      backend: store.backend,
      revision: target,
      current,
      ms: Math.round(seconds * 1000),
    });
    return target;
  };
  const runOnce = (): Promise<number | undefined> => {
    // Never two at once: a tick that finds one running joins it.
    running ??= once().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    if (stopped) return;
    runOnce().catch((err: unknown) => {
      if (stopped) return;
      log.warn('compaction failed', {
        backend: store.backend,
        err: err instanceof Error ? err : String(err),
      });
    });
  }, opts.intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
    runOnce,
  };
}
