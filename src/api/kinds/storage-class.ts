// storage.k8s.io/v1 StorageClass (cluster-scoped, mostly immutable).
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { AGE_COLUMN, column, deepEqual, isDNS1123Subdomain, rec, setDefault, str } from './util.js';

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

export function isDefaultStorageClass(obj: KubeObject): boolean {
  const a = obj.metadata.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
}

export function validateStorageClass(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const prov = str(obj.provisioner);
  if (prov === '') errs.push(fieldErr.required('provisioner'));
  else {
    if (prov.length > 63) errs.push(fieldErr.tooLong('provisioner', prov, 63));
    for (const m of isDNS1123Subdomain(prov.toLowerCase().replace(/\//g, '.').replace(/_/g, '-')))
      errs.push(fieldErr.invalid('provisioner', prov, m));
  }
  const params = rec(obj.parameters) ?? {};
  if (Object.keys(params).length > 512)
    errs.push(fieldErr.tooMany('parameters', Object.keys(params).length, 512));
  let size = 0;
  for (const [k, v] of Object.entries(params)) {
    if (k === '') errs.push(fieldErr.invalid('parameters', k, 'field can not be empty.'));
    size += k.length + String(v).length;
  }
  if (size > 256 * 1024) errs.push(fieldErr.tooLong('parameters', '', 256 * 1024));
  const rp = obj.reclaimPolicy;
  if (rp !== undefined && rp !== 'Delete' && rp !== 'Retain')
    errs.push(fieldErr.notSupported('reclaimPolicy', rp, ['Delete', 'Retain']));
  const vbm = obj.volumeBindingMode;
  if (vbm === undefined || vbm === null) errs.push(fieldErr.required('volumeBindingMode'));
  else if (vbm !== 'Immediate' && vbm !== 'WaitForFirstConsumer')
    errs.push(fieldErr.notSupported('volumeBindingMode', vbm, ['Immediate', 'WaitForFirstConsumer']));
  return errs;
}

export function validateStorageClassUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateStorageClass(obj);
  if (!deepEqual(obj.parameters ?? {}, old.parameters ?? {}))
    errs.push(fieldErr.forbidden('parameters', 'updates to parameters are forbidden.'));
  if (str(obj.provisioner) !== str(old.provisioner))
    errs.push(fieldErr.forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (obj.reclaimPolicy !== old.reclaimPolicy)
    errs.push(fieldErr.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  if (obj.volumeBindingMode !== old.volumeBindingMode)
    errs.push(fieldErr.invalid('volumeBindingMode', obj.volumeBindingMode ?? null, 'field is immutable'));
  return errs;
}

export const storageClassResource: ResourceDescription = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  shortNames: ['sc'],
  namespaced: false,
  schemaRef: 'io.k8s.api.storage.v1.StorageClass',
  tableColumns: [
    {
      name: 'Name',
      type: 'string',
      format: 'name',
      description: 'Name must be unique within a namespace.',
      priority: 0,
      cell: (o) => `${o.metadata.name ?? ''}${isDefaultStorageClass(o) ? ' (default)' : ''}`,
    },
    column('Provisioner', 'string', 'Indicates the type of the provisioner.', (o) => str(o.provisioner)),
    column(
      'ReclaimPolicy',
      'string',
      'Indicates the type of the reclaim policy.',
      (o) => str(o.reclaimPolicy) || 'Delete',
    ),
    column(
      'VolumeBindingMode',
      'string',
      'Indicates how PersistentVolumeClaims should be provisioned and bound.',
      (o) => str(o.volumeBindingMode) || 'Immediate',
    ),
    column(
      'AllowVolumeExpansion',
      'string',
      'Indicates whether the storage class allow volume expand.',
      (o) => o.allowVolumeExpansion === true,
    ),
    AGE_COLUMN,
  ],
  strategy: {
    default(obj) {
      const o = obj as unknown as Record<string, unknown>;
      setDefault(o, 'reclaimPolicy', 'Delete');
      setDefault(o, 'volumeBindingMode', 'Immediate');
    },
    validate: validateStorageClass,
    validateUpdate: validateStorageClassUpdate,
  },
};
