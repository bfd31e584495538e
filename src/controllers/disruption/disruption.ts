// The disruption controller (upstream pkg/controller/disruption): keeps each PodDisruptionBudget's
// status current — how many pods are expected (from the scale of the pods' controllers when the
// budget is a percentage or maxUnavailable), how many must stay healthy, how many are healthy now,
// and so how many may be disrupted — and the DisruptionAllowed condition. Pods the eviction
// subresource recorded in status.disruptedPods count as gone until they are deleted or two minutes
// pass, so concurrent evictions cannot overdraw the budget.
import type {
  Condition,
  Deployment,
  Pod,
  PodDisruptionBudget,
  PodDisruptionBudgetStatus,
  ReplicaSet,
  ReplicationController,
  StatefulSet,
} from '../../api/generated/types.js';
import { scaledIntOrPercent } from '../../api/kinds/util.js';
import { compileLabelSelector } from '../../api/labels.js';
import type { OwnerReference } from '../../api/meta.js';
import type { EventRecorder } from '../../client/events.js';
import {
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type Lister,
  type SharedInformer,
} from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { formatTime, parseTime, realClock, type Clock } from '../common/clock.js';
import { errText, isConflict, isNotFound } from '../common/errors.js';
import { controllerRefOf, isPodReady } from '../common/pods.js';
import { queueRunner, type QueueRunner } from '../common/runner.js';
import type { ScaleClient } from '../common/scale-client.js';

/** How long a pod recorded as disrupted is expected to take to be deleted (upstream's DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60_000;
/** How long a DisruptionTarget condition may stay on a pod that is not being deleted. */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60_000;

export const DISRUPTION_ALLOWED = 'DisruptionAllowed';
export const SUFFICIENT_PODS = 'SufficientPods';
export const INSUFFICIENT_PODS = 'InsufficientPods';
export const SYNC_FAILED = 'SyncFailed';

export interface DisruptionControllerOptions {
  pdbs: SharedInformer<PodDisruptionBudget>;
  pods: SharedInformer<Pod>;
  replicaSets: Lister<ReplicaSet>;
  deployments: Lister<Deployment>;
  statefulSets: Lister<StatefulSet>;
  replicationControllers: Lister<ReplicationController>;
  /** The scale subresource of any other controller (custom resources). */
  scales: ScaleClient;
  updateStatus(pdb: PodDisruptionBudget): Promise<PodDisruptionBudget>;
  /** Writes pods/status (to reset a stale DisruptionTarget condition). */
  updatePodStatus(pod: Pod): Promise<Pod>;
  stalePodDisruptionTimeoutMs?: number;
  recorder: EventRecorder;
  log: Logger;
  clock?: Clock;
}

interface ControllerScale {
  uid: string;
  replicas: number;
}

/** Sets the DisruptionAllowed condition from status.disruptionsAllowed (upstream's pdb helper). */
export function updateDisruptionAllowedCondition(status: PodDisruptionBudgetStatus, now: number): void {
  const allowed = (status.disruptionsAllowed ?? 0) > 0;
  setCondition(status, {
    type: DISRUPTION_ALLOWED,
    status: allowed ? 'True' : 'False',
    reason: allowed ? SUFFICIENT_PODS : INSUFFICIENT_PODS,
    message: '',
    observedGeneration: status.observedGeneration,
    lastTransitionTime: formatTime(now),
  });
}

/** meta.SetStatusCondition: the transition time moves only when the status changes. */
function setCondition(status: PodDisruptionBudgetStatus, c: Condition): void {
  const conditions = (status.conditions ??= []);
  const existing = conditions.find((x) => x.type === c.type);
  if (!existing) {
    conditions.push(c);
    return;
  }
  if (existing.status !== c.status) existing.lastTransitionTime = c.lastTransitionTime;
  existing.status = c.status;
  existing.reason = c.reason;
  existing.message = c.message;
  existing.observedGeneration = c.observedGeneration;
}

export class DisruptionController {
  private readonly runner: QueueRunner;
  private readonly staleRunner: QueueRunner;
  private readonly clock: Clock;

  constructor(private readonly o: DisruptionControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.runner = queueRunner('disruption', o.log, (key) => this.sync(key));
    this.staleRunner = queueRunner('disruption-stale-pod', o.log, (key) => this.syncStalePodDisruption(key));
  }

