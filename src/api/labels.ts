// metav1.LabelSelector evaluated in process, once for the whole project (controllers, scheduler,
// the API server's own checks): matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist).
// As upstream's LabelSelectorAsSelector: a missing selector selects nothing, an empty one selects
// everything, and an unknown operator (which validation refuses) selects nothing.
import type { LabelSelector } from './generated/types.js';

export type Labels = Readonly<Record<string, string>>;
export type LabelPredicate = (labels: Labels | undefined) => boolean;

const NOTHING: LabelPredicate = () => false;
const EVERYTHING: LabelPredicate = () => true;
const EMPTY: Labels = Object.freeze({});

function has(labels: Labels, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

/** Compiles a selector once into a predicate, for hot paths that test many objects. */
export function compileLabelSelector(sel: LabelSelector | undefined | null): LabelPredicate {
  if (sel === undefined || sel === null) return NOTHING;
  const checks: ((l: Labels) => boolean)[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) checks.push((l) => has(l, k) && l[k] === v);
  for (const req of sel.matchExpressions ?? []) {
    const key = req.key;
    const values = new Set(req.values ?? []);
    switch (req.operator) {
      case 'In':
        checks.push((l) => has(l, key) && values.has(l[key] ?? ''));
        break;
      case 'NotIn':
        checks.push((l) => !has(l, key) || !values.has(l[key] ?? ''));
        break;
      case 'Exists':
        checks.push((l) => has(l, key));
        break;
      case 'DoesNotExist':
        checks.push((l) => !has(l, key));
        break;
      default:
        return NOTHING;
    }
  }
  if (checks.length === 0) return EVERYTHING;
  return (labels) => {
    const l = labels ?? EMPTY;
    for (const c of checks) if (!c(l)) return false;
    return true;
  };
}

/** Whether a selector selects these labels (compiles it each call: for one-off checks). */
export function labelSelectorMatches(
  sel: LabelSelector | undefined | null,
  labels: Labels | undefined,
): boolean {
  return compileLabelSelector(sel)(labels);
}
