// core/v1 Secret: base64 values under file-name keys, at most 1 MiB, typed (Opaque by default).
// stringData is a write-only convenience: on every write its values are encoded into data
// (overwriting keys present in both) and the field is dropped, so it is never stored or returned.
import { fieldErr, type FieldError } from '../errors.js';
import { isPlainObject, type KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { semanticEqual, validateImmutableField } from '../validation/immutable.js';
import { isConfigMapKey } from '../validation/names.js';
import { uniqueFieldErrors, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.js';
import { ageColumn, countKeys, nameColumn, strField } from './columns.js';
import { IMMUTABLE_WHEN_SET, MAX_CONFIG_DATA_SIZE, decodedLength } from './configmap.js';

export const SECRET_TYPE_OPAQUE = 'Opaque';
export const SECRET_TYPE_SERVICE_ACCOUNT_TOKEN = 'kubernetes.io/service-account-token';
export const SECRET_TYPE_DOCKERCFG = 'kubernetes.io/dockercfg';
export const SECRET_TYPE_DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';
export const SECRET_TYPE_BASIC_AUTH = 'kubernetes.io/basic-auth';
export const SECRET_TYPE_SSH_AUTH = 'kubernetes.io/ssh-auth';
export const SECRET_TYPE_TLS = 'kubernetes.io/tls';
export const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
/** Upstream never echoes secret contents in errors; it shows this instead. */
export const REDACTED = '<secret contents redacted>';

function sortedEntries(v: unknown): [string, unknown][] {
  return isPlainObject(v) ? Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
}

/** Moves stringData into data (base64-encoding it) and removes stringData. */
export function mergeStringData(obj: KubeObject): void {
  if (!isPlainObject(obj.stringData)) {
    delete obj.stringData;
    return;
  }
  const data: Record<string, unknown> = isPlainObject(obj.data) ? { ...obj.data } : {};
  for (const [key, value] of Object.entries(obj.stringData)) {
    data[key] = Buffer.from(typeof value === 'string' ? value : String(value), 'utf8').toString('base64');
  }
  obj.data = data;
  delete obj.stringData;
}

function dataValue(obj: KubeObject, key: string): string | undefined {
  const data = isPlainObject(obj.data) ? obj.data : {};
  const v = data[key];
  return typeof v === 'string' ? v : undefined;
}

/** Go's json.Unmarshal error for a dockercfg payload that is not a JSON object; our own close wording. */
function jsonObjectError(b64: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
    return isPlainObject(parsed)
      ? undefined
      : 'json: cannot unmarshal non-object into Go value of type map[string]interface {}';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export function validateSecret(obj: KubeObject): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, { namespaced: true, standardFinalizers: true });
  let total = 0;
  for (const [key, value] of sortedEntries(obj.data)) {
    for (const msg of isConfigMapKey(key)) errs.push(fieldErr.invalid(`data[${key}]`, key, msg));
    total += decodedLength(typeof value === 'string' ? value : '');
  }
  if (total > MAX_CONFIG_DATA_SIZE) errs.push(fieldErr.tooLong('data', '', MAX_CONFIG_DATA_SIZE));
  const type = typeof obj.type === 'string' ? obj.type : '';
  switch (type) {
    case SECRET_TYPE_SERVICE_ACCOUNT_TOKEN:
      if (!obj.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION]) {
        errs.push(fieldErr.required(`metadata.annotations[${SERVICE_ACCOUNT_NAME_ANNOTATION}]`, ''));
      }
      break;
    case SECRET_TYPE_DOCKERCFG:
    case SECRET_TYPE_DOCKER_CONFIG_JSON: {
      const key = type === SECRET_TYPE_DOCKERCFG ? '.dockercfg' : '.dockerconfigjson';
      const value = dataValue(obj, key);
      if (value === undefined) {
        errs.push(fieldErr.required(`data[${key}]`, ''));
        break;
      }
      const problem = jsonObjectError(value);
      if (problem !== undefined) errs.push(fieldErr.invalid(`data[${key}]`, REDACTED, problem));
      break;
    }
    case SECRET_TYPE_BASIC_AUTH:
      // Either key may hold an empty value, but at least one must be present.
      if (dataValue(obj, 'username') === undefined && dataValue(obj, 'password') === undefined) {
        errs.push(fieldErr.required('data[username]', ''));
        errs.push(fieldErr.required('data[password]', ''));
      }
      break;
    case SECRET_TYPE_SSH_AUTH:
      if (!dataValue(obj, 'ssh-privatekey')) errs.push(fieldErr.required('data[ssh-privatekey]', ''));
      break;
    case SECRET_TYPE_TLS:
      if (dataValue(obj, 'tls.crt') === undefined) errs.push(fieldErr.required('data[tls.crt]', ''));
      if (dataValue(obj, 'tls.key') === undefined) errs.push(fieldErr.required('data[tls.key]', ''));
      break;
    default:
      // Opaque and any other type: free-form keys.
      break;
  }
  return errs;
}

function validateSecretUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateObjectMetaUpdate(obj.metadata, old.metadata, 'metadata', { standardFinalizers: true });
  errs.push(...validateImmutableField(obj.type ?? '', old.type ?? '', 'type'));
  if (old.immutable === true) {
    if (obj.immutable !== true) errs.push(fieldErr.forbidden('immutable', IMMUTABLE_WHEN_SET));
    if (!semanticEqual(obj.data, old.data)) errs.push(fieldErr.forbidden('data', IMMUTABLE_WHEN_SET));
  }
  errs.push(...validateSecret(obj));
  return uniqueFieldErrors(errs);
}

export const secretResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.Secret',
  tableColumns: [
    nameColumn,
    {
      name: 'Type',
      type: 'string',
      description: 'The type of the secret, which decides the keys it must hold.',
      priority: 0,
      cell: (obj) => strField(obj, 'type'),
    },
    {
      name: 'Data',
      type: 'string',
      description: 'How many keys the secret holds.',
      priority: 0,
      cell: (obj) => countKeys(obj.data),
    },
    ageColumn,
  ],
  fieldSelectors: { type: (obj) => strField(obj, 'type') },
  strategy: {
    default(obj) {
      if (typeof obj.type !== 'string' || obj.type === '') obj.type = SECRET_TYPE_OPAQUE;
    },
    prepareForCreate: mergeStringData,
    prepareForUpdate: (obj) => mergeStringData(obj),
    validate: validateSecret,
    validateUpdate: validateSecretUpdate,
  },
};
