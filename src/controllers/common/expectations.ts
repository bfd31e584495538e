// Expectations, as upstream's ControllerExpectations with UID tracking: a controller that issued
// creates or deletes records how many it expects to observe through its informers and does not act
// on the same key again until they have all come back (or the expectations are 5 minutes old, in
// case a watch event was lost). Deletions are tracked by pod key, so each one is counted once
// whether it is seen as a deletionTimestamp update, a DELETED event or a relist tombstone.
import type { Clock } from './clock.js';
import { realClock } from './clock.js';

/** Upstream's ExpectationsTimeout. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

interface Expectation {
  add: number;
  del: number;
  timestamp: number;
  deleteKeys: Set<string>;
}

export class ControllerExpectations {
  private readonly map = new Map<string, Expectation>();

  constructor(
    private readonly clock: Clock = realClock,
    private readonly timeoutMs = EXPECTATIONS_TIMEOUT_MS,
  ) {}

  /** True when the controller may act on key: nothing pending, or what is pending has expired. */
  satisfied(key: string): boolean {
    const e = this.map.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now() - e.timestamp > this.timeoutMs;
  }

  /** What is still expected (tests, logs). */
  get(key: string): { add: number; del: number } | undefined {
    const e = this.map.get(key);
    return e ? { add: e.add, del: e.del } : undefined;
  }

  private set(key: string, add: number, del: number, deleteKeys: Iterable<string> = []): void {
    this.map.set(key, { add, del, timestamp: this.clock.now(), deleteKeys: new Set(deleteKeys) });
  }

  expectCreations(key: string, adds: number): void {
    this.set(key, adds, 0);
  }

  expectDeletions(key: string, podKeys: readonly string[]): void {
    this.set(key, 0, podKeys.length, podKeys);
  }

  creationObserved(key: string): void {
    const e = this.map.get(key);
    if (e) e.add--;
  }

  /** A deletion of podKey was seen; counted only if it was one the controller expected. */
  deletionObserved(key: string, podKey: string): void {
    const e = this.map.get(key);
    if (!e || !e.deleteKeys.delete(podKey)) return;
    e.del--;
  }

  deleteExpectations(key: string): void {
    this.map.delete(key);
  }
}
