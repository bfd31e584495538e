// RollingUpdate (upstream's rolling.go): scale the new ReplicaSet up as far as maxSurge allows,
// then scale old ones down as far as maxUnavailable allows, unhealthy replicas first.
import type { Deployment, ReplicaSet } from '../../api/generated/types.js';
import type { DeploymentSyncContext } from './context.js';
import { syncRolloutStatus } from './progress.js';
import {
  cleanupDeployment,
  getAllReplicaSetsAndSyncRevision,
  scaleReplicaSetAndRecordEvent,
} from './sync.js';
import {
  availableFloor,
  byCreationTimestamp,
  deploymentComplete,
  filterActiveReplicaSets,
  maxUnavailable,
  newRSNewReplicas,
  replicaCount,
  replicasOf,
  rsReplicas,
} from './util.js';

export async function rolloutRolling(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rsList: readonly ReplicaSet[],
): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true);
  if (!newRS) throw new Error('no new replica set after creating it');
  const allRSs = [...oldRSs, newRS];

  if (await reconcileNewReplicaSet(ctx, allRSs, newRS, d)) return syncRolloutStatus(ctx, allRSs, newRS, d);
  if (await reconcileOldReplicaSets(ctx, allRSs, filterActiveReplicaSets(oldRSs), newRS, d))
    return syncRolloutStatus(ctx, allRSs, newRS, d);
  if (d.status && deploymentComplete(d, d.status)) await cleanupDeployment(ctx, oldRSs, d);
  return syncRolloutStatus(ctx, allRSs, newRS, d);
}

export async function reconcileNewReplicaSet(
  ctx: DeploymentSyncContext,
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
  d: Deployment,
): Promise<boolean> {
  const want = replicasOf(d);
  if (rsReplicas(newRS) === want) return false;
  if (rsReplicas(newRS) > want) return (await scaleReplicaSetAndRecordEvent(ctx, newRS, want, d)).scaled;
  const count = newRSNewReplicas(d, allRSs, newRS);
  return (await scaleReplicaSetAndRecordEvent(ctx, newRS, count, d)).scaled;
}

export async function reconcileOldReplicaSets(
  ctx: DeploymentSyncContext,
  allRSs: readonly ReplicaSet[],
  oldRSs: ReplicaSet[],
  newRS: ReplicaSet,
  d: Deployment,
): Promise<boolean> {
  if (replicaCount(oldRSs) === 0) return false;
  const allPods = replicaCount(allRSs);
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;

  const { rss, cleaned } = await cleanupUnhealthyReplicas(ctx, oldRSs, d, maxScaledDown);
  const scaledDown = await scaleDownOldReplicaSetsForRollingUpdate(ctx, [...rss, newRS], rss, d);
  return cleaned + scaledDown > 0;
}

/** Scales old ReplicaSets down by their unavailable replicas, oldest first, at most maxCleanup in all. */
export async function cleanupUnhealthyReplicas(
  ctx: DeploymentSyncContext,
  oldRSs: ReplicaSet[],
  d: Deployment,
  maxCleanup: number,
): Promise<{ rss: ReplicaSet[]; cleaned: number }> {
  const rss = [...oldRSs].sort(byCreationTimestamp);
  let total = 0;
  for (let i = 0; i < rss.length; i++) {
    if (total >= maxCleanup) break;
    const rs = rss[i]!;
    const replicas = rsReplicas(rs);
    const available = rs.status?.availableReplicas ?? 0;
    if (replicas === 0 || replicas <= available) continue;
    const count = Math.min(maxCleanup - total, replicas - available);
    const result = await scaleReplicaSetAndRecordEvent(ctx, rs, replicas - count, d);
    total += count;
    rss[i] = result.rs;
  }
  return { rss, cleaned: total };
}

/**
 * Scales old ReplicaSets down, oldest first, by as many available pods as exceed the minimum.
 * Availability counts each ReplicaSet at no more than its size, so pods an old ReplicaSet is
 * still deleting are not counted twice.
 */
export async function scaleDownOldReplicaSetsForRollingUpdate(
  ctx: DeploymentSyncContext,
  allRSs: readonly ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
  d: Deployment,
): Promise<number> {
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const available = availableFloor(allRSs);
  if (available <= minAvailable) return 0;
  const sorted = [...oldRSs].sort(byCreationTimestamp);
  const totalToScaleDown = available - minAvailable;
  let total = 0;
  for (const rs of sorted) {
    if (total >= totalToScaleDown) break;
    if (rsReplicas(rs) === 0) continue;
    const count = Math.min(rsReplicas(rs), totalToScaleDown - total);
    await scaleReplicaSetAndRecordEvent(ctx, rs, rsReplicas(rs) - count, d);
    total += count;
  }
  return total;
}
