// The StorageObjectInUseProtection admission plugin: every new PersistentVolumeClaim gets the
// kubernetes.io/pvc-protection finalizer and every new PersistentVolume kubernetes.io/pv-protection,
// so that deleting one still in use only marks it (Terminating) until the pvc-protection and
// pv-protection controllers see it unused. Without it, deleting a claim a running pod mounts would
// release its volume at once, and a Delete policy would remove the data under the pod.
import type { AdmissionPlugin } from '../admission.js';

export const STORAGE_PROTECTION_PLUGIN = 'StorageObjectInUseProtection';
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

export function storageObjectInUseProtectionPlugin(): AdmissionPlugin {
  return {
    name: STORAGE_PROTECTION_PLUGIN,
    admit(req) {
      if (req.operation !== 'CREATE' || req.subresource !== '' || !req.object) return;
      if (req.resource.group !== '') return;
      const finalizer =
        req.resource.plural === 'persistentvolumeclaims'
          ? PVC_PROTECTION_FINALIZER
          : req.resource.plural === 'persistentvolumes'
            ? PV_PROTECTION_FINALIZER
            : undefined;
      if (!finalizer) return;
      const meta = req.object.metadata;
      const list = meta.finalizers ?? [];
      if (!list.includes(finalizer)) meta.finalizers = [...list, finalizer];
    },
  };
}
