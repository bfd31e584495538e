// The in-memory backend: full MVCC semantics (history for watches and old reads until compacted,
// TTL, compaction) without durability. Tests and `--storage memory` use it; it is also the
// reference the conformance suite was written against.
import {
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  UnavailableError,
  validateKey,
  validateTtl,
  validateValue,
} from '../errors.js';
import {
  compareKeys,
  resolveReadRevision,
  validateLimit,
  validatePrefix,
  validateRevision,
} from '../keys.js';
import { settle } from '../settle.js';
import { TtlTracker } from '../ttl.js';
import type {
  KeyValue,
  ListOptions,
  ListResult,
  Store,
  Watch,
  WatchEvent,
  WatchHandlers,
  WatchOptions,
  WriteOptions,
} from '../types.js';
import { WatchHub } from '../watch-hub.js';
import { createLogger } from '../../util/log.js';

/** One version of a key: its value, or a tombstone (kv undefined) at the revision of the delete. */
interface Version {
  readonly revision: number;
  readonly kv: KeyValue | undefined;
}

export class MemoryStore implements Store {
  readonly backend = 'memory';
  private revision = 0;
  private compactRev = 0;
  /** Every change after the compacted revision, in revision order (revisions here are contiguous). */
  private log: WatchEvent[] = [];
  /** Versions of each key, oldest first. */
  private readonly versions = new Map<string, Version[]>();
  /** Keys of `versions`, in byte order, for prefix ranges. */
  private sortedKeys: string[] = [];
  private readonly hub: WatchHub;
  private readonly ttl: TtlTracker;
  private closed = false;

  constructor() {
    const log = createLogger('storage.memory');
    this.hub = new WatchHub(
      'memory',
      {
        replay: (prefix, after, upTo, limit) => this.replay(prefix, after, upTo, limit),
        compacted: () => this.compactRev,
      },
      log,
    );
    this.ttl = new TtlTracker((key, modRevision) => {
      const cur = this.current(key);
      if (cur && cur.modRevision === modRevision) this.applyDelete(key, cur);
    });
  }

  /** Open watches, for leak checks. */
  get openWatches(): number {
    return this.hub.size;
  }

  private check(): void {
    if (this.closed) throw new UnavailableError('store is closed');
  }

  currentRevision(): Promise<number> {
    return settle(() => {
      this.check();
      return this.revision;
    });
  }

  compactedRevision(): Promise<number> {
    return settle(() => {
      this.check();
      return this.compactRev;
    });
  }

  private readRevision(revision: number | undefined): number {
    return resolveReadRevision(revision, this.revision, this.compactRev);
  }

  private current(key: string): KeyValue | undefined {
    const vs = this.versions.get(key);
    return vs?.[vs.length - 1]?.kv;
  }

  private at(key: string, revision: number): KeyValue | undefined {
    const vs = this.versions.get(key);
    if (!vs) return undefined;
    for (let i = vs.length - 1; i >= 0; i--) {
      const v = vs[i]!;
      if (v.revision <= revision) return v.kv;
    }
    return undefined;
  }

  get(key: string, opts?: { readonly revision?: number }): Promise<KeyValue | undefined> {
    return settle(() => {
      this.check();
      validateKey(key);
      const rev = this.readRevision(opts?.revision);
      return rev === this.revision ? this.current(key) : this.at(key, rev);
    });
  }

  private addVersion(key: string, v: Version): void {
    let vs = this.versions.get(key);
    if (!vs) {
      vs = [];
      this.versions.set(key, vs);
      const i = this.lowerBound(key);
      this.sortedKeys.splice(i, 0, key);
    }
    vs.push(v);
  }

