// core/v1 ReplicationController: a map selector, defaulted (with the labels) from the template.
import { fieldErr, type FieldError, GoStringMap } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { SELECTOR_MISMATCH, statusStrategy, validateReplicas } from './controller-common.js';
import { defaultPodTemplateSpec, templateSpecOf, validatePodTemplateSpec } from './pod-spec.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  child,
  clone,
  column,
  containerColumns,
  formatLabels,
  labelsString,
  num,
  rec,
  setDefault,
  spec,
  status,
  strMap,
  validateLabels,
} from './util.js';

export function defaultReplicationController(obj: KubeObject): void {
  const s = child(obj, 'spec');
  const template = rec(s.template);
  const labels = rec(rec(template?.metadata)?.labels);
  if (labels) {
    if (Object.keys(rec(s.selector) ?? {}).length === 0) s.selector = clone(labels);
    if (Object.keys(obj.metadata.labels ?? {}).length === 0) obj.metadata.labels = clone(strMap(labels));
  }
  setDefault(s, 'replicas', 1);
  defaultPodTemplateSpec(template);
}

export function validateReplicationController(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  validateReplicas(s, errs);
  const selector = strMap(s.selector);
  if (Object.keys(selector).length === 0) errs.push(fieldErr.required('spec.selector'));
  else validateLabels(selector, 'spec.selector', errs);
  const template = rec(s.template);
  if (!template) {
    errs.push(fieldErr.required('spec.template'));
    return errs;
  }
  const labels = strMap(rec(template.metadata)?.labels);
  if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => labels[k] === v))
    errs.push(fieldErr.invalid('spec.template.metadata.labels', new GoStringMap(labels), SELECTOR_MISMATCH));
  errs.push(...validatePodTemplateSpec(template, 'spec.template', { restartPolicies: ['Always'] }));
  const ts = rec(template.spec);
  if (ts && ts.activeDeadlineSeconds !== undefined && ts.activeDeadlineSeconds !== null)
    errs.push(
      fieldErr.forbidden(
        'spec.template.spec.activeDeadlineSeconds',
        'activeDeadlineSeconds in ReplicationController is not Supported',
      ),
    );
  return errs;
}

const n = (v: unknown): number => num(v) ?? 0;

export const replicationControllerColumns = [
  NAME_COLUMN,
  column('Desired', 'integer', 'Replicas is the number of desired replicas.', (o) => n(spec(o).replicas)),
  column('Current', 'integer', 'Replicas is the most recently observed number of replicas.', (o) =>
    n(status(o).replicas),
  ),
  column('Ready', 'integer', 'The number of ready replicas for this replication controller.', (o) =>
    n(status(o).readyReplicas),
  ),
  AGE_COLUMN,
  ...containerColumns((o) => templateSpecOf(o)),
  column(
    'Selector',
    'string',
    'Selector is a label query over pods that should match the Replicas count.',
    (o) => formatLabels(spec(o).selector),
    1,
  ),
];

export const replicationControllerResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  singular: 'replicationcontroller',
  shortNames: ['rc'],
  categories: ['all'],
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.ReplicationController',
  subresources: {
    status: true,
    scale: {
      specReplicasPath: '.spec.replicas',
      statusReplicasPath: '.status.replicas',
      selectorFor: (obj) => labelsString(strMap(spec(obj).selector)),
    },
  },
  tableColumns: replicationControllerColumns,
  fieldSelectors: { 'status.replicas': (o) => String(n(status(o).replicas)) },
  strategy: {
    default: defaultReplicationController,
    ...statusStrategy(),
    validate: validateReplicationController,
    validateUpdate: (obj) => validateReplicationController(obj),
  },
};
