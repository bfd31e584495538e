// Server-driven rollback (upstream's rollback.go), for clients of extensions/v1beta1 and
// apps/v1beta1 whose spec.rollbackTo is kept in the deprecated.deployment.rollback.to annotation:
// copy the template of the ReplicaSet with that revision (0: the previous one) into the deployment
// and clear the annotation. kubectl 1.32's `rollout undo` does the copy itself with a patch; the
// revision bookkeeping for both happens in getAllReplicaSetsAndSyncRevision.
import type { Deployment, ReplicaSet } from '../../api/generated/types.js';
import type { DeploymentSyncContext } from './context.js';
import { getAllReplicaSetsAndSyncRevision } from './sync.js';
import {
  DEPRECATED_ROLLBACK_TO,
  POD_TEMPLATE_HASH_LABEL,
  ROLLBACK_DONE,
  ROLLBACK_REVISION_NOT_FOUND,
  ROLLBACK_TEMPLATE_UNCHANGED,
  equalIgnoreHash,
  lastRevision,
  revisionOf,
  setDeploymentAnnotationsTo,
} from './util.js';

/** The revision asked for, or undefined when there is no (valid) request. */
export function getRollbackTo(d: Deployment): number | undefined {
  const v = d.metadata.annotations?.[DEPRECATED_ROLLBACK_TO];
  if (!v || !/^-?\d+$/.test(v)) return undefined;
  return Number.parseInt(v, 10);
}

async function updateDeploymentAndClearRollbackTo(ctx: DeploymentSyncContext, d: Deployment): Promise<void> {
  if (d.metadata.annotations) delete d.metadata.annotations[DEPRECATED_ROLLBACK_TO];
  await ctx.client.updateDeployment(d);
}

export async function rollback(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rsList: readonly ReplicaSet[],
): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true);
  const allRSs = newRS ? [...oldRSs, newRS] : oldRSs;
  let revision = getRollbackTo(d) ?? 0;
  if (revision === 0) {
    revision = lastRevision(allRSs);
    if (revision === 0) {
      ctx.recorder.event(d, 'Warning', ROLLBACK_REVISION_NOT_FOUND, 'Unable to find last revision.');
      return updateDeploymentAndClearRollbackTo(ctx, d);
    }
  }
  for (const rs of allRSs) {
    if (revisionOf(rs) !== revision) continue;
    const performed = await rollbackToTemplate(ctx, d, rs);
    if (performed)
      ctx.recorder.event(
        d,
        'Normal',
        ROLLBACK_DONE,
        `Rolled back deployment "${d.metadata.name}" to revision ${revision}`,
      );
    return;
  }
  ctx.recorder.event(
    d,
    'Warning',
    ROLLBACK_REVISION_NOT_FOUND,
    'Unable to find the revision to rollback to.',
  );
  return updateDeploymentAndClearRollbackTo(ctx, d);
}

async function rollbackToTemplate(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rs: ReplicaSet,
): Promise<boolean> {
  let performed = false;
  if (!equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
    const template = structuredClone(rs.spec?.template ?? {});
    if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    d.spec = { ...d.spec!, template };
    setDeploymentAnnotationsTo(d, rs);
    performed = true;
  } else {
    ctx.recorder.event(
      d,
      'Warning',
      ROLLBACK_TEMPLATE_UNCHANGED,
      `The rollback revision contains the same template as current deployment "${d.metadata.name}"`,
    );
  }
  await updateDeploymentAndClearRollbackTo(ctx, d);
  return performed;
}
