// The storage contract: an MVCC key-value store with etcd v3's semantics.
// Every backend (sqlite, etcd, memory) implements it and passes the shared conformance suite;
// the API server uses nothing else. Revisions are global and monotonic and become resourceVersion.

/** One stored version of a key. Revisions are positive integers, unique across the whole store. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** Revision at which this key was (last) created. */
  readonly createRevision: number;
  /** Revision of the write that produced this version. */
  readonly modRevision: number;
}

export type WatchEventType = 'create' | 'update' | 'delete';

export interface WatchEvent {
  readonly type: WatchEventType;
  /** The revision of this change. For a delete, the revision of the deletion itself. */
  readonly revision: number;
  /** The new value; for a delete, the value as it was just before the deletion (with its old modRevision). */
  readonly kv: KeyValue;
  /** The value before this change (update and delete only). */
  readonly prevKv?: KeyValue;
}

export interface WriteOptions {
  /** Delete the key automatically this many seconds after the write (upstream uses it for Events). */
  readonly ttlSeconds?: number;
}

export interface ListOptions {
  /** At most this many items; 0 or absent means no limit. */
  readonly limit?: number;
  /** Start strictly after this key (the last key of the previous page). */
  readonly after?: string;
  /** Read as of this revision; absent means the current one. Fails with CompactedError if compacted away. */
  readonly revision?: number;
}

export interface ListResult {
  readonly items: readonly KeyValue[];
  /** The revision the list was read at; a continuation must pass it back to stay consistent. */
  readonly revision: number;
  /** True when more keys with this prefix follow the last item. */
  readonly more: boolean;
  /** Number of keys with this prefix after the last item returned (upstream's remainingItemCount). */
  readonly remaining: number;
}

export interface WatchOptions {
  /**
   * Deliver every change with a revision strictly greater than this one, in revision order, exactly once.
   * A revision older than the compacted revision fails with CompactedError (through onError).
   */
  readonly afterRevision: number;
  /** Also deliver the previous value for updates and deletes. Backends always may; this is a hint. */
  readonly prevKv?: boolean;
}

export interface Watch {
  /** Stop the watch and release everything it holds. Idempotent. */
  cancel(): void;
}

export interface WatchHandlers {
  /** Called with batches of events, in revision order. */
  onEvents(events: readonly WatchEvent[]): void;
  /** Called at most once; after it the watch delivers nothing more. */
  onError(err: Error): void;
}

export interface Store {
  /** A short name for logs and metrics: 'sqlite', 'etcd', 'memory'. */
  readonly backend: string;
  /** The newest revision of the store (0 for an empty store that never had a write). */
  currentRevision(): Promise<number>;
  /** The newest compacted revision (0 if never compacted). */
  compactedRevision(): Promise<number>;

  get(key: string, opts?: { readonly revision?: number }): Promise<KeyValue | undefined>;
  /** Fails with KeyExistsError if the key exists. */
  create(key: string, value: string, opts?: WriteOptions): Promise<KeyValue>;
  /**
   * Replace the value if the key's modRevision equals expectedModRevision.
   * Fails with ConflictError (carrying the current value) or KeyNotFoundError.
   */
  update(key: string, value: string, expectedModRevision: number, opts?: WriteOptions): Promise<KeyValue>;
  /**
   * Delete the key (if expectedModRevision is given, only at that modRevision).
   * Returns the deleted value and the revision of the deletion. Fails with KeyNotFoundError or ConflictError.
   */
  delete(
    key: string,
    expectedModRevision?: number,
  ): Promise<{ readonly kv: KeyValue; readonly revision: number }>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  count(prefix: string): Promise<{ readonly count: number; readonly revision: number }>;
  watch(prefix: string, opts: WatchOptions, handlers: WatchHandlers): Watch;
  /** Discard history at or below this revision (the state as of it is kept). */
  compact(revision: number): Promise<void>;
  /** Release the backend; pending watches end with an error. */
  close(): Promise<void>;
}
