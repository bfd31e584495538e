// The etcd v3 backend, for clusters that already run etcd or want it for availability.
// Revisions are etcd's own; every write is one single-key transaction whose compare makes the
// optimistic concurrency of the Store contract (createRevision == 0 for create, modRevision == the
// expected one for update and delete), as upstream's storage/etcd3 does.
//
// A key prefix lets several clusters share one etcd. Revisions are then shared too, so a cluster
// sees gaps in its revisions: the contract only promises they increase.
import { Etcd3 } from 'etcd3';
import type {
  IDuplexStream,
  IKeyValue,
  IRequestOp,
  IResponseHeader,
  IWatchRequest,
  IWatchResponse,
} from 'etcd3';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  InvalidInputError,
  KeyExistsError,
  KeyNotFoundError,
  StorageError,
  UnavailableError,
  validateKey,
  validateTtl,
  validateValue,
} from '../errors.js';
import { validateLimit, validatePrefix, validateRevision } from '../keys.js';
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
import { createLogger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';

const log = createLogger('storage.etcd');
const requestSeconds = metrics.histogram(
  'k8ts_storage_etcd_request_duration_seconds',
  'etcd request latency.',
);
const writesTotal = metrics.counter(
  'k8ts_storage_writes_total',
  'Storage writes by backend, operation and result.',
);
const watchersGauge = metrics.gauge('k8ts_storage_watchers', 'Open storage watches.');

/**
 * Where the compacted revision is recorded. etcd compaction is global, so this key is shared by
 * every cluster of the etcd; a NUL first byte keeps it out of every prefix's key space.
 */
const COMPACT_KEY = Buffer.from('\0k8ts/compact-revision');

export interface EtcdStoreOptions {
  /** Client URLs, `http://host:port`. */
  readonly endpoints: readonly string[];
  /** Prepended to every key (for example "/cluster-a"); must not end with "/". Default none. */
  readonly keyPrefix?: string;
  /** Connection timeout in milliseconds (default 5000). */
  readonly dialTimeoutMs?: number;
}

const num = (v: string | number | undefined | null): number => Number(v ?? 0);

/** The first key after every key starting with prefix: the prefix with its last non-0xff byte incremented. */
function bytesPrefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff: the range has no end, which etcd spells as a single NUL byte.
  return Buffer.from([0]);
}

function isEtcdError(err: unknown, text: string): boolean {
  return err instanceof Error && err.message.includes(text);
}

export class EtcdStore implements Store {
  readonly backend = 'etcd';
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly prefixBytes: Buffer;
  private readonly watches = new Set<EtcdWatch>();
  /** Shared leases by TTL in seconds (see lease()). */
  private readonly leases = new Map<number, { id: string; grantedAt: number }>();
  private closed = false;

  constructor(private readonly opts: EtcdStoreOptions) {
    if (opts.endpoints.length === 0) throw new InvalidInputError('etcd: at least one endpoint is needed');
    const keyPrefix = opts.keyPrefix ?? '';
    if (keyPrefix.endsWith('/') || keyPrefix.includes('\0') || !keyPrefix.isWellFormed())
      throw new InvalidInputError(
        `etcd key prefix ${JSON.stringify(keyPrefix)} must not end with "/" or contain NUL`,
      );
    this.prefix = keyPrefix;
    this.prefixBytes = Buffer.from(keyPrefix);
    this.client = new Etcd3({
      hosts: [...opts.endpoints],
      dialTimeout: opts.dialTimeoutMs ?? 5000,
      // Values may be 3 MiB and a watch event carries two of them.
      grpcOptions: { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 },
    });
  }

  /** Open watches, for leak checks. */
  get openWatches(): number {
    return this.watches.size;
  }

  private check(): void {
    if (this.closed) throw new UnavailableError('store is closed');
  }

  private k(key: string): Buffer {
    return Buffer.concat([this.prefixBytes, Buffer.from(key)]);
  }

  private kv(r: IKeyValue): KeyValue {
    return {
      key: r.key.subarray(this.prefixBytes.length).toString(),
      value: r.value.toString(),
      createRevision: num(r.create_revision),
      modRevision: num(r.mod_revision),
    };
  }

  /** Time a request and translate etcd's errors into the contract's. */
  private async call<T>(what: string, fn: () => Promise<T>, requested?: number): Promise<T> {
    this.check();
    const start = performance.now();
    try {
      return await fn();
    } catch (err) {
      throw await this.mapError(err, requested);
    } finally {
      requestSeconds.observe((performance.now() - start) / 1000, { op: what });
    }
  }

