// The garbage collector (upstream's pkg/controller/garbagecollector). Work items are object UIDs;
// sync(uid) looks the object up in the graph (the informer caches) and does one of three things:
//
// - it is being deleted with the `orphan` finalizer: strip the ownerReferences that name it from
//   all its dependents, then remove the finalizer (attemptToOrphan);
// - it is being deleted with the `foregroundDeletion` finalizer: make sure every dependent is
//   being deleted, and once no dependent with blockOwnerDeletion is left, remove the finalizer so
//   the owner goes (processDeletingDependentsItem);
// - it has owners: classify each as solid (exists), dangling (gone, or a different UID now) or
//   waiting (being deleted in the foreground). With a solid owner left, only the references to
//   dangling and waiting owners are removed; with none, the object is deleted — in the foreground
//   when it waits for an owner and has dependents of its own (after unblocking those references),
//   otherwise with the policy its own finalizers ask for (attemptToDeleteItem).
//
// Owners are looked up in the caches first; only when an owner is missing or being deleted does
// the collector ask the server (a live GET of the owner and of the object itself), so the steady
// state costs no requests.
import { StatusError } from '../../api/errors.js';
import type { KubeObject, OwnerReference } from '../../api/meta.js';
import {
  deletedObject,
  type DeletedFinalStateUnknown,
  type ResourceEventHandler,
} from '../../client/informer.js';
import type { EventRecorder } from '../../client/events.js';
import { resourcePath, type ResourceRef, type RestClient } from '../../client/rest.js';
import { errText, isNotFound } from '../common/errors.js';
import type { JsonPatchOp } from '../common/pod-control.js';
import type { Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { refOf, type DiscoveredResource } from './discovery.js';
import type { GcGraph, GraphNode } from './graph.js';

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

export type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan';

const deletesTotal = metrics.counter(
  'k8ts_garbagecollector_deletes_total',
  'Objects the garbage collector deleted, by propagation policy.',
);
const orphanedTotal = metrics.counter(
  'k8ts_garbagecollector_orphaned_dependents_total',
  'Dependents whose ownerReferences the garbage collector removed (orphaning and dangling owners).',
);

/** The garbage collector's writes, behind an interface for tests (habit 4). */
export interface GcClient {
  get(ref: ResourceRef, namespace: string | undefined, name: string): Promise<KubeObject>;
  /** Deletes with a UID precondition and the given propagation policy. */
  delete(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    uid: string,
    policy: PropagationPolicy,
  ): Promise<void>;
  patch(ref: ResourceRef, namespace: string | undefined, name: string, ops: JsonPatchOp[]): Promise<void>;
}

export function restGcClient(client: RestClient): GcClient {
  return {
    get: (ref, ns, name) => client.get(ref, ns, name),
    async delete(ref, ns, name, uid, policy) {
      await client.request('DELETE', resourcePath(ref, ns, name), {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: policy, preconditions: { uid } },
      });
    },
    async patch(ref, ns, name, ops) {
      await client.patch(ref, ns, name, 'json', ops);
    },
  };
}

type OwnerState = 'solid' | 'dangling' | 'waiting';

function hasFinalizer(obj: KubeObject, f: string): boolean {
  return (obj.metadata.finalizers ?? []).includes(f);
}

/** Being deleted in the foreground (upstream's deletingDependents). */
export function isDeletingDependents(obj: KubeObject): boolean {
  return !!obj.metadata.deletionTimestamp && hasFinalizer(obj, FINALIZER_FOREGROUND);
}

function describe(n: { obj: KubeObject; res: DiscoveredResource }): string {
  const ns = n.obj.metadata.namespace;
  return `${n.res.kind} ${ns ? `${ns}/` : ''}${n.obj.metadata.name ?? ''}`;
}

