// Recreate (upstream's recreate.go): scale every old ReplicaSet to zero, wait until no old pod is
// left running, then create or scale up the new ReplicaSet.
import type { Deployment, ReplicaSet } from '../../api/generated/types.js';
import type { DeploymentSyncContext, PodMap } from './context.js';
import { syncRolloutStatus } from './progress.js';
import {
  cleanupDeployment,
  getAllReplicaSetsAndSyncRevision,
  scaleReplicaSetAndRecordEvent,
} from './sync.js';
import {
  actualReplicaCount,
  deploymentComplete,
  filterActiveReplicaSets,
  replicasOf,
  rsReplicas,
} from './util.js';

export async function rolloutRecreate(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rsList: readonly ReplicaSet[],
  podMap: PodMap,
): Promise<void> {
  // Do not create the new ReplicaSet yet: old pods go first.
  let { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  let allRSs: Array<ReplicaSet | undefined> = [...oldRSs, newRS];

  if (await scaleDownOldReplicaSetsForRecreate(ctx, filterActiveReplicaSets(oldRSs), d))
    return syncRolloutStatus(ctx, allRSs, newRS, d);
  if (oldPodsRunning(newRS, oldRSs, podMap)) return syncRolloutStatus(ctx, allRSs, newRS, d);

  if (!newRS) {
    ({ newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true));
    allRSs = [...oldRSs, newRS];
  }
  if (newRS) await scaleReplicaSetAndRecordEvent(ctx, newRS, replicasOf(d), d);
  if (d.status && deploymentComplete(d, d.status)) await cleanupDeployment(ctx, oldRSs, d);
  return syncRolloutStatus(ctx, allRSs, newRS, d);
}

async function scaleDownOldReplicaSetsForRecreate(
  ctx: DeploymentSyncContext,
  oldRSs: readonly ReplicaSet[],
  d: Deployment,
): Promise<boolean> {
  let scaled = false;
  for (const rs of oldRSs) {
    if (rsReplicas(rs) === 0) continue;
    if ((await scaleReplicaSetAndRecordEvent(ctx, rs, 0, d)).scaled) scaled = true;
  }
  return scaled;
}

/** Whether any pod of an old ReplicaSet may still be running (terminal pods do not count). */
export function oldPodsRunning(
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
  podMap: PodMap,
): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
  }
  return false;
}
