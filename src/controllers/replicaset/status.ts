// A ReplicaSet's status from its pods (upstream's calculateStatus), and the ReplicaFailure condition.
import type { Pod, ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from '../../api/generated/types.js';
import { errText } from '../common/errors.js';
import { formatTime } from '../common/clock.js';
import { isPodAvailable, isPodReady } from '../common/pods.js';
import { setMatcher } from '../common/selectors.js';

export const REPLICA_FAILURE = 'ReplicaFailure';

export function getCondition(
  status: ReplicaSetStatus | undefined,
  type: string,
): ReplicaSetCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function setCondition(status: ReplicaSetStatus, cond: ReplicaSetCondition): void {
  const current = getCondition(status, cond.type);
  if (current && current.status === cond.status && current.reason === cond.reason) return;
  const others = (status.conditions ?? []).filter((c) => c.type !== cond.type);
  status.conditions = [...others, cond];
}

export function removeCondition(status: ReplicaSetStatus, type: string): void {
  const left = (status.conditions ?? []).filter((c) => c.type !== type);
  if (left.length > 0) status.conditions = left;
  else delete status.conditions;
}

export function calculateStatus(
  rs: ReplicaSet,
  pods: readonly Pod[],
  manageErr: unknown,
  now: number,
): ReplicaSetStatus {
  const status: ReplicaSetStatus = structuredClone(rs.status ?? { replicas: 0 });
  const templateMatches = setMatcher(rs.spec?.template?.metadata?.labels);
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    if (templateMatches(pod.metadata.labels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReady, now)) available++;
    }
  }
  const failure = getCondition(rs.status, REPLICA_FAILURE);
  if (manageErr !== undefined && !failure) {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    setCondition(status, {
      type: REPLICA_FAILURE,
      status: 'True',
      lastTransitionTime: formatTime(now),
      reason,
      message: errText(manageErr),
    });
  } else if (manageErr === undefined && failure) {
    removeCondition(status, REPLICA_FAILURE);
  }
  status.replicas = pods.length;
  status.fullyLabeledReplicas = fullyLabeled;
  status.readyReplicas = ready;
  status.availableReplicas = available;
  return status;
}

/** Whether the status needs writing (upstream's comparison in updateReplicaSetStatus). */
export function statusChanged(rs: ReplicaSet, next: ReplicaSetStatus): boolean {
  const cur = rs.status;
  return !(
    cur !== undefined &&
    cur.replicas === next.replicas &&
    (cur.fullyLabeledReplicas ?? 0) === (next.fullyLabeledReplicas ?? 0) &&
    (cur.readyReplicas ?? 0) === (next.readyReplicas ?? 0) &&
    (cur.availableReplicas ?? 0) === (next.availableReplicas ?? 0) &&
    (rs.metadata.generation ?? 0) === (cur.observedGeneration ?? 0) &&
    JSON.stringify(cur.conditions ?? []) === JSON.stringify(next.conditions ?? [])
  );
}
