// authentication.k8s.io/v1 review kinds: create-only and never stored. TokenReview asks the server
// to authenticate a token; SelfSubjectReview returns the caller's own user information.
import type { ResourceDescription } from '../types.js';

/** Upstream answers a TokenReview without a token with a 400 carrying this message. */
export const TOKEN_REVIEW_NO_TOKEN_MESSAGE = 'token must be provided';

export const tokenReviewResource: ResourceDescription = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'TokenReview',
  plural: 'tokenreviews',
  singular: 'tokenreview',
  namespaced: false,
  schemaRef: 'io.k8s.api.authentication.v1.TokenReview',
  verbs: ['create'],
};

export const selfSubjectReviewResource: ResourceDescription = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectReview',
  plural: 'selfsubjectreviews',
  singular: 'selfsubjectreview',
  namespaced: false,
  schemaRef: 'io.k8s.api.authentication.v1.SelfSubjectReview',
  verbs: ['create'],
};
