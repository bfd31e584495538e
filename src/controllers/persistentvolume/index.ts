// The 'persistentvolume-binder' controller as the manager starts it (and the local-path
// provisioner, which `k8ts server` adds per manager with its storage path).
import type { RestClient } from '../../client/rest.js';
import { deletedObject, type DeletedFinalStateUnknown } from '../../client/informer.js';
import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, STORAGECLASSES } from '../../client/typed-refs.js';
import { queueRunner } from '../common/runner.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import { PersistentVolumeBinder, type BinderClient } from './binder.js';
import type { PV, PVC, SC } from './matching.js';

export { PersistentVolumeBinder } from './binder.js';
export * from './matching.js';
export { localPathProvisionerController, type LocalPathOptions } from './local-path.js';
export { pvcProtectionController, pvProtectionController } from './protection.js';

/** Upstream's --concurrent-persistentvolume-binder-syncs is one worker per queue; two keep claims moving. */
const DEFAULT_WORKERS = 2;

export function restBinderClient(c: RestClient): BinderClient {
  return {
    updateVolume: (pv) => c.update<PV>(PERSISTENTVOLUMES, pv),
    updateVolumeStatus: (pv) => c.update<PV>(PERSISTENTVOLUMES, pv, 'status'),
    updateClaim: (pvc) => c.update<PVC>(PERSISTENTVOLUMECLAIMS, pvc),
    updateClaimStatus: (pvc) => c.update<PVC>(PERSISTENTVOLUMECLAIMS, pvc, 'status'),
  };
}

function claimKey(pvc: PVC): string {
  return `${pvc.metadata.namespace ?? ''}/${pvc.metadata.name ?? ''}`;
}

export const persistentVolumeBinderController: ControllerDescriptor = {
  name: 'persistentvolume-binder',
  start(ctx): StopController {
    const claims = ctx.informers.informerFor<PVC>(PERSISTENTVOLUMECLAIMS);
    const volumes = ctx.informers.informerFor<PV>(PERSISTENTVOLUMES);
    const classes = ctx.informers.informerFor<SC>(STORAGECLASSES);
    const binder = new PersistentVolumeBinder({
      claims: claims.getLister(),
      volumes: volumes.getLister(),
      classes: classes.getLister(),
      client: restBinderClient(ctx.client),
      recorder: ctx.recorder('persistentvolume-controller'),
      log: ctx.logger,
    });
    const claimRunner = queueRunner('persistentvolume-binder-claims', ctx.logger, (k) => binder.syncClaim(k));
    const volumeRunner = queueRunner('persistentvolume-binder-volumes', ctx.logger, (k) =>
      binder.syncVolume(k),
    );
    const enqueueClaim = (pvc: PVC): void => claimRunner.queue.add(claimKey(pvc));
    const enqueueVolume = (pv: PV): void => volumeRunner.queue.add(pv.metadata.name ?? '');
    // Upstream finds new matches for waiting claims on a 15 s resync; here a change to any volume
    // or class looks at the waiting claims at once.
    const retryPending = (): void => {
      for (const key of binder.pendingClaimKeys()) claimRunner.queue.add(key);
    };
    const enqueueBoundClaim = (pv: PV): void => {
      const ref = pv.spec?.claimRef;
      if (ref?.name) claimRunner.queue.add(`${ref.namespace ?? ''}/${ref.name}`);
    };
    const regs = [
      claims.addEventHandler({
        onAdd: enqueueClaim,
        onUpdate: (_o, n) => enqueueClaim(n),
        onDelete: (v: PVC | DeletedFinalStateUnknown<PVC>) => {
          // The volume it was bound to is released.
          const pvc = deletedObject(v);
          const name = pvc.spec?.volumeName;
          if (name) volumeRunner.queue.add(name);
          for (const pv of volumes.getLister().list())
            if (pv.spec?.claimRef?.uid && pv.spec.claimRef.uid === pvc.metadata.uid) enqueueVolume(pv);
        },
      }),
      volumes.addEventHandler({
        onAdd: (pv) => {
          enqueueVolume(pv);
          retryPending();
        },
        onUpdate: (_o, pv) => {
          enqueueVolume(pv);
          retryPending();
        },
        onDelete: (v: PV | DeletedFinalStateUnknown<PV>) => {
          enqueueBoundClaim(deletedObject(v));
          retryPending();
        },
      }),
      classes.addEventHandler({ onAdd: retryPending, onUpdate: retryPending }),
    ];
    let stopped = false;
    void ctx.waitForCacheSync().then((ok) => {
      if (!ok || stopped) return;
      const n = ctx.workers ?? DEFAULT_WORKERS;
      void claimRunner.run(n);
      void volumeRunner.run(n);
    });
    return async () => {
      stopped = true;
      for (const r of regs) r.remove();
      await Promise.all([claimRunner.stop(), volumeRunner.stop()]);
    };
  },
};
