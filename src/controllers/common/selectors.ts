// metav1.LabelSelector evaluated on the client: matchLabels and matchExpressions (In, NotIn,
// Exists, DoesNotExist). A missing selector selects nothing; an empty one selects everything, as
// upstream's LabelSelectorAsSelector.
import type { LabelSelector } from '../../api/generated/types.js';
import { compileLabelSelector } from '../../api/labels.js';

export type LabelMap = Readonly<Record<string, string>> | undefined;
export type LabelMatcher = (labels: LabelMap) => boolean;

export function selectorMatcher(sel: LabelSelector | undefined | null): LabelMatcher {
  return compileLabelSelector(sel);
}

/** True for `{}`: a selector that matches every object (deployments refuse to act on it). */
export function isEmptySelector(sel: LabelSelector | undefined | null): boolean {
  return (
    !!sel && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0
  );
}

/** A set of labels as a selector matcher (every key must be present with that value). */
export function setMatcher(set: LabelMap): LabelMatcher {
  const entries = Object.entries(set ?? {});
  return (labels) => entries.every(([k, v]) => labels?.[k] === v);
}

/** The selector in the `labelSelector=` string form. */
export function selectorString(sel: LabelSelector | undefined | null): string {
  if (!sel) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}
