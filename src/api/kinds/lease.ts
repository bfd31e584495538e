// coordination.k8s.io/v1 Lease: leader election and node heartbeats.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { uniqueFieldErrors, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.js';
import { ageColumn, field, nameColumn, strField } from './columns.js';

/** The only coordinated leader election strategy upstream knows. */
export const OLDEST_EMULATION_VERSION = 'OldestEmulationVersion';

function validateLeaseSpec(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const duration = field(obj, 'spec', 'leaseDurationSeconds');
  if (typeof duration === 'number' && duration <= 0) {
    errs.push(fieldErr.invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  }
  const transitions = field(obj, 'spec', 'leaseTransitions');
  if (typeof transitions === 'number' && transitions < 0) {
    errs.push(fieldErr.invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
  }
  const strategy = strField(obj, 'spec', 'strategy');
  if (strategy !== '' && strategy !== OLDEST_EMULATION_VERSION) {
    errs.push(fieldErr.notSupported('spec.strategy', strategy, [OLDEST_EMULATION_VERSION]));
  }
  if (strField(obj, 'spec', 'preferredHolder') !== '' && strategy === '') {
    errs.push(fieldErr.forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  }
  return errs;
}

function validateLease(obj: KubeObject): FieldError[] {
  return [...validateObjectMeta(obj.metadata, { namespaced: true }), ...validateLeaseSpec(obj)];
}

export const leaseResource: ResourceDescription = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  schemaRef: 'io.k8s.api.coordination.v1.Lease',
  tableColumns: [
    nameColumn,
    {
      name: 'Holder',
      type: 'string',
      description: 'The identity of the current holder of the lease.',
      priority: 0,
      cell: (obj) => strField(obj, 'spec', 'holderIdentity'),
    },
    ageColumn,
  ],
  strategy: {
    validate: validateLease,
    validateUpdate: (obj, old) =>
      uniqueFieldErrors([...validateObjectMetaUpdate(obj.metadata, old.metadata), ...validateLease(obj)]),
  },
};
