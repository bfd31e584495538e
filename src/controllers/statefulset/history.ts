// Controller history (upstream's pkg/controller/history), shared by the StatefulSet and DaemonSet
// controllers: each distinct pod template a controller has run is kept as a ControllerRevision
// named `<parent>-<hash>`, numbered in the order it became current. Going back to an older
// template re-numbers its revision rather than creating a duplicate; a hash collision with a
// revision holding different data bumps status.collisionCount and hashes again.
import type { ControllerRevision, PodTemplateSpec } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import { isAlreadyExists } from '../common/errors.js';
import { controllerRef } from '../common/pod-control.js';
import { canonicalJson, fnv32a, safeEncodeString } from '../deployment/hash.js';

/** The label on a ControllerRevision holding its hash. */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';
/** The label on pods naming the revision they were made from. */
export const POD_REVISION_LABEL = 'controller-revision-hash';

export interface RevisionClient {
  create(rev: ControllerRevision): Promise<ControllerRevision>;
  /** Replaces the revision's number (the rest of a revision is immutable). */
  updateRevisionNumber(rev: ControllerRevision, revision: number): Promise<ControllerRevision>;
  delete(namespace: string, name: string): Promise<void>;
  get(namespace: string, name: string): Promise<ControllerRevision>;
}

/** The data a revision stores: a patch replacing spec.template (upstream's getPatch). */
export function templatePatch(template: PodTemplateSpec | undefined): Record<string, unknown> {
  return { spec: { template: { ...(structuredClone(template) ?? {}), $patch: 'replace' } } };
}

/** The template a revision's data holds. */
export function templateOf(rev: ControllerRevision): PodTemplateSpec | undefined {
  const data = rev.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const t = data?.spec?.template;
  if (!t) return undefined;
  const copy = structuredClone(t);
  delete copy.$patch;
  return copy;
}

/** Upstream's HashControllerRevision: FNV-32a over the data, then the collision count. */
export function hashRevision(data: unknown, collisionCount: number | undefined): string {
  let h = fnv32a(Buffer.from(canonicalJson(data ?? {}), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

export function revisionName(parent: string, hash: string): string {
  return `${parent}-${hash}`;
}

export function sameData(a: ControllerRevision, b: ControllerRevision): boolean {
  return canonicalJson(a.data ?? {}) === canonicalJson(b.data ?? {});
}

export function sortRevisions(revs: readonly ControllerRevision[]): ControllerRevision[] {
  return [...revs].sort(
    (a, b) => a.revision - b.revision || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
}

export function nextRevisionNumber(revs: readonly ControllerRevision[]): number {
  let max = 0;
  for (const r of revs) max = Math.max(max, r.revision);
  return max + 1;
}

/** A revision of parent for template (not yet stored). */
export function newRevision(
  parent: KubeObject,
  template: PodTemplateSpec | undefined,
  revision: number,
  collisionCount: number | undefined,
  extraLabels: (hash: string) => Record<string, string> = () => ({}),
): ControllerRevision {
  const data = templatePatch(template);
  const hash = hashRevision(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(parent.metadata.name ?? '', hash),
      namespace: parent.metadata.namespace,
      labels: {
        ...(template?.metadata?.labels ?? {}),
        ...extraLabels(hash),
        [CONTROLLER_REVISION_HASH_LABEL]: hash,
      },
      ownerReferences: [controllerRef(parent)],
    },
    data,
    revision,
  };
}

export function revisionHash(rev: ControllerRevision): string {
  return (
    rev.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ??
    (rev.metadata.name ?? '').slice((rev.metadata.name ?? '').lastIndexOf('-') + 1)
  );
}

/**
 * Makes sure a revision for the parent's current template exists and is the newest: reuses an
 * equal one (re-numbered if older), else creates one, resolving hash collisions. Returns the
 * revision, the collision count to record, and the revisions as they now stand.
 */
export async function ensureUpdateRevision(
  parent: KubeObject,
  template: PodTemplateSpec | undefined,
  existing: readonly ControllerRevision[],
  collisionCount: number | undefined,
  client: RevisionClient,
  extraLabels?: (hash: string) => Record<string, string>,
): Promise<{ revision: ControllerRevision; collisionCount: number; revisions: ControllerRevision[] }> {
  let count = collisionCount ?? 0;
  const revs = sortRevisions(existing);
  const probe = newRevision(parent, template, nextRevisionNumber(revs), count, extraLabels);
  const equal = revs.filter((r) => sameData(r, probe));
  const latest = revs.at(-1);
  if (equal.length > 0) {
    const eq = equal.at(-1)!;
    if (latest && eq.metadata.name === latest.metadata.name)
      return { revision: eq, collisionCount: count, revisions: revs };
    const renumbered = await client.updateRevisionNumber(eq, probe.revision);
    return {
      revision: renumbered,
      collisionCount: count,
      revisions: revs.map((r) => (r.metadata.name === eq.metadata.name ? renumbered : r)),
    };
  }
  for (let attempt = 0; attempt < 16; attempt++) {
    const rev = newRevision(parent, template, probe.revision, count, extraLabels);
    try {
      const created = await client.create(rev);
      return { revision: created, collisionCount: count, revisions: [...revs, created] };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const clash = await client.get(rev.metadata.namespace ?? '', rev.metadata.name ?? '');
      const ours = clash.metadata.ownerReferences?.some((r) => r.uid === parent.metadata.uid && r.controller);
      if (ours && sameData(clash, rev))
        return { revision: clash, collisionCount: count, revisions: [...revs, clash] };
      count++;
    }
  }
  throw new Error(
    `could not create a revision for ${parent.kind} ${parent.metadata.namespace}/${parent.metadata.name}: too many hash collisions`,
  );
}

/** Deletes the oldest revisions beyond limit, except the ones in use. */
export async function truncateHistory(
  revisions: readonly ControllerRevision[],
  inUse: ReadonlySet<string>,
  limit: number,
  client: RevisionClient,
): Promise<void> {
  const candidates = sortRevisions(revisions).filter((r) => !inUse.has(r.metadata.name ?? ''));
  const excess = candidates.length - limit;
  for (const r of candidates.slice(0, Math.max(0, excess)))
    await client.delete(r.metadata.namespace ?? '', r.metadata.name ?? '');
}
