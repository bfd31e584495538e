// SelfSubjectRulesReview (authorization.k8s.io/v1): what the caller may do in a namespace, as
// `kubectl auth can-i --list` prints it. Answered from the authorizer's rules, never stored.
import { badRequest } from '../api/errors.js';
import { isPlainObject } from '../api/meta.js';
import type { ResourceDescription } from '../api/types.js';
import type { UserInfo } from './request-info.js';
import type { CreateHandler } from './reviews.js';

export const selfSubjectRulesReviewResource: ResourceDescription = {
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectRulesReview',
  plural: 'selfsubjectrulesreviews',
  singular: 'selfsubjectrulesreview',
  namespaced: false,
  schemaRef: 'io.k8s.api.authorization.v1.SelfSubjectRulesReview',
  verbs: ['create'],
};

export interface RulesReviewStatus {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  incomplete: boolean;
  evaluationError?: string;
}

export function selfSubjectRulesReviewHandler(
  rulesFor: (user: UserInfo, namespace: string) => Promise<RulesReviewStatus>,
): CreateHandler {
  return async (obj, ctx) => {
    const spec = isPlainObject(obj.spec) ? obj.spec : {};
    const namespace = typeof spec.namespace === 'string' ? spec.namespace : '';
    if (namespace === '') throw badRequest('no namespace on request');
    const status = await rulesFor(ctx.user, namespace);
    return { ...obj, metadata: { ...obj.metadata, creationTimestamp: null }, status };
  };
}
