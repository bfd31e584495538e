// apps/v1 DaemonSet.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import {
  defaultTemplateOf,
  statusStrategy,
  validateImmutableSelector,
  validateSelectorAndTemplate,
} from './controller-common.js';
import { templateSpecOf } from './pod-spec.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  child,
  column,
  containerColumns,
  formatLabelSelector,
  formatLabels,
  num,
  rec,
  setDefault,
  spec,
  status,
  validateIntOrPercent,
  validateNonnegative,
} from './util.js';

export function defaultDaemonSet(obj: KubeObject): void {
  const s = child(obj, 'spec');
  const us = child(s, 'updateStrategy');
  setDefault(us, 'type', 'RollingUpdate');
  if (us.type === 'RollingUpdate') {
    const ru = child(us, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', 1);
    setDefault(ru, 'maxSurge', 0);
  }
  setDefault(s, 'revisionHistoryLimit', 10);
  defaultTemplateOf(obj);
}

const isZero = (v: unknown): boolean => v === 0 || (typeof v === 'string' && /^0+%$/.test(v));

export function validateDaemonSet(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  validateSelectorAndTemplate(s, errs, 'daemonset', 'DaemonSet');
  validateNonnegative(s.minReadySeconds, 'spec.minReadySeconds', errs);
  validateNonnegative(s.templateGeneration, 'spec.templateGeneration', errs);
  validateNonnegative(s.revisionHistoryLimit, 'spec.revisionHistoryLimit', errs);
  const us = rec(s.updateStrategy) ?? {};
  switch (us.type) {
    case 'OnDelete':
      break;
    case 'RollingUpdate': {
      const ru = rec(us.rollingUpdate);
      if (!ru) {
        errs.push(fieldErr.required('spec.updateStrategy.rollingUpdate'));
        break;
      }
      validateIntOrPercent(ru.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable', errs, true);
      validateIntOrPercent(ru.maxSurge, 'spec.updateStrategy.rollingUpdate.maxSurge', errs, true);
      if (isZero(ru.maxUnavailable) && isZero(ru.maxSurge))
        errs.push(
          fieldErr.required(
            'spec.updateStrategy.rollingUpdate.maxUnavailable',
            'cannot be 0 when maxSurge is 0',
          ),
        );
      if (!isZero(ru.maxUnavailable) && !isZero(ru.maxSurge))
        errs.push(
          fieldErr.invalid(
            'spec.updateStrategy.rollingUpdate.maxSurge',
            ru.maxSurge,
            'may not be set when maxUnavailable is non-zero',
          ),
        );
      break;
    }
    default:
      errs.push(fieldErr.notSupported('spec.updateStrategy', us, ['RollingUpdate', 'OnDelete']));
  }
  return errs;
}

export function validateDaemonSetUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateDaemonSet(obj);
  validateImmutableSelector(spec(obj).selector, spec(old).selector, errs);
  return errs;
}

const n = (v: unknown): number => num(v) ?? 0;

export const daemonSetColumns = [
  NAME_COLUMN,
  column('Desired', 'integer', 'The total number of nodes that should be running the daemon pod.', (o) =>
    n(status(o).desiredNumberScheduled),
  ),
  column(
    'Current',
    'integer',
    'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.',
    (o) => n(status(o).currentNumberScheduled),
  ),
  column(
    'Ready',
    'integer',
    'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.',
    (o) => n(status(o).numberReady),
  ),
  column('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod', (o) =>
    n(status(o).updatedNumberScheduled),
  ),
  column(
    'Available',
    'integer',
    'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.',
    (o) => n(status(o).numberAvailable),
  ),
  column(
    'Node Selector',
    'string',
    'NodeSelector is a selector which must be true for the pod to fit on a node.',
    (o) => formatLabels(templateSpecOf(o)?.nodeSelector),
  ),
  AGE_COLUMN,
  ...containerColumns((o) => templateSpecOf(o)),
  column(
    'Selector',
    'string',
    'A label query over pods that are managed by the daemon set.',
    (o) => formatLabelSelector(spec(o).selector),
    1,
  ),
];

export const daemonSetResource: ResourceDescription = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  shortNames: ['ds'],
  categories: ['all'],
  namespaced: true,
  schemaRef: 'io.k8s.api.apps.v1.DaemonSet',
  subresources: { status: true },
  tableColumns: daemonSetColumns,
  strategy: {
    default: defaultDaemonSet,
    ...statusStrategy(),
    validate: validateDaemonSet,
    validateUpdate: validateDaemonSetUpdate,
  },
};