  /** Index of the first key in sortedKeys that is >= key. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sortedKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.sortedKeys[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private commit(ev: WatchEvent, expiresAt: number | undefined): void {
    this.log.push(ev);
    if (ev.type === 'delete') this.ttl.clear(ev.kv.key);
    else this.ttl.set(ev.kv.key, ev.kv.modRevision, expiresAt);
    this.hub.publish([ev]);
  }

  private expiry(opts: WriteOptions | undefined): number | undefined {
    return opts?.ttlSeconds === undefined ? undefined : Date.now() + opts.ttlSeconds * 1000;
  }

  create(key: string, value: string, opts?: WriteOptions): Promise<KeyValue> {
    return settle(() => {
      this.check();
      validateKey(key);
      validateValue(value);
      validateTtl(opts?.ttlSeconds);
      if (this.current(key)) throw new KeyExistsError(key);
      const revision = ++this.revision;
      const kv: KeyValue = Object.freeze({ key, value, createRevision: revision, modRevision: revision });
      this.addVersion(key, { revision, kv });
      this.commit(Object.freeze({ type: 'create', revision, kv }), this.expiry(opts));
      return kv;
    });
  }

  update(key: string, value: string, expectedModRevision: number, opts?: WriteOptions): Promise<KeyValue> {
    return settle(() => {
      this.check();
      validateKey(key);
      validateValue(value);
      validateTtl(opts?.ttlSeconds);
      validateRevision('expectedModRevision', expectedModRevision);
      const prev = this.current(key);
      if (!prev) throw new KeyNotFoundError(key);
      if (prev.modRevision !== expectedModRevision) throw new ConflictError(key, prev);
      const revision = ++this.revision;
      const kv: KeyValue = Object.freeze({
        key,
        value,
        createRevision: prev.createRevision,
        modRevision: revision,
      });
      this.addVersion(key, { revision, kv });
      this.commit(Object.freeze({ type: 'update', revision, kv, prevKv: prev }), this.expiry(opts));
      return kv;
    });
  }

  delete(
    key: string,
    expectedModRevision?: number,
  ): Promise<{ readonly kv: KeyValue; readonly revision: number }> {
    return settle(() => {
      this.check();
      validateKey(key);
      validateRevision('expectedModRevision', expectedModRevision);
      const prev = this.current(key);
      if (!prev) throw new KeyNotFoundError(key);
      if (expectedModRevision !== undefined && prev.modRevision !== expectedModRevision)
        throw new ConflictError(key, prev);
      return { kv: prev, revision: this.applyDelete(key, prev) };
    });
  }

  private applyDelete(key: string, prev: KeyValue): number {
    const revision = ++this.revision;
    this.addVersion(key, { revision, kv: undefined });
    this.commit(Object.freeze({ type: 'delete', revision, kv: prev, prevKv: prev }), undefined);
    return revision;
  }

  /** Live keys with the prefix, after `after`, as of revision: calls visit until it returns false. */
  private scan(
    prefix: string,
    after: string | undefined,
    revision: number,
    visit: (kv: KeyValue) => boolean,
  ): void {
    const start = after !== undefined && compareKeys(after, prefix) >= 0 ? after : prefix;
    let i = this.lowerBound(start);
    for (; i < this.sortedKeys.length; i++) {
      const key = this.sortedKeys[i]!;
      if (!key.startsWith(prefix)) break;
      if (after !== undefined && key === after) continue;
      const kv = revision === this.revision ? this.current(key) : this.at(key, revision);
      if (kv && !visit(kv)) return;
    }
  }

  list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    return settle(() => {
      this.check();
      validatePrefix(prefix);
      validateLimit(opts?.limit);
      if (opts?.after !== undefined) validateKey(opts.after);
      const revision = this.readRevision(opts?.revision);
      const limit = opts?.limit ?? 0;
      const items: KeyValue[] = [];
      let remaining = 0;
      this.scan(prefix, opts?.after, revision, (kv) => {
        if (limit === 0 || items.length < limit) items.push(kv);
        else remaining++;
        return true;
      });
      return { items, revision, more: remaining > 0, remaining };
    });
  }

  count(prefix: string): Promise<{ readonly count: number; readonly revision: number }> {
    return settle(() => {
      this.check();
      validatePrefix(prefix);
      let count = 0;
      this.scan(prefix, undefined, this.revision, () => {
        count++;
        return true;
      });
      return { count, revision: this.revision };
    });
  }

  private replay(
    prefix: string,
    after: number,
    upTo: number,
    limit: number,
  ): { events: WatchEvent[]; reached: number } {
    const base = this.log[0]?.revision ?? this.revision + 1;
    const events: WatchEvent[] = [];
    let i = Math.max(after + 1 - base, 0);
    let reached = after;
    for (; i < this.log.length && events.length < limit; i++) {
      const ev = this.log[i]!;
      if (ev.revision > upTo) break;
      reached = ev.revision;
      if (ev.kv.key.startsWith(prefix)) events.push(ev);
    }
    if (events.length < limit) reached = upTo;
    return { events, reached };
  }

  watch(prefix: string, opts: WatchOptions, handlers: WatchHandlers): Watch {
    this.check();
    validatePrefix(prefix);
    validateRevision('afterRevision', opts.afterRevision);
    return this.hub.add(prefix, opts.afterRevision, this.revision, handlers);
  }

  compact(revision: number): Promise<void> {
    return settle(() => {
      this.check();
      validateRevision('revision', revision);
      if (revision > this.revision) throw new FutureRevisionError(revision, this.revision);
      if (revision <= this.compactRev) return;
      this.compactRev = revision;
      this.hub.compacted(revision);
      const keep: string[] = [];
      for (const key of this.sortedKeys) {
        const vs = this.versions.get(key)!;
        let newest = -1;
        for (let i = vs.length - 1; i >= 0; i--) {
          if (vs[i]!.revision <= revision) {
            newest = i;
            break;
          }
        }
        // The newest version at or below the compacted revision is the state as of it; a tombstone
        // there means the key did not exist, so it goes too.
        let drop = newest;
        if (newest >= 0 && vs[newest]!.kv === undefined) drop = newest + 1;
        if (drop > 0) vs.splice(0, drop);
        if (vs.length === 0) this.versions.delete(key);
        else keep.push(key);
      }
      this.sortedKeys = keep;
      const cut = this.log.findIndex((ev) => ev.revision > revision);
      this.log = cut < 0 ? [] : this.log.slice(cut);
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.ttl.close();
      this.hub.failAll(new UnavailableError('store is closed'));
    }
    return Promise.resolve();
  }
}
