// The StatefulSet controller (upstream's pkg/controller/statefulset): pods with stable names and
// storage, started in order and stopped in reverse.
//
// sync(key):
// 1. Read the set (gone or being deleted: nothing to do; the garbage collector removes pods).
// 2. Revisions: the update revision for the current template (created if new); the current
//    revision is status.currentRevision's, or the update revision for a new set.
// 3. Claim pods; split them into replicas (ordinals in [start, start+replicas)) and condemned
//    (ordinals outside, handled highest first).
// 4. Replicas in ordinal order: a failed or succeeded pod is deleted to be recreated; a missing
//    pod is created (its claims first) from the current revision below the partition and the
//    update revision above it. With OrderedReady, the walk stops at the first pod that was just
//    created, is terminating, or is not Running and Ready (available, with minReadySeconds).
// 5. Condemned pods are deleted, highest ordinal first; OrderedReady deletes one at a time and
//    waits for unhealthy pods below. Parallel does all of it at once.
// 6. RollingUpdate: from the highest ordinal down to the partition, delete the first pod not at
//    the update revision (it is recreated at the update revision) and wait for it to be healthy.
// 7. Status: replicas, readyReplicas, availableReplicas, currentReplicas, updatedReplicas, the
//    revisions (current becomes update when the rollout is complete), observedGeneration.
import type {
  ControllerRevision,
  PersistentVolumeClaim,
  Pod,
  PodTemplateSpec,
  StatefulSet,
  StatefulSetStatus,
} from '../../api/generated/types.js';
import type { EventRecorder } from '../../client/events.js';
import {
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type SharedInformer,
} from '../../client/informer.js';
import { createLogger, type Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { realClock, type Clock } from '../common/clock.js';
import { claimObjects } from '../common/controller-ref.js';
import { errText, isAlreadyExists, isConflict, isNotFound } from '../common/errors.js';
import {
  CONTROLLER_UID_INDEX,
  controllerUidIndexFunc,
  ensureIndex,
  ownedAndOrphans,
} from '../common/indexes.js';
import { controllerRef, type JsonPatchOp } from '../common/pod-control.js';
import { controllerRefOf, isPodAvailable, isPodReady } from '../common/pods.js';
import { queueRunner, type QueueRunner } from '../common/runner.js';
import { selectorMatcher } from '../common/selectors.js';
import {
  POD_REVISION_LABEL,
  ensureUpdateRevision,
  templateOf,
  truncateHistory,
  type RevisionClient,
} from './history.js';
import {
  POD_INDEX_LABEL,
  POD_NAME_LABEL,
  claimsFor,
  identityMatches,
  newStatefulPod,
  ordinalOf,
} from './stateful-pod.js';

const podsCreated = metrics.counter(
  'k8ts_statefulset_pods_created_total',
  'Pods created by the statefulset controller.',
);
const podsDeleted = metrics.counter(
  'k8ts_statefulset_pods_deleted_total',
  'Pods deleted by the statefulset controller.',
);

export interface StatefulSetClient {
  createPod(pod: Pod): Promise<Pod>;
  deletePod(namespace: string, name: string): Promise<void>;
  patchPod(namespace: string, name: string, ops: JsonPatchOp[]): Promise<void>;
  createClaim(pvc: PersistentVolumeClaim): Promise<PersistentVolumeClaim>;
  patchClaim(namespace: string, name: string, ops: JsonPatchOp[]): Promise<void>;
  updateStatus(set: StatefulSet): Promise<StatefulSet>;
  get(namespace: string, name: string): Promise<StatefulSet>;
  revisions: RevisionClient;
}

export interface StatefulSetControllerOptions {
  setInformer: SharedInformer<StatefulSet>;
  podInformer: SharedInformer<Pod>;
  pvcInformer: SharedInformer<PersistentVolumeClaim>;
  revisionInformer: SharedInformer<ControllerRevision>;
  client: StatefulSetClient;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
}

function isTerminating(p: Pod): boolean {
  return !!p.metadata.deletionTimestamp;
}

function isRunningAndReady(p: Pod): boolean {
  return p.status?.phase === 'Running' && isPodReady(p);
}

function isTerminal(p: Pod): boolean {
  return p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
}

function revisionOf(p: Pod): string | undefined {
  return p.metadata.labels?.[POD_REVISION_LABEL];
}

export class StatefulSetController {
  readonly runner: QueueRunner;
  private readonly setInformer: SharedInformer<StatefulSet>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly pvcInformer: SharedInformer<PersistentVolumeClaim>;
  private readonly revInformer: SharedInformer<ControllerRevision>;
  private readonly client: StatefulSetClient;
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(o: StatefulSetControllerOptions) {
    this.setInformer = o.setInformer;
    this.podInformer = o.podInformer;
    this.pvcInformer = o.pvcInformer;
    this.revInformer = o.revisionInformer;
    this.client = o.client;
    this.recorder = o.recorder;
    this.clock = o.clock ?? realClock;
    this.log = o.logger ?? createLogger('controller').child('statefulset');
    ensureIndex(this.podInformer, CONTROLLER_UID_INDEX, controllerUidIndexFunc);
    ensureIndex(this.revInformer, CONTROLLER_UID_INDEX, controllerUidIndexFunc);
    this.runner = queueRunner('statefulset', this.log, (key) => this.sync(key));
  }

  registerHandlers(): void {
    this.setInformer.addEventHandler({
      onAdd: (s) => this.enqueue(s),
      onUpdate: (_o, cur) => this.enqueue(cur),
      onDelete: (obj) => this.runner.queue.add(metaNamespaceKey(deletedObject(obj))),
    });
    const onPod = (pod: Pod): void => {
      const set = this.setFor(pod);
      if (set) this.enqueue(set);
      else if (!controllerRefOf(pod))
        for (const s of this.setInformer.list(pod.metadata.namespace ?? ''))
          if (selectorMatcher(s.spec?.selector)(pod.metadata.labels)) this.enqueue(s);
    };
    this.podInformer.addEventHandler({
      onAdd: onPod,
      onUpdate: (old, cur) => {
        onPod(cur);
        if (controllerRefOf(old)?.uid !== controllerRefOf(cur)?.uid) onPod(old);
      },
      onDelete: (obj) => onPod(deletedObject(obj)),
    });
  }

  private enqueue(s: StatefulSet): void {
    this.runner.queue.add(metaNamespaceKey(s));
  }

  private setFor(pod: Pod): StatefulSet | undefined {
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== 'StatefulSet') return undefined;
    const s = this.setInformer.get(pod.metadata.namespace, ref.name);
    return s && s.metadata.uid === ref.uid ? s : undefined;
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.setInformer.get(namespace, name);
    if (!cached || cached.metadata.deletionTimestamp) return;
    const set = structuredClone<StatefulSet>(cached);
    const revisions = this.revInformer
      .byIndex(CONTROLLER_UID_INDEX, set.metadata.uid ?? '')
      .filter((r) => r.metadata.namespace === namespace);
    const ensured = await ensureUpdateRevision(
      set,
      set.spec?.template,
      revisions,
      set.status?.collisionCount,
      this.client.revisions,
    );
    const updateRevision = ensured.revision;
    const currentRevision =
      ensured.revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? updateRevision;
    const match = selectorMatcher(set.spec?.selector);
    const pods = await claimObjects<Pod>(ownedAndOrphans(this.podInformer, set), {
      owner: set,
      match: (p) => match(p.metadata.labels),
      recheckOwner: () => this.client.get(namespace, name),
      patch: (p, ops) => this.client.patchPod(p.metadata.namespace ?? '', p.metadata.name ?? '', ops),
      ref: controllerRef(set),
    });
    let err: unknown;
    let created: Pod[] = [];
    try {
      created = await this.updateStatefulSet(set, pods, currentRevision, updateRevision);
    } catch (e) {
      err = e;
    }
    await this.updateStatus(
      set,
      [...pods, ...created],
      currentRevision,
      updateRevision,
      ensured.collisionCount,
    );
    const inUse = new Set<string>([currentRevision.metadata.name ?? '', updateRevision.metadata.name ?? '']);
    for (const p of pods) if (revisionOf(p)) inUse.add(revisionOf(p)!);
    try {
      await truncateHistory(
        ensured.revisions,
        inUse,
        set.spec?.revisionHistoryLimit ?? 10,
        this.client.revisions,
      );
    } catch (e) {
      this.log.warn('truncating history', { set: key, err: errText(e) });
    }
    if (err !== undefined) throw err instanceof Error ? err : new Error(errText(err));
  }

  /** Creates/deletes per the policy; returns pods created this sync (for status). */
  private async updateStatefulSet(
    set: StatefulSet,
    pods: Pod[],
    currentRevision: ControllerRevision,
    updateRevision: ControllerRevision,
  ): Promise<Pod[]> {
    const now = this.clock.now();
    const key = metaNamespaceKey(set);
    const replicaCount = set.spec?.replicas ?? 1;
    const start = set.spec?.ordinals?.start ?? 0;
    const monotonic = (set.spec?.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
    const minReady = set.spec?.minReadySeconds ?? 0;
    const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const partition = rolling ? (set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
    const slots: Array<Pod | undefined> = new Array<Pod | undefined>(replicaCount).fill(undefined);
    const condemned: Array<{ ord: number; pod: Pod }> = [];
    for (const p of pods) {
      const ord = ordinalOf(set, p);
      if (ord === undefined) continue;
      if (ord >= start && ord < start + replicaCount) slots[ord - start] = p;
      else condemned.push({ ord, pod: p });
    }
    condemned.sort((a, b) => b.ord - a.ord);
    const currentTemplate: PodTemplateSpec = templateOf(currentRevision) ?? set.spec!.template;
    const updateTemplate: PodTemplateSpec = templateOf(updateRevision) ?? set.spec!.template;
    const versionFor = (ord: number): { template: PodTemplateSpec; revision: string } => {
      const useCurrent = rolling && ord < start + partition;
      return useCurrent
        ? { template: currentTemplate, revision: currentRevision.metadata.name ?? '' }
        : { template: updateTemplate, revision: updateRevision.metadata.name ?? '' };
    };
    const healthy = (p: Pod): boolean =>
      isRunningAndReady(p) && !isTerminating(p) && isPodAvailable(p, minReady, now);
    const unhealthy = [...slots.filter((p): p is Pod => !!p), ...condemned.map((c) => c.pod)].filter(
      (p) => !healthy(p),
    );
    const firstUnhealthy = unhealthy[0];
    const created: Pod[] = [];

    for (let i = 0; i < replicaCount; i++) {
      const ord = start + i;
      const pod = slots[i];
      if (pod && isTerminal(pod) && !isTerminating(pod)) {
        this.recorder.event(
          set,
          'Warning',
          'RecreatingFailedPod',
          `StatefulSet ${key} is recreating ${pod.status?.phase === 'Failed' ? 'failed' : 'terminated'} Pod ${pod.metadata.name ?? ''}`,
        );
        await this.deletePod(set, pod);
        if (monotonic) return created;
        continue;
      }
      if (!pod) {
        const v = versionFor(ord);
        const fresh = newStatefulPod(set, v.template, v.revision, ord);
        await this.createClaims(set, fresh, ord);
        const made = await this.createPod(set, fresh);
        created.push(made);
        if (monotonic) return created;
        continue;
      }
      if (isTerminating(pod)) {
        if (monotonic) return created;
        continue;
      }
      if (!identityMatches(set, pod, ord)) await this.fixIdentity(pod, ord);
      if (!isRunningAndReady(pod) && monotonic) return created;
      if (!isPodAvailable(pod, minReady, now) && monotonic) {
        this.runner.queue.addAfter(key, minReady * 1000);
        return created;
      }
    }

    for (const { pod } of condemned) {
      if (isTerminating(pod)) {
        if (monotonic) return created;
        continue;
      }
      if (monotonic && !healthy(pod) && firstUnhealthy !== undefined && pod !== firstUnhealthy)
        return created;
      await this.retainOrReleaseClaims(set, pod);
      await this.deletePod(set, pod);
      if (monotonic) return created;
    }

    if (!rolling) return created;
    for (let i = replicaCount - 1; i >= partition; i--) {
      const pod = slots[i];
      if (!pod) continue;
      if (revisionOf(pod) !== updateRevision.metadata.name && !isTerminating(pod)) {
        this.log.info('terminating pod for update', { set: key, pod: pod.metadata.name });
        await this.deletePod(set, pod);
        return created;
      }
      if (!healthy(pod)) return created;
    }
    return created;
  }

  private async createClaims(set: StatefulSet, pod: Pod, ordinal: number): Promise<void> {
    for (const pvc of claimsFor(set, ordinal)) {
      if (this.pvcInformer.get(pvc.metadata.namespace, pvc.metadata.name ?? '')) continue;
      try {
        await this.client.createClaim(pvc);
        this.recorder.event(
          set,
          'Normal',
          'SuccessfulCreate',
          `create Claim ${pvc.metadata.name ?? ''} Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} success`,
        );
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        this.recorder.event(
          set,
          'Warning',
          'FailedCreate',
          `create Claim ${pvc.metadata.name ?? ''} for Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} failed error: ${errText(err)}`,
        );
        throw err;
      }
    }
  }

  /** whenScaled: Delete — the claims of a condemned pod get the pod as owner, so they go with it. */
  private async retainOrReleaseClaims(set: StatefulSet, pod: Pod): Promise<void> {
    if (set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return;
    const ord = ordinalOf(set, pod);
    if (ord === undefined) return;
    for (const pvc of claimsFor(set, ord)) {
      const cur = this.pvcInformer.get(pvc.metadata.namespace, pvc.metadata.name ?? '');
      if (!cur || cur.metadata.ownerReferences?.some((r) => r.uid === pod.metadata.uid)) continue;
      const ref = {
        apiVersion: 'v1',
        kind: 'Pod',
        name: pod.metadata.name ?? '',
        uid: pod.metadata.uid ?? '',
        controller: false,
        blockOwnerDeletion: true,
      };
      const ops: JsonPatchOp[] = cur.metadata.ownerReferences?.length
        ? [{ op: 'add', path: '/metadata/ownerReferences/-', value: ref }]
        : [{ op: 'add', path: '/metadata/ownerReferences', value: [ref] }];
      try {
        await this.client.patchClaim(cur.metadata.namespace ?? '', cur.metadata.name ?? '', ops);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  private async createPod(set: StatefulSet, pod: Pod): Promise<Pod> {
    try {
      const made = await this.client.createPod(pod);
      podsCreated.inc();
      this.recorder.event(
        set,
        'Normal',
        'SuccessfulCreate',
        `create Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} successful`,
      );
      return made;
    } catch (err) {
      if (isAlreadyExists(err)) return pod;
      this.recorder.event(
        set,
        'Warning',
        'FailedCreate',
        `create Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} failed error: ${errText(err)}`,
      );
      throw err;
    }
  }

  private async deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.client.deletePod(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
      podsDeleted.inc();
      this.recorder.event(
        set,
        'Normal',
        'SuccessfulDelete',
        `delete Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} successful`,
      );
    } catch (err) {
      if (isNotFound(err)) return;
      this.recorder.event(
        set,
        'Warning',
        'FailedDelete',
        `delete Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} failed error: ${errText(err)}`,
      );
      throw err;
    }
  }

  private async fixIdentity(pod: Pod, ordinal: number): Promise<void> {
    const ops: JsonPatchOp[] = [];
    if (!pod.metadata.labels) ops.push({ op: 'add', path: '/metadata/labels', value: {} });
    const esc = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');
    ops.push({ op: 'add', path: `/metadata/labels/${esc(POD_NAME_LABEL)}`, value: pod.metadata.name ?? '' });
    ops.push({ op: 'add', path: `/metadata/labels/${esc(POD_INDEX_LABEL)}`, value: String(ordinal) });
    await this.client.patchPod(pod.metadata.namespace ?? '', pod.metadata.name ?? '', ops);
  }

  private async updateStatus(
    set: StatefulSet,
    pods: Pod[],
    currentRevision: ControllerRevision,
    updateRevision: ControllerRevision,
    collisionCount: number,
  ): Promise<void> {
    const now = this.clock.now();
    const minReady = set.spec?.minReadySeconds ?? 0;
    const status: StatefulSetStatus = {
      ...(set.status ?? { replicas: 0 }),
      replicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
    };
    const seen = new Set<string>();
    for (const p of pods) {
      const name = p.metadata.name ?? '';
      if (seen.has(name) || isTerminating(p) || ordinalOf(set, p) === undefined) continue;
      seen.add(name);
      status.replicas++;
      if (isRunningAndReady(p)) {
        status.readyReplicas = (status.readyReplicas ?? 0) + 1;
        if (isPodAvailable(p, minReady, now)) status.availableReplicas = (status.availableReplicas ?? 0) + 1;
      }
      if (revisionOf(p) === currentRevision.metadata.name)
        status.currentReplicas = (status.currentReplicas ?? 0) + 1;
      if (revisionOf(p) === updateRevision.metadata.name)
        status.updatedReplicas = (status.updatedReplicas ?? 0) + 1;
    }
    status.currentRevision = currentRevision.metadata.name;
    status.updateRevision = updateRevision.metadata.name;
    status.collisionCount = collisionCount;
    status.observedGeneration = set.metadata.generation ?? 0;
    // The rollout is complete once every pod is updated and ready: the update revision becomes current.
    const replicas = set.spec?.replicas ?? 1;
    if (
      (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' &&
      status.updatedReplicas === replicas &&
      status.readyReplicas === replicas &&
      status.replicas === replicas
    ) {
      status.currentRevision = updateRevision.metadata.name;
      status.currentReplicas = status.updatedReplicas;
    }
    if (JSON.stringify(sortKeys(status)) === JSON.stringify(sortKeys(set.status ?? {}))) return;
    try {
      await this.client.updateStatus({ ...set, status });
    } catch (err) {
      if (!isConflict(err)) throw err;
      const fresh = await this.client.get(set.metadata.namespace ?? '', set.metadata.name ?? '');
      await this.client.updateStatus({ ...fresh, status });
    }
  }

  run(workers: number): Promise<void> {
    return this.runner.run(workers);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }
}

function sortKeys(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = (o as Record<string, unknown>)[k];
  return out;
}
