// Shared informers, as client-go's tools/cache: one list-then-watch loop per resource feeding an
// indexed cache of frozen objects and any number of event handlers.
//
// The loop (upstream's reflector): list in pages, replace the cache with the result, then watch from
// the list's resourceVersion with bookmarks. A watch that ends is reopened from the last resourceVersion
// seen; connection failures back off and reopen the watch the same way (the server probably still has
// the history); only a 410 (the history is compacted) or "resourceVersion too large" (the server lost
// its data) forces a relist. A relist is diffed against the cache, so handlers see each change once:
// adds, updates whose resourceVersion moved, and deletes of objects that vanished meanwhile, which
// arrive as DeletedFinalStateUnknown tombstones holding the last state known.
//
// Cached objects are deep-frozen: consumers copy (structuredClone) before changing anything.
import { StatusError, type Status } from '../api/errors.js';
import { isPlainObject, type KubeObject } from '../api/meta.js';
import { createLogger, type Logger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import { labelSelectorMatcher } from './labels.js';
import type { ResourceRef, RestClient, WatchEvent, WatchHandle } from './rest.js';
import { refKey } from './typed-refs.js';

// ---------------------------------------------------------------------------------------------
// Keys, tombstones, freezing

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones (upstream's MetaNamespaceKeyFunc). */
export function metaNamespaceKey(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  const name = obj.metadata.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function splitMetaNamespaceKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  if (slash < 0) return { namespace: '', name: key };
  if (key.indexOf('/', slash + 1) >= 0) throw new Error(`unexpected key format: "${key}"`);
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * Handed to onDelete when an object disappeared while the watch was not looking (found missing on a
 * relist): `obj` is the last state the cache knew, which may be stale.
 */
export class DeletedFinalStateUnknown<T extends KubeObject = KubeObject> {
  constructor(
    readonly key: string,
    readonly obj: T,
  ) {
    Object.freeze(this);
  }
}

export function isDeletedFinalStateUnknown<T extends KubeObject>(
  v: T | DeletedFinalStateUnknown<T>,
): v is DeletedFinalStateUnknown<T> {
  return v instanceof DeletedFinalStateUnknown;
}

/** The object an onDelete argument stands for, tombstone or not. */
export function deletedObject<T extends KubeObject>(v: T | DeletedFinalStateUnknown<T>): T {
  return v instanceof DeletedFinalStateUnknown ? v.obj : v;
}

/** The key for a handler argument, tombstones included (upstream's DeletionHandlingMetaNamespaceKeyFunc). */
export function deletionHandlingKey<T extends KubeObject>(v: T | DeletedFinalStateUnknown<T>): string {
  return v instanceof DeletedFinalStateUnknown ? v.key : metaNamespaceKey(v);
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/** A mutable deep copy of a cached object. */
export function deepCopy<T>(value: T): T {
  return structuredClone(value);
}

// ---------------------------------------------------------------------------------------------
// Indexer

/** Maps an object to the index values it is filed under. */
export type IndexFunc<T extends KubeObject> = (obj: T) => string[];

export const NAMESPACE_INDEX = 'namespace';

export function namespaceIndexFunc(obj: KubeObject): string[] {
  return [obj.metadata.namespace ?? ''];
}

/** A thread-unsafe (single-threaded) keyed store with named indexes, upstream's cache.Indexer. */
export class Indexer<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexers(indexers);
  }

  /** Adds indexes; allowed at any time (existing items are indexed at once). */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`indexer conflict: "${name}" already exists`);
      this.indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) this.fileUnder(index, fn, key, obj);
    }
  }

  private fileUnder(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const value of fn(obj)) {
      let set = index.get(value);
      if (!set) index.set(value, (set = new Set()));
      set.add(key);
    }
  }

  private unfile(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const value of fn(obj)) {
      const set = index.get(value);
      if (!set) continue;
      set.delete(key);
      if (set.size === 0) index.delete(value);
    }
  }

  /** Stores obj under key; returns the object it replaced. */
  upsert(key: string, obj: T): T | undefined {
    const old = this.items.get(key);
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      if (old) this.unfile(index, fn, key, old);
      this.fileUnder(index, fn, key, obj);
    }
    this.items.set(key, obj);
    return old;
  }

  /** Removes key; returns the object removed. */
  remove(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    for (const [name, fn] of this.indexers) this.unfile(this.indices.get(name)!, fn, key, old);
    this.items.delete(key);
    return old;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  get size(): number {
    return this.items.size;
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  /** Keys filed under value in the named index. */
  indexKeys(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`index "${indexName}" does not exist`);
    return [...(index.get(value) ?? [])];
  }

  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((k) => this.items.get(k)!);
  }

  /** Every value the named index holds. */
  listIndexValues(indexName: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`index "${indexName}" does not exist`);
    return [...index.keys()];
  }

  /** Objects that share an index value with obj in the named index. */
  indexMatches(indexName: string, obj: T): T[] {
    const fn = this.indexers.get(indexName);
    if (!fn) throw new Error(`index "${indexName}" does not exist`);
    const keys = new Set<string>();
    for (const v of fn(obj)) for (const k of this.indexKeys(indexName, v)) keys.add(k);
    return [...keys].map((k) => this.items.get(k)!);
  }

  hasIndex(indexName: string): boolean {
    return this.indexers.has(indexName);
  }
}

