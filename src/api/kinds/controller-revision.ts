// apps/v1 ControllerRevision: immutable snapshots of a DaemonSet's or StatefulSet's template.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { validateImmutable } from './controller-common.js';
import { AGE_COLUMN, NAME_COLUMN, column, isInt } from './util.js';

export function validateControllerRevision(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (obj.data === undefined || obj.data === null) errs.push(fieldErr.required('data', 'data is mandatory'));
  const rev = obj.revision;
  if (!isInt(rev) || rev < 0)
    errs.push(fieldErr.invalid('revision', rev ?? null, 'must be greater than or equal to 0'));
  return errs;
}

export const controllerRevisionResource: ResourceDescription = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  schemaRef: 'io.k8s.api.apps.v1.ControllerRevision',
  tableColumns: [
    NAME_COLUMN,
    column('Controller', 'string', 'Controller of the object', (o) => {
      const owner = (o.metadata.ownerReferences ?? []).find((r) => r.controller === true);
      if (!owner) return '<none>';
      const slash = owner.apiVersion.indexOf('/');
      const group = slash < 0 ? '' : owner.apiVersion.slice(0, slash);
      return `${owner.kind.toLowerCase()}${group ? `.${group}` : ''}/${owner.name}`;
    }),
    column('Revision', 'integer', 'Revision indicates the revision of the state represented by Data.', (o) =>
      isInt(o.revision) ? o.revision : 0,
    ),
    AGE_COLUMN,
  ],
  strategy: {
    validate: validateControllerRevision,
    validateUpdate(obj, old) {
      const errs = validateControllerRevision(obj);
      validateImmutable(obj.data, old.data, 'data', errs);
      return errs;
    },
  },
};
