// apiextensions.k8s.io/v1 CustomResourceDefinition: the kind itself (defaults, validation of
// names, versions and structural schemas, status handling, the cleanup finalizer added when a
// deletion starts). Serving the resources a CRD defines is the API server's CRD controller
// (src/apiserver/crd/).
import { fieldErr, type FieldError } from '../errors.js';
import { isPlainObject, type KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { validateImmutableField } from '../validation/immutable.js';
import { isDNS1035Label, isDNS1123Subdomain } from '../validation/names.js';
import { uniqueFieldErrors, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.js';
import { createdAtColumn, nameColumn } from './columns.js';

export const CRD_GROUP = 'apiextensions.k8s.io';
export const CRD_SCHEMA_REF =
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition';
/** Held by a CRD being deleted until every object of its kind is gone. */
export const CUSTOM_RESOURCE_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

type Obj = Record<string, unknown>;

export interface CrdNames {
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames: string[];
  categories: string[];
}

export interface CrdColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority: number;
  jsonPath: string;
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated: boolean;
  deprecationWarning?: string;
  schema?: Obj;
  status: boolean;
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  columns: CrdColumn[];
}

export interface CrdCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

function obj(v: unknown): Obj {
  return isPlainObject(v) ? v : {};
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function crdSpec(crd: KubeObject): Obj {
  return obj(crd.spec);
}

export function crdGroup(crd: KubeObject): string {
  return str(crdSpec(crd).group);
}

export function crdScope(crd: KubeObject): string {
  return str(crdSpec(crd).scope);
}

export function namesOf(v: unknown): CrdNames {
  const n = obj(v);
  const kind = str(n.kind);
  return {
    plural: str(n.plural),
    singular: str(n.singular) || kind.toLowerCase(),
    kind,
    listKind: str(n.listKind) || (kind ? `${kind}List` : ''),
    shortNames: strings(n.shortNames),
    categories: strings(n.categories),
  };
}

export function crdVersions(crd: KubeObject): CrdVersion[] {
  const versions = Array.isArray(crdSpec(crd).versions) ? (crdSpec(crd).versions as unknown[]) : [];
  return versions.map((raw) => {
    const v = obj(raw);
    const sub = obj(v.subresources);
    const scale = isPlainObject(sub.scale) ? sub.scale : undefined;
    const columns = Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : [];
    const out: CrdVersion = {
      name: str(v.name),
      served: v.served === true,
      storage: v.storage === true,
      deprecated: v.deprecated === true,
      schema: isPlainObject(obj(v.schema).openAPIV3Schema) ? obj(obj(v.schema).openAPIV3Schema) : undefined,
      status: isPlainObject(sub.status),
      columns: columns.map((c) => {
        const col = obj(c);
        return {
          name: str(col.name),
          type: str(col.type),
          format: str(col.format) || undefined,
          description: str(col.description) || undefined,
          priority: typeof col.priority === 'number' ? col.priority : 0,
          jsonPath: str(col.jsonPath),
        };
      }),
    };
    if (typeof v.deprecationWarning === 'string') out.deprecationWarning = v.deprecationWarning;
    if (scale)
      out.scale = {
        specReplicasPath: str(scale.specReplicasPath),
        statusReplicasPath: str(scale.statusReplicasPath),
        labelSelectorPath: str(scale.labelSelectorPath) || undefined,
      };
    return out;
  });
}

export function crdConditions(crd: KubeObject): CrdCondition[] {
  const st = obj(crd.status);
  return Array.isArray(st.conditions)
    ? (st.conditions.filter(isPlainObject) as unknown as CrdCondition[])
    : [];
}

export function crdConditionTrue(crd: KubeObject, type: string): boolean {
  return crdConditions(crd).some((c) => c.type === type && c.status === 'True');
}

// ---------------------------------------------------------------------------------------------
// Defaults (SetDefaults_CustomResourceDefinitionSpec and friends)

function defaultSchemaProps(s: unknown): void {
  if (!isPlainObject(s)) return;
  for (const key of ['properties', 'patternProperties', 'definitions'] as const) {
    const m = s[key];
    if (isPlainObject(m)) for (const v of Object.values(m)) defaultSchemaProps(v);
  }
  for (const key of ['items', 'additionalProperties', 'additionalItems', 'not'] as const)
    defaultSchemaProps(s[key]);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = s[key];
    if (Array.isArray(list)) list.forEach(defaultSchemaProps);
  }
}

export function defaultCrd(crd: KubeObject): void {
  if (!isPlainObject(crd.spec)) return;
  const spec = crd.spec;
  if (isPlainObject(spec.names)) {
    const n = spec.names;
    if (typeof n.kind === 'string' && n.kind !== '') {
      if (typeof n.singular !== 'string' || n.singular === '') n.singular = n.kind.toLowerCase();
      if (typeof n.listKind !== 'string' || n.listKind === '') n.listKind = `${n.kind}List`;
    }
  }
  if (!isPlainObject(spec.conversion)) spec.conversion = { strategy: 'None' };
  else if (spec.conversion.strategy === undefined) spec.conversion.strategy = 'None';
  const conv = obj(spec.conversion);
  const service = obj(obj(obj(conv.webhook).clientConfig).service);
  if (isPlainObject(obj(obj(conv.webhook).clientConfig).service) && service.port === undefined)
    service.port = 443;
  if (Array.isArray(spec.versions))
    for (const v of spec.versions) {
      if (!isPlainObject(v)) continue;
      defaultSchemaProps(obj(v.schema).openAPIV3Schema);
    }
}

// ---------------------------------------------------------------------------------------------
// Structural schema rules (the ones that matter for serving: types present, root an object,
// metadata restricted to name and generateName, properties and additionalProperties exclusive)

const SCHEMA_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];

