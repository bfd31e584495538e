// rbac.authorization.k8s.io/v1 ClusterRoleBinding: grants a ClusterRole across the cluster.
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

function validateClusterRoleBinding(obj: KubeObject): FieldError[] {
  return [
    ...validateObjectMeta(obj.metadata, { namespaced: false, nameRule: 'path-segment' }),
    ...validateRoleRef(obj, ['ClusterRole']),
    ...validateSubjects(obj, false),
  ];
}

const columns = bindingColumns();

export const clusterRoleBindingResource: ResourceDescription = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  namespaced: false,
  nameRule: 'path-segment',
  schemaRef: 'io.k8s.api.rbac.v1.ClusterRoleBinding',
  tableColumns: [nameColumn, columns.role, ageColumn, ...columns.wide],
  strategy: {
    default: defaultBinding,
    validate: validateClusterRoleBinding,
    validateUpdate: (obj, old) =>
      uniqueFieldErrors([
        ...validateObjectMetaUpdate(obj.metadata, old.metadata),
        ...validateRoleRefUnchanged(obj, old),
        ...validateClusterRoleBinding(obj),
      ]),
  },
};
