// The DefaultStorageClass admission plugin: a new PersistentVolumeClaim that names no class (no
// spec.storageClassName and no beta class annotation) gets the default StorageClass, the one
// annotated storageclass.kubernetes.io/is-default-class=true (the newest when several are, as
// upstream since 1.26). An explicit "" keeps meaning "no class", and without a default class the
// claim is left as it is.
import type { KubeObject } from '../../api/meta.js';
import { isDefaultStorageClass } from '../../api/kinds/storage-class.js';
import { child, str } from '../../api/kinds/util.js';
import type { AdmissionPlugin } from '../admission.js';
import type { ObjectAccess } from './access.js';

export const DEFAULT_STORAGE_CLASS_PLUGIN = 'DefaultStorageClass';
const BETA_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

/** The default class: among those marked default, the newest (then the first by name). */
export function pickDefaultClass(classes: readonly KubeObject[]): KubeObject | undefined {
  let best: KubeObject | undefined;
  for (const sc of classes) {
    if (!isDefaultStorageClass(sc)) continue;
    if (!best) {
      best = sc;
      continue;
    }
    const a = str(sc.metadata.creationTimestamp);
    const b = str(best.metadata.creationTimestamp);
    if (a > b || (a === b && str(sc.metadata.name) < str(best.metadata.name))) best = sc;
  }
  return best;
}

export function defaultStorageClassPlugin(access: ObjectAccess): AdmissionPlugin {
  return {
    name: DEFAULT_STORAGE_CLASS_PLUGIN,
    async admit(req) {
      if (req.operation !== 'CREATE' || req.subresource !== '' || !req.object) return;
      if (req.resource.group !== '' || req.resource.plural !== 'persistentvolumeclaims') return;
      const spec = child(req.object, 'spec');
      if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
      if (req.object.metadata.annotations?.[BETA_CLASS_ANNOTATION] !== undefined) return;
      const sc = pickDefaultClass(await access.list('storage.k8s.io', 'StorageClass', ''));
      if (sc?.metadata.name) spec.storageClassName = sc.metadata.name;
    },
  };
}
