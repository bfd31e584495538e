// Which pod goes first when the node runs short (upstream's rankMemoryPressure and
// rankDiskPressureFunc): pods using more than they requested of the starved resource, then lower
// priority, then the largest use above the request. Critical pods (static and mirror pods, or a
// priority of system-node-critical's order) are never evicted. The message tells the user why,
// in upstream's words.
import type { Pod } from '../../api/generated/types.js';
import { formatQuantity, parseQuantity, quantityFromValue, quantityValue } from '../../api/quantity.js';
import { podRequest } from '../admission.js';
import { isMirrorPod, isStaticPod } from '../config/static-pod.js';
import {
  formatAmount,
  SIGNAL_RESOURCE,
  thresholdQuantity,
  type Observations,
  type Threshold,
} from './thresholds.js';

/** system-cluster-critical and above (upstream's scheduling.SystemCriticalPriority). */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

export interface ContainerUsage {
  name: string;
  memoryBytes?: number;
  /** Writable layer and logs. */
  ephemeralBytes?: number;
}

/** What a pod uses now, as the runtime's stats say. */
export interface PodUsage {
  uid: string;
  containers: ContainerUsage[];
  /** Local volumes (emptyDir), counted with the pod's ephemeral storage. */
  volumeBytes?: number;
}

export type RankedResource = 'memory' | 'ephemeral-storage';

export function isCriticalPod(pod: Pod): boolean {
  return isStaticPod(pod) || isMirrorPod(pod) || (pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}

function sum(values: (number | undefined)[]): number {
  return values.reduce<number>((a, v) => a + (v ?? 0), 0);
}

/** The pod's use of a resource (bytes). */
export function podUsageOf(usage: PodUsage, resource: RankedResource): number {
  if (resource === 'memory') return sum(usage.containers.map((c) => c.memoryBytes));
  return sum(usage.containers.map((c) => c.ephemeralBytes)) + (usage.volumeBytes ?? 0);
}

/** Evict-first order for a starved resource; pods without stats come first, as upstream. */
export function rankForEviction(
  pods: readonly Pod[],
  resource: RankedResource,
  usageOf: (pod: Pod) => PodUsage | undefined,
): Pod[] {
  const facts = new Map(
    pods.map((p) => {
      const u = usageOf(p);
      const used = u ? podUsageOf(u, resource) : undefined;
      const request = podRequest(p, resource);
      return [p, { used, request, priority: p.spec?.priority ?? 0 }] as const;
    }),
  );
  const cmpBool = (a: boolean, b: boolean): number => (a === b ? 0 : a ? -1 : 1);
  return [...pods].sort((p1, p2) => {
    const a = facts.get(p1)!;
    const b = facts.get(p2)!;
    if (a.used === undefined || b.used === undefined)
      return cmpBool(a.used === undefined, b.used === undefined);
    const exceeds = cmpBool(a.used > a.request, b.used > b.request);
    if (exceeds !== 0) return exceeds;
    if (a.priority !== b.priority) return a.priority - b.priority;
    return b.used - b.request - (a.used - a.request);
  });
}

function containerRequest(pod: Pod, name: string, resource: RankedResource): number {
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
    (x) => x.name === name,
  );
  const q = c?.resources?.requests?.[resource];
  if (q === undefined) return 0;
  try {
    return quantityValue(parseQuantity(q));
  } catch {
    return 0;
  }
}

const bytes = (n: number): string =>
  formatQuantity(quantityFromValue(Math.max(0, Math.round(n)), 'BinarySI'));

/**
 * Upstream's eviction message: the starved resource, the threshold and what was available, and
 * every container that used more than it requested.
 */
export function evictionMessage(
  resource: RankedResource,
  pod: Pod,
  usage: PodUsage | undefined,
  met: readonly Threshold[],
  observations: Observations,
): string {
  let message = `The node was low on resource: ${resource}. `;
  const threshold = met.find((t) => SIGNAL_RESOURCE[t.signal] === resource && observations[t.signal]);
  const observed = threshold ? observations[threshold.signal] : undefined;
  if (threshold && observed)
    message += `Threshold quantity: ${formatAmount(threshold.signal, thresholdQuantity(threshold, observed.capacity))}, available: ${formatAmount(threshold.signal, observed.available)}. `;
  for (const c of usage?.containers ?? []) {
    const used = resource === 'memory' ? c.memoryBytes : c.ephemeralBytes;
    if (used === undefined) continue;
    const request = containerRequest(pod, c.name, resource);
    if (used > request)
      message += `Container ${c.name} was using ${bytes(used)}, request is ${bytes(request)}, has larger consumption of ${resource}. `;
  }
  return message;
}
