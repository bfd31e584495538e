// What admission plugins read and write: objects straight from the store (the API server's own
// source of truth), decoded to the served version of the kind the registry currently knows.
import type { KubeObject } from '../../api/meta.js';
import type { ResourceDescription } from '../../api/types.js';
import { ConflictError, InvalidInputError, KeyNotFoundError } from '../../storage/errors.js';
import type { Store } from '../../storage/types.js';
import { encodeForStorage, toServed, toStorage } from '../objects.js';
import { storageKey, storagePrefix, type ResourceRegistry } from '../resource-registry.js';

export interface AdmissionContext {
  readonly store: Store;
  readonly registry: ResourceRegistry;
}

export class ObjectAccess {
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

  async list(group: string, kind: string, namespace: string): Promise<KubeObject[]> {
    const desc = this.desc(group, kind);
    return desc ? this.listDesc(desc, namespace) : [];
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
