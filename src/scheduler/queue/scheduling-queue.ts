// The scheduling queue: activeQ (ordered by the profile's QueueSort plugin), backoffQ (pods
// waiting out their back-off: 1 s doubling up to 10 s by default) and the unschedulable pool,
// from which cluster events move pods back according to the queueing hints of the plugins that
// rejected them. Pods stuck in the pool longer than 5 minutes are flushed back periodically.
// Also the nominator: pods nominated to nodes by preemption.
import type { KubeObject } from '../../api/meta.js';
import type { Pod } from '../../api/generated/types.js';
import { metrics } from '../../util/metrics.js';
import { createLogger, type Logger } from '../../util/log.js';
import {
  QueueingHint,
  type ClusterEvent,
  type ClusterEventWithHint,
  type PodNominator,
  type QueuedPodInfo,
} from '../framework/interfaces.js';
import { PodInfo, podKey, podName } from '../framework/node-info.js';
import type { Status } from '../framework/status.js';
import { KeyedHeap } from './heap.js';

export const DEFAULT_POD_INITIAL_BACKOFF_MS = 1_000;
export const DEFAULT_POD_MAX_BACKOFF_MS = 10_000;
export const DEFAULT_POD_MAX_IN_UNSCHEDULABLE_MS = 5 * 60_000;
export const UNSCHEDULABLE_FLUSH_INTERVAL_MS = 30_000;

const pendingPods = metrics.gauge(
  'scheduler_pending_pods',
  'Pending pods, by queue (active, backoff, unschedulable, gated).',
);
const queueIncoming = metrics.counter(
  'scheduler_queue_incoming_pods_total',
  'Pods added to scheduling queues, by queue and event.',
);

export interface QueueOptions {
  /** QueueSort order (from the profiles; all profiles share one). */
  less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
  /** PreEnqueue of the pod's profile: a non-success status gates the pod. */
  preEnqueue: (pod: Pod) => Status | undefined;
  /** The registered events of each plugin of the pod's profile. */
  hintsFor: (pod: Pod) => ReadonlyMap<string, readonly ClusterEventWithHint[]>;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxInUnschedulableMs?: number;
  now?: () => number;
  log?: Logger;
}

export const EVENT_UNSCHEDULABLE_TIMEOUT: ClusterEvent = {
  resource: 'WildCard',
  actionType: 0xffff,
  label: 'UnschedulableTimeout',
};

