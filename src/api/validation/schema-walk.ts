// Walks a decoded JSON object along its structural schema, as upstream's decoder does for built-in
// kinds: it reports fields the schema does not declare (what fieldValidation=Strict refuses and
// =Warn warns about) and values of the wrong JSON type (what the Go decoder refuses outright).
//
// Unknown fields are reported by path with list indices, exactly as upstream's strict decoder
// names them: `spec.template.spec.containers[0].foo`. Type errors are worded as Go's JSON decoder
// words them — `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of
// type int32` — where the struct is the Go type that declares the field and the path leaves out
// list indices, as Go's does.
import { fieldErr, type FieldError } from '../errors.js';
import { isPlainObject } from '../meta.js';
import type { Schema, SchemaRegistry } from '../schema.js';

export const INT_OR_STRING_REF = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const QUANTITY_REF = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const OBJECT_META_REF = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** Upstream's Quantity parse error (resource.ErrFormatWrong). */
export const QUANTITY_FORMAT_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const QUANTITY_RE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

const MAX_DEPTH = 100;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export interface SchemaTypeError {
  /** The field path with list indices: `spec.template.spec.containers[0].ports[0].containerPort`. */
  readonly path: string;
  /** Go's decoder wording, e.g. `json: cannot unmarshal string into Go struct field ... of type int32`. */
  readonly message: string;
  /** For a wrong JSON type: the schema's type ('integer', 'object', …) and the value's JSON type. */
  readonly expectedType?: string;
  readonly actualType?: string;
}

export interface SchemaCheckResult {
  /** Paths of undeclared fields, in the order they appear in the input. */
  readonly unknownFields: string[];
  readonly typeErrors: SchemaTypeError[];
}

interface Context {
  readonly registry: SchemaRegistry;
  readonly unknown: string[];
  readonly typeErrors: SchemaTypeError[];
  readonly rootType: string;
}

interface Position {
  /** Path with indices, for unknown fields. */
  readonly path: string;
  /** Path of JSON names without indices, as Go's decoder tracks it. */
  readonly goPath: string;
  /** The Go struct type that declares the field at this position. */
  readonly struct: string;
}

function shortName(definition: string): string {
  return definition.slice(definition.lastIndexOf('.') + 1);
}

/** The Go type name upstream would print for a definition: 'v1.PodSpec', 'intstr.IntOrString'. */
function goTypeOfRef(ref: string): string {
  const pkg = ref.slice(0, ref.lastIndexOf('.'));
  return `${pkg.slice(pkg.lastIndexOf('.') + 1)}.${shortName(ref)}`;
}

function goTypeOf(schema: Schema, registry: SchemaRegistry): string {
  if (schema.$ref !== undefined) return goTypeOfRef(schema.$ref);
  if (schema['x-kubernetes-int-or-string']) return 'intstr.IntOrString';
  switch (schema.type) {
    case 'string':
      return schema.format === 'byte' ? '[]uint8' : 'string';
    case 'integer':
      return schema.format === 'int32' ? 'int32' : schema.format === 'int64' ? 'int64' : 'int';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'array':
      return `[]${schema.items ? goTypeOf(schema.items, registry) : 'interface {}'}`;
    case 'object':
      if (isPlainObject(schema.additionalProperties)) {
        return `map[string]${goTypeOf(schema.additionalProperties, registry)}`;
      }
      return 'map[string]interface {}';
    case undefined:
      return 'interface {}';
  }
}

/** The JSON kind of a value as Go's decoder names it in UnmarshalTypeError. */
function jsonKind(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'array';
  return 'object';
}

function joinPath(base: string, field: string): string {
  return base === '' ? field : `${base}.${field}`;
}

/** The JSON Schema type name of a value, as OpenAPI validation reports it. */
function schemaTypeOf(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  return Array.isArray(value) ? 'array' : 'object';
}

function typeError(
  ctx: Context,
  pos: Position,
  value: unknown,
  valueKind: string,
  goType: string,
  expected: string,
): void {
  const where = pos.goPath === '' ? `Go value` : `Go struct field ${pos.struct}.${pos.goPath}`;
  ctx.typeErrors.push({
    path: pos.path,
    message: `json: cannot unmarshal ${valueKind} into ${where} of type ${goType}`,
    expectedType: expected,
    actualType: schemaTypeOf(value),
  });
}

