// The owner/dependent graph the garbage collector walks, derived from the informer caches rather
// than kept beside them: every watched resource's cache is indexed by UID and by owner UID, so
// "the object with this UID" and "the dependents of this UID" are index lookups across resources.
// Nothing here is mutated by event handlers, so the graph can never drift from the caches.
import type { KubeObject } from '../../api/meta.js';
import { parseApiVersion } from '../../api/meta.js';
import type { SharedInformer } from '../../client/informer.js';
import { groupResource, type DiscoveredResource } from './discovery.js';

export const UID_INDEX = 'gc-uid';
export const OWNER_UID_INDEX = 'gc-owner-uid';

export function uidIndexFunc(obj: KubeObject): string[] {
  return obj.metadata.uid ? [obj.metadata.uid] : [];
}

export function ownerUidIndexFunc(obj: KubeObject): string[] {
  return [...new Set((obj.metadata.ownerReferences ?? []).map((r) => r.uid))];
}

export interface GraphNode {
  readonly obj: KubeObject;
  readonly res: DiscoveredResource;
}

export interface GcGraph {
  /** The cached object with this UID, in whichever watched resource holds it. */
  byUid(uid: string): GraphNode | undefined;
  /** Cached objects with an ownerReference to uid. */
  dependents(uid: string): GraphNode[];
  /** The served resource of an owner reference's kind (any version of its group). */
  resourceFor(apiVersion: string, kind: string): DiscoveredResource | undefined;
}

/** A GcGraph over a set of shared informers, one per watched resource. */
export class InformerGraph implements GcGraph {
  private readonly monitors = new Map<string, { res: DiscoveredResource; inf: SharedInformer }>();
  private kinds = new Map<string, DiscoveredResource>();

  /** Starts tracking a resource; returns false if it was already tracked. */
  add(res: DiscoveredResource, inf: SharedInformer): boolean {
    const key = groupResource(res);
    if (this.monitors.has(key)) return false;
    if (!inf.store.hasIndex(UID_INDEX)) inf.addIndexers({ [UID_INDEX]: uidIndexFunc });
    if (!inf.store.hasIndex(OWNER_UID_INDEX)) inf.addIndexers({ [OWNER_UID_INDEX]: ownerUidIndexFunc });
    this.monitors.set(key, { res, inf });
    return true;
  }

  /** Stops consulting a resource the server no longer serves. */
  remove(key: string): void {
    this.monitors.delete(key);
  }

  has(key: string): boolean {
    return this.monitors.has(key);
  }

  keys(): string[] {
    return [...this.monitors.keys()];
  }

  /** Every resource the server serves (not only watched ones), for resolving owner kinds. */
  setKinds(all: readonly DiscoveredResource[]): void {
    const kinds = new Map<string, DiscoveredResource>();
    for (const r of all)
      if (r.kind && !kinds.has(`${r.group}/${r.kind}`)) kinds.set(`${r.group}/${r.kind}`, r);
    this.kinds = kinds;
  }

  hasSynced(): boolean {
    return [...this.monitors.values()].every((m) => m.inf.hasSynced());
  }

  byUid(uid: string): GraphNode | undefined {
    for (const { res, inf } of this.monitors.values()) {
      const hit = inf.store.byIndex(UID_INDEX, uid)[0];
      if (hit) return { obj: hit, res };
    }
    return undefined;
  }

  dependents(uid: string): GraphNode[] {
    const out: GraphNode[] = [];
    for (const { res, inf } of this.monitors.values())
      for (const obj of inf.store.byIndex(OWNER_UID_INDEX, uid)) out.push({ obj, res });
    return out;
  }

  resourceFor(apiVersion: string, kind: string): DiscoveredResource | undefined {
    const { group } = parseApiVersion(apiVersion);
    const watched = [...this.monitors.values()].find((m) => m.res.group === group && m.res.kind === kind);
    return watched?.res ?? this.kinds.get(`${group}/${kind}`);
  }
}
