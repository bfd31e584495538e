// A CRD version's openAPIV3Schema as the API server uses it: the definitions it publishes in
// OpenAPI (object and list, with metadata as ObjectMeta and apiVersion/kind declared, as upstream's
// CRD OpenAPI builder does), and the definition names, which follow upstream's
// reversed-group form ('com.example.stable.v1.CronTab').
import { isPlainObject, type JsonValue } from '../../api/meta.js';
import type { Schema } from '../../api/schema.js';

/** A node of a CRD's structural schema: our Schema plus the validation keywords CRDs carry. */
export interface CrdSchema extends Schema {
  properties?: Record<string, CrdSchema>;
  additionalProperties?: CrdSchema | boolean;
  items?: CrdSchema;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  allOf?: CrdSchema[];
  anyOf?: CrdSchema[];
  oneOf?: CrdSchema[];
  not?: CrdSchema;
}

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const LIST_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta';

const API_VERSION_DESCRIPTION =
  'The version of the schema this object is written in; the server converts objects to the versions it serves.';
const KIND_DESCRIPTION =
  'The REST resource type this object represents, in CamelCase. Read-only on the server.';
const METADATA_DESCRIPTION = 'Standard object metadata: name, namespace, labels, annotations and the rest.';

/** 'stable.example.com', 'v1', 'CronTab' → 'com.example.stable.v1.CronTab'. */
export function crdDefinitionName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

const SCHEMA_KEYS = new Set([
  'type',
  'format',
  'description',
  'required',
  'enum',
  'default',
  'nullable',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'title',
  'example',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);

/** A typed deep copy of a JSONSchemaProps object (unknown keys dropped). */
export function toCrdSchema(raw: unknown): CrdSchema {
  if (!isPlainObject(raw)) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (SCHEMA_KEYS.has(k)) out[k] = structuredClone(v);
    else if (k === 'properties' && isPlainObject(v)) {
      const props: Record<string, CrdSchema> = {};
      for (const [pk, pv] of Object.entries(v)) props[pk] = toCrdSchema(pv);
      out.properties = props;
    } else if (k === 'items' && isPlainObject(v)) out.items = toCrdSchema(v);
    else if (k === 'additionalProperties')
      out.additionalProperties = typeof v === 'boolean' ? v : toCrdSchema(v);
    else if (k === 'not' && isPlainObject(v)) out.not = toCrdSchema(v);
    else if ((k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v))
      out[k] = v.map(toCrdSchema);
  }
  return out;
}

/** The published definition of a CR kind: the CRD's schema with the standard top-level fields. */
export function publishedSchema(
  validation: CrdSchema | undefined,
  group: string,
  version: string,
  kind: string,
): Schema {
  const root: CrdSchema = validation ? structuredClone(validation) : { type: 'object' };
  if (!validation) root['x-kubernetes-preserve-unknown-fields'] = true;
  root.type = 'object';
  const props: Record<string, CrdSchema> = { ...(root.properties ?? {}) };
  props.apiVersion = { type: 'string', description: API_VERSION_DESCRIPTION };
  props.kind = { type: 'string', description: KIND_DESCRIPTION };
  props.metadata = { $ref: OBJECT_META, description: METADATA_DESCRIPTION };
  root.properties = props;
  root['x-kubernetes-group-version-kind'] = [{ group, version, kind }];
  return root;
}

export function publishedListSchema(itemRef: string, group: string, version: string, kind: string): Schema {
  return {
    type: 'object',
    description: `A list of ${kind} objects.`,
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: API_VERSION_DESCRIPTION },
      items: { type: 'array', description: `The ${kind} objects.`, items: { $ref: itemRef } },
      kind: { type: 'string', description: KIND_DESCRIPTION },
      metadata: { $ref: LIST_META, description: 'Standard list metadata.' },
    },
    'x-kubernetes-group-version-kind': [{ group, version, kind: `${kind}List` }],
  };
}

/** JSON value equality for enum and uniqueItems checks. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

export type { JsonValue };