  registerHandlers(): void {
    const enqueue = (pdb: PodDisruptionBudget): void => this.runner.queue.add(metaNamespaceKey(pdb));
    this.o.pdbs.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, cur) => enqueue(cur),
      onDelete: (p) => enqueue(deletedObject(p)),
    });
    const podChanged = (pod: Pod): void => {
      for (const pdb of this.pdbsForPod(pod)) enqueue(pdb);
      const stale = this.staleDisruptionWait(pod);
      if (stale !== undefined) this.staleRunner.queue.addAfter(metaNamespaceKey(pod), stale);
    };
    this.o.pods.addEventHandler({
      onAdd: podChanged,
      onUpdate: (old, cur) => {
        podChanged(cur);
        if (JSON.stringify(old.metadata.labels) !== JSON.stringify(cur.metadata.labels)) podChanged(old);
      },
      onDelete: (p: Pod | DeletedFinalStateUnknown<Pod>) => podChanged(deletedObject(p)),
    });
  }

  async run(workers: number): Promise<void> {
    await Promise.all([this.runner.run(workers), this.staleRunner.run(workers)]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.runner.stop(), this.staleRunner.stop()]);
  }

  /**
   * How long until a DisruptionTarget condition on this pod is stale (0: now), or undefined if it
   * has none that can go stale: pods being deleted or finished, and the kubelet's own, keep theirs.
   */
  staleDisruptionWait(pod: Pod): number | undefined {
    if (pod.metadata.deletionTimestamp) return undefined;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return undefined;
    const c = pod.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
    if (!c || c.status !== 'True' || c.reason === 'TerminationByKubelet') return undefined;
    const since = parseTime(c.lastTransitionTime) ?? 0;
    const timeout = this.o.stalePodDisruptionTimeoutMs ?? STALE_POD_DISRUPTION_TIMEOUT_MS;
    return Math.max(0, since + timeout - this.clock.now());
  }

  /** A pod marked for disruption that was never deleted gets its DisruptionTarget reset to False. */
  async syncStalePodDisruption(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const pod = this.o.pods.get(namespace, name);
    if (!pod) return;
    const wait = this.staleDisruptionWait(pod);
    if (wait === undefined) return;
    if (wait > 0) {
      this.staleRunner.queue.addAfter(key, wait);
      return;
    }
    const next = structuredClone(pod);
    const c = next.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
    if (!c) return;
    c.status = 'False';
    c.lastTransitionTime = formatTime(this.clock.now());
    await this.o.updatePodStatus(next);
    this.o.log.info('reset stale DisruptionTarget condition', { pod: key });
  }

  /** The budgets in the pod's namespace whose selector picks it (an empty selector picks every pod). */
  pdbsForPod(pod: Pod): PodDisruptionBudget[] {
    return this.o.pdbs
      .list(pod.metadata.namespace)
      .filter((pdb) => compileLabelSelector(pdb.spec?.selector)(pod.metadata.labels));
  }

  private podsForPdb(pdb: PodDisruptionBudget): Pod[] {
    const matches = compileLabelSelector(pdb.spec?.selector);
    return this.o.pods.list(pdb.metadata.namespace, (p) => matches(p.metadata.labels));
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.o.pdbs.get(namespace, name);
    if (!cached) return;
    const pdb = structuredClone(cached);
    try {
      await this.trySync(pdb);
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) throw err;
      this.o.log.info('failed to sync pdb', { key, err: errText(err) });
      await this.failSafe(pdb, err);
      throw err;
    }
  }

  private async trySync(pdb: PodDisruptionBudget): Promise<void> {
    const pods = this.podsForPdb(pdb);
    if (pods.length === 0) this.o.recorder.event(pdb, 'Normal', 'NoPods', 'No matching pods found');
    let expected: { expectedCount: number; desiredHealthy: number; unmanaged: string[] };
    try {
      expected = await this.expectedPodCount(pdb, pods);
    } catch (err) {
      this.o.recorder.event(
        pdb,
        'Warning',
        'CalculateExpectedPodCountFailed',
        `Failed to calculate the number of expected pods: ${errText(err)}`,
      );
      throw err;
    }
    if (expected.unmanaged.length > 0)
      this.o.log.debug('found unmanaged pods associated with this PDB', {
        pdb: metaNamespaceKey(pdb),
        pods: expected.unmanaged,
      });
    const now = this.clock.now();
    const { disrupted, recheckAt } = this.buildDisruptedPodMap(pods, pdb, now);
    const currentHealthy = countHealthyPods(pods, disrupted, now);
    await this.updateStatus(pdb, currentHealthy, expected.desiredHealthy, expected.expectedCount, disrupted);
    if (recheckAt !== undefined)
      this.runner.queue.addAfter(metaNamespaceKey(pdb), Math.max(0, recheckAt - now));
  }

  /** expectedPods and desiredHealthy from minAvailable / maxUnavailable (upstream's getExpectedPodCount). */
  async expectedPodCount(
    pdb: PodDisruptionBudget,
    pods: readonly Pod[],
  ): Promise<{ expectedCount: number; desiredHealthy: number; unmanaged: string[] }> {
    const spec = pdb.spec ?? {};
    if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
      const { expectedCount, unmanaged } = await this.expectedScale(pdb, pods);
      const maxUnavailable = intOrPercent(spec.maxUnavailable, expectedCount);
      return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable), unmanaged };
    }
    if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
      if (typeof spec.minAvailable === 'number')
        return { expectedCount: pods.length, desiredHealthy: spec.minAvailable, unmanaged: [] };
      const { expectedCount, unmanaged } = await this.expectedScale(pdb, pods);
      return { expectedCount, desiredHealthy: intOrPercent(spec.minAvailable, expectedCount), unmanaged };
    }
    return { expectedCount: 0, desiredHealthy: 0, unmanaged: [] };
  }

  /** The sum of the scales of the pods' controllers; pods without a controller are unmanaged. */
  private async expectedScale(
    pdb: PodDisruptionBudget,
    pods: readonly Pod[],
  ): Promise<{ expectedCount: number; unmanaged: string[] }> {
    const scales = new Map<string, number>();
    const seen = new Set<string>();
    const unmanaged: string[] = [];
    const namespace = pdb.metadata.namespace ?? '';
    for (const pod of pods) {
      const ref = controllerRefOf(pod);
      if (!ref) {
        unmanaged.push(pod.metadata.name ?? '');
        continue;
      }
      if (seen.has(ref.uid)) continue;
      seen.add(ref.uid);
      const found = await this.controllerScale(ref, namespace);
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name ?? ''}"`);
      // Keyed by the scaled controller: the ReplicaSets of one Deployment count its replicas once.
      scales.set(found.uid, found.replicas);
    }
    let expectedCount = 0;
    for (const n of scales.values()) expectedCount += n;
    return { expectedCount, unmanaged };
  }

  /** upstream's finders: ReplicaSet (or its Deployment), StatefulSet, ReplicationController, then any scale. */
  private async controllerScale(
    ref: OwnerReference,
    namespace: string,
  ): Promise<ControllerScale | undefined> {
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.slice(0, ref.apiVersion.indexOf('/')) : '';
    if (ref.kind === 'ReplicaSet' && group === 'apps') {
      const rs = this.o.replicaSets.get(namespace, ref.name);
      if (!rs || rs.metadata.uid !== ref.uid) return undefined;
      const owner = controllerRefOf(rs);
      if (owner && owner.kind === 'Deployment' && owner.apiVersion.startsWith('apps/')) {
        const d = this.o.deployments.get(namespace, owner.name);
        if (!d || d.metadata.uid !== owner.uid) return undefined;
        return { uid: owner.uid, replicas: d.spec?.replicas ?? 1 };
      }
      return { uid: ref.uid, replicas: rs.spec?.replicas ?? 1 };
    }
    if (ref.kind === 'StatefulSet' && group === 'apps') {
      const ss = this.o.statefulSets.get(namespace, ref.name);
      if (!ss || ss.metadata.uid !== ref.uid) return undefined;
      return { uid: ref.uid, replicas: ss.spec?.replicas ?? 1 };
    }
    if (ref.kind === 'ReplicationController' && group === '') {
      const rc = this.o.replicationControllers.get(namespace, ref.name);
      if (!rc || rc.metadata.uid !== ref.uid) return undefined;
      return { uid: ref.uid, replicas: rc.spec?.replicas ?? 1 };
    }
    try {
      const scale = await this.o.scales.getScale(namespace, {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        name: ref.name,
      });
      if (scale.metadata.uid !== ref.uid) return undefined;
      return { uid: ref.uid, replicas: scale.spec?.replicas ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The disrupted pods still expected to go away, and when the earliest of them times out. */
  private buildDisruptedPodMap(
    pods: readonly Pod[],
    pdb: PodDisruptionBudget,
    now: number,
  ): { disrupted: Record<string, string>; recheckAt: number | undefined } {
    const recorded = pdb.status?.disruptedPods;
    const disrupted: Record<string, string> = {};
    let recheckAt: number | undefined;
    if (!recorded) return { disrupted, recheckAt };
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const name = pod.metadata.name ?? '';
      const at = recorded[name];
      if (at === undefined) continue;
      const expectedDeletion = (parseTime(at) ?? 0) + DELETION_TIMEOUT_MS;
      if (expectedDeletion < now) {
        this.o.recorder.event(
          pod,
          'Warning',
          'NotDeleted',
          `Pod was expected by PDB ${pdb.metadata.namespace ?? ''}/${pdb.metadata.name ?? ''} to be deleted but it wasn't`,
        );
      } else {
        if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
        disrupted[name] = at;
      }
    }
    return { disrupted, recheckAt };
  }

  private async updateStatus(
    pdb: PodDisruptionBudget,
    currentHealthy: number,
    desiredHealthy: number,
    expectedPods: number,
    disruptedPods: Record<string, string>,
  ): Promise<void> {
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    if (expectedPods <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const generation = pdb.metadata.generation ?? 0;
    const st = pdb.status ?? {};
    const wantCondition = disruptionsAllowed > 0 ? 'True' : 'False';
    const cond = st.conditions?.find((c) => c.type === DISRUPTION_ALLOWED);
    const conditionUpToDate =
      cond !== undefined &&
      cond.status === wantCondition &&
      cond.reason === (disruptionsAllowed > 0 ? SUFFICIENT_PODS : INSUFFICIENT_PODS) &&
      cond.observedGeneration === generation;
    if (
      st.currentHealthy === currentHealthy &&
      st.desiredHealthy === desiredHealthy &&
      st.expectedPods === expectedPods &&
      st.disruptionsAllowed === disruptionsAllowed &&
      JSON.stringify(st.disruptedPods ?? {}) === JSON.stringify(disruptedPods) &&
      st.observedGeneration === generation &&
      conditionUpToDate
    )
      return;
    const status: PodDisruptionBudgetStatus = {
      currentHealthy,
      desiredHealthy,
      expectedPods,
      disruptionsAllowed,
      ...(Object.keys(disruptedPods).length > 0 ? { disruptedPods } : {}),
      observedGeneration: generation,
      conditions: st.conditions ?? [],
    };
    updateDisruptionAllowedCondition(status, this.clock.now());
    await this.o.updateStatus({ ...pdb, status });
  }

  /** After a failed sync nothing may be disrupted (upstream's failSafe). */
  private async failSafe(pdb: PodDisruptionBudget, err: unknown): Promise<void> {
    const status: PodDisruptionBudgetStatus = {
      ...(pdb.status ?? {}),
      disruptionsAllowed: 0,
      conditions: pdb.status?.conditions ?? [],
    };
    setCondition(status, {
      type: DISRUPTION_ALLOWED,
      status: 'False',
      reason: SYNC_FAILED,
      message: errText(err),
      observedGeneration: pdb.status?.observedGeneration,
      lastTransitionTime: formatTime(this.clock.now()),
    });
    try {
      await this.o.updateStatus({ ...pdb, status });
    } catch (e) {
      this.o.log.info('failed to write fail-safe pdb status', {
        pdb: metaNamespaceKey(pdb),
        err: errText(e),
      });
    }
  }
}

function intOrPercent(v: number | string, total: number): number {
  if (typeof v === 'string' && !v.endsWith('%'))
    throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  return scaledIntOrPercent(v, total, true);
}

/** Ready pods not being deleted and not recorded as disrupted (upstream's countHealthyPods). */
export function countHealthyPods(
  pods: readonly Pod[],
  disrupted: Record<string, string>,
  now: number,
): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disrupted[pod.metadata.name ?? ''];
    if (at !== undefined && (parseTime(at) ?? 0) + DELETION_TIMEOUT_MS > now) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}
