// authorization.k8s.io/v1 review kinds: create-only questions to the authorizer ("may this user do
// that?"). They are never stored: the API server answers a create by filling in status. Their
// validation covers the whole object, metadata included, which upstream requires to be empty.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { objField, strField } from './columns.js';

const GROUP = 'authorization.k8s.io';

/**
 * Fields a client cannot meaningfully send that a server may already have filled in before
 * validation. Upstream ignores managedFields; we also skip the bookkeeping fields so the check
 * holds whether or not our API server stamps them on review requests.
 */
const IGNORED_META: ReadonlySet<string> = new Set([
  'managedFields',
  'uid',
  'creationTimestamp',
  'resourceVersion',
  'generation',
]);

function isEmptyMeta(meta: ObjectMeta, allowNamespace: boolean): boolean {
  for (const [key, value] of Object.entries(meta) as [string, unknown][]) {
    if (IGNORED_META.has(key) || (allowNamespace && key === 'namespace')) continue;
    if (value === undefined || value === null || value === '' || value === 0) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) continue;
    return false;
  }
  return true;
}

/** Exactly one of resourceAttributes and nonResourceAttributes. */
function validateAttributesChoice(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const res = objField(obj, 'spec', 'resourceAttributes');
  const nonRes = objField(obj, 'spec', 'nonResourceAttributes');
  if (res && nonRes) {
    errs.push(
      fieldErr.invalid(
        'spec.nonResourceAttributes',
        nonRes,
        'cannot be specified in combination with resourceAttributes',
      ),
    );
  }
  if (!res && !nonRes) {
    errs.push(
      fieldErr.invalid(
        'spec.resourceAttributes',
        nonRes ?? null,
        'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      ),
    );
  }
  return errs;
}

function validateSubjectSpec(obj: KubeObject): FieldError[] {
  const errs = validateAttributesChoice(obj);
  const user = strField(obj, 'spec', 'user');
  const groups = objField(obj, 'spec')?.groups;
  if (user === '' && !(Array.isArray(groups) && groups.length > 0)) {
    errs.push(fieldErr.invalid('spec.user', user, 'at least one of user or group must be specified'));
  }
  return errs;
}

function review(
  kind: string,
  plural: string,
  namespaced: boolean,
  validate: (obj: KubeObject) => FieldError[],
): ResourceDescription {
  return {
    group: GROUP,
    version: 'v1',
    kind,
    plural,
    singular: plural.slice(0, -1),
    namespaced,
    schemaRef: `io.k8s.api.authorization.v1.${kind}`,
    verbs: ['create'],
    strategy: { validate },
  };
}

export const subjectAccessReviewResource = review(
  'SubjectAccessReview',
  'subjectaccessreviews',
  false,
  (obj) => {
    const errs = validateSubjectSpec(obj);
    if (!isEmptyMeta(obj.metadata, false))
      errs.push(fieldErr.invalid('metadata', obj.metadata, 'must be empty'));
    return errs;
  },
);

export const selfSubjectAccessReviewResource = review(
  'SelfSubjectAccessReview',
  'selfsubjectaccessreviews',
  false,
  (obj) => {
    const errs = validateAttributesChoice(obj);
    if (!isEmptyMeta(obj.metadata, false))
      errs.push(fieldErr.invalid('metadata', obj.metadata, 'must be empty'));
    return errs;
  },
);

export const localSubjectAccessReviewResource = review(
  'LocalSubjectAccessReview',
  'localsubjectaccessreviews',
  true,
  (obj) => {
    const errs = validateSubjectSpec(obj);
    if (!isEmptyMeta(obj.metadata, true)) {
      errs.push(fieldErr.invalid('metadata', obj.metadata, 'must be empty except for namespace'));
    }
    const res = objField(obj, 'spec', 'resourceAttributes');
    const ns = typeof res?.namespace === 'string' ? res.namespace : '';
    if (res && ns !== (obj.metadata.namespace ?? '')) {
      errs.push(fieldErr.invalid('spec.resourceAttributes.namespace', ns, 'must match metadata.namespace'));
    }
    const nonRes = objField(obj, 'spec', 'nonResourceAttributes');
    if (nonRes)
      errs.push(fieldErr.invalid('spec.nonResourceAttributes', nonRes, 'disallowed on this kind of request'));
    return errs;
  },
);
