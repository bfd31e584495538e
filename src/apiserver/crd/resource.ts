// What an established CRD serves: one ResourceDescription per served version (names, scope,
// subresources, printer columns, and the strategy that defaults, prunes-then-validates against the
// version's schema and resets status), plus the OpenAPI definitions it registers.
import { fieldErr, type FieldError } from '../../api/errors.js';
import { isPlainObject, type KubeObject } from '../../api/meta.js';
import type { SchemaRegistry } from '../../api/schema.js';
import type { CellValue, ResourceDescription, TableColumn, VersionConversion } from '../../api/types.js';
import { ageColumn, nameColumn } from '../../api/kinds/columns.js';
import {
  crdGroup,
  crdScope,
  crdVersions,
  namesOf,
  type CrdColumn,
  type CrdVersion,
} from '../../api/kinds/custom-resource-definition.js';
import {
  uniqueFieldErrors,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from '../../api/validation/objectmeta.js';
import { humanDuration } from '../table.js';
import { evalJsonPath } from './jsonpath.js';
import {
  crdDefinitionName,
  publishedListSchema,
  publishedSchema,
  toCrdSchema,
  type CrdSchema,
} from './schema.js';
import { applyDefaults, validateCustomResource } from './validate.js';

function cellOf(type: string, value: unknown, now: Date): CellValue {
  switch (type) {
    case 'integer':
      if (typeof value === 'number') return Math.trunc(value);
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
      return null;
    case 'number':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
        return Number(value);
      return null;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      return null;
    case 'date': {
      if (typeof value !== 'string') return null;
      const t = Date.parse(value);
      return Number.isNaN(t) ? null : humanDuration(now.getTime() - t);
    }
    default:
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return JSON.stringify(value);
  }
}

function columnType(t: string): TableColumn['type'] {
  return t === 'integer' || t === 'number' || t === 'boolean' || t === 'date' ? t : 'string';
}

export function printerColumns(columns: readonly CrdColumn[]): TableColumn[] {
  if (columns.length === 0) return [nameColumn, ageColumn];
  return [
    nameColumn,
    ...columns.map((c): TableColumn => ({
      name: c.name,
      type: columnType(c.type),
      ...(c.format ? { format: c.format } : {}),
      description: c.description ?? `Custom column read with the JSON path ${c.jsonPath}.`,
      priority: c.priority,
      cell: (obj, now) => {
        const found = evalJsonPath(obj, c.jsonPath);
        return found.length === 0 || found[0] === undefined || found[0] === null
          ? null
          : cellOf(c.type, found[0], now);
      },
    })),
  ];
}

function validateCr(obj: KubeObject, schema: CrdSchema | undefined, namespaced: boolean): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, { namespaced });
  errs.push(...validateCustomResource(obj, schema));
  return uniqueFieldErrors(errs);
}

function validateCrUpdate(
  obj: KubeObject,
  old: KubeObject,
  schema: CrdSchema | undefined,
  namespaced: boolean,
): FieldError[] {
  const errs = validateObjectMetaUpdate(obj.metadata, old.metadata);
  errs.push(...validateCr(obj, schema, namespaced));
  if (obj.kind !== old.kind) errs.push(fieldErr.invalid('kind', obj.kind, 'field is immutable'));
  return uniqueFieldErrors(errs);
}

export interface ServedCrd {
  readonly descriptions: ResourceDescription[];
  /** Definitions registered in the schema registry for these descriptions. */
  readonly definitions: string[];
}

/** Builds (and registers the schemas of) what a CRD serves. */
export function buildCrdResources(crd: KubeObject, schemas: SchemaRegistry): ServedCrd {
  const group = crdGroup(crd);
  const names = namesOf(isPlainObject(crd.spec) ? crd.spec.names : undefined);
  const namespaced = crdScope(crd) === 'Namespaced';
  const versions = crdVersions(crd);
  const storage = versions.find((v) => v.storage);
  const descriptions: ResourceDescription[] = [];
  const definitions: string[] = [];
  for (const v of versions) {
    if (!v.served) continue;
    const ref = crdDefinitionName(group, v.name, names.kind);
    const schema = v.schema ? toCrdSchema(v.schema) : undefined;
    schemas.set(ref, publishedSchema(schema, group, v.name, names.kind));
    schemas.set(`${ref}List`, publishedListSchema(ref, group, v.name, names.kind));
    definitions.push(ref, `${ref}List`);
    descriptions.push(
      describeVersion(v, storage, versions.length > 1, { group, names, namespaced, ref, schema }),
    );
  }
  return { descriptions, definitions };
}

function describeVersion(
  v: CrdVersion,
  storage: CrdVersion | undefined,
  multiVersion: boolean,
  c: {
    group: string;
    names: ReturnType<typeof namesOf>;
    namespaced: boolean;
    ref: string;
    schema: CrdSchema | undefined;
  },
): ResourceDescription {
  const apiVersion = `${c.group}/${v.name}`;
  const statusOn = v.status;
  const warning = v.deprecated
    ? (v.deprecationWarning ?? `${apiVersion} ${c.names.kind} is deprecated`)
    : undefined;
  let conversion: VersionConversion | undefined;
  if (multiVersion || warning) {
    const storageApiVersion = `${c.group}/${storage?.name ?? v.name}`;
    conversion = {
      storageGroup: c.group,
      storageVersion: storage?.name ?? v.name,
      toStorage: (obj) => ({ ...obj, apiVersion: storageApiVersion }),
      // Reads in another version get that version's defaults, as upstream defaults on read.
      fromStorage: (obj) => {
        const out = structuredClone(obj);
        out.apiVersion = apiVersion;
        if (c.schema) applyDefaults(out, c.schema);
        return out;
      },
      ...(warning ? { deprecationWarning: warning } : {}),
    };
  }
  const desc: ResourceDescription = {
    group: c.group,
    version: v.name,
    kind: c.names.kind,
    plural: c.names.plural,
    singular: c.names.singular,
    ...(c.names.shortNames.length ? { shortNames: c.names.shortNames } : {}),
    ...(c.names.categories.length ? { categories: c.names.categories } : {}),
    namespaced: c.namespaced,
    schemaRef: c.ref,
    subresources: {
      ...(statusOn ? { status: true } : {}),
      ...(v.scale
        ? {
            scale: {
              specReplicasPath: v.scale.specReplicasPath,
              statusReplicasPath: v.scale.statusReplicasPath,
              ...(v.scale.labelSelectorPath ? { labelSelectorPath: v.scale.labelSelectorPath } : {}),
            },
          }
        : {}),
    },
    tableColumns: printerColumns(v.columns),
    strategy: {
      default: (obj) => {
        if (c.schema) applyDefaults(obj, c.schema);
      },
      prepareForCreate: (obj) => {
        if (statusOn) delete obj.status;
        obj.metadata.generation = 1;
      },
      validate: (obj) => validateCr(obj, c.schema, c.namespaced),
      validateUpdate: (obj, old) => validateCrUpdate(obj, old, c.schema, c.namespaced),
      validateStatusUpdate: (obj, old) => validateCrUpdate(obj, old, c.schema, c.namespaced),
    },
    ...(conversion ? { conversion } : {}),
  };
  return desc;
}
