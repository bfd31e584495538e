// core/v1 PersistentVolume (cluster-scoped).
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { canonicalQuantity, formatQuantity, tryParseQuantity } from '../quantity.js';
import type { ResourceDescription } from '../types.js';
import { validateImmutable } from './controller-common.js';
import { validateQuantity, validateVolumeSource } from './pod-spec.js';
import { ACCESS_MODES, accessModesString } from './persistent-volume-claim.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  arr,
  child,
  clone,
  column,
  get,
  isDNS1123Subdomain,
  rec,
  setDefault,
  spec,
  status,
  str,
  type Obj,
} from './util.js';

const PV_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'glusterfs',
  'flocker',
  'nfs',
  'rbd',
  'quobyte',
  'cinder',
  'cephfs',
  'fc',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'scaleIO',
  'local',
  'storageos',
  'csi',
  'iscsi',
];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];

/** The current time as metav1.Time serialises it (RFC 3339, whole seconds, UTC). */
function nowSeconds(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function defaultPersistentVolume(obj: KubeObject): void {
  const s = child(obj, 'spec');
  setDefault(s, 'persistentVolumeReclaimPolicy', 'Retain');
  setDefault(s, 'volumeMode', 'Filesystem');
  const cap = rec(s.capacity);
  if (cap) for (const k of Object.keys(cap)) cap[k] = canonicalQuantity(cap[k]);
  const hostPath = rec(s.hostPath);
  if (hostPath) setDefault(hostPath, 'type', '');
  setDefault(child(obj, 'status'), 'phase', 'Pending');
}

export function validatePersistentVolume(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  const modes = arr(s.accessModes);
  if (modes.length === 0) errs.push(fieldErr.required('spec.accessModes'));
  for (const m of modes)
    if (!ACCESS_MODES.includes(String(m)))
      errs.push(fieldErr.notSupported('spec.accessModes', m, ACCESS_MODES));
  const cap = rec(s.capacity) ?? {};
  if (Object.keys(cap).length === 0) errs.push(fieldErr.required('spec.capacity'));
  if (cap.storage === undefined || Object.keys(cap).length > 1)
    errs.push(fieldErr.notSupported('spec.capacity', cap, ['storage']));
  for (const [k, v] of Object.entries(cap)) {
    const q = validateQuantity(v, `spec.capacity[${k}]`, errs);
    if (q && q.nanos <= 0n)
      errs.push(fieldErr.invalid(`spec.capacity[${k}]`, formatQuantity(q), 'must be greater than zero'));
  }
  const rp = s.persistentVolumeReclaimPolicy;
  if (typeof rp === 'string' && rp !== '' && !RECLAIM_POLICIES.includes(rp))
    errs.push(fieldErr.notSupported('spec.persistentVolumeReclaimPolicy', rp, RECLAIM_POLICIES));
  const sc = str(s.storageClassName);
  if (sc !== '')
    for (const m of isDNS1123Subdomain(sc)) errs.push(fieldErr.invalid('spec.storageClassName', sc, m));
  const sources = PV_SOURCES.filter((k) => s[k] !== undefined && s[k] !== null);
  if (sources.length === 0) errs.push(fieldErr.required('spec', 'must specify a volume type'));
  else if (sources.length > 1)
    errs.push(fieldErr.forbidden(`spec.${sources[1] ?? ''}`, 'may not specify more than 1 volume type'));
  else validateVolumeSource(s, 'spec', errs);
  if (rec(s.local) && !rec(s.nodeAffinity))
    errs.push(fieldErr.required('spec.nodeAffinity', 'Local volumes require node affinity'));
  if (s.volumeMode !== undefined && !['Block', 'Filesystem'].includes(str(s.volumeMode)))
    errs.push(fieldErr.notSupported('spec.volumeMode', s.volumeMode, ['Block', 'Filesystem']));
  return errs;
}

export function validatePersistentVolumeUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePersistentVolume(obj);
  const pick = (o: KubeObject): Obj => {
    const out: Obj = {};
    for (const k of PV_SOURCES) if (spec(o)[k] !== undefined) out[k] = spec(o)[k];
    return out;
  };
  validateImmutable(pick(obj), pick(old), 'spec.persistentvolumesource', errs);
  validateImmutable(spec(obj).volumeMode, spec(old).volumeMode, 'spec.volumeMode', errs);
  return errs;
}

export const persistentVolumeColumns = [
  NAME_COLUMN,
  column('Capacity', 'string', 'The storage capacity of the volume.', (o) => {
    const q = tryParseQuantity(get(spec(o), 'capacity', 'storage'));
    return q ? formatQuantity(q) : '0';
  }),
  column('Access Modes', 'string', 'All ways the volume can be mounted.', (o) =>
    accessModesString(spec(o).accessModes),
  ),
  column(
    'Reclaim Policy',
    'string',
    'What happens to a persistent volume when released from its claim.',
    (o) => str(spec(o).persistentVolumeReclaimPolicy),
  ),
  column('Status', 'string', 'The phase of the volume.', (o) =>
    o.metadata.deletionTimestamp ? 'Terminating' : str(status(o).phase),
  ),
  column('Claim', 'string', 'The claim bound to this volume.', (o) => {
    const ref = rec(spec(o).claimRef);
    return ref ? `${str(ref.namespace)}/${str(ref.name)}` : '';
  }),
  column('StorageClass', 'string', 'The name of the StorageClass this volume belongs to.', (o) => {
    const ann = o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'];
    return ann ?? str(spec(o).storageClassName);
  }),
  column(
    'VolumeAttributesClass',
    'string',
    'The name of the VolumeAttributesClass the volume uses.',
    (o) => str(spec(o).volumeAttributesClassName) || '<unset>',
  ),
  column('Reason', 'string', 'Why the volume is in its phase.', (o) => str(status(o).reason)),
  AGE_COLUMN,
  column(
    'VolumeMode',
    'string',
    'Whether the volume is used as a filesystem or a raw block device.',
    (o) => str(spec(o).volumeMode) || '<unset>',
    1,
  ),
];

export const persistentVolumeResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  shortNames: ['pv'],
  namespaced: false,
  schemaRef: 'io.k8s.api.core.v1.PersistentVolume',
  subresources: { status: true },
  tableColumns: persistentVolumeColumns,
  strategy: {
    default: defaultPersistentVolume,
    prepareForCreate(obj) {
      obj.status = { phase: 'Pending', lastPhaseTransitionTime: nowSeconds() };
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
      // A phase change records when it happened.
      const st = rec(obj.status);
      if (st && st.phase !== status(old).phase) st.lastPhaseTransitionTime = nowSeconds();
    },
    validate: validatePersistentVolume,
    validateUpdate: validatePersistentVolumeUpdate,
  },
};