function validateStructural(
  s: unknown,
  path: string,
  errs: FieldError[],
  ctx: { root: boolean; kind: 'field' | 'items' | 'additional' | 'root' },
): void {
  if (!isPlainObject(s)) return;
  const type = s.type;
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'];
  if (preserve === false)
    errs.push(
      fieldErr.invalid(`${path}.x-kubernetes-preserve-unknown-fields`, false, 'must be true or undefined'),
    );
  if (type !== undefined && (typeof type !== 'string' || !SCHEMA_TYPES.includes(type)))
    errs.push(fieldErr.notSupported(`${path}.type`, type, SCHEMA_TYPES));
  if ((type === undefined || type === '') && !intOrString && preserve !== true) {
    if (ctx.kind === 'field')
      errs.push(fieldErr.required(`${path}.type`, 'must not be empty for specified object fields'));
    else if (ctx.kind === 'items')
      errs.push(fieldErr.required(`${path}.type`, 'must not be empty for specified array items'));
    else if (ctx.kind === 'root')
      errs.push(fieldErr.required(`${path}.type`, 'must not be empty at the root'));
  }
  if (ctx.root && typeof type === 'string' && type !== 'object')
    errs.push(fieldErr.invalid(`${path}.type`, type, 'must be object at the root'));
  if (intOrString && type !== undefined && type !== '')
    errs.push(fieldErr.invalid(`${path}.type`, type, 'must be empty to be structural'));
  if (s.$ref !== undefined) errs.push(fieldErr.forbidden(`${path}.$ref`, '$ref is not supported'));
  const props = s.properties;
  if (isPlainObject(props) && s.additionalProperties !== undefined && s.additionalProperties !== false)
    errs.push(
      fieldErr.forbidden(
        `${path}.additionalProperties`,
        'additionalProperties and properties are mutual exclusive',
      ),
    );
  if (type === 'array' && s.items === undefined)
    errs.push(fieldErr.required(`${path}.items`, 'must be specified'));
  if (Array.isArray(s.items))
    errs.push(fieldErr.forbidden(`${path}.items`, 'items must be a schema object and not an array'));
  if (ctx.root && isPlainObject(props) && isPlainObject(props.metadata)) {
    const meta = props.metadata;
    const metaProps = isPlainObject(meta.properties) ? Object.keys(meta.properties) : [];
    const extra = Object.keys(meta).filter((k) => !['type', 'properties', 'description'].includes(k));
    if (metaProps.some((k) => k !== 'name' && k !== 'generateName') || extra.length > 0)
      errs.push(
        fieldErr.forbidden(
          `${path}.properties[metadata]`,
          'must not specify anything other than name and generateName, but metadata is implicitly specified',
        ),
      );
    if (meta.type !== undefined && meta.type !== 'object')
      errs.push(fieldErr.invalid(`${path}.properties[metadata].type`, meta.type, 'must be object'));
  }
  if (isPlainObject(props))
    for (const [k, v] of Object.entries(props)) {
      if (ctx.root && k === 'metadata') continue;
      validateStructural(v, `${path}.properties[${k}]`, errs, { root: false, kind: 'field' });
    }
  if (isPlainObject(s.items))
    validateStructural(s.items, `${path}.items`, errs, { root: false, kind: 'items' });
  if (isPlainObject(s.additionalProperties))
    validateStructural(s.additionalProperties, `${path}.additionalProperties`, errs, {
      root: false,
      kind: 'field',
    });
  for (const key of ['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems'] as const) {
    const v = s[key];
    if (v !== undefined && typeof v !== 'number')
      errs.push(fieldErr.invalid(`${path}.${key}`, v, 'must be a number'));
  }
  if (typeof s.pattern === 'string') {
    try {
      new RegExp(s.pattern, 'u');
    } catch {
      errs.push(fieldErr.invalid(`${path}.pattern`, s.pattern, 'must be a valid regular expression'));
    }
  }
}

