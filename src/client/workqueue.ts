// The controllers' work queue, as client-go's util/workqueue: a deduplicating FIFO where a key is never
// handed to two workers at once, with delayed adds and per-item rate limiting.
//
// - add(key) while the key waits: collapses into the waiting entry.
// - add(key) while a worker holds it: marked dirty; re-queued when the worker calls done(key).
// - addAfter(key, ms): added once the delay passes (the earliest pending time wins).
// - addRateLimited(key): addAfter with the rate limiter's delay; forget(key) resets the key's back-off.
// - shutDown(): no more adds; get() keeps handing out what is queued, then resolves undefined so
//   workers exit; shutDownWithDrain() also waits for the items in flight.
//
// The default rate limiter is upstream's DefaultControllerRateLimiter: the larger of a per-item
// exponential back-off (5 ms doubling to 1000 s) and a global token bucket (10 qps, burst 100).
import { createLogger, type Logger } from '../util/log.js';
import { metrics } from '../util/metrics.js';

// ---------------------------------------------------------------------------------------------
// Rate limiters

export interface RateLimiter<T> {
  /** How long to wait before the item may be processed again (ms); counts a failure. */
  when(item: T): number;
  /** Clears the item's failure history. */
  forget(item: T): void;
  /** Failures recorded for the item. */
  numRequeues(item: T): number;
}

/** base × 2^failures, capped at max (upstream's ItemExponentialFailureRateLimiter). */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();
  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}
  when(item: T): number {
    const exp = this.failures.get(item) ?? 0;
    this.failures.set(item, exp + 1);
    const backoff = this.baseMs * Math.pow(2, exp);
    return Number.isFinite(backoff) ? Math.min(backoff, this.maxMs) : this.maxMs;
  }
  forget(item: T): void {
    this.failures.delete(item);
  }
  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/** Fast delay for the first maxFastAttempts failures, slow after (upstream's ItemFastSlowRateLimiter). */
export class ItemFastSlowRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();
  constructor(
    private readonly fastMs: number,
    private readonly slowMs: number,
    private readonly maxFastAttempts: number,
  ) {}
  when(item: T): number {
    const n = (this.failures.get(item) ?? 0) + 1;
    this.failures.set(item, n);
    return n <= this.maxFastAttempts ? this.fastMs : this.slowMs;
  }
  forget(item: T): void {
    this.failures.delete(item);
  }
  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * A token bucket over all items (upstream's BucketRateLimiter over golang.org/x/time/rate): tokens
 * refill at qps up to burst; each when() reserves one, and the delay is how long until it exists.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  private tokens: number;
  private last: number;
  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }
  when(_item: T): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
  forget(_item: T): void {}
  numRequeues(_item: T): number {
    return 0;
  }
}

/** The longest delay of several limiters (upstream's MaxOfRateLimiter). */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: RateLimiter<T>[];
  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters;
  }
  when(item: T): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(item));
    return max;
  }
  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }
  numRequeues(item: T): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/** Upstream's DefaultControllerRateLimiter: max(5 ms·2^n capped at 1000 s, 10 qps burst 100). */
export function defaultControllerRateLimiter<T>(): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(5, 1_000_000),
    new BucketRateLimiter<T>(10, 100),
  );
}

// ---------------------------------------------------------------------------------------------
// Metrics (upstream's workqueue_* names, labelled by queue name)

const depthGauge = metrics.gauge('workqueue_depth', 'Current depth of the work queue.');
const addsTotal = metrics.counter('workqueue_adds_total', 'Total number of adds handled by the work queue.');
const queueDuration = metrics.histogram(
  'workqueue_queue_duration_seconds',
  'How long an item stays in the work queue before being requested.',
);
const workDuration = metrics.histogram(
  'workqueue_work_duration_seconds',
  'How long processing an item from the work queue takes.',
);
const retriesTotal = metrics.counter(
  'workqueue_retries_total',
  'Total number of retries handled by the work queue.',
);
const longestRunning = metrics.gauge(
  'workqueue_longest_running_processor_seconds',
  'How many seconds the longest running processor has been running (sampled at get and done).',
);

// ---------------------------------------------------------------------------------------------
// The queue

export interface WorkQueueOptions<T> {
  /** Names the queue in metrics and logs. */
  name?: string;
  rateLimiter?: RateLimiter<T>;
  /** Clock for the delays (tests). */
  now?: () => number;
}

export class WorkQueue<T = string> {
  readonly name: string;
  private readonly rateLimiter: RateLimiter<T>;
  private readonly now: () => number;
  private readonly queue: T[] = [];
  private head = 0;
  private readonly dirty = new Set<T>();
  private readonly processing = new Map<T, number>();
  private readonly addedAt = new Map<T, number>();
  private readonly waiters: Array<(item: T | undefined) => void> = [];
  private readonly waiting = new Map<T, number>();
  private waitTimer: NodeJS.Timeout | undefined;
  private waitTimerAt = Infinity;
  private shuttingDown = false;
  private readonly drainWaiters: Array<() => void> = [];

