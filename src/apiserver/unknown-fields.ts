// Unknown-field detection for fieldValidation (Strict/Warn): walks a decoded object along its
// structural schema and reports every field the schema does not declare, with upstream's path form
// (spec.containers[0].foo).
import type { Schema, SchemaRegistry } from '../api/schema.js';
import { isPlainObject } from '../api/meta.js';

const MAX_DEPTH = 64;

/**
 * Removes the fields the schema does not declare (as upstream's decoder drops them) and returns
 * their paths, for fieldValidation to refuse or warn about.
 */
export function pruneUnknownFields(value: unknown, schemaRef: string, schemas: SchemaRegistry): string[] {
  const root = schemas.get(schemaRef);
  if (!root) return [];
  const out: string[] = [];
  walk(value, root, '', schemas, out, 0, true);
  return out;
}

/** The unknown fields' paths, leaving the value as it is. */
export function findUnknownFields(value: unknown, schemaRef: string, schemas: SchemaRegistry): string[] {
  const root = schemas.get(schemaRef);
  if (!root) return [];
  const out: string[] = [];
  walk(value, root, '', schemas, out, 0, false);
  return out;
}

function walk(
  value: unknown,
  schema: Schema,
  path: string,
  schemas: SchemaRegistry,
  out: string[],
  depth: number,
  prune: boolean,
): void {
  if (depth > MAX_DEPTH) return;
  const s = schema.$ref ? schemas.resolve(schema) : schema;
  if (s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-int-or-string']) {
    if (!s.properties) return;
  }
  if (Array.isArray(value)) {
    if (s.items) value.forEach((v, i) => walk(v, s.items!, `${path}[${i}]`, schemas, out, depth + 1, prune));
    return;
  }
  if (!isPlainObject(value)) return;
  if (s.properties) {
    for (const [k, v] of Object.entries(value)) {
      const child = s.properties[k];
      const childPath = path === '' ? k : `${path}.${k}`;
      if (child) walk(v, child, childPath, schemas, out, depth + 1, prune);
      else if (s['x-kubernetes-preserve-unknown-fields']) continue;
      else if (isPlainObject(s.additionalProperties))
        walk(v, s.additionalProperties, childPath, schemas, out, depth + 1, prune);
      else if (s.additionalProperties === true) continue;
      else if (
        s['x-kubernetes-embedded-resource'] &&
        (k === 'apiVersion' || k === 'kind' || k === 'metadata')
      )
        continue;
      else {
        out.push(childPath);
        if (prune) delete value[k];
      }
    }
    return;
  }
  if (isPlainObject(s.additionalProperties)) {
    for (const [k, v] of Object.entries(value))
      walk(v, s.additionalProperties, path === '' ? k : `${path}.${k}`, schemas, out, depth + 1, prune);
  }
}
