// The node lifecycle controller (upstream pkg/controller/nodelifecycle) and the taint-eviction
// controller (pkg/controller/tainteviction) in one: a node whose kubelet stopped renewing its Lease
// in kube-node-lease (and stopped posting status) for the grace period gets its Ready and pressure
// conditions set to Unknown, the unreachable / not-ready NoExecute and NoSchedule taints follow the
// Ready condition, pods on an unreachable node are marked not ready, and pods on a node with a
// NoExecute taint they do not tolerate are deleted — at once, or after the smallest
// tolerationSeconds of the tolerations that let them stay.
import type {
  Lease,
  Node,
  NodeCondition,
  ObjectReference,
  Pod,
  Taint,
  Toleration,
} from '../../api/generated/types.js';
import type { EventRecorder } from '../../client/events.js';
import type { Lister } from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { realClock, formatTime, parseTime, type Clock } from '../common/clock.js';
import { errText, isNotFound } from '../common/errors.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Upstream's --node-monitor-grace-period default. */
export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS = 40_000;
/** Upstream's --node-monitor-period default. */
export const DEFAULT_NODE_MONITOR_PERIOD_MS = 5_000;

/** The conditions the kubelet posts that become Unknown when it stops posting. */
const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export interface NodeLifecycleClient {
  updateNodeStatus(node: Node): Promise<Node>;
  /** Replaces the node's taints (optimistically, at the given resourceVersion). */
  setNodeTaints(name: string, resourceVersion: string | undefined, taints: Taint[]): Promise<Node>;
  updatePodStatus(pod: Pod): Promise<Pod>;
  deletePod(namespace: string, name: string): Promise<void>;
}

export interface NodeLifecycleOptions {
  client: NodeLifecycleClient;
  nodes: Lister<Node>;
  pods: Lister<Pod>;
  /** Leases in kube-node-lease. */
  leases: Lister<Lease>;
  /** Events as the node controller ('node-controller'). */
  recorder: EventRecorder;
  /** Events as the taint-eviction controller (default: recorder). */
  evictionRecorder?: EventRecorder;
  log: Logger;
  clock?: Clock;
  nodeMonitorGracePeriodMs?: number;
}

interface NodeHealth {
  /** The Lease renewTime and Ready heartbeat last seen, and when (local clock) either last changed. */
  renewTime: string | undefined;
  heartbeat: string | undefined;
  probeTimestamp: number;
}

interface ScheduledEviction {
  uid: string | undefined;
  node: string;
  fireAt: number;
}

function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

