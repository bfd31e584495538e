// Defaulting and validation of custom resources against their CRD's structural schema, with the
// field paths and sentences upstream reports (kube-openapi's validator as the CR handler converts
// its results to field errors): `spec.replicas: Invalid value: "string": spec.replicas in body
// must be of type integer: "string"`.
import { fieldErr, type FieldError } from '../../api/errors.js';
import { isPlainObject } from '../../api/meta.js';
import { jsonEqual, type CrdSchema } from './schema.js';

/** The JSON type name of a value, as the validator names it. */
function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

function matchesType(v: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    default:
      return true;
  }
}

/** Go's %v of a float64 limit: integral values print without a fraction. */
function num(n: number): string {
  return String(n);
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const HOSTNAME =
  /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function formatOk(format: string, v: string): boolean | undefined {
  switch (format) {
    case 'date-time':
    case 'datetime':
      return DATE_TIME.test(v) && !Number.isNaN(Date.parse(v.replace(' ', 'T')));
    case 'date':
      return DATE.test(v) && !Number.isNaN(Date.parse(v));
    case 'uuid':
      return UUID.test(v);
    case 'ipv4':
      return IPV4.test(v);
    case 'ipv6':
      return v.includes(':') && /^[0-9a-fA-F:.]+$/.test(v);
    case 'email':
      return EMAIL.test(v);
    case 'hostname':
      return HOSTNAME.test(v);
    case 'byte':
      return v.length % 4 === 0 && BASE64.test(v);
    default:
      return undefined;
  }
}

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Validates a value (the whole object at the root) against a CRD schema node. */
export function validateAgainstSchema(value: unknown, s: CrdSchema, path: string, errs: FieldError[]): void {
  const where = path === '' ? '' : path;
  const label = where === '' ? '.' : where;
  if (value === null || value === undefined) {
    if (value === null && !s.nullable && s.type !== undefined)
      errs.push(fieldErr.typeInvalid(where, 'null', `${label} in body must be of type ${s.type}: "null"`));
    return;
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  if (intOrString) {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))))
      errs.push(
        fieldErr.typeInvalid(
          where,
          typeName(value),
          `${label} in body must be of type integer,string: "${typeName(value)}"`,
        ),
      );
  } else if (s.type !== undefined && !matchesType(value, s.type)) {
    errs.push(
      fieldErr.typeInvalid(
        where,
        typeName(value),
        `${label} in body must be of type ${s.type}: "${typeName(value)}"`,
      ),
    );
    return;
  }
  if (s.enum && s.enum.length > 0 && !s.enum.some((e) => jsonEqual(e, value))) {
    const supported = s.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
    errs.push(fieldErr.notSupported(where, value, supported));
  }
  if (typeof value === 'number') {
    if (s.maximum !== undefined) {
      const bad = s.exclusiveMaximum ? value >= s.maximum : value > s.maximum;
      if (bad)
        errs.push(
          fieldErr.invalid(
            where,
            value,
            `${label} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${num(s.maximum)}`,
          ),
        );
    }
    if (s.minimum !== undefined) {
      const bad = s.exclusiveMinimum ? value <= s.minimum : value < s.minimum;
      if (bad)
        errs.push(
          fieldErr.invalid(
            where,
            value,
            `${label} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${num(s.minimum)}`,
          ),
        );
    }
    if (s.multipleOf !== undefined && s.multipleOf > 0) {
      const q = value / s.multipleOf;
      if (Math.abs(q - Math.round(q)) > 1e-9)
        errs.push(
          fieldErr.invalid(where, value, `${label} in body should be a multiple of ${num(s.multipleOf)}`),
        );
    }
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (s.maxLength !== undefined && length > s.maxLength)
      errs.push(fieldErr.tooLong(where, value, s.maxLength));
    if (s.minLength !== undefined && length < s.minLength)
      errs.push(
        fieldErr.invalid(where, value, `${label} in body should be at least ${s.minLength} chars long`),
      );
    if (s.pattern !== undefined) {
      let re: RegExp | undefined;
      try {
        re = new RegExp(s.pattern, 'u');
      } catch {
        re = undefined;
      }
      if (re && !re.test(value))
        errs.push(fieldErr.invalid(where, value, `${label} in body should match '${s.pattern}'`));
    }
    if (s.format !== undefined && !intOrString && formatOk(s.format, value) === false)
      errs.push(
        fieldErr.typeInvalid(
          where,
          value,
          `${label} in body must be of type ${s.format}: ${JSON.stringify(value)}`,
        ),
      );
  }
  if (Array.isArray(value)) {
    if (s.items) value.forEach((item, i) => validateAgainstSchema(item, s.items!, `${where}[${i}]`, errs));
    if (s.minItems !== undefined && value.length < s.minItems)
      errs.push(
        fieldErr.invalid(where, value.length, `${label} in body should have at least ${s.minItems} items`),
      );
    if (s.maxItems !== undefined && value.length > s.maxItems)
      errs.push(fieldErr.tooMany(where, value.length, s.maxItems));
    const listType = s['x-kubernetes-list-type'];
    if (s.uniqueItems || listType === 'set') {
      const items: unknown[] = value;
      const dup = items.find((x, i) => items.findIndex((y) => jsonEqual(x, y)) !== i);
      if (dup !== undefined) {
        if (listType === 'set') errs.push(fieldErr.duplicate(`${where}[${items.indexOf(dup)}]`, dup));
        else errs.push(fieldErr.invalid(where, value, `${label} in body shouldn't contain duplicates`));
      }
    }
  }
  if (isPlainObject(value)) {
    for (const r of s.required ?? []) if (!(r in value)) errs.push(fieldErr.required(child(where, r), ''));
    const count = Object.keys(value).length;
    if (s.maxProperties !== undefined && count > s.maxProperties)
      errs.push(fieldErr.tooMany(where, count, s.maxProperties));
    if (s.minProperties !== undefined && count < s.minProperties)
      errs.push(
        fieldErr.invalid(where, count, `${label} in body should have at least ${s.minProperties} properties`),
      );
    for (const [k, v] of Object.entries(value)) {
      const ps = s.properties?.[k];
      if (ps) validateAgainstSchema(v, ps, child(where, k), errs);
      else if (isPlainObject(s.additionalProperties))
        validateAgainstSchema(v, s.additionalProperties, child(where, k), errs);
    }
  }
  for (const sub of s.allOf ?? []) validateAgainstSchema(value, sub, path, errs);
  if (s.anyOf?.length) {
    const ok = s.anyOf.some((sub) => {
      const e: FieldError[] = [];
      validateAgainstSchema(value, sub, path, e);
      return e.length === 0;
    });
    if (!ok)
      errs.push(
        fieldErr.invalid(where, value, `${label} in body must be valid against any of the listed schemas`),
      );
  }
  if (s.oneOf?.length) {
    const n = s.oneOf.filter((sub) => {
      const e: FieldError[] = [];
      validateAgainstSchema(value, sub, path, e);
      return e.length === 0;
    }).length;
    if (n !== 1)
      errs.push(
        fieldErr.invalid(where, value, `${label} in body must validate one and only one schema (oneOf)`),
      );
  }
  if (s.not) {
    const e: FieldError[] = [];
    validateAgainstSchema(value, s.not, path, e);
    if (e.length === 0)
      errs.push(fieldErr.invalid(where, value, `${label} in body must not validate the schema (not)`));
  }
}

