import { labelSelectorMatches } from '../labels.js';
// Small helpers shared by the workload kinds: reading loosely typed JSON objects, label selectors
// in their string forms, the name/label checks that spec validation needs, and table cell helpers.
import { fieldErr, type FieldError } from '../errors.js';
import { isPlainObject, type KubeObject } from '../meta.js';
import type { TableColumn, CellValue } from '../types.js';
import { formatAge, humanDuration } from './age.js';

export type Obj = Record<string, unknown>;

export function rec(v: unknown): Obj | undefined {
  return isPlainObject(v) ? v : undefined;
}
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
export function recs(v: unknown): Obj[] {
  return arr(v).map((x) => rec(x) ?? {});
}
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const r = rec(v);
  if (!r) return out;
  for (const [k, val] of Object.entries(r)) out[k] = typeof val === 'string' ? val : String(val);
  return out;
}
/** The nested object at `key`, created when absent. */
export function child(o: Obj, key: string): Obj {
  const existing = rec(o[key]);
  if (existing) return existing;
  const created: Obj = {};
  o[key] = created;
  return created;
}
export function get(o: unknown, ...path: string[]): unknown {
  let cur: unknown = o;
  for (const p of path) {
    const r = rec(cur);
    if (!r) return undefined;
    cur = r[p];
  }
  return cur;
}
export function setDefault(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}
export function spec(obj: KubeObject): Obj {
  return rec(obj.spec) ?? {};
}
export function status(obj: KubeObject): Obj {
  return rec(obj.status) ?? {};
}
export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  const r = rec(v);
  if (!r) return v;
  const out: Obj = {};
  for (const k of Object.keys(r).sort()) if (r[k] !== undefined) out[k] = canonical(r[k]);
  return out;
}
export function clone<T>(v: T): T {
  return structuredClone(v);
}

// ---- label selectors ----

