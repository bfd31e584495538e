// Event recording, as client-go's tools/record: components say what happened to an object
// ("Scheduled", "FailedMount", ...) and the broadcaster writes core/v1 Events, correlating repeats
// so a condition that recurs does not become a flood:
//
// 1. Aggregation of similar events: events about the same object, source, type and reason whose
//    messages differ are counted per 10-minute window; from the 10th distinct message on, they are
//    folded into one event whose message starts "(combined from similar events): ".
// 2. Deduplication: an event identical to one already written (same object, source, type, reason,
//    message) is written as a patch of the earlier Event (count + 1, lastTimestamp, message) instead
//    of a new Event; if that Event is gone (events expire), a new one is created.
// 3. Spam filter: per source and object, a token bucket (burst 25, refilling one per 5 minutes)
//    decides whether the write happens at all; excess events are dropped.
// 4. Writes happen one at a time from a bounded queue (1000; overflow is dropped); network failures
//    are retried (12 tries, 10 s apart); an API error (the server said no) is not retried.
import { randomInt } from 'node:crypto';
import { StatusError } from '../api/errors.js';
import type { KubeObject } from '../api/meta.js';
import { createLogger, type Logger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import type { RestClient } from './rest.js';
import { EVENTS } from './typed-refs.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  component: string;
  host?: string;
}

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/** core/v1 Event. */
export interface CoreEvent extends KubeObject {
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  source: EventSource;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  type: EventType;
  eventTime: string | null;
  reportingComponent: string;
  reportingInstance: string;
}

export interface EventRecorder {
  /** Records that something happened to obj. type is Normal or Warning; reason is UpperCamelCase. */
  event(obj: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void;
  /** As event(), with annotations on the Event object. */
  annotatedEvent(
    obj: KubeObject | ObjectReference,
    annotations: Record<string, string>,
    type: EventType,
    reason: string,
    message: string,
  ): void;
}

export interface EventBroadcasterOptions {
  /** Events waiting to be written beyond this are dropped (default 1000). */
  maxQueued?: number;
  /** Per source+object token bucket: burst (25) and refill rate (1/300 per second). */
  spamBurst?: number;
  spamQps?: number;
  /** Distinct messages per object+reason before they are combined (10), within this window (10 min). */
  maxSimilarEvents?: number;
  aggregateIntervalMs?: number;
  /** Entries kept by each correlation cache (4096). */
  cacheSize?: number;
  /** Write attempts per event on network failures (12), this far apart (10 s; the first wait is random). */
  maxTries?: number;
  retrySleepMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

const writesTotal = metrics.counter(
  'k8ts_events_writes_total',
  'Event writes, by verb (create/patch) and result.',
);
const droppedTotal = metrics.counter(
  'k8ts_events_dropped_total',
  'Events not written, by cause (queue-full, spam, failed).',
);

/** A reference to obj, as upstream's reference.GetReference. */
export function getReference(obj: KubeObject | ObjectReference): ObjectReference {
  if ('metadata' in obj && typeof obj.metadata === 'object' && obj.metadata !== null) {
    const k = obj;
    const ref: ObjectReference = { kind: k.kind, name: k.metadata.name, apiVersion: k.apiVersion };
    if (k.metadata.namespace) ref.namespace = k.metadata.namespace;
    if (k.metadata.uid) ref.uid = k.metadata.uid;
    if (k.metadata.resourceVersion) ref.resourceVersion = k.metadata.resourceVersion;
    return ref;
  }
  return { ...(obj as ObjectReference) };
}

/** RFC 3339 with seconds, as metav1.Time. */
function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A small LRU map. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value as string);
  }
}

function involvedKey(e: CoreEvent): string[] {
  const o = e.involvedObject;
  return [o.kind ?? '', o.namespace ?? '', o.name ?? '', o.uid ?? '', o.apiVersion ?? ''];
}

function spamKey(e: CoreEvent): string {
  return [e.source.component, e.source.host ?? '', ...involvedKey(e)].join('\u0000');
}

function eventKey(e: CoreEvent): string {
  const o = e.involvedObject;
  return [
    e.source.component,
    e.source.host ?? '',
    o.kind ?? '',
    o.namespace ?? '',
    o.name ?? '',
    o.fieldPath ?? '',
    o.uid ?? '',
    o.apiVersion ?? '',
    e.type,
    e.reason,
    e.message,
  ].join('\u0000');
}

function aggregateKey(e: CoreEvent): string {
  return [
    e.source.component,
    e.source.host ?? '',
    ...involvedKey(e),
    e.type,
    e.reason,
    e.reportingComponent,
    e.reportingInstance,
  ].join('\u0000');
}

interface LogEntry {
  count: number;
  firstTimestamp: string;
  name: string;
  resourceVersion: string | undefined;
}

interface Correlated {
  event: CoreEvent;
  key: string;
  /** Set when the event updates an earlier Event: the merge patch to send. */
  patch?: { count: number; lastTimestamp: string; message: string };
}

