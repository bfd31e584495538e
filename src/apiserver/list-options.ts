// Query options of reads and writes, parsed and checked with upstream's rules and messages.
import { badRequest, invalid, fieldErr, type FieldError } from '../api/errors.js';
import type { ResourceDescription } from '../api/types.js';
import type { KubeObject } from '../api/meta.js';
import {
  EVERYTHING,
  EVERYTHING_FIELDS,
  parseFieldSelector,
  parseLabelSelector,
  SelectorParseError,
  type FieldSelector,
  type LabelSelector,
} from './selectors.js';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export interface ListOptions {
  readonly labelSelector: LabelSelector;
  readonly fieldSelector: FieldSelector;
  readonly limit: number;
  readonly continueToken?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  readonly timeoutSeconds?: number;
  readonly allowWatchBookmarks: boolean;
  readonly sendInitialEvents?: boolean;
}

function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return v === 'true' || v === '1' || v === 'True' || v === 'TRUE' || v === 't' || v === 'T';
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v))
    throw badRequest(
      `invalid value for ${name}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`,
    );
  return Number(v);
}

/** The value of a field selector's field for one object. */
export function fieldValue(desc: ResourceDescription, obj: KubeObject, field: string): string | undefined {
  if (field === 'metadata.name') return obj.metadata.name;
  if (field === 'metadata.namespace') return obj.metadata.namespace ?? '';
  const fn = desc.fieldSelectors?.[field];
  return fn ? fn(obj) : undefined;
}

export function supportedField(desc: ResourceDescription): (field: string) => boolean {
  return (f) => f === 'metadata.name' || f === 'metadata.namespace' || desc.fieldSelectors?.[f] !== undefined;
}

export function parseListOptions(desc: ResourceDescription, q: URLSearchParams): ListOptions {
  let labelSelector = EVERYTHING;
  let fieldSelector = EVERYTHING_FIELDS;
  try {
    const ls = q.get('labelSelector');
    if (ls) labelSelector = parseLabelSelector(ls);
    const fs = q.get('fieldSelector');
    if (fs) fieldSelector = parseFieldSelector(fs, supportedField(desc));
  } catch (err) {
    if (err instanceof SelectorParseError) throw badRequest(err.message);
    throw err;
  }
  const limit = intParam(q, 'limit') ?? 0;
  const continueToken = q.get('continue') || undefined;
  const resourceVersion = q.get('resourceVersion') ?? undefined;
  const matchRaw = q.get('resourceVersionMatch') || undefined;
  const errs: FieldError[] = [];
  if (matchRaw !== undefined && matchRaw !== 'NotOlderThan' && matchRaw !== 'Exact')
    errs.push(fieldErr.notSupported('resourceVersionMatch', matchRaw, ['Exact', 'NotOlderThan', '']));
  const isWatch = boolParam(q, 'watch') === true;
  if (matchRaw !== undefined && !isWatch) {
    if (!resourceVersion)
      errs.push(
        fieldErr.forbidden(
          'resourceVersionMatch',
          'resourceVersionMatch is forbidden unless resourceVersion is provided',
        ),
      );
    if (continueToken)
      errs.push(
        fieldErr.forbidden(
          'resourceVersionMatch',
          'resourceVersionMatch is forbidden when continue is provided',
        ),
      );
    if (matchRaw === 'Exact' && resourceVersion === '0')
      errs.push(
        fieldErr.forbidden(
          'resourceVersionMatch',
          'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
        ),
      );
  }
  const sendInitialEvents = boolParam(q, 'sendInitialEvents');
  if (sendInitialEvents !== undefined) {
    if (!isWatch)
      errs.push(fieldErr.forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
    else if (matchRaw !== 'NotOlderThan')
      errs.push(
        fieldErr.forbidden(
          'resourceVersionMatch',
          'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
        ),
      );
  }
  if (errs.length) throw invalid('ListOptions', 'meta.k8s.io', '', errs);
  if (continueToken && resourceVersion && resourceVersion !== '0')
    throw badRequest('specifying resource version is not allowed when using continue');
  if (limit < 0) throw badRequest('limit must be a non-negative integer');
  return {
    labelSelector,
    fieldSelector,
    limit,
    continueToken,
    resourceVersion: resourceVersion === null ? undefined : resourceVersion,
    resourceVersionMatch: matchRaw as ListOptions['resourceVersionMatch'],
    timeoutSeconds: intParam(q, 'timeoutSeconds'),
    allowWatchBookmarks: boolParam(q, 'allowWatchBookmarks') === true,
    sendInitialEvents,
  };
}

export function parseDryRun(q: URLSearchParams, optionsKind: string): boolean {
  const values = q.getAll('dryRun');
  for (const v of values)
    if (v !== 'All')
      throw invalid(optionsKind, 'meta.k8s.io', '', [fieldErr.notSupported('dryRun', values, ['All'])]);
  return values.length > 0;
}

export function parseFieldValidation(q: URLSearchParams, optionsKind: string): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Ignore' || v === 'Warn' || v === 'Strict') return v;
  if (v.toLowerCase() === 'strict') return 'Strict';
  if (v.toLowerCase() === 'warn') return 'Warn';
  if (v.toLowerCase() === 'ignore') return 'Ignore';
  throw invalid(optionsKind, 'meta.k8s.io', '', [
    fieldErr.notSupported('fieldValidation', v, ['Ignore', 'Strict', 'Warn']),
  ]);
}

export function parseResourceVersionNumber(rv: string): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

// Continue tokens: base64url of {"v":"meta.k8s.io/v1","rv":N,"start":"KEY\u0000"}, as upstream encodes them.
export function encodeContinue(revision: number, lastKeySuffix: string): string {
  return Buffer.from(
    JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start: `${lastKeySuffix}\u0000` }),
  ).toString('base64url');
}

export function decodeContinue(token: string): { revision: number; after: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest(
      'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw badRequest('continue key is not valid: invalid token');
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (p.v !== 'meta.k8s.io/v1')
    throw badRequest('continue key is not valid: server does not recognize this encoded version');
  if (typeof p.rv !== 'number' || p.rv <= 0)
    throw badRequest(
      'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  if (typeof p.start !== 'string' || p.start.length === 0)
    throw badRequest('continue key is not valid: encoded start key empty');
  const start = p.start.endsWith('\u0000') ? p.start.slice(0, -1) : p.start;
  if (start.includes('..') || start.startsWith('/'))
    throw badRequest('continue key is not valid: key must be a relative path');
  return { revision: p.rv, after: start };
}
