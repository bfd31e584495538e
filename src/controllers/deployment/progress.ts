// Rollout progress (upstream's progress.go): the Progressing condition moves to
// NewReplicaSetAvailable when the rollout completes, is refreshed (ReplicaSetUpdated) whenever pods
// move forward, and turns False with ProgressDeadlineExceeded once nothing has moved for
// progressDeadlineSeconds; ReplicaSet failures are promoted to a ReplicaFailure condition.
import type { Deployment, DeploymentCondition, ReplicaSet } from '../../api/generated/types.js';
import { parseTime } from '../common/clock.js';
import type { DeploymentSyncContext } from './context.js';
import { calculateStatus, statusEqual } from './sync.js';
import {
  NEW_RS_AVAILABLE_REASON,
  PROGRESSING,
  REPLICASET_UPDATED_REASON,
  REPLICA_FAILURE,
  TIMED_OUT_REASON,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  getCondition,
  hasProgressDeadline,
  newCondition,
  removeCondition,
  setCondition,
} from './util.js';

/** The first ReplicaFailure condition among the new, then the old ReplicaSets. */
function replicaFailure(
  allRSs: ReadonlyArray<ReplicaSet | undefined>,
  newRS: ReplicaSet | undefined,
): DeploymentCondition | undefined {
  const ordered = newRS ? [newRS, ...allRSs.filter((rs) => rs !== newRS)] : [...allRSs];
  for (const rs of ordered) {
    const c = rs?.status?.conditions?.find((x) => x.type === REPLICA_FAILURE);
    if (c)
      return {
        type: c.type,
        status: c.status,
        lastTransitionTime: c.lastTransitionTime,
        lastUpdateTime: c.lastTransitionTime,
        reason: c.reason,
        message: c.message,
      };
  }
  return undefined;
}

export async function syncRolloutStatus(
  ctx: DeploymentSyncContext,
  allRSs: ReadonlyArray<ReplicaSet | undefined>,
  newRS: ReplicaSet | undefined,
  d: Deployment,
): Promise<void> {
  const now = ctx.clock.now();
  const status = calculateStatus(allRSs, newRS, d, now);
  if (!hasProgressDeadline(d)) removeCondition(status, PROGRESSING);

  const current = getCondition(d.status, PROGRESSING);
  const isComplete =
    (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === NEW_RS_AVAILABLE_REASON;
  if (hasProgressDeadline(d) && !isComplete) {
    const name = d.metadata.name ?? '';
    if (deploymentComplete(d, status)) {
      const msg = newRS
        ? `ReplicaSet "${newRS.metadata.name}" has successfully progressed.`
        : `Deployment "${name}" has successfully progressed.`;
      setCondition(status, newCondition(PROGRESSING, 'True', NEW_RS_AVAILABLE_REASON, msg, now));
    } else if (deploymentProgressing(d, status)) {
      const msg = newRS
        ? `ReplicaSet "${newRS.metadata.name}" is progressing.`
        : `Deployment "${name}" is progressing.`;
      const cond = newCondition(PROGRESSING, 'True', REPLICASET_UPDATED_REASON, msg, now);
      // Progress refreshes lastUpdateTime even when the reason stays the same.
      if (current) {
        if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, PROGRESSING);
      }
      setCondition(status, cond);
    } else if (deploymentTimedOut(d, status, now)) {
      const msg = newRS
        ? `ReplicaSet "${newRS.metadata.name}" has timed out progressing.`
        : `Deployment "${name}" has timed out progressing.`;
      setCondition(status, newCondition(PROGRESSING, 'False', TIMED_OUT_REASON, msg, now));
    }
  }

  const failure = replicaFailure(allRSs, newRS);
  if (failure) setCondition(status, failure);
  else removeCondition(status, REPLICA_FAILURE);

  if (statusEqual(d.status, status)) {
    requeueStuckDeployment(ctx, d, status);
    return;
  }
  d.status = status;
  await ctx.client.updateDeploymentStatus(d);
}

/**
 * A rollout that is not moving gets looked at again when its deadline passes, so it times out
 * without waiting for an unrelated event. Returns the delay (-1: none).
 */
export function requeueStuckDeployment(
  ctx: DeploymentSyncContext,
  d: Deployment,
  status: Deployment['status'] & object,
): number {
  const current = getCondition(d.status, PROGRESSING);
  if (!hasProgressDeadline(d) || !current) return -1;
  if (deploymentComplete(d, status) || current.reason === TIMED_OUT_REASON) return -1;
  const last = parseTime(current.lastUpdateTime);
  if (last === undefined) return -1;
  const after = last + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - ctx.clock.now();
  if (after < 1000) {
    ctx.enqueueRateLimited(d);
    return 0;
  }
  ctx.enqueueAfter(d, after + 1000);
  return after;
}
