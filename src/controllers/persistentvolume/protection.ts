// The pvc-protection and pv-protection controllers (upstream's pkg/controller/volume/pvcprotection
// and pvprotection): they take the finalizers the StorageObjectInUseProtection admission plugin
// puts on every claim and volume off again once the object is being deleted and nothing uses it.
// A claim is in use while a scheduled pod that has not terminated mounts it (kubelet refuses to
// start a pod on a claim being deleted, so nothing new can start using it); before letting go, the
// pods are listed live from the API server, as upstream does, in case the cache lags behind a pod
// just created. A volume is in use while it is Bound.
import type { Pod } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import { deletedObject, type DeletedFinalStateUnknown, type Lister } from '../../client/informer.js';
import type { RestClient } from '../../client/rest.js';
import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS } from '../../client/typed-refs.js';
import type { Logger } from '../../util/log.js';
import { isNotFound } from '../common/errors.js';
import { queueRunner } from '../common/runner.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import type { PV, PVC } from './matching.js';

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

type PodObj = Pod & KubeObject;

/** The claims a pod mounts (its own and its generic ephemeral volumes' claims). */
export function claimsOfPod(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) out.push(`${pod.metadata?.name ?? ''}-${v.name}`);
  }
  return out;
}

/** A pod that holds its claims: scheduled and not terminated. */
export function podUsesClaim(pod: Pod, claimName: string): boolean {
  if (!pod.spec?.nodeName) return false;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return claimsOfPod(pod).includes(claimName);
}

export interface ProtectionClient {
  updateClaim(pvc: PVC): Promise<unknown>;
  updateVolume(pv: PV): Promise<unknown>;
  /** The namespace's pods, read live from the API server. */
  listPods(namespace: string): Promise<Pod[]>;
}

function without(list: string[] | undefined, finalizer: string): string[] {
  return (list ?? []).filter((f) => f !== finalizer);
}

export class PvcProtection {
  constructor(
    private readonly claims: Lister<PVC>,
    private readonly pods: Lister<PodObj>,
    private readonly client: ProtectionClient,
    private readonly log: Logger,
  ) {}

  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const pvc = this.claims.get(ns, name);
    if (!pvc?.metadata.deletionTimestamp) return;
    if (!(pvc.metadata.finalizers ?? []).includes(PVC_PROTECTION_FINALIZER)) return;
    if (this.pods.list(ns).some((p) => podUsesClaim(p, name))) return;
    const live = await this.client.listPods(ns);
    if (live.some((p) => podUsesClaim(p, name))) return;
    const copy = structuredClone(pvc);
    copy.metadata.finalizers = without(copy.metadata.finalizers, PVC_PROTECTION_FINALIZER);
    try {
      await this.client.updateClaim(copy);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.log.info('removed the protection finalizer of an unused claim', { claim: key });
  }
}

export class PvProtection {
  constructor(
    private readonly volumes: Lister<PV>,
    private readonly client: ProtectionClient,
  ) {}

  async sync(name: string): Promise<void> {
    const pv = this.volumes.get(undefined, name);
    if (!pv?.metadata.deletionTimestamp) return;
    if (!(pv.metadata.finalizers ?? []).includes(PV_PROTECTION_FINALIZER)) return;
    if (pv.status?.phase === 'Bound') return;
    const copy = structuredClone(pv);
    copy.metadata.finalizers = without(copy.metadata.finalizers, PV_PROTECTION_FINALIZER);
    try {
      await this.client.updateVolume(copy);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function restProtectionClient(c: RestClient): ProtectionClient {
  return {
    updateClaim: (pvc) => c.update<PVC>(PERSISTENTVOLUMECLAIMS, pvc),
    updateVolume: (pv) => c.update<PV>(PERSISTENTVOLUMES, pv),
    listPods: async (ns) => (await c.list<PodObj>(PODS, ns)).items,
  };
}

export const pvcProtectionController: ControllerDescriptor = {
  name: 'pvc-protection',
  start(ctx): StopController {
    const claims = ctx.informers.informerFor<PVC>(PERSISTENTVOLUMECLAIMS);
    const pods = ctx.informers.informerFor<PodObj>(PODS);
    const p = new PvcProtection(
      claims.getLister(),
      pods.getLister(),
      restProtectionClient(ctx.client),
      ctx.logger,
    );
    const runner = queueRunner('pvcprotection', ctx.logger, (k) => p.sync(k));
    const onClaim = (pvc: PVC): void => {
      if (pvc.metadata.deletionTimestamp)
        runner.queue.add(`${pvc.metadata.namespace ?? ''}/${pvc.metadata.name ?? ''}`);
    };
    // A pod that terminates or goes away may free the claims it mounted.
    const onPod = (pod: PodObj): void => {
      const ns = pod.metadata.namespace ?? '';
      for (const name of claimsOfPod(pod)) {
        const pvc = claims.getLister().get(ns, name);
        if (pvc?.metadata.deletionTimestamp) runner.queue.add(`${ns}/${name}`);
      }
    };
    const regs = [
      claims.addEventHandler({ onAdd: onClaim, onUpdate: (_o, n) => onClaim(n) }),
      pods.addEventHandler({
        onUpdate: (_o, n) => onPod(n),
        onDelete: (v: PodObj | DeletedFinalStateUnknown<PodObj>) => onPod(deletedObject(v)),
      }),
    ];
    let stopped = false;
    void ctx.waitForCacheSync().then((ok) => {
      if (ok && !stopped) void runner.run(ctx.workers ?? 1);
    });
    return async () => {
      stopped = true;
      for (const r of regs) r.remove();
      await runner.stop();
    };
  },
};

export const pvProtectionController: ControllerDescriptor = {
  name: 'pv-protection',
  start(ctx): StopController {
    const volumes = ctx.informers.informerFor<PV>(PERSISTENTVOLUMES);
    const p = new PvProtection(volumes.getLister(), restProtectionClient(ctx.client));
    const runner = queueRunner('pvprotection', ctx.logger, (k) => p.sync(k));
    const onVolume = (pv: PV): void => {
      if (pv.metadata.deletionTimestamp) runner.queue.add(pv.metadata.name ?? '');
    };
    const regs = [volumes.addEventHandler({ onAdd: onVolume, onUpdate: (_o, n) => onVolume(n) })];
    let stopped = false;
    void ctx.waitForCacheSync().then((ok) => {
      if (ok && !stopped) void runner.run(ctx.workers ?? 1);
    });
    return async () => {
      stopped = true;
      for (const r of regs) r.remove();
      await runner.stop();
    };
  },
};
