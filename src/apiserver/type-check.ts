// What decoding into upstream's Go types refuses: a JSON value of the wrong type for its field
// (a number for a name, a string for replicas, a fraction for an int32, bad base64 for bytes).
// Reported with encoding/json's message, which upstream passes on in its 400 responses:
// "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string".
import type { Schema, SchemaRegistry } from '../api/schema.js';
import { isPlainObject } from '../api/meta.js';

const MAX_DEPTH = 10_000;
const INT32 = [-2147483648, 2147483647] as const;

function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function shortName(ref: string): string {
  const parts = ref.split('.');
  return parts.length >= 2 ? `${parts[parts.length - 2]}.${parts[parts.length - 1]}` : ref;
}

function structName(ref: string): string {
  return ref.slice(ref.lastIndexOf('.') + 1);
}

interface Ctx {
  readonly schemas: SchemaRegistry;
}

class Mismatch extends Error {}

/** The Go type name of a schema node, as encoding/json prints it. */
function goType(s: Schema, ctx: Ctx): string {
  if (s.$ref) {
    const r = ctx.schemas.resolve(s);
    if (r['x-kubernetes-int-or-string']) return 'intstr.IntOrString';
    if (r.type === 'object' || r.properties) return shortName(s.$ref);
    return goType(r, ctx);
  }
  switch (s.type) {
    case 'string':
      return s.format === 'byte' ? '[]uint8' : 'string';
    case 'integer':
      return s.format === 'int64' ? 'int64' : 'int32';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'array':
      return `[]${s.items ? goType(s.items, ctx) : 'interface {}'}`;
    case 'object':
      if (isPlainObject(s.additionalProperties)) return `map[string]${goType(s.additionalProperties, ctx)}`;
      return 'map[string]interface {}';
    case undefined:
      return 'interface {}';
  }
}

function base64Problem(v: string): string | undefined {
  const clean = v.replace(/[\r\n]/g, '');
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i]!;
    if (!/[A-Za-z0-9+/=]/.test(c)) return `illegal base64 data at input byte ${i}`;
  }
  if (clean.length % 4 !== 0) return `illegal base64 data at input byte ${clean.length - (clean.length % 4)}`;
  const pad = clean.indexOf('=');
  if (pad >= 0 && pad < clean.length - 2) return `illegal base64 data at input byte ${pad}`;
  return undefined;
}

function check(value: unknown, schema: Schema, path: string, struct: string, ctx: Ctx, depth: number): void {
  if (value === null || value === undefined) return;
  if (depth > MAX_DEPTH) throw new Mismatch('exceeded max depth');
  let s = schema;
  let owner = struct;
  if (s.$ref) {
    const ref = s.$ref;
    s = ctx.schemas.resolve(s);
    if (ref.endsWith('.Quantity')) {
      if (typeof value === 'string' || typeof value === 'number') return;
      throw new Mismatch(
        `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
      );
    }
    if (s.type === 'object' || s.properties) owner = structName(ref);
  }
  const fail = (extra = ''): never => {
    const field = path === '' ? '' : ` Go struct field ${struct}.${path} of type ${goType(schema, ctx)}`;
    const into = field === '' ? ` Go value of type ${goType(schema, ctx)}` : field;
    throw new Mismatch(`json: cannot unmarshal ${jsonKind(value)}${extra} into${into}`);
  };
  if (s['x-kubernetes-int-or-string']) {
    if (typeof value === 'string') return;
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < INT32[0] || value > INT32[1]) fail(` ${value}`);
      return;
    }
    fail();
  }
  if (s['x-kubernetes-preserve-unknown-fields'] && !s.properties && !s.type) return;
  switch (s.type) {
    case 'string':
      if (typeof value !== 'string') fail();
      if (s.format === 'byte') {
        const problem = base64Problem(value as string);
        if (problem) throw new Mismatch(problem);
      }
      return;
    case 'integer': {
      if (typeof value !== 'number') fail();
      const n = value as number;
      const out =
        !Number.isInteger(n) ||
        (s.format === 'int64' ? !Number.isSafeInteger(n) : n < INT32[0] || n > INT32[1]);
      if (out) fail(` ${String(n)}`);
      return;
    }
    case 'number':
      if (typeof value !== 'number') fail();
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail();
      return;
    case 'array':
      if (!Array.isArray(value)) fail();
      if (s.items) for (const item of value as unknown[]) check(item, s.items, path, struct, ctx, depth + 1);
      return;
    case 'object':
    case undefined:
      break;
  }
  if (s.type === 'object' || s.properties) {
    if (!isPlainObject(value)) {
      if (s.properties || isPlainObject(s.additionalProperties)) fail();
      return;
    }
    if (s.properties) {
      for (const [k, v] of Object.entries(value)) {
        const child = s.properties[k];
        if (child) check(v, child, path === '' ? k : `${path}.${k}`, owner, ctx, depth + 1);
      }
      return;
    }
    if (isPlainObject(s.additionalProperties))
      for (const v of Object.values(value)) check(v, s.additionalProperties, path, struct, ctx, depth + 1);
  }
}

/** The decoding error for this value, or undefined when every typed field has the right type. */
export function typeMismatch(value: unknown, schemaRef: string, schemas: SchemaRegistry): string | undefined {
  const root = schemas.get(schemaRef);
  if (!root) return undefined;
  // Custom resources decode as unstructured JSON (their schema validates them later, with its own
  // messages): only their metadata has a Go type.
  if (!schemaRef.startsWith('io.k8s.')) {
    if (!isPlainObject(value) || !isPlainObject(value.metadata)) return undefined;
    return typeMismatch(value.metadata, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', schemas);
  }
  try {
    check(value, { $ref: schemaRef }, '', structName(schemaRef), { schemas }, 0);
    return undefined;
  } catch (err) {
    if (err instanceof Mismatch) return err.message;
    if (err instanceof RangeError) return 'exceeded max depth';
    throw err;
  }
}