function condition(node: Node, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  const op = t.operator ?? 'Equal';
  if (!t.key) return op === 'Exists';
  if (t.key !== taint.key) return false;
  if (op === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

/**
 * How long a pod may stay on a node with these NoExecute taints (upstream's getMinTolerationTime):
 * undefined if a taint is not tolerated (evict now), Infinity if tolerated forever.
 */
export function minTolerationMs(tolerations: Toleration[], taints: Taint[]): number | undefined {
  let min = Infinity;
  for (const taint of taints) {
    const used = tolerations.filter((t) => tolerates(t, taint));
    if (used.length === 0) return undefined;
    for (const t of used) {
      if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
      min = Math.min(min, Math.max(0, t.tolerationSeconds) * 1000);
    }
  }
  return min;
}

/** The taints a node should carry for its conditions and spec (upstream's tainting passes). */
function wantedTaints(node: Node): { noExecute: Taint[]; noSchedule: Taint[] } {
  const ready = condition(node, 'Ready')?.status;
  const noExecute: Taint[] = [];
  const noSchedule: Taint[] = [];
  if (ready === 'False') {
    noExecute.push({ key: TAINT_NOT_READY, effect: 'NoExecute' });
    noSchedule.push({ key: TAINT_NOT_READY, effect: 'NoSchedule' });
  } else if (ready === 'Unknown') {
    noExecute.push({ key: TAINT_UNREACHABLE, effect: 'NoExecute' });
    noSchedule.push({ key: TAINT_UNREACHABLE, effect: 'NoSchedule' });
  }
  const pressure: Array<[string, string]> = [
    ['MemoryPressure', TAINT_MEMORY_PRESSURE],
    ['DiskPressure', TAINT_DISK_PRESSURE],
    ['PIDPressure', TAINT_PID_PRESSURE],
    ['NetworkUnavailable', TAINT_NETWORK_UNAVAILABLE],
  ];
  for (const [type, key] of pressure)
    if (condition(node, type)?.status === 'True') noSchedule.push({ key, effect: 'NoSchedule' });
  if (node.spec?.unschedulable) noSchedule.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return { noExecute, noSchedule };
}

/** Whether the node's managed NoSchedule taints differ from what its conditions and spec call for. */
export function noScheduleTaintsStale(node: Node): boolean {
  const want = wantedTaints(node).noSchedule;
  const current = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' && managed(t));
  return want.length !== current.length || want.some((w) => !current.some((c) => c.key === w.key));
}

const MANAGED_NO_EXECUTE = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE]);
const MANAGED_NO_SCHEDULE = new Set([
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_MEMORY_PRESSURE,
  TAINT_DISK_PRESSURE,
  TAINT_PID_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
  TAINT_UNSCHEDULABLE,
]);

function managed(t: Taint): boolean {
  return (
    (t.effect === 'NoExecute' && MANAGED_NO_EXECUTE.has(t.key)) ||
    (t.effect === 'NoSchedule' && MANAGED_NO_SCHEDULE.has(t.key))
  );
}

export class NodeLifecycleController {
  private readonly clock: Clock;
  private readonly evictionRecorder: EventRecorder;
  private readonly gracePeriodMs: number;
  private readonly health = new Map<string, NodeHealth>();
  /** Upstream's knownNodeSet: names and uids of the nodes this controller has registered. */
  private readonly known = new Map<string, string>();
  private readonly evictions = new Map<string, ScheduledEviction>();

  constructor(private readonly o: NodeLifecycleOptions) {
    this.clock = o.clock ?? realClock;
    this.evictionRecorder = o.evictionRecorder ?? o.recorder;
    this.gracePeriodMs = o.nodeMonitorGracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS;
  }