export class SchedulingQueue implements PodNominator {
  private readonly activeQ: KeyedHeap<QueuedPodInfo>;
  private readonly backoffQ: KeyedHeap<QueuedPodInfo>;
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private readonly inFlight = new Set<string>();
  private readonly nominated = new Map<string, PodInfo[]>();
  private readonly nominatedNodeOf = new Map<string, string>();
  private readonly waiters: Array<(q: QueuedPodInfo | undefined) => void> = [];
  private readonly now: () => number;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxInUnschedulable: number;
  private readonly log: Logger;
  private backoffTimer: NodeJS.Timeout | undefined;
  private backoffTimerAt = Infinity;
  private flushTimer: NodeJS.Timeout | undefined;
  private gaugeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: QueueOptions) {
    this.now = opts.now ?? Date.now;
    this.initialBackoff = opts.initialBackoffMs ?? DEFAULT_POD_INITIAL_BACKOFF_MS;
    this.maxBackoff = opts.maxBackoffMs ?? DEFAULT_POD_MAX_BACKOFF_MS;
    this.maxInUnschedulable = opts.maxInUnschedulableMs ?? DEFAULT_POD_MAX_IN_UNSCHEDULABLE_MS;
    this.log = opts.log ?? createLogger('scheduler.queue');
    this.activeQ = new KeyedHeap((q) => q.podInfo.key, opts.less);
    this.backoffQ = new KeyedHeap(
      (q) => q.podInfo.key,
      (a, b) => a.backoffExpiry < b.backoffExpiry,
    );
  }

  /** Starts the periodic flush of long-unschedulable pods. */
  run(): void {
    if (this.flushTimer || this.closed) return;
    this.flushTimer = setInterval(() => this.flushUnschedulableLeftover(), UNSCHEDULABLE_FLUSH_INTERVAL_MS);
    this.flushTimer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    if (this.gaugeTimer) clearTimeout(this.gaugeTimer);
    this.gaugeTimer = undefined;
    this.flushTimer = undefined;
    this.backoffTimer = undefined;
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  // Counts ---------------------------------------------------------------------------------------

  stats(): { active: number; backoff: number; unschedulable: number; gated: number; inFlight: number } {
    let gated = 0;
    for (const q of this.unschedulable.values()) if (q.gated) gated++;
    return {
      active: this.activeQ.size,
      backoff: this.backoffQ.size,
      unschedulable: this.unschedulable.size - gated,
      gated,
      inFlight: this.inFlight.size,
    };
  }

  /** Refreshes the pending-pods gauges at most every 250 ms (counting gated pods walks the pool). */
  private updateGauges(): void {
    if (this.gaugeTimer || this.closed) return;
    this.gaugeTimer = setTimeout(() => {
      this.gaugeTimer = undefined;
      const s = this.stats();
      pendingPods.set(s.active, { queue: 'active' });
      pendingPods.set(s.backoff, { queue: 'backoff' });
      pendingPods.set(s.unschedulable, { queue: 'unschedulable' });
      pendingPods.set(s.gated, { queue: 'gated' });
    }, 250);
    this.gaugeTimer.unref();
  }

  has(pod: Pod): boolean {
    const k = podKey(pod);
    return this.activeQ.has(k) || this.backoffQ.has(k) || this.unschedulable.has(k);
  }

  /** Where a pod is: 'active', 'backoff', 'unschedulable', 'gated' or undefined. */
  where(pod: Pod): 'active' | 'backoff' | 'unschedulable' | 'gated' | undefined {
    const k = podKey(pod);
    if (this.activeQ.has(k)) return 'active';
    if (this.backoffQ.has(k)) return 'backoff';
    const u = this.unschedulable.get(k);
    if (u) return u.gated ? 'gated' : 'unschedulable';
    return undefined;
  }

  // Adding ---------------------------------------------------------------------------------------

  private newQueued(pod: Pod): QueuedPodInfo {
    const now = this.now();
    return {
      podInfo: new PodInfo(pod),
      timestamp: now,
      attempts: 0,
      initialAttemptTimestamp: now,
      unschedulablePlugins: new Set(),
      pendingPlugins: new Set(),
      gated: false,
      backoffExpiry: 0,
      lastFailureWasError: false,
    };
  }

  /** Runs PreEnqueue; a gated pod goes to the unschedulable pool marked gated. */
  private moveToActive(q: QueuedPodInfo, event: string): boolean {
    const s = this.opts.preEnqueue(q.podInfo.pod);
    if (s && !s.isSuccess()) {
      q.gated = true;
      q.gatingPlugin = s.plugin;
      this.unschedulable.set(q.podInfo.key, q);
      queueIncoming.inc({ queue: 'gated', event });
      return false;
    }
    q.gated = false;
    q.gatingPlugin = undefined;
    this.unschedulable.delete(q.podInfo.key);
    this.backoffQ.delete(q.podInfo.key);
    this.activeQ.addOrUpdate(q);
    queueIncoming.inc({ queue: 'active', event });
    this.wake();
    return true;
  }

  /** A new pending pod. */
  add(pod: Pod): void {
    if (this.closed) return;
    const key = podKey(pod);
    if (
      this.activeQ.has(key) ||
      this.backoffQ.has(key) ||
      this.unschedulable.has(key) ||
      this.inFlight.has(key)
    ) {
      this.update(undefined, pod);
      return;
    }
    const q = this.newQueued(pod);
    this.moveToActive(q, 'PodAdd');
    this.updateNominated(pod);
    this.updateGauges();
  }

  /** A pending pod changed. */
  update(oldPod: Pod | undefined, pod: Pod): void {
    if (this.closed) return;
    const key = podKey(pod);
    this.updateNominated(pod);
    const inActive = this.activeQ.get(key);
    if (inActive) {
      inActive.podInfo = new PodInfo(pod);
      this.activeQ.addOrUpdate(inActive);
      return;
    }
    const inBackoff = this.backoffQ.get(key);
    if (inBackoff) {
      inBackoff.podInfo = new PodInfo(pod);
      this.backoffQ.addOrUpdate(inBackoff);
      return;
    }
    const u = this.unschedulable.get(key);
    if (u) {
      u.podInfo = new PodInfo(pod);
      if (u.gated) {
        this.moveToActive(u, 'PodUpdate');
      } else if (!oldPod || specChanged(oldPod, pod)) {
        // The pod itself changed: it may fit now.
        this.unschedulable.delete(key);
        this.requeue(u, 'PodUpdate');
      }
      this.updateGauges();
      return;
    }
    if (this.inFlight.has(key)) return;
    this.moveToActive(this.newQueued(pod), 'PodUpdate');
    this.updateGauges();
  }

  delete(pod: Pod): void {
    const key = podKey(pod);
    this.activeQ.delete(key);
    this.backoffQ.delete(key);
    this.unschedulable.delete(key);
    this.deleteNominatedPodIfExists(pod);
    this.updateGauges();
  }

  // Popping --------------------------------------------------------------------------------------

  /** The next pod to schedule; waits while activeQ is empty; undefined once the queue is closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const q = this.activeQ.pop();
    if (q) return Promise.resolve(this.popped(q));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Pops without waiting (tests, benchmarks). */
  tryPop(): QueuedPodInfo | undefined {
    const q = this.activeQ.pop();
    return q ? this.popped(q) : undefined;
  }

  private popped(q: QueuedPodInfo): QueuedPodInfo {
    q.attempts++;
    this.inFlight.add(q.podInfo.key);
    this.updateGauges();
    return q;
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.activeQ.size > 0) {
      const w = this.waiters.shift()!;
      w(this.popped(this.activeQ.pop()!));
    }
  }

  /** The scheduling attempt of the pod is over (scheduled, or requeued). */
  done(pod: Pod): void {
    this.inFlight.delete(podKey(pod));
  }

  // Failures and back-off ------------------------------------------------------------------------

  backoffDuration(attempts: number): number {
    let d = this.initialBackoff;
    for (let i = 1; i < attempts; i++) {
      d *= 2;
      if (d > this.maxBackoff) return this.maxBackoff;
    }
    return Math.min(d, this.maxBackoff);
  }

  /**
   * A failed attempt: to the back-off queue after an error, otherwise to the unschedulable pool
   * (where events and the periodic flush find it).
   */
  addUnschedulableIfNotPresent(q: QueuedPodInfo, error: boolean): void {
    const key = q.podInfo.key;
    this.inFlight.delete(key);
    if (this.closed || this.activeQ.has(key) || this.backoffQ.has(key)) return;
    const now = this.now();
    q.timestamp = now;
    q.lastFailureWasError = error;
    q.backoffExpiry = now + this.backoffDuration(q.attempts);
    if (error) {
      this.backoffQ.addOrUpdate(q);
      this.scheduleBackoffFlush();
      queueIncoming.inc({ queue: 'backoff', event: 'ScheduleAttemptFailure' });
    } else {
      this.unschedulable.set(key, q);
      queueIncoming.inc({ queue: 'unschedulable', event: 'ScheduleAttemptFailure' });
    }
    this.updateGauges();
  }

  private requeue(q: QueuedPodInfo, event: string): void {
    if (this.now() < q.backoffExpiry) {
      this.backoffQ.addOrUpdate(q);
      this.scheduleBackoffFlush();
      queueIncoming.inc({ queue: 'backoff', event });
    } else {
      this.moveToActive(q, event);
    }
  }

  private scheduleBackoffFlush(): void {
    const head = this.backoffQ.peek();
    if (!head || this.closed) return;
    const at = head.backoffExpiry;
    if (this.backoffTimer && at >= this.backoffTimerAt) return;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimerAt = at;
    this.backoffTimer = setTimeout(
      () => {
        this.backoffTimer = undefined;
        this.backoffTimerAt = Infinity;
        this.flushBackoffCompleted();
      },
      Math.max(0, at - this.now()),
    );
    this.backoffTimer.unref();
  }

  /** Moves pods whose back-off has expired to activeQ. */
  flushBackoffCompleted(): void {
    const now = this.now();
    for (;;) {
      const head = this.backoffQ.peek();
      if (!head || head.backoffExpiry > now) break;
      this.backoffQ.pop();
      this.moveToActive(head, 'BackoffComplete');
    }
    this.scheduleBackoffFlush();
    this.updateGauges();
  }

  /** Moves pods that have sat in the unschedulable pool longer than the limit. */
  flushUnschedulableLeftover(): void {
    const now = this.now();
    const due: QueuedPodInfo[] = [];
    for (const q of this.unschedulable.values()) {
      if (!q.gated && now - q.timestamp > this.maxInUnschedulable) due.push(q);
    }
    for (const q of due) {
      this.unschedulable.delete(q.podInfo.key);
      this.requeue(q, EVENT_UNSCHEDULABLE_TIMEOUT.label);
    }
    if (due.length > 0) this.updateGauges();
  }

  // Cluster events -------------------------------------------------------------------------------

  /** Whether an event may make the pod schedulable, by the hints of the plugins that rejected it. */
  isPodWorthRequeuing(
    q: QueuedPodInfo,
    event: ClusterEvent,
    oldObj: KubeObject | undefined,
    newObj: KubeObject | undefined,
  ): boolean {
    const rejectors = new Set([...q.unschedulablePlugins, ...q.pendingPlugins]);
    if (rejectors.size === 0 || event.resource === 'WildCard') return true;
    const hints = this.opts.hintsFor(q.podInfo.pod);
    for (const plugin of rejectors) {
      for (const reg of hints.get(plugin) ?? []) {
        if (reg.event.resource !== event.resource && reg.event.resource !== 'WildCard') continue;
        if ((reg.event.actionType & event.actionType) === 0) continue;
        if (!reg.hint) return true;
        try {
          if (reg.hint(q.podInfo.pod, oldObj, newObj) === QueueingHint.Queue) return true;
        } catch (err) {
          this.log.warn('queueing hint failed; requeuing the pod', {
            plugin,
            pod: podName(q.podInfo.pod),
            err,
          });
          return true;
        }
      }
    }
    return false;
  }

  /** Moves unschedulable pods that the event may help to activeQ or backoffQ. */
  moveAllToActiveOrBackoffQueue(
    event: ClusterEvent,
    oldObj?: KubeObject,
    newObj?: KubeObject,
    preCheck?: (pod: Pod) => boolean,
  ): number {
    if (this.unschedulable.size === 0) return 0;
    const moved: QueuedPodInfo[] = [];
    for (const q of this.unschedulable.values()) {
      if (q.gated) continue;
      if (preCheck && !preCheck(q.podInfo.pod)) continue;
      if (this.isPodWorthRequeuing(q, event, oldObj, newObj)) moved.push(q);
    }
    for (const q of moved) {
      this.unschedulable.delete(q.podInfo.key);
      this.requeue(q, event.label);
    }
    if (moved.length > 0) this.updateGauges();
    return moved.length;
  }

  // Nominator ------------------------------------------------------------------------------------

  private updateNominated(pod: Pod): void {
    const nn = pod.status?.nominatedNodeName;
    const key = podKey(pod);
    const current = this.nominatedNodeOf.get(key);
    if (!nn) {
      // Keep a nomination made by this scheduler until the status update comes back.
      if (current) {
        const list = this.nominated.get(current);
        const i = list?.findIndex((p) => p.key === key) ?? -1;
        if (list && i >= 0) list[i] = new PodInfo(pod);
      }
      return;
    }
    this.addNominatedPod(new PodInfo(pod), nn);
  }

  addNominatedPod(pi: PodInfo, nodeName: string): void {
    this.deleteNominatedPodIfExists(pi.pod);
    let list = this.nominated.get(nodeName);
    if (!list) this.nominated.set(nodeName, (list = []));
    list.push(pi);
    this.nominatedNodeOf.set(pi.key, nodeName);
  }

  deleteNominatedPodIfExists(pod: Pod): void {
    const key = podKey(pod);
    const node = this.nominatedNodeOf.get(key);
    if (node === undefined) return;
    this.nominatedNodeOf.delete(key);
    const list = this.nominated.get(node);
    if (!list) return;
    const i = list.findIndex((p) => p.key === key);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.nominated.delete(node);
  }

  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    if (this.nominated.size === 0) return EMPTY;
    return this.nominated.get(nodeName) ?? EMPTY;
  }

  nominatedNodeName(pod: Pod): string | undefined {
    return this.nominatedNodeOf.get(podKey(pod));
  }
}

const EMPTY: readonly PodInfo[] = Object.freeze([]);

/** Whether anything but status and bookkeeping metadata changed. */
export function specChanged(a: Pod, b: Pod): boolean {
  return (
    JSON.stringify(a.spec) !== JSON.stringify(b.spec) ||
    JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {}) ||
    JSON.stringify(a.metadata.annotations ?? {}) !== JSON.stringify(b.metadata.annotations ?? {})
  );
}
