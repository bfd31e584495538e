// rbac.authorization.k8s.io/v1 Role: namespaced permissions.
import type { ResourceDescription } from '../types.js';
import { uniqueFieldErrors, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.js';
import { createdAtColumn, nameColumn } from './columns.js';
import { validateRules } from './rbac.js';

const validateRole: NonNullable<NonNullable<ResourceDescription['strategy']>['validate']> = (obj) => [
  ...validateObjectMeta(obj.metadata, { namespaced: true, nameRule: 'path-segment' }),
  ...validateRules(obj, true),
];

export const roleResource: ResourceDescription = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'Role',
  plural: 'roles',
  singular: 'role',
  namespaced: true,
  nameRule: 'path-segment',
  schemaRef: 'io.k8s.api.rbac.v1.Role',
  tableColumns: [nameColumn, createdAtColumn],
  strategy: {
    validate: validateRole,
    validateUpdate: (obj, old) =>
      uniqueFieldErrors([...validateObjectMetaUpdate(obj.metadata, old.metadata), ...validateRole(obj)]),
  },
};