export function validateCrdSchema(schema: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  validateStructural(schema, path, errs, { root: true, kind: 'root' });
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Validation

const DNS1035_MIXED_CASE = 'may have mixed case, but should otherwise match: ';

function validateNames(n: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const plural = str(n.plural);
  const singular = str(n.singular);
  const kind = str(n.kind);
  const listKind = str(n.listKind);
  const label = (value: string, field: string): void => {
    const problems = isDNS1035Label(value);
    if (value !== '' && problems.length)
      errs.push(fieldErr.invalid(`${path}.${field}`, value, problems.join(',')));
  };
  label(plural, 'plural');
  label(singular, 'singular');
  if (kind !== '') {
    const problems = isDNS1035Label(kind.toLowerCase());
    if (problems.length)
      errs.push(fieldErr.invalid(`${path}.kind`, kind, DNS1035_MIXED_CASE + problems.join(',')));
  }
  if (listKind !== '') {
    const problems = isDNS1035Label(listKind.toLowerCase());
    if (problems.length)
      errs.push(fieldErr.invalid(`${path}.listKind`, listKind, DNS1035_MIXED_CASE + problems.join(',')));
  }
  strings(n.shortNames).forEach((s, i) => {
    const problems = isDNS1035Label(s);
    if (problems.length) errs.push(fieldErr.invalid(`${path}.shortNames[${i}]`, s, problems.join(',')));
  });
  if (kind !== '' && kind === listKind)
    errs.push(fieldErr.invalid(`${path}.listKind`, listKind, 'kind and listKind may not be the same'));
  strings(n.categories).forEach((c, i) => {
    const problems = isDNS1035Label(c);
    if (problems.length) errs.push(fieldErr.invalid(`${path}.categories[${i}]`, c, problems.join(',')));
  });
  return errs;
}

const COLUMN_TYPES = ['integer', 'number', 'string', 'boolean', 'date'];
const COLUMN_FORMATS = ['int32', 'int64', 'float', 'double', 'byte', 'date', 'date-time', 'password'];

function validateVersion(raw: unknown, path: string, errs: FieldError[]): void {
  const v = obj(raw);
  const name = str(v.name);
  const problems = isDNS1035Label(name);
  if (problems.length) errs.push(fieldErr.invalid(`${path}.name`, name, problems.join(',')));
  const schema = obj(v.schema);
  if (!isPlainObject(schema.openAPIV3Schema))
    errs.push(fieldErr.required(`${path}.schema.openAPIV3Schema`, 'schemas are required'));
  else errs.push(...validateCrdSchema(schema.openAPIV3Schema, `${path}.schema.openAPIV3Schema`));
  const sub = obj(v.subresources);
  if (isPlainObject(sub.scale)) {
    const scale = sub.scale;
    const specPath = str(scale.specReplicasPath);
    const statusPath = str(scale.statusReplicasPath);
    const sp = `${path}.subresources.scale`;
    if (specPath === '') errs.push(fieldErr.required(`${sp}.specReplicasPath`, ''));
    else if (!specPath.startsWith('.spec.'))
      errs.push(fieldErr.invalid(`${sp}.specReplicasPath`, specPath, 'should be a json path under .spec'));
    if (statusPath === '') errs.push(fieldErr.required(`${sp}.statusReplicasPath`, ''));
    else if (!statusPath.startsWith('.status.'))
      errs.push(
        fieldErr.invalid(`${sp}.statusReplicasPath`, statusPath, 'should be a json path under .status'),
      );
    const sel = str(scale.labelSelectorPath);
    if (sel !== '' && !sel.startsWith('.spec.') && !sel.startsWith('.status.'))
      errs.push(
        fieldErr.invalid(
          `${sp}.labelSelectorPath`,
          sel,
          'should be a json path under either .spec or .status',
        ),
      );
  }
  const columns = Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : [];
  columns.forEach((c, i) => {
    const col = obj(c);
    const cp = `${path}.additionalPrinterColumns[${i}]`;
    if (str(col.name) === '') errs.push(fieldErr.required(`${cp}.name`, ''));
    if (str(col.type) === '') errs.push(fieldErr.required(`${cp}.type`, ''));
    else if (!COLUMN_TYPES.includes(str(col.type)))
      errs.push(fieldErr.notSupported(`${cp}.type`, col.type, COLUMN_TYPES));
    if (col.format !== undefined && col.format !== '' && !COLUMN_FORMATS.includes(str(col.format)))
      errs.push(fieldErr.notSupported(`${cp}.format`, col.format, COLUMN_FORMATS));
    if (typeof col.priority === 'number' && col.priority < 0)
      errs.push(fieldErr.invalid(`${cp}.priority`, col.priority, 'must be greater than or equal to 0'));
    if (str(col.jsonPath) === '') errs.push(fieldErr.required(`${cp}.jsonPath`, ''));
  });
}

export function validateCrd(crd: KubeObject): FieldError[] {
  const errs = validateObjectMeta(crd.metadata, { namespaced: false });
  const spec = crdSpec(crd);
  const group = str(spec.group);
  const names = obj(spec.names);
  const name = crd.metadata.name ?? '';
  if (name !== '' && name !== `${str(names.plural)}.${group}`)
    errs.push(fieldErr.invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  if (group === '') errs.push(fieldErr.required('spec.group', ''));
  else {
    const problems = isDNS1123Subdomain(group);
    if (problems.length) errs.push(fieldErr.invalid('spec.group', group, problems.join(',')));
    else if (group.split('.').length < 2)
      errs.push(fieldErr.invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  const scope = str(spec.scope);
  if (scope === '') errs.push(fieldErr.required('spec.scope', ''));
  else if (scope !== 'Cluster' && scope !== 'Namespaced')
    errs.push(fieldErr.notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0)
    errs.push(
      fieldErr.invalid('spec.versions', [], 'must have exactly one version marked as storage version'),
    );
  const seen = new Set<string>();
  let unique = true;
  let storage = 0;
  versions.forEach((v, i) => {
    const vn = str(obj(v).name);
    if (seen.has(vn)) unique = false;
    seen.add(vn);
    if (obj(v).storage === true) storage++;
    validateVersion(v, `spec.versions[${i}]`, errs);
  });
  if (!unique) errs.push(fieldErr.invalid('spec.versions', versions, 'must contain unique version names'));
  if (versions.length > 0 && storage !== 1)
    errs.push(
      fieldErr.invalid('spec.versions', versions, 'must have exactly one version marked as storage version'),
    );
  if (str(names.plural) === '') errs.push(fieldErr.required('spec.names.plural', ''));
  if (str(names.singular) === '') errs.push(fieldErr.required('spec.names.singular', ''));
  if (str(names.kind) === '') errs.push(fieldErr.required('spec.names.kind', ''));
  if (str(names.listKind) === '') errs.push(fieldErr.required('spec.names.listKind', ''));
  errs.push(...validateNames(names, 'spec.names'));
  const conv = obj(spec.conversion);
  const strategy = str(conv.strategy);
  if (strategy === '') errs.push(fieldErr.required('spec.conversion.strategy', ''));
  else if (strategy !== 'None' && strategy !== 'Webhook')
    errs.push(fieldErr.notSupported('spec.conversion.strategy', conv.strategy, ['None', 'Webhook']));
  else if (strategy === 'Webhook' && !isPlainObject(conv.webhook))
    errs.push(fieldErr.required('spec.conversion.webhook', 'required when strategy is set to Webhook'));
  else if (strategy === 'None' && conv.webhook !== undefined)
    errs.push(
      fieldErr.forbidden('spec.conversion.webhook', 'should not be set when strategy is not set to Webhook'),
    );
  errs.push(...validateCrdStatus(crd));
  return uniqueFieldErrors(errs);
}

function validateCrdStatus(crd: KubeObject): FieldError[] {
  return validateNames(obj(obj(crd.status).acceptedNames), 'status.acceptedNames');
}

function validateCrdUpdate(crd: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateObjectMetaUpdate(crd.metadata, old.metadata);
  errs.push(...validateCrd(crd));
  const spec = crdSpec(crd);
  const oldSpec = crdSpec(old);
  if (crdConditionTrue(old, 'Established')) {
    errs.push(...validateImmutableField(spec.scope, oldSpec.scope, 'spec.scope'));
    errs.push(...validateImmutableField(obj(spec.names).kind, obj(oldSpec.names).kind, 'spec.names.kind'));
  }
  errs.push(...validateImmutableField(spec.group, oldSpec.group, 'spec.group'));
  errs.push(
    ...validateImmutableField(obj(spec.names).plural, obj(oldSpec.names).plural, 'spec.names.plural'),
  );
  const stored = strings(obj(crd.status).storedVersions);
  const names = crdVersions(crd).map((v) => v.name);
  stored.forEach((v, i) => {
    if (!names.includes(v))
      errs.push(fieldErr.invalid(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
  });
  return uniqueFieldErrors(errs);
}

function validateCrdStatusUpdate(crd: KubeObject, old: KubeObject): FieldError[] {
  return uniqueFieldErrors([
    ...validateObjectMetaUpdate(crd.metadata, old.metadata),
    ...validateCrdStatus(crd),
  ]);
}

function storageVersionName(crd: KubeObject): string | undefined {
  return crdVersions(crd).find((v) => v.storage)?.name;
}

function prepareCrdForCreate(crd: KubeObject): void {
  const storage = storageVersionName(crd);
  crd.status = { storedVersions: storage ? [storage] : [] };
  crd.metadata.generation = 1;
}

function prepareCrdForUpdate(crd: KubeObject, old: KubeObject): void {
  crd.status = structuredClone(old.status);
  const storage = storageVersionName(crd);
  const st = obj(crd.status);
  const stored = strings(st.storedVersions);
  if (storage && !stored.includes(storage)) {
    stored.push(storage);
    crd.status = { ...st, storedVersions: stored };
  }
}

function prepareCrdForDelete(crd: KubeObject): void {
  const finalizers = crd.metadata.finalizers ?? [];
  if (!finalizers.includes(CUSTOM_RESOURCE_CLEANUP_FINALIZER))
    crd.metadata.finalizers = [...finalizers, CUSTOM_RESOURCE_CLEANUP_FINALIZER];
  const st = obj(crd.status);
  const conditions = crdConditions(crd).filter((c) => c.type !== 'Terminating');
  conditions.push({
    type: 'Terminating',
    status: 'True',
    lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    reason: 'InstanceDeletionPending',
    message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
  });
  crd.status = { ...st, conditions };
}

export const customResourceDefinitionResource: ResourceDescription = {
  group: CRD_GROUP,
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  namespaced: false,
  schemaRef: CRD_SCHEMA_REF,
  subresources: { status: true },
  tableColumns: [nameColumn, createdAtColumn],
  strategy: {
    default: defaultCrd,
    prepareForCreate: prepareCrdForCreate,
    prepareForUpdate: prepareCrdForUpdate,
    prepareForDelete: prepareCrdForDelete,
    validate: validateCrd,
    validateUpdate: validateCrdUpdate,
    validateStatusUpdate: validateCrdStatusUpdate,
  },
};
