// PATCH content types and the dispatch to the patch module (src/apiserver/patch/): JSON patch,
// JSON merge patch and strategic merge patch of the current object. Server-side apply goes
// through the same module from the REST handler, because it may create.
import type { JsonObject, JsonValue, KubeObject } from '../api/meta.js';
import { isPlainObject } from '../api/meta.js';
import { badRequest, unsupportedMediaType } from '../api/errors.js';
import type { SchemaRegistry } from '../api/schema.js';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  supportsStrategicMerge,
} from './patch/index.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function patchTypeOf(contentType: string | undefined): PatchType {
  const mt = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const t = PATCH_CONTENT_TYPES[mt];
  if (!t) throw unsupportedMediaType(contentType ?? '');
  return t;
}

export interface PatchContext {
  readonly schemaRef: string;
  readonly schemas: SchemaRegistry;
}

/** Applies a json, merge or strategic patch to the current object (which it does not modify). */
export function applyPatchBody(
  type: Exclude<PatchType, 'apply'>,
  current: KubeObject,
  patch: unknown,
  ctx: PatchContext,
): KubeObject {
  const doc = current as unknown as JsonObject;
  let out: JsonValue;
  switch (type) {
    case 'json':
      out = applyJsonPatch(doc, patch);
      break;
    case 'merge':
      if (!isPlainObject(patch)) throw badRequest('the body of the request was not a JSON object');
      out = applyMergePatch(doc, patch as JsonObject);
      break;
    case 'strategic':
      if (!supportsStrategicMerge(ctx.schemaRef, ctx.schemas))
        throw unsupportedMediaType('application/strategic-merge-patch+json', [
          'application/json-patch+json',
          'application/merge-patch+json',
          'application/apply-patch+yaml',
        ]);
      if (!isPlainObject(patch)) throw badRequest('the body of the request was not a JSON object');
      out = applyStrategicMergePatch(doc, patch as JsonObject, ctx);
      break;
  }
  if (!isPlainObject(out)) throw badRequest('the patched document is not an object');
  return out as unknown as KubeObject;
}
