// The ReplicaSet controller (and, through an adapter, the ReplicationController manager): keeps
// spec.replicas active pods matching the selector. Event handlers only enqueue keys and count the
// pod creations and deletions the controller is waiting for; sync(key) does the work:
//
// 1. Read the object from the cache (gone: forget its expectations, done).
// 2. Claim pods: the ones it controls that still match, plus matching orphans (adopted); release
//    the controlled ones that no longer match.
// 3. If its earlier creates/deletes have all been observed (or 5 minutes have passed), create the
//    missing pods in slow-start batches or delete the least valuable extra ones, at most 500 a sync.
// 4. Write status (replicas, fullyLabeled, ready, available, observedGeneration, ReplicaFailure).
import type { Pod, ReplicaSet, ReplicaSetStatus } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import {
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type SharedInformer,
} from '../../client/informer.js';
import { createLogger, type Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { realClock, type Clock } from '../common/clock.js';
import { claimObjects } from '../common/controller-ref.js';
import { errText, isConflict, isNamespaceTerminating, isNotFound } from '../common/errors.js';
import { ControllerExpectations } from '../common/expectations.js';
import {
  CONTROLLER_UID_INDEX,
  controllerUidIndexFunc,
  ensureIndex,
  ownedAndOrphans,
} from '../common/indexes.js';
import { controllerRef, type PodControl } from '../common/pod-control.js';
import { controllerRefOf, filterActivePods, isPodReady, podKey, podsToDelete } from '../common/pods.js';
import { queueRunner, type QueueRunner } from '../common/runner.js';
import { selectorMatcher } from '../common/selectors.js';
import { SLOW_START_INITIAL_BATCH_SIZE, slowStartBatch } from '../common/slow-start.js';
import type { ReplicaSetKindAdapter } from './adapter.js';
import { calculateStatus, statusChanged } from './status.js';

/** Upstream's BurstReplicas: at most this many creates or deletes per sync. */
export const BURST_REPLICAS = 500;

const podsCreated = metrics.counter(
  'k8ts_replicaset_pods_created_total',
  'Pods created by the replica set controllers, by kind.',
);
const podsDeleted = metrics.counter(
  'k8ts_replicaset_pods_deleted_total',
  'Pods deleted by the replica set controllers, by kind.',
);

/** The writes of the controller besides pods: status updates and fresh reads. */
export interface ReplicaSetClient {
  updateStatus(obj: KubeObject): Promise<KubeObject>;
  get(namespace: string, name: string): Promise<KubeObject>;
}

export interface ReplicaSetControllerOptions {
  adapter: ReplicaSetKindAdapter;
  rsInformer: SharedInformer<KubeObject>;
  podInformer: SharedInformer<Pod>;
  podControl: PodControl;
  client: ReplicaSetClient;
  clock?: Clock;
  burstReplicas?: number;
  logger?: Logger;
}

export class ReplicaSetController {
  readonly expectations: ControllerExpectations;
  private readonly adapter: ReplicaSetKindAdapter;
  private readonly rsInformer: SharedInformer<KubeObject>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly podControl: PodControl;
  private readonly client: ReplicaSetClient;
  private readonly clock: Clock;
  private readonly burst: number;
  private readonly log: Logger;
  readonly runner: QueueRunner;

  constructor(o: ReplicaSetControllerOptions) {
    this.adapter = o.adapter;
    this.rsInformer = o.rsInformer;
    this.podInformer = o.podInformer;
    this.podControl = o.podControl;
    this.client = o.client;
    this.clock = o.clock ?? realClock;
    this.burst = o.burstReplicas ?? BURST_REPLICAS;
    this.log = o.logger ?? createLogger('controller').child(o.adapter.queueName);
    this.expectations = new ControllerExpectations(this.clock);
    ensureIndex(this.podInformer, CONTROLLER_UID_INDEX, controllerUidIndexFunc);
    ensureIndex(this.rsInformer, CONTROLLER_UID_INDEX, controllerUidIndexFunc);
    this.runner = queueRunner(o.adapter.queueName, this.log, (key) => this.sync(key));
  }

  /** Registers the event handlers (call before the informers start). */
  registerHandlers(): void {
    this.rsInformer.addEventHandler({
      onAdd: (rs) => this.enqueue(rs),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (obj) => {
        const key = metaNamespaceKey(deletedObject(obj));
        this.expectations.deleteExpectations(key);
        this.runner.queue.add(key);
      },
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.addPod(pod),
      onUpdate: (old, cur) => this.updatePod(old, cur),
      onDelete: (pod) => this.deletePod(pod),
    });
  }

  private enqueue(obj: KubeObject): void {
    this.runner.queue.add(metaNamespaceKey(obj));
  }

  /** The controller named by ref, if it is of our kind and still the same object. */
  private resolveControllerRef(namespace: string | undefined, pod: Pod): KubeObject | undefined {
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== this.adapter.kind) return undefined;
    const rs = this.rsInformer.get(namespace, ref.name);
    if (!rs || rs.metadata.uid !== ref.uid) return undefined;
    return rs;
  }

  /** Every object of our kind whose selector matches an orphan pod. */
  private matchingOwners(pod: Pod): KubeObject[] {
    return this.rsInformer.list(pod.metadata.namespace ?? '').filter((obj) => {
      const rs = this.adapter.toReplicaSet(obj);
      return selectorMatcher(rs.spec?.selector)(pod.metadata.labels);
    });
  }

  private addPod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) {
      // Seen for the first time already being deleted (a restart): not a creation we waited for.
      this.deletePod(pod);
      return;
    }
    if (controllerRefOf(pod)) {
      const rs = this.resolveControllerRef(pod.metadata.namespace, pod);
      if (!rs) return;
      const key = metaNamespaceKey(rs);
      this.expectations.creationObserved(key);
      this.runner.queue.add(key);
      return;
    }
    for (const rs of this.matchingOwners(pod)) this.enqueue(rs);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const labelsChanged =
      JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(cur.metadata.labels ?? {});
    if (cur.metadata.deletionTimestamp) {
      // Count the deletion as soon as it starts, not when the kubelet finishes it.
      this.deletePod(cur);
      if (labelsChanged) this.deletePod(old);
      return;
    }
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = curRef?.uid !== oldRef?.uid;
    if (refChanged && oldRef) {
      const rs = this.resolveControllerRef(old.metadata.namespace, old);
      if (rs) this.enqueue(rs);
    }
    if (curRef) {
      const rs = this.resolveControllerRef(cur.metadata.namespace, cur);
      if (!rs) return;
      this.enqueue(rs);
      const minReady = this.adapter.toReplicaSet(rs).spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0)
        this.runner.queue.addAfter(metaNamespaceKey(rs), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.matchingOwners(cur)) this.enqueue(rs);
  }

  private deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const rs = this.resolveControllerRef(pod.metadata.namespace, pod);
    if (!rs) return;
    const key = metaNamespaceKey(rs);
    this.expectations.deletionObserved(key, podKey(pod));
    this.runner.queue.add(key);
  }

  /** Reconciles one object; throws to be retried with back-off. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const obj = this.rsInformer.get(namespace, name);
    if (!obj) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const rs = this.adapter.toReplicaSet(obj);
    const needsSync = this.expectations.satisfied(key);
    const matches = selectorMatcher(rs.spec?.selector);
    const candidates = filterActivePods(ownedAndOrphans(this.podInformer, obj));
    const pods = await claimObjects(candidates, {
      owner: obj,
      ref: controllerRef(obj),
      match: (p) => matches(p.metadata.labels),
      recheckOwner: () => this.client.get(namespace, name),
      patch: (p, ops) => this.podControl.patchPod(namespace, p.metadata.name ?? '', ops),
    });

    let manageErr: unknown;
    if (needsSync && !obj.metadata.deletionTimestamp) {
      try {
        await this.manageReplicas(key, pods, rs, obj);
      } catch (err) {
        manageErr = err;
      }
    }
    const now = this.clock.now();
    const status = calculateStatus(rs, pods, manageErr, now);
    const updated = await this.updateStatus(obj, rs, status);
    const u = this.adapter.toReplicaSet(updated);
    const replicas = u.spec?.replicas ?? 1;
    const minReady = u.spec?.minReadySeconds ?? 0;
    if (
      manageErr === undefined &&
      minReady > 0 &&
      (u.status?.readyReplicas ?? 0) === replicas &&
      (u.status?.availableReplicas ?? 0) !== replicas
    )
      this.runner.queue.addAfter(key, minReady * 1000);
    if (manageErr !== undefined) throw manageErr instanceof Error ? manageErr : new Error(errText(manageErr));
  }

  private async manageReplicas(
    key: string,
    pods: readonly Pod[],
    rs: ReplicaSet,
    obj: KubeObject,
  ): Promise<void> {
    const namespace = obj.metadata.namespace ?? '';
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    if (diff < 0) {
      const count = Math.min(-diff, this.burst);
      const template = rs.spec?.template ?? {};
      const ref = controllerRef(obj);
      // Expect before creating: the watch may deliver the new pods before the creates return.
      this.expectations.expectCreations(key, count);
      this.log.debug('too few replicas, creating', { key, need: rs.spec?.replicas ?? 1, creating: count });
      const { successes, error } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH_SIZE, async () => {
        try {
          await this.podControl.createPod(namespace, template, obj, ref);
          podsCreated.inc({ kind: this.adapter.kind });
        } catch (err) {
          if (isNamespaceTerminating(err)) return;
          throw err;
        }
      });
      // The pods never created will never be observed.
      for (let i = successes; i < count; i++) this.expectations.creationObserved(key);
      if (error !== undefined) {
        this.log.info('slow-start failure, skipping creation of the remaining pods', {
          key,
          skipped: count - successes,
          err: errText(error),
        });
        throw error instanceof Error ? error : new Error(errText(error));
      }
      return;
    }
    if (diff > 0) {
      const count = Math.min(diff, this.burst);
      const victims = podsToDelete(pods, this.relatedPods(obj), count, this.clock.now());
      this.expectations.expectDeletions(key, victims.map(podKey));
      this.log.debug('too many replicas, deleting', { key, need: rs.spec?.replicas ?? 1, deleting: count });
      const errors: unknown[] = [];
      await Promise.all(
        victims.map(async (pod) => {
          try {
            await this.podControl.deletePod(namespace, pod.metadata.name ?? '', obj);
            podsDeleted.inc({ kind: this.adapter.kind });
          } catch (err) {
            if (isNotFound(err)) return;
            // The deletion will never be observed.
            this.expectations.deletionObserved(key, podKey(pod));
            errors.push(err);
          }
        }),
      );
      if (errors.length > 0) throw errors[0];
    }
  }

  /** Pods of every object of our kind that shares this one's controller (the colocation ranking). */
  private relatedPods(obj: KubeObject): Pod[] {
    const owner = controllerRefOf(obj);
    const siblings = owner ? this.rsInformer.byIndex(CONTROLLER_UID_INDEX, owner.uid) : [obj];
    const out: Pod[] = [];
    for (const s of siblings)
      out.push(...this.podInformer.byIndex(CONTROLLER_UID_INDEX, s.metadata.uid ?? ''));
    return out;
  }

  /** Writes status if it changed: one retry on a fresh copy after a conflict, as upstream. */
  private async updateStatus(obj: KubeObject, rs: ReplicaSet, status: ReplicaSetStatus): Promise<KubeObject> {
    if (!statusChanged(rs, status)) return obj;
    status.observedGeneration = obj.metadata.generation ?? 0;
    const write = (base: KubeObject): Promise<KubeObject> => this.client.updateStatus({ ...base, status });
    try {
      return await write(obj);
    } catch (err) {
      if (!isConflict(err)) throw err;
      const fresh = await this.client.get(obj.metadata.namespace ?? '', obj.metadata.name ?? '');
      return write(fresh);
    }
  }

  /** Runs the workers (after the caches have synced) until stop(). */
  run(workers: number): Promise<void> {
    return this.runner.run(workers);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }
}