// ---------------------------------------------------------------------------------------------
// Lister

/** Read access to an informer's cache. Returned objects are frozen. */
export interface Lister<T extends KubeObject> {
  /** All objects, or those of one namespace; optionally filtered by a label selector string or a predicate. */
  list(namespace?: string, filter?: string | ((obj: T) => boolean)): T[];
  get(namespace: string | undefined, name: string): T | undefined;
  byIndex(indexName: string, value: string): T[];
}

function makeFilter<T extends KubeObject>(
  filter: string | ((obj: T) => boolean) | undefined,
): (obj: T) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter === 'function') return filter;
  const m = labelSelectorMatcher(filter);
  return (obj) => m(obj.metadata.labels);
}

export function listerFor<T extends KubeObject>(store: Indexer<T>): Lister<T> {
  return {
    list(namespace, filter) {
      const f = makeFilter(filter);
      const objs =
        namespace !== undefined && namespace !== '' && store.hasIndex(NAMESPACE_INDEX)
          ? store.byIndex(NAMESPACE_INDEX, namespace)
          : store
              .list()
              .filter(
                (o) => namespace === undefined || namespace === '' || o.metadata.namespace === namespace,
              );
      return objs.filter(f);
    },
    get: (namespace, name) => store.get(keyOf(namespace, name)),
    byIndex: (indexName, value) => store.byIndex(indexName, value),
  };
}

// ---------------------------------------------------------------------------------------------
// Event handlers

