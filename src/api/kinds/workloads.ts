// Every workload kind of this slice, in the order discovery lists them.
import type { ResourceDescription } from '../types.js';
import { controllerRevisionResource } from './controller-revision.js';
import { cronJobResource, cronJobV1beta1Resource } from './cron-job.js';
import { daemonSetResource } from './daemon-set.js';
import { deploymentExtensionsV1beta1Resource, deploymentResource } from './deployment.js';
import { endpointSliceResource } from './endpoint-slice.js';
import { endpointsResource } from './endpoints.js';
import {
  horizontalPodAutoscalerResource,
  horizontalPodAutoscalerV1Resource,
} from './horizontal-pod-autoscaler.js';
import { ingressClassResource } from './ingress-class.js';
import {
  ingressExtensionsV1beta1Resource,
  ingressNetworkingV1beta1Resource,
  ingressResource,
} from './ingress.js';
import { jobResource } from './job.js';
import { limitRangeResource } from './limit-range.js';
import { networkPolicyResource } from './network-policy.js';
import { nodeResource } from './node.js';
import { persistentVolumeClaimResource } from './persistent-volume-claim.js';
import { persistentVolumeResource } from './persistent-volume.js';
import { podDisruptionBudgetResource } from './pod-disruption-budget.js';
import { podTemplateResource } from './pod-template.js';
import { podResource } from './pod.js';
import { priorityClassResource } from './priority-class.js';
import { replicaSetResource } from './replica-set.js';
import { replicationControllerResource } from './replication-controller.js';
import { resourceQuotaResource } from './resource-quota.js';
import { serviceResource } from './service.js';
import { statefulSetResource } from './stateful-set.js';
import { storageClassResource } from './storage-class.js';

export const workloadResources: readonly ResourceDescription[] = [
  // core/v1
  podResource,
  podTemplateResource,
  replicationControllerResource,
  serviceResource,
  endpointsResource,
  nodeResource,
  persistentVolumeResource,
  persistentVolumeClaimResource,
  limitRangeResource,
  resourceQuotaResource,
  // apps/v1
  deploymentResource,
  replicaSetResource,
  daemonSetResource,
  statefulSetResource,
  controllerRevisionResource,
  // batch/v1
  jobResource,
  cronJobResource,
  // autoscaling/v2 (storage) and v1
  horizontalPodAutoscalerResource,
  horizontalPodAutoscalerV1Resource,
  // networking.k8s.io/v1
  ingressResource,
  ingressClassResource,
  networkPolicyResource,
  // discovery, storage, scheduling, policy
  endpointSliceResource,
  storageClassResource,
  priorityClassResource,
  podDisruptionBudgetResource,
  // old versions the seeds use, served by conversion to the storage version
  deploymentExtensionsV1beta1Resource,
  ingressExtensionsV1beta1Resource,
  ingressNetworkingV1beta1Resource,
  cronJobV1beta1Resource,
];