/** labels.FormatLabels: "a=b,c=d" sorted by key, "<none>" when empty. */
export function formatLabels(labels: unknown): string {
  const s = labelsString(strMap(labels));
  return s === '' ? '<none>' : s;
}
/** labels.SelectorFromSet(set).String(): "a=b,c=d" sorted by key ("" when empty). */
export function labelsString(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k] ?? ''}`)
    .join(',');
}
/** metav1.LabelSelectorAsSelector(sel).String(); "" for an empty or absent selector. */
export function selectorString(sel: unknown): string {
  const s = rec(sel);
  if (!s) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(strMap(s.matchLabels))) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of recs(s.matchExpressions)) {
    const key = str(e.key);
    const values = arr(e.values).map(String).sort();
    switch (str(e.operator)) {
      case 'In':
        reqs.push({ key, text: `${key} in (${values.join(',')})` });
        break;
      case 'NotIn':
        reqs.push({ key, text: `${key} notin (${values.join(',')})` });
        break;
      case 'Exists':
        reqs.push({ key, text: key });
        break;
      case 'DoesNotExist':
        reqs.push({ key, text: `!${key}` });
        break;
      default:
        break;
    }
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}
/** metav1.FormatLabelSelector: the selector string, "<none>" when empty. */
export function formatLabelSelector(sel: unknown): string {
  const s = selectorString(sel);
  return s === '' ? '<none>' : s;
}
/** Whether a label selector (matchLabels + matchExpressions) selects the given labels. */
export function selectorMatches(sel: unknown, labels: Record<string, string>): boolean {
  return labelSelectorMatches(rec(sel), labels);
}
export function isEmptySelector(sel: unknown): boolean {
  const s = rec(sel);
  if (!s) return true;
  return Object.keys(rec(s.matchLabels) ?? {}).length === 0 && arr(s.matchExpressions).length === 0;
}

// ---- names and labels (pkg/util/validation's checks, with upstream's sentences) ----

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(v)) errs.push(DNS1123_LABEL_MSG);
  return errs;
}
export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(v)) errs.push(DNS1123_SUBDOMAIN_MSG);
  return errs;
}
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  } else {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED_NAME.test(name)) errs.push(QUALIFIED_NAME_MSG);
  return errs;
}
export function isLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(v)) errs.push(LABEL_VALUE_MSG);
  return errs;
}
/** IsValidPortName (IANA_SVC_NAME). */
export function isValidPortName(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(v))
    errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (v.includes('--')) errs.push('must not contain consecutive hyphens');
  if (/[a-z]/.test(v) === false) errs.push('must contain at least one letter (a-z)');
  if (v.startsWith('-') || v.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}
export const PORT_RANGE_MSG = 'must be between 1 and 65535, inclusive';
export function isValidPortNum(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}
export function isValidIP(v: string): boolean {
  const v4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  if (v4.test(v)) return true;
  if (!v.includes(':')) return false;
  // IPv6: at most one '::', hex groups of up to 4 digits, optional trailing IPv4.
  if (!/^[0-9a-fA-F:.]+$/.test(v)) return false;
  const dbl = v.split('::');
  if (dbl.length > 2) return false;
  const groups = (s: string): string[] | undefined => (s === '' ? [] : s.split(':'));
  const head = groups(dbl[0] ?? '') ?? [];
  const tail = dbl.length === 2 ? (groups(dbl[1] ?? '') ?? []) : [];
  const all = [...head, ...tail];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i] ?? '';
    if (i === all.length - 1 && g.includes('.')) {
      if (!v4.test(g)) return false;
      count += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) count += 1;
    else return false;
  }
  return dbl.length === 2 ? count < 8 : count === 8;
}
export const IP_MSG = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}
export const NONNEGATIVE_MSG = 'must be greater than or equal to 0';

export function validateNonnegative(v: unknown, path: string, errs: FieldError[]): void {
  if (isInt(v) && v < 0) errs.push(fieldErr.invalid(path, v, NONNEGATIVE_MSG));
}
export function validatePositive(v: unknown, path: string, errs: FieldError[]): void {
  if (isInt(v) && v <= 0) errs.push(fieldErr.invalid(path, v, 'must be greater than zero'));
}

export function validateLabels(labels: unknown, path: string, errs: FieldError[]): void {
  for (const [k, v] of Object.entries(strMap(labels))) {
    for (const m of isQualifiedName(k)) errs.push(fieldErr.invalid(path, k, m));
    for (const m of isLabelValue(v)) errs.push(fieldErr.invalid(path, v, m));
  }
}
export function validateAnnotations(annotations: unknown, path: string, errs: FieldError[]): void {
  let total = 0;
  for (const [k, v] of Object.entries(strMap(annotations))) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fieldErr.invalid(path, k, m));
    total += k.length + v.length;
  }
  if (total > 256 * 1024) errs.push(fieldErr.tooLong(path, '', 256 * 1024));
}

/** metav1validation.ValidateLabelSelector. */
export function validateLabelSelector(sel: unknown, path: string, errs: FieldError[]): void {
  const s = rec(sel);
  if (!s) return;
  recs(s.matchExpressions).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const op = str(e.operator);
    const values = arr(e.values);
    switch (op) {
      case 'In':
      case 'NotIn':
        if (values.length === 0)
          errs.push(fieldErr.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0)
          errs.push(
            fieldErr.forbidden(
              `${p}.values`,
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
          );
        break;
      default:
        errs.push(fieldErr.invalid(`${p}.operator`, op, 'not a valid selector operator'));
    }
    for (const m of isQualifiedName(str(e.key))) errs.push(fieldErr.invalid(`${p}.key`, str(e.key), m));
  });
  const ml = strMap(s.matchLabels);
  for (const [k, v] of Object.entries(ml)) {
    for (const m of isQualifiedName(k)) errs.push(fieldErr.invalid(`${path}.matchLabels`, k, m));
    for (const m of isLabelValue(v)) errs.push(fieldErr.invalid(`${path}.matchLabels`, v, m));
  }
}

/** An int-or-string as upstream prints it (intstr.String()). */
export function intOrStringText(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  return '';
}

/** ValidatePositiveIntOrPercent (+ IsNotMoreThan100Percent when asked). */
export function validateIntOrPercent(v: unknown, path: string, errs: FieldError[], max100 = false): void {
  if (v === undefined || v === null) return;
  if (typeof v === 'string') {
    if (!/^[0-9]+%$/.test(v)) {
      errs.push(
        fieldErr.invalid(
          path,
          v,
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      );
      return;
    }
    if (max100 && Number.parseInt(v, 10) > 100)
      errs.push(fieldErr.invalid(path, v, 'must not be greater than 100%'));
  } else if (typeof v === 'number') {
    validateNonnegative(v, path, errs);
  } else {
    errs.push(fieldErr.invalid(path, v, "must be an integer or percentage (e.g '5%')"));
  }
}

/** The value of an int-or-percent against a total, rounding up or down as upstream's GetScaledValueFromIntOrPercent. */
export function scaledIntOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.endsWith('%')) {
    const pct = Number.parseInt(v.slice(0, -1), 10);
    const raw = (pct * total) / 100;
    return roundUp ? Math.ceil(raw) : Math.floor(raw);
  }
  return 0;
}

// ---- table helpers ----

export { humanDuration };

/** translateTimestampSince: "<unknown>" for a missing timestamp, else the human duration since it. */
export function since(timestamp: unknown, now: Date): string {
  return formatAge(typeof timestamp === 'string' ? timestamp : undefined, now);
}

export const NAME_COLUMN: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  priority: 0,
  cell: (obj) => obj.metadata.name ?? '',
};
export const AGE_COLUMN: TableColumn = {
  name: 'Age',
  type: 'string',
  description: 'Time since the object was created.',
  priority: 0,
  cell: (obj, now) => since(obj.metadata.creationTimestamp, now),
};

export function column(
  name: string,
  type: TableColumn['type'],
  description: string,
  cell: (obj: KubeObject, now: Date) => CellValue,
  priority = 0,
): TableColumn {
  return { name, type, description, priority, cell };
}

/** The Containers / Images wide columns of the controllers, read from a pod template spec. */
export function containerColumns(templateSpec: (obj: KubeObject) => unknown): TableColumn[] {
  return [
    column(
      'Containers',
      'string',
      'Names of each container in the template.',
      (o) =>
        recs(get(templateSpec(o), 'containers'))
          .map((c) => str(c.name))
          .join(','),
      1,
    ),
    column(
      'Images',
      'string',
      'Images referenced by each container in the template.',
      (o) =>
        recs(get(templateSpec(o), 'containers'))
          .map((c) => str(c.image))
          .join(','),
      1,
    ),
  ];
}

export function conditionTrue(conditions: unknown, type: string): boolean {
  return recs(conditions).some((c) => c.type === type && c.status === 'True');
}
