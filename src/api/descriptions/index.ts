// The description overlay the schema generator (scripts/gen-schemas.ts) merges into our
// definitions. Keys are 'definitionName' or 'definitionName.field'; values are our own sentences.
// Upstream's description text is deliberately never used.
import { appsDescriptions } from './apps.js';
import { coreDescriptions } from './core.js';
import { metaDescriptions, scalarDescriptions } from './meta.js';
import { otherDescriptions } from './others.js';
import { workloadDescriptions } from './workloads.js';

export { commonKindFieldDescriptions, kindDescriptions } from './kinds.js';

function merge(...parts: Readonly<Record<string, string>>[]): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const part of parts) {
    for (const [key, value] of Object.entries(part)) {
      if (key in out) throw new Error(`description overlay: duplicate key ${key}`);
      out[key] = value;
    }
  }
  return out;
}

export const descriptionOverlay: Readonly<Record<string, string>> = merge(
  metaDescriptions,
  scalarDescriptions,
  coreDescriptions,
  appsDescriptions,
  otherDescriptions,
  workloadDescriptions,
);
