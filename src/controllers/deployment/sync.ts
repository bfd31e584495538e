// Scaling, revisions, cleanup and status: the parts of a deployment sync shared by every strategy
// (upstream's sync.go).
import type { Deployment, DeploymentStatus, ReplicaSet } from '../../api/generated/types.js';
import { errText, isAlreadyExists, isNamespaceTerminating, isNotFound } from '../common/errors.js';
import { controllerRefOf } from '../common/pods.js';
import { controllerRef } from '../common/pod-control.js';
import type { DeploymentSyncContext } from './context.js';
import { computeHash } from './hash.js';
import {
  AVAILABLE,
  FAILED_RS_CREATE_REASON,
  FOUND_NEW_RS_REASON,
  MINIMUM_REPLICAS_AVAILABLE,
  MINIMUM_REPLICAS_UNAVAILABLE,
  NEW_REPLICASET_REASON,
  PAUSED_DEPLOY_REASON,
  POD_TEMPLATE_HASH_LABEL,
  PROGRESSING,
  RESUMED_DEPLOY_REASON,
  TIMED_OUT_REASON,
  actualReplicaCount,
  availableReplicaCount,
  byRevision,
  bySizeNewer,
  bySizeOlder,
  desiredReplicasAnnotation,
  equalIgnoreHash,
  filterActiveReplicaSets,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getCondition,
  getProportion,
  hasProgressDeadline,
  hasRevisionHistoryLimit,
  isRollingUpdate,
  isSaturated,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  readyReplicaCount,
  replicaCount,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  rsReplicas,
  setCondition,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
} from './util.js';

/** The new ReplicaSet (undefined if none yet and not asked to create it) and all the old ones. */
export interface ReplicaSets {
  newRS: ReplicaSet | undefined;
  oldRSs: ReplicaSet[];
}

/**
 * Finds the new and old ReplicaSets and brings revisions up to date: the new one's revision becomes
 * max(old)+1, and the deployment's revision annotation follows it. Creates the new ReplicaSet when
 * asked (upstream's getAllReplicaSetsAndSyncRevision).
 */
export async function getAllReplicaSetsAndSyncRevision(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rsList: readonly ReplicaSet[],
  createIfNotExisted: boolean,
): Promise<ReplicaSets> {
  const existing = findNewReplicaSet(d, rsList);
  const oldRSs = findOldReplicaSets(d, rsList, existing);
  const newRS = await getNewReplicaSet(ctx, d, existing, oldRSs, createIfNotExisted);
  return { newRS, oldRSs };
}