/** Upstream's EventCorrelator: aggregation, then deduplication, then the spam filter. */
class EventCorrelator {
  private readonly spam: Lru<{ tokens: number; last: number }>;
  private readonly similar: Lru<{ messages: Set<string>; last: number }>;
  private readonly seen: Lru<LogEntry>;
  private lastNanos = 0n;

  constructor(private readonly o: Required<Omit<EventBroadcasterOptions, 'now'>> & { now: () => number }) {
    this.spam = new Lru(o.cacheSize);
    this.similar = new Lru(o.cacheSize);
    this.seen = new Lru(o.cacheSize);
  }

  /** A unique `<name>.<hex unix nanoseconds>` Event name. */
  eventName(objectName: string, nowMs: number): string {
    let nanos = BigInt(Math.floor(nowMs)) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    return `${objectName}.${nanos.toString(16)}`;
  }

  /** Returns what to write, or undefined if the spam filter drops it. */
  correlate(incoming: CoreEvent): Correlated | undefined {
    const now = this.o.now();
    // 1. Aggregate similar events.
    let event = incoming;
    let key = eventKey(incoming);
    const aKey = aggregateKey(incoming);
    let rec = this.similar.get(aKey);
    if (!rec || now - rec.last > this.o.aggregateIntervalMs) rec = { messages: new Set(), last: now };
    rec.messages.add(incoming.message);
    rec.last = now;
    this.similar.set(aKey, rec);
    if (rec.messages.size >= this.o.maxSimilarEvents) {
      const any = rec.messages.values().next().value as string;
      rec.messages.delete(any);
      const t = formatTime(now);
      event = {
        ...incoming,
        metadata: { ...incoming.metadata, name: this.eventName(incoming.involvedObject.name ?? '', now) },
        message: `(combined from similar events): ${incoming.message}`,
        count: 1,
        firstTimestamp: t,
        lastTimestamp: t,
      };
      key = aKey;
    }
    // 2. Deduplicate against what was written.
    let patch: Correlated['patch'];
    const last = this.seen.get(key);
    if (last && last.count > 0) {
      event = {
        ...event,
        metadata: { ...event.metadata, name: last.name, resourceVersion: last.resourceVersion },
        firstTimestamp: last.firstTimestamp,
        count: last.count + 1,
      };
      patch = { count: event.count, lastTimestamp: event.lastTimestamp, message: event.message };
    }
    this.seen.set(key, {
      count: event.count,
      firstTimestamp: event.firstTimestamp,
      name: event.metadata.name ?? '',
      resourceVersion: event.metadata.resourceVersion,
    });
    // 3. Spam filter.
    const sKey = spamKey(event);
    const bucket = this.spam.get(sKey) ?? { tokens: this.o.spamBurst, last: now };
    bucket.tokens = Math.min(this.o.spamBurst, bucket.tokens + ((now - bucket.last) / 1000) * this.o.spamQps);
    bucket.last = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.spam.set(sKey, bucket);
    if (!allowed) return undefined;
    return patch ? { event, key, patch } : { event, key };
  }

  /** Remembers what the server stored, so the next repeat patches it. */
  written(key: string, stored: CoreEvent): void {
    this.seen.set(key, {
      count: stored.count,
      firstTimestamp: stored.firstTimestamp,
      name: stored.metadata.name ?? '',
      resourceVersion: stored.metadata.resourceVersion,
    });
  }
}

