// core/v1 Namespace: cluster-scoped, named as a DNS-1123 label. On create the server sets phase
// Active and makes sure the "kubernetes" finalizer is present (the namespace controller removes it
// once everything inside is gone); clients cannot change either through the main resource.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { isQualifiedName } from '../validation/names.js';
import {
  validateKubeFinalizerName,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from '../validation/objectmeta.js';
import { ageColumn, arrField, ensureObj, nameColumn, objField, strField } from './columns.js';

export const FINALIZER_KUBERNETES = 'kubernetes';
/** Namespaces are validated by upstream's core package, with its finalizer rule. */
const CORE = { standardFinalizers: true } as const;
/** The label upstream defaults on every namespace so that selectors can pick namespaces by name. */
export const LABEL_METADATA_NAME = 'kubernetes.io/metadata.name';

function defaultNamespace(obj: KubeObject): void {
  // A namespace sent with only generateName gets the label once its name exists.
  const name = obj.metadata.name ?? '';
  if (name.length > 0) obj.metadata.labels = { ...(obj.metadata.labels ?? {}), [LABEL_METADATA_NAME]: name };
  const status = ensureObj(obj, 'status');
  if (typeof status.phase !== 'string' || status.phase === '') status.phase = 'Active';
}

function prepareForCreate(obj: KubeObject): void {
  obj.status = { phase: 'Active' };
  const spec = ensureObj(obj, 'spec');
  const finalizers = arrField(spec, 'finalizers').filter((f): f is string => typeof f === 'string');
  if (!finalizers.includes(FINALIZER_KUBERNETES)) finalizers.push(FINALIZER_KUBERNETES);
  spec.finalizers = finalizers;
  defaultNamespace(obj);
}

/** A spec.finalizers entry: a qualified name, and without a '/' only one of the standard names. */
function validateFinalizerName(name: string, path: string): FieldError[] {
  return [
    ...isQualifiedName(name).map((msg) => fieldErr.invalid(path, name, msg)),
    ...validateKubeFinalizerName(name, path),
  ];
}

function validateNamespace(obj: KubeObject): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, {
    namespaced: false,
    nameRule: 'dns-label',
    standardFinalizers: true,
  });
  for (const f of arrField(obj, 'spec', 'finalizers')) {
    errs.push(...validateFinalizerName(typeof f === 'string' ? f : '', 'spec.finalizers'));
  }
  return errs;
}

function validateStatusUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateObjectMetaUpdate(obj.metadata, old.metadata, 'metadata', CORE);
  const phase = strField(obj, 'status', 'phase');
  if (!old.metadata.deletionTimestamp) {
    if (phase !== 'Active') {
      errs.push(
        fieldErr.invalid('status.phase', phase, "may only be 'Active' if `deletionTimestamp` is empty"),
      );
    }
  } else if (phase !== 'Terminating') {
    errs.push(
      fieldErr.invalid(
        'status.phase',
        phase,
        "may only be 'Terminating' if `deletionTimestamp` is not empty",
      ),
    );
  }
  return errs;
}

export const namespaceResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  nameRule: 'dns-label',
  schemaRef: 'io.k8s.api.core.v1.Namespace',
  subresources: { status: true },
  tableColumns: [
    nameColumn,
    {
      name: 'Status',
      type: 'string',
      description: 'Whether the namespace is Active or Terminating.',
      priority: 0,
      cell: (obj) => strField(obj, 'status', 'phase'),
    },
    ageColumn,
  ],
  fieldSelectors: { 'status.phase': (obj) => strField(obj, 'status', 'phase') },
  strategy: {
    default: defaultNamespace,
    prepareForCreate,
    prepareForUpdate(obj, old) {
      // Finalizers go through the finalize subresource and status through status; neither
      // changes through an update of the namespace itself.
      const spec = ensureObj(obj, 'spec');
      const oldFinalizers = objField(old, 'spec')?.finalizers;
      if (oldFinalizers === undefined) delete spec.finalizers;
      else spec.finalizers = structuredClone(oldFinalizers);
      if (old.status === undefined) delete obj.status;
      else obj.status = structuredClone(old.status);
    },
    validate: validateNamespace,
    validateUpdate: (obj, old) => validateObjectMetaUpdate(obj.metadata, old.metadata, 'metadata', CORE),
    prepareForStatusUpdate(obj, old) {
      if (old.spec === undefined) delete obj.spec;
      else obj.spec = structuredClone(old.spec);
    },
    validateStatusUpdate,
  },
};