/** JSON patch removing the ownerReferences to the given UIDs (guarded by tests on UID and position). */
export function removeOwnerRefsPatch(obj: KubeObject, uids: ReadonlySet<string>): JsonPatchOp[] {
  const refs = obj.metadata.ownerReferences ?? [];
  const ops: JsonPatchOp[] = [{ op: 'test', path: '/metadata/uid', value: obj.metadata.uid }];
  let removed = 0;
  if (refs.length > 0 && refs.every((r) => uids.has(r.uid))) {
    // Removing them all removes the field, as upstream's patches leave no empty list behind.
    ops.push({ op: 'test', path: '/metadata/ownerReferences', value: refs });
    ops.push({ op: 'remove', path: '/metadata/ownerReferences' });
    return ops;
  }
  for (let i = refs.length - 1; i >= 0; i--) {
    const r = refs[i]!;
    if (!uids.has(r.uid)) continue;
    ops.push({ op: 'test', path: `/metadata/ownerReferences/${i}/uid`, value: r.uid });
    ops.push({ op: 'remove', path: `/metadata/ownerReferences/${i}` });
    removed++;
  }
  return removed === 0 ? [] : ops;
}

/** JSON patch setting blockOwnerDeletion false on the references to the given owners (upstream's unblockOwnerReferences). */
export function unblockOwnerRefsPatch(obj: KubeObject, uids: ReadonlySet<string>): JsonPatchOp[] {
  const refs = obj.metadata.ownerReferences ?? [];
  const ops: JsonPatchOp[] = [{ op: 'test', path: '/metadata/uid', value: obj.metadata.uid }];
  refs.forEach((r, i) => {
    if (!uids.has(r.uid) || r.blockOwnerDeletion !== true) return;
    ops.push({ op: 'test', path: `/metadata/ownerReferences/${i}/uid`, value: r.uid });
    ops.push({ op: 'replace', path: `/metadata/ownerReferences/${i}/blockOwnerDeletion`, value: false });
  });
  return ops.length === 1 ? [] : ops;
}

/** JSON patch removing one finalizer, guarded by a test of the whole list. */
export function removeFinalizerPatch(obj: KubeObject, finalizer: string): JsonPatchOp[] {
  const current = obj.metadata.finalizers ?? [];
  if (!current.includes(finalizer)) return [];
  const rest = current.filter((f) => f !== finalizer);
  return [
    { op: 'test', path: '/metadata/uid', value: obj.metadata.uid },
    { op: 'test', path: '/metadata/finalizers', value: current },
    rest.length === 0
      ? { op: 'remove', path: '/metadata/finalizers' }
      : { op: 'replace', path: '/metadata/finalizers', value: rest },
  ];
}

/** A bounded set of UIDs known to be gone (UIDs are never reused, so entries never go stale). */
class AbsentOwners {
  private readonly uids = new Set<string>();
  constructor(private readonly max = 10_000) {}
  has(uid: string): boolean {
    return this.uids.has(uid);
  }
  add(uid: string): void {
    this.uids.add(uid);
    if (this.uids.size > this.max) {
      const oldest = this.uids.values().next().value;
      if (oldest !== undefined) this.uids.delete(oldest);
    }
  }
}

export interface GarbageCollectorOptions {
  graph: GcGraph;
  client: GcClient;
  log: Logger;
  recorder?: EventRecorder;
  /** Where work goes (the controller's queue); sync enqueues dependents and owners through it. */
  enqueue: (uid: string) => void;
}

export class GarbageCollector {
  private readonly absent = new AbsentOwners();

  constructor(private readonly o: GarbageCollectorOptions) {}

  /** Handlers for one watched resource: they only compute UIDs and enqueue them. */
  handlers(): ResourceEventHandler<KubeObject> {
    const enqueue = (uid: string | undefined): void => {
      if (uid) this.o.enqueue(uid);
    };
    return {
      onAdd: (obj) => enqueue(obj.metadata.uid),
      onUpdate: (oldObj, newObj) => {
        enqueue(newObj.metadata.uid);
        // Owners no longer referenced may have been waiting for this dependent.
        const now = new Set((newObj.metadata.ownerReferences ?? []).map((r) => r.uid));
        for (const r of oldObj.metadata.ownerReferences ?? []) if (!now.has(r.uid)) enqueue(r.uid);
        // A dependent starting its own deletion matters to a foreground owner only once it is gone.
      },
      onDelete: (v: KubeObject | DeletedFinalStateUnknown<KubeObject>) => {
        const obj = deletedObject(v);
        for (const r of obj.metadata.ownerReferences ?? []) enqueue(r.uid);
        const uid = obj.metadata.uid;
        if (uid) for (const d of this.o.graph.dependents(uid)) enqueue(d.obj.metadata.uid);
      },
    };
  }

