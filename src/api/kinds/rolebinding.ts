// rbac.authorization.k8s.io/v1 RoleBinding: grants a Role or ClusterRole inside one namespace.
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { uniqueFieldErrors, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.js';
import { ageColumn, nameColumn } from './columns.js';
import {
  bindingColumns,
  defaultBinding,
  validateRoleRef,
  validateRoleRefUnchanged,
  validateSubjects,
} from './rbac.js';

function validateRoleBinding(obj: KubeObject): FieldError[] {
  return [
    ...validateObjectMeta(obj.metadata, { namespaced: true, nameRule: 'path-segment' }),
    ...validateRoleRef(obj, ['Role', 'ClusterRole']),
    ...validateSubjects(obj, true),
  ];
}

const columns = bindingColumns();

export const roleBindingResource: ResourceDescription = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'RoleBinding',
  plural: 'rolebindings',
  singular: 'rolebinding',
  namespaced: true,
  nameRule: 'path-segment',
  schemaRef: 'io.k8s.api.rbac.v1.RoleBinding',
  tableColumns: [nameColumn, columns.role, ageColumn, ...columns.wide],
  strategy: {
    default: defaultBinding,
    validate: validateRoleBinding,
    validateUpdate: (obj, old) =>
      uniqueFieldErrors([
        ...validateObjectMetaUpdate(obj.metadata, old.metadata),
        ...validateRoleRefUnchanged(obj, old),
        ...validateRoleBinding(obj),
      ]),
  },
};
