// What admission plugins read and write: objects straight from the store (the API server's own
// source of truth), decoded to the served version of the kind the registry currently knows.
import type { KubeObject } from '../../api/meta.js';
import type { ResourceDescription } from '../../api/types.js';
import {
  ConflictError,
  InvalidInputError,
  KeyNotFoundError,
  UnavailableError,
} from '../../storage/errors.js';
import type { Store, Watch } from '../../storage/types.js';
import { createLogger } from '../../util/log.js';
import { encodeForStorage, toServed, toStorage } from '../objects.js';
import { storageKey, storagePrefix, type ResourceRegistry } from '../resource-registry.js';

const log = createLogger('apiserver.admission');

/**
 * Kinds the admission plugins list on every pod write (LimitRanger, ResourceQuota, Priority): served
 * from memory, like upstream's informer-backed listers, instead of a store query per request.
 */
const CACHED_KINDS = new Set(['/LimitRange', '/ResourceQuota', 'scheduling.k8s.io/PriorityClass']);

export interface AdmissionContext {
  readonly store: Store;
  readonly registry: ResourceRegistry;
}

/**
 * Every object of one kind, decoded, kept current by a store watch from the revision of its initial
 * list. The in-process backends publish a commit to their watchers before the write's promise
 * resolves, so a request that starts after a write has completed sees it. A failed watch
 * (compaction, store closed) drops the cache; the next read lists again.
 */
export class KindCache {
  private byNamespace = new Map<string, Map<string, KubeObject>>();
  private watch: Watch | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly desc: ResourceDescription,
    private readonly decode: (value: string, rev: number) => KubeObject,
  ) {}

  /** The cached objects of a namespace ('' for all); read-only. */
  async list(namespace: string): Promise<KubeObject[]> {
    this.ready ??= this.start();
    await this.ready;
    if (!this.desc.namespaced || namespace === '') {
      const out: KubeObject[] = [];
      for (const m of this.byNamespace.values()) out.push(...m.values());
      return out;
    }
    const m = this.byNamespace.get(namespace);
    return m ? [...m.values()] : [];
  }

  /** One cached object by storage key; read-only. */
  async get(key: string): Promise<KubeObject | undefined> {
    this.ready ??= this.start();
    await this.ready;
    return this.byNamespace.get(this.namespaceOf(key))?.get(key);
  }

  private async start(): Promise<void> {
    const prefix = storagePrefix(this.desc);
    const { items, revision } = await this.store.list(prefix);
    this.byNamespace = new Map();
    for (const kv of items) this.put(kv.key, kv.value, kv.modRevision);
    this.watch = this.store.watch(
      prefix,
      { afterRevision: revision },
      {
        onEvents: (events) => {
          for (const e of events) {
            if (e.type === 'delete') this.remove(e.kv.key);
            else this.put(e.kv.key, e.kv.value, e.kv.modRevision);
          }
        },
        onError: (err) => {
          if (!(err instanceof UnavailableError))
            log.info('admission cache watch ended; listing again on next use', { prefix, err: err.message });
          this.watch = undefined;
          this.ready = undefined;
        },
      },
    );
    // The watch replays from the list's revision on the next turn before it goes live: let it.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private namespaceOf(key: string): string {
    if (!this.desc.namespaced) return '';
    const rest = key.slice(storagePrefix(this.desc).length);
    return rest.slice(0, rest.indexOf('/'));
  }

  private put(key: string, value: string, rev: number): void {
    const ns = this.namespaceOf(key);
    let m = this.byNamespace.get(ns);
    if (!m) {
      m = new Map<string, KubeObject>();
      this.byNamespace.set(ns, m);
    }
    m.set(key, this.decode(value, rev));
  }

  private remove(key: string): void {
    const ns = this.namespaceOf(key);
    const m = this.byNamespace.get(ns);
    if (!m) return;
    m.delete(key);
    if (m.size === 0) this.byNamespace.delete(ns);
  }

  close(): void {
    this.watch?.cancel();
    this.watch = undefined;
    this.ready = undefined;
  }
}

export class ObjectAccess {
  private readonly caches = new Map<ResourceDescription, KindCache>();

  constructor(private readonly ctx: AdmissionContext) {}

  get registry(): ResourceRegistry {
    return this.ctx.registry;
  }

  desc(group: string, kind: string): ResourceDescription | undefined {
    return this.ctx.registry.byKind(group, kind);
  }

  private decode(desc: ResourceDescription, value: string, rev: number): KubeObject {
    const obj = JSON.parse(value) as KubeObject;
    obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: String(rev) };
    return toServed(desc, obj);
  }

  async get(group: string, kind: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    const desc = this.desc(group, kind);
    if (!desc) return undefined;
    try {
      const kv = await this.ctx.store.get(storageKey(desc, namespace, name));
      return kv ? this.decode(desc, kv.value, kv.modRevision) : undefined;
    } catch (err) {
      // A name no key can have (too long, NUL) names nothing.
      if (err instanceof InvalidInputError) return undefined;
      throw err;
    }
  }

  /** Every object of a kind, in one namespace ('' for all namespaces or a cluster-scoped kind). */
  async listDesc(desc: ResourceDescription, namespace: string): Promise<KubeObject[]> {
    const prefix = desc.namespaced && namespace ? `${storagePrefix(desc)}${namespace}/` : storagePrefix(desc);
    const out: KubeObject[] = [];
    let after: string | undefined;
    let revision: number | undefined;
    for (;;) {
      const page = await this.ctx.store.list(prefix, { limit: 500, after, revision });
      revision = page.revision;
      for (const kv of page.items) out.push(this.decode(desc, kv.value, kv.modRevision));
      if (!page.more || page.items.length === 0) break;
      after = page.items[page.items.length - 1]!.key;
    }
    return out;
  }

  /**
   * Every object of a kind in a namespace; for the kinds admission reads on every pod write, from
   * memory. Treat the objects as read-only.
   */
  async list(group: string, kind: string, namespace: string): Promise<KubeObject[]> {
    const desc = this.desc(group, kind);
    if (!desc) return [];
    if (!CACHED_KINDS.has(`${group}/${kind}`)) return this.listDesc(desc, namespace);
    let cache = this.caches.get(desc);
    if (!cache) {
      cache = new KindCache(this.ctx.store, desc, (value, rev) => this.decode(desc, value, rev));
      this.caches.set(desc, cache);
    }
    return cache.list(namespace);
  }

  /** Every object of a kind in a namespace, straight from the store (after a conflict, say). */
  async listLive(group: string, kind: string, namespace: string): Promise<KubeObject[]> {
    const desc = this.desc(group, kind);
    return desc ? this.listDesc(desc, namespace) : [];
  }

  /** Stops following the store for the cached kinds. */
  close(): void {
    for (const c of this.caches.values()) c.close();
    this.caches.clear();
  }

  /**
   * Replaces an object if it is still at its resourceVersion; returns the stored object, or
   * undefined when someone else wrote it first (the caller re-reads and retries).
   */
  async update(group: string, kind: string, obj: KubeObject): Promise<KubeObject | undefined> {
    const desc = this.desc(group, kind);
    if (!desc) return undefined;
    const key = storageKey(desc, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
    try {
      const kv = await this.ctx.store.update(
        key,
        encodeForStorage(toStorage(desc, obj)),
        Number(obj.metadata.resourceVersion),
      );
      return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(kv.modRevision) } };
    } catch (err) {
      if (err instanceof ConflictError || err instanceof KeyNotFoundError) return undefined;
      throw err;
    }
  }
}
