// Generates src/api/generated/definitions.json and src/api/generated/types.ts from upstream's
// OpenAPI v2 document (../shared/data/kubernetes-1.36-openapi-v2.json, never committed here).
// Only the document's facts are carried over — names, types, formats, required lists, enums and
// x-kubernetes-* extensions. Upstream's description sentences are dropped on purpose: every
// description in the output comes from our overlay (src/api/descriptions/) or is composed from the
// field's name and type.
//
// Run: npm run build && npm run gen:schemas   (or: node dist/scripts/gen-schemas.js [path-to-json])
// The output is deterministic (sorted keys) so that a re-run on the same input produces no diff.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  commonKindFieldDescriptions,
  descriptionOverlay,
  kindDescriptions,
} from '../src/api/descriptions/index.js';
import type { JsonValue } from '../src/api/meta.js';
import type { Schema } from '../src/api/schema.js';

/** The repository root, whether this runs from scripts/ (tsx) or dist/scripts/ (compiled). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('gen-schemas: cannot find the repository root (no package.json above the script)');
}

export const DATA_FILE_NAME = 'kubernetes-1.36-openapi-v2.json';

/** Where the upstream document lives for developers and CI: ../shared/data/ beside the repo. */
export function defaultDataPath(): string {
  return resolve(repoRoot(), '..', 'shared', 'data', DATA_FILE_NAME);
}

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const LIST_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta';

type RawSchema = Record<string, unknown>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function refName(ref: string): string {
  return ref.startsWith('#/definitions/') ? ref.slice('#/definitions/'.length) : ref;
}

/** 'io.k8s.api.apps.v1.DeploymentSpec' → 'DeploymentSpec'. */
export function shortName(definition: string): string {
  return definition.slice(definition.lastIndexOf('.') + 1);
}

/** A few words naming a schema's type, used in composed descriptions: "integer, int32", "array of Container". */
function typePhrase(s: RawSchema): string {
  if (typeof s.$ref === 'string') return shortName(refName(s.$ref));
  const type = typeof s.type === 'string' ? s.type : undefined;
  if (type === 'array' && isRecord(s.items)) return `array of ${typePhrase(s.items)}`;
  if (type === 'object' && isRecord(s.additionalProperties)) {
    return `map of string to ${typePhrase(s.additionalProperties)}`;
  }
  if (!type) return 'any value';
  return typeof s.format === 'string' ? `${type}, ${s.format}` : type;
}

function composedFieldDescription(field: string, s: RawSchema): string {
  return `The ${field} field (${typePhrase(s)}).`;
}

function composedDefinitionDescription(definition: string): string {
  const dot = definition.lastIndexOf('.');
  const pkg = definition.slice(0, dot);
  const version = pkg.slice(pkg.lastIndexOf('.') + 1);
  return `The ${shortName(definition)} type (${version}).`;
}

function isKindDefinition(raw: RawSchema): boolean {
  return Array.isArray(raw['x-kubernetes-group-version-kind']);
}

/** Converts one upstream schema node into ours; `description` is supplied by the caller. */
function convertNode(raw: RawSchema): Schema {
  const out: Schema = {};
  if (typeof raw.$ref === 'string') out.$ref = refName(raw.$ref);
  if (typeof raw.type === 'string') out.type = raw.type as Schema['type'];
  if (typeof raw.format === 'string') out.format = raw.format;
  if (Array.isArray(raw.required)) out.required = [...(raw.required as string[])];
  if (Array.isArray(raw.enum)) out.enum = [...(raw.enum as JsonValue[])];
  if (raw.default !== undefined) out.default = raw.default as JsonValue;
  if (isRecord(raw.items)) out.items = convertNode(raw.items);
  if (isRecord(raw.additionalProperties)) out.additionalProperties = convertNode(raw.additionalProperties);
  else if (typeof raw.additionalProperties === 'boolean') out.additionalProperties = raw.additionalProperties;
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith('x-kubernetes-')) (out as Record<string, unknown>)[key] = structuredClone(value);
  }
  return out;
}