/** Go's base64.StdEncoding error offset for a malformed value, or -1 when it decodes. */
export function base64ErrorOffset(value: string): number {
  const s = value.replace(/[\r\n]/g, '');
  const firstPad = s.indexOf('=');
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      (c >= 48 && c <= 57) ||
      c === 43 ||
      c === 47 ||
      c === 61;
    if (!ok) return i;
  }
  if (firstPad >= 0) {
    const padding = s.length - firstPad;
    // Padding may only end the last quantum, and only as "=" or "==".
    if (padding > 2 || s.slice(firstPad) !== '='.repeat(padding) || s.length % 4 !== 0) return firstPad;
    return -1;
  }
  return s.length % 4 === 0 ? -1 : s.length - (s.length % 4);
}

function checkValue(ctx: Context, value: unknown, schema: Schema, pos: Position, depth: number): void {
  // A null decodes to the zero value of any Go type, so it is never a type error.
  if (value === null || value === undefined || depth > MAX_DEPTH) return;
  const ref = schema.$ref;
  let s = schema;
  let struct = pos.struct;
  if (ref !== undefined) {
    if (ref === QUANTITY_REF) {
      // Quantity accepts a JSON string or a bare number, and parses the string.
      if (typeof value === 'string') {
        if (!QUANTITY_RE.test(value.trim()))
          ctx.typeErrors.push({ path: pos.path, message: QUANTITY_FORMAT_ERROR });
      } else if (typeof value !== 'number') {
        typeError(ctx, pos, value, jsonKind(value), 'resource.Quantity', 'string');
      }
      return;
    }
    const resolved = ctx.registry.get(ref);
    if (!resolved) return;
    s = ctx.registry.resolve(resolved);
    struct = shortName(ref);
  }
  if (s['x-kubernetes-int-or-string']) {
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) typeError(ctx, pos, value, `number ${value}`, 'int32', 'integer');
    } else if (typeof value !== 'string') {
      typeError(
        ctx,
        pos,
        value,
        jsonKind(value),
        ref !== undefined ? goTypeOfRef(ref) : 'intstr.IntOrString',
        'string',
      );
    }
    return;
  }
  const goType = ref !== undefined ? goTypeOfRef(ref) : goTypeOf(s, ctx.registry);
  switch (s.type) {
    case 'string':
      if (typeof value !== 'string') typeError(ctx, pos, value, jsonKind(value), goType, s.type ?? 'object');
      else if (s.format === 'byte') {
        const offset = base64ErrorOffset(value);
        if (offset >= 0)
          ctx.typeErrors.push({ path: pos.path, message: `illegal base64 data at input byte ${offset}` });
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean') typeError(ctx, pos, value, jsonKind(value), goType, s.type ?? 'object');
      return;
    case 'number':
      if (typeof value !== 'number') typeError(ctx, pos, value, jsonKind(value), goType, s.type ?? 'object');
      return;
    case 'integer':
      if (typeof value !== 'number') typeError(ctx, pos, value, jsonKind(value), goType, s.type ?? 'object');
      else if (
        !Number.isInteger(value) ||
        (s.format === 'int32' && (value < INT32_MIN || value > INT32_MAX)) ||
        !Number.isSafeInteger(value)
      ) {
        typeError(ctx, pos, value, `number ${value}`, goType, 'integer');
      }
      return;
    case 'array':
      if (!Array.isArray(value)) {
        typeError(ctx, pos, value, jsonKind(value), goType, s.type ?? 'object');
        return;
      }
      if (s.items) {
        const items = s.items;
        value.forEach((item, i) =>
          checkValue(ctx, item, items, { path: `${pos.path}[${i}]`, goPath: pos.goPath, struct }, depth + 1),
        );
      }
      return;
    case 'object':
    case undefined:
      checkObject(ctx, value, s, pos, struct, goType, depth);
      return;
  }
}