export interface ResourceEventHandler<T extends KubeObject> {
  /** isInInitialList: the object came with the first list (or is replayed to a handler added late). */
  onAdd?(obj: T, isInInitialList: boolean): void;
  /** Also called with old === new on a periodic resync. */
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

export interface HandlerRegistration {
  /** True once this handler has received every object of the informer's initial list. */
  hasSynced(): boolean;
  remove(): void;
}

interface Listener<T extends KubeObject> {
  readonly handler: ResourceEventHandler<T>;
  readonly resyncMs: number;
  nextResync: number;
  synced: boolean;
  removed: boolean;
}

// ---------------------------------------------------------------------------------------------
// Metrics

const listsTotal = metrics.counter('k8ts_informer_lists_total', 'Lists made by informers, by resource.');
const relistsTotal = metrics.counter(
  'k8ts_informer_relists_total',
  'Relists forced after the initial one (410 Expired or resourceVersion too large), by resource.',
);
const watchesTotal = metrics.counter(
  'k8ts_informer_watches_total',
  'Watches opened by informers, by resource.',
);
const watchEventsTotal = metrics.counter(
  'k8ts_informer_watch_events_total',
  'Watch events received, by resource and type.',
);
const watchErrorsTotal = metrics.counter(
  'k8ts_informer_watch_errors_total',
  'Watches that failed, by resource.',
);
const handlerErrorsTotal = metrics.counter(
  'k8ts_informer_handler_errors_total',
  'Event handlers that threw, by resource.',
);
const itemsGauge = metrics.gauge('k8ts_informer_items', 'Objects in the informer cache, by resource.');

// ---------------------------------------------------------------------------------------------
// Shared informer

export interface InformerOptions {
  /** Watch one namespace only (namespaced resources). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Default resync period for handlers that do not give one; 0 disables resync. */
  resyncPeriodMs?: number;
  /** Page size of lists (limit/continue). Default 500. */
  pageSize?: number;
  /** Back-off between failed lists or watches: starts at initialMs (800), doubles with jitter, up to maxMs (30 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Server-side watch timeout is picked at random in [minWatchTimeoutSeconds, 2×] (default 300). */
  minWatchTimeoutSeconds?: number;
  /** Additional named indexes (the namespace index is always there). */
  indexers?: Record<string, IndexFunc<KubeObject>>;
  /**
   * Drop metadata.managedFields from cached objects, as kube-controller-manager's informers do:
   * controllers never read them, and they are a large share of every object's memory.
   */
  stripManagedFields?: boolean;
}

type WatchResult =
  | { kind: 'stopped' }
  | { kind: 'relist'; reason: string; events: number; ms: number }
  | { kind: 'closed'; events: number; ms: number }
  | { kind: 'error'; err: Error; events: number; ms: number };

function isTooLargeResourceVersion(err: StatusError): boolean {
  if (err.status.details?.causes?.some((c) => c.reason === 'ResourceVersionTooLarge')) return true;
  return /too large resource version/i.test(err.message);
}

function isGone(err: unknown): boolean {
  return (
    err instanceof StatusError && (err.code === 410 || err.reason === 'Expired' || err.reason === 'Gone')
  );
}

export class SharedInformer<T extends KubeObject = KubeObject> implements Lister<T> {
  readonly store: Indexer<T>;
  private readonly log: Logger;
  private readonly name: string;
  private readonly listeners = new Set<Listener<T>>();
  private readonly syncWaiters = new Set<(synced: boolean) => void>();
  private readonly sleepers = new Set<() => void>();
  private readonly abort = new AbortController();
  private readonly lister: Lister<T>;
  private started = false;
  private stopped = false;
  private synced = false;
  private resourceVersion = '';
  private currentWatch: WatchHandle | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly client: RestClient,
    readonly ref: ResourceRef,
    private readonly opts: InformerOptions = {},
  ) {
    this.name = refKey(ref) + (opts.namespace ? ` ns=${opts.namespace}` : '');
    this.log = createLogger('informer').child(ref.plural);
    this.store = new Indexer<T>({ [NAMESPACE_INDEX]: namespaceIndexFunc });
    if (opts.indexers) this.store.addIndexers(opts.indexers);
    this.lister = listerFor(this.store);
  }

  private get labels(): { resource: string } {
    return { resource: refKey(this.ref) };
  }

  // ---- public API ----

  /**
   * Registers a handler. If the informer already has objects, the handler first gets an onAdd for
   * each (isInInitialList = true), so a late handler sees the same world as an early one.
   */
  addEventHandler(
    handler: ResourceEventHandler<T>,
    options: { resyncPeriodMs?: number } = {},
  ): HandlerRegistration {
    if (this.stopped) throw new Error(`informer for ${this.name} is stopped`);
    const resyncMs = options.resyncPeriodMs ?? this.opts.resyncPeriodMs ?? 0;
    const listener: Listener<T> = {
      handler,
      resyncMs,
      nextResync: Date.now() + resyncMs,
      synced: this.synced,
      removed: false,
    };
    for (const obj of this.store.list()) this.call(listener, 'add', () => handler.onAdd?.(obj, true));
    this.listeners.add(listener);
    this.scheduleResync();
    return {
      hasSynced: () => listener.synced,
      remove: () => {
        listener.removed = true;
        this.listeners.delete(listener);
        this.scheduleResync();
      },
    };
  }