/** Converts the whole document's definitions, with our descriptions. */
export function convertDefinitions(doc: unknown): Record<string, Schema> {
  if (!isRecord(doc) || !isRecord(doc.definitions))
    throw new Error('gen-schemas: the document has no definitions');
  const defs = doc.definitions;
  const out: Record<string, Schema> = {};
  const usedOverlay = new Set<string>();
  for (const name of Object.keys(defs).sort()) {
    const raw = defs[name];
    if (!isRecord(raw)) continue;
    let schema: Schema;
    if (name === INT_OR_STRING) {
      // Upstream's v2 document spells IntOrString as a string with a special format; the
      // structural form (what v3 and CRDs use) is type-less with the int-or-string marker.
      schema = { 'x-kubernetes-int-or-string': true };
    } else {
      schema = convertNode(raw);
    }
    const kind = shortName(name);
    const isKind = isKindDefinition(raw);
    const own = descriptionOverlay[name];
    if (own !== undefined) usedOverlay.add(name);
    schema.description =
      own ??
      (isKind && !kind.endsWith('List') ? kindDescriptions[kind] : undefined) ??
      (isKind && kind.endsWith('List') ? `A list of ${kind.slice(0, -'List'.length)} objects.` : undefined) ??
      composedDefinitionDescription(name);
    if (isRecord(raw.properties)) {
      const props: Record<string, Schema> = {};
      for (const field of Object.keys(raw.properties).sort()) {
        const rawProp = raw.properties[field];
        if (!isRecord(rawProp)) continue;
        const prop = convertNode(rawProp);
        const key = `${name}.${field}`;
        const fieldOwn = descriptionOverlay[key];
        if (fieldOwn !== undefined) usedOverlay.add(key);
        prop.description =
          fieldOwn ??
          (isKind ? commonKindFieldDescriptions[field] : undefined) ??
          composedFieldDescription(field, rawProp);
        props[field] = prop;
      }
      schema.properties = props;
    }
    out[name] = schema;
  }
  // An overlay key that names nothing is a typo; fail loudly rather than silently dropping it.
  const stale = Object.keys(descriptionOverlay).filter((k) => !usedOverlay.has(k));
  if (stale.length > 0)
    throw new Error(`gen-schemas: overlay keys match no definition or field: ${stale.join(', ')}`);
  return out;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
  return out;
}

export function renderDefinitionsJson(defs: Record<string, Schema>): string {
  return `${JSON.stringify(sortKeys(defs), null, 1)}\n`;
}

// ---------------------------------------------------------------------------------------------
// TypeScript types

/**
 * Packages that get TypeScript types, in priority order: when two packages define the same short
 * name, the earlier one keeps it bare and later ones get their group as a prefix (EventsEvent).
 * Only one version per group, so the group alone tells them apart.
 */
const TYPED_PACKAGES: readonly string[] = [
  'io.k8s.apimachinery.pkg.apis.meta.v1',
  'io.k8s.apimachinery.pkg.util.intstr',
  'io.k8s.apimachinery.pkg.api.resource',
  'io.k8s.apimachinery.pkg.runtime',
  'io.k8s.apimachinery.pkg.version',
  'io.k8s.api.core.v1',
  'io.k8s.api.apps.v1',
  'io.k8s.api.batch.v1',
  'io.k8s.api.rbac.v1',
  'io.k8s.api.networking.v1',
  'io.k8s.api.coordination.v1',
  'io.k8s.api.events.v1',
  'io.k8s.api.policy.v1',
  'io.k8s.api.autoscaling.v2',
  'io.k8s.api.authentication.v1',
  'io.k8s.api.authorization.v1',
  'io.k8s.api.discovery.v1',
  'io.k8s.api.storage.v1',
  'io.k8s.api.scheduling.v1',
  'io.k8s.api.node.v1',
  'io.k8s.api.certificates.v1',
  'io.k8s.api.admissionregistration.v1',
  'io.k8s.api.flowcontrol.v1',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1',
  'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1',
];

