// The validation sequence upstream's generic registry runs around a kind's strategy
// (rest.BeforeCreate / BeforeUpdate in k8s.io/apiserver), so the API server can call one function:
//
//   create: the strategy's validate (which checks metadata with the kind's own name rule, as
//           upstream's ValidateX functions do); only when that passes, a generic safety net of
//           metadata checks with the loosest name rule (a valid URL path segment).
//   update: the generic metadata update checks (identity immutable, resourceVersion present, …)
//           followed by the strategy's validateUpdate (or validate).
//
// Identical messages are collapsed, as upstream's Invalid status does when both layers report the
// same problem.
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { uniqueFieldErrors, validateObjectMeta, validateObjectMetaUpdate } from './objectmeta.js';

export function validateForCreate(desc: ResourceDescription, obj: KubeObject): FieldError[] {
  const errs = desc.strategy?.validate?.(obj) ?? [];
  if (errs.length > 0) return uniqueFieldErrors(errs);
  return validateObjectMeta(obj.metadata, { namespaced: desc.namespaced, nameRule: 'path-segment' });
}

export function validateForUpdate(desc: ResourceDescription, obj: KubeObject, old: KubeObject): FieldError[] {
  const st = desc.strategy;
  const own = st?.validateUpdate?.(obj, old) ?? st?.validate?.(obj) ?? [];
  return uniqueFieldErrors([...validateObjectMetaUpdate(obj.metadata, old.metadata), ...own]);
}

export function validateForStatusUpdate(
  desc: ResourceDescription,
  obj: KubeObject,
  old: KubeObject,
): FieldError[] {
  const own = desc.strategy?.validateStatusUpdate?.(obj, old) ?? [];
  return uniqueFieldErrors([...validateObjectMetaUpdate(obj.metadata, old.metadata), ...own]);
}
