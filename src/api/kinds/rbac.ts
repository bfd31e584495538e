// Shared rules of the rbac.authorization.k8s.io/v1 kinds: names are path segments (so
// "system:node" is valid), policy rules name verbs and either resources or non-resource URLs, and
// bindings point at a role by a roleRef that can never change.
import { fieldErr, type FieldError } from '../errors.js';
import { isPlainObject, type KubeObject } from '../meta.js';
import type { TableColumn } from '../types.js';
import { nameIsDNSSubdomain, nameIsPathSegment } from '../validation/names.js';
import { semanticEqual } from '../validation/immutable.js';
import { arrField, objField, strField } from './columns.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** ValidatePolicyRule: `namespaced` rules (of Roles) may not name non-resource URLs. */
export function validatePolicyRule(rule: unknown, namespaced: boolean, path: string): FieldError[] {
  const r = isPlainObject(rule) ? rule : {};
  const errs: FieldError[] = [];
  if (strs(r.verbs).length === 0)
    errs.push(fieldErr.required(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = strs(r.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) {
      errs.push(
        fieldErr.invalid(
          `${path}.nonResourceURLs`,
          urls,
          'namespaced rules cannot apply to non-resource URLs',
        ),
      );
    }
    if (strs(r.apiGroups).length > 0 || strs(r.resources).length > 0 || strs(r.resourceNames).length > 0) {
      errs.push(
        fieldErr.invalid(
          `${path}.nonResourceURLs`,
          urls,
          'rules cannot apply to both regular resources and non-resource URLs',
        ),
      );
    }
    return errs;
  }
  // A missing apiGroups differs from [""] (the core group): upstream requires the list itself.
  if (!Array.isArray(r.apiGroups) || r.apiGroups.length === 0) {
    errs.push(fieldErr.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  }
  if (strs(r.resources).length === 0) {
    errs.push(fieldErr.required(`${path}.resources`, 'resource rules must supply at least one resource'));
  }
  return errs;
}

export function validateRules(obj: KubeObject, namespaced: boolean): FieldError[] {
  return arrField(obj, 'rules').flatMap((rule, i) => validatePolicyRule(rule, namespaced, `rules[${i}]`));
}

/** ValidateRoleBindingSubject. Cluster-wide bindings need a namespace on ServiceAccount subjects. */
export function validateSubject(subject: unknown, namespaced: boolean, path: string): FieldError[] {
  const s = isPlainObject(subject) ? subject : {};
  const errs: FieldError[] = [];
  const name = typeof s.name === 'string' ? s.name : '';
  const apiGroup = typeof s.apiGroup === 'string' ? s.apiGroup : '';
  const kind = typeof s.kind === 'string' ? s.kind : '';
  if (name === '') errs.push(fieldErr.required(`${path}.name`, ''));
  switch (kind) {
    case 'ServiceAccount':
      if (name !== '')
        for (const msg of nameIsDNSSubdomain(name, false))
          errs.push(fieldErr.invalid(`${path}.name`, name, msg));
      if (apiGroup !== '') errs.push(fieldErr.notSupported(`${path}.apiGroup`, apiGroup, ['']));
      if (!namespaced && (typeof s.namespace !== 'string' || s.namespace === '')) {
        errs.push(fieldErr.required(`${path}.namespace`, ''));
      }
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP)
        errs.push(fieldErr.notSupported(`${path}.apiGroup`, apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(fieldErr.notSupported(`${path}.kind`, kind, ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** roleRef checks; `kinds` are the role kinds the binding may point at. */
export function validateRoleRef(obj: KubeObject, kinds: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  const apiGroup = strField(obj, 'roleRef', 'apiGroup');
  if (apiGroup !== RBAC_GROUP) errs.push(fieldErr.notSupported('roleRef.apiGroup', apiGroup, [RBAC_GROUP]));
  const kind = strField(obj, 'roleRef', 'kind');
  if (!kinds.includes(kind)) errs.push(fieldErr.notSupported('roleRef.kind', kind, kinds));
  const name = strField(obj, 'roleRef', 'name');
  if (name === '') errs.push(fieldErr.required('roleRef.name', ''));
  else
    for (const msg of nameIsPathSegment(name, false)) errs.push(fieldErr.invalid('roleRef.name', name, msg));
  return errs;
}

export function validateSubjects(obj: KubeObject, namespaced: boolean): FieldError[] {
  return arrField(obj, 'subjects').flatMap((s, i) => validateSubject(s, namespaced, `subjects[${i}]`));
}

/** Upstream refuses any roleRef change with its own sentence rather than "field is immutable". */
export function validateRoleRefUnchanged(obj: KubeObject, old: KubeObject): FieldError[] {
  const now = objField(obj, 'roleRef') ?? {};
  const before = objField(old, 'roleRef') ?? {};
  return semanticEqual(now, before) ? [] : [fieldErr.invalid('roleRef', now, 'cannot change roleRef')];
}

/** v1 defaults: roleRef and User/Group subjects default to the RBAC API group. */
export function defaultBinding(obj: KubeObject): void {
  const roleRef = objField(obj, 'roleRef');
  if (roleRef && (typeof roleRef.apiGroup !== 'string' || roleRef.apiGroup === ''))
    roleRef.apiGroup = RBAC_GROUP;
  for (const s of arrField(obj, 'subjects')) {
    if (!isPlainObject(s)) continue;
    if ((s.kind === 'User' || s.kind === 'Group') && (typeof s.apiGroup !== 'string' || s.apiGroup === '')) {
      s.apiGroup = RBAC_GROUP;
    }
  }
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function subjectNames(obj: KubeObject, kind: string): string {
  return arrField(obj, 'subjects')
    .filter((s): s is Record<string, unknown> => isPlainObject(s) && s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${text(s.namespace)}/${text(s.name)}` : text(s.name)))
    .join(', ');
}

/** Role, then the -o wide Users, Groups and ServiceAccounts columns of bindings. */
export function bindingColumns(): { role: TableColumn; wide: TableColumn[] } {
  return {
    role: {
      name: 'Role',
      type: 'string',
      description: 'The role the binding grants, as Kind/name.',
      priority: 0,
      cell: (obj) => `${strField(obj, 'roleRef', 'kind')}/${strField(obj, 'roleRef', 'name')}`,
    },
    wide: [
      {
        name: 'Users',
        type: 'string',
        description: 'The users the binding applies to.',
        priority: 1,
        cell: (obj) => subjectNames(obj, 'User'),
      },
      {
        name: 'Groups',
        type: 'string',
        description: 'The groups the binding applies to.',
        priority: 1,
        cell: (obj) => subjectNames(obj, 'Group'),
      },
      {
        name: 'ServiceAccounts',
        type: 'string',
        description: 'The service accounts the binding applies to, as namespace/name.',
        priority: 1,
        cell: (obj) => subjectNames(obj, 'ServiceAccount'),
      },
    ],
  };
}