/** Types whose shape the hand-written contracts in src/api/meta.ts already own. */
const FROM_META: Readonly<Record<string, string>> = {
  [OBJECT_META]: 'ObjectMeta',
  [LIST_META]: 'ListMeta',
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference': 'OwnerReference',
  'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry': 'ManagedFieldsEntry',
};

/** Scalar-like definitions rendered as aliases rather than interfaces. */
const ALIASES: Readonly<Record<string, { name: string; type: string; doc: string }>> = {
  [INT_OR_STRING]: {
    name: 'IntOrString',
    type: 'number | string',
    doc: 'An integer or a string, as the field allows.',
  },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': {
    name: 'Quantity',
    type: 'string',
    doc: 'A resource quantity in its canonical string form ("100m", "1Gi"); clients may send a bare number, which the server stores as a string.',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': {
    name: 'Time',
    type: 'string',
    doc: 'An RFC 3339 timestamp with second precision.',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': {
    name: 'MicroTime',
    type: 'string',
    doc: 'An RFC 3339 timestamp with microsecond precision.',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': {
    name: 'FieldsV1',
    type: '{ [key: string]: unknown }',
    doc: 'A set of field paths in the managed-fields trie encoding.',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': {
    name: 'Patch',
    type: '{ [key: string]: unknown }',
    doc: 'A patch body.',
  },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': {
    name: 'RawExtension',
    type: '{ [key: string]: unknown }',
    doc: 'An embedded object of any kind, kept as JSON.',
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON': {
    name: 'JSON',
    type: 'unknown',
    doc: 'Any JSON value.',
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray': {
    name: 'JSONSchemaPropsOrArray',
    type: 'JSONSchemaProps | JSONSchemaProps[]',
    doc: 'One schema or a list of schemas.',
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool': {
    name: 'JSONSchemaPropsOrBool',
    type: 'JSONSchemaProps | boolean',
    doc: 'A schema, or a boolean allowing or forbidding everything.',
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray': {
    name: 'JSONSchemaPropsOrStringArray',
    type: 'JSONSchemaProps | string[]',
    doc: 'A schema, or a list of property names.',
  },
};

function packageOf(definition: string): string {
  return definition.slice(0, definition.lastIndexOf('.'));
}

/** 'io.k8s.api.events.v1' → 'Events'; 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1' → 'Apiextensions'. */
function groupPrefix(pkg: string): string {
  const parts = pkg.split('.');
  const group = parts[parts.length - 2] ?? pkg;
  return group.charAt(0).toUpperCase() + group.slice(1);
}

function assignTypeNames(defs: Record<string, Schema>): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const pkg of TYPED_PACKAGES) {
    const members = Object.keys(defs)
      .filter((d) => packageOf(d) === pkg)
      .sort();
    for (const def of members) {
      const base = FROM_META[def] ?? ALIASES[def]?.name ?? shortName(def);
      let name = base;
      if (taken.has(name)) name = `${groupPrefix(pkg)}${base}`;
      if (taken.has(name)) throw new Error(`gen-schemas: cannot find a unique type name for ${def}`);
      taken.add(name);
      names.set(def, name);
    }
  }
  return names;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function docComment(text: string | undefined, indent: string): string {
  if (!text) return '';
  const safe = text.replace(/\*\//g, '*\\/');
  return `${indent}/** ${safe} */\n`;
}

function tsType(s: Schema, names: Map<string, string>): string {
  if (s.$ref !== undefined) return names.get(s.$ref) ?? 'unknown';
  if (s['x-kubernetes-int-or-string']) return 'number | string';
  if (s.enum && s.enum.length > 0 && s.enum.every((v) => typeof v === 'string')) {
    return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  }
  switch (s.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return s.items ? `${wrapForArray(tsType(s.items, names))}[]` : 'unknown[]';
    case 'object':
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        return `{ [key: string]: ${tsType(s.additionalProperties, names)} }`;
      }
      return '{ [key: string]: unknown }';
    case undefined:
      return 'unknown';
  }
}

