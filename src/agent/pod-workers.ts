// Pod workers: for each pod bound to one of this agent's nodes, keyed by UID, bring the runtime
// in line with the pod (start, keep running, stop when it is being deleted) and hand the
// resulting status to the status manager. A work queue guarantees a pod is never synced twice at
// once and collapses bursts of events; the runtime says when it next expects a change, and a
// timer heap wakes the pod then. A pod whose lifecycle ended (Succeeded/Failed) is left alone
// until it is deleted; a pod being deleted is stopped within its grace period, its final status
// written, and then it is removed for good.
import type { Pod, PodCondition, PodStatus } from '../api/generated/types.js';
import { runWorkers, WorkQueue } from '../client/workqueue.js';
import { createLogger, type Logger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import { admitPod, podHasStarted, rejectedStatus } from './admission.js';
import { computePodStatus, isTerminalPhase } from './pod-status.js';
import type { NodeRuntimeContext, PodRuntime, RuntimePodStatus } from './runtime.js';
import type { StatusManager } from './status-manager.js';
import { DelayHeap, parseTime, rfc3339 } from './support.js';

export const DEADLINE_EXCEEDED_REASON = 'DeadlineExceeded';
export const DEADLINE_EXCEEDED_MESSAGE = 'Pod was active on the node longer than the specified deadline';

const podSyncs = metrics.counter(
  'k8ts_agent_pod_syncs_total',
  'Pod worker syncs, by kind (sync, kill, cleanup).',
);

export interface PodWorkersOptions {
  runtime: PodRuntime;
  statusManager: StatusManager;
  /** The pod as the informer has it now (undefined once deleted). */
  getPod(uid: string): Pod | undefined;
  /** The node a pod is bound to, when it is one of ours. */
  nodeContext(nodeName: string): NodeRuntimeContext | undefined;
  /** Every pod bound to a node (for admission). */
  podsOnNode(nodeName: string): readonly Pod[];
  /** A node's allocatable resources (for admission). */
  allocatable(nodeName: string): Record<string, string> | undefined;
  /** Why a new pod may not start on a node under resource pressure (the eviction manager's admission). */
  pressureRejection?(pod: Pod): { reason: string; message: string } | undefined;
  /** Concurrent syncs (default 16). */
  workers?: number;
  /** Container probes: sets running containers' ready and started flags (absent: a running container is ready). */
  prober?: {
    update(pod: Pod, status: RuntimePodStatus): void;
    forget(uid: string): void;
  };
  log?: Logger;
}

export class PodWorkers {
  private readonly queue = new WorkQueue<string>({ name: 'agent_pod_workers' });
  private readonly delays: DelayHeap<string>;
  /** Pods whose containers ended for good (terminal phase computed), until the pod is deleted. */
  private readonly finished = new Set<string>();
  /** Pods handed to the status manager for their final delete. */
  private readonly deleting = new Set<string>();
  /** Pods admitted to their node (they hold its resources until they end). */
  private readonly admitted = new Set<string>();
  /** Pods the eviction manager chose, with the message their status will carry. */
  private readonly evictions = new Map<string, string>();
  private readonly log: Logger;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: PodWorkersOptions) {
    this.log = opts.log ?? createLogger('agent.pods');
    this.delays = new DelayHeap<string>((uid) => this.queue.add(uid), 10);
  }

  start(): void {
    this.running ??= runWorkers(this.queue, this.opts.workers ?? 16, (uid) => this.sync(uid), {
      logger: this.log,
    });
  }

  async stop(): Promise<void> {
    this.delays.close();
    await this.queue.shutDownWithDrain();
    await this.running;
  }

  enqueue(uid: string): void {
    this.queue.add(uid);
  }

  /**
   * Evicts a pod for node pressure: its containers are killed at once (a hard threshold allows no
   * grace) and it ends Failed, reason Evicted. False when it is already ending.
   */
  evict(uid: string, message: string): boolean {
    if (this.finished.has(uid) || this.deleting.has(uid) || this.evictions.has(uid)) return false;
    this.evictions.set(uid, message);
    this.queue.add(uid);
    return true;
  }

  get queued(): number {
    return this.queue.len();
  }

  private async sync(uid: string): Promise<void> {
    const { runtime, statusManager } = this.opts;
    const pod = this.opts.getPod(uid);
    if (!pod) {
      podSyncs.inc({ kind: 'cleanup' });
      this.delays.cancel(uid);
      this.finished.delete(uid);
      this.deleting.delete(uid);
      this.admitted.delete(uid);
      this.evictions.delete(uid);
      statusManager.forget(uid);
      this.opts.prober?.forget(uid);
      await runtime.removePod(uid);
      return;
    }
    const node = this.opts.nodeContext(pod.spec?.nodeName ?? '');
    if (!node) return;
    const apiTerminal = isTerminalPhase(pod.status?.phase);

    if (pod.metadata.deletionTimestamp) {
      if (this.deleting.has(uid)) return;
      podSyncs.inc({ kind: 'kill' });
      this.opts.prober?.forget(uid);
      if (apiTerminal) {
        await runtime.removePod(uid);
        this.deleting.add(uid);
        statusManager.requestDelete(pod);
        return;
      }
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      const result = await runtime.killPod(pod, grace, node);
      if (!result.done) {
        this.delays.scheduleAfter(uid, result.requeueAfterMs ?? 1000);
        return;
      }
      const status = computePodStatus({
        pod,
        runtime: result.status,
        hostIP: node.hostIP,
        podIsTerminal: true,
      });
      this.finished.add(uid);
      this.deleting.add(uid);
      statusManager.setPodStatus(pod, status, true);
      return;
    }

    if (apiTerminal) {
      // The server has the final status: nothing runs any more. As kubelet, the containers and
      // their logs stay until the pod is deleted (kubectl logs on a Job's Completed pod).
      this.finished.add(uid);
      this.admitted.delete(uid);
      this.opts.prober?.forget(uid);
      if (runtime.stopPod) await runtime.stopPod(uid);
      else await runtime.removePod(uid);
      return;
    }
    if (this.finished.has(uid)) return;
    const evictionMessage = this.evictions.get(uid);
    if (evictionMessage !== undefined) {
      podSyncs.inc({ kind: 'evict' });
      this.opts.prober?.forget(uid);
      const result = await runtime.killPod(pod, 0, node);
      if (!result.done) {
        this.delays.scheduleAfter(uid, result.requeueAfterMs ?? 1000);
        return;
      }
      this.evictions.delete(uid);
      this.finished.add(uid);
      this.admitted.delete(uid);
      statusManager.setPodStatus(pod, evictedStatus(pod, result.status, node.hostIP, evictionMessage));
      return;
    }
    if (!this.admitted.has(uid) && !this.admit(pod, uid, node.nodeName)) return;

    // spec.activeDeadlineSeconds, counted from the pod's start on the node.
    const deadline = pod.spec?.activeDeadlineSeconds;
    const startedAt = parseTime(pod.status?.startTime);
    if (deadline !== undefined && startedAt !== undefined) {
      const left = startedAt + deadline * 1000 - Date.now();
      if (left <= 0) {
        podSyncs.inc({ kind: 'deadline' });
        this.opts.prober?.forget(uid);
        const result = await runtime.killPod(pod, pod.spec?.terminationGracePeriodSeconds ?? 30, node);
        if (!result.done) {
          this.delays.scheduleAfter(uid, result.requeueAfterMs ?? 1000);
          return;
        }
        const status = computePodStatus({
          pod,
          runtime: result.status,
          hostIP: node.hostIP,
          podIsTerminal: true,
        });
        status.phase = 'Failed';
        status.reason = DEADLINE_EXCEEDED_REASON;
        status.message = DEADLINE_EXCEEDED_MESSAGE;
        this.finished.add(uid);
        this.admitted.delete(uid);
        statusManager.setPodStatus(pod, status);
        return;
      }
      this.delays.scheduleAfter(uid, left);
    }

    podSyncs.inc({ kind: 'sync' });
    const result = await runtime.syncPod(pod, node);
    this.opts.prober?.update(pod, result.status);
    const status = computePodStatus({ pod, runtime: result.status, hostIP: node.hostIP });
    statusManager.setPodStatus(pod, status);
    if (isTerminalPhase(status.phase)) {
      this.opts.prober?.forget(uid);
      this.finished.add(uid);
      this.admitted.delete(uid);
    } else if (result.requeueAfterMs !== undefined) this.delays.scheduleAfter(uid, result.requeueAfterMs);
  }

  /** Admits a new pod if it fits on its node; rejects it (phase Failed) otherwise. */
  private admit(pod: Pod, uid: string, nodeName: string): boolean {
    const pressure = podHasStarted(pod) ? undefined : this.opts.pressureRejection?.(pod);
    if (pressure) {
      podSyncs.inc({ kind: 'reject' });
      this.log.info('pod rejected by admission', {
        pod: `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`,
        reason: pressure.reason,
        message: pressure.message,
      });
      this.finished.add(uid);
      this.opts.statusManager.setPodStatus(pod, rejectedStatus(pod, pressure.reason, pressure.message));
      return false;
    }
    const allocatable = this.opts.allocatable(nodeName);
    if (!podHasStarted(pod) && allocatable) {
      const others = this.opts
        .podsOnNode(nodeName)
        .filter(
          (o) => o.metadata.uid !== uid && (this.admitted.has(o.metadata.uid ?? '') || podHasStarted(o)),
        );
      const result = admitPod(pod, others, allocatable);
      if (!result.admit) {
        podSyncs.inc({ kind: 'reject' });
        this.log.info('pod rejected by admission', {
          pod: `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`,
          reason: result.reason,
          message: result.message,
        });
        this.finished.add(uid);
        this.opts.statusManager.setPodStatus(
          pod,
          rejectedStatus(pod, result.reason ?? 'UnexpectedAdmissionError', result.message ?? ''),
        );
        return false;
      }
    }
    this.admitted.add(uid);
    return true;
  }
}

export const EVICTED_REASON = 'Evicted';

/** A pod's final status after node-pressure eviction, with the DisruptionTarget condition. */
export function evictedStatus(
  pod: Pod,
  runtimeStatus: RuntimePodStatus,
  hostIP: string,
  message: string,
  now = Date.now(),
): PodStatus {
  const status = computePodStatus({ pod, runtime: runtimeStatus, hostIP, podIsTerminal: true, now });
  status.phase = 'Failed';
  status.reason = EVICTED_REASON;
  status.message = message;
  const disruption: PodCondition = {
    type: 'DisruptionTarget',
    status: 'True',
    reason: 'TerminationByKubelet',
    message,
    lastTransitionTime: rfc3339(now),
  };
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'), disruption];
  return status;
}
