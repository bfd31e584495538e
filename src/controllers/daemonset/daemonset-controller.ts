// The DaemonSet controller (upstream's pkg/controller/daemon): one pod on every eligible node.
//
// sync(key):
// 1. Read the DaemonSet (gone: forget its expectations). One being deleted is left to the garbage
//    collector.
// 2. History: a ControllerRevision for the current template (its hash labels the pods as
//    controller-revision-hash); older revisions are pruned beyond revisionHistoryLimit.
// 3. Claim pods by selector and group them by the node they are for (spec.nodeName, or the
//    metadata.name their node affinity pins them to).
// 4. If earlier creates/deletes were observed: for every node decide shouldRun /
//    shouldContinueRunning (predicates.ts). Create a pod (pinned to the node by required node
//    affinity; the scheduler binds it) where one should run and none does; delete pods where none
//    may stay, failed pods (with back-off, FailedDaemonPod), duplicates (keeping the oldest), and
//    pods for nodes that no longer exist.
// 5. Rolling update: replace pods of old revisions while at most maxUnavailable nodes are
//    unavailable (or, with maxSurge, start the new pod first and delete the old one once the new
//    one is available). OnDelete: replace only what users delete.
// 6. Status: desired/current/misscheduled/ready/available/updated/unavailable, observedGeneration.
import type {
  ControllerRevision,
  DaemonSet,
  DaemonSetStatus,
  Node,
  Pod,
  PodTemplateSpec,
} from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import {
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type SharedInformer,
} from '../../client/informer.js';
import type { EventRecorder } from '../../client/events.js';
import { createLogger, type Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { parseTime, realClock, type Clock } from '../common/clock.js';
import { claimObjects } from '../common/controller-ref.js';
import { errText, isConflict, isNamespaceTerminating, isNotFound } from '../common/errors.js';
import {
  CONTROLLER_UID_INDEX,
  controllerUidIndexFunc,
  ensureIndex,
  ownedAndOrphans,
} from '../common/indexes.js';
import { controllerRef, type PodControl } from '../common/pod-control.js';
import { controllerRefOf, isPodAvailable, isPodReady, podKey } from '../common/pods.js';
import { queueRunner, type QueueRunner } from '../common/runner.js';
import { selectorMatcher } from '../common/selectors.js';
import { SLOW_START_INITIAL_BATCH_SIZE, slowStartBatch } from '../common/slow-start.js';
import { valueFromIntOrPercent } from '../deployment/util.js';
import {
  POD_REVISION_LABEL,
  ensureUpdateRevision,
  revisionHash,
  truncateHistory,
  type RevisionClient,
} from '../statefulset/history.js';
import { CreateDeleteExpectations } from './expectations.js';
import { nodeShouldRunDaemonPod, pinToNode, targetNodeName, withDaemonTolerations } from './predicates.js';

/** Upstream's DaemonSet pod-template-generation label (deprecated, still set). */
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
/** Upstream's BurstReplicas for daemon sets. */
export const DS_BURST_REPLICAS = 250;
const FAILED_POD_BACKOFF_INITIAL_MS = 1000;
const FAILED_POD_BACKOFF_MAX_MS = 15 * 60_000;

const podsCreated = metrics.counter(
  'k8ts_daemonset_pods_created_total',
  'Pods created by the daemonset controller.',
);
const podsDeleted = metrics.counter(
  'k8ts_daemonset_pods_deleted_total',
  'Pods deleted by the daemonset controller.',
);

export interface DaemonSetClient {
  updateStatus(ds: DaemonSet): Promise<DaemonSet>;
  get(namespace: string, name: string): Promise<DaemonSet>;
  revisions: RevisionClient;
}

export interface DaemonSetControllerOptions {
  dsInformer: SharedInformer<DaemonSet>;
  podInformer: SharedInformer<Pod>;
  nodeInformer: SharedInformer<Node>;
  revisionInformer: SharedInformer<ControllerRevision>;
  podControl: PodControl;
  client: DaemonSetClient;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
  /**
   * Also set spec.nodeName on new pods (bypassing the scheduler), for clusters that run no
   * scheduler. By default pods are pinned by node affinity only and the scheduler binds them.
   */
  setNodeName?: boolean;
}

/** The template of a daemon pod: daemon tolerations, revision hash and template generation labels. */
export function daemonPodTemplate(ds: DaemonSet, hash: string): PodTemplateSpec {
  const t = structuredClone(ds.spec!.template);
  t.metadata = { ...(t.metadata ?? {}) };
  t.metadata.labels = {
    ...(t.metadata.labels ?? {}),
    [TEMPLATE_GENERATION_LABEL]: String(ds.metadata.generation ?? 1),
    [POD_REVISION_LABEL]: hash,
  };
  t.spec = withDaemonTolerations(t.spec ?? { containers: [] });
  return t;
}

function isTerminating(p: Pod): boolean {
  return !!p.metadata.deletionTimestamp;
}

function creationMs(p: KubeObject): number {
  return parseTime(p.metadata.creationTimestamp) ?? 0;
}

export class DaemonSetController {
  readonly expectations: CreateDeleteExpectations;
  readonly runner: QueueRunner;
  private readonly dsInformer: SharedInformer<DaemonSet>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly nodeInformer: SharedInformer<Node>;
  private readonly revInformer: SharedInformer<ControllerRevision>;
  private readonly podControl: PodControl;
  private readonly client: DaemonSetClient;
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly setNodeName: boolean;
  /** `<ds key>/<node>` → back-off for replacing failed pods. */
  private readonly failedBackoff = new Map<string, { delayMs: number; until: number }>();

  constructor(o: DaemonSetControllerOptions) {
    this.dsInformer = o.dsInformer;
    this.podInformer = o.podInformer;
    this.nodeInformer = o.nodeInformer;
    this.revInformer = o.revisionInformer;
    this.podControl = o.podControl;
    this.client = o.client;
    this.recorder = o.recorder;
    this.clock = o.clock ?? realClock;
    this.log = o.logger ?? createLogger('controller').child('daemonset');
    this.setNodeName = o.setNodeName ?? false;
    this.expectations = new CreateDeleteExpectations(this.clock);
    ensureIndex(this.podInformer, CONTROLLER_UID_INDEX, controllerUidIndexFunc);
    ensureIndex(this.revInformer, CONTROLLER_UID_INDEX, controllerUidIndexFunc);
    this.runner = queueRunner('daemonset', this.log, (key) => this.sync(key));
  }

  registerHandlers(): void {
    this.dsInformer.addEventHandler({
      onAdd: (ds) => this.enqueue(ds),
      onUpdate: (_o, cur) => this.enqueue(cur),
      onDelete: (obj) => {
        const key = metaNamespaceKey(deletedObject(obj));
        this.expectations.deleteExpectations(key);
        for (const k of [...this.failedBackoff.keys()])
          if (k.startsWith(`${key}/`)) this.failedBackoff.delete(k);
        this.runner.queue.add(key);
      },
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => {
        const ds = this.dsFor(pod);
        if (ds) {
          this.expectations.creationObserved(metaNamespaceKey(ds));
          this.enqueue(ds);
        } else if (!controllerRefOf(pod)) this.enqueueMatching(pod);
      },
      onUpdate: (old, cur) => {
        const ds = this.dsFor(cur);
        if (ds) {
          if (cur.metadata.deletionTimestamp)
            this.expectations.deletionObserved(metaNamespaceKey(ds), podKey(cur));
          this.enqueue(ds);
        } else if (!controllerRefOf(cur)) this.enqueueMatching(cur);
        const oldDs = this.dsFor(old);
        if (oldDs && oldDs !== ds) this.enqueue(oldDs);
      },
      onDelete: (obj: Pod | DeletedFinalStateUnknown<Pod>) => {
        const pod = deletedObject(obj);
        const ds = this.dsFor(pod);
        if (!ds) return;
        this.expectations.deletionObserved(metaNamespaceKey(ds), podKey(pod));
        this.enqueue(ds);
      },
    });
    const allDaemonSets = (): void => {
      for (const ds of this.dsInformer.list()) this.enqueue(ds);
    };
    this.nodeInformer.addEventHandler({
      onAdd: allDaemonSets,
      onUpdate: (old, cur) => {
        const relevant =
          JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(cur.metadata.labels ?? {}) ||
          JSON.stringify(old.spec?.taints ?? []) !== JSON.stringify(cur.spec?.taints ?? []) ||
          old.spec?.unschedulable !== cur.spec?.unschedulable;
        if (relevant) allDaemonSets();
      },
      onDelete: allDaemonSets,
    });
    this.revInformer.addEventHandler({
      onDelete: (obj) => {
        const rev = deletedObject(obj);
        const ref = controllerRefOf(rev);
        if (ref?.kind !== 'DaemonSet') return;
        const ds = this.dsInformer.get(rev.metadata.namespace, ref.name);
        if (ds) this.enqueue(ds);
      },
    });
  }

  private enqueue(ds: DaemonSet): void {
    this.runner.queue.add(metaNamespaceKey(ds));
  }

  private dsFor(pod: Pod): DaemonSet | undefined {
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== 'DaemonSet') return undefined;
    const ds = this.dsInformer.get(pod.metadata.namespace, ref.name);
    return ds && ds.metadata.uid === ref.uid ? ds : undefined;
  }

  private enqueueMatching(pod: Pod): void {
    for (const ds of this.dsInformer.list(pod.metadata.namespace ?? ''))
      if (selectorMatcher(ds.spec?.selector)(pod.metadata.labels)) this.enqueue(ds);
  }

  private revisionsOf(ds: DaemonSet): ControllerRevision[] {
    return this.revInformer
      .byIndex(CONTROLLER_UID_INDEX, ds.metadata.uid ?? '')
      .filter((r) => r.metadata.namespace === ds.metadata.namespace);
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.dsInformer.get(namespace, name);
    if (!cached) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const ds = structuredClone<DaemonSet>(cached);
    if (ds.metadata.deletionTimestamp) return;
    const { revision, collisionCount, revisions } = await ensureUpdateRevision(
      ds,
      ds.spec?.template,
      this.revisionsOf(ds),
      ds.status?.collisionCount,
      this.client.revisions,
      // Daemon set revisions also carry the pods' hash label (upstream's DefaultDaemonSetUniqueLabelKey).
      (hash) => ({ [POD_REVISION_LABEL]: hash }),
    );
    const hash = revisionHash(revision);
    const nodes = this.nodeInformer.list();
    const pods = await this.claimPods(ds);
    const byNode = new Map<string, Pod[]>();
    const unpinned: Pod[] = [];
    for (const p of pods) {
      const n = targetNodeName(p.spec);
      if (!n) {
        unpinned.push(p);
        continue;
      }
      const list = byNode.get(n) ?? [];
      list.push(p);
      byNode.set(n, list);
    }
    let manageErr: unknown;
    if (this.expectations.satisfied(key)) {
      try {
        await this.manage(key, ds, nodes, byNode, unpinned, hash);
        if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate')
          await this.rollingUpdate(key, ds, nodes, byNode, hash);
      } catch (err) {
        manageErr = err;
      }
      await this.cleanupHistory(ds, revisions, revision, pods);
    }
    await this.updateStatus(ds, nodes, byNode, hash, collisionCount);
    if (manageErr !== undefined) throw manageErr instanceof Error ? manageErr : new Error(errText(manageErr));
  }

  private async claimPods(ds: DaemonSet): Promise<Pod[]> {
    const match = selectorMatcher(ds.spec?.selector);
    return claimObjects<Pod>(ownedAndOrphans(this.podInformer, ds), {
      owner: ds,
      match: (p) => match(p.metadata.labels),
      recheckOwner: () => this.client.get(ds.metadata.namespace ?? '', ds.metadata.name ?? ''),
      patch: (p, ops) => this.podControl.patchPod(p.metadata.namespace ?? '', p.metadata.name ?? '', ops),
      ref: controllerRef(ds),
    });
  }

  private surgeEnabled(ds: DaemonSet, desired: number): boolean {
    return this.maxSurge(ds, desired) > 0;
  }

  private maxSurge(ds: DaemonSet, desired: number): number {
    if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return 0;
    return valueFromIntOrPercent(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge ?? 0, desired, true);
  }

  private maxUnavailable(ds: DaemonSet, desired: number): number {
    const ru = ds.spec?.updateStrategy?.rollingUpdate;
    const surge = this.maxSurge(ds, desired);
    const mu = valueFromIntOrPercent(ru?.maxUnavailable ?? (surge > 0 ? 0 : 1), desired, true);
    return surge === 0 && mu === 0 ? 1 : mu;
  }

  private async manage(
    key: string,
    ds: DaemonSet,
    nodes: Node[],
    byNode: Map<string, Pod[]>,
    unpinned: Pod[],
    hash: string,
  ): Promise<void> {
    const now = this.clock.now();
    const createOn: string[] = [];
    const toDelete: Pod[] = [...unpinned.filter((p) => !isTerminating(p))];
    const nodeNames = new Set(nodes.map((n) => n.metadata.name ?? ''));
    const desired = nodes.filter((n) => nodeShouldRunDaemonPod(ds.spec?.template, n).shouldRun).length;
    const surge = this.surgeEnabled(ds, desired);
    for (const node of nodes) {
      const nodeName = node.metadata.name ?? '';
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(ds.spec?.template, node);
      const pods = byNode.get(nodeName) ?? [];
      if (shouldRun && pods.length === 0) {
        createOn.push(nodeName);
        continue;
      }
      if (!shouldContinueRunning) {
        for (const p of pods) if (!isTerminating(p)) toDelete.push(p);
        continue;
      }
      const live: Pod[] = [];
      for (const p of pods) {
        if (isTerminating(p)) continue;
        if (p.status?.phase === 'Failed') {
          const bk = `${key}/${nodeName}`;
          const b = this.failedBackoff.get(bk);
          if (b && now < b.until) {
            this.runner.queue.addAfter(key, b.until - now);
            continue;
          }
          const delay = b
            ? Math.min(b.delayMs * 2, FAILED_POD_BACKOFF_MAX_MS)
            : FAILED_POD_BACKOFF_INITIAL_MS;
          this.failedBackoff.set(bk, { delayMs: delay, until: now + delay });
          this.recorder.event(
            ds,
            'Warning',
            'FailedDaemonPod',
            `Found failed daemon pod ${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''} on node ${nodeName}, will try to kill it`,
          );
          toDelete.push(p);
          continue;
        }
        live.push(p);
      }
      if (live.length > 1) {
        const sorted = [...live].sort((a, b) => creationMs(a) - creationMs(b));
        if (surge) {
          const newest = sorted.filter((p) => p.metadata.labels?.[POD_REVISION_LABEL] === hash);
          const old = sorted.filter((p) => p.metadata.labels?.[POD_REVISION_LABEL] !== hash);
          const keep = new Set<Pod>([newest[0], old[0]].filter((p): p is Pod => p !== undefined));
          for (const p of sorted) if (!keep.has(p)) toDelete.push(p);
        } else for (const p of sorted.slice(1)) toDelete.push(p);
      }
    }
    for (const [nodeName, pods] of byNode) {
      if (nodeNames.has(nodeName)) continue;
      for (const p of pods) if (!isTerminating(p)) toDelete.push(p);
    }
    await this.syncNodes(key, ds, toDelete, createOn, hash);
  }

  /** Deletes and creates pods within the burst limit, recording expectations. */
  private async syncNodes(
    key: string,
    ds: DaemonSet,
    toDelete: Pod[],
    createOn: string[],
    hash: string,
  ): Promise<void> {
    const creates = createOn.slice(0, DS_BURST_REPLICAS);
    const deletes = toDelete.slice(0, DS_BURST_REPLICAS);
    if (creates.length === 0 && deletes.length === 0) return;
    this.expectations.expect(key, creates.length, deletes.map(podKey));
    const template = daemonPodTemplate(ds, hash);
    const ref = controllerRef(ds);
    const errors: unknown[] = [];
    let i = 0;
    const { successes, error } = await slowStartBatch(
      creates.length,
      SLOW_START_INITIAL_BATCH_SIZE,
      async () => {
        const nodeName = creates[i++]!;
        const t = structuredClone(template);
        t.spec = { ...t.spec!, affinity: pinToNode(t.spec?.affinity, nodeName) };
        if (this.setNodeName) t.spec.nodeName = nodeName;
        try {
          await this.podControl.createPod(ds.metadata.namespace ?? '', t, ds, ref);
          podsCreated.inc();
        } catch (err) {
          if (isNamespaceTerminating(err)) return;
          throw err;
        }
      },
    );
    for (let k = successes; k < creates.length; k++) this.expectations.creationObserved(key);
    if (error !== undefined) errors.push(error);
    await Promise.all(
      deletes.map(async (p) => {
        try {
          await this.podControl.deletePod(p.metadata.namespace ?? '', p.metadata.name ?? '', ds);
          podsDeleted.inc();
        } catch (err) {
          this.expectations.deletionObserved(key, podKey(p));
          if (!isNotFound(err)) errors.push(err);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
  }

  private async rollingUpdate(
    key: string,
    ds: DaemonSet,
    nodes: Node[],
    byNode: Map<string, Pod[]>,
    hash: string,
  ): Promise<void> {
    if (!this.expectations.satisfied(key)) return;
    const now = this.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const available = (p: Pod): boolean => isPodAvailable(p, minReady, now);
    const eligible = nodes.filter((n) => nodeShouldRunDaemonPod(ds.spec?.template, n).shouldRun);
    const desired = eligible.length;
    const maxSurge = this.maxSurge(ds, desired);
    const maxUnavailable = this.maxUnavailable(ds, desired);
    const oldToDelete: Pod[] = [];
    const newOn: string[] = [];
    let numUnavailable = 0;
    let numSurge = 0;
    const candidatesOld: Pod[] = [];
    const candidatesNew: string[] = [];
    const allowedNew: string[] = [];
    for (const node of eligible) {
      const nodeName = node.metadata.name ?? '';
      const pods = (byNode.get(nodeName) ?? []).filter(
        (p) => !isTerminating(p) && p.status?.phase !== 'Failed',
      );
      const newPod = pods.find((p) => p.metadata.labels?.[POD_REVISION_LABEL] === hash);
      const oldPod = pods.find((p) => p.metadata.labels?.[POD_REVISION_LABEL] !== hash);
      if (!newPod && !oldPod) {
        numUnavailable++;
        continue;
      }
      if (maxSurge === 0) {
        if (newPod) {
          if (!available(newPod)) numUnavailable++;
          continue;
        }
        if (!available(oldPod!)) oldToDelete.push(oldPod!);
        else candidatesOld.push(oldPod!);
        continue;
      }
      if (!oldPod) {
        if (newPod && !available(newPod)) numSurge++;
        continue;
      }
      if (!available(oldPod)) {
        if (!newPod) allowedNew.push(nodeName);
        else numSurge++;
        continue;
      }
      if (!newPod) candidatesNew.push(nodeName);
      else if (available(newPod)) oldToDelete.push(oldPod);
      else numSurge++;
    }
    if (maxSurge === 0) {
      const remaining = Math.max(0, maxUnavailable - numUnavailable - oldToDelete.length);
      oldToDelete.push(...candidatesOld.slice(0, remaining));
    } else {
      const remaining = Math.max(0, maxSurge - numSurge);
      newOn.push(...allowedNew, ...candidatesNew.slice(0, remaining));
    }
    if (oldToDelete.length === 0 && newOn.length === 0) return;
    this.log.debug('rolling update', {
      key,
      deleteOld: oldToDelete.length,
      surgeNew: newOn.length,
      maxUnavailable,
      maxSurge,
    });
    await this.syncNodes(key, ds, oldToDelete, newOn, hash);
  }

  private async cleanupHistory(
    ds: DaemonSet,
    revisions: ControllerRevision[],
    current: ControllerRevision,
    pods: Pod[],
  ): Promise<void> {
    const limit = ds.spec?.revisionHistoryLimit ?? 10;
    const live = new Set(
      pods.map((p) => p.metadata.labels?.[POD_REVISION_LABEL]).filter((h): h is string => !!h),
    );
    const inUse = new Set<string>([current.metadata.name ?? '']);
    for (const r of revisions) if (live.has(revisionHash(r))) inUse.add(r.metadata.name ?? '');
    try {
      await truncateHistory(revisions, inUse, limit, this.client.revisions);
    } catch (err) {
      if (!isNotFound(err))
        this.log.warn('cleaning up revisions', { ds: metaNamespaceKey(ds), err: errText(err) });
    }
  }

  private async updateStatus(
    ds: DaemonSet,
    nodes: Node[],
    byNode: Map<string, Pod[]>,
    hash: string,
    collisionCount: number,
  ): Promise<void> {
    const now = this.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(ds.spec?.template, node);
      const pods = (byNode.get(node.metadata.name ?? '') ?? []).filter((p) => !isTerminating(p));
      const scheduled = pods.length > 0;
      if (shouldRun) {
        desired++;
        if (!scheduled) continue;
        current++;
        const sorted = [...pods].sort((a, b) => creationMs(a) - creationMs(b));
        const pod = sorted.find((p) => p.metadata.labels?.[POD_REVISION_LABEL] === hash) ?? sorted[0]!;
        if (isPodReady(pod)) {
          ready++;
          if (isPodAvailable(pod, minReady, now)) available++;
        }
        if (pod.metadata.labels?.[POD_REVISION_LABEL] === hash) updated++;
      } else if (scheduled) misscheduled++;
    }
    const status: DaemonSetStatus = {
      ...(ds.status ?? {}),
      desiredNumberScheduled: desired,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      numberAvailable: available,
      numberUnavailable: desired - available,
      updatedNumberScheduled: updated,
      observedGeneration: ds.metadata.generation ?? 0,
    };
    if (collisionCount > 0 || ds.status?.collisionCount !== undefined) status.collisionCount = collisionCount;
    if (JSON.stringify(sortKeys(status)) === JSON.stringify(sortKeys(ds.status ?? {}))) return;
    try {
      await this.client.updateStatus({ ...ds, status });
    } catch (err) {
      if (!isConflict(err)) throw err;
      const fresh = await this.client.get(ds.metadata.namespace ?? '', ds.metadata.name ?? '');
      await this.client.updateStatus({ ...fresh, status });
    }
    // With minReadySeconds, pods become available later without an event: look again then.
    if (minReady > 0 && available < ready) this.runner.queue.addAfter(metaNamespaceKey(ds), minReady * 1000);
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
