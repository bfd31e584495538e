// What the simulated runtime checks of a pod's persistentVolumeClaim volumes before "starting" it,
// as kubelet's volume manager would: the claim exists and is Bound. Nothing is mounted.
import type { PersistentVolumeClaim, Pod } from '../../api/generated/types.js';
import { StatusError } from '../../api/errors.js';
import type { RestClient } from '../../client/rest.js';
import { PERSISTENTVOLUMECLAIMS } from '../../client/typed-refs.js';

/** Why the pod's claims cannot be mounted yet (kubelet's FailedMount words), or undefined. */
export type ClaimCheck = (pod: Pod) => Promise<string | undefined>;

/** The claim names a pod's volumes use. */
export function claimVolumes(pod: Pod): Array<{ volume: string; claim: string }> {
  const out: Array<{ volume: string; claim: string }> = [];
  for (const v of pod.spec?.volumes ?? [])
    if (v.persistentVolumeClaim) out.push({ volume: v.name, claim: v.persistentVolumeClaim.claimName });
  return out;
}

export function apiClaimCheck(client: RestClient): ClaimCheck {
  return async (pod) => {
    const ns = pod.metadata?.namespace ?? 'default';
    const unready: string[] = [];
    let detail = '';
    for (const { volume, claim } of claimVolumes(pod)) {
      let pvc: PersistentVolumeClaim | undefined;
      try {
        pvc = await client.get<PersistentVolumeClaim & { metadata: object }>(
          PERSISTENTVOLUMECLAIMS,
          ns,
          claim,
        );
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) throw err;
      }
      if (!pvc)
        detail ||= `error processing PVC ${ns}/${claim}: failed to fetch PVC from API server: persistentvolumeclaims "${claim}" not found`;
      else if (pvc.metadata?.deletionTimestamp)
        detail ||= `error processing PVC ${ns}/${claim}: can't start pod because PVC is being deleted`;
      else if (pvc.status?.phase !== 'Bound' || !pvc.spec?.volumeName)
        detail ||= `error processing PVC ${ns}/${claim}: PVC is not bound`;
      else continue;
      unready.push(volume);
    }
    if (unready.length === 0) return undefined;
    const names = unready.join(' ');
    return `Unable to attach or mount volumes: unmounted volumes=[${names}], unattached volumes=[], failed to process volumes=[${names}]: ${detail}`;
  };
}
