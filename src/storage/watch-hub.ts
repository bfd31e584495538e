// Watch fan-out for the in-process backends (memory, sqlite). The backend owns every write, so it
// publishes each committed batch here synchronously right after the commit: no polling, and a
// watcher registered between two commits sees exactly the commits after its registration live.
// A watch from an older revision first replays history from the backend, in chunks, while live
// events queue behind the replay; the switch-over point is the revision current at registration,
// so nothing is delivered twice and nothing falls in between.
import { CompactedError } from './errors.js';
import type { Watch, WatchEvent, WatchHandlers } from './types.js';
import type { Logger } from '../util/log.js';
import { metrics } from '../util/metrics.js';

export interface ReplaySource {
  /**
   * Events with a revision in (after, upTo] whose key starts with prefix, ascending, at most limit of
   * them; `reached` is the revision up to which the history has been scanned (upTo when done).
   */
  replay(
    prefix: string,
    after: number,
    upTo: number,
    limit: number,
  ): { events: WatchEvent[]; reached: number };
  compacted(): number;
}

const REPLAY_CHUNK = 500;

const watchersGauge = metrics.gauge('k8ts_storage_watchers', 'Open storage watches.');
const eventsCounter = metrics.counter(
  'k8ts_storage_watch_events_total',
  'Events delivered to storage watches.',
);

type State = 'replaying' | 'live' | 'done';

class HubWatcher implements Watch {
  state: State = 'replaying';
  pending: WatchEvent[] = [];
  private flushScheduled = false;
  replayPos: number;
  /** Live events start strictly after this revision; everything up to it comes from the replay. */
  readonly liveAfter: number;

  constructor(
    private readonly hub: WatchHub,
    readonly prefix: string,
    readonly afterRevision: number,
    upTo: number,
    private readonly handlers: WatchHandlers,
  ) {
    this.replayPos = afterRevision;
    this.liveAfter = Math.max(afterRevision, upTo);
  }

  offer(ev: WatchEvent): void {
    if (ev.revision <= this.liveAfter || !ev.kv.key.startsWith(this.prefix)) return;
    this.pending.push(ev);
    if (this.state === 'live') this.scheduleFlush();
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      if (this.state !== 'live' || this.pending.length === 0) return;
      const batch = this.pending;
      this.pending = [];
      this.deliver(batch);
    });
  }

  deliver(events: readonly WatchEvent[]): void {
    if (this.state === 'done' || events.length === 0) return;
    eventsCounter.inc({ backend: this.hub.backend }, events.length);
    try {
      this.handlers.onEvents(events);
    } catch (err) {
      // A throwing handler is the consumer's bug; the stream stays intact for it.
      this.hub.log.error('watch handler threw', {
        err: err instanceof Error ? err : String(err),
        prefix: this.prefix,
      });
    }
  }

  fail(err: Error): void {
    if (this.state === 'done') return;
    this.finish();
    try {
      this.handlers.onError(err);
    } catch (e) {
      this.hub.log.error('watch error handler threw', { err: e instanceof Error ? e : String(e) });
    }
  }

  private finish(): void {
    this.state = 'done';
    this.pending = [];
    this.hub.remove(this);
  }

  cancel(): void {
    if (this.state === 'done') return;
    this.finish();
  }
}

export class WatchHub {
  private readonly watchers = new Set<HubWatcher>();

  constructor(
    readonly backend: string,
    private readonly source: ReplaySource,
    readonly log: Logger,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  /** Register a watch; currentRevision is the newest committed revision at this instant. */
  add(prefix: string, afterRevision: number, currentRevision: number, handlers: WatchHandlers): Watch {
    const w = new HubWatcher(this, prefix, afterRevision, currentRevision, handlers);
    this.watchers.add(w);
    watchersGauge.inc({ backend: this.backend });
    const compacted = this.source.compacted();
    if (afterRevision < compacted) {
      queueMicrotask(() => w.fail(new CompactedError(afterRevision, compacted)));
      return w;
    }
    if (afterRevision >= currentRevision) {
      w.state = 'live';
      return w;
    }
    setImmediate(() => this.replayStep(w, currentRevision));
    return w;
  }

  private replayStep(w: HubWatcher, upTo: number): void {
    if (w.state !== 'replaying') return;
    const compacted = this.source.compacted();
    if (w.replayPos < compacted) {
      w.fail(new CompactedError(w.afterRevision, compacted));
      return;
    }
    let chunk: { events: WatchEvent[]; reached: number };
    try {
      chunk = this.source.replay(w.prefix, w.replayPos, upTo, REPLAY_CHUNK);
    } catch (err) {
      w.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    w.replayPos = chunk.reached;
    w.deliver(chunk.events);
    if (w.state !== 'replaying') return;
    if (w.replayPos >= upTo) {
      w.state = 'live';
      if (w.pending.length > 0) w.scheduleFlush();
      return;
    }
    setImmediate(() => this.replayStep(w, upTo));
  }

  /** Hand over one committed batch, in revision order. */
  publish(events: readonly WatchEvent[]): void {
    if (this.watchers.size === 0) return;
    for (const w of this.watchers) for (const ev of events) w.offer(ev);
  }

  /** Fail watches that still need history at or below the new compacted revision. */
  compacted(revision: number): void {
    for (const w of this.watchers) {
      if (w.state === 'replaying' && w.replayPos < revision)
        w.fail(new CompactedError(w.afterRevision, revision));
    }
  }

  remove(w: HubWatcher): void {
    if (this.watchers.delete(w)) watchersGauge.dec({ backend: this.backend });
  }

  failAll(err: Error): void {
    for (const w of [...this.watchers]) w.fail(err);
  }
}
