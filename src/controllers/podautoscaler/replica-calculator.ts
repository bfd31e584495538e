// The replica calculation of upstream's podautoscaler ReplicaCalculator for resource metrics:
// desired = ceil(ratio × pods with metrics), where ratio is current usage over target, with a
// tolerance band in which nothing changes, and conservative handling of pods that cannot be
// trusted: unready pods count as using nothing on a scale-up, pods without metrics count as using
// nothing on a scale-up and the full request (or target) on a scale-down, and if filling them in
// would flip the direction of the change, the replica count stays.
import type { Pod } from '../../api/generated/types.js';
import { quantityMilliValue, tryParseQuantity } from '../../api/quantity.js';
import { parseTime } from '../common/clock.js';
import type { PodMetric } from './metrics.js';

/** Upstream's --horizontal-pod-autoscaler-tolerance default. */
export const DEFAULT_TOLERANCE = 0.1;
/** Upstream's --horizontal-pod-autoscaler-cpu-initialization-period default. */
export const DEFAULT_CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** Upstream's --horizontal-pod-autoscaler-initial-readiness-delay default. */
export const DEFAULT_INITIAL_READINESS_DELAY_MS = 30_000;

export interface CalculatorOptions {
  /** Only this container's usage and request count (a ContainerResource metric). */
  container?: string;
  tolerance?: number;
  cpuInitializationPeriodMs?: number;
  initialReadinessDelayMs?: number;
  now: number;
}

export interface PodGroups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/**
 * Sorts pods as upstream's groupPods: deleted and failed pods are ignored, pending pods are
 * unready, pods without a metric are missing; for cpu, a pod that is not ready (or, while still in
 * its initialisation period, whose sample predates one window after its last readiness change) is
 * unready too.
 */
export function groupPods(
  pods: readonly Pod[],
  metrics: ReadonlyMap<string, PodMetric>,
  resource: string,
  opts: CalculatorOptions,
): PodGroups {
  const out: PodGroups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  const initMs = opts.cpuInitializationPeriodMs ?? DEFAULT_CPU_INITIALIZATION_PERIOD_MS;
  const readinessDelayMs = opts.initialReadinessDelayMs ?? DEFAULT_INITIAL_READINESS_DELAY_MS;
  for (const pod of pods) {
    const name = pod.metadata.name ?? '';
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      out.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      out.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      out.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const start = parseTime(pod.status?.startTime);
      let unready: boolean;
      if (!ready || start === undefined) unready = true;
      else {
        const transition = parseTime(ready.lastTransitionTime) ?? 0;
        if (start + initMs > opts.now)
          unready = ready.status === 'False' || metric.timestampMs < transition + metric.windowMs;
        else unready = ready.status === 'False' && start + readinessDelayMs > transition;
      }
      if (unready) {
        out.unready.add(name);
        continue;
      }
    }
    out.readyPodCount++;
  }
  return out;
}

/** Each pod's request of a resource, summed over its containers (or one); throws if a container has none. */
export function podRequests(pods: readonly Pod[], resource: string, container?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container !== undefined && c.name !== container) continue;
      const q = tryParseQuantity(c.resources?.requests?.[resource]);
      if (!q)
        throw new Error(
          `missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name ?? ''}`,
        );
      sum += quantityMilliValue(q);
    }
    out.set(pod.metadata.name ?? '', sum);
  }
  return out;
}

interface UtilizationRatio {
  ratio: number;
  /** Whole percent of the request, truncated as upstream. */
  utilization: number;
  /** Average usage per pod in milli-units. */
  rawAverageMilli: number;
}

function utilizationRatio(
  metrics: ReadonlyMap<string, PodMetric>,
  requests: ReadonlyMap<string, number>,
  targetUtilization: number,
): UtilizationRatio {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [name, m] of metrics) {
    const req = requests.get(name);
    if (req === undefined) continue;
    metricsTotal += m.milli;
    requestsTotal += req;
    entries++;
  }
  if (requestsTotal === 0) throw new Error('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return {
    ratio: utilization / targetUtilization,
    utilization,
    rawAverageMilli: Math.trunc(metricsTotal / entries),
  };
}

function usageRatio(
  metrics: ReadonlyMap<string, PodMetric>,
  targetMilli: number,
): { ratio: number; average: number } {
  let total = 0;
  for (const m of metrics.values()) total += m.milli;
  const average = Math.trunc(total / metrics.size);
  return { ratio: average / targetMilli, average };
}

export interface UtilizationProposal {
  replicas: number;
  utilization: number;
  rawAverageMilli: number;
}

function withoutPods(
  metrics: ReadonlyMap<string, PodMetric>,
  drop: Iterable<Set<string>>,
): Map<string, PodMetric> {
  const out = new Map(metrics);
  for (const set of drop) for (const name of set) out.delete(name);
  return out;
}

