// core/v1 ResourceQuota.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { canonicalQuantity, formatQuantity, tryParseQuantity } from '../quantity.js';
import type { ResourceDescription } from '../types.js';
import { validateQuantity } from './pod-spec.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  arr,
  clone,
  column,
  isQualifiedName,
  rec,
  recs,
  spec,
  status,
  str,
} from './util.js';

const SCOPES = [
  'BestEffort',
  'CrossNamespacePodAffinity',
  'NotBestEffort',
  'NotTerminating',
  'PriorityClass',
  'Terminating',
  'VolumeAttributesClass',
];

export function defaultResourceQuota(obj: KubeObject): void {
  for (const list of [rec(spec(obj).hard), rec(status(obj).hard), rec(status(obj).used)]) {
    if (list) for (const k of Object.keys(list)) list[k] = canonicalQuantity(list[k]);
  }
}

export function validateResourceQuota(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  for (const [k, v] of Object.entries(rec(s.hard) ?? {})) {
    const p = `spec.hard[${k}]`;
    for (const m of isQualifiedName(k)) errs.push(fieldErr.invalid(p, k, m));
    const q = validateQuantity(v, p, errs);
    if (q && q.nanos < 0n)
      errs.push(fieldErr.invalid(p, formatQuantity(q), 'must be greater than or equal to 0'));
    if (
      q &&
      (k === 'pods' || k === 'services' || k === 'count' || k.startsWith('count/')) &&
      q.nanos % 1_000_000_000n !== 0n
    )
      errs.push(fieldErr.invalid(p, formatQuantity(q), 'must be an integer'));
  }
  arr(s.scopes).forEach((sc, i) => {
    if (!SCOPES.includes(String(sc))) errs.push(fieldErr.notSupported(`spec.scopes[${i}]`, sc, SCOPES));
  });
  const sel = rec(s.scopeSelector);
  if (sel)
    recs(sel.matchExpressions).forEach((e, i) => {
      const p = `spec.scopeSelector.matchExpressions[${i}]`;
      if (!SCOPES.includes(str(e.scopeName)))
        errs.push(fieldErr.notSupported(`${p}.scopeName`, e.scopeName ?? '', SCOPES));
      if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(str(e.operator)))
        errs.push(
          fieldErr.notSupported(`${p}.operator`, e.operator ?? '', ['DoesNotExist', 'Exists', 'In', 'NotIn']),
        );
    });
  return errs;
}

function usageColumns(o: KubeObject): { request: string; limit: string } {
  const hard = rec(status(o).hard) ?? {};
  const used = rec(status(o).used) ?? {};
  const names = Object.keys(rec(spec(o).hard) ?? {}).sort();
  const request: string[] = [];
  const limit: string[] = [];
  const q = (v: unknown): string => {
    const p = tryParseQuantity(v);
    return p ? formatQuantity(p) : '0';
  };
  for (const n of names) {
    const text = `${n}: ${q(used[n])}/${q(hard[n])}`;
    const pieces = n.split('.');
    if (pieces.length > 1 && pieces[0] === 'limits') limit.push(text);
    else request.push(text);
  }
  return { request: request.join(', '), limit: limit.join(', ') };
}

export const resourceQuotaResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  shortNames: ['quota'],
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.ResourceQuota',
  subresources: { status: true },
  tableColumns: [
    NAME_COLUMN,
    AGE_COLUMN,
    column(
      'Request',
      'string',
      'Request represents a minimum amount of cpu/memory that a container may consume.',
      (o) => usageColumns(o).request,
    ),
    column(
      'Limit',
      'string',
      'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
      (o) => usageColumns(o).limit,
    ),
  ],
  strategy: {
    default: defaultResourceQuota,
    prepareForCreate(obj) {
      obj.status = {};
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
    },
    validate: validateResourceQuota,
    validateUpdate: (obj) => validateResourceQuota(obj),
  },
};
