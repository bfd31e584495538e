// Checks that a field kept its value across an update, as upstream's ValidateImmutableField.
import { fieldErr, type FieldError } from '../errors.js';
import { isPlainObject } from '../meta.js';

export const FIELD_IMMUTABLE_ERROR_MSG = 'field is immutable';

/**
 * Whether a JSON value counts as "unset". Upstream compares Go structs, where a missing field, a
 * null, an empty string, an empty list and an empty map all decode to the same zero value of a
 * non-pointer field; comparing JSON we must treat them alike too, or an update that merely spells
 * an empty value differently would be refused. Numbers and booleans are not folded, because
 * pointer fields (replicas: 0 versus unset) do tell them apart.
 */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isPlainObject(v)) return Object.keys(v).length === 0;
  return false;
}

/** Deep equality of JSON values with upstream's semantic leniency about empty values. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => semanticEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!semanticEqual(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

/** `path: Invalid value: <new>: field is immutable` when the value changed. */
export function validateImmutableField(newValue: unknown, oldValue: unknown, path: string): FieldError[] {
  return semanticEqual(newValue, oldValue)
    ? []
    : [fieldErr.invalid(path, newValue, FIELD_IMMUTABLE_ERROR_MSG)];
}

/** Reads a dotted path ("spec.roleRef") from an object. */
export function valueAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Checks several dotted paths at once: each must be unchanged between old and new. */
export function validateImmutableFields(
  newObj: unknown,
  oldObj: unknown,
  paths: readonly string[],
): FieldError[] {
  return paths.flatMap((p) => validateImmutableField(valueAt(newObj, p), valueAt(oldObj, p), p));
}
