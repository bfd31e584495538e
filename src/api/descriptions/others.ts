// Our own descriptions for RBAC, coordination, events.k8s.io and the review kinds.
const R = 'io.k8s.api.rbac.v1';
const L = 'io.k8s.api.coordination.v1';
const E = 'io.k8s.api.events.v1';
const Z = 'io.k8s.api.authorization.v1';
const N = 'io.k8s.api.authentication.v1';

export const otherDescriptions: Readonly<Record<string, string>> = {
  [`${R}.Role.rules`]: 'The permissions the role grants.',
  [`${R}.ClusterRole.rules`]:
    'The permissions the role grants. For aggregated roles the controller fills this in.',
  [`${R}.ClusterRole.aggregationRule`]:
    'Makes this role the union of the rules of the ClusterRoles it selects.',
  [`${R}.AggregationRule`]: 'Selects ClusterRoles whose rules are combined into an aggregated role.',
  [`${R}.AggregationRule.clusterRoleSelectors`]:
    'Label selectors; a ClusterRole matching any of them contributes its rules.',
  [`${R}.PolicyRule`]: 'One permission: the verbs allowed on the listed resources or non-resource URLs.',
  [`${R}.PolicyRule.apiGroups`]: 'API groups of the resources; "" is the core group and "*" any group.',
  [`${R}.PolicyRule.nonResourceURLs`]:
    'URL paths such as /healthz that are not resources; only meaningful in ClusterRoles.',
  [`${R}.PolicyRule.resourceNames`]: 'Restricts the rule to objects with these names.',
  [`${R}.PolicyRule.resources`]:
    'Resources the rule applies to, such as "pods" or "pods/log"; "*" means all.',
  [`${R}.PolicyRule.verbs`]:
    'The allowed verbs, such as get, list, watch, create, update, patch and delete; "*" means all.',
  [`${R}.RoleBinding.roleRef`]:
    'The Role or ClusterRole whose permissions are granted. Cannot be changed: delete and recreate the binding instead.',
  [`${R}.RoleBinding.subjects`]: 'The users, groups and service accounts that receive the permissions.',
  [`${R}.ClusterRoleBinding.roleRef`]:
    'The ClusterRole whose permissions are granted. Cannot be changed: delete and recreate the binding instead.',
  [`${R}.ClusterRoleBinding.subjects`]:
    'The users, groups and service accounts that receive the permissions.',
  [`${R}.RoleRef`]: 'Points at the role a binding grants.',
  [`${R}.RoleRef.apiGroup`]: 'The group of the role: rbac.authorization.k8s.io.',
  [`${R}.RoleRef.kind`]: 'Role or ClusterRole.',
  [`${R}.RoleRef.name`]: 'The name of the role.',
  [`${R}.Subject`]: 'Who a binding applies to.',
  [`${R}.Subject.apiGroup`]: 'Empty for ServiceAccount; rbac.authorization.k8s.io for User and Group.',
  [`${R}.Subject.kind`]: 'User, Group or ServiceAccount.',
  [`${R}.Subject.name`]: 'The name of the user, group or service account.',
  [`${R}.Subject.namespace`]: 'The namespace of a ServiceAccount subject.',
  [`${L}.Lease.spec`]: 'Who holds the lease and for how long.',
  [`${L}.LeaseSpec`]: 'The state of a lease.',
  [`${L}.LeaseSpec.acquireTime`]: 'When the current holder acquired the lease.',
  [`${L}.LeaseSpec.holderIdentity`]: 'The identity of the current holder.',
  [`${L}.LeaseSpec.leaseDurationSeconds`]:
    'How long, after renewTime, other candidates must wait before taking the lease over.',
  [`${L}.LeaseSpec.leaseTransitions`]: 'How many times the lease has changed holders.',
  [`${L}.LeaseSpec.preferredHolder`]: 'A holder that the current one should hand the lease to.',
  [`${L}.LeaseSpec.renewTime`]: 'When the holder last renewed the lease.',
  [`${L}.LeaseSpec.strategy`]: 'How a coordinated leader election picks the next holder.',
  [`${E}.Event.action`]: 'What was done, or failed to be done, to the regarding object.',
  [`${E}.Event.deprecatedCount`]: 'Occurrence count carried over from core/v1 events.',
  [`${E}.Event.deprecatedFirstTimestamp`]: 'First-seen time carried over from core/v1 events.',
  [`${E}.Event.deprecatedLastTimestamp`]: 'Last-seen time carried over from core/v1 events.',
  [`${E}.Event.deprecatedSource`]: 'Reporting source carried over from core/v1 events.',
  [`${E}.Event.eventTime`]: 'When the event was first observed, with microsecond precision. Required.',
  [`${E}.Event.note`]: 'A human-readable description of what happened, at most 1 KiB.',
  [`${E}.Event.reason`]: 'Why the action was taken, as a short CamelCase word.',
  [`${E}.Event.regarding`]: 'The object the event is about.',
  [`${E}.Event.related`]: 'A second object involved.',
  [`${E}.Event.reportingController`]:
    'The controller that emitted the event, such as "kubernetes.io/kubelet".',
  [`${E}.Event.reportingInstance`]: 'Which instance of the controller emitted the event.',
  [`${E}.Event.series`]: 'Data about a series of repeated occurrences.',
  [`${E}.Event.type`]: 'Normal or Warning.',
  [`${Z}.SubjectAccessReview.spec`]: 'The user and the action to check.',
  [`${Z}.SubjectAccessReview.status`]: 'The answer: whether the action is allowed.',
  [`${Z}.SelfSubjectAccessReview.spec`]: 'The action to check for the caller.',
  [`${Z}.SelfSubjectAccessReview.status`]: 'The answer: whether the action is allowed.',
  [`${Z}.LocalSubjectAccessReview.spec`]:
    "The user and the action to check; the namespace must match the request's.",
  [`${Z}.LocalSubjectAccessReview.status`]: 'The answer: whether the action is allowed.',
  [`${Z}.SubjectAccessReviewSpec`]:
    'A user and an action. Exactly one of resourceAttributes and nonResourceAttributes is set.',
  [`${Z}.SubjectAccessReviewSpec.extra`]: 'Extra attributes of the user, as the authenticator reported them.',
  [`${Z}.SubjectAccessReviewSpec.groups`]: 'Groups the user belongs to.',
  [`${Z}.SubjectAccessReviewSpec.nonResourceAttributes`]: 'The non-resource request to check.',
  [`${Z}.SubjectAccessReviewSpec.resourceAttributes`]: 'The resource request to check.',
  [`${Z}.SubjectAccessReviewSpec.uid`]: 'The UID of the user.',
  [`${Z}.SubjectAccessReviewSpec.user`]: 'The user to check.',
  [`${Z}.SelfSubjectAccessReviewSpec`]:
    'An action of the caller. Exactly one of resourceAttributes and nonResourceAttributes is set.',
  [`${Z}.SelfSubjectAccessReviewSpec.nonResourceAttributes`]: 'The non-resource request to check.',
  [`${Z}.SelfSubjectAccessReviewSpec.resourceAttributes`]: 'The resource request to check.',
  [`${Z}.ResourceAttributes`]: 'A request on a resource, as the authorizer sees it.',
  [`${Z}.ResourceAttributes.group`]: 'The API group; "*" means all.',
  [`${Z}.ResourceAttributes.name`]: 'The name of the object; empty for list, watch and create.',
  [`${Z}.ResourceAttributes.namespace`]:
    'The namespace; empty for cluster-scoped resources or all namespaces.',
  [`${Z}.ResourceAttributes.resource`]: 'The resource, such as "pods"; "*" means all.',
  [`${Z}.ResourceAttributes.subresource`]: 'The subresource, such as "log" or "status".',
  [`${Z}.ResourceAttributes.verb`]: 'The verb, such as get, list or create; "*" means all.',
  [`${Z}.ResourceAttributes.version`]: 'The API version; "*" means all.',
  [`${Z}.NonResourceAttributes`]: 'A request on a URL path that is not a resource.',
  [`${Z}.NonResourceAttributes.path`]: 'The URL path.',
  [`${Z}.NonResourceAttributes.verb`]: 'The HTTP verb in lower case.',
  [`${Z}.SubjectAccessReviewStatus`]: "The authorizer's answer.",
  [`${Z}.SubjectAccessReviewStatus.allowed`]: 'True when the action is allowed.',
  [`${Z}.SubjectAccessReviewStatus.denied`]:
    'True when the action is explicitly denied, so no other authorizer is asked.',
  [`${Z}.SubjectAccessReviewStatus.evaluationError`]:
    'An error met while evaluating, if any; the answer may still be usable.',
  [`${Z}.SubjectAccessReviewStatus.reason`]: 'Why the action is allowed or denied.',
  [`${N}.TokenReview.spec`]: 'The token to authenticate.',
  [`${N}.TokenReview.status`]: 'Whether the token is valid and whom it belongs to.',
  [`${N}.TokenReviewSpec`]: 'A token and the audiences it should be valid for.',
  [`${N}.TokenReviewSpec.audiences`]: "Audiences the token must be valid for; defaults to the API server's.",
  [`${N}.TokenReviewSpec.token`]: 'The opaque bearer token.',
  [`${N}.TokenReviewStatus`]: 'The result of authenticating a token.',
  [`${N}.TokenReviewStatus.audiences`]: 'The audiences the token is valid for.',
  [`${N}.TokenReviewStatus.authenticated`]: 'True when the token is valid.',
  [`${N}.TokenReviewStatus.error`]: 'Why the token could not be authenticated.',
  [`${N}.TokenReviewStatus.user`]: 'The user the token belongs to.',
  [`${N}.UserInfo`]: 'The identity of an authenticated user.',
  [`${N}.UserInfo.extra`]: 'Extra attributes the authenticator attached.',
  [`${N}.UserInfo.groups`]: 'Groups the user belongs to.',
  [`${N}.UserInfo.uid`]: 'A unique identifier of the user.',
  [`${N}.UserInfo.username`]: "The user's name.",
  [`${N}.SelfSubjectReview.status`]: "The caller's user information.",
  [`${N}.SelfSubjectReviewStatus`]: "The caller's identity as the server sees it.",
  [`${N}.SelfSubjectReviewStatus.userInfo`]: "The caller's user information.",
};