function wrapForArray(t: string): string {
  return /[|&\s{]/.test(t) ? `(${t})` : t;
}

/** Only descriptions we wrote ourselves become doc comments; composed ones would be noise. */
function ownDescription(key: string): string | undefined {
  return descriptionOverlay[key];
}

export function renderTypes(defs: Record<string, Schema>): string {
  const names = assignTypeNames(defs);
  const lines: string[] = [];
  lines.push(
    '// Generated by scripts/gen-schemas.ts from upstream Kubernetes 1.36 OpenAPI facts. Do not edit.',
  );
  lines.push('// Kinds are type aliases (not interfaces) so that they stay assignable to KubeObject, whose');
  lines.push('// index signature an interface would not satisfy.');
  lines.push("import type { ListMeta, ManagedFieldsEntry, ObjectMeta, OwnerReference } from '../meta.js';");
  lines.push('');
  lines.push('export type { ListMeta, ManagedFieldsEntry, ObjectMeta, OwnerReference };');
  const ordered = [...names.entries()].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  for (const [def, name] of ordered) {
    if (FROM_META[def]) continue;
    const schema = defs[def];
    if (!schema) continue;
    lines.push('');
    const alias = ALIASES[def];
    if (alias) {
      lines.push(docComment(alias.doc, '').trimEnd());
      lines.push(`export type ${name} = ${alias.type};`);
      continue;
    }
    const doc =
      ownDescription(def) ??
      (schema['x-kubernetes-group-version-kind'] ? kindDescriptions[shortName(def)] : undefined);
    if (doc) lines.push(docComment(doc, '').trimEnd());
    const props = schema.properties ?? {};
    const required = new Set(schema.required ?? []);
    const metaRef = props.metadata?.$ref;
    // Stored objects always carry apiVersion, kind and metadata, so kinds require them.
    const isResource =
      schema['x-kubernetes-group-version-kind'] !== undefined &&
      (metaRef === OBJECT_META || metaRef === LIST_META);
    if (isResource) {
      required.add('apiVersion');
      required.add('kind');
      required.add('metadata');
    }
    const body: string[] = [];
    for (const field of Object.keys(props).sort()) {
      const prop = props[field];
      if (!prop) continue;
      body.push(docComment(ownDescription(`${def}.${field}`), '  ').trimEnd());
      const optional = required.has(field) ? '' : '?';
      body.push(`  ${propertyKey(field)}${optional}: ${tsType(prop, names)};`);
    }
    const bodyText = body.filter((l) => l !== '').join('\n');
    if (Object.keys(props).length === 0) {
      lines.push(`export type ${name} = { [key: string]: unknown };`);
    } else if (isResource) {
      lines.push(`export type ${name} = {\n${bodyText}\n};`);
    } else {
      lines.push(`export interface ${name} {\n${bodyText}\n}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

export interface GeneratedFiles {
  readonly definitionsJson: string;
  readonly typesTs: string;
}

export function generate(dataPath: string): GeneratedFiles {
  const doc: unknown = JSON.parse(readFileSync(dataPath, 'utf8'));
  const defs = convertDefinitions(doc);
  return { definitionsJson: renderDefinitionsJson(defs), typesTs: renderTypes(defs) };
}

export function generatedDir(): string {
  return join(repoRoot(), 'src', 'api', 'generated');
}

function main(): void {
  const dataPath = process.argv[2] ?? defaultDataPath();
  if (!existsSync(dataPath)) {
    process.stderr.write(
      `gen-schemas: ${dataPath} not found (pass the OpenAPI v2 file as the first argument)\n`,
    );
    process.exit(1);
  }
  const out = generate(dataPath);
  const dir = generatedDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'definitions.json'), out.definitionsJson);
  writeFileSync(join(dir, 'types.ts'), out.typesTs);
  process.stdout.write(`gen-schemas: wrote ${join(dir, 'definitions.json')} and ${join(dir, 'types.ts')}\n`);
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(resolve(invokedPath)).href) main();
