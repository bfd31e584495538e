// Where each kind the components use lives in the REST API: one ResourceRef per resource, so that
// informers, listers and writes name a resource the same way everywhere (and the shared informer
// factory can key on it).
import type { ResourceRef } from './rest.js';

function ref(group: string, version: string, plural: string, namespaced: boolean): ResourceRef {
  return Object.freeze({ group, version, plural, namespaced });
}

// core/v1
export const PODS = ref('', 'v1', 'pods', true);
export const NODES = ref('', 'v1', 'nodes', false);
export const NAMESPACES = ref('', 'v1', 'namespaces', false);
export const SERVICES = ref('', 'v1', 'services', true);
export const ENDPOINTS = ref('', 'v1', 'endpoints', true);
export const CONFIGMAPS = ref('', 'v1', 'configmaps', true);
export const SECRETS = ref('', 'v1', 'secrets', true);
export const SERVICEACCOUNTS = ref('', 'v1', 'serviceaccounts', true);
export const EVENTS = ref('', 'v1', 'events', true);
export const REPLICATIONCONTROLLERS = ref('', 'v1', 'replicationcontrollers', true);
export const PERSISTENTVOLUMES = ref('', 'v1', 'persistentvolumes', false);
export const PERSISTENTVOLUMECLAIMS = ref('', 'v1', 'persistentvolumeclaims', true);
export const RESOURCEQUOTAS = ref('', 'v1', 'resourcequotas', true);
export const LIMITRANGES = ref('', 'v1', 'limitranges', true);
export const PODTEMPLATES = ref('', 'v1', 'podtemplates', true);

// apps/v1
export const REPLICASETS = ref('apps', 'v1', 'replicasets', true);
export const DEPLOYMENTS = ref('apps', 'v1', 'deployments', true);
export const DAEMONSETS = ref('apps', 'v1', 'daemonsets', true);
export const STATEFULSETS = ref('apps', 'v1', 'statefulsets', true);
export const CONTROLLERREVISIONS = ref('apps', 'v1', 'controllerrevisions', true);

// batch/v1
export const JOBS = ref('batch', 'v1', 'jobs', true);
export const CRONJOBS = ref('batch', 'v1', 'cronjobs', true);

// discovery, networking
export const ENDPOINTSLICES = ref('discovery.k8s.io', 'v1', 'endpointslices', true);
export const INGRESSES = ref('networking.k8s.io', 'v1', 'ingresses', true);
export const INGRESSCLASSES = ref('networking.k8s.io', 'v1', 'ingressclasses', false);
export const NETWORKPOLICIES = ref('networking.k8s.io', 'v1', 'networkpolicies', true);

// coordination, events
export const LEASES = ref('coordination.k8s.io', 'v1', 'leases', true);
export const EVENTS_V1 = ref('events.k8s.io', 'v1', 'events', true);

// storage
export const STORAGECLASSES = ref('storage.k8s.io', 'v1', 'storageclasses', false);
export const VOLUMEATTACHMENTS = ref('storage.k8s.io', 'v1', 'volumeattachments', false);
export const CSIDRIVERS = ref('storage.k8s.io', 'v1', 'csidrivers', false);
export const CSINODES = ref('storage.k8s.io', 'v1', 'csinodes', false);

// policy, autoscaling, scheduling
export const PODDISRUPTIONBUDGETS = ref('policy', 'v1', 'poddisruptionbudgets', true);
export const HORIZONTALPODAUTOSCALERS = ref('autoscaling', 'v2', 'horizontalpodautoscalers', true);
export const PRIORITYCLASSES = ref('scheduling.k8s.io', 'v1', 'priorityclasses', false);

// certificates
export const CERTIFICATESIGNINGREQUESTS = ref(
  'certificates.k8s.io',
  'v1',
  'certificatesigningrequests',
  false,
);
export const CSR = CERTIFICATESIGNINGREQUESTS;

// rbac.authorization.k8s.io/v1
export const ROLES = ref('rbac.authorization.k8s.io', 'v1', 'roles', true);
export const ROLEBINDINGS = ref('rbac.authorization.k8s.io', 'v1', 'rolebindings', true);
export const CLUSTERROLES = ref('rbac.authorization.k8s.io', 'v1', 'clusterroles', false);
export const CLUSTERROLEBINDINGS = ref('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', false);

// admission and extension
export const MUTATINGWEBHOOKCONFIGURATIONS = ref(
  'admissionregistration.k8s.io',
  'v1',
  'mutatingwebhookconfigurations',
  false,
);
export const VALIDATINGWEBHOOKCONFIGURATIONS = ref(
  'admissionregistration.k8s.io',
  'v1',
  'validatingwebhookconfigurations',
  false,
);
export const CUSTOMRESOURCEDEFINITIONS = ref(
  'apiextensions.k8s.io',
  'v1',
  'customresourcedefinitions',
  false,
);

/** A stable string naming a resource (group/version/plural), used as a map key. */
export function refKey(r: ResourceRef): string {
  return `${r.group}/${r.version}/${r.plural}`;
}