  /** One pass over every node (upstream's monitorNodeHealth plus the tainting passes). */
  async monitorNodeHealth(): Promise<void> {
    const nodes = this.o.nodes.list();
    const seen = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata.name ?? '';
      seen.add(name);
      if (!this.known.has(name)) {
        this.known.set(name, node.metadata.uid ?? '');
        this.nodeEvent(
          name,
          node.metadata.uid ?? '',
          'RegisteredNode',
          `Registered Node ${name} in Controller`,
        );
      }
      try {
        await this.syncNode(node);
      } catch (err) {
        if (!isNotFound(err))
          this.o.log.info('error updating node health', { node: name, err: errText(err) });
      }
    }
    for (const name of [...this.health.keys()]) if (!seen.has(name)) this.health.delete(name);
    for (const [name, uid] of [...this.known]) {
      if (seen.has(name)) continue;
      this.known.delete(name);
      this.nodeEvent(name, uid, 'RemovingNode', `Removing Node ${name} from Controller`);
    }
  }

  /** Upstream's RecordNodeEvent: a reference without namespace or resourceVersion, the message prefixed. */
  private nodeEvent(name: string, uid: string, reason: string, what: string): void {
    const ref: ObjectReference = { apiVersion: 'v1', kind: 'Node', name };
    if (uid) ref.uid = uid;
    this.o.recorder.event(ref, 'Normal', reason, `Node ${name} event: ${what}`);
  }

  private probeTimestamp(node: Node): number {
    const name = node.metadata.name ?? '';
    const now = this.clock.now();
    const lease = this.o.leases.get(NODE_LEASE_NAMESPACE, name);
    const renewTime = lease?.spec?.renewTime;
    const heartbeat = condition(node, 'Ready')?.lastHeartbeatTime;
    const saved = this.health.get(name);
    if (!saved) {
      // First sight: trust the recorded times (never later than now), so an old Lease counts as old.
      const times = [parseTime(renewTime), parseTime(heartbeat)].filter((t): t is number => t !== undefined);
      const recorded = times.length
        ? Math.max(...times)
        : (parseTime(node.metadata.creationTimestamp) ?? now);
      const probe = Math.min(recorded, now);
      this.health.set(name, { renewTime, heartbeat, probeTimestamp: probe });
      return probe;
    }
    // Later: a renewal observed now counts from now (as upstream, immune to clock skew).
    const renewed =
      (renewTime !== undefined &&
        renewTime !== saved.renewTime &&
        (parseTime(renewTime) ?? 0) > (parseTime(saved.renewTime) ?? 0)) ||
      (heartbeat !== undefined && heartbeat !== saved.heartbeat);
    if (renewed) saved.probeTimestamp = now;
    saved.renewTime = renewTime;
    saved.heartbeat = heartbeat;
    return saved.probeTimestamp;
  }

  private async syncNode(cached: Node): Promise<void> {
    const name = cached.metadata.name ?? '';
    const now = this.clock.now();
    let node = cached;
    const observedReady = condition(node, 'Ready')?.status;
    const probe = this.probeTimestamp(node);
    if (now - probe > this.gracePeriodMs) {
      const updated = structuredClone(node);
      updated.status ??= {};
      const conds = (updated.status.conditions ??= []);
      let changed = false;
      for (const type of KUBELET_CONDITIONS) {
        const c = conds.find((x) => x.type === type);
        if (!c) {
          conds.push({
            type,
            status: 'Unknown',
            reason: 'NodeStatusNeverUpdated',
            message: 'Kubelet never posted node status.',
            lastHeartbeatTime: node.metadata.creationTimestamp ?? undefined,
            lastTransitionTime: formatTime(now),
          });
          changed = true;
        } else if (c.status !== 'Unknown') {
          c.status = 'Unknown';
          c.reason = 'NodeStatusUnknown';
          c.message = 'Kubelet stopped posting node status.';
          c.lastTransitionTime = formatTime(now);
          changed = true;
        }
      }
      if (changed) {
        node = await this.o.client.updateNodeStatus(updated);
        this.o.log.info('node stopped posting status, conditions set to Unknown', { node: name });
        if (observedReady === 'True' || observedReady === undefined)
          this.o.recorder.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      }
    }
    if (condition(node, 'Ready')?.status === 'Unknown') await this.markPodsNotReady(name);
    await this.reconcileTaints(node);
  }

  /**
   * Upstream's doNoScheduleTaintingPass, run on every node change rather than every monitor period:
   * a cordoned node carries node.kubernetes.io/unschedulable as soon as the controller sees it.
   */
  async syncNoScheduleTaints(name: string): Promise<void> {
    const node = this.o.nodes.get(undefined, name);
    if (!node || !noScheduleTaintsStale(node)) return;
    try {
      await this.reconcileTaints(node, 'NoSchedule');
    } catch (err) {
      // A conflict or a deleted node: the next change or monitor pass tries again.
      this.o.log.info('error updating node NoSchedule taints', { node: name, err: errText(err) });
    }
  }

  private async reconcileTaints(node: Node, only?: 'NoSchedule'): Promise<void> {
    const { noExecute, noSchedule } = wantedTaints(node);
    const current = node.spec?.taints ?? [];
    const want = only ? noSchedule : [...noExecute, ...noSchedule];
    const inScope = (t: Taint): boolean => managed(t) && (!only || t.effect === only);
    const has = (t: Taint): boolean => current.some((c) => c.key === t.key && c.effect === t.effect);
    const keep = current.filter(
      (c) => !inScope(c) || want.some((w) => w.key === c.key && w.effect === c.effect),
    );
    const add = want
      .filter((w) => !has(w))
      .map((w) => (w.effect === 'NoExecute' ? { ...w, timeAdded: formatTime(this.clock.now()) } : w));
    if (add.length === 0 && keep.length === current.length) return;
    await this.o.client.setNodeTaints(node.metadata.name ?? '', node.metadata.resourceVersion, [
      ...keep,
      ...add,
    ]);
    this.o.log.info('updated node taints', {
      node: node.metadata.name,
      added: add.map((t) => `${t.key}:${t.effect}`),
      removed: current.filter((c) => !keep.includes(c)).map((t) => `${t.key}:${t.effect}`),
    });
  }

  /** Upstream's MarkPodsNotReady: the pods' Ready condition becomes False. */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    const pods = this.o.pods.list(undefined, (p) => p.spec?.nodeName === nodeName);
    for (const pod of pods) {
      const conds = pod.status?.conditions ?? [];
      const ready = conds.find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'False') continue;
      const updated = structuredClone(pod);
      const c = updated.status?.conditions?.find((x) => x.type === 'Ready');
      if (!c) continue;
      c.status = 'False';
      c.lastTransitionTime = formatTime(this.clock.now());
      try {
        await this.o.client.updatePodStatus(updated);
        this.o.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!isNotFound(err))
          this.o.log.info('error marking pod not ready', { pod: podKey(pod), err: errText(err) });
      }
    }
  }

  /** The taint-eviction pass: schedules, cancels and carries out deletions of pods on NoExecute-tainted nodes. */
  async processEvictions(): Promise<void> {
    const now = this.clock.now();
    const live = new Set<string>();
    for (const pod of this.o.pods.list(undefined, (p) => !!p.spec?.nodeName)) {
      const key = podKey(pod);
      if (pod.metadata.deletionTimestamp) continue;
      const node = this.o.nodes.get(undefined, pod.spec?.nodeName ?? '');
      const taints = (node?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
      if (taints.length === 0) continue;
      const min = minTolerationMs(pod.spec?.tolerations ?? [], taints);
      if (min === Infinity) continue;
      live.add(key);
      let scheduled = this.evictions.get(key);
      if (!scheduled || scheduled.uid !== pod.metadata.uid) {
        scheduled = { uid: pod.metadata.uid, node: pod.spec?.nodeName ?? '', fireAt: now + (min ?? 0) };
        this.evictions.set(key, scheduled);
      } else {
        scheduled.fireAt = Math.min(scheduled.fireAt, now + (min ?? 0));
      }
      if (scheduled.fireAt > now) continue;
      this.evictions.delete(key);
      this.o.log.info('deleting pod', { controller: 'taint-eviction-controller', pod: key });
      this.evictionRecorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
      try {
        await this.o.client.deletePod(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) {
          this.o.log.info('error deleting pod', { pod: key, err: errText(err) });
          this.evictions.set(key, scheduled);
        }
      }
    }
    for (const [key, s] of [...this.evictions]) {
      if (live.has(key)) continue;
      this.evictions.delete(key);
      const [namespace, name] = key.split('/');
      const pod = this.o.pods.get(namespace, name ?? '');
      if (pod && pod.metadata.uid === s.uid && !pod.metadata.deletionTimestamp)
        this.evictionRecorder.event(
          pod,
          'Normal',
          'TaintManagerEviction',
          `Cancelling deletion of Pod ${key}`,
        );
    }
  }

  /** When the next scheduled eviction is due (undefined if none). */
  nextEvictionAt(): number | undefined {
    let next: number | undefined;
    for (const s of this.evictions.values()) if (next === undefined || s.fireAt < next) next = s.fireAt;
    return next;
  }
}
