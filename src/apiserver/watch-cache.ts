// Watch fan-out: one store watch per resource (storage prefix), decoded once per event and
// broadcast to every HTTP watcher of that resource, with a bounded history so that watchers
// resuming from a recent resourceVersion (informers after a reconnect) are served without a new
// store watch. Older resourceVersions fall back to a dedicated store watch.
import type { KubeObject } from '../api/meta.js';
import type { Store, Watch, WatchEvent } from '../storage/types.js';
import { createLogger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import { withResourceVersion } from './objects.js';

const log = createLogger('apiserver.watch');
const broadcastersGauge = metrics.gauge(
  'apiserver_watch_cache_broadcasters',
  'Store watches shared by API watchers.',
);
const storeWatchesGauge = metrics.gauge(
  'apiserver_watch_store_watches',
  'Dedicated store watches for old resourceVersions.',
);

export type ApiEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export function decodeStored(value: string, resourceVersion: number): KubeObject {
  const obj = JSON.parse(value) as KubeObject;
  if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = {};
  obj.metadata.resourceVersion = String(resourceVersion);
  return obj;
}

/**
 * One change, shared by all watchers. Parsing is lazy: unfiltered JSON watchers never parse the
 * object at all (the stored JSON gets its resourceVersion spliced in), and the previous state is
 * parsed only when a selector needs it. Treat the objects as immutable.
 */
export class DecodedEvent {
  private parsed: KubeObject | undefined;
  private parsedPrev: KubeObject | undefined;
  private rawJson: string | undefined;
  /** Other serialisations keyed by output form, filled by whoever first needs one. */
  readonly encoded = new Map<string, string>();

  constructor(
    readonly type: ApiEventType,
    readonly revision: number,
    readonly key: string,
    private readonly value: string,
    /** The object's resourceVersion: its modRevision, or the deletion revision for DELETED. */
    private readonly objectRv: number,
    private readonly prevValue?: string,
    private readonly prevRv?: number,
  ) {}

  /** The object after the change; for DELETED its last state with the deletion's resourceVersion. */
  get object(): KubeObject {
    this.parsed ??= decodeStored(this.value, this.objectRv);
    return this.parsed;
  }

  /**
   * Takes the previous state from the event that wrote it, when that one has been parsed already
   * (filtered watchers parse every object): a MODIFIED event then costs one parse, not two. Only
   * the object is kept, not the event, so events never hold on to older ones.
   */
  adoptPrevFrom(before: DecodedEvent): void {
    if (
      this.prevValue !== undefined &&
      before.key === this.key &&
      before.type !== 'DELETED' &&
      before.revision === this.prevRv &&
      before.parsed !== undefined
    )
      this.parsedPrev ??= before.parsed;
  }

  /** The object before the change (MODIFIED and DELETED). */
  get prev(): KubeObject | undefined {
    if (this.prevValue === undefined) return undefined;
    this.parsedPrev ??= decodeStored(this.prevValue, this.prevRv ?? 0);
    return this.parsedPrev;
  }

  /** The stored (storage-version) JSON of `object`, without parsing it. */
  get json(): string {
    this.rawJson ??= withResourceVersion(this.value, this.objectRv);
    return this.rawJson;
  }
}

export function decodeEvent(ev: WatchEvent): DecodedEvent {
  switch (ev.type) {
    case 'create':
      return new DecodedEvent('ADDED', ev.revision, ev.kv.key, ev.kv.value, ev.kv.modRevision);
    case 'update':
      return new DecodedEvent(
        'MODIFIED',
        ev.revision,
        ev.kv.key,
        ev.kv.value,
        ev.kv.modRevision,
        ev.prevKv?.value,
        ev.prevKv?.modRevision,
      );
    case 'delete':
      return new DecodedEvent(
        'DELETED',
        ev.revision,
        ev.kv.key,
        ev.kv.value,
        ev.revision,
        ev.kv.value,
        ev.kv.modRevision,
      );
  }
}

export interface Subscriber {
  /** Events in revision order; the subscriber filters by its own revision. */
  onEvents(events: readonly DecodedEvent[]): void;
  onError(err: Error): void;
}

export interface Subscription {
  cancel(): void;
}

const DEFAULT_HISTORY = 2048;
const LINGER_MS = 60_000;

class Broadcaster {
  private readonly subscribers = new Set<Subscriber>();
  private history: DecodedEvent[] = [];
  /** The newest event of each key still in the history (see DecodedEvent.adoptPrevFrom). */
  private readonly newestByKey = new Map<string, DecodedEvent>();
  /** Every event with a revision above this one is in the history or was delivered live. */
  coveredFrom: number;
  lastRevision: number;
  private watch: Watch | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  failed = false;

  constructor(
    private readonly store: Store,
    readonly prefix: string,
    startAfter: number,
    private readonly historyLimit: number,
    private readonly onDead: (b: Broadcaster) => void,
  ) {
    this.coveredFrom = startAfter;
    this.lastRevision = startAfter;
    broadcastersGauge.inc();
    this.watch = store.watch(
      prefix,
      { afterRevision: startAfter, prevKv: true },
      {
        onEvents: (events) => this.publish(events),
        onError: (err) => this.fail(err),
      },
    );
  }

  private publish(events: readonly WatchEvent[]): void {
    const decoded: DecodedEvent[] = [];
    for (const ev of events) {
      try {
        decoded.push(decodeEvent(ev));
      } catch (err) {
        log.error('undecodable stored object', {
          key: ev.kv.key,
          err: err instanceof Error ? err : String(err),
        });
      }
      this.lastRevision = Math.max(this.lastRevision, ev.revision);
    }
    if (decoded.length === 0) return;
    for (const d of decoded) {
      const before = this.newestByKey.get(d.key);
      if (before) d.adoptPrevFrom(before);
      this.newestByKey.set(d.key, d);
    }
    this.history.push(...decoded);
    // Trimmed once it is a quarter over its limit, not on every event: each trim copies the array.
    if (this.history.length > this.historyLimit + (this.historyLimit >> 2)) {
      const drop = this.history.length - this.historyLimit;
      this.coveredFrom = this.history[drop - 1]!.revision;
      for (let i = 0; i < drop; i++) {
        const gone = this.history[i]!;
        if (this.newestByKey.get(gone.key) === gone) this.newestByKey.delete(gone.key);
      }
      this.history = this.history.slice(drop);
    }
    for (const s of [...this.subscribers]) {
      try {
        s.onEvents(decoded);
      } catch (err) {
        log.error('watch subscriber threw', { err: err instanceof Error ? err : String(err) });
      }
    }
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.stop();
    for (const s of [...this.subscribers]) s.onError(err);
    this.subscribers.clear();
  }

  canServe(afterRevision: number): boolean {
    return !this.failed && afterRevision >= this.coveredFrom;
  }

  subscribe(afterRevision: number, s: Subscriber): Subscription {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    const replay = this.history.filter((e) => e.revision > afterRevision);
    if (replay.length) s.onEvents(replay);
    this.subscribers.add(s);
    return {
      cancel: () => {
        if (!this.subscribers.delete(s)) return;
        if (this.subscribers.size === 0 && !this.failed) {
          this.lingerTimer = setTimeout(() => this.stop(), LINGER_MS);
          this.lingerTimer.unref();
        }
      },
    };
  }

  get size(): number {
    return this.subscribers.size;
  }

  stop(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.watch) {
      this.watch.cancel();
      this.watch = undefined;
      broadcastersGauge.dec();
    }
    this.onDead(this);
  }
}