  private async mapError(err: unknown, requested: number | undefined): Promise<Error> {
    if (err instanceof StorageError) return err;
    if (isEtcdError(err, 'required revision has been compacted'))
      return new CompactedError(requested ?? 0, await this.compactedRevision().catch(() => requested ?? 0));
    if (isEtcdError(err, 'required revision is a future revision'))
      return new FutureRevisionError(requested ?? 0, await this.currentRevision().catch(() => 0));
    if (isEtcdError(err, 'request is too large')) return new InvalidInputError('etcd: request is too large');
    const msg = err instanceof Error ? err.message : String(err);
    return new UnavailableError(`etcd ${this.opts.endpoints.join(',')}: ${msg.split('\n')[0]}`);
  }

  private async header(): Promise<IResponseHeader> {
    return (await this.client.kv.range({ key: COMPACT_KEY, count_only: true })).header;
  }

  async currentRevision(): Promise<number> {
    return this.call('range', async () => num((await this.header()).revision));
  }

  async compactedRevision(): Promise<number> {
    return this.call('range', async () => {
      const r = await this.client.kv.range({ key: COMPACT_KEY });
      return r.kvs[0] ? Number(r.kvs[0].value.toString()) : 0;
    });
  }

  async get(key: string, opts?: { readonly revision?: number }): Promise<KeyValue | undefined> {
    this.check();
    validateKey(key);
    validateRevision('revision', opts?.revision);
    const revision = opts?.revision || undefined;
    return this.call(
      'range',
      async () => {
        const r = await this.client.kv.range({ key: this.k(key), ...(revision ? { revision } : {}) });
        return r.kvs[0] ? this.kv(r.kvs[0]) : undefined;
      },
      revision,
    );
  }

  /**
   * A lease for a write with a TTL. Like upstream's lease manager, a lease is shared by the writes
   * of the same TTL within a short window (5% of the TTL, at most a minute) and granted for the TTL
   * plus that window, so a burst of Events does not become a burst of leases; a key then lives at
   * most the window longer than asked. Short TTLs get a lease of their own.
   */
  private async lease(opts: WriteOptions | undefined): Promise<string | undefined> {
    validateTtl(opts?.ttlSeconds);
    const ttl = opts?.ttlSeconds;
    if (ttl === undefined) return undefined;
    const window = Math.min(Math.floor(ttl * 0.05), 60);
    if (window < 1) return (await this.client.leaseClient.leaseGrant({ TTL: ttl })).ID;
    const now = Date.now();
    const cached = this.leases.get(ttl);
    if (cached && now - cached.grantedAt < window * 1000) return cached.id;
    const id = (await this.client.leaseClient.leaseGrant({ TTL: ttl + window })).ID;
    this.leases.set(ttl, { id, grantedAt: now });
    return id;
  }

  private readOp(key: Buffer): IRequestOp {
    return { request_range: { key } };
  }

