// Small pieces the node agent shares: API time formats, a stable deep comparison of JSON values,
// a counting semaphore that bounds requests in flight, and a timer heap that runs many delayed
// keys off one timeout (tens of thousands of pods and nodes must not mean as many timers).

/** metav1.Time: RFC 3339 with whole seconds, as the API serves it. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with six fractional digits (leases). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Milliseconds since the epoch of an API timestamp, or undefined when absent or unparsable. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Deep equality of JSON-like values where an absent field, undefined and null are the same and
 * object key order does not matter (what a round trip through the API server may change).
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const aNil = a === undefined || a === null;
  const bNil = b === undefined || b === null;
  if (aNil || bNil) return aNil && bNil;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!semanticEqual(a[i], b[i])) return false;
    return true;
  }
  if (typeof a === 'object' && typeof b === 'object' && !Array.isArray(b)) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of Object.keys(ao)) if (!semanticEqual(ao[k], bo[k])) return false;
    for (const k of Object.keys(bo)) if (!(k in ao) && !semanticEqual(undefined, bo[k])) return false;
    return true;
  }
  return false;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in FIFO order. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * Keys due at given times, fired in time order from a single timeout. Scheduling a key that is
 * already waiting keeps the earlier time (as a delaying queue does). Heap entries superseded by a
 * reschedule or a cancel are dropped lazily when they reach the top.
 */
export class DelayHeap<K> {
  private heap: Array<{ at: number; key: K }> = [];
  private readonly due = new Map<K, number>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;

  /** fire is called with each key once its time has come; slackMs groups timers that are close. */
  constructor(
    private readonly fire: (key: K) => void,
    private readonly slackMs = 5,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.due.size;
  }

  has(key: K): boolean {
    return this.due.has(key);
  }

  /** Fire key at `at` (ms since epoch) unless it is already due earlier. */
  scheduleAt(key: K, at: number): void {
    if (this.closed) return;
    const existing = this.due.get(key);
    if (existing !== undefined && existing <= at) return;
    this.due.set(key, at);
    this.push({ at, key });
    this.arm();
  }

  /** Fire key at `at`, replacing any earlier or later time it had. */
  reschedule(key: K, at: number): void {
    this.due.delete(key);
    this.scheduleAt(key, at);
  }

  scheduleAfter(key: K, delayMs: number): void {
    this.scheduleAt(key, this.now() + Math.max(0, delayMs));
  }

  cancel(key: K): void {
    this.due.delete(key);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap = [];
    this.due.clear();
  }

  private arm(): void {
    const top = this.heap[0];
    if (!top) return;
    if (this.timer && this.timerAt <= top.at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = top.at;
    this.timer = setTimeout(() => this.run(), Math.max(0, top.at - this.now()));
  }

  private run(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const limit = this.now() + this.slackMs;
    const ready: K[] = [];
    for (let top = this.heap[0]; top && top.at <= limit; top = this.heap[0]) {
      this.pop();
      if (this.due.get(top.key) !== top.at) continue;
      this.due.delete(top.key);
      ready.push(top.key);
    }
    for (const key of ready) this.fire(key);
    if (!this.closed) this.arm();
  }

  private push(e: { at: number; key: K }): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= e.at) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]!.at < h[l]!.at ? r : l;
      if (h[c]!.at >= last.at) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}

/** IPv4 dotted quad ↔ 32-bit unsigned integer. */
export function ipv4ToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses "a.b.c.d/len" into its base address (as an integer, host bits cleared) and prefix length. */
export function parseCidr4(cidr: string): { base: number; prefix: number } {
  const [ip, len] = cidr.split('/');
  const prefix = Number(len);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32)
    throw new Error(`invalid IPv4 CIDR ${JSON.stringify(cidr)}`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ipv4ToInt(ip) & mask) >>> 0, prefix };
}
