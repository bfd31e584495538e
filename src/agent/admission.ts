// Pod admission on the node, as the kubelet's resource predicate: a pod newly bound to the node is
// admitted only if its requests fit in what the node's allocatable leaves after the pods already
// admitted there (pod count, cpu, memory, ephemeral-storage). A pod that does not fit is rejected:
// phase Failed, reason "OutOf<resource>", message "Pod was rejected: Node didn't have enough
// resource: ...". A pod's effective request is the larger of its containers' sum (sidecars
// included) and its largest init container, plus the pod overhead.
import type { Container, Pod, PodStatus } from '../api/generated/types.js';
import { parseQuantity, quantityMilliValue, quantityValue } from '../api/quantity.js';
import { isTerminalPhase } from './pod-status.js';
import { rfc3339 } from './support.js';

/** Resources checked, in upstream's order; cpu counted in millicores, the others in units. */
const CHECKED = ['pods', 'cpu', 'memory', 'ephemeral-storage'] as const;
type Checked = (typeof CHECKED)[number];

function amount(resource: Checked, q: string | undefined): number {
  if (q === undefined) return 0;
  try {
    const parsed = parseQuantity(q);
    return resource === 'cpu' ? quantityMilliValue(parsed) : quantityValue(parsed);
  } catch {
    return 0;
  }
}

function requestsOf(c: Container, resource: Checked): number {
  return amount(resource, c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource]);
}

/** The pod's effective request of one resource. */
export function podRequest(pod: Pod, resource: Checked): number {
  if (resource === 'pods') return 1;
  const spec = pod.spec;
  if (!spec) return 0;
  let sum = 0;
  for (const c of spec.containers ?? []) sum += requestsOf(c, resource);
  let sidecars = 0;
  let initMax = 0;
  for (const c of spec.initContainers ?? []) {
    if (c.restartPolicy === 'Always') {
      sidecars += requestsOf(c, resource);
      initMax = Math.max(initMax, sidecars);
    } else {
      initMax = Math.max(initMax, sidecars + requestsOf(c, resource));
    }
  }
  return Math.max(sum + sidecars, initMax) + amount(resource, spec.overhead?.[resource]);
}

/** Whether a pod already holds its place on the node: it started (by this or an earlier agent). */
export function podHasStarted(pod: Pod): boolean {
  const st = pod.status;
  if (!st) return false;
  if (st.phase === 'Running') return true;
  return [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])].some((c) => c.containerID);
}

export interface AdmissionResult {
  admit: boolean;
  reason?: string;
  message?: string;
}

/**
 * Whether pod fits next to `others` (the node's other pods that hold resources: admitted or
 * started, not terminal) within allocatable.
 */
export function admitPod(
  pod: Pod,
  others: readonly Pod[],
  allocatable: Record<string, string>,
): AdmissionResult {
  for (const resource of CHECKED) {
    const capRaw = allocatable[resource];
    if (capRaw === undefined) continue;
    const capacity = amount(resource, capRaw);
    const requested = podRequest(pod, resource);
    if (requested === 0) continue;
    let used = 0;
    for (const o of others) if (!isTerminalPhase(o.status?.phase)) used += podRequest(o, resource);
    if (used + requested > capacity) {
      return {
        admit: false,
        reason: `OutOf${resource}`,
        message: `Pod was rejected: Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${used}, capacity: ${capacity}`,
      };
    }
  }
  return { admit: true };
}

/** The status of a rejected pod. */
export function rejectedStatus(pod: Pod, reason: string, message: string, now = Date.now()): PodStatus {
  const old = pod.status ?? {};
  const status: PodStatus = { phase: 'Failed', reason, message, startTime: old.startTime ?? rfc3339(now) };
  if (old.conditions) status.conditions = old.conditions;
  if (old.qosClass) status.qosClass = old.qosClass;
  return status;
}
