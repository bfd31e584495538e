// policy/v1 PodDisruptionBudget.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  clone,
  column,
  intOrStringText,
  num,
  spec,
  status,
  validateIntOrPercent,
  validateLabelSelector,
} from './util.js';

export function validatePodDisruptionBudget(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  const hasMin = s.minAvailable !== undefined && s.minAvailable !== null;
  const hasMax = s.maxUnavailable !== undefined && s.maxUnavailable !== null;
  if (hasMin && hasMax)
    errs.push(fieldErr.invalid('spec', s, 'minAvailable and maxUnavailable cannot be both set'));
  if (hasMin) validateIntOrPercent(s.minAvailable, 'spec.minAvailable', errs, true);
  if (hasMax) validateIntOrPercent(s.maxUnavailable, 'spec.maxUnavailable', errs, true);
  if (s.selector !== undefined) validateLabelSelector(s.selector, 'spec.selector', errs);
  const p = s.unhealthyPodEvictionPolicy;
  if (p !== undefined && p !== 'IfHealthyBudget' && p !== 'AlwaysAllow')
    errs.push(
      fieldErr.notSupported('spec.unhealthyPodEvictionPolicy', p, ['AlwaysAllow', 'IfHealthyBudget']),
    );
  return errs;
}

const orNA = (v: unknown): string => (v === undefined || v === null ? 'N/A' : intOrStringText(v));

export const podDisruptionBudgetResource: ResourceDescription = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  shortNames: ['pdb'],
  namespaced: true,
  schemaRef: 'io.k8s.api.policy.v1.PodDisruptionBudget',
  subresources: { status: true },
  tableColumns: [
    NAME_COLUMN,
    column('Min Available', 'string', 'The minimum number of pods that must be available.', (o) =>
      orNA(spec(o).minAvailable),
    ),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.', (o) =>
      orNA(spec(o).maxUnavailable),
    ),
    column(
      'Allowed Disruptions',
      'integer',
      'Calculated number of pods that may be disrupted at this time.',
      (o) => num(status(o).disruptionsAllowed) ?? 0,
    ),
    AGE_COLUMN,
  ],
  strategy: {
    prepareForCreate(obj) {
      obj.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
    },
    validate: validatePodDisruptionBudget,
    validateUpdate: (obj) => validatePodDisruptionBudget(obj),
  },
};
