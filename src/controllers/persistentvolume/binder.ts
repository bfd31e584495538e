// The PersistentVolume binder (upstream's persistentvolume-binder, pv_controller.go): binds
// claims to volumes, keeps both sides' phases, hands claims without a volume to their class's
// provisioner, and reclaims volumes whose claim is gone. It runs two syncs, as upstream does:
// one per claim (namespace/name) and one per volume (name).
//
// Binding writes, in order: the volume's claimRef, the volume's phase Bound, the claim's
// volumeName, the claim's phase Bound with the volume's capacity and access modes. Each step is
// idempotent, so a sync interrupted half-way is finished by the next one.
//
// Deleting a volume's storage is never done here: a volume with reclaimPolicy Delete that a
// provisioner created (annotation pv.kubernetes.io/provisioned-by) is left Released for that
// provisioner to delete (the local-path provisioner beside this file does so for its own).
import type { EventRecorder } from '../../client/events.js';
import type { Lister } from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import {
  ANN_SELECTED_NODE,
  claimClass,
  findBestMatch,
  isVolumeBoundToClaim,
  volumeUnsatisfiedReason,
  type PV,
  type PVC,
  type SC,
} from './matching.js';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';

/** The event texts users see in `kubectl describe pvc/pv` (upstream's words). */
export const MSG_NO_VOLUMES_NO_CLASS =
  'no persistent volumes available for this claim and no storage class is set';
export const MSG_WAIT_FOR_FIRST_CONSUMER = 'waiting for first consumer to be created before binding';

export function externalProvisioningMessage(provisioner: string): string {
  return (
    `Waiting for a volume to be created either by the external provisioner '${provisioner}' ` +
    'or manually by the system administrator. If volume creation is delayed, please verify that ' +
    'the provisioner is running and correctly registered.'
  );
}

const bindsTotal = metrics.counter(
  'k8ts_persistentvolume_binds_total',
  'Claims the PV binder bound to a volume.',
);

/** The writes the binder makes (the REST client in production, a fake in tests). */
export interface BinderClient {
  updateVolume(pv: PV): Promise<PV>;
  updateVolumeStatus(pv: PV): Promise<PV>;
  updateClaim(pvc: PVC): Promise<PVC>;
  updateClaimStatus(pvc: PVC): Promise<PVC>;
}

export interface PersistentVolumeBinderOptions {
  claims: Lister<PVC>;
  volumes: Lister<PV>;
  classes: Lister<SC>;
  client: BinderClient;
  recorder: EventRecorder;
  log: Logger;
}

function withAnnotation<T extends PV | PVC>(obj: T, key: string, value: string): T {
  obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [key]: value };
  return obj;
}

export class PersistentVolumeBinder {
  constructor(private readonly o: PersistentVolumeBinderOptions) {}

  /** Claims waiting for a volume (to look at again when volumes or classes change). */
  pendingClaimKeys(): string[] {
    return this.o.claims
      .list()
      .filter((c) => c.metadata.annotations?.[ANN_BIND_COMPLETED] === undefined)
      .map((c) => `${c.metadata.namespace ?? ''}/${c.metadata.name ?? ''}`);
  }

  private isDelayBinding(pvc: PVC): boolean {
    const name = claimClass(pvc);
    if (name === '') return false;
    return this.o.classes.get(undefined, name)?.volumeBindingMode === 'WaitForFirstConsumer';
  }

  async syncClaim(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const pvc = this.o.claims.get(key.slice(0, slash), key.slice(slash + 1));
    if (!pvc) return;
    if (pvc.metadata.annotations?.[ANN_BIND_COMPLETED] === undefined) await this.syncUnboundClaim(pvc);
    else await this.syncBoundClaim(pvc);
  }

