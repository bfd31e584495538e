// Label selectors as the API understands them in `labelSelector=` query parameters, evaluated on
// the client side (listers filter cached objects with them; the test API server filters with them).
//
// Supported terms, joined by commas: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`, `a`, `!a`.

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: Set<string> }
  | { op: 'exists' | 'notexists'; key: string };

/** Splits on commas that are not inside parentheses. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

export function parseLabelSelector(selector: string): Requirement[] {
  const reqs: Requirement[] = [];
  for (const term of terms(selector)) {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term))) {
      const values = new Set(
        m[3]!
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== ''),
      );
      reqs.push({ op: m[2] === 'in' ? 'in' : 'notin', key: m[1]!, values });
    } else if ((m = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term))) {
      reqs.push({ op: 'neq', key: m[1]!, value: m[2]!.trim() });
    } else if ((m = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term))) {
      reqs.push({ op: 'eq', key: m[1]!, value: m[2]!.trim() });
    } else if ((m = /^!\s*(\S+)$/.exec(term))) {
      reqs.push({ op: 'notexists', key: m[1]! });
    } else if (/^\S+$/.test(term)) {
      reqs.push({ op: 'exists', key: term });
    } else {
      throw new Error(`unable to parse label selector term "${term}"`);
    }
  }
  return reqs;
}

function satisfies(labels: Readonly<Record<string, string>>, r: Requirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case 'eq':
      return has && v === r.value;
    case 'neq':
      return !has || v !== r.value;
    case 'in':
      return has && r.values.has(v ?? '');
    case 'notin':
      return !has || !r.values.has(v ?? '');
    case 'exists':
      return has;
    case 'notexists':
      return !has;
  }
}

/** A predicate over label maps; an empty selector matches everything. */
export function labelSelectorMatcher(
  selector: string | undefined,
): (labels: Readonly<Record<string, string>> | undefined) => boolean {
  if (!selector) return () => true;
  const reqs = parseLabelSelector(selector);
  return (labels) => reqs.every((r) => satisfies(labels ?? {}, r));
}

export function matchesLabelSelector(
  labels: Readonly<Record<string, string>> | undefined,
  selector: string | undefined,
): boolean {
  return labelSelectorMatcher(selector)(labels);
}

/** `{a: 'b', c: 'd'}` → `a=b,c=d`. */
export function selectorFromSet(set: Readonly<Record<string, string>>): string {
  return Object.entries(set)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