function common(
  pods: readonly Pod[],
  allMetrics: ReadonlyMap<string, PodMetric>,
  resource: string,
  opts: CalculatorOptions,
): { groups: PodGroups; metrics: Map<string, PodMetric> } {
  if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
  const groups = groupPods(pods, allMetrics, resource, opts);
  const metrics = withoutPods(allMetrics, [groups.ignored, groups.unready]);
  // Metrics of pods the selector no longer picks do not count either.
  const known = new Set(pods.map((p) => p.metadata.name ?? ''));
  for (const name of [...metrics.keys()]) if (!known.has(name)) metrics.delete(name);
  if (metrics.size === 0)
    throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  return { groups, metrics };
}

/** Replicas for a target average utilization (percent of the pods' requests). */
export function resourceUtilizationReplicas(
  currentReplicas: number,
  targetUtilization: number,
  resource: string,
  pods: readonly Pod[],
  allMetrics: ReadonlyMap<string, PodMetric>,
  opts: CalculatorOptions,
): UtilizationProposal {
  const tolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
  const { groups, metrics } = common(pods, allMetrics, resource, opts);
  const active = pods.filter((p) => !groups.ignored.has(p.metadata.name ?? ''));
  const requests = podRequests(active, resource, opts.container);
  const first = utilizationRatio(metrics, requests, targetUtilization);
  const same = { utilization: first.utilization, rawAverageMilli: first.rawAverageMilli };
  const scaleUpWithUnready = groups.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= tolerance) return { replicas: currentReplicas, ...same };
    return { replicas: Math.ceil(first.ratio * groups.readyPodCount), ...same };
  }
  if (groups.missing.size > 0) {
    if (first.ratio < 1) {
      // On a scale-down, pods without metrics count as using their whole request (or the target,
      // for targets above 100%): the scale-down is never larger than the known usage allows.
      const fallback = Math.max(100, targetUtilization);
      for (const name of groups.missing)
        metrics.set(name, {
          timestampMs: 0,
          windowMs: 0,
          milli: ((requests.get(name) ?? 0) * fallback) / 100,
        });
    } else if (first.ratio > 1) {
      for (const name of groups.missing) metrics.set(name, { timestampMs: 0, windowMs: 0, milli: 0 });
    }
  }
  if (scaleUpWithUnready)
    for (const name of groups.unready) metrics.set(name, { timestampMs: 0, windowMs: 0, milli: 0 });
  const second = utilizationRatio(metrics, requests, targetUtilization);
  if (
    Math.abs(1 - second.ratio) <= tolerance ||
    (first.ratio < 1 && second.ratio > 1) ||
    (first.ratio > 1 && second.ratio < 1)
  )
    return { replicas: currentReplicas, ...same };
  const replicas = Math.ceil(second.ratio * metrics.size);
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas))
    return { replicas: currentReplicas, ...same };
  return { replicas, ...same };
}

export interface AverageValueProposal {
  replicas: number;
  /** Average usage per pod in milli-units. */
  averageMilli: number;
}

/** Replicas for a target average usage per pod (milli-units). */
export function resourceAverageValueReplicas(
  currentReplicas: number,
  targetMilli: number,
  resource: string,
  pods: readonly Pod[],
  allMetrics: ReadonlyMap<string, PodMetric>,
  opts: CalculatorOptions,
): AverageValueProposal {
  const tolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
  const { groups, metrics } = common(pods, allMetrics, resource, opts);
  const first = usageRatio(metrics, targetMilli);
  const scaleUpWithUnready = groups.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= tolerance)
      return { replicas: currentReplicas, averageMilli: first.average };
    return { replicas: Math.ceil(first.ratio * groups.readyPodCount), averageMilli: first.average };
  }
  if (groups.missing.size > 0) {
    const fill = first.ratio < 1 ? targetMilli : first.ratio > 1 ? 0 : undefined;
    if (fill !== undefined)
      for (const name of groups.missing) metrics.set(name, { timestampMs: 0, windowMs: 0, milli: fill });
  }
  if (scaleUpWithUnready)
    for (const name of groups.unready) metrics.set(name, { timestampMs: 0, windowMs: 0, milli: 0 });
  const second = usageRatio(metrics, targetMilli);
  if (
    Math.abs(1 - second.ratio) <= tolerance ||
    (first.ratio < 1 && second.ratio > 1) ||
    (first.ratio > 1 && second.ratio < 1)
  )
    return { replicas: currentReplicas, averageMilli: first.average };
  const replicas = Math.ceil(second.ratio * metrics.size);
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas))
    return { replicas: currentReplicas, averageMilli: first.average };
  return { replicas, averageMilli: first.average };
}
