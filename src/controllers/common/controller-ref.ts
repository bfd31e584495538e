// Claiming children, as upstream's ControllerRefManager: a controller owns the objects whose
// controller reference names its UID; it adopts orphans its selector matches (unless it is being
// deleted, and after checking with the server that it still exists) and releases the children its
// selector no longer matches. Adoption and release are JSON patches guarded by `test` operations on
// the child's uid and the owner reference, so a racing writer makes them fail rather than clobber.
import type { KubeObject, OwnerReference } from '../../api/meta.js';
import type { JsonPatchOp } from './pod-control.js';
import { isNotFound } from './errors.js';
import { controllerRefOf } from './pods.js';

export function adoptPatch(child: KubeObject, ref: OwnerReference): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [{ op: 'test', path: '/metadata/uid', value: child.metadata.uid }];
  const refs = child.metadata.ownerReferences;
  if (!refs || refs.length === 0) ops.push({ op: 'add', path: '/metadata/ownerReferences', value: [ref] });
  else {
    ops.push({ op: 'test', path: '/metadata/ownerReferences', value: refs });
    ops.push({ op: 'add', path: '/metadata/ownerReferences/-', value: ref });
  }
  return ops;
}

export function releasePatch(child: KubeObject, ownerUid: string): JsonPatchOp[] {
  const refs = child.metadata.ownerReferences ?? [];
  const i = refs.findIndex((r) => r.uid === ownerUid);
  if (i < 0) return [];
  return [
    { op: 'test', path: '/metadata/uid', value: child.metadata.uid },
    { op: 'test', path: `/metadata/ownerReferences/${i}/uid`, value: ownerUid },
    { op: 'remove', path: `/metadata/ownerReferences/${i}` },
  ];
}

export interface ClaimOptions<T extends KubeObject> {
  owner: KubeObject;
  match: (child: T) => boolean;
  /** Re-reads the owner from the server: adoption is refused if it is gone or being deleted. */
  recheckOwner: () => Promise<KubeObject>;
  patch: (child: T, ops: JsonPatchOp[]) => Promise<void>;
  ref: OwnerReference;
}

/** The children the owner controls after adoption and release (upstream's ClaimObject over a list). */
export async function claimObjects<T extends KubeObject>(
  candidates: readonly T[],
  o: ClaimOptions<T>,
): Promise<T[]> {
  const claimed: T[] = [];
  const errors: unknown[] = [];
  const ownerUid = o.owner.metadata.uid;
  let recheck: Promise<void> | undefined;
  const canAdopt = (): Promise<void> => {
    recheck ??= o.recheckOwner().then((fresh) => {
      if (fresh.metadata.uid !== ownerUid)
        throw new Error(
          `original ${o.owner.kind} ${o.owner.metadata.namespace}/${o.owner.metadata.name} is gone: got uid ${fresh.metadata.uid}, wanted ${ownerUid}`,
        );
      if (fresh.metadata.deletionTimestamp)
        throw new Error(
          `${o.owner.kind} ${o.owner.metadata.namespace}/${o.owner.metadata.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`,
        );
    });
    return recheck;
  };
  const ownerDeleting = !!o.owner.metadata.deletionTimestamp;
  for (const child of candidates) {
    const ref = controllerRefOf(child);
    try {
      if (ref) {
        if (ref.uid !== ownerUid) continue;
        if (o.match(child)) {
          claimed.push(child);
          continue;
        }
        if (ownerDeleting) continue;
        const ops = releasePatch(child, ownerUid ?? '');
        if (ops.length > 0) await o.patch(child, ops);
        continue;
      }
      if (ownerDeleting || !o.match(child) || child.metadata.deletionTimestamp) continue;
      if (o.owner.metadata.namespace && o.owner.metadata.namespace !== child.metadata.namespace) continue;
      await canAdopt();
      await o.patch(child, adoptPatch(child, o.ref));
      const adopted = structuredClone<T>(child);
      adopted.metadata.ownerReferences = [...(child.metadata.ownerReferences ?? []), o.ref];
      claimed.push(adopted);
    } catch (err) {
      if (isNotFound(err)) continue;
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
  return claimed;
}
