// Errors in upstream's form: metav1.Status bodies with the reasons, messages and causes
// kube-apiserver produces (k8s.io/apimachinery/pkg/api/errors and pkg/util/validation/field),
// so that kubectl prints the same sentences.

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'ServerTimeout'
  | 'Timeout'
  | 'TooManyRequests'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'Expired'
  | 'ServiceUnavailable'
  | '';

export type FieldErrorType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError'
  | 'FieldValueTypeInvalid';

/** One validation failure at a field path such as `spec.template.spec.containers[0].name`. */
export interface FieldError {
  readonly type: FieldErrorType;
  readonly field: string;
  readonly badValue?: unknown;
  readonly detail?: string;
  /** NotSupported: the values that would have been accepted. */
  readonly supported?: readonly string[];
  /** TooLong / TooMany: the limit. */
  readonly limit?: number;
}

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** An error that the API server turns into a metav1.Status response as it is. */
export class StatusError extends Error {
  override readonly name = 'StatusError';
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? `status ${status.code}`);
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): StatusReason | undefined {
    return this.status.reason;
  }
}

function failure(code: number, reason: StatusReason, message: string, details?: StatusDetails): StatusError {
  const status: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
  if (details) status.details = details;
  return new StatusError(status);
}

/** The resource as upstream names it in messages: "pods", "deployments.apps". */
export interface QualifiedResource {
  readonly group: string;
  readonly resource: string;
}

export function qualifiedName(r: QualifiedResource): string {
  return r.group === '' ? r.resource : `${r.resource}.${r.group}`;
}

export function notFound(r: QualifiedResource, name: string): StatusError {
  const message = name === '' ? `${qualifiedName(r)} not found` : `${qualifiedName(r)} "${name}" not found`;
  return failure(404, 'NotFound', message, { name, group: r.group, kind: r.resource });
}

export function alreadyExists(r: QualifiedResource, name: string): StatusError {
  return failure(409, 'AlreadyExists', `${qualifiedName(r)} "${name}" already exists`, {
    name,
    group: r.group,
    kind: r.resource,
  });
}

export function conflict(r: QualifiedResource, name: string, cause: string): StatusError {
  return failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(r)} "${name}": ${cause}`,
    {
      name,
      group: r.group,
      kind: r.resource,
    },
  );
}

export const OPTIMISTIC_LOCK_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

export function gone(message: string): StatusError {
  return failure(410, 'Expired', message);
}

export function badRequest(message: string): StatusError {
  return failure(400, 'BadRequest', message);
}

export function unauthorized(message = 'Unauthorized'): StatusError {
  return failure(401, 'Unauthorized', message);
}

export function forbidden(r: QualifiedResource, name: string, reason: string): StatusError {
  const what = name === '' ? qualifiedName(r) : `${qualifiedName(r)} "${name}"`;
  return failure(403, 'Forbidden', `${what} is forbidden: ${reason}`, {
    name,
    group: r.group,
    kind: r.resource,
  });
}

export function methodNotSupported(r: QualifiedResource, action: string): StatusError {
  return failure(
    405,
    'MethodNotAllowed',
    `${action} is not supported on resources of kind "${qualifiedName(r)}"`,
    {
      group: r.group,
      kind: r.resource,
    },
  );
}

export function notAcceptable(message: string): StatusError {
  return failure(406, 'NotAcceptable', message);
}

const DEFAULT_ACCEPTED_MEDIA_TYPES = [
  'application/json',
  'application/yaml',
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

/** 415; `accepted` lists what the endpoint takes (custom resources take no strategic merge patch). */
export function unsupportedMediaType(
  contentType: string,
  accepted: readonly string[] = DEFAULT_ACCEPTED_MEDIA_TYPES,
): StatusError {
  return failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    { causes: [{ reason: 'UnsupportedMediaType', message: contentType }] },
  );
}

export function requestEntityTooLarge(limitBytes: number): StatusError {
  return failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
}

export function internalError(err: unknown): StatusError {
  const message = err instanceof Error ? err.message : String(err);
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
}

export function serviceUnavailable(message: string): StatusError {
  return failure(503, 'ServiceUnavailable', message);
}

export function tooManyRequests(message: string, retryAfterSeconds: number): StatusError {
  return failure(429, 'TooManyRequests', message, { retryAfterSeconds });
}

/**
 * A label map as a bad value: upstream prints it with Go's %#v, `map[string]string{"app":"nginx"}`,
 * which is what kubectl users see in selector-mismatch errors.
 */
export class GoStringMap {
  constructor(readonly map: Readonly<Record<string, string>>) {}
  toString(): string {
    const entries = Object.entries(this.map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[string]string{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(', ')}}`;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Go string as %#v prints it: quoted (JSON's quoting, which agrees for what labels can hold). */
const goQuote = (v: unknown): string => JSON.stringify(typeof v === 'string' ? v : '');

