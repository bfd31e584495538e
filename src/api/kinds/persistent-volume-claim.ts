// core/v1 PersistentVolumeClaim.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { compareQuantity, formatQuantity, tryParseQuantity } from '../quantity.js';
import type { ResourceDescription } from '../types.js';
import { defaultPVCSpec, validateQuantity } from './pod-spec.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  arr,
  child,
  clone,
  column,
  deepEqual,
  get,
  isDNS1123Subdomain,
  rec,
  setDefault,
  spec,
  status,
  str,
  validateLabelSelector,
  type Obj,
} from './util.js';

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Block', 'Filesystem'];

/** helper.GetAccessModesAsString: RWO,ROX,RWX,RWOP in that order. */
export function accessModesString(modes: unknown): string {
  const list = arr(modes).map(String);
  const out: string[] = [];
  if (list.includes('ReadWriteOnce')) out.push('RWO');
  if (list.includes('ReadOnlyMany')) out.push('ROX');
  if (list.includes('ReadWriteMany')) out.push('RWX');
  if (list.includes('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

export function defaultPersistentVolumeClaim(obj: KubeObject): void {
  defaultPVCSpec(child(obj, 'spec'));
  setDefault(child(obj, 'status'), 'phase', 'Pending');
}

/** ValidatePersistentVolumeClaimSpec. */
export function validatePVCSpec(s: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const modes = arr(s.accessModes);
  if (modes.length === 0)
    errs.push(fieldErr.required(`${path}.accessModes`, 'at least 1 access mode is required'));
  for (const m of modes)
    if (!ACCESS_MODES.includes(String(m)))
      errs.push(fieldErr.notSupported(`${path}.accessModes`, m, ACCESS_MODES));
  if (s.selector !== undefined && s.selector !== null)
    validateLabelSelector(s.selector, `${path}.selector`, errs);
  const storagePath = `${path}.resources[storage]`;
  const requests = rec(get(s, 'resources', 'requests'));
  if (!requests || requests.storage === undefined) {
    errs.push(fieldErr.required(storagePath));
  } else {
    const q = validateQuantity(requests.storage, storagePath, errs);
    if (q && q.nanos <= 0n)
      errs.push(fieldErr.invalid(storagePath, formatQuantity(q), 'must be greater than zero'));
  }
  const sc = s.storageClassName;
  if (typeof sc === 'string' && sc !== '')
    for (const m of isDNS1123Subdomain(sc)) errs.push(fieldErr.invalid(`${path}.storageClassName`, sc, m));
  if (s.volumeMode !== undefined && s.volumeMode !== null && !VOLUME_MODES.includes(str(s.volumeMode)))
    errs.push(fieldErr.notSupported(`${path}.volumeMode`, s.volumeMode, VOLUME_MODES));
  return errs;
}

export function validatePersistentVolumeClaim(obj: KubeObject): FieldError[] {
  return validatePVCSpec(spec(obj), 'spec');
}

export function validatePersistentVolumeClaimUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePersistentVolumeClaim(obj);
  const a = clone(spec(obj));
  const b = clone(spec(old));
  if (str(b.volumeName) === '') b.volumeName = a.volumeName;
  for (const x of [a, b]) {
    delete x.volumeAttributesClassName;
    const req = rec(get(x, 'resources', 'requests'));
    if (req) delete req.storage;
  }
  if (!deepEqual(a, b))
    errs.push(
      fieldErr.forbidden(
        'spec',
        'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
      ),
    );
  const newSize = tryParseQuantity(get(obj.spec, 'resources', 'requests', 'storage'));
  const oldSize = tryParseQuantity(get(old.spec, 'resources', 'requests', 'storage'));
  if (newSize && oldSize && compareQuantity(newSize, oldSize) < 0)
    errs.push(
      fieldErr.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'),
    );
  return errs;
}

export const persistentVolumeClaimColumns = [
  NAME_COLUMN,
  column('Status', 'string', 'The phase of this claim.', (o) =>
    o.metadata.deletionTimestamp ? 'Terminating' : str(status(o).phase),
  ),
  column('Volume', 'string', 'The binding reference to the PersistentVolume backing this claim.', (o) =>
    str(spec(o).volumeName),
  ),
  column('Capacity', 'string', 'The actual resources of the underlying volume.', (o) => {
    if (str(spec(o).volumeName) === '') return '';
    const q = tryParseQuantity(get(status(o), 'capacity', 'storage'));
    return q ? formatQuantity(q) : '0';
  }),
  column('Access Modes', 'string', 'The actual access modes the volume backing the PVC has.', (o) =>
    str(spec(o).volumeName) === '' ? '' : accessModesString(status(o).accessModes),
  ),
  column('StorageClass', 'string', 'The name of the StorageClass required by the claim.', (o) => {
    const ann = o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'];
    return ann ?? str(spec(o).storageClassName);
  }),
  column('VolumeAttributesClass', 'string', 'The name of the VolumeAttributesClass the claim uses.', (o) => {
    const v = str(spec(o).volumeAttributesClassName);
    return v === '' ? '<unset>' : v;
  }),
  AGE_COLUMN,
  column(
    'VolumeMode',
    'string',
    'Whether the volume is used as a filesystem or a raw block device.',
    (o) => str(spec(o).volumeMode) || '<unset>',
    1,
  ),
];

export const persistentVolumeClaimResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  shortNames: ['pvc'],
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.PersistentVolumeClaim',
  subresources: { status: true },
  tableColumns: persistentVolumeClaimColumns,
  strategy: {
    default: defaultPersistentVolumeClaim,
    prepareForCreate(obj) {
      obj.status = { phase: 'Pending' };
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
    },
    validate: validatePersistentVolumeClaim,
    validateUpdate: validatePersistentVolumeClaimUpdate,
  },
};