/**
 * Validates a custom resource: metadata, apiVersion and kind are the API server's; everything else
 * is checked against the schema.
 */
export function validateCustomResource(
  obj: Record<string, unknown>,
  schema: CrdSchema | undefined,
): FieldError[] {
  if (!schema) return [];
  const errs: FieldError[] = [];
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = obj;
  const rootSchema: CrdSchema = { ...schema, properties: { ...(schema.properties ?? {}) } };
  delete rootSchema.properties!.metadata;
  delete rootSchema.properties!.apiVersion;
  delete rootSchema.properties!.kind;
  rootSchema.required = (schema.required ?? []).filter(
    (r) => r !== 'metadata' && r !== 'apiVersion' && r !== 'kind',
  );
  validateAgainstSchema(rest, rootSchema, '', errs);
  return errs;
}

/**
 * Applies the schema's defaults in place (a missing property with a default gets it; defaults of
 * nested properties apply once their parent exists) and drops nulls the schema does not allow,
 * as upstream's structural defaulting does.
 */
export function applyDefaults(value: unknown, s: CrdSchema): void {
  if (Array.isArray(value)) {
    if (s.items) for (const item of value) applyDefaults(item, s.items);
    return;
  }
  if (!isPlainObject(value)) return;
  if (s.properties) {
    for (const [k, ps] of Object.entries(s.properties)) {
      if (value[k] === null && !ps.nullable && ps.default === undefined) delete value[k];
      else if ((value[k] === undefined || (value[k] === null && !ps.nullable)) && ps.default !== undefined)
        value[k] = structuredClone(ps.default);
      if (value[k] !== undefined) applyDefaults(value[k], ps);
    }
  } else if (isPlainObject(s.additionalProperties)) {
    for (const v of Object.values(value)) applyDefaults(v, s.additionalProperties);
  }
}
