// Label selectors, node selectors and tolerations as the scheduler evaluates them: compiled once
// into predicates so the per-node checks of a scheduling cycle allocate nothing.
import type {
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Node,
  Taint,
  Toleration,
} from '../../api/generated/types.js';
import type { LabelSelector } from '../../api/generated/types.js';
import {
  compileLabelSelector as compileGeneral,
  type Labels,
  type LabelPredicate,
} from '../../api/labels.js';

export type { Labels, LabelPredicate };

const EMPTY: Labels = Object.freeze({});

function has(labels: Labels, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

const SELECTS_NOTHING: LabelPredicate = () => false;
const SELECTS_EVERYTHING: LabelPredicate = () => true;

/**
 * A label selector compiled once into a predicate (api/labels.ts semantics: a missing selector
 * selects nothing, an empty one everything). Selectors of matchLabels only, the common shape of
 * spread constraints and affinity terms, get a flat loop that compares the value before checking
 * ownership: scheduling cycles call these predicates for every pod on thousands of nodes.
 */
export function compileLabelSelector(sel: LabelSelector | undefined | null): LabelPredicate {
  if (sel === undefined || sel === null) return SELECTS_NOTHING;
  if ((sel.matchExpressions ?? []).length > 0) return compileGeneral(sel);
  const entries = Object.entries(sel.matchLabels ?? {});
  if (entries.length === 0) return SELECTS_EVERYTHING;
  if (entries.length === 1) {
    const [key, value] = entries[0]!;
    return (labels) => !!labels && labels[key] === value && has(labels, key);
  }
  const keys = entries.map(([k]) => k);
  const values = entries.map(([, v]) => v);
  return (labels) => {
    if (!labels) return false;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (labels[key] !== values[i] || !has(labels, key)) return false;
    }
    return true;
  };
}

/** A selector from a plain label set (matchLabels only); empty matches everything. */
export function selectorFromLabelSet(set: Labels): LabelPredicate {
  return compileLabelSelector({ matchLabels: { ...set } });
}

function parseIntStrict(s: string): number | undefined {
  return /^-?\d+$/.test(s) ? Number.parseInt(s, 10) : undefined;
}

function requirementMatcher(
  req: NodeSelectorRequirement,
): (value: string | undefined, present: boolean) => boolean {
  const values = req.values ?? [];
  const set = new Set(values);
  switch (req.operator) {
    case 'In':
      return (v, present) => present && set.has(v ?? '');
    case 'NotIn':
      return (v, present) => !present || !set.has(v ?? '');
    case 'Exists':
      return (_v, present) => present;
    case 'DoesNotExist':
      return (_v, present) => !present;
    case 'Gt':
    case 'Lt': {
      const bound = values.length === 1 ? parseIntStrict(values[0]!) : undefined;
      if (bound === undefined) return () => false;
      const gt = req.operator === 'Gt';
      return (v, present) => {
        if (!present) return false;
        const n = parseIntStrict(v ?? '');
        if (n === undefined) return false;
        return gt ? n > bound : n < bound;
      };
    }
    default:
      return () => false;
  }
}

export type NodePredicate = (node: Node) => boolean;

/** One NodeSelectorTerm: its expressions and fields are ANDed; an empty term matches no node. */
export function compileNodeSelectorTerm(term: NodeSelectorTerm): NodePredicate {
  const exprs = (term.matchExpressions ?? []).map((r) => ({ key: r.key, m: requirementMatcher(r) }));
  const fields = (term.matchFields ?? []).map((r) => ({ key: r.key, m: requirementMatcher(r) }));
  if (exprs.length === 0 && fields.length === 0) return () => false;
  // Only metadata.name is a supported field; any other field key makes the term match nothing.
  if (fields.some((f) => f.key !== 'metadata.name')) return () => false;
  return (node) => {
    const labels = node.metadata.labels ?? EMPTY;
    for (const e of exprs) if (!e.m(labels[e.key], has(labels, e.key))) return false;
    for (const f of fields) if (!f.m(node.metadata.name, true)) return false;
    return true;
  };
}

/** A NodeSelector: its terms are ORed. */
export function compileNodeSelector(sel: NodeSelector | undefined): NodePredicate {
  if (!sel) return () => true;
  const terms = (sel.nodeSelectorTerms ?? []).map(compileNodeSelectorTerm);
  return (node) => {
    for (const t of terms) if (t(node)) return true;
    return false;
  };
}

/** Whether a toleration tolerates a taint (v1 helper ToleratesTaint). */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
    case '':
      return (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

export function taintToleratedBy(taint: Taint, tolerations: readonly Toleration[] | undefined): boolean {
  if (!tolerations) return false;
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint, of the given effects, that no toleration tolerates. */
export function findUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  effects: ReadonlySet<string>,
): Taint | undefined {
  if (!taints) return undefined;
  for (const taint of taints) {
    if (!effects.has(taint.effect)) continue;
    if (!taintToleratedBy(taint, tolerations)) return taint;
  }
  return undefined;
}
