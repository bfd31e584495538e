// apps/v1 Deployment, and extensions/v1beta1 Deployment served by conversion (the seeds use it).
import { fieldErr, type FieldError } from '../errors.js';
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
  clone,
  column,
  containerColumns,
  formatLabelSelector,
  isInt,
  num,
  rec,
  setDefault,
  spec,
  status,
  strMap,
  validateIntOrPercent,
  validateNonnegative,
} from './util.js';
import { servedStrategy } from './served-version.js';

const MAX_INT32 = 2147483647;

export function defaultDeployment(obj: KubeObject): void {
  const s = child(obj, 'spec');
  setDefault(s, 'replicas', 1);
  const strategy = child(s, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', '25%');
    setDefault(ru, 'maxSurge', '25%');
  }
  setDefault(s, 'revisionHistoryLimit', 10);
  setDefault(s, 'progressDeadlineSeconds', 600);
  defaultTemplateOf(obj);
}

/** extensions/v1beta1's defaults: selector and labels from the template, 1/1 surge, no limits. */
export function defaultDeploymentV1beta1(obj: KubeObject): void {
  const s = child(obj, 'spec');
  const templateLabels = rec(rec(rec(s.template)?.metadata)?.labels);
  if (templateLabels) {
    if (s.selector === undefined || s.selector === null) s.selector = { matchLabels: clone(templateLabels) };
    if (Object.keys(obj.metadata.labels ?? {}).length === 0)
      obj.metadata.labels = clone(strMap(templateLabels));
  }
  setDefault(s, 'replicas', 1);
  const strategy = child(s, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate' || rec(strategy.rollingUpdate)) {
    const ru = child(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', 1);
    setDefault(ru, 'maxSurge', 1);
  }
  setDefault(s, 'progressDeadlineSeconds', MAX_INT32);
  setDefault(s, 'revisionHistoryLimit', MAX_INT32);
  defaultTemplateOf(obj);
}

function intOrPercentIsZero(v: unknown): boolean {
  if (typeof v === 'number') return v === 0;
  if (typeof v === 'string') return /^0+%$/.test(v);
  return false;
}

export function validateDeployment(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  validateReplicas(s, errs);
  validateSelectorAndTemplate(s, errs, 'deployment', 'ReplicaSet');
  const strategy = rec(s.strategy) ?? {};
  switch (strategy.type) {
    case 'Recreate':
      if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null)
        errs.push(
          fieldErr.forbidden(
            'spec.strategy.rollingUpdate',
            "may not be specified when strategy `type` is 'Recreate'",
          ),
        );
      break;
    case 'RollingUpdate': {
      const ru = rec(strategy.rollingUpdate);
      if (!ru) {
        errs.push(
          fieldErr.required('spec.strategy.rollingUpdate', 'this should be defaulted and never be nil'),
        );
        break;
      }
      validateIntOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable', errs);
      validateIntOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge', errs);
      if (intOrPercentIsZero(ru.maxUnavailable) && intOrPercentIsZero(ru.maxSurge))
        errs.push(
          fieldErr.invalid(
            'spec.strategy.rollingUpdate.maxUnavailable',
            ru.maxUnavailable,
            'may not be 0 when `maxSurge` is 0',
          ),
        );
      if (
        typeof ru.maxUnavailable === 'string' &&
        /^[0-9]+%$/.test(ru.maxUnavailable) &&
        Number.parseInt(ru.maxUnavailable, 10) > 100
      )
        errs.push(
          fieldErr.invalid(
            'spec.strategy.rollingUpdate.maxUnavailable',
            ru.maxUnavailable,
            'must not be greater than 100%',
          ),
        );
      break;
    }
    default:
      errs.push(fieldErr.notSupported('spec.strategy', strategy, ['Recreate', 'RollingUpdate']));
  }
  validateNonnegative(s.revisionHistoryLimit, 'spec.revisionHistoryLimit', errs);
  if (isInt(s.progressDeadlineSeconds)) {
    validateNonnegative(s.progressDeadlineSeconds, 'spec.progressDeadlineSeconds', errs);
    if (s.progressDeadlineSeconds <= (num(s.minReadySeconds) ?? 0))
      errs.push(
        fieldErr.invalid(
          'spec.progressDeadlineSeconds',
          s.progressDeadlineSeconds,
          'must be greater than minReadySeconds',
        ),
      );
  }
  return errs;
}

export function validateDeploymentUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateDeployment(obj);
  validateImmutableSelector(spec(obj).selector, spec(old).selector, errs);
  return errs;
}

const n = (v: unknown): number => num(v) ?? 0;

export const deploymentColumns = [
  NAME_COLUMN,
  column(
    'Ready',
    'string',
    'Number of the pod with ready state',
    (o) => `${n(status(o).readyReplicas)}/${n(spec(o).replicas)}`,
  ),
  column(
    'Up-to-date',
    'integer',
    'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
    (o) => n(status(o).updatedReplicas),
  ),
  column(
    'Available',
    'integer',
    'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
    (o) => n(status(o).availableReplicas),
  ),
  AGE_COLUMN,
  ...containerColumns((o) => templateSpecOf(o)),
  column(
    'Selector',
    'string',
    'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
    (o) => formatLabelSelector(spec(o).selector),
    1,
  ),
];

export const deploymentResource: ResourceDescription = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  categories: ['all'],
  namespaced: true,
  schemaRef: 'io.k8s.api.apps.v1.Deployment',
  subresources: { status: true, scale: labelSelectorScale },
  tableColumns: deploymentColumns,
  strategy: {
    default: defaultDeployment,
    ...statusStrategy(),
    validate: validateDeployment,
    validateUpdate: validateDeploymentUpdate,
    validateStatusUpdate: (obj) =>
      validateReplicaStatus(obj, [
        'replicas',
        'updatedReplicas',
        'readyReplicas',
        'availableReplicas',
        'unavailableReplicas',
      ]),
  },
};

/** extensions/v1beta1 → apps/v1: the same fields; rollbackTo has no place in apps/v1 and is dropped. */
export function deploymentV1beta1ToV1(obj: KubeObject): KubeObject {
  const out = clone(obj);
  out.apiVersion = 'apps/v1';
  const s = rec(out.spec);
  if (s) delete s.rollbackTo;
  return out;
}
export function deploymentV1ToV1beta1(obj: KubeObject): KubeObject {
  const out = clone(obj);
  out.apiVersion = 'extensions/v1beta1';
  return out;
}

export const deploymentExtensionsV1beta1Resource: ResourceDescription = {
  ...deploymentResource,
  group: 'extensions',
  version: 'v1beta1',
  schemaRef: 'io.k8s.api.extensions.v1beta1.Deployment',
  strategy: servedStrategy(
    deploymentResource.strategy ?? {},
    { toStorage: deploymentV1beta1ToV1, fromStorage: deploymentV1ToV1beta1 },
    defaultDeploymentV1beta1,
  ),
  conversion: {
    storageGroup: 'apps',
    storageVersion: 'v1',
    toStorage: deploymentV1beta1ToV1,
    fromStorage: deploymentV1ToV1beta1,
    deprecationWarning:
      'extensions/v1beta1 Deployment is deprecated in v1.9+, unavailable in v1.16+; use apps/v1 Deployment',
  },
};