  /** Adds named indexes (allowed before or after start). */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    this.store.addIndexers(indexers);
  }

  /** Starts the list/watch loop (idempotent). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.loop = this.run().catch((err: unknown) => {
      this.log.error('informer loop crashed', {
        resource: this.name,
        err: err instanceof Error ? err.message : String(err),
      });
    });
  }

  /** Ends the watch, the timers and any pending list; the cache stays readable. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.currentWatch?.stop();
    this.currentWatch = undefined;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    for (const wake of [...this.sleepers]) wake();
    for (const w of [...this.syncWaiters]) w(false);
    this.syncWaiters.clear();
  }

  /** Resolves once the loop has exited after stop(). */
  async whenStopped(): Promise<void> {
    await this.loop;
  }

  isStarted(): boolean {
    return this.started;
  }

  isStopped(): boolean {
    return this.stopped;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once the initial list is in the cache, false if stopped (or the signal aborts) first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (this.stopped || signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => done(false);
      const done = (ok: boolean): void => {
        this.syncWaiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      this.syncWaiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The resourceVersion of the last list, watch event or bookmark processed. */
  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  list(namespace?: string, filter?: string | ((obj: T) => boolean)): T[] {
    return this.lister.list(namespace, filter);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.lister.get(namespace, name);
  }

  getByKey(key: string): T | undefined {
    return this.store.get(key);
  }

  byIndex(indexName: string, value: string): T[] {
    return this.store.byIndex(indexName, value);
  }

  /** A read-only view for consumers that should not register handlers. */
  getLister(): Lister<T> {
    return this.lister;
  }

  // ---- delivery ----

  private call(listener: Listener<T>, what: string, fn: () => void): void {
    if (listener.removed) return;
    try {
      fn();
    } catch (err) {
      handlerErrorsTotal.inc(this.labels);
      this.log.error('event handler failed', {
        resource: this.name,
        notification: what,
        err: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private notifyAdd(obj: T, initial: boolean): void {
    for (const l of [...this.listeners]) this.call(l, 'add', () => l.handler.onAdd?.(obj, initial));
  }

  private notifyUpdate(oldObj: T, newObj: T): void {
    for (const l of [...this.listeners]) this.call(l, 'update', () => l.handler.onUpdate?.(oldObj, newObj));
  }

  private notifyDelete(obj: T | DeletedFinalStateUnknown<T>): void {
    for (const l of [...this.listeners]) this.call(l, 'delete', () => l.handler.onDelete?.(obj));
  }

  private scheduleResync(): void {
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    if (this.stopped) return;
    let next = Infinity;
    for (const l of this.listeners) if (l.resyncMs > 0) next = Math.min(next, l.nextResync);
    if (next === Infinity) return;
    this.resyncTimer = setTimeout(() => this.resync(), Math.max(0, next - Date.now()));
  }

  private resync(): void {
    this.resyncTimer = undefined;
    const now = Date.now();
    for (const l of this.listeners) {
      if (l.resyncMs <= 0 || l.nextResync > now) continue;
      l.nextResync = now + l.resyncMs;
      if (!this.synced) continue;
      for (const obj of this.store.list()) this.call(l, 'resync', () => l.handler.onUpdate?.(obj, obj));
    }
    this.scheduleResync();
  }

  // ---- cache updates ----

  private keyed(raw: unknown): { key: string; obj: T } | undefined {
    if (!isPlainObject(raw) || !isPlainObject(raw.metadata) || typeof raw.metadata.name !== 'string')
      return undefined;
    if (this.opts.stripManagedFields && raw.metadata.managedFields !== undefined)
      delete raw.metadata.managedFields;
    const obj = deepFreeze(raw as unknown as T);
    return { key: metaNamespaceKey(obj), obj };
  }

  /** Replaces the cache with a fresh list, telling handlers only what changed. */
  private replace(items: unknown[], resourceVersion: string): void {
    const initial = !this.synced;
    const seen = new Set<string>();
    for (const raw of items) {
      const k = this.keyed(raw);
      if (!k) continue;
      seen.add(k.key);
      const old = this.store.upsert(k.key, k.obj);
      if (!old) this.notifyAdd(k.obj, initial);
      else if (old.metadata.resourceVersion !== k.obj.metadata.resourceVersion) this.notifyUpdate(old, k.obj);
    }
    for (const key of this.store.listKeys()) {
      if (seen.has(key)) continue;
      const old = this.store.remove(key);
      if (old) this.notifyDelete(new DeletedFinalStateUnknown(key, old));
    }
    this.resourceVersion = resourceVersion;
    itemsGauge.set(this.store.size, this.labels);
    if (initial) {
      this.synced = true;
      for (const l of this.listeners) l.synced = true;
      for (const w of [...this.syncWaiters]) w(true);
      this.syncWaiters.clear();
    }
  }

  private applyEvent(event: WatchEvent): void {
    const rv = isPlainObject(event.object?.metadata) ? event.object.metadata.resourceVersion : undefined;
    switch (event.type) {
      case 'BOOKMARK':
        break;
      case 'ADDED':
      case 'MODIFIED': {
        const k = this.keyed(event.object);
        if (!k) {
          this.log.warn('watch event without an object name', { resource: this.name, type: event.type });
          return;
        }
        const old = this.store.upsert(k.key, k.obj);
        if (!old) this.notifyAdd(k.obj, false);
        else if (old.metadata.resourceVersion !== k.obj.metadata.resourceVersion)
          this.notifyUpdate(old, k.obj);
        break;
      }
      case 'DELETED': {
        const k = this.keyed(event.object);
        if (!k) return;
        // An object the cache does not hold was already reported deleted (by a relist): not twice.
        if (this.store.remove(k.key)) this.notifyDelete(k.obj);
        break;
      }
      case 'ERROR':
        return;
    }
    if (typeof rv === 'string' && rv !== '') this.resourceVersion = rv;
    itemsGauge.set(this.store.size, this.labels);
  }

  // ---- the list/watch loop ----

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.stopped) return resolve();
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private async listAll(): Promise<{ items: unknown[]; resourceVersion: string }> {
    const pageSize = this.opts.pageSize ?? 500;
    const base = { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector };
    const signal = this.abort.signal;
    listsTotal.inc(this.labels);
    let items: unknown[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    try {
      do {
        const page = await this.client.list(
          this.ref,
          this.opts.namespace,
          { ...base, limit: pageSize, continue: cont },
          { signal },
        );
        items = items.concat(page.items ?? []);
        resourceVersion = page.metadata?.resourceVersion ?? '';
        cont = page.metadata?.continue || undefined;
      } while (cont !== undefined && !this.stopped);
    } catch (err) {
      // The continue token expired between pages: fall back to one unpaginated list, as upstream's pager does.
      if (!isGone(err) || cont === undefined) throw err;
      this.log.info('continue token expired, listing without pagination', { resource: this.name });
      const all = await this.client.list(this.ref, this.opts.namespace, base, { signal });
      return { items: all.items ?? [], resourceVersion: all.metadata?.resourceVersion ?? '' };
    }
    return { items, resourceVersion };
  }

  private watchOnce(): Promise<WatchResult> {
    const minTimeout = this.opts.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(minTimeout * (1 + Math.random()));
    const startedAt = Date.now();
    let events = 0;
    watchesTotal.inc(this.labels);
    return new Promise<WatchResult>((resolve) => {
      let settled = false;
      const finish = (r: WatchResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        handle.stop();
        this.currentWatch = undefined;
        resolve(r);
      };
      // Client-side guard in case the server does not honour timeoutSeconds or the connection hangs.
      const guard = setTimeout(
        () => finish({ kind: 'closed', events, ms: Date.now() - startedAt }),
        (timeoutSeconds + 30) * 1000,
      );
      const handle: WatchHandle = this.client.watch(
        this.ref,
        this.opts.namespace,
        {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          timeoutSeconds,
        },
        (event) => {
          if (settled) return;
          events++;
          watchEventsTotal.inc({ ...this.labels, type: event.type });
          if (event.type === 'ERROR') {
            const err = new StatusError(event.object as unknown as Status);
            if (isGone(err))
              return finish({ kind: 'relist', reason: err.message, events, ms: Date.now() - startedAt });
            if (isTooLargeResourceVersion(err))
              return finish({ kind: 'relist', reason: err.message, events, ms: Date.now() - startedAt });
            return finish({ kind: 'error', err, events, ms: Date.now() - startedAt });
          }
          this.applyEvent(event);
        },
        (err) => {
          if (!err) return finish({ kind: 'closed', events, ms: Date.now() - startedAt });
          if (err instanceof StatusError && (isGone(err) || isTooLargeResourceVersion(err))) {
            return finish({ kind: 'relist', reason: err.message, events, ms: Date.now() - startedAt });
          }
          finish({ kind: 'error', err, events, ms: Date.now() - startedAt });
        },
      );
      this.currentWatch = { stop: () => finish({ kind: 'stopped' }) };
      if (this.stopped) finish({ kind: 'stopped' });
    });
  }

  private async run(): Promise<void> {
    const initialMs = this.opts.backoff?.initialMs ?? 800;
    const maxMs = this.opts.backoff?.maxMs ?? 30_000;
    let delay = initialMs;
    const backoff = (): number => {
      const d = Math.min(maxMs, delay * (1 + Math.random()));
      delay = Math.min(maxMs, delay * 2);
      return d;
    };
    let needList = true;
    let lists = 0;
    while (!this.stopped) {
      if (needList) {
        try {
          const { items, resourceVersion } = await this.listAll();
          if (this.stopped) break;
          if (lists++ > 0) relistsTotal.inc(this.labels);
          this.replace(items, resourceVersion);
          needList = false;
          delay = initialMs;
        } catch (err) {
          if (this.stopped) break;
          const wait = backoff();
          this.log.warn('list failed', {
            resource: this.name,
            err: err instanceof Error ? err.message : String(err),
            retryInMs: Math.round(wait),
          });
          await this.sleep(wait);
          continue;
        }
      }
      const result = await this.watchOnce();
      switch (result.kind) {
        case 'stopped':
          break;
        case 'relist':
          this.log.info('watch history gone, relisting', { resource: this.name, reason: result.reason });
          needList = true;
          // Relist at once after a watch that worked; back off if the server keeps refusing at once.
          if (result.events <= 1 && result.ms < 1000) await this.sleep(backoff());
          break;
        case 'closed':
          // A normal end: reopen at once, unless the watch ended immediately (then back off).
          if (result.events > 0 || result.ms >= 1000) delay = initialMs;
          else await this.sleep(backoff());
          break;
        case 'error': {
          watchErrorsTotal.inc(this.labels);
          if (result.events > 0) delay = initialMs;
          const wait = backoff();
          this.log.warn('watch failed, reopening from the last resourceVersion', {
            resource: this.name,
            resourceVersion: this.resourceVersion,
            err: result.err.message,
            retryInMs: Math.round(wait),
          });
          await this.sleep(wait);
          break;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Factory

export interface InformerFactoryOptions {
  /** Default resync period for every informer (0 = none). */
  resyncPeriodMs?: number;
  /** Restrict every informer to one namespace. */
  namespace?: string;
  backoff?: { initialMs?: number; maxMs?: number };
  pageSize?: number;
  minWatchTimeoutSeconds?: number;
  /** Every informer drops managedFields from what it caches (see InformerOptions). */
  stripManagedFields?: boolean;
}

/** One shared informer per resource (and namespace/selector), as upstream's SharedInformerFactory. */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedInformer>();
  private shutDown = false;

  constructor(
    private readonly client: RestClient,
    private readonly opts: InformerFactoryOptions = {},
  ) {}

  /**
   * The informer for ref (created on first use). Informers created after start() are started by the
   * next start() call, as upstream.
   */
  informerFor<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    opts: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
  ): SharedInformer<T> {
    if (this.shutDown) throw new Error('informer factory is shut down');
    const namespace = opts.namespace ?? this.opts.namespace;
    const key = [refKey(ref), namespace ?? '', opts.labelSelector ?? '', opts.fieldSelector ?? ''].join('|');
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new SharedInformer<KubeObject>(this.client, ref, {
        namespace: ref.namespaced ? namespace : undefined,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        resyncPeriodMs: this.opts.resyncPeriodMs,
        backoff: this.opts.backoff,
        pageSize: this.opts.pageSize,
        minWatchTimeoutSeconds: this.opts.minWatchTimeoutSeconds,
        stripManagedFields: this.opts.stripManagedFields,
      });
      this.informers.set(key, inf);
    }
    return inf as unknown as SharedInformer<T>;
  }

  start(): void {
    if (this.shutDown) return;
    for (const inf of this.informers.values()) inf.start();
  }

  /** Resolves true when every started informer has synced, false if one stops or the signal aborts. */
  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const started = [...this.informers.values()].filter((i) => i.isStarted());
    const results = await Promise.all(started.map((i) => i.waitForSync(signal)));
    return results.every(Boolean);
  }

  /** Stops every informer and waits for their loops to exit. */
  async shutdown(): Promise<void> {
    this.shutDown = true;
    for (const inf of this.informers.values()) inf.stop();
    await Promise.all([...this.informers.values()].map((i) => i.whenStopped()));
  }
}

/** Resolves true when all the given informers have synced (upstream's cache.WaitForCacheSync). */
export async function waitForCacheSync(
  signal: AbortSignal | undefined,
  ...informers: Array<{ waitForSync(s?: AbortSignal): Promise<boolean> }>
): Promise<boolean> {
  const results = await Promise.all(informers.map((i) => i.waitForSync(signal)));
  return results.every(Boolean);
}
