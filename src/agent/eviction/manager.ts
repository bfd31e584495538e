// Node-pressure eviction (pkg/kubelet/eviction/eviction_manager.go): every monitoring interval the
// manager observes the signals, decides which thresholds are crossed, reports the node conditions
// that follow (held for the pressure transition period after the signal recovers, so a node does
// not flap), first reclaims what the node itself can free (unused images, for disk), and then
// evicts one pod, ranked as upstream, with an Evicted event. Critical pods are passed over.
import type { Pod } from '../../api/generated/types.js';
import type { EventRecorder } from '../../client/events.js';
import { createLogger, type Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { podQOSClass } from '../../api/kinds/pod.js';
import type { NodePressure } from '../node-status.js';
import { EVICTED_REASON } from '../pod-workers.js';
import { evictionMessage, isCriticalPod, rankForEviction, type PodUsage } from './rank.js';
import type { SignalSource } from './signals.js';
import {
  byEvictionPriority,
  SIGNAL_CONDITION,
  SIGNAL_RESOURCE,
  thresholdsMet,
  type Observations,
  type Signal,
  type Threshold,
} from './thresholds.js';

const evictionsTotal = metrics.counter(
  'kubelet_evictions',
  'Cumulative number of pod evictions by eviction signal.',
);

export interface EvictionManagerOptions {
  thresholds: readonly Threshold[];
  signals: SignalSource;
  /** The pods running on the node now (not terminal, not being deleted). */
  activePods(): readonly Pod[];
  /** What each pod uses, by UID (pods without stats are ranked first, as upstream). */
  podUsage(): Promise<ReadonlyMap<string, PodUsage>>;
  /** Kills the pod and marks it Evicted; false when it could not be (already ending). */
  evictPod(pod: Pod, message: string): boolean;
  /** Frees what the node can without evicting pods (unused images) for a disk signal. */
  reclaim?(signal: Signal): Promise<void>;
  /** Told whenever the pressure conditions change (to report the node's status at once). */
  onPressureChange?(pressure: NodePressure): void;
  recorder?: EventRecorder;
  /** Monitoring interval (upstream's housekeeping, 10 s). */
  intervalMs?: number;
  /** How long a condition stays after its signal recovered (evictionPressureTransitionPeriod, 5 min). */
  pressureTransitionMs?: number;
  now?: () => number;
  log?: Logger;
}

export class EvictionManager {
  private readonly log: Logger;
  private readonly now: () => number;
  /** When each condition was last observed. */
  private readonly conditionSeen = new Map<string, number>();
  private current: NodePressure = { memory: false, disk: false, pid: false };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: EvictionManagerOptions) {
    this.log = opts.log ?? createLogger('agent.eviction');
    this.now = opts.now ?? Date.now;
  }

  /** The node conditions eviction reports (MemoryPressure, DiskPressure, PIDPressure). */
  pressure(): NodePressure {
    return this.current;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    const tick = (): void => {
      this.running = this.synchronize()
        .then(() => undefined)
        .catch((err: unknown) => this.log.error('eviction manager: synchronize failed', { error: err }))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs ?? 10_000);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Upstream's eviction admission: under pressure a new pod is refused (reason Evicted) unless it
   * is critical, or only memory is short and the pod is not BestEffort or tolerates the
   * memory-pressure taint.
   */
  admit(pod: Pod): { reason: string; message: string } | undefined {
    const conditions = [
      this.current.memory ? 'MemoryPressure' : undefined,
      this.current.disk ? 'DiskPressure' : undefined,
      this.current.pid ? 'PIDPressure' : undefined,
    ].filter((c): c is string => c !== undefined);
    if (conditions.length === 0 || isCriticalPod(pod)) return undefined;
    if (conditions.length === 1 && conditions[0] === 'MemoryPressure') {
      if (podQOSClass(pod.spec as unknown as Record<string, unknown>) !== 'BestEffort') return undefined;
      if (toleratesMemoryPressure(pod)) return undefined;
    }
    return { reason: EVICTED_REASON, message: `The node had condition: [${conditions.join(' ')}]. ` };
  }

  /** One monitoring pass; returns the pod it evicted, if any. */
  async synchronize(): Promise<Pod | undefined> {
    let observations = await this.opts.signals.observe();
    const met = thresholdsMet(this.opts.thresholds, observations).sort(byEvictionPriority);
    this.updateConditions(met);
    if (met.length === 0) return undefined;
    const threshold = met[0]!;
    const resource = SIGNAL_RESOURCE[threshold.signal];
    this.log.info('eviction manager: attempting to reclaim', { resource, signal: threshold.signal });

    if (resource !== 'memory' && this.opts.reclaim) {
      try {
        await this.opts.reclaim(threshold.signal);
      } catch (err) {
        this.log.warn('eviction manager: node-level reclaim failed', {
          signal: threshold.signal,
          error: err,
        });
      }
      observations = await this.opts.signals.observe();
      if (!thresholdsMet([threshold], observations).length) {
        this.log.info('eviction manager: able to reduce resource pressure without evicting pods', {
          resource,
        });
        return undefined;
      }
    }
    if (resource !== 'memory' && resource !== 'ephemeral-storage') {
      this.log.info('eviction manager: no pod ranking for this signal', { signal: threshold.signal });
      return undefined;
    }
    const usage = await this.opts.podUsage();
    const pods = this.opts.activePods();
    if (pods.length === 0) {
      this.log.error('eviction manager: eviction thresholds have been met, but no pods are active to evict');
      return undefined;
    }
    const ranked = rankForEviction(pods, resource, (p) => usage.get(p.metadata.uid ?? ''));
    for (const pod of ranked) {
      const name = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
      if (isCriticalPod(pod)) {
        this.log.info('eviction manager: cannot evict a critical pod', { pod: name });
        continue;
      }
      const message = evictionMessage(resource, pod, usage.get(pod.metadata.uid ?? ''), met, observations);
      if (!this.opts.evictPod(pod, message)) continue;
      evictionsTotal.inc({ eviction_signal: threshold.signal });
      this.opts.recorder?.event(pod, 'Warning', 'Evicted', message);
      this.log.info('eviction manager: pod is evicted successfully', { pod: name, message });
      return pod;
    }
    this.log.error('eviction manager: unable to evict any pods from the node');
    return undefined;
  }

  /** Conditions observed now, or within the transition period. */
  private updateConditions(met: readonly Threshold[]): void {
    const now = this.now();
    for (const t of met) this.conditionSeen.set(SIGNAL_CONDITION[t.signal], now);
    const transition = this.opts.pressureTransitionMs ?? 5 * 60_000;
    const active = (type: string): boolean => {
      const at = this.conditionSeen.get(type);
      return at !== undefined && (at === now || now - at < transition);
    };
    const next: NodePressure = {
      memory: active('MemoryPressure'),
      disk: active('DiskPressure'),
      pid: active('PIDPressure'),
    };
    const changed =
      next.memory !== this.current.memory || next.disk !== this.current.disk || next.pid !== this.current.pid;
    this.current = next;
    if (changed) {
      this.log.info('eviction manager: node pressure changed', { ...next });
      this.opts.onPressureChange?.(next);
    }
  }
}

export type { Observations };

const MEMORY_PRESSURE_TAINT = 'node.kubernetes.io/memory-pressure';

/** Whether the pod tolerates the memory-pressure:NoSchedule taint. */
function toleratesMemoryPressure(pod: Pod): boolean {
  return (pod.spec?.tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== 'NoSchedule') return false;
    if (t.operator === 'Exists') return !t.key || t.key === MEMORY_PRESSURE_TAINT;
    return t.key === MEMORY_PRESSURE_TAINT && (t.value ?? '') === '';
  });
}
