// Every built-in kind the API server serves, each described once (see ../types.ts). The order is
// the order discovery lists them in within a group version.
import type { ResourceDescription } from '../types.js';
import { selfSubjectReviewResource, tokenReviewResource } from './authentication.js';
import {
  localSubjectAccessReviewResource,
  selfSubjectAccessReviewResource,
  subjectAccessReviewResource,
} from './authorization.js';
import { certificateSigningRequestResource } from './certificate-signing-request.js';
import { clusterRoleResource } from './clusterrole.js';
import { clusterRoleBindingResource } from './clusterrolebinding.js';
import { componentStatusResource } from './componentstatus.js';
import { configMapResource } from './configmap.js';
import { customResourceDefinitionResource } from './custom-resource-definition.js';
import { eventResource } from './event.js';
import { eventsV1EventResource } from './events-v1.js';
import { leaseResource } from './lease.js';
import { namespaceResource } from './namespace.js';
import { roleResource } from './role.js';
import { roleBindingResource } from './rolebinding.js';
import { secretResource } from './secret.js';
import { serviceAccountResource } from './serviceaccount.js';
import { workloadResources } from './workloads.js';

/** The kinds of this folder's "platform" slice: namespaces, configuration, identity, RBAC, events. */
export const platformResources: readonly ResourceDescription[] = [
  namespaceResource,
  configMapResource,
  secretResource,
  serviceAccountResource,
  eventResource,
  componentStatusResource,
  eventsV1EventResource,
  leaseResource,
  roleResource,
  clusterRoleResource,
  roleBindingResource,
  clusterRoleBindingResource,
  subjectAccessReviewResource,
  selfSubjectAccessReviewResource,
  localSubjectAccessReviewResource,
  tokenReviewResource,
  selfSubjectReviewResource,
  customResourceDefinitionResource,
  certificateSigningRequestResource,
];

/** Everything built in: the platform kinds above and the workload kinds of ./workloads.ts. */
export const builtinResources: readonly ResourceDescription[] = [...platformResources, ...workloadResources];
