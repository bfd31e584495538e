// JSON merge patch (RFC 7386) as kube-apiserver applies it (evanphx/json-patch v4 MergePatch): null
// deletes a key, objects merge, anything else (lists included) replaces; nulls inside values that
// are put in place are dropped, list items included. A patch that is not an object or a list is 400.
import { badRequest } from '../../api/errors.js';
import type { JsonObject, JsonValue } from '../../api/meta.js';
import { isPlainObject } from '../../api/meta.js';
import { cloneObject } from '../objects.js';

function pruneNulls(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.filter((x) => x !== null).map(pruneNulls);
  if (isPlainObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = pruneNulls(x);
    return out;
  }
  return v;
}

function mergeDocs(doc: JsonObject, patch: JsonObject): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete doc[k];
      continue;
    }
    const cur = doc[k];
    doc[k] = cur === undefined || cur === null ? pruneNulls(structuredClone(v)) : merge(cur, v);
  }
}

function merge(cur: JsonValue, patch: JsonValue): JsonValue {
  if (!isPlainObject(cur)) return pruneNulls(structuredClone(patch));
  if (!isPlainObject(patch)) return structuredClone(patch);
  mergeDocs(cur, patch);
  return cur;
}

/** Applies a merge patch to a copy of doc. */
export function applyMergePatch(doc: JsonValue, patch: JsonValue): JsonValue {
  if (patch === null || (!isPlainObject(patch) && !Array.isArray(patch)))
    throw badRequest('Invalid JSON Patch');
  if (Array.isArray(patch)) return pruneNulls(structuredClone(patch));
  if (!isPlainObject(doc)) return pruneNulls(structuredClone(patch));
  const out = cloneObject(doc);
  mergeDocs(out, patch);
  return out;
}
