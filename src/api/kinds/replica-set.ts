// apps/v1 ReplicaSet.
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import {
  defaultTemplateOf,
  labelSelectorScale,
  statusStrategy,
  validateImmutableSelector,
  validateReplicas,
  validateSelectorAndTemplate,
  validateReplicaStatus,
} from './controller-common.js';
import { templateSpecOf } from './pod-spec.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  child,
  column,
  containerColumns,
  formatLabelSelector,
  num,
  setDefault,
  spec,
  status,
} from './util.js';

export function defaultReplicaSet(obj: KubeObject): void {
  setDefault(child(obj, 'spec'), 'replicas', 1);
  defaultTemplateOf(obj);
}

export function validateReplicaSet(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  validateReplicas(s, errs);
  validateSelectorAndTemplate(s, errs, 'deployment', 'ReplicaSet');
  return errs;
}

export function validateReplicaSetUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateReplicaSet(obj);
  validateImmutableSelector(spec(obj).selector, spec(old).selector, errs);
  return errs;
}

const n = (v: unknown): number => num(v) ?? 0;

export const replicaSetColumns = [
  NAME_COLUMN,
  column('Desired', 'integer', 'Number of desired pods.', (o) => n(spec(o).replicas)),
  column('Current', 'integer', 'Number of pods currently running.', (o) => n(status(o).replicas)),
  column('Ready', 'integer', 'Number of pods ready.', (o) => n(status(o).readyReplicas)),
  AGE_COLUMN,
  ...containerColumns((o) => templateSpecOf(o)),
  column(
    'Selector',
    'string',
    'Label query over pods that should match the replica count.',
    (o) => formatLabelSelector(spec(o).selector),
    1,
  ),
];

export const replicaSetResource: ResourceDescription = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  shortNames: ['rs'],
  categories: ['all'],
  namespaced: true,
  schemaRef: 'io.k8s.api.apps.v1.ReplicaSet',
  subresources: { status: true, scale: labelSelectorScale },
  tableColumns: replicaSetColumns,
  fieldSelectors: { 'status.replicas': (o) => String(n(status(o).replicas)) },
  strategy: {
    default: defaultReplicaSet,
    ...statusStrategy(),
    validate: validateReplicaSet,
    validateUpdate: validateReplicaSetUpdate,
    validateStatusUpdate: (obj) =>
      validateReplicaStatus(obj, ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']),
  },
};
