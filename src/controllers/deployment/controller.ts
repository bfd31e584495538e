// The Deployment controller: event handlers enqueue the deployment a change concerns; sync(key)
// claims the deployment's ReplicaSets and then, as upstream's syncDeployment: only status while
// it is being deleted; sizes only while paused or when replicas changed; a server-side rollback
// when one is requested; otherwise a step of the Recreate or RollingUpdate strategy.
import type { Deployment, Pod, ReplicaSet } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { EventRecorder } from '../../client/events.js';
import {
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type SharedInformer,
} from '../../client/informer.js';
import { createLogger, type Logger } from '../../util/log.js';
import { realClock, type Clock } from '../common/clock.js';
import { claimObjects } from '../common/controller-ref.js';
import {
  CONTROLLER_UID_INDEX,
  controllerUidIndexFunc,
  ensureIndex,
  ownedAndOrphans,
} from '../common/indexes.js';
import { controllerRef } from '../common/pod-control.js';
import { controllerRefOf } from '../common/pods.js';
import { queueRunner, type QueueRunner } from '../common/runner.js';
import { isEmptySelector, selectorMatcher } from '../common/selectors.js';
import type { DeploymentClient, DeploymentSyncContext, PodMap } from './context.js';
import { rolloutRecreate } from './recreate.js';
import { getRollbackTo, rollback } from './rollback.js';
import { rolloutRolling } from './rolling.js';
import { checkPausedConditions, isScalingEvent, syncScaleOnly, syncStatusOnly } from './sync.js';

export interface DeploymentControllerOptions {
  deploymentInformer: SharedInformer<Deployment>;
  rsInformer: SharedInformer<ReplicaSet>;
  podInformer: SharedInformer<Pod>;
  client: DeploymentClient;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}

export class DeploymentController implements DeploymentSyncContext {
  readonly client: DeploymentClient;
  readonly recorder: EventRecorder;
  readonly clock: Clock;
  readonly log: Logger;
  readonly runner: QueueRunner;
  private readonly dInformer: SharedInformer<Deployment>;
  private readonly rsInformer: SharedInformer<ReplicaSet>;
  private readonly podInformer: SharedInformer<Pod>;

  constructor(o: DeploymentControllerOptions) {
    this.client = o.client;
    this.recorder = o.recorder;
    this.clock = o.clock ?? realClock;
    this.log = o.logger ?? createLogger('controller').child('deployment');
    this.dInformer = o.deploymentInformer;
    this.rsInformer = o.rsInformer;
    this.podInformer = o.podInformer;
    ensureIndex(this.rsInformer, CONTROLLER_UID_INDEX, controllerUidIndexFunc);
    ensureIndex(this.podInformer, CONTROLLER_UID_INDEX, controllerUidIndexFunc);
    this.runner = queueRunner('deployment', this.log, (key) => this.sync(key));
  }

  // ---- DeploymentSyncContext ----

  getCachedReplicaSet(namespace: string, name: string): ReplicaSet | undefined {
    return this.rsInformer.get(namespace, name);
  }

  enqueueAfter(d: Deployment, ms: number): void {
    this.runner.queue.addAfter(metaNamespaceKey(d), ms);
  }

  enqueueRateLimited(d: Deployment): void {
    this.runner.queue.addRateLimited(metaNamespaceKey(d));
  }

  private enqueue(d: KubeObject): void {
    this.runner.queue.add(metaNamespaceKey(d));
  }

  // ---- event handlers ----

  registerHandlers(): void {
    this.dInformer.addEventHandler({
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (d) => this.enqueue(deletedObject(d)),
    });
    this.rsInformer.addEventHandler({
      onAdd: (rs) => this.addReplicaSet(rs),
      onUpdate: (old, cur) => this.updateReplicaSet(old, cur),
      onDelete: (rs) => this.deleteReplicaSet(rs),
    });
    this.podInformer.addEventHandler({ onDelete: (pod) => this.deletePod(pod) });
  }

  private resolveControllerRef(obj: KubeObject): Deployment | undefined {
    const ref = controllerRefOf(obj);
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = this.dInformer.get(obj.metadata.namespace, ref.name);
    if (!d || d.metadata.uid !== ref.uid) return undefined;
    return d;
  }

  /** Deployments whose selector matches an orphan ReplicaSet. */
  private deploymentsFor(rs: ReplicaSet): Deployment[] {
    return this.dInformer
      .list(rs.metadata.namespace ?? '')
      .filter(
        (d) => !isEmptySelector(d.spec?.selector) && selectorMatcher(d.spec?.selector)(rs.metadata.labels),
      );
  }

