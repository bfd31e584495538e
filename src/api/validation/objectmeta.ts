// Generic metadata validation, as upstream's ValidateObjectMeta / ValidateObjectMetaUpdate
// (k8s.io/apimachinery/pkg/api/validation) do it: same checks, same order, same field paths and
// sentences. Every kind's strategy runs these before its own spec checks.
import { StatusError, badRequest, fieldErr, fieldErrorMessage, type FieldError } from '../errors.js';
import { isPlainObject, parseApiVersion, type KubeObject, type ObjectMeta } from '../meta.js';
import { validateImmutableField } from './immutable.js';
import {
  byteLength,
  isLabelValue,
  isQualifiedName,
  nameValidatorFor,
  validateNamespaceName,
  type NameRule,
  type NameValidator,
} from './names.js';

export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;
export const FINALIZER_ORPHAN_DEPENDENTS = 'orphan';
export const FINALIZER_DELETE_DEPENDENTS = 'foregroundDeletion';
export const IS_NEGATIVE_ERROR_MSG = 'must be greater than or equal to 0';

/** The sentence upstream's storage layer returns when a create carries metadata.resourceVersion. */
export const RESOURCE_VERSION_SET_ON_CREATE = 'resourceVersion should not be set on objects to be created';

/**
 * The response upstream gives to a create with metadata.resourceVersion set. Its storage layer
 * returns a plain error, which the API server turns into a 500 Status with no reason and the bare
 * sentence as message (kubectl prints "Error from server: resourceVersion should not be set …").
 * Returns undefined when the object carries no resourceVersion.
 */
export function checkNoResourceVersionOnCreate(meta: ObjectMeta | undefined): StatusError | undefined {
  if (!meta?.resourceVersion) return undefined;
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: RESOURCE_VERSION_SET_ON_CREATE,
    reason: '',
    code: 500,
  });
}

export const NAMESPACE_MISMATCH_MESSAGE =
  'the namespace of the provided object does not match the namespace sent on the request';

export interface ObjectMetaOptions {
  /** Namespaced kinds must carry a namespace; cluster-scoped kinds must not. */
  readonly namespaced: boolean;
  /** How metadata.name is checked; DNS-1123 subdomain when absent. */
  readonly nameRule?: NameRule | NameValidator;
  /**
   * Kinds validated by upstream's core package (core/v1, apps, batch, …) also require each
   * metadata.finalizers entry without a '/' to be one of the standard names; custom resources and
   * a few groups (RBAC, coordination) do not.
   */
  readonly standardFinalizers?: boolean;
}

/** Finalizer names that may be used without a domain prefix on built-in kinds. */
export const STANDARD_FINALIZERS: ReadonlySet<string> = new Set([
  'kubernetes',
  'orphan',
  'foregroundDeletion',
]);

/** Upstream's validateKubeFinalizerName: an unqualified name must be a standard one. */
export function validateKubeFinalizerName(name: string, path: string): FieldError[] {
  if (name.includes('/') || STANDARD_FINALIZERS.has(name)) return [];
  return [
    fieldErr.invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified'),
  ];
}

function kubeFinalizerErrors(meta: ObjectMeta, path: string): FieldError[] {
  return (meta.finalizers ?? []).flatMap((f, i) => validateKubeFinalizerName(f, `${path}.finalizers[${i}]`));
}

function stringMap(v: unknown): [string, unknown][] {
  return isPlainObject(v) ? Object.entries(v) : [];
}

/** metav1validation.ValidateLabels: every key a qualified name, every value a label value. */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [key, value] of stringMap(labels)) {
    for (const msg of isQualifiedName(key)) errs.push(fieldErr.invalid(path, key, msg));
    const v = typeof value === 'string' ? value : String(value);
    for (const msg of isLabelValue(v)) errs.push(fieldErr.invalid(path, v, msg));
  }
  return errs;
}