  async sync(uid: string): Promise<void> {
    const node = this.o.graph.byUid(uid);
    if (!node) return;
    const obj = node.obj;
    if (obj.metadata.deletionTimestamp) {
      if (hasFinalizer(obj, FINALIZER_ORPHAN)) return this.orphanDependents(node);
      if (hasFinalizer(obj, FINALIZER_FOREGROUND)) return this.processDeletingDependents(node);
      return;
    }
    if ((obj.metadata.ownerReferences ?? []).length === 0) return;
    return this.attemptToDelete(node);
  }

  // ---- orphan ----

  private async orphanDependents(node: GraphNode): Promise<void> {
    const uid = node.obj.metadata.uid ?? '';
    const errors: string[] = [];
    await Promise.all(
      this.o.graph.dependents(uid).map(async (d) => {
        const ops = removeOwnerRefsPatch(d.obj, new Set([uid]));
        if (ops.length === 0) return;
        try {
          await this.o.client.patch(refOf(d.res), d.obj.metadata.namespace, d.obj.metadata.name ?? '', ops);
          orphanedTotal.inc();
        } catch (err) {
          if (!isNotFound(err)) errors.push(`orphaning ${describe(d)}: ${errText(err)}`);
        }
      }),
    );
    if (errors.length > 0)
      throw new Error(`failed to orphan dependents of ${describe(node)}: ${errors.join('; ')}`);
    await this.removeFinalizer(node, FINALIZER_ORPHAN);
  }

  // ---- foreground ----

  private async processDeletingDependents(node: GraphNode): Promise<void> {
    const uid = node.obj.metadata.uid ?? '';
    const dependents = this.o.graph.dependents(uid);
    const blocking = dependents.filter((d) =>
      (d.obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid && r.blockOwnerDeletion === true),
    );
    if (blocking.length === 0) {
      await this.removeFinalizer(node, FINALIZER_FOREGROUND);
      return;
    }
    // Every dependent must be on its way out; each is judged in its own sync (it sees a waiting owner).
    for (const d of dependents)
      if (!d.obj.metadata.deletionTimestamp || isDeletingDependents(d.obj))
        this.o.enqueue(d.obj.metadata.uid ?? '');
    this.o.log.debug('waiting for blocking dependents', { owner: describe(node), blocking: blocking.length });
  }

