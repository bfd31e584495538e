// scheduling.k8s.io/v1 PriorityClass (cluster-scoped).
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { AGE_COLUMN, NAME_COLUMN, column, isInt, setDefault, str } from './util.js';

export const HIGHEST_USER_DEFINABLE_PRIORITY = 1000000000;
export const SYSTEM_PRIORITY_CLASSES: Readonly<Record<string, number>> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

export function validatePriorityClass(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = obj.metadata.name ?? '';
  const value = obj.value;
  const system = SYSTEM_PRIORITY_CLASSES[name];
  if (system !== undefined) {
    if (value !== system)
      errs.push(fieldErr.forbidden('metadata.name', `system priority class name ${name} is reserved`));
  } else {
    if (name.startsWith('system-'))
      errs.push(
        fieldErr.forbidden('metadata.name', "priority class names with 'system-' prefix are reserved"),
      );
    if (isInt(value) && value > HIGHEST_USER_DEFINABLE_PRIORITY)
      errs.push(
        fieldErr.forbidden(
          'value',
          `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`,
        ),
      );
  }
  if (!isInt(value)) errs.push(fieldErr.required('value'));
  const pp = obj.preemptionPolicy;
  if (pp !== undefined && pp !== 'Never' && pp !== 'PreemptLowerPriority')
    errs.push(fieldErr.notSupported('preemptionPolicy', pp, ['Never', 'PreemptLowerPriority']));
  return errs;
}

export function validatePriorityClassUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePriorityClass(obj);
  if (obj.value !== old.value) errs.push(fieldErr.forbidden('value', 'may not be changed in an update.'));
  if (str(obj.preemptionPolicy) !== str(old.preemptionPolicy))
    errs.push(fieldErr.invalid('preemptionPolicy', obj.preemptionPolicy ?? null, 'field is immutable'));
  return errs;
}

export const priorityClassResource: ResourceDescription = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  singular: 'priorityclass',
  shortNames: ['pc'],
  namespaced: false,
  schemaRef: 'io.k8s.api.scheduling.v1.PriorityClass',
  tableColumns: [
    NAME_COLUMN,
    column('Value', 'integer', 'The integer value of this priority class.', (o) =>
      isInt(o.value) ? o.value : 0,
    ),
    column(
      'Global-Default',
      'boolean',
      'Whether this priority class is the default for pods without one.',
      (o) => o.globalDefault === true,
    ),
    AGE_COLUMN,
    column(
      'PreemptionPolicy',
      'string',
      'The policy for preempting pods with lower priority.',
      (o) => str(o.preemptionPolicy) || '<none>',
    ),
  ],
  strategy: {
    default(obj) {
      setDefault(obj, 'preemptionPolicy', 'PreemptLowerPriority');
    },
    validate: validatePriorityClass,
    validateUpdate: validatePriorityClassUpdate,
  },
};