/** `pos` locates the object itself (for its own type errors); `struct` is the Go type its fields belong to. */
function checkObject(
  ctx: Context,
  value: unknown,
  s: Schema,
  pos: Position,
  struct: string,
  goType: string,
  depth: number,
): void {
  const hasShape = s.properties !== undefined || s.additionalProperties !== undefined;
  if (!hasShape) {
    // Type-less schemas and objects without declared fields (RawExtension, FieldsV1, JSON) take any value.
    if (s.type === 'object' && !isPlainObject(value) && s['x-kubernetes-preserve-unknown-fields'] !== true) {
      typeError(ctx, pos, value, jsonKind(value), goType, s.type ?? 'object');
    }
    return;
  }
  if (!isPlainObject(value)) {
    typeError(ctx, pos, value, jsonKind(value), goType, s.type ?? 'object');
    return;
  }
  const props = s.properties ?? {};
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  for (const [key, child] of Object.entries(value)) {
    const childPos: Position = {
      path: joinPath(pos.path, key),
      goPath: joinPath(pos.goPath, key),
      struct,
    };
    const declared = props[key];
    if (declared) {
      checkValue(ctx, child, declared, childPos, depth + 1);
    } else if (isPlainObject(s.additionalProperties)) {
      // Map entries: Go reports problems at the map field itself, not at the key.
      checkValue(ctx, child, s.additionalProperties, { ...childPos, goPath: pos.goPath }, depth + 1);
    } else if (s.additionalProperties === true || s['x-kubernetes-preserve-unknown-fields'] === true) {
      continue;
    } else if (embedded && (key === 'apiVersion' || key === 'kind')) {
      checkValue(ctx, child, { type: 'string' }, childPos, depth + 1);
    } else if (embedded && key === 'metadata') {
      checkValue(ctx, child, { $ref: OBJECT_META_REF }, childPos, depth + 1);
    } else {
      ctx.unknown.push(childPos.path);
    }
  }
}

/**
 * Checks `value` against the definition `schemaRef`: undeclared fields and wrongly typed values.
 * An unknown definition yields no findings (nothing to check against).
 */
export function checkAgainstSchema(
  value: unknown,
  schemaRef: string,
  registry: SchemaRegistry,
): SchemaCheckResult {
  const ctx: Context = { registry, unknown: [], typeErrors: [], rootType: goTypeOfRef(schemaRef) };
  if (registry.get(schemaRef) === undefined) return { unknownFields: [], typeErrors: [] };
  if (!isPlainObject(value)) {
    ctx.typeErrors.push({
      path: '',
      message: `json: cannot unmarshal ${jsonKind(value)} into Go value of type ${ctx.rootType}`,
    });
    return { unknownFields: ctx.unknown, typeErrors: ctx.typeErrors };
  }
  checkValue(ctx, value, { $ref: schemaRef }, { path: '', goPath: '', struct: shortName(schemaRef) }, 0);
  return { unknownFields: ctx.unknown, typeErrors: ctx.typeErrors };
}

/** Paths of the fields in `obj` that its schema does not declare: ['spec.foo', 'spec.containers[0].bar']. */
export function findUnknownFields(obj: unknown, schemaRef: string, registry: SchemaRegistry): string[] {
  return checkAgainstSchema(obj, schemaRef, registry).unknownFields;
}

/** Values of the wrong type, worded as Go's decoder words them. */
export function findTypeErrors(obj: unknown, schemaRef: string, registry: SchemaRegistry): SchemaTypeError[] {
  return checkAgainstSchema(obj, schemaRef, registry).typeErrors;
}

/** One warning, as fieldValidation=Warn sends it: `unknown field "spec.foo"`. */
export function unknownFieldMessage(path: string): string {
  return `unknown field "${path}"`;
}

/** The 400 message under fieldValidation=Strict: `strict decoding error: unknown field "a", unknown field "b"`. */
export function strictDecodingMessage(paths: readonly string[]): string {
  return `strict decoding error: ${paths.map(unknownFieldMessage).join(', ')}`;
}

/**
 * The 400 BadRequest message for a body that does not decode:
 * `Deployment in version "v1" cannot be handled as a Deployment: <detail>`.
 */
export function decodeErrorMessage(kind: string, version: string, detail: string): string {
  return `${kind} in version "${version}" cannot be handled as a ${kind}: ${detail}`;
}

/**
 * A wrong-type finding as upstream's OpenAPI validation of custom resources words it (a 422 field
 * error): `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
 * Returns undefined for findings that are not about the JSON type (quantity or base64 format).
 */
export function crdTypeFieldError(e: SchemaTypeError): FieldError | undefined {
  if (e.expectedType === undefined || e.actualType === undefined) return undefined;
  return fieldErr.typeInvalid(
    e.path,
    e.actualType,
    `${e.path} in body must be of type ${e.expectedType}: "${e.actualType}"`,
  );
}