export class EventBroadcaster {
  private readonly log: Logger;
  private readonly o: Required<Omit<EventBroadcasterOptions, 'now'>> & { now: () => number };
  private readonly correlator: EventCorrelator;
  private readonly queue: CoreEvent[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly sleepers = new Set<() => void>();
  private readonly abort = new AbortController();
  private draining: Promise<void> | undefined;
  private active = false;
  private closed = false;

  constructor(
    private readonly client: RestClient,
    opts: EventBroadcasterOptions = {},
  ) {
    this.o = {
      maxQueued: opts.maxQueued ?? 1000,
      spamBurst: opts.spamBurst ?? 25,
      spamQps: opts.spamQps ?? 1 / 300,
      maxSimilarEvents: opts.maxSimilarEvents ?? 10,
      aggregateIntervalMs: opts.aggregateIntervalMs ?? 600_000,
      cacheSize: opts.cacheSize ?? 4096,
      maxTries: opts.maxTries ?? 12,
      retrySleepMs: opts.retrySleepMs ?? 10_000,
      now: opts.now ?? Date.now,
    };
    this.correlator = new EventCorrelator(this.o);
    this.log = createLogger('events');
  }

  /** A recorder that reports as the given component (and host, the reporting instance). */
  newRecorder(source: EventSource): EventRecorder {
    const record = (
      obj: KubeObject | ObjectReference,
      annotations: Record<string, string> | undefined,
      type: EventType,
      reason: string,
      message: string,
    ): void => this.record(source, obj, annotations, type, reason, message);
    return {
      event: (obj, type, reason, message) => record(obj, undefined, type, reason, message),
      annotatedEvent: (obj, annotations, type, reason, message) =>
        record(obj, annotations, type, reason, message),
    };
  }

  private record(
    source: EventSource,
    obj: KubeObject | ObjectReference,
    annotations: Record<string, string> | undefined,
    type: EventType,
    reason: string,
    message: string,
  ): void {
    if (this.closed) return;
    if (type !== 'Normal' && type !== 'Warning') {
      this.log.error('unsupported event type', { type });
      return;
    }
    const ref = getReference(obj);
    if (!ref.name) {
      this.log.error('cannot record an event about an object without a name', { reason });
      return;
    }
    const now = this.o.now();
    const t = formatTime(now);
    const event: CoreEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: this.correlator.eventName(ref.name, now),
        namespace: ref.namespace || 'default',
        ...(annotations ? { annotations: { ...annotations } } : {}),
      },
      involvedObject: ref,
      reason,
      message,
      source: source.host
        ? { component: source.component, host: source.host }
        : { component: source.component },
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    };
    this.log.debug('event', {
      object: `${ref.kind ?? ''}/${ref.namespace ? ref.namespace + '/' : ''}${ref.name}`,
      type,
      reason,
      message,
    });
    if (this.queue.length >= this.o.maxQueued) {
      droppedTotal.inc({ cause: 'queue-full' });
      this.log.error('too many queued events, dropping event', { reason, object: ref.name });
      return;
    }
    this.queue.push(event);
    if (!this.active) {
      this.active = true;
      this.draining = this.drain();
    }
  }

  /** Writes queued events one at a time; `active` is cleared in the same turn the queue is found empty. */
  private async drain(): Promise<void> {
    await Promise.resolve();
    while (this.queue.length > 0 && !this.closed) {
      const event = this.queue.shift()!;
      try {
        await this.writeWithRetries(event);
      } catch (err) {
        this.log.error('event write crashed', { err: errText(err) });
      }
    }
    this.active = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.closed) return resolve();
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private async writeWithRetries(event: CoreEvent): Promise<void> {
    const c = this.correlator.correlate(event);
    if (!c) {
      droppedTotal.inc({ cause: 'spam' });
      return;
    }
    for (let tries = 1; ; tries++) {
      if (await this.write(c)) return;
      if (this.closed) {
        droppedTotal.inc({ cause: 'shutdown' });
        return;
      }
      if (tries >= this.o.maxTries) {
        droppedTotal.inc({ cause: 'failed' });
        this.log.error('unable to write event, giving up', {
          reason: c.event.reason,
          object: c.event.involvedObject.name,
          tries,
        });
        return;
      }
      await this.sleep(tries === 1 ? randomInt(1, Math.max(2, this.o.retrySleepMs)) : this.o.retrySleepMs);
    }
  }

  /** One attempt: true when done (written, or refused by the server), false to retry. */
  private async write(c: Correlated): Promise<boolean> {
    const { event } = c;
    const ns = event.metadata.namespace;
    const signal = this.abort.signal;
    try {
      let stored: CoreEvent | undefined;
      if (c.patch) {
        try {
          stored = await this.client.patch<CoreEvent>(
            EVENTS,
            ns,
            event.metadata.name ?? '',
            'merge',
            c.patch,
            {},
            { signal },
          );
          writesTotal.inc({ verb: 'patch', result: 'ok' });
        } catch (err) {
          if (!(err instanceof StatusError && err.code === 404)) throw err;
          // The Event expired meanwhile: record it afresh.
        }
      }
      if (!stored) {
        const fresh: CoreEvent = { ...event, metadata: { ...event.metadata } };
        delete fresh.metadata.resourceVersion;
        stored = await this.client.create<CoreEvent>(EVENTS, ns, fresh, { signal });
        writesTotal.inc({ verb: 'create', result: 'ok' });
      }
      this.correlator.written(c.key, stored);
      return true;
    } catch (err) {
      if (err instanceof StatusError) {
        writesTotal.inc({ verb: c.patch ? 'patch' : 'create', result: 'refused' });
        if (err.code === 409) this.log.debug('event already exists', { name: event.metadata.name });
        else
          this.log.error('server rejected event (will not retry)', {
            name: event.metadata.name,
            err: err.message,
          });
        return true;
      }
      writesTotal.inc({ verb: c.patch ? 'patch' : 'create', result: 'error' });
      if (!this.closed)
        this.log.warn('unable to write event, will retry', { name: event.metadata.name, err: errText(err) });
      return false;
    }
  }

  /** Resolves when every event recorded so far has been written, dropped or given up on. */
  flush(): Promise<void> {
    if (!this.active && this.queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops recording: queued events are dropped, an in-flight write is aborted, retries end. */
  async shutdown(): Promise<void> {
    this.closed = true;
    if (this.queue.length > 0) droppedTotal.inc({ cause: 'shutdown' }, this.queue.length);
    this.queue.length = 0;
    this.abort.abort();
    for (const wake of [...this.sleepers]) wake();
    await this.draining;
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
