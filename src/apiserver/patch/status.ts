// The few Status shapes patching produces that the shared constructors do not cover.
import { StatusError } from '../../api/errors.js';
import type { StatusCause } from '../../api/errors.js';
import type { JsonValue } from '../../api/meta.js';
import { isPlainObject } from '../../api/meta.js';

/**
 * 422 as upstream's NewGenericServerResponse builds it: a fixed message and empty details. The
 * underlying reason (which upstream drops) is kept as the error's cause for logs and tests.
 */
export function genericUnprocessable(detail: string): StatusError {
  const err = new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server rejected our request due to an error in our request',
    reason: 'Invalid',
    details: {},
    code: 422,
  });
  err.cause = new Error(detail);
  return err;
}

/** An error that is not a Status upstream: the API server answers 500 with its text and no reason. */
export function unknownError(message: string, code = 500): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    code,
  });
}

export function requestEntityTooLargeMessage(message: string): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `Request entity too large: ${message}`,
    reason: 'RequestEntityTooLarge',
    code: 413,
  });
}

/** 409 from a server-side apply conflict (upstream's NewApplyConflict). */
export function applyConflict(message: string, causes: StatusCause[]): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Conflict',
    details: { causes },
    code: 409,
  });
}

/** A value as Go's %v prints an interface{} decoded from JSON (maps with sorted keys). */
export function goFormat(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goFormat((v as Record<string, JsonValue>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** The Go type name of a decoded JSON value, as reflect prints it. */
export function goTypeName(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return '%!s(<nil>)';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** The JSON type name Go's decoder reports ("cannot unmarshal object into ..."). */
export function jsonTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** JSON with object keys sorted, as Go marshals maps. */
export function sortedJson(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, JsonValue>)[k]!)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