/** ValidateAnnotations: keys are qualified names (case-insensitively); all of them together at most 256 KiB. */
export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [key, value] of stringMap(annotations)) {
    for (const msg of isQualifiedName(key.toLowerCase())) errs.push(fieldErr.invalid(path, key, msg));
    total += byteLength(key) + byteLength(typeof value === 'string' ? value : String(value));
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES)
    errs.push(fieldErr.tooLong(path, '', TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  return errs;
}

/** Kinds that may never own other objects (upstream's BannedOwners). */
const BANNED_OWNERS: ReadonlySet<string> = new Set(['/v1, Kind=Event']);

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function validateOwnerReferences(refs: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(refs)) return errs;
  let firstController = '';
  for (const ref of refs) {
    if (!isPlainObject(ref)) continue;
    const apiVersion = str(ref.apiVersion);
    const kind = str(ref.kind);
    const { group, version } = parseApiVersion(apiVersion);
    if (version.length === 0)
      errs.push(fieldErr.invalid(`${path}.apiVersion`, apiVersion, 'version must not be empty'));
    if (kind.length === 0) errs.push(fieldErr.invalid(`${path}.kind`, kind, 'must not be empty'));
    if (str(ref.name).length === 0)
      errs.push(fieldErr.invalid(`${path}.name`, str(ref.name), 'must not be empty'));
    if (str(ref.uid).length === 0)
      errs.push(fieldErr.invalid(`${path}.uid`, str(ref.uid), 'must not be empty'));
    const gvk = `${group}/${version}, Kind=${kind}`;
    if (BANNED_OWNERS.has(gvk))
      errs.push(fieldErr.invalid(path, ref, `${gvk} is disallowed from being an owner`));
    if (ref.controller === true) {
      const current = `${kind}/${str(ref.name)}`;
      if (firstController !== '') {
        errs.push(
          fieldErr.invalid(
            path,
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

/** ValidateFinalizers: qualified names, and not both orphan and foregroundDeletion. */
export function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(finalizers)) return errs;
  let orphan = false;
  let foreground = false;
  for (const f of finalizers) {
    const name = str(f);
    for (const msg of isQualifiedName(name)) errs.push(fieldErr.invalid(path, name, msg));
    if (name === FINALIZER_ORPHAN_DEPENDENTS) orphan = true;
    if (name === FINALIZER_DELETE_DEPENDENTS) foreground = true;
  }
  if (orphan && foreground) {
    errs.push(
      fieldErr.invalid(
        path,
        finalizers,
        `finalizer ${FINALIZER_ORPHAN_DEPENDENTS} and ${FINALIZER_DELETE_DEPENDENTS} cannot be both set`,
      ),
    );
  }
  return errs;
}

/** ValidateManagedFields: operation Apply or Update, fieldsType FieldsV1. */
export function validateManagedFields(entries: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(entries)) return errs;
  entries.forEach((entry, i) => {
    if (!isPlainObject(entry)) return;
    const p = `${path}[${i}]`;
    const op = str(entry.operation);
    if (op !== 'Apply' && op !== 'Update')
      errs.push(fieldErr.invalid(`${p}.operation`, op, 'must be `Apply` or `Update`'));
    const ft = str(entry.fieldsType);
    if (ft !== 'FieldsV1') errs.push(fieldErr.invalid(`${p}.fieldsType`, ft, 'must be `FieldsV1`'));
  });
  return errs;
}

function validateCommon(meta: ObjectMeta, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = meta.namespace ?? '';
  if (namespaced) {
    if (namespace.length === 0) errs.push(fieldErr.required(`${path}.namespace`, ''));
    else
      for (const msg of validateNamespaceName(namespace, false))
        errs.push(fieldErr.invalid(`${path}.namespace`, namespace, msg));
  } else if (namespace.length !== 0) {
    errs.push(fieldErr.forbidden(`${path}.namespace`, 'not allowed on this type'));
  }
  if (typeof meta.generation === 'number' && meta.generation < 0) {
    errs.push(fieldErr.invalid(`${path}.generation`, meta.generation, IS_NEGATIVE_ERROR_MSG));
  }
  errs.push(...validateLabels(meta.labels, `${path}.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${path}.annotations`));
  errs.push(...validateOwnerReferences(meta.ownerReferences, `${path}.ownerReferences`));
  errs.push(...validateFinalizers(meta.finalizers, `${path}.finalizers`));
  errs.push(...validateManagedFields(meta.managedFields, `${path}.managedFields`));
  return errs;
}

/**
 * ValidateObjectMeta for a create: generateName, name, namespace by scope, generation, labels,
 * annotations, owner references, finalizers and managed fields. Expects name generation to have
 * happened already when the client sent only generateName (an empty name is "Required").
 */
export function validateObjectMeta(
  meta: ObjectMeta | undefined,
  opts: ObjectMetaOptions,
  path = 'metadata',
): FieldError[] {
  const m = meta ?? {};
  const nameFn = nameValidatorFor(opts.nameRule ?? 'dns-subdomain');
  const errs: FieldError[] = [];
  const generateName = m.generateName ?? '';
  if (generateName.length !== 0) {
    for (const msg of nameFn(generateName, true))
      errs.push(fieldErr.invalid(`${path}.generateName`, generateName, msg));
  }
  const name = m.name ?? '';
  if (name.length === 0) errs.push(fieldErr.required(`${path}.name`, 'name or generateName is required'));
  else for (const msg of nameFn(name, false)) errs.push(fieldErr.invalid(`${path}.name`, name, msg));
  errs.push(...validateCommon(m, opts.namespaced, path));
  if (opts.standardFinalizers) errs.push(...kubeFinalizerErrors(m, path));
  return errs;
}

/** Go's %#v of a []string, which upstream puts in the "no new finalizers" message. */
function goStringSlice(values: readonly string[]): string {
  return `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

/**
 * ValidateObjectMetaUpdate: no new finalizers while deleting, resourceVersion present, generation
 * not decremented, identity and deletion fields immutable, and the same label/annotation/owner
 * checks as on create.
 */
export function validateObjectMetaUpdate(
  newMeta: ObjectMeta | undefined,
  oldMeta: ObjectMeta | undefined,
  path = 'metadata',
  opts: { readonly standardFinalizers?: boolean } = {},
): FieldError[] {
  const n = newMeta ?? {};
  const o = oldMeta ?? {};
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) {
    const old = new Set(o.finalizers ?? []);
    const extra = [...new Set((n.finalizers ?? []).filter((f) => !old.has(f)))].sort();
    if (extra.length > 0) {
      errs.push(
        fieldErr.forbidden(
          `${path}.finalizers`,
          `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(extra)}`,
        ),
      );
    }
  }
  if ((n.resourceVersion ?? '').length === 0) {
    errs.push(
      fieldErr.invalid(`${path}.resourceVersion`, n.resourceVersion ?? '', 'must be specified for an update'),
    );
  }
  if ((n.generation ?? 0) < (o.generation ?? 0)) {
    errs.push(fieldErr.invalid(`${path}.generation`, n.generation ?? 0, 'must not be decremented'));
  }
  errs.push(...validateImmutableField(n.name ?? '', o.name ?? '', `${path}.name`));
  errs.push(...validateImmutableField(n.namespace ?? '', o.namespace ?? '', `${path}.namespace`));
  errs.push(...validateImmutableField(n.uid ?? '', o.uid ?? '', `${path}.uid`));
  errs.push(
    ...validateImmutableField(
      n.creationTimestamp ?? null,
      o.creationTimestamp ?? null,
      `${path}.creationTimestamp`,
    ),
  );
  errs.push(
    ...validateImmutableField(
      n.deletionTimestamp ?? null,
      o.deletionTimestamp ?? null,
      `${path}.deletionTimestamp`,
    ),
  );
  errs.push(
    ...validateImmutableField(
      n.deletionGracePeriodSeconds ?? null,
      o.deletionGracePeriodSeconds ?? null,
      `${path}.deletionGracePeriodSeconds`,
    ),
  );
  errs.push(...validateLabels(n.labels, `${path}.labels`));
  errs.push(...validateAnnotations(n.annotations, `${path}.annotations`));
  errs.push(...validateOwnerReferences(n.ownerReferences, `${path}.ownerReferences`));
  errs.push(...validateManagedFields(n.managedFields, `${path}.managedFields`));
  if (opts.standardFinalizers) errs.push(...kubeFinalizerErrors(n, path));
  return errs;
}

/**
 * Upstream's EnsureObjectNamespaceMatchesRequestNamespace, run before validation: an empty
 * namespace takes the request's, a cluster-scoped object loses any namespace it carried, and a
 * namespaced object naming another namespace than the URL is a 400. Mutates `obj`.
 */
export function ensureNamespaceMatchesRequest(
  obj: KubeObject,
  requestNamespace: string,
  namespaced: boolean,
): StatusError | undefined {
  const expected = namespaced ? requestNamespace : '';
  const actual = obj.metadata.namespace ?? '';
  if (actual === expected) return undefined;
  if (actual === '') {
    obj.metadata.namespace = expected;
    return undefined;
  }
  if (expected === '') {
    delete obj.metadata.namespace;
    return undefined;
  }
  return badRequest(NAMESPACE_MISMATCH_MESSAGE);
}

/**
 * Drops errors whose message repeats an earlier one. Upstream's validators often check the same
 * thing twice on update (ValidateObjectMetaUpdate and then the create checks), and its Invalid
 * status collapses identical messages; doing the same here keeps our messages identical too.
 */
export function uniqueFieldErrors(errs: readonly FieldError[]): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of errs) {
    const key = fieldErrorMessage(e);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}
