// The patch machinery of the API server: JSON patch, JSON merge patch, strategic merge patch,
// server-side apply and the managedFields every write records.
//
// How kube-apiserver strings these together, which the handlers should follow:
// - PATCH json/merge/strategic: patch the current object (managedFields included), decode and
//   default, then updateManagedFields({ old: current, updated, manager }) before the strategy's
//   prepareForUpdate/validation; strategic merge is refused (415) where supportsStrategicMerge
//   is false (custom resources).
// - PATCH apply: validatePatchOptions first; applyServerSide({ live: current or undefined }) and
//   then default and validate the result (upstream defaults after applying); 409 conflicts come
//   out as StatusErrors already.
// - POST/PUT: updateManagedFields after decoding and defaulting, with the manager from
//   managerOrUserAgent(fieldManager, User-Agent) and subresource set for /status and the like.
// - Both take resetFields (e.g. [['status']] for a main resource whose status the strategy
//   resets) so such fields are not recorded, as upstream's reset fields do.
export { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json-patch.js';
export { applyMergePatch } from './merge-patch.js';
export { applyStrategicMergePatch, supportsStrategicMerge } from './strategic.js';
export type { StrategicContext } from './strategic.js';
export {
  applyServerSide,
  updateManagedFields,
  managedFieldsTime,
  LAST_APPLIED_ANNOTATION,
  MAX_UPDATE_MANAGERS,
} from './managed-fields.js';
export type { ApplyServerSideInput, UpdateManagedFieldsInput } from './managed-fields.js';
export { FieldSet, pathString } from './fieldpath.js';
export {
  managerOrUserAgent,
  validateFieldManager,
  validatePatchOptions,
  FIELD_MANAGER_MAX_LENGTH,
} from './options.js';