  constructor(opts: WorkQueueOptions<T> = {}) {
    this.name = opts.name ?? '';
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>();
    this.now = opts.now ?? Date.now;
  }

  private get labels(): { name: string } {
    return { name: this.name };
  }

  /** Items waiting to be handed out (not counting those in flight or delayed). */
  len(): number {
    return this.queue.length - this.head;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  private push(item: T): void {
    this.queue.push(item);
    this.addedAt.set(item, this.now());
    depthGauge.set(this.len(), this.labels);
    this.dispatch();
  }

  private shift(): T | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head++] as T;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  /** Moves an item from the queue to a worker. */
  private takeOne(): T | undefined {
    const item = this.shift();
    if (item === undefined) return undefined;
    depthGauge.set(this.len(), this.labels);
    const t = this.now();
    const at = this.addedAt.get(item);
    if (at !== undefined) queueDuration.observe((t - at) / 1000, this.labels);
    this.addedAt.delete(item);
    this.processing.set(item, t);
    this.dirty.delete(item);
    this.sampleLongest();
    return item;
  }

  private dispatch(): void {
    while (this.waiters.length > 0 && this.len() > 0) {
      const waiter = this.waiters.shift()!;
      waiter(this.takeOne());
    }
  }

  add(item: T): void {
    if (this.shuttingDown) return;
    addsTotal.inc(this.labels);
    if (this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    this.push(item);
  }

  /**
   * The next item; resolves undefined once the queue is shut down and empty. The caller must call
   * done(item) when finished with it.
   */
  get(): Promise<T | undefined> {
    if (this.len() > 0) return Promise.resolve(this.takeOne());
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve) => this.waiters.push(resolve));
  }

  /** Marks the item processed; if it was added again meanwhile, it is queued again now. */
  done(item: T): void {
    const started = this.processing.get(item);
    if (started === undefined) return;
    workDuration.observe((this.now() - started) / 1000, this.labels);
    this.processing.delete(item);
    this.sampleLongest();
    if (this.dirty.has(item)) this.push(item);
    else if (this.processing.size === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  private sampleLongest(): void {
    let oldest = Infinity;
    for (const t of this.processing.values()) oldest = Math.min(oldest, t);
    longestRunning.set(oldest === Infinity ? 0 : (this.now() - oldest) / 1000, this.labels);
  }

  /** Adds the item after delayMs; while it waits, a shorter delay wins and a longer one is ignored. */
  addAfter(item: T, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(item);
    const readyAt = this.now() + delayMs;
    const existing = this.waiting.get(item);
    if (existing !== undefined && existing <= readyAt) return;
    this.waiting.set(item, readyAt);
    this.armWaitTimer();
  }

  private armWaitTimer(): void {
    let next = Infinity;
    for (const t of this.waiting.values()) next = Math.min(next, t);
    if (next === this.waitTimerAt && this.waitTimer) return;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.waitTimerAt = next;
    if (next === Infinity) return;
    this.waitTimer = setTimeout(() => this.releaseReady(), Math.max(0, next - this.now()));
  }

  private releaseReady(): void {
    this.waitTimer = undefined;
    this.waitTimerAt = Infinity;
    const now = this.now();
    const ready = [...this.waiting].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
    for (const [item] of ready) {
      this.waiting.delete(item);
      this.add(item);
    }
    this.armWaitTimer();
  }

  /** Adds the item after the rate limiter's delay for it (and counts a retry). */
  addRateLimited(item: T): void {
    if (this.shuttingDown) return;
    retriesTotal.inc(this.labels);
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** The item succeeded: forget its failures (its back-off starts over). */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }

  /** Stops accepting items; workers get what is queued, then undefined. Delayed items are dropped. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.waitTimerAt = Infinity;
    this.waiting.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  /** shutDown, then wait until every item handed to a worker is done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }
}

// ---------------------------------------------------------------------------------------------
// Workers

export interface RunWorkersOptions {
  logger?: Logger;
  /** Give up on a key after this many consecutive failures (forget it); default: retry forever. */
  maxRetries?: number;
}

/**
 * Runs n workers that take keys from the queue and sync them: success forgets the key's back-off,
 * an error is logged and the key re-queued with back-off. Resolves when the queue is shut down and
 * every worker has finished its current key.
 */
export async function runWorkers<T>(
  queue: WorkQueue<T>,
  n: number,
  sync: (key: T) => Promise<void>,
  opts: RunWorkersOptions = {},
): Promise<void> {
  const log = opts.logger ?? createLogger('workqueue').child(queue.name || 'worker');
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await sync(key);
        queue.forget(key);
      } catch (err) {
        const retries = queue.numRequeues(key);
        if (opts.maxRetries !== undefined && retries >= opts.maxRetries) {
          log.error('dropping key after too many failures', { key: String(key), retries, err: errText(err) });
          queue.forget(key);
        } else {
          log.warn('sync failed, requeuing with back-off', { key: String(key), retries, err: errText(err) });
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, () => worker()));
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
