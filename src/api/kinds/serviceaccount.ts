// core/v1 ServiceAccount: metadata-only validation (DNS-1123 subdomain names).
import type { ResourceDescription } from '../types.js';
import { uniqueFieldErrors, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.js';
import { ageColumn, arrField, nameColumn } from './columns.js';

export const serviceAccountResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  shortNames: ['sa'],
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.ServiceAccount',
  tableColumns: [
    nameColumn,
    {
      name: 'Secrets',
      type: 'string',
      description: 'How many secrets the account lists.',
      priority: 0,
      cell: (obj) => arrField(obj, 'secrets').length,
    },
    ageColumn,
  ],
  strategy: {
    validate: (obj) => validateObjectMeta(obj.metadata, { namespaced: true, standardFinalizers: true }),
    validateUpdate: (obj, old) =>
      uniqueFieldErrors([
        ...validateObjectMetaUpdate(obj.metadata, old.metadata, 'metadata', { standardFinalizers: true }),
        ...validateObjectMeta(obj.metadata, { namespaced: true, standardFinalizers: true }),
      ]),
  },
};