  async create(key: string, value: string, opts?: WriteOptions): Promise<KeyValue> {
    this.check();
    validateKey(key);
    validateValue(value);
    validateTtl(opts?.ttlSeconds);
    const k = this.k(key);
    return this.call('txn', async () => {
      const lease = await this.lease(opts);
      const r = await this.client.kv.txn({
        compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: k, value: Buffer.from(value), ...(lease ? { lease } : {}) } }],
        failure: [],
      });
      if (!r.succeeded) {
        writesTotal.inc({ backend: 'etcd', op: 'create', result: 'KeyExistsError' });
        throw new KeyExistsError(key);
      }
      writesTotal.inc({ backend: 'etcd', op: 'create', result: 'ok' });
      const rev = num(r.header.revision);
      return { key, value, createRevision: rev, modRevision: rev };
    });
  }

  /** The error for a failed compare: the key is gone, or it is at another revision. */
  private failure(key: string, responses: { response_range?: { kvs: IKeyValue[] } }[]): StorageError {
    const cur = responses[0]?.response_range?.kvs[0];
    return cur ? new ConflictError(key, this.kv(cur)) : new KeyNotFoundError(key);
  }

  async update(
    key: string,
    value: string,
    expectedModRevision: number,
    opts?: WriteOptions,
  ): Promise<KeyValue> {
    this.check();
    validateKey(key);
    validateValue(value);
    validateTtl(opts?.ttlSeconds);
    validateRevision('expectedModRevision', expectedModRevision);
    const k = this.k(key);
    return this.call('txn', async () => {
      const lease = await this.lease(opts);
      const r = await this.client.kv.txn({
        compare: [
          { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision },
          // A missing key has modRevision 0; only an existing key may be updated.
          { key: k, target: 'Create', result: 'Greater', create_revision: 0 },
        ],
        success: [
          { request_put: { key: k, value: Buffer.from(value), prev_kv: true, ...(lease ? { lease } : {}) } },
        ],
        failure: [this.readOp(k)],
      });
      if (!r.succeeded) {
        const err = this.failure(key, r.responses);
        writesTotal.inc({ backend: 'etcd', op: 'update', result: err.name });
        throw err;
      }
      writesTotal.inc({ backend: 'etcd', op: 'update', result: 'ok' });
      const prev = r.responses[0]?.response_put?.prev_kv;
      const rev = num(r.header.revision);
      return { key, value, createRevision: prev ? num(prev.create_revision) : rev, modRevision: rev };
    });
  }

  async delete(
    key: string,
    expectedModRevision?: number,
  ): Promise<{ readonly kv: KeyValue; readonly revision: number }> {
    this.check();
    validateKey(key);
    validateRevision('expectedModRevision', expectedModRevision);
    const k = this.k(key);
    return this.call('txn', async () => {
      const r = await this.client.kv.txn({
        compare:
          expectedModRevision === undefined
            ? [{ key: k, target: 'Create', result: 'Greater', create_revision: 0 }]
            : [{ key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision }],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [this.readOp(k)],
      });
      const prev = r.succeeded ? r.responses[0]?.response_delete_range?.prev_kvs[0] : undefined;
      if (!prev) {
        const err = r.succeeded ? new KeyNotFoundError(key) : this.failure(key, r.responses);
        writesTotal.inc({ backend: 'etcd', op: 'delete', result: err.name });
        throw err;
      }
      writesTotal.inc({ backend: 'etcd', op: 'delete', result: 'ok' });
      return { kv: this.kv(prev), revision: num(r.header.revision) };
    });
  }

  async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    this.check();
    validatePrefix(prefix);
    validateLimit(opts?.limit);
    validateRevision('revision', opts?.revision);
    if (opts?.after !== undefined) validateKey(opts.after);
    const start = this.k(prefix);
    const end = bytesPrefixEnd(start);
    let from = start;
    if (opts?.after !== undefined) {
      const after = Buffer.concat([this.k(opts.after), Buffer.from([0])]);
      if (Buffer.compare(after, start) > 0) from = after;
    }
    const revision = opts?.revision || undefined;
    return this.call(
      'range',
      async () => {
        const r = await this.client.kv.range({
          key: from,
          range_end: end,
          ...(opts?.limit ? { limit: opts.limit } : {}),
          ...(revision ? { revision } : {}),
        });
        const items = r.kvs.map((x) => this.kv(x));
        // count is every key in [from, end) at that revision, the returned ones included.
        const remaining = Math.max(num(r.count) - items.length, 0);
        return { items, revision: revision ?? num(r.header.revision), more: r.more, remaining };
      },
      revision,
    );
  }

  async count(prefix: string): Promise<{ readonly count: number; readonly revision: number }> {
    this.check();
    validatePrefix(prefix);
    const start = this.k(prefix);
    return this.call('range', async () => {
      const r = await this.client.kv.range({
        key: start,
        range_end: bytesPrefixEnd(start),
        count_only: true,
      });
      return { count: num(r.count), revision: num(r.header.revision) };
    });
  }

  watch(prefix: string, opts: WatchOptions, handlers: WatchHandlers): Watch {
    this.check();
    validatePrefix(prefix);
    validateRevision('afterRevision', opts.afterRevision);
    const w = new EtcdWatch(this, this.k(prefix), opts.afterRevision, handlers);
    this.watches.add(w);
    watchersGauge.inc({ backend: 'etcd' });
    void w.start();
    return w;
  }

  /** @internal for EtcdWatch */
  openStream(): Promise<IDuplexStream<IWatchRequest, IWatchResponse>> {
    return this.client.watchClient.watch();
  }

  /** @internal for EtcdWatch */
  toEvent(ev: { type: string; kv: IKeyValue; prev_kv?: IKeyValue | null }): WatchEvent {
    const revision = num(ev.kv.mod_revision);
    const prevKv = ev.prev_kv ? this.kv(ev.prev_kv) : undefined;
    if (ev.type === 'Delete') {
      // etcd's delete event carries only the key; the contract wants the value as it was.
      const kv = prevKv ?? { key: this.kv(ev.kv).key, value: '', createRevision: 0, modRevision: 0 };
      return { type: 'delete', revision, kv, prevKv: kv };
    }
    const kv = this.kv(ev.kv);
    if (kv.createRevision === kv.modRevision) return { type: 'create', revision, kv };
    return prevKv ? { type: 'update', revision, kv, prevKv } : { type: 'update', revision, kv };
  }

  /** @internal for EtcdWatch */
  released(w: EtcdWatch): void {
    if (this.watches.delete(w)) watchersGauge.dec({ backend: 'etcd' });
  }

  async compact(revision: number): Promise<void> {
    this.check();
    validateRevision('revision', revision);
    await this.call(
      'compact',
      async () => {
        const current = num((await this.header()).revision);
        if (revision > current) throw new FutureRevisionError(revision, current);
        // Record the revision before compacting, so a reader of the record never trusts history
        // that is already gone. Compare-and-swap, as other clusters of this etcd may compact too.
        for (;;) {
          const r = await this.client.kv.range({ key: COMPACT_KEY });
          const rec = r.kvs[0];
          if (rec && Number(rec.value.toString()) >= revision) return;
          const t = await this.client.kv.txn({
            compare: [
              { key: COMPACT_KEY, target: 'Mod', result: 'Equal', mod_revision: rec ? rec.mod_revision : 0 },
            ],
            success: [{ request_put: { key: COMPACT_KEY, value: Buffer.from(String(revision)) } }],
            failure: [],
          });
          if (t.succeeded) break;
        }
        try {
          await this.client.kv.compact({ revision });
        } catch (err) {
          if (!isEtcdError(err, 'required revision has been compacted')) throw err;
        }
        log.info('compacted', { revision });
      },
      revision,
    );
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const w of [...this.watches]) w.fail(new UnavailableError('store is closed'));
      this.client.close();
    }
    return Promise.resolve();
  }
}

