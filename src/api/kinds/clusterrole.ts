// rbac.authorization.k8s.io/v1 ClusterRole: cluster-wide permissions, optionally aggregated from
// other ClusterRoles selected by label.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { uniqueFieldErrors, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.js';
import { validateLabelSelector } from '../validation/selector.js';
import { arrField, createdAtColumn, nameColumn, objField } from './columns.js';
import { validateRules } from './rbac.js';

function validateClusterRole(obj: KubeObject): FieldError[] {
  const errs = [
    ...validateObjectMeta(obj.metadata, { namespaced: false, nameRule: 'path-segment' }),
    ...validateRules(obj, false),
  ];
  const aggregation = objField(obj, 'aggregationRule');
  if (aggregation) {
    const selectors = arrField(aggregation, 'clusterRoleSelectors');
    if (selectors.length === 0) {
      errs.push(
        fieldErr.required(
          'aggregationRule.clusterRoleSelectors',
          'at least one clusterRoleSelector required if aggregationRule is non-nil',
        ),
      );
    }
    selectors.forEach((sel, i) =>
      errs.push(...validateLabelSelector(sel, `aggregationRule.clusterRoleSelectors[${i}]`)),
    );
  }
  return errs;
}

export const clusterRoleResource: ResourceDescription = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRole',
  plural: 'clusterroles',
  singular: 'clusterrole',
  namespaced: false,
  nameRule: 'path-segment',
  schemaRef: 'io.k8s.api.rbac.v1.ClusterRole',
  tableColumns: [nameColumn, createdAtColumn],
  strategy: {
    validate: validateClusterRole,
    validateUpdate: (obj, old) =>
      uniqueFieldErrors([
        ...validateObjectMetaUpdate(obj.metadata, old.metadata),
        ...validateClusterRole(obj),
      ]),
  },
};
