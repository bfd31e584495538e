// core/v1 LimitRange.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { canonicalQuantity, compareQuantity, formatQuantity, type Quantity } from '../quantity.js';
import type { ResourceDescription } from '../types.js';
import { validateQuantity } from './pod-spec.js';
import { NAME_COLUMN, clone, column, isQualifiedName, rec, recs, spec, str, type Obj } from './util.js';

const LIST_KEYS = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const;

export function defaultLimitRange(obj: KubeObject): void {
  for (const item of recs(spec(obj).limits)) {
    for (const k of LIST_KEYS) {
      const list = rec(item[k]);
      if (list) for (const r of Object.keys(list)) list[r] = canonicalQuantity(list[r]);
    }
    if (item.type !== 'Container') continue;
    const def: Obj = rec(item.default) ?? {};
    const defReq: Obj = rec(item.defaultRequest) ?? {};
    for (const [k, v] of Object.entries(rec(item.max) ?? {})) if (def[k] === undefined) def[k] = clone(v);
    for (const [k, v] of Object.entries(def)) if (defReq[k] === undefined) defReq[k] = clone(v);
    for (const [k, v] of Object.entries(rec(item.min) ?? {}))
      if (defReq[k] === undefined) defReq[k] = clone(v);
    if (Object.keys(def).length > 0) item.default = def;
    if (Object.keys(defReq).length > 0) item.defaultRequest = defReq;
  }
}

export function validateLimitRange(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  recs(spec(obj).limits).forEach((item, i) => {
    const ip = `spec.limits[${i}]`;
    const type = str(item.type);
    if (type === '') errs.push(fieldErr.required(`${ip}.type`));
    const parsed: Record<string, Map<string, Quantity>> = {};
    const keys = new Set<string>();
    for (const k of LIST_KEYS) {
      parsed[k] = new Map();
      for (const [r, v] of Object.entries(rec(item[k]) ?? {})) {
        for (const m of isQualifiedName(r)) errs.push(fieldErr.invalid(`${ip}.${k}[${r}]`, r, m));
        const q = validateQuantity(v, `${ip}.${k}[${r}]`, errs);
        if (!q) continue;
        if (q.nanos < 0n)
          errs.push(
            fieldErr.invalid(`${ip}.${k}[${r}]`, formatQuantity(q), 'must be greater than or equal to 0'),
          );
        parsed[k]?.set(r, q);
        keys.add(r);
      }
    }
    if (type === 'Pod') {
      if (Object.keys(rec(item.default) ?? {}).length > 0)
        errs.push(fieldErr.forbidden(`${ip}.default`, "may not be specified when `type` is 'Pod'"));
      if (Object.keys(rec(item.defaultRequest) ?? {}).length > 0)
        errs.push(fieldErr.forbidden(`${ip}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    }
    if (type === 'PersistentVolumeClaim') {
      const min = parsed.min?.get('storage');
      const max = parsed.max?.get('storage');
      if (!min && !max)
        errs.push(
          fieldErr.required(
            `${ip}.limits`,
            'either minimum or maximum storage value is required, but neither was provided',
          ),
        );
    }
    const f = (q: Quantity): string => formatQuantity(q);
    for (const k of keys) {
      const min = parsed.min?.get(k);
      const max = parsed.max?.get(k);
      const def = parsed.default?.get(k);
      const defReq = parsed.defaultRequest?.get(k);
      const ratio = parsed.maxLimitRequestRatio?.get(k);
      if (min && max && compareQuantity(min, max) > 0)
        errs.push(
          fieldErr.invalid(
            `${ip}.min[${k}]`,
            f(min),
            `min value ${f(min)} is greater than max value ${f(max)}`,
          ),
        );
      if (defReq && min && compareQuantity(min, defReq) > 0)
        errs.push(
          fieldErr.invalid(
            `${ip}.defaultRequest[${k}]`,
            f(defReq),
            `min value ${f(min)} is greater than default request value ${f(defReq)}`,
          ),
        );
      if (defReq && max && compareQuantity(defReq, max) > 0)
        errs.push(
          fieldErr.invalid(
            `${ip}.defaultRequest[${k}]`,
            f(defReq),
            `default request value ${f(defReq)} is greater than max value ${f(max)}`,
          ),
        );
      if (defReq && def && compareQuantity(defReq, def) > 0)
        errs.push(
          fieldErr.invalid(
            `${ip}.defaultRequest[${k}]`,
            f(defReq),
            `default request value ${f(defReq)} is greater than default limit value ${f(def)}`,
          ),
        );
      if (def && min && compareQuantity(min, def) > 0)
        errs.push(
          fieldErr.invalid(
            `${ip}.default[${k}]`,
            f(min),
            `min value ${f(min)} is greater than default value ${f(def)}`,
          ),
        );
      if (def && max && compareQuantity(def, max) > 0)
        errs.push(
          fieldErr.invalid(
            `${ip}.default[${k}]`,
            f(max),
            `default value ${f(def)} is greater than max value ${f(max)}`,
          ),
        );
      if (ratio && ratio.nanos < 1_000_000_000n)
        errs.push(
          fieldErr.invalid(`${ip}.maxLimitRequestRatio[${k}]`, f(ratio), `ratio ${f(ratio)} is less than 1`),
        );
    }
  });
  return errs;
}

export const limitRangeResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  singular: 'limitrange',
  shortNames: ['limits'],
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.LimitRange',
  tableColumns: [
    NAME_COLUMN,
    column('Created At', 'date', 'Time when the object was created.', (o) => {
      const t = o.metadata.creationTimestamp;
      if (typeof t !== 'string') return '';
      const d = new Date(t);
      return Number.isNaN(d.getTime()) ? t : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    }),
  ],
  strategy: {
    default: defaultLimitRange,
    validate: validateLimitRange,
    validateUpdate: (obj) => validateLimitRange(obj),
  },
};