  private async syncUnboundClaim(pvc: PVC): Promise<void> {
    const volumeName = pvc.spec?.volumeName ?? '';
    if (volumeName === '') {
      const delay = this.isDelayBinding(pvc);
      const pv = findBestMatch(pvc, this.o.volumes.list(), delay);
      if (pv) return this.bind(pv, pvc);
      const selectedNode = pvc.metadata.annotations?.[ANN_SELECTED_NODE];
      if (delay && !selectedNode)
        this.o.recorder.event(pvc, 'Normal', 'WaitForFirstConsumer', MSG_WAIT_FOR_FIRST_CONSUMER);
      else if (claimClass(pvc) !== '') pvc = await this.provisionClaim(pvc);
      else this.o.recorder.event(pvc, 'Normal', 'FailedBinding', MSG_NO_VOLUMES_NO_CLASS);
      await this.setClaimPhase(pvc, 'Pending');
      return;
    }
    // The user asked for a particular volume.
    const pv = this.o.volumes.get(undefined, volumeName);
    if (!pv) {
      this.o.log.debug('volume requested by claim not found, claim stays pending', {
        claim: pvc.metadata.name,
        volume: volumeName,
      });
      await this.setClaimPhase(pvc, 'Pending');
      return;
    }
    if (!pv.spec?.claimRef) {
      const why = volumeUnsatisfiedReason(pv, pvc);
      if (why) {
        this.o.recorder.event(
          pvc,
          'Warning',
          'VolumeMismatch',
          `Cannot bind to requested volume "${volumeName}": ${why}`,
        );
        await this.setClaimPhase(pvc, 'Pending');
        return;
      }
      return this.bind(pv, pvc);
    }
    if (isVolumeBoundToClaim(pv, pvc)) return this.bind(pv, pvc);
    this.o.recorder.event(
      pvc,
      'Warning',
      'FailedBinding',
      `volume "${volumeName}" already bound to a different claim.`,
    );
    await this.setClaimPhase(pvc, 'Pending');
  }