/** One etcd watch stream per Store watch: its own cancellation and its own compaction error. */
class EtcdWatch implements Watch {
  private stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  private done = false;

  constructor(
    private readonly store: EtcdStore,
    private readonly key: Buffer,
    private readonly afterRevision: number,
    private readonly handlers: WatchHandlers,
  ) {}

  async start(): Promise<void> {
    try {
      // etcd accepts a start revision equal to its compacted revision even when the history at it
      // is gone (a compacted tombstone); the contract refuses anything below the compacted revision.
      const compacted = await this.store.compactedRevision();
      if (this.afterRevision < compacted) throw new CompactedError(this.afterRevision, compacted);
      if (this.done) return;
      const stream = await this.store.openStream();
      if (this.done) {
        stream.cancel();
        return;
      }
      this.stream = stream;
      stream.on('data', (res) => this.onResponse(res));
      stream.on('error', (err) =>
        this.fail(new UnavailableError(`etcd watch failed: ${err.message.split('\n')[0]}`)),
      );
      stream.on('end', () => this.fail(new UnavailableError('etcd watch stream ended')));
      stream.write({
        create_request: {
          key: this.key,
          range_end: bytesPrefixEnd(this.key),
          start_revision: this.afterRevision + 1,
          prev_kv: true,
        },
      });
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onResponse(res: IWatchResponse): void {
    if (this.done) return;
    if (res.canceled || num(res.compact_revision) > 0) {
      const compacted = num(res.compact_revision);
      this.fail(
        compacted > 0
          ? new CompactedError(this.afterRevision, compacted)
          : new UnavailableError(`etcd cancelled the watch: ${res.cancel_reason || 'no reason given'}`),
      );
      return;
    }
    if (res.events.length === 0) return;
    const events = res.events.map((e) => this.store.toEvent(e));
    try {
      this.handlers.onEvents(events);
    } catch (err) {
      log.error('watch handler threw', { err: err instanceof Error ? err : String(err) });
    }
  }

  private release(): void {
    this.done = true;
    this.store.released(this);
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      // Cancelling makes the stream report an error and end; nobody listens any more.
      s.on('error', () => undefined);
      s.cancel();
    }
  }

  fail(err: Error): void {
    if (this.done) return;
    this.release();
    try {
      this.handlers.onError(err);
    } catch (e) {
      log.error('watch error handler threw', { err: e instanceof Error ? e : String(e) });
    }
  }

  cancel(): void {
    if (this.done) return;
    this.release();
  }
}
