// Named indexes controllers add to shared informers (once, whoever asks first).
import type { IndexFunc, SharedInformer } from '../../client/informer.js';
import type { KubeObject } from '../../api/meta.js';
import { controllerRefOf } from './pods.js';

/** Objects filed under their controller's UID, orphans under `orphan/<namespace>` (upstream's PodControllerUIDIndex). */
export const CONTROLLER_UID_INDEX = 'controllerUID';

export function orphanIndexKey(namespace: string | undefined): string {
  return `orphan/${namespace ?? ''}`;
}

export const controllerUidIndexFunc: IndexFunc<KubeObject> = (obj) => {
  const ref = controllerRefOf(obj);
  return [ref ? ref.uid : orphanIndexKey(obj.metadata.namespace)];
};

export function ensureIndex<T extends KubeObject>(
  inf: SharedInformer<T>,
  name: string,
  fn: IndexFunc<KubeObject>,
): void {
  if (!inf.store.hasIndex(name)) inf.addIndexers({ [name]: fn });
}

/** The objects a controller with this UID controls, plus the orphans of its namespace. */
export function ownedAndOrphans<T extends KubeObject>(inf: SharedInformer<T>, owner: KubeObject): T[] {
  const ns = owner.metadata.namespace;
  const owned = inf
    .byIndex(CONTROLLER_UID_INDEX, owner.metadata.uid ?? '')
    .filter((o) => o.metadata.namespace === ns);
  return owned.concat(inf.byIndex(CONTROLLER_UID_INDEX, orphanIndexKey(ns)));
}