  private addReplicaSet(rs: ReplicaSet): void {
    if (rs.metadata.deletionTimestamp) return this.deleteReplicaSet(rs);
    if (controllerRefOf(rs)) {
      const d = this.resolveControllerRef(rs);
      if (d) this.enqueue(d);
      return;
    }
    for (const d of this.deploymentsFor(rs)) this.enqueue(d);
  }

  private updateReplicaSet(old: ReplicaSet, cur: ReplicaSet): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = curRef?.uid !== oldRef?.uid;
    if (refChanged && oldRef) {
      const d = this.resolveControllerRef(old);
      if (d) this.enqueue(d);
    }
    if (curRef) {
      const d = this.resolveControllerRef(cur);
      if (d) this.enqueue(d);
      return;
    }
    const labelsChanged =
      JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(cur.metadata.labels ?? {});
    if (labelsChanged || refChanged) for (const d of this.deploymentsFor(cur)) this.enqueue(d);
  }

  private deleteReplicaSet(obj: ReplicaSet | DeletedFinalStateUnknown<ReplicaSet>): void {
    const d = this.resolveControllerRef(deletedObject(obj));
    if (d) this.enqueue(d);
  }

  /** A Recreate rollout waits for old pods to go: their deletion may let it proceed. */
  private deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return;
    const rs = this.rsInformer.get(pod.metadata.namespace, ref.name);
    if (!rs || rs.metadata.uid !== ref.uid) return;
    const d = this.resolveControllerRef(rs);
    if (!d || d.spec?.strategy?.type !== 'Recreate') return;
    const rss = this.rsInformer.byIndex(CONTROLLER_UID_INDEX, d.metadata.uid ?? '');
    const remaining = rss.reduce(
      (n, r) => n + this.podInformer.byIndex(CONTROLLER_UID_INDEX, r.metadata.uid ?? '').length,
      0,
    );
    if (remaining === 0) this.enqueue(d);
  }

  // ---- sync ----

  /** The deployment's ReplicaSets after adoption of matching orphans and release of mismatches. */
  private getReplicaSetsForDeployment(d: Deployment): Promise<ReplicaSet[]> {
    const matches = selectorMatcher(d.spec?.selector);
    const ns = d.metadata.namespace ?? '';
    return claimObjects(ownedAndOrphans(this.rsInformer, d), {
      owner: d,
      ref: controllerRef(d),
      match: (rs) => matches(rs.metadata.labels),
      recheckOwner: () => this.client.getDeployment(ns, d.metadata.name ?? ''),
      patch: (rs, ops) => this.client.patchReplicaSet(ns, rs.metadata.name ?? '', ops),
    });
  }

  private podMapFor(rsList: readonly ReplicaSet[]): PodMap {
    const map: PodMap = new Map();
    for (const rs of rsList)
      map.set(rs.metadata.uid ?? '', this.podInformer.byIndex(CONTROLLER_UID_INDEX, rs.metadata.uid ?? ''));
    return map;
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.dInformer.get(namespace, name);
    if (!cached) {
      this.log.debug('deployment has been deleted', { key });
      return;
    }
    const d = structuredClone<Deployment>(cached);

    if (isEmptySelector(d.spec?.selector)) {
      this.recorder.event(
        d,
        'Warning',
        'SelectingAll',
        'This deployment is selecting all pods. A non-empty selector is required.',
      );
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        d.status = { ...(d.status ?? {}), observedGeneration: d.metadata.generation ?? 0 };
        await this.client.updateDeploymentStatus(d);
      }
      return;
    }

    const rsList = await this.getReplicaSetsForDeployment(d);
    const podMap = this.podMapFor(rsList);

    if (d.metadata.deletionTimestamp) return syncStatusOnly(this, d, rsList);

    await checkPausedConditions(this, d);
    if (d.spec?.paused) return syncScaleOnly(this, d, rsList);

    if (getRollbackTo(d) !== undefined) return rollback(this, d, rsList);

    if (await isScalingEvent(this, d, rsList)) return syncScaleOnly(this, d, rsList);

    const type = d.spec?.strategy?.type ?? 'RollingUpdate';
    switch (type) {
      case 'Recreate':
        return rolloutRecreate(this, d, rsList, podMap);
      case 'RollingUpdate':
        return rolloutRolling(this, d, rsList);
      default:
        throw new Error(`unexpected deployment strategy type: ${type}`);
    }
  }

  run(workers: number): Promise<void> {
    return this.runner.run(workers);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }
}
