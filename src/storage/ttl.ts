// Expiry bookkeeping for the in-process backends: which current key versions carry a TTL, and one
// unref'd timer for the earliest deadline. A deadline belongs to a version (key + modRevision), so a
// later write without TTL, or a delete, cancels it, as a new etcd lease or none would.

export type ExpireFn = (key: string, modRevision: number) => void;

/** Sweeps no more often than this, so many distinct deadlines do not turn into a busy loop. */
const MIN_SWEEP_INTERVAL_MS = 100;

export class TtlTracker {
  private readonly deadlines = new Map<string, { at: number; modRevision: number }>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;

  constructor(
    private readonly expire: ExpireFn,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.deadlines.size;
  }

  /** Record the TTL of the version just written (or forget the key's deadline when ttl is absent). */
  set(key: string, modRevision: number, expiresAt: number | undefined): void {
    if (expiresAt === undefined) {
      this.deadlines.delete(key);
      return;
    }
    this.deadlines.set(key, { at: expiresAt, modRevision });
    if (expiresAt < this.timerAt) this.arm(expiresAt);
  }

  clear(key: string): void {
    this.deadlines.delete(key);
  }

  private arm(at: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    const delay = Math.max(at - this.now(), 0);
    this.timer = setTimeout(() => this.sweep(), Math.max(delay, MIN_SWEEP_INTERVAL_MS));
    this.timer.unref();
  }

  private sweep(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.closed) return;
    const now = this.now();
    const due: { key: string; modRevision: number }[] = [];
    let next = Infinity;
    for (const [key, d] of this.deadlines) {
      if (d.at <= now) due.push({ key, modRevision: d.modRevision });
      else if (d.at < next) next = d.at;
    }
    for (const d of due) {
      this.deadlines.delete(d.key);
      this.expire(d.key, d.modRevision);
    }
    // expire() may have re-armed for a new deadline; keep the earlier one.
    if (next < this.timerAt) this.arm(next);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.deadlines.clear();
  }
}
