// The newest committed value of recently written or read keys, so that reading an object just
// written (an update's read-modify-write, a create followed by its pod's binding and status) does
// not go back to SQLite. It is exact, not a hint: the store holds the database file exclusively and
// every write goes through it, which updates or drops the entry once the write has committed.
import type { KeyValue } from '../types.js';

/** Values kept by default: about as much as SQLite's own page cache. */
export const DEFAULT_LATEST_VALUES_BYTES = 16 * 1024 * 1024;

export class LatestValues {
  private readonly entries = new Map<string, KeyValue>();
  private bytes = 0;

  constructor(private readonly budgetBytes = DEFAULT_LATEST_VALUES_BYTES) {}

  get(key: string): KeyValue | undefined {
    const kv = this.entries.get(key);
    if (kv) {
      // Most recently used last: eviction takes from the front.
      this.entries.delete(key);
      this.entries.set(key, kv);
    }
    return kv;
  }

  /** Records a live key's committed value. */
  set(kv: KeyValue): void {
    this.delete(kv.key);
    const size = kv.key.length + kv.value.length;
    if (size > this.budgetBytes) return;
    this.entries.set(kv.key, Object.freeze({ ...kv }));
    this.bytes += size;
    for (const [key, old] of this.entries) {
      if (this.bytes <= this.budgetBytes) break;
      this.entries.delete(key);
      this.bytes -= old.key.length + old.value.length;
    }
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.bytes -= old.key.length + old.value.length;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