async function getNewReplicaSet(
  ctx: DeploymentSyncContext,
  d: Deployment,
  existing: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
  createIfNotExisted: boolean,
): Promise<ReplicaSet | undefined> {
  const newRevision = String(maxRevision(oldRSs) + 1);
  const ns = d.metadata.namespace ?? '';

  if (existing) {
    const rsCopy = structuredClone(existing);
    const annotationsUpdated = setNewReplicaSetAnnotations(d, rsCopy, newRevision, true);
    const minReadyChanged = (rsCopy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
    if (annotationsUpdated || minReadyChanged) {
      rsCopy.spec = { ...rsCopy.spec!, minReadySeconds: d.spec?.minReadySeconds ?? 0 };
      return ctx.client.updateReplicaSet(rsCopy);
    }
    let needsUpdate = setDeploymentRevision(
      d,
      rsCopy.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '',
    );
    const cond = getCondition(d.status, PROGRESSING);
    if (hasProgressDeadline(d) && !cond) {
      d.status ??= {};
      setCondition(
        d.status,
        newCondition(
          PROGRESSING,
          'True',
          FOUND_NEW_RS_REASON,
          `Found new replica set "${rsCopy.metadata.name}"`,
          ctx.clock.now(),
        ),
      );
      needsUpdate = true;
    }
    if (needsUpdate) await updateStatusKeepingAnnotations(ctx, d);
    return rsCopy;
  }

  if (!createIfNotExisted) return undefined;

  const template = structuredClone(d.spec?.template ?? {});
  const hash = computeHash(template, d.status?.collisionCount);
  template.metadata ??= {};
  template.metadata.labels = { ...(template.metadata.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const selector = structuredClone(d.spec!.selector);
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const newRS: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name ?? ''}-${hash}`,
      namespace: ns,
      ownerReferences: [controllerRef(d)],
      labels: { ...template.metadata.labels },
    },
    spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
  };
  const newReplicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
  newRS.spec!.replicas = newReplicas;
  setNewReplicaSetAnnotations(d, newRS, newRevision, false);

  let created: ReplicaSet;
  let alreadyExists = false;
  try {
    created = await ctx.client.createReplicaSet(newRS);
  } catch (err) {
    if (isAlreadyExists(err)) {
      alreadyExists = true;
      const rs = ctx.getCachedReplicaSet(ns, newRS.metadata.name ?? '');
      if (!rs) throw err;
      const ref = controllerRefOf(rs);
      if (ref && ref.uid === d.metadata.uid && equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
        created = rs;
      } else {
        // A hash collision: bump collisionCount so the next sync computes another name.
        d.status ??= {};
        const before = d.status.collisionCount ?? 0;
        d.status.collisionCount = before + 1;
        try {
          await ctx.client.updateDeploymentStatus(d);
          ctx.log.info('found a hash collision for deployment, bumping collisionCount', {
            deployment: `${ns}/${d.metadata.name}`,
            oldCollisionCount: before,
            newCollisionCount: before + 1,
          });
        } catch {
          // The sync is retried either way.
        }
        throw err;
      }
    } else if (isNamespaceTerminating(err)) {
      throw err;
    } else {
      const msg = `Failed to create new replica set "${newRS.metadata.name}": ${errText(err)}`;
      if (hasProgressDeadline(d)) {
        d.status ??= {};
        setCondition(
          d.status,
          newCondition(PROGRESSING, 'False', FAILED_RS_CREATE_REASON, msg, ctx.clock.now()),
        );
        try {
          await ctx.client.updateDeploymentStatus(d);
        } catch {
          // The bigger problem is reported below.
        }
      }
      ctx.recorder.event(d, 'Warning', FAILED_RS_CREATE_REASON, msg);
      throw err;
    }
  }
  if (!alreadyExists && newReplicas > 0)
    ctx.recorder.event(
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled up replica set ${created.metadata.name} from 0 to ${newReplicas}`,
    );

  let needsUpdate = setDeploymentRevision(d, newRevision);
  if (!alreadyExists && hasProgressDeadline(d)) {
    d.status ??= {};
    setCondition(
      d.status,
      newCondition(
        PROGRESSING,
        'True',
        NEW_REPLICASET_REASON,
        `Created new replica set "${created.metadata.name}"`,
        ctx.clock.now(),
      ),
    );
    needsUpdate = true;
  }
  if (needsUpdate) await updateStatusKeepingAnnotations(ctx, d);
  return created;
}

/**
 * Upstream writes the deployment's revision annotation through UpdateStatus, which in its registry
 * keeps metadata changes. The status subresource here may drop them, so the annotation goes
 * through a plain update and the status through /status.
 */
async function updateStatusKeepingAnnotations(ctx: DeploymentSyncContext, d: Deployment): Promise<void> {
  const updated = await ctx.client.updateDeploymentStatus(d);
  const want = d.metadata.annotations?.['deployment.kubernetes.io/revision'];
  if (want !== undefined && updated.metadata.annotations?.['deployment.kubernetes.io/revision'] !== want) {
    const next = structuredClone(updated);
    next.metadata.annotations = {
      ...(next.metadata.annotations ?? {}),
      'deployment.kubernetes.io/revision': want,
    };
    const written = await ctx.client.updateDeployment(next);
    d.metadata = written.metadata;
  } else {
    d.metadata = updated.metadata;
  }
}

/** Sets a ReplicaSet's size (and the replica annotations); true if the size changed. */
export async function scaleReplicaSet(
  ctx: DeploymentSyncContext,
  rs: ReplicaSet,
  newScale: number,
  d: Deployment,
  operation?: 'up' | 'down',
): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  const oldScale = rsReplicas(rs);
  const sizeNeedsUpdate = oldScale !== newScale;
  const desired = replicasOf(d);
  const max = desired + maxSurge(d);
  if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
  const copy = structuredClone(rs);
  copy.spec = { ...copy.spec!, replicas: newScale };
  setReplicasAnnotations(copy, desired, max);
  const updated = await ctx.client.updateReplicaSet(copy);
  if (sizeNeedsUpdate) {
    const op = operation ?? (oldScale < newScale ? 'up' : 'down');
    ctx.recorder.event(
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${op} replica set ${rs.metadata.name} from ${oldScale} to ${newScale}`,
    );
  }
  return { scaled: sizeNeedsUpdate, rs: updated };
}

/** scaleReplicaSet, only when the size differs (upstream's scaleReplicaSetAndRecordEvent). */
export async function scaleReplicaSetAndRecordEvent(
  ctx: DeploymentSyncContext,
  rs: ReplicaSet,
  newScale: number,
  d: Deployment,
): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  if (rsReplicas(rs) === newScale) return { scaled: false, rs };
  return scaleReplicaSet(ctx, rs, newScale, d);
}

/**
 * A scaling event (or a paused deployment): the active ReplicaSets share the new size in
 * proportion to their current sizes, leftovers going to the largest.
 */
export async function scale(
  ctx: DeploymentSyncContext,
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
): Promise<void> {
  const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
  if (activeOrLatest) {
    if (rsReplicas(activeOrLatest) === replicasOf(d)) return;
    await scaleReplicaSetAndRecordEvent(ctx, activeOrLatest, replicasOf(d), d);
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const old of filterActiveReplicaSets(oldRSs)) await scaleReplicaSetAndRecordEvent(ctx, old, 0, d);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const allRSs = filterActiveReplicaSets([...oldRSs, newRS]);
  const current = replicaCount(allRSs);
  const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowed - current;
  let operation: 'up' | 'down' | undefined;
  if (toAdd > 0) {
    allRSs.sort(bySizeNewer);
    operation = 'up';
  } else if (toAdd < 0) {
    allRSs.sort(bySizeOlder);
    operation = 'down';
  }
  let added = 0;
  const sizes = new Map<string, number>();
  for (const rs of allRSs) {
    if (toAdd !== 0) {
      const p = getProportion(rs, d, toAdd, added);
      sizes.set(rs.metadata.name ?? '', rsReplicas(rs) + p);
      added += p;
    } else sizes.set(rs.metadata.name ?? '', rsReplicas(rs));
  }
  for (let i = 0; i < allRSs.length; i++) {
    const rs = allRSs[i]!;
    const name = rs.metadata.name ?? '';
    if (i === 0 && toAdd !== 0) sizes.set(name, Math.max(0, (sizes.get(name) ?? 0) + toAdd - added));
    await scaleReplicaSet(ctx, rs, sizes.get(name) ?? 0, d, operation);
  }
}

/** Deletes the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit. */
export async function cleanupDeployment(
  ctx: DeploymentSyncContext,
  oldRSs: readonly ReplicaSet[],
  d: Deployment,
): Promise<void> {
  if (!hasRevisionHistoryLimit(d)) return;
  const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
  const diff = cleanable.length - (d.spec?.revisionHistoryLimit ?? 10);
  if (diff <= 0) return;
  cleanable.sort(byRevision);
  for (let i = 0; i < diff; i++) {
    const rs = cleanable[i]!;
    if (
      (rs.status?.replicas ?? 0) !== 0 ||
      rsReplicas(rs) !== 0 ||
      (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0) ||
      rs.metadata.deletionTimestamp
    )
      continue;
    ctx.log.debug('trying to clean up replica set for deployment', {
      rs: rs.metadata.name,
      deployment: d.metadata.name,
    });
    try {
      await ctx.client.deleteReplicaSet(rs.metadata.namespace ?? '', rs.metadata.name ?? '');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** The status the ReplicaSets imply, with the Available condition (upstream's calculateStatus). */
export function calculateStatus(
  allRSs: ReadonlyArray<ReplicaSet | undefined>,
  newRS: ReplicaSet | undefined,
  d: Deployment,
  now: number,
): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const total = replicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions) status.conditions = d.status.conditions.map((c) => ({ ...c }));
  if (available >= replicasOf(d) - maxUnavailable(d))
    setCondition(
      status,
      newCondition(
        AVAILABLE,
        'True',
        MINIMUM_REPLICAS_AVAILABLE,
        'Deployment has minimum availability.',
        now,
      ),
    );
  else
    setCondition(
      status,
      newCondition(
        AVAILABLE,
        'False',
        MINIMUM_REPLICAS_UNAVAILABLE,
        'Deployment does not have minimum availability.',
        now,
      ),
    );
  return status;
}

export function statusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  const norm = (s: DeploymentStatus | undefined): string =>
    JSON.stringify({
      observedGeneration: s?.observedGeneration ?? 0,
      replicas: s?.replicas ?? 0,
      updatedReplicas: s?.updatedReplicas ?? 0,
      readyReplicas: s?.readyReplicas ?? 0,
      availableReplicas: s?.availableReplicas ?? 0,
      unavailableReplicas: s?.unavailableReplicas ?? 0,
      collisionCount: s?.collisionCount,
      conditions: (s?.conditions ?? []).map((c) => [
        c.type,
        c.status,
        c.reason,
        c.message,
        c.lastUpdateTime,
        c.lastTransitionTime,
      ]),
    });
  return norm(a) === norm(b);
}

export async function syncDeploymentStatus(
  ctx: DeploymentSyncContext,
  allRSs: ReadonlyArray<ReplicaSet | undefined>,
  newRS: ReplicaSet | undefined,
  d: Deployment,
): Promise<void> {
  const status = calculateStatus(allRSs, newRS, d, ctx.clock.now());
  if (statusEqual(d.status, status)) return;
  d.status = status;
  await ctx.client.updateDeploymentStatus(d);
}

/** Scaling or paused: sizes only, no rollout (upstream's sync). */
export async function syncScaleOnly(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rsList: readonly ReplicaSet[],
): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  await scale(ctx, d, newRS, oldRSs);
  await cleanupDeployment(ctx, oldRSs, d);
  await syncDeploymentStatus(ctx, [...oldRSs, newRS], newRS, d);
}

/** Status only (a deployment being deleted). */
export async function syncStatusOnly(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rsList: readonly ReplicaSet[],
): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  await syncDeploymentStatus(ctx, [...oldRSs, newRS], newRS, d);
}

/** Whether the deployment's replicas changed since the ReplicaSets were last sized. */
export async function isScalingEvent(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rsList: readonly ReplicaSet[],
): Promise<boolean> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  for (const rs of filterActiveReplicaSets([...oldRSs, newRS])) {
    const desired = desiredReplicasAnnotation(rs);
    if (desired === undefined) continue;
    if (desired !== replicasOf(d)) return true;
  }
  return false;
}

/** The Progressing condition says Unknown/DeploymentPaused while paused, DeploymentResumed after. */
export async function checkPausedConditions(ctx: DeploymentSyncContext, d: Deployment): Promise<void> {
  if (!hasProgressDeadline(d)) return;
  const cond = getCondition(d.status, PROGRESSING);
  if (cond?.reason === TIMED_OUT_REASON) return;
  const pausedCondExists = cond?.reason === PAUSED_DEPLOY_REASON;
  let needsUpdate = false;
  d.status ??= {};
  if (d.spec?.paused && !pausedCondExists) {
    setCondition(
      d.status,
      newCondition(PROGRESSING, 'Unknown', PAUSED_DEPLOY_REASON, 'Deployment is paused', ctx.clock.now()),
    );
    needsUpdate = true;
  } else if (!d.spec?.paused && pausedCondExists) {
    setCondition(
      d.status,
      newCondition(PROGRESSING, 'Unknown', RESUMED_DEPLOY_REASON, 'Deployment is resumed', ctx.clock.now()),
    );
    needsUpdate = true;
  }
  if (!needsUpdate) return;
  const updated = await ctx.client.updateDeploymentStatus(d);
  d.metadata = updated.metadata;
}