/** A []string as %#v prints it: `[]string(nil)` when absent. */
function goStringSlice(v: unknown): string {
  if (!Array.isArray(v)) return '[]string(nil)';
  return `[]string{${v.map(goQuote).join(', ')}}`;
}

/**
 * A label selector as a bad value: upstream's ValidateImmutableField prints a changed
 * *metav1.LabelSelector with Go's %#v, which is the text users meet when they change a
 * Deployment's selector:
 * `v1.LabelSelector{MatchLabels:map[string]string{"app":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`.
 */
export class GoLabelSelector {
  constructor(readonly selector: unknown) {}
  toString(): string {
    const sel = isRecord(this.selector) ? this.selector : {};
    const labels = isRecord(sel.matchLabels)
      ? new GoStringMap(
          Object.fromEntries(
            Object.entries(sel.matchLabels).map(([k, v]) => [k, typeof v === 'string' ? v : '']),
          ),
        ).toString()
      : 'map[string]string(nil)';
    const exprs = Array.isArray(sel.matchExpressions)
      ? `[]v1.LabelSelectorRequirement{${sel.matchExpressions
          .map((e: unknown) => {
            const r = isRecord(e) ? e : {};
            return `v1.LabelSelectorRequirement{Key:${goQuote(r.key)}, Operator:${goQuote(r.operator)}, Values:${goStringSlice(r.values)}}`;
          })
          .join(', ')}}`
      : '[]v1.LabelSelectorRequirement(nil)';
    return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}`;
  }
}

/** Formats a bad value the way upstream's field.Error does (strings quoted, numbers bare). */
export function formatBadValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof GoStringMap || value instanceof GoLabelSelector) return value.toString();
  return JSON.stringify(value);
}

/** The part of a field error after the path: "Required value", `Unsupported value: "x": supported values: ...`. */
export function fieldErrorBody(e: FieldError): string {
  const detail = e.detail ? `: ${e.detail}` : '';
  switch (e.type) {
    case 'FieldValueRequired':
      return `Required value${detail}`;
    case 'FieldValueForbidden':
      return `Forbidden${detail}`;
    case 'FieldValueInvalid':
      return `Invalid value: ${formatBadValue(e.badValue)}${detail}`;
    case 'FieldValueNotSupported': {
      const supported = e.supported?.length
        ? `: supported values: ${e.supported.map((s) => JSON.stringify(s)).join(', ')}`
        : '';
      return `Unsupported value: ${formatBadValue(e.badValue)}${supported}`;
    }
    case 'FieldValueDuplicate':
      return `Duplicate value: ${formatBadValue(e.badValue)}`;
    case 'FieldValueNotFound':
      return `Not found: ${formatBadValue(e.badValue)}`;
    case 'FieldValueTooLong':
      return `Too long: may not be more than ${e.limit ?? 0} bytes`;
    case 'FieldValueTooMany':
      return `Too many: ${formatBadValue(e.badValue)}: must have at most ${e.limit ?? 0} items`;
    case 'FieldValueTypeInvalid':
      return `Invalid value: ${formatBadValue(e.badValue)}${detail}`;
    case 'InternalError':
      return `Internal error${detail}`;
  }
}

export function fieldErrorMessage(e: FieldError): string {
  return e.field ? `${e.field}: ${fieldErrorBody(e)}` : fieldErrorBody(e);
}

/** 422 Invalid: `Pod "x" is invalid: [a: ..., b: ...]`, with one cause per field error. */
export function invalid(kind: string, group: string, name: string, errs: readonly FieldError[]): StatusError {
  const messages = errs.map(fieldErrorMessage);
  const joined = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
  const message = `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${joined}`;
  return failure(422, 'Invalid', message, {
    name,
    group,
    kind,
    causes: errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  });
}

// Field error constructors, named as upstream's field.Required, field.Invalid, ...
export const fieldErr = {
  required: (field: string, detail?: string): FieldError => ({ type: 'FieldValueRequired', field, detail }),
  invalid: (field: string, badValue: unknown, detail?: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    badValue,
    detail,
  }),
  notSupported: (field: string, badValue: unknown, supported: readonly string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    badValue,
    supported,
  }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  duplicate: (field: string, badValue: unknown): FieldError => ({
    type: 'FieldValueDuplicate',
    field,
    badValue,
  }),
  notFound: (field: string, badValue: unknown): FieldError => ({
    type: 'FieldValueNotFound',
    field,
    badValue,
  }),
  tooLong: (field: string, badValue: unknown, limit: number): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    badValue,
    limit,
  }),
  tooMany: (field: string, actual: number, limit: number): FieldError => ({
    type: 'FieldValueTooMany',
    field,
    badValue: actual,
    limit,
  }),
  typeInvalid: (field: string, badValue: unknown, detail: string): FieldError => ({
    type: 'FieldValueTypeInvalid',
    field,
    badValue,
    detail,
  }),
};