  private async removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    const ops = removeFinalizerPatch(node.obj, finalizer);
    if (ops.length === 0) return;
    try {
      await this.o.client.patch(
        refOf(node.res),
        node.obj.metadata.namespace,
        node.obj.metadata.name ?? '',
        ops,
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  // ---- dependents of missing or deleting owners ----

  /** What the cache says about an owner; undefined when only the server can tell. */
  private cachedOwnerState(obj: KubeObject, ref: OwnerReference): OwnerState | undefined {
    if (this.absent.has(ref.uid)) return 'dangling';
    const owner = this.o.graph.byUid(ref.uid);
    if (!owner) return undefined;
    // A namespaced owner only counts in its dependent's namespace: elsewhere it is someone else's.
    if (owner.res.namespaced && owner.obj.metadata.namespace !== obj.metadata.namespace) return undefined;
    return isDeletingDependents(owner.obj) ? 'waiting' : 'solid';
  }

  private invalidNamespace(obj: KubeObject, ref: OwnerReference): void {
    this.o.recorder?.event(
      obj,
      'Warning',
      'OwnerRefInvalidNamespace',
      `ownerRef [${ref.apiVersion}/${ref.kind}, namespace: ${obj.metadata.namespace ?? ''}, name: ${ref.name}, uid: ${ref.uid}] does not exist in namespace "${obj.metadata.namespace ?? ''}"`,
    );
  }

  /** Upstream's isDangling plus the waiting check, asking the server when the cache does not know. */
  private async liveOwnerState(obj: KubeObject, ref: OwnerReference): Promise<OwnerState> {
    if (this.absent.has(ref.uid)) return 'dangling';
    const res = this.o.graph.resourceFor(ref.apiVersion, ref.kind);
    if (!res)
      throw new Error(`unable to find the resource of owner ${ref.apiVersion}/${ref.kind} ${ref.name}`);
    let namespace: string | undefined;
    if (res.namespaced) {
      if (!obj.metadata.namespace) {
        // A cluster-scoped object cannot have a namespaced owner: the reference is unresolvable.
        this.invalidNamespace(obj, ref);
        this.absent.add(ref.uid);
        return 'dangling';
      }
      namespace = obj.metadata.namespace;
    }
    let owner: KubeObject;
    try {
      owner = await this.o.client.get(refOf(res), namespace, ref.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return this.dangling(obj, ref);
    }
    if (owner.metadata.uid !== ref.uid) return this.dangling(obj, ref);
    return isDeletingDependents(owner) ? 'waiting' : 'solid';
  }

  private dangling(obj: KubeObject, ref: OwnerReference): OwnerState {
    const elsewhere = this.o.graph.byUid(ref.uid);
    // The owner exists, in another namespace: the reference can never resolve (not cached as absent).
    if (elsewhere && elsewhere.obj.metadata.namespace !== obj.metadata.namespace)
      this.invalidNamespace(obj, ref);
    else this.absent.add(ref.uid);
    return 'dangling';
  }

  private async attemptToDelete(node: GraphNode): Promise<void> {
    // Fast path: every owner is in the cache and not being deleted in the foreground.
    const refs = node.obj.metadata.ownerReferences ?? [];
    if (refs.every((r) => this.cachedOwnerState(node.obj, r) === 'solid')) return;

    // Act on the latest state of the object, not on the cache's.
    const res = refOf(node.res);
    let latest: KubeObject;
    try {
      latest = await this.o.client.get(res, node.obj.metadata.namespace, node.obj.metadata.name ?? '');
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (latest.metadata.uid !== node.obj.metadata.uid || latest.metadata.deletionTimestamp) return;
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of latest.metadata.ownerReferences ?? []) {
      const cached = this.cachedOwnerState(latest, ref);
      const state = cached === 'solid' ? cached : await this.liveOwnerState(latest, ref);
      if (state === 'solid') solid.push(ref);
      else if (state === 'dangling') dangling.push(ref);
      else waiting.push(ref);
    }
    const name = latest.metadata.name ?? '';
    const ns = latest.metadata.namespace;
    const latestNode = { obj: latest, res: node.res };
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      const uids = new Set([...dangling, ...waiting].map((r) => r.uid));
      const ops = removeOwnerRefsPatch(latest, uids);
      if (ops.length === 0) return;
      this.o.log.info('removing references to absent or deleting owners', {
        object: describe(latestNode),
        owners: [...uids],
      });
      await this.ignoreNotFound(this.o.client.patch(res, ns, name, ops));
      orphanedTotal.inc();
      return;
    }
    const uid = latest.metadata.uid ?? '';
    if (waiting.length > 0 && this.o.graph.dependents(uid).length > 0) {
      // Delete in the foreground too, without blocking the waiting owners (that would deadlock).
      const ops = unblockOwnerRefsPatch(latest, new Set(waiting.map((r) => r.uid)));
      if (ops.length > 0) await this.ignoreNotFound(this.o.client.patch(res, ns, name, ops));
      await this.deleteObject(latestNode, 'Foreground');
      return;
    }
    const policy: PropagationPolicy = hasFinalizer(latest, FINALIZER_ORPHAN)
      ? 'Orphan'
      : hasFinalizer(latest, FINALIZER_FOREGROUND)
        ? 'Foreground'
        : 'Background';
    await this.deleteObject(latestNode, policy);
  }

  private async deleteObject(node: GraphNode, policy: PropagationPolicy): Promise<void> {
    this.o.log.info('deleting object whose owners are gone', {
      object: describe(node),
      propagationPolicy: policy,
    });
    try {
      await this.o.client.delete(
        refOf(node.res),
        node.obj.metadata.namespace,
        node.obj.metadata.name ?? '',
        node.obj.metadata.uid ?? '',
        policy,
      );
      deletesTotal.inc({ policy });
    } catch (err) {
      // Gone already, or replaced by a new object of the same name (the UID precondition failed).
      if (isNotFound(err) || (err instanceof StatusError && err.code === 409)) return;
      throw err;
    }
  }

  private async ignoreNotFound(p: Promise<void>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
