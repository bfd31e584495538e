// Expectations for a controller that creates and deletes in the same sync (upstream's
// ControllerExpectations.SetExpectations with both counts): the key is satisfied once every
// expected creation and every expected deletion (tracked by pod key) has been observed, or the
// record is older than the timeout.
import { EXPECTATIONS_TIMEOUT_MS } from '../common/expectations.js';
import { realClock, type Clock } from '../common/clock.js';

interface Record_ {
  add: number;
  deleteKeys: Set<string>;
  timestamp: number;
}

export class CreateDeleteExpectations {
  private readonly map = new Map<string, Record_>();

  constructor(
    private readonly clock: Clock = realClock,
    private readonly timeoutMs = EXPECTATIONS_TIMEOUT_MS,
  ) {}

  satisfied(key: string): boolean {
    const e = this.map.get(key);
    if (!e || (e.add <= 0 && e.deleteKeys.size === 0)) return true;
    return this.clock.now() - e.timestamp > this.timeoutMs;
  }

  get(key: string): { add: number; del: number } | undefined {
    const e = this.map.get(key);
    return e ? { add: e.add, del: e.deleteKeys.size } : undefined;
  }

  expect(key: string, adds: number, deleteKeys: readonly string[]): void {
    this.map.set(key, { add: adds, deleteKeys: new Set(deleteKeys), timestamp: this.clock.now() });
  }

  creationObserved(key: string): void {
    const e = this.map.get(key);
    if (e) e.add--;
  }

  deletionObserved(key: string, podKey: string): void {
    this.map.get(key)?.deleteKeys.delete(podKey);
  }

  deleteExpectations(key: string): void {
    this.map.delete(key);
  }
}
