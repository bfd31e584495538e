// The local-path provisioner as k3s ships it (rancher/local-path-provisioner, provisioner name
// rancher.io/local-path; k8ts.io/local-path is accepted too): a claim of such a class that the
// binder handed over (annotation volume.kubernetes.io/storage-provisioner) gets a hostPath volume
// named pvc-<claim uid> at <storagePath>/<pv>_<namespace>_<claim> on one node, pinned there by
// node affinity. With WaitForFirstConsumer (k3s's default class) the node is the one the
// scheduler chose (annotation volume.kubernetes.io/selected-node); like upstream, an Immediate
// class cannot be served, as no node is known.
//
// Where the directory comes from: the volume's hostPath has type DirectoryOrCreate, so the node
// agent creates it when it first mounts the volume (upstream runs a helper pod to mkdir it).
// Where it goes: when a volume with reclaimPolicy Delete is Released, this controller runs a
// helper pod on the volume's node, as upstream does, which removes the directory
// (`rm -rf "$VOL_DIR"`); once the pod has succeeded the pod and the volume are deleted. A failed
// helper pod is reported (VolumeFailedDelete) and tried again; a volume whose node no longer
// exists is deleted without cleanup, since nothing can reach its directory.
import { basename, dirname, normalize } from 'node:path';
import type { Node, Pod } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import { formatQuantity } from '../../api/quantity.js';
import type { EventRecorder } from '../../client/events.js';
import type { Lister } from '../../client/informer.js';
import type { RestClient } from '../../client/rest.js';
import {
  NODES,
  PERSISTENTVOLUMECLAIMS,
  PERSISTENTVOLUMES,
  PODS,
  STORAGECLASSES,
} from '../../client/typed-refs.js';
import type { Logger } from '../../util/log.js';
import { errText, isAlreadyExists, isNotFound } from '../common/errors.js';
import { queueRunner } from '../common/runner.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import { ANN_PROVISIONED_BY, ANN_STORAGE_PROVISIONER } from './binder.js';
import { ANN_SELECTED_NODE, claimClass, claimRequest, type PV, type PVC, type SC } from './matching.js';

export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
export const K8TS_LOCAL_PATH_PROVISIONER = 'k8ts.io/local-path';
const PROVISIONERS = new Set([LOCAL_PATH_PROVISIONER, K8TS_LOCAL_PATH_PROVISIONER]);
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** k3s's helper image for the local-path provisioner. */
export const DEFAULT_HELPER_IMAGE = 'rancher/mirrored-library-busybox:1.36.1';
export const HELPER_POD_PREFIX = 'helper-pod-delete-';
const NOT_OUR_PATH = 'refusing to delete a directory outside the local-path storage path';
/** How long before a failed deletion is tried again. */
const DELETE_RETRY_MS = 10_000;

export interface LocalPathOptions {
  /** The directory volumes are created under on every node (k3s: <data-dir>/storage). */
  storagePath: string;
  /** The image of the helper pod that removes a deleted volume's directory. */
  helperImage?: string;
  /** Where helper pods run (k3s runs the provisioner in kube-system). */
  namespace?: string;
}

/** The writes the provisioner makes. */
export interface LocalPathClient {
  createVolume(pv: PV): Promise<PV>;
  deleteVolume(name: string): Promise<void>;
  createPod(pod: Pod & KubeObject): Promise<void>;
  deletePod(namespace: string, name: string): Promise<void>;
}

export interface LocalPathProvisionerDeps {
  claims: Lister<PVC>;
  volumes: Lister<PV>;
  classes: Lister<SC>;
  nodes: Lister<Node & KubeObject>;
  pods: Lister<Pod & KubeObject>;
  client: LocalPathClient;
  recorder: EventRecorder;
  log: Logger;
  /** Asks for the volume's deletion to be looked at again later. */
  retryVolume(name: string, afterMs: number): void;
}

export function volumeNameFor(pvc: PVC): string {
  return `pvc-${pvc.metadata.uid ?? ''}`;
}

function nodeOfVolume(pv: PV): string | undefined {
  for (const term of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [])
    for (const e of term.matchExpressions ?? [])
      if (e.key === HOSTNAME_LABEL && e.operator === 'In' && e.values?.[0]) return e.values[0];
  return undefined;
}

export class LocalPathProvisioner {
  private readonly helperImage: string;
  private readonly namespace: string;

  constructor(
    private readonly opts: LocalPathOptions,
    private readonly d: LocalPathProvisionerDeps,
  ) {
    this.helperImage = opts.helperImage ?? DEFAULT_HELPER_IMAGE;
    this.namespace = opts.namespace ?? 'kube-system';
  }

  private classFor(pvc: PVC): SC | undefined {
    const name = claimClass(pvc);
    const sc = name ? this.d.classes.get(undefined, name) : undefined;
    return sc && PROVISIONERS.has(sc.provisioner) ? sc : undefined;
  }

