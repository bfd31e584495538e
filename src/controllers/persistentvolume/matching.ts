// Which PersistentVolume a claim may bind to, as upstream's PV controller decides it
// (pkg/controller/volume/persistentvolume/index.go and the storage helpers): the smallest volume
// that is big enough, offers every access mode the claim asks for, has the claim's class and
// volume mode and matches its label selector; a volume pre-bound to the claim (spec.claimRef)
// wins over any other. With delayed binding (WaitForFirstConsumer) only pre-bound volumes count:
// the scheduler picks the others, per node. Among fitting volumes, those offering fewer access
// modes come first, then the smallest.
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../api/generated/types.js';
import { compileLabelSelector } from '../../api/labels.js';
import type { KubeObject } from '../../api/meta.js';
import { compareQuantity, tryParseQuantity, type Quantity } from '../../api/quantity.js';

export type PV = PersistentVolume & KubeObject;
export type PVC = PersistentVolumeClaim & KubeObject;
export type SC = StorageClass & KubeObject;

/** The annotation that named a class before spec.storageClassName existed (still honoured first). */
export const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';

/** The claim's class: the beta annotation, else spec.storageClassName ("" when neither). */
export function claimClass(pvc: PVC): string {
  return pvc.metadata.annotations?.[ANN_BETA_STORAGE_CLASS] ?? pvc.spec?.storageClassName ?? '';
}

/** The volume's class, by the same rule. */
export function volumeClass(pv: PV): string {
  return pv.metadata.annotations?.[ANN_BETA_STORAGE_CLASS] ?? pv.spec?.storageClassName ?? '';
}

function storage(list: { [k: string]: string } | undefined): Quantity | undefined {
  return tryParseQuantity(list?.storage);
}

export function claimRequest(pvc: PVC): Quantity | undefined {
  return storage(pvc.spec?.resources?.requests);
}

export function volumeCapacity(pv: PV): Quantity | undefined {
  return storage(pv.spec?.capacity);
}

/** Whether pv.spec.claimRef names this claim (by namespace and name, and by uid when the ref has one). */
export function isVolumeBoundToClaim(pv: PV, pvc: PVC): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== pvc.metadata.name || ref.namespace !== pvc.metadata.namespace) return false;
  return !ref.uid || ref.uid === pvc.metadata.uid;
}

/** Volume modes differ (an unset mode is Filesystem on both sides). */
export function volumeModeMismatch(pvc: PVC, pv: PV): boolean {
  return (pvc.spec?.volumeMode ?? 'Filesystem') !== (pv.spec?.volumeMode ?? 'Filesystem');
}

/** Every access mode the claim asks for is one the volume offers. */
export function accessModesSatisfied(pvc: PVC, pv: PV): boolean {
  const offered = new Set(pv.spec?.accessModes ?? []);
  return (pvc.spec?.accessModes ?? []).every((m) => offered.has(m));
}

/**
 * Why a volume the claim names in spec.volumeName cannot serve it (upstream's
 * checkVolumeSatisfyClaim), or undefined when it can.
 */
export function volumeUnsatisfiedReason(pv: PV, pvc: PVC): string | undefined {
  const want = claimRequest(pvc);
  const have = volumeCapacity(pv);
  if (want && (!have || compareQuantity(have, want) < 0)) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(pvc)) return 'storageClassName does not match';
  if (volumeModeMismatch(pvc, pv)) return 'incompatible volumeMode';
  if (!accessModesSatisfied(pvc, pv)) return 'incompatible accessMode';
  return undefined;
}

/**
 * The best volume for an unbound claim without spec.volumeName, or undefined. delayBinding: the
 * claim's class binds at first consumer, so only a volume pre-bound to it may be chosen here.
 */
export function findBestMatch(pvc: PVC, volumes: Iterable<PV>, delayBinding: boolean): PV | undefined {
  const want = claimRequest(pvc);
  if (!want) return undefined;
  const selects = pvc.spec?.selector ? compileLabelSelector(pvc.spec.selector) : undefined;
  const cls = claimClass(pvc);
  let best: PV | undefined;
  let bestSize: Quantity | undefined;
  let bestModes = 0;
  for (const pv of volumes) {
    const size = volumeCapacity(pv);
    if (!size || compareQuantity(size, want) < 0) continue;
    if (!accessModesSatisfied(pvc, pv)) continue;
    if (volumeModeMismatch(pvc, pv)) continue;
    if (pv.metadata.deletionTimestamp) continue;
    if (isVolumeBoundToClaim(pv, pvc)) return pv;
    if (delayBinding) continue;
    if (pv.spec?.claimRef) continue;
    if (pv.status?.phase !== undefined && pv.status.phase !== 'Available' && pv.status.phase !== 'Pending')
      continue;
    if (selects && !selects(pv.metadata.labels)) continue;
    if (volumeClass(pv) !== cls) continue;
    // Upstream indexes volumes by their access-mode set and searches the smallest sets first, so
    // fewer offered modes beats a smaller size.
    const modes = new Set(pv.spec?.accessModes ?? []).size;
    if (
      !best ||
      !bestSize ||
      modes < bestModes ||
      (modes === bestModes && compareQuantity(size, bestSize) < 0)
    ) {
      best = pv;
      bestSize = size;
      bestModes = modes;
    }
  }
  return best;
}
