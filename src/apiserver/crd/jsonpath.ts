// The simple JSONPath forms CRDs use for printer columns and scale paths: `.spec.cronSpec`,
// `.status.conditions[0].type`, `.metadata.labels['app.kubernetes.io/name']`,
// `.spec.items[*].name` and `.status.conditions[?(@.type=="Ready")].status`.
import { isPlainObject } from '../../api/meta.js';

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'all' }
  | { kind: 'filter'; field: string; value: string };

export function parseJsonPath(path: string): Step[] | undefined {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1).trim();
  if (p.startsWith('$')) p = p.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < p.length) {
    const c = p[i];
    if (c === '.') {
      i++;
      let name = '';
      while (i < p.length && p[i] !== '.' && p[i] !== '[') name += p[i++];
      if (name === '') return undefined;
      steps.push({ kind: 'field', name });
    } else if (c === '[') {
      const end = p.indexOf(']', i);
      if (end < 0) return undefined;
      const inner = p.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else {
        const m = /^\?\(@\.([\w.-]+)\s*==\s*['"]?([^'"]*)['"]?\)$/.exec(inner);
        if (!m) return undefined;
        steps.push({ kind: 'filter', field: m[1]!, value: m[2]! });
      }
    } else return undefined;
  }
  return steps;
}

/** Every value the path selects (missing keys select nothing). */
export function evalJsonPath(root: unknown, path: string): unknown[] {
  const steps = parseJsonPath(path);
  if (!steps) return [];
  let current: unknown[] = [root];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      switch (step.kind) {
        case 'field':
          if (isPlainObject(v) && v[step.name] !== undefined) next.push(v[step.name]);
          break;
        case 'index':
          if (Array.isArray(v)) {
            const at = step.index < 0 ? v.length + step.index : step.index;
            if (at >= 0 && at < v.length) next.push(v[at]);
          }
          break;
        case 'all':
          if (Array.isArray(v)) next.push(...(v as unknown[]));
          else if (isPlainObject(v)) next.push(...Object.values(v));
          break;
        case 'filter':
          if (Array.isArray(v))
            for (const item of v as unknown[]) {
              let f: unknown = item;
              for (const seg of step.field.split('.')) f = isPlainObject(f) ? f[seg] : undefined;
              const text =
                typeof f === 'string'
                  ? f
                  : typeof f === 'number' || typeof f === 'boolean'
                    ? String(f)
                    : undefined;
              if (text === step.value) next.push(item);
            }
          break;
      }
    }
    current = next;
  }
  return current;
}