  async syncClaim(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const pvc = this.d.claims.get(key.slice(0, slash), key.slice(slash + 1));
    if (!pvc || pvc.metadata.deletionTimestamp) return;
    if ((pvc.spec?.volumeName ?? '') !== '' || pvc.status?.phase !== 'Pending') return;
    const sc = this.classFor(pvc);
    if (!sc || pvc.metadata.annotations?.[ANN_STORAGE_PROVISIONER] !== sc.provisioner) return;
    const pvName = volumeNameFor(pvc);
    if (this.d.volumes.get(undefined, pvName)) return;
    const failed = (why: string): void =>
      this.d.recorder.event(
        pvc,
        'Warning',
        'ProvisioningFailed',
        `failed to provision volume with StorageClass "${sc.metadata.name ?? ''}": ${why}`,
      );
    const nodeName = pvc.metadata.annotations?.[ANN_SELECTED_NODE];
    if (!nodeName) return failed('configuration error, no node was specified');
    if (pvc.spec?.selector) return failed('claim Selector is not supported');
    if ((pvc.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem')
      return failed(`unsupported volume mode ${pvc.spec?.volumeMode ?? ''}`);
    const node = this.d.nodes.get(undefined, nodeName);
    if (!node) return failed(`nodes "${nodeName}" not found`);
    const request = claimRequest(pvc);
    if (!request) return failed('claim has no storage request');

    const ns = pvc.metadata.namespace ?? '';
    const name = pvc.metadata.name ?? '';
    this.d.recorder.event(
      pvc,
      'Normal',
      'Provisioning',
      `External provisioner is provisioning volume for claim "${ns}/${name}"`,
    );
    const path = `${this.opts.storagePath.replace(/\/+$/, '')}/${pvName}_${ns}_${name}`;
    const hostname = node.metadata.labels?.[HOSTNAME_LABEL] ?? nodeName;
    const pv: PV = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName,
        annotations: {
          [ANN_PROVISIONED_BY]: sc.provisioner,
          'local.path.provisioner/selected-node': nodeName,
        },
      },
      spec: {
        capacity: { storage: formatQuantity(request) },
        accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: sc.metadata.name,
        volumeMode: 'Filesystem',
        claimRef: {
          kind: 'PersistentVolumeClaim',
          apiVersion: 'v1',
          namespace: ns,
          name,
          uid: pvc.metadata.uid,
          resourceVersion: pvc.metadata.resourceVersion,
        },
        hostPath: { path, type: 'DirectoryOrCreate' },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [hostname] }] },
            ],
          },
        },
      },
    };
    try {
      await this.d.client.createVolume(pv);
    } catch (err) {
      if (isAlreadyExists(err)) return;
      failed(errText(err));
      throw err;
    }
    this.d.log.info('provisioned volume', { claim: `${ns}/${name}`, volume: pvName, node: nodeName, path });
    this.d.recorder.event(
      pvc,
      'Normal',
      'ProvisioningSucceeded',
      `Successfully provisioned volume ${pvName}`,
    );
  }

  /** Deletes a Released volume of ours with reclaimPolicy Delete, its directory first. */
  async syncVolume(name: string): Promise<void> {
    const pv = this.d.volumes.get(undefined, name);
    const helperName = HELPER_POD_PREFIX + name;
    const helper = this.d.pods.get(this.namespace, helperName);
    if (!pv) {
      if (helper) await this.deletePod(helperName);
      return;
    }
    const ours = PROVISIONERS.has(pv.metadata.annotations?.[ANN_PROVISIONED_BY] ?? '');
    if (!ours || pv.metadata.deletionTimestamp) return;
    if (pv.status?.phase !== 'Released' || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    const path = pv.spec.hostPath?.path ?? pv.spec.local?.path;
    const nodeName = pv.metadata.annotations?.['local.path.provisioner/selected-node'] ?? nodeOfVolume(pv);
    const node = nodeName ? this.d.nodes.get(undefined, nodeName) : undefined;
    if (!path || !nodeName || !node) {
      this.d.log.info('deleting a volume whose node is gone, without removing its directory', {
        volume: name,
        node: nodeName,
      });
      return this.deleteVolume(name);
    }
    if (!this.isOwnDirectory(path)) {
      // Never remove a directory this provisioner did not make (a hand-written volume claiming to
      // be ours could name / or /etc): report it and leave the volume for an administrator.
      this.d.recorder.event(pv, 'Warning', 'VolumeFailedDelete', `${NOT_OUR_PATH}: ${path}`);
      return;
    }
    if (!helper) {
      await this.createHelper(helperName, pv, path, nodeName);
      return;
    }
    const phase = helper.status?.phase;
    if (phase === 'Succeeded') {
      await this.deletePod(helperName);
      await this.deleteVolume(name);
      this.d.log.info('deleted volume and its directory', { volume: name, node: nodeName, path });
      return;
    }
    if (phase === 'Failed') {
      this.d.recorder.event(
        pv,
        'Warning',
        'VolumeFailedDelete',
        `failed to delete volume ${name}: helper pod ${this.namespace}/${helperName} failed to remove ${path}`,
      );
      await this.deletePod(helperName);
      this.d.retryVolume(name, DELETE_RETRY_MS);
    }
  }

  /** A directory directly under the storage path, as this provisioner names them. */
  private isOwnDirectory(path: string): boolean {
    const base = normalize(this.opts.storagePath).replace(/\/+$/, '');
    const p = normalize(path);
    const name = basename(p);
    return dirname(p) === base && name !== '' && name !== '.' && name !== '..' && p !== base;
  }

  private async createHelper(helperName: string, pv: PV, path: string, nodeName: string): Promise<void> {
    const parent = dirname(path);
    const pod: Pod & KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: helperName, namespace: this.namespace },
      spec: {
        nodeName,
        restartPolicy: 'Never',
        priorityClassName: 'system-node-critical',
        tolerations: [{ operator: 'Exists' }],
        containers: [
          {
            name: 'helper-pod',
            image: this.helperImage,
            imagePullPolicy: 'IfNotPresent',
            command: ['/bin/sh', '-c', 'set -eu; rm -rf "$VOL_DIR"'],
            env: [
              { name: 'VOL_DIR', value: path },
              { name: 'VOL_MODE', value: pv.spec?.volumeMode ?? 'Filesystem' },
              { name: 'VOL_SIZE_BYTES', value: pv.spec?.capacity?.storage ?? '0' },
            ],
            volumeMounts: [{ name: 'data', mountPath: parent }],
          },
        ],
        volumes: [{ name: 'data', hostPath: { path: parent, type: 'DirectoryOrCreate' } }],
      },
    };
    try {
      await this.d.client.createPod(pod);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  private async deletePod(name: string): Promise<void> {
    try {
      await this.d.client.deletePod(this.namespace, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async deleteVolume(name: string): Promise<void> {
    try {
      await this.d.client.deleteVolume(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

export function localPathProvisionerController(opts: LocalPathOptions): ControllerDescriptor {
  return {
    name: 'local-path-provisioner',
    start(ctx): StopController {
      const claims = ctx.informers.informerFor<PVC>(PERSISTENTVOLUMECLAIMS);
      const volumes = ctx.informers.informerFor<PV>(PERSISTENTVOLUMES);
      const classes = ctx.informers.informerFor<SC>(STORAGECLASSES);
      const nodes = ctx.informers.informerFor<Node & KubeObject>(NODES);
      const pods = ctx.informers.informerFor<Pod & KubeObject>(PODS);
      const c: RestClient = ctx.client;
      const claimRunner = queueRunner('local-path-provisioner-claims', ctx.logger, (k) => p.syncClaim(k));
      const volumeRunner = queueRunner('local-path-provisioner-volumes', ctx.logger, (k) => p.syncVolume(k));
      const p: LocalPathProvisioner = new LocalPathProvisioner(opts, {
        claims: claims.getLister(),
        volumes: volumes.getLister(),
        classes: classes.getLister(),
        nodes: nodes.getLister(),
        pods: pods.getLister(),
        client: {
          createVolume: (pv) => c.create<PV>(PERSISTENTVOLUMES, undefined, pv),
          deleteVolume: async (name) => {
            await c.delete(PERSISTENTVOLUMES, undefined, name);
          },
          createPod: async (pod) => {
            await c.create(PODS, pod.metadata.namespace, pod);
          },
          deletePod: async (ns, name) => {
            await c.delete(PODS, ns, name);
          },
        },
        recorder: ctx.recorder(`${LOCAL_PATH_PROVISIONER}_k8ts`),
        log: ctx.logger,
        retryVolume: (name, afterMs) => volumeRunner.queue.addAfter(name, afterMs),
      });
      const onClaim = (pvc: PVC): void =>
        claimRunner.queue.add(`${pvc.metadata.namespace ?? ''}/${pvc.metadata.name ?? ''}`);
      const onVolume = (pv: PV): void => volumeRunner.queue.add(pv.metadata.name ?? '');
      const onPod = (pod: Pod & KubeObject): void => {
        const name = pod.metadata.name ?? '';
        if (
          pod.metadata.namespace === (opts.namespace ?? 'kube-system') &&
          name.startsWith(HELPER_POD_PREFIX)
        )
          volumeRunner.queue.add(name.slice(HELPER_POD_PREFIX.length));
      };
      const regs = [
        claims.addEventHandler({ onAdd: onClaim, onUpdate: (_o, n) => onClaim(n) }),
        volumes.addEventHandler({ onAdd: onVolume, onUpdate: (_o, n) => onVolume(n) }),
        pods.addEventHandler({ onAdd: onPod, onUpdate: (_o, n) => onPod(n) }),
      ];
      let stopped = false;
      void ctx.waitForCacheSync().then((ok) => {
        if (!ok || stopped) return;
        void claimRunner.run(ctx.workers ?? 2);
        void volumeRunner.run(ctx.workers ?? 2);
      });
      return async () => {
        stopped = true;
        for (const r of regs) r.remove();
        await Promise.all([claimRunner.stop(), volumeRunner.stop()]);
      };
    },
  };
}