export class WatchCache {
  private readonly broadcasters = new Map<string, Broadcaster>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly historyLimit = DEFAULT_HISTORY,
  ) {}

  /** The newest revision seen for a resource prefix (0 if none is watched). */
  lastRevision(prefix: string): number {
    return this.broadcasters.get(prefix)?.lastRevision ?? 0;
  }

  /**
   * Subscribes to every change under `prefix` after `afterRevision`. Served from the shared
   * broadcaster when it covers that revision, else from a dedicated store watch.
   */
  subscribe(prefix: string, afterRevision: number, s: Subscriber): Subscription {
    if (this.closed) throw new Error('watch cache closed');
    let b = this.broadcasters.get(prefix);
    if (!b || b.failed) {
      b = new Broadcaster(this.store, prefix, afterRevision, this.historyLimit, (dead) => {
        if (this.broadcasters.get(prefix) === dead) this.broadcasters.delete(prefix);
      });
      this.broadcasters.set(prefix, b);
    }
    if (b.canServe(afterRevision)) return b.subscribe(afterRevision, s);
    return this.direct(prefix, afterRevision, s);
  }

  private direct(prefix: string, afterRevision: number, s: Subscriber): Subscription {
    storeWatchesGauge.inc();
    let done = false;
    const held: { watch?: Watch } = {};
    const finish = (): void => {
      if (done) return;
      done = true;
      storeWatchesGauge.dec();
      held.watch?.cancel();
    };
    const w = this.store.watch(
      prefix,
      { afterRevision, prevKv: true },
      {
        onEvents: (events) => {
          const decoded: DecodedEvent[] = [];
          for (const ev of events) {
            try {
              decoded.push(decodeEvent(ev));
            } catch (err) {
              log.error('undecodable stored object', {
                key: ev.kv.key,
                err: err instanceof Error ? err : String(err),
              });
            }
          }
          if (decoded.length) s.onEvents(decoded);
        },
        onError: (err) => {
          finish();
          s.onError(err);
        },
      },
    );
    held.watch = w;
    if (done) w.cancel();
    return { cancel: finish };
  }

  close(): void {
    this.closed = true;
    for (const b of [...this.broadcasters.values()]) b.stop();
    this.broadcasters.clear();
  }
}
