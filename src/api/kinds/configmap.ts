// core/v1 ConfigMap: string and binary values under keys that must be valid file names; at most
// 1 MiB in total; frozen once `immutable` is true.
import { fieldErr, type FieldError } from '../errors.js';
import { isPlainObject, type KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { semanticEqual } from '../validation/immutable.js';
import { byteLength, isConfigMapKey } from '../validation/names.js';
import { uniqueFieldErrors, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.js';
import { ageColumn, countKeys, nameColumn } from './columns.js';

/** Upstream's MaxSecretSize, shared by ConfigMaps and Secrets. */
export const MAX_CONFIG_DATA_SIZE = 1024 * 1024;
export const IMMUTABLE_WHEN_SET = 'field is immutable when `immutable` is set';

function entries(v: unknown): [string, unknown][] {
  // Sorted so that error lists come out in a stable order (Go's map order is random).
  return isPlainObject(v) ? Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
}

/** Length of a base64 value once decoded, as Go's len([]byte) would count it. */
export function decodedLength(b64: string): number {
  return Buffer.from(b64, 'base64').length;
}

export function validateConfigMap(obj: KubeObject): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, { namespaced: true, standardFinalizers: true });
  const binary = isPlainObject(obj.binaryData) ? obj.binaryData : {};
  let total = 0;
  for (const [key, value] of entries(obj.data)) {
    for (const msg of isConfigMapKey(key)) errs.push(fieldErr.invalid(`data[${key}]`, key, msg));
    if (key in binary)
      errs.push(fieldErr.invalid(`data[${key}]`, key, 'duplicate of key present in binaryData'));
    total += byteLength(typeof value === 'string' ? value : '');
  }
  for (const [key, value] of entries(obj.binaryData)) {
    for (const msg of isConfigMapKey(key)) errs.push(fieldErr.invalid(`binaryData[${key}]`, key, msg));
    total += decodedLength(typeof value === 'string' ? value : '');
  }
  if (total > MAX_CONFIG_DATA_SIZE) errs.push(fieldErr.tooLong('', '', MAX_CONFIG_DATA_SIZE));
  return errs;
}

function validateConfigMapUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateObjectMetaUpdate(obj.metadata, old.metadata, 'metadata', { standardFinalizers: true });
  if (old.immutable === true) {
    if (obj.immutable !== true) errs.push(fieldErr.forbidden('immutable', IMMUTABLE_WHEN_SET));
    if (!semanticEqual(obj.data, old.data)) errs.push(fieldErr.forbidden('data', IMMUTABLE_WHEN_SET));
    if (!semanticEqual(obj.binaryData, old.binaryData))
      errs.push(fieldErr.forbidden('binaryData', IMMUTABLE_WHEN_SET));
  }
  errs.push(...validateConfigMap(obj));
  return uniqueFieldErrors(errs);
}

export const configMapResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.ConfigMap',
  tableColumns: [
    nameColumn,
    {
      name: 'Data',
      type: 'string',
      description: 'How many keys the ConfigMap holds, in data and binaryData together.',
      priority: 0,
      cell: (obj) => countKeys(obj.data) + countKeys(obj.binaryData),
    },
    ageColumn,
  ],
  strategy: {
    validate: validateConfigMap,
    validateUpdate: validateConfigMapUpdate,
  },
};