  /** Hands the claim to its class's provisioner (upstream's provisionClaim, for external ones). */
  private async provisionClaim(pvc: PVC): Promise<PVC> {
    const name = claimClass(pvc);
    const sc = this.o.classes.get(undefined, name);
    if (!sc) {
      this.o.recorder.event(
        pvc,
        'Warning',
        'ProvisioningFailed',
        `storageclass.storage.k8s.io "${name}" not found`,
      );
      return pvc;
    }
    const provisioner = sc.provisioner;
    let out = pvc;
    const ann = pvc.metadata.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== provisioner || ann[ANN_BETA_STORAGE_PROVISIONER] !== provisioner) {
      const copy = structuredClone(pvc);
      withAnnotation(copy, ANN_STORAGE_PROVISIONER, provisioner);
      withAnnotation(copy, ANN_BETA_STORAGE_PROVISIONER, provisioner);
      out = await this.o.client.updateClaim(copy);
    }
    this.o.recorder.event(pvc, 'Normal', 'ExternalProvisioning', externalProvisioningMessage(provisioner));
    return out;
  }

  private async syncBoundClaim(pvc: PVC): Promise<void> {
    const volumeName = pvc.spec?.volumeName ?? '';
    if (volumeName === '') {
      this.o.recorder.event(
        pvc,
        'Warning',
        'ClaimLost',
        'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!',
      );
      await this.setClaimPhase(pvc, 'Lost');
      return;
    }
    const pv = this.o.volumes.get(undefined, volumeName);
    if (!pv) {
      if (pvc.status?.phase !== 'Lost')
        this.o.recorder.event(
          pvc,
          'Warning',
          'ClaimLost',
          'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
        );
      await this.setClaimPhase(pvc, 'Lost');
      return;
    }
    const ref = pv.spec?.claimRef;
    if (!ref || (ref.uid ?? '') === (pvc.metadata.uid ?? '')) return this.bind(pv, pvc);
    this.o.recorder.event(
      pvc,
      'Warning',
      'ClaimMisbound',
      'Two claims are bound to the same volume, this one is bound incorrectly',
    );
    await this.setClaimPhase(pvc, 'Lost');
  }

  async syncVolume(name: string): Promise<void> {
    const pv = this.o.volumes.get(undefined, name);
    if (!pv || pv.metadata.deletionTimestamp) return;
    const ref = pv.spec?.claimRef;
    if (!ref || !ref.uid) {
      // Free, or pre-bound by the user to a claim that may not exist yet (offered to it only).
      await this.setVolumePhase(pv, 'Available');
      return;
    }
    let pvc = this.o.claims.get(ref.namespace ?? '', ref.name ?? '');
    if (pvc && pvc.metadata.uid !== ref.uid) pvc = undefined;
    if (!pvc) {
      const released =
        pv.status?.phase !== 'Released' && pv.status?.phase !== 'Failed'
          ? await this.setVolumePhase(pv, 'Released')
          : pv;
      return this.reclaim(released);
    }
    const claimed = pvc.spec?.volumeName ?? '';
    if (claimed === '' || claimed === name) {
      // Bound here, or by the scheduler (claimRef only): the claim's sync completes the binding.
      await this.setVolumePhase(pv, 'Bound');
      if (claimed === '') await this.syncClaim(`${ref.namespace ?? ''}/${ref.name ?? ''}`);
      return;
    }
    // The claim went to another volume.
    if (pv.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] === undefined) return;
    if (
      pv.metadata.annotations[ANN_PROVISIONED_BY] !== undefined &&
      pv.spec?.persistentVolumeReclaimPolicy === 'Delete'
    ) {
      // Provisioned for this claim, which is bound elsewhere: not needed any more.
      await this.setVolumePhase(pv, 'Released');
      return;
    }
    const copy = structuredClone(pv);
    if (copy.spec) delete copy.spec.claimRef;
    if (copy.metadata.annotations) delete copy.metadata.annotations[ANN_BOUND_BY_CONTROLLER];
    const updated = await this.o.client.updateVolume(copy);
    await this.setVolumePhase(updated, 'Available');
  }

  /** What happens to a Released volume, by its reclaim policy. */
  private async reclaim(pv: PV): Promise<void> {
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return;
    if (pv.status?.phase === 'Failed') return;
    if (policy === 'Recycle') {
      const msg = 'No recycler plugin found for the volume!';
      this.o.recorder.event(pv, 'Warning', 'VolumeFailedRecycle', msg);
      await this.setVolumePhase(pv, 'Failed', msg);
      return;
    }
    // Delete: a provisioner deletes what it created; nothing in this controller can delete the rest.
    if (pv.metadata.annotations?.[ANN_PROVISIONED_BY] !== undefined) return;
    const msg = `error getting deleter volume plugin for volume "${pv.metadata.name ?? ''}": no deletable volume plugin matched`;
    this.o.recorder.event(pv, 'Warning', 'VolumeFailedDelete', msg);
    await this.setVolumePhase(pv, 'Failed', msg);
  }

  private async bind(pv: PV, pvc: PVC): Promise<void> {
    let volume = pv;
    const ref = pv.spec?.claimRef;
    const refComplete =
      ref?.uid === pvc.metadata.uid &&
      ref?.name === pvc.metadata.name &&
      ref?.namespace === pvc.metadata.namespace;
    if (!refComplete) {
      const copy = structuredClone(pv);
      copy.spec = {
        ...(copy.spec ?? {}),
        claimRef: {
          kind: 'PersistentVolumeClaim',
          apiVersion: 'v1',
          namespace: pvc.metadata.namespace,
          name: pvc.metadata.name,
          uid: pvc.metadata.uid,
          resourceVersion: pvc.metadata.resourceVersion,
        },
      };
      if (!isVolumeBoundToClaim(pv, pvc)) withAnnotation(copy, ANN_BOUND_BY_CONTROLLER, 'yes');
      volume = await this.o.client.updateVolume(copy);
    }
    volume = await this.setVolumePhase(volume, 'Bound');

    let claim = pvc;
    const ann = pvc.metadata.annotations ?? {};
    if (pvc.spec?.volumeName !== volume.metadata.name || ann[ANN_BIND_COMPLETED] === undefined) {
      const copy = structuredClone(pvc);
      const boundByUs = (copy.spec?.volumeName ?? '') === '';
      copy.spec = { ...(copy.spec ?? {}), volumeName: volume.metadata.name };
      withAnnotation(copy, ANN_BIND_COMPLETED, 'yes');
      if (boundByUs) withAnnotation(copy, ANN_BOUND_BY_CONTROLLER, 'yes');
      claim = await this.o.client.updateClaim(copy);
      bindsTotal.inc();
      this.o.log.info('bound claim to volume', {
        claim: `${pvc.metadata.namespace ?? ''}/${pvc.metadata.name ?? ''}`,
        volume: volume.metadata.name,
      });
    }
    const st = claim.status ?? {};
    const capacity = volume.spec?.capacity ?? {};
    const modes = volume.spec?.accessModes ?? [];
    if (
      st.phase !== 'Bound' ||
      JSON.stringify(st.capacity ?? {}) !== JSON.stringify(capacity) ||
      JSON.stringify(st.accessModes ?? []) !== JSON.stringify(modes)
    ) {
      const copy = structuredClone(claim);
      copy.status = { ...(copy.status ?? {}), phase: 'Bound', capacity, accessModes: modes };
      await this.o.client.updateClaimStatus(copy);
    }
  }

  private async setClaimPhase(pvc: PVC, phase: string): Promise<void> {
    if (pvc.status?.phase === phase) return;
    const copy = structuredClone(pvc);
    copy.status = { ...(copy.status ?? {}), phase };
    await this.o.client.updateClaimStatus(copy);
  }

  private async setVolumePhase(pv: PV, phase: string, message?: string): Promise<PV> {
    if (pv.status?.phase === phase && (message === undefined || pv.status.message === message)) return pv;
    const copy = structuredClone(pv);
    copy.status = { ...(copy.status ?? {}), phase };
    if (message !== undefined) copy.status.message = message;
    else delete copy.status.message;
    return this.o.client.updateVolumeStatus(copy);
  }
}
