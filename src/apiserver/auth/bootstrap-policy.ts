// The default RBAC policy the API server creates at first start and reconciles at every start, as
// upstream's bootstrappolicy (policy.go, controller_policy.go, namespace_policy.go) defines it: the
// user-facing roles (cluster-admin, admin, edit, view and their aggregation), the system:* roles of
// the components, one role per controller, and their bindings. Every object carries the label
// kubernetes.io/bootstrapping=rbac-defaults and the annotation rbac.authorization.kubernetes.io/autoupdate.
//
// k8ts additions, because it has no Node authorizer and joins agents with bootstrap tokens (kubeadm
// creates the same bindings under kubeadm:* names): system:nodes is bound to system:node, and
// system:bootstrappers may create CSRs and have node client CSRs auto-approved; system:anonymous
// may read kube-public/cluster-info (kubeadm:bootstrap-signer-clusterinfo).
import { covers } from './rbac.js';
import {
  ALL_AUTHENTICATED,
  ALL_UNAUTHENTICATED,
  ANONYMOUS,
  BOOTSTRAP_DEFAULT_GROUP,
  type ClusterRole,
  type ClusterRoleBinding,
  KUBE_CONTROLLER_MANAGER,
  KUBE_PROXY,
  KUBE_SCHEDULER,
  MONITORING_GROUP,
  NODES_GROUP,
  type PolicyRule,
  RBAC_GROUP,
  type Role,
  type RoleBinding,
  SERVICE_ACCOUNTS_GROUP,
  SYSTEM_PRIVILEGED_GROUP,
  type Subject,
} from './types.js';

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const BOOTSTRAPPING_LABEL = 'kubernetes.io/bootstrapping';
export const AGGREGATE_TO_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';
export const AGGREGATE_TO_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const AGGREGATE_TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const READ_WRITE = [...READ, ...WRITE];
const READ_UPDATE = ['get', 'list', 'watch', 'update', 'patch'];

const CORE = '';
const APPS = 'apps';
const AUTHN = 'authentication.k8s.io';
const AUTHZ = 'authorization.k8s.io';
const AUTOSCALING = 'autoscaling';
const BATCH = 'batch';
const CERTIFICATES = 'certificates.k8s.io';
const COORDINATION = 'coordination.k8s.io';
const DISCOVERY = 'discovery.k8s.io';
const EXTENSIONS = 'extensions';
const POLICY = 'policy';
const STORAGE = 'storage.k8s.io';
const NETWORKING = 'networking.k8s.io';
const EVENTS = 'events.k8s.io';
const RESOURCE = 'resource.k8s.io';
const ADMISSION = 'admissionregistration.k8s.io';

const sorted = (xs: readonly string[]): string[] => [...new Set(xs)].sort();

/** A resource rule; lists are sorted as upstream's rule builder sorts them. */
function rule(
  verbs: readonly string[],
  groups: readonly string[],
  resources: readonly string[],
  names?: readonly string[],
): PolicyRule {
  const r: PolicyRule = { verbs: sorted(verbs), apiGroups: sorted(groups), resources: sorted(resources) };
  if (names && names.length > 0) r.resourceNames = sorted(names);
  return r;
}

function urls(verbs: readonly string[], paths: readonly string[]): PolicyRule {
  return { verbs: sorted(verbs), nonResourceURLs: sorted(paths) };
}

const eventsRule = (): PolicyRule => rule(['create', 'update', 'patch'], [CORE, EVENTS], ['events']);

function meta(
  name: string,
  labels: Record<string, string> = {},
  namespace?: string,
): ClusterRole['metadata'] {
  const m: ClusterRole['metadata'] = {
    name,
    labels: { ...labels, [BOOTSTRAPPING_LABEL]: 'rbac-defaults' },
    annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
  };
  if (namespace) m.namespace = namespace;
  return m;
}

function clusterRole(name: string, rules: PolicyRule[], labels?: Record<string, string>): ClusterRole {
  return { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata: meta(name, labels), rules };
}

function aggregatedClusterRole(
  name: string,
  selectLabel: string,
  labels?: Record<string, string>,
): ClusterRole {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: meta(name, labels),
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [selectLabel]: 'true' } }] },
    rules: [],
  };
}

const group = (name: string): Subject => ({ apiGroup: RBAC_GROUP, kind: 'Group', name });
const user = (name: string): Subject => ({ apiGroup: RBAC_GROUP, kind: 'User', name });
const serviceAccount = (namespace: string, name: string): Subject => ({
  kind: 'ServiceAccount',
  name,
  namespace,
});

function clusterBinding(name: string, roleName: string, subjects: Subject[]): ClusterRoleBinding {
  const b: ClusterRoleBinding = {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: meta(name),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: roleName },
  };
  if (subjects.length > 0) b.subjects = subjects;
  return b;
}

/** The rules of system:node (NodeRules upstream). */
export function nodeRules(): PolicyRule[] {
  return [
    rule(['create'], [AUTHN], ['tokenreviews']),
    rule(['create'], [AUTHZ], ['subjectaccessreviews', 'localsubjectaccessreviews']),
    rule(READ, [CORE], ['services']),
    rule(['create', 'get', 'list', 'watch'], [CORE], ['nodes']),
    rule(['update', 'patch'], [CORE], ['nodes/status']),
    rule(['update', 'patch'], [CORE], ['nodes']),
    rule(['create', 'update', 'patch'], [CORE], ['events']),
    rule(READ, [CORE], ['pods']),
    rule(['create', 'delete'], [CORE], ['pods']),
    rule(['update', 'patch'], [CORE], ['pods/status']),
    rule(['create'], [CORE], ['pods/eviction']),
    rule(READ, [CORE], ['secrets', 'configmaps']),
    rule(['get'], [CORE], ['persistentvolumeclaims', 'persistentvolumes']),
    rule(['get'], [CORE], ['endpoints']),
    rule(['create', 'get', 'list', 'watch'], [CERTIFICATES], ['certificatesigningrequests']),
    rule(['get', 'create', 'update', 'patch', 'delete'], [COORDINATION], ['leases']),
    rule(['get'], [STORAGE], ['volumeattachments']),
    rule(['create'], [CORE], ['serviceaccounts/token']),
    rule(['get', 'update', 'patch'], [CORE], ['persistentvolumeclaims/status']),
    rule(READ, [STORAGE], ['csidrivers']),
    rule(['get', 'create', 'update', 'patch', 'delete'], [STORAGE], ['csinodes']),
    rule(READ, ['node.k8s.io'], ['runtimeclasses']),
  ];
}

/** The cluster-wide roles of policy.go. */
export function bootstrapClusterRoles(): ClusterRole[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('system:discovery', [
      urls(
        ['get'],
        [
          '/livez',
          '/readyz',
          '/healthz',
          '/version',
          '/version/',
          '/openapi',
          '/openapi/*',
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
        ],
      ),
    ]),
    clusterRole('system:monitoring', [
      urls(
        ['get'],
        ['/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*'],
      ),
    ]),
    clusterRole('system:basic-user', [
      rule(['create'], [AUTHZ], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], [AUTHN], ['selfsubjectreviews']),
    ]),
    clusterRole('system:public-info-viewer', [
      urls(['get'], ['/livez', '/readyz', '/healthz', '/version', '/version/']),
    ]),
    aggregatedClusterRole('admin', AGGREGATE_TO_ADMIN),
    aggregatedClusterRole('edit', AGGREGATE_TO_EDIT, { [AGGREGATE_TO_ADMIN]: 'true' }),
    aggregatedClusterRole('view', AGGREGATE_TO_VIEW, { [AGGREGATE_TO_EDIT]: 'true' }),
    clusterRole(
      'system:aggregate-to-admin',
      [
        rule(['create'], [AUTHZ], ['localsubjectaccessreviews']),
        rule(READ_WRITE, [RBAC_GROUP], ['roles', 'rolebindings']),
      ],
      { [AGGREGATE_TO_ADMIN]: 'true' },
    ),
    clusterRole(
      'system:aggregate-to-edit',
      [
        // read on escalating resources
        rule(
          READ,
          [CORE],
          ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy'],
        ),
        rule(['impersonate'], [CORE], ['serviceaccounts']),
        rule(WRITE, [CORE], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
        rule(['create'], [CORE], ['pods/eviction']),
        rule(
          WRITE,
          [CORE],
          [
            'replicationcontrollers',
            'replicationcontrollers/scale',
            'serviceaccounts',
            'services',
            'services/proxy',
            'persistentvolumeclaims',
            'configmaps',
            'secrets',
            'events',
          ],
        ),
        rule(['create'], [CORE], ['serviceaccounts/token']),
        rule(
          WRITE,
          [APPS],
          [
            'statefulsets',
            'statefulsets/scale',
            'daemonsets',
            'deployments',
            'deployments/scale',
            'deployments/rollback',
            'replicasets',
            'replicasets/scale',
          ],
        ),
        rule(WRITE, [AUTOSCALING], ['horizontalpodautoscalers']),
        rule(WRITE, [BATCH], ['jobs', 'cronjobs']),
        rule(
          WRITE,
          [EXTENSIONS],
          [
            'daemonsets',
            'deployments',
            'deployments/scale',
            'deployments/rollback',
            'ingresses',
            'replicasets',
            'replicasets/scale',
            'replicationcontrollers/scale',
            'networkpolicies',
          ],
        ),
        rule(WRITE, [POLICY], ['poddisruptionbudgets']),
        rule(WRITE, [NETWORKING], ['networkpolicies', 'ingresses']),
        rule(READ_WRITE, [COORDINATION], ['leases']),
      ],
      { [AGGREGATE_TO_EDIT]: 'true' },
    ),
    clusterRole(
      'system:aggregate-to-view',
      [
        rule(
          READ,
          [CORE],
          [
            'pods',
            'replicationcontrollers',
            'replicationcontrollers/scale',
            'serviceaccounts',
            'services',
            'services/status',
            'endpoints',
            'persistentvolumeclaims',
            'persistentvolumeclaims/status',
            'configmaps',
          ],
        ),
        rule(
          READ,
          [CORE],
          [
            'limitranges',
            'resourcequotas',
            'bindings',
            'events',
            'pods/status',
            'resourcequotas/status',
            'namespaces/status',
            'replicationcontrollers/status',
            'pods/log',
          ],
        ),
        // reading namespaces at namespace scope means reading *this* namespace
        rule(READ, [CORE], ['namespaces']),
        rule(READ, [DISCOVERY], ['endpointslices']),
        rule(
          READ,
          [APPS],
          [
            'controllerrevisions',
            'statefulsets',
            'statefulsets/status',
            'statefulsets/scale',
            'daemonsets',
            'daemonsets/status',
            'deployments',
            'deployments/status',
            'deployments/scale',
            'replicasets',
            'replicasets/status',
            'replicasets/scale',
          ],
        ),
        rule(READ, [AUTOSCALING], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
        rule(READ, [BATCH], ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
        rule(
          READ,
          [EXTENSIONS],
          [
            'daemonsets',
            'daemonsets/status',
            'deployments',
            'deployments/scale',
            'deployments/status',
            'ingresses',
            'ingresses/status',
            'replicasets',
            'replicasets/scale',
            'replicasets/status',
            'replicationcontrollers/scale',
            'networkpolicies',
          ],
        ),
        rule(READ, [POLICY], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
        rule(READ, [NETWORKING], ['ingresses', 'ingresses/status', 'networkpolicies']),
      ],
      { [AGGREGATE_TO_VIEW]: 'true' },
    ),
    clusterRole('system:heapster', [
      rule(READ, [CORE], ['events', 'pods', 'nodes', 'namespaces']),
      rule(READ, [EXTENSIONS], ['deployments']),
    ]),
    clusterRole('system:node', nodeRules()),
    clusterRole('system:node-problem-detector', [
      rule(['get'], [CORE], ['nodes']),
      rule(['patch'], [CORE], ['nodes/status']),
      eventsRule(),
    ]),
    clusterRole('system:kubelet-api-admin', [
      rule(READ, [CORE], ['nodes']),
      rule(['proxy'], [CORE], ['nodes']),
      rule(['*'], [CORE], ['nodes/proxy', 'nodes/metrics', 'nodes/stats', 'nodes/log']),
    ]),
    clusterRole('system:node-bootstrapper', [
      rule(['create', 'get', 'list', 'watch'], [CERTIFICATES], ['certificatesigningrequests']),
    ]),
    clusterRole('system:auth-delegator', [
      rule(['create'], [AUTHN], ['tokenreviews']),
      rule(['create'], [AUTHZ], ['subjectaccessreviews']),
    ]),
    clusterRole('system:kube-aggregator', [rule(READ, [CORE], ['services', 'endpoints'])]),
    clusterRole('system:kube-controller-manager', [
      eventsRule(),
      rule(['create'], [COORDINATION], ['leases']),
      rule(['get', 'update'], [COORDINATION], ['leases'], ['kube-controller-manager']),
      rule(['create'], [CORE], ['secrets', 'serviceaccounts']),
      rule(['delete'], [CORE], ['secrets']),
      rule(['get'], [CORE], ['namespaces', 'secrets', 'serviceaccounts', 'configmaps']),
      rule(['update'], [CORE], ['secrets', 'serviceaccounts']),
      rule(['create'], [AUTHN], ['tokenreviews']),
      rule(['create'], [AUTHZ], ['subjectaccessreviews']),
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['create'], [CORE], ['serviceaccounts/token']),
    ]),
    clusterRole('system:kube-dns', [rule(['list', 'watch'], [CORE], ['endpoints', 'services'])]),
    clusterRole('system:persistent-volume-provisioner', [
      rule(['get', 'list', 'watch', 'create', 'delete'], [CORE], ['persistentvolumes']),
      rule(['get', 'list', 'watch', 'update'], [CORE], ['persistentvolumeclaims']),
      rule(READ, [STORAGE], ['storageclasses']),
      rule(['watch'], [CORE], ['events']),
      eventsRule(),
    ]),
    clusterRole('system:certificates.k8s.io:kube-apiserver-client-approver', [
      rule(['approve'], [CERTIFICATES], ['signers'], ['kubernetes.io/kube-apiserver-client']),
    ]),
    clusterRole('system:certificates.k8s.io:kube-apiserver-client-kubelet-approver', [
      rule(['approve'], [CERTIFICATES], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
    ]),
    clusterRole('system:certificates.k8s.io:kubelet-serving-approver', [
      rule(['approve'], [CERTIFICATES], ['signers'], ['kubernetes.io/kubelet-serving']),
    ]),
    clusterRole('system:certificates.k8s.io:legacy-unknown-approver', [
      rule(['approve'], [CERTIFICATES], ['signers'], ['kubernetes.io/legacy-unknown']),
    ]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [
      rule(['create'], [CERTIFICATES], ['certificatesigningrequests/nodeclient']),
    ]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [
      rule(['create'], [CERTIFICATES], ['certificatesigningrequests/selfnodeclient']),
    ]),
    clusterRole('system:kube-scheduler', [
      eventsRule(),
      rule(['create'], [COORDINATION], ['leases']),
      rule(['get', 'update'], [COORDINATION], ['leases'], ['kube-scheduler']),
      rule(READ, [CORE], ['nodes']),
      rule(['get', 'list', 'watch', 'delete'], [CORE], ['pods']),
      rule(['create'], [CORE], ['pods/binding', 'bindings']),
      rule(['patch', 'update'], [CORE], ['pods/status']),
      rule(READ, [CORE], ['replicationcontrollers', 'services']),
      rule(READ, [APPS, EXTENSIONS], ['replicasets']),
      rule(READ, [APPS], ['statefulsets']),
      rule(READ, [POLICY], ['poddisruptionbudgets']),
      rule(READ, [CORE], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], [AUTHN], ['tokenreviews']),
      rule(['create'], [AUTHZ], ['subjectaccessreviews']),
      rule(READ, [STORAGE], ['csinodes']),
      rule(READ, [CORE], ['namespaces']),
      rule(READ, [STORAGE], ['csidrivers']),
      rule(READ, [STORAGE], ['csistoragecapacities']),
    ]),
    clusterRole('system:volume-scheduler', [
      rule(READ_UPDATE, [CORE], ['persistentvolumes']),
      rule(READ, [STORAGE], ['storageclasses']),
      rule(READ_UPDATE, [CORE], ['persistentvolumeclaims']),
    ]),
    clusterRole('system:node-proxier', [
      rule(['list', 'watch'], [CORE], ['services', 'endpoints']),
      rule(READ, [CORE], ['nodes']),
      eventsRule(),
      rule(['list', 'watch'], [DISCOVERY], ['endpointslices']),
    ]),
    clusterRole('system:service-account-issuer-discovery', [
      urls(['get'], ['/.well-known/openid-configuration', '/openid/v1/jwks']),
    ]),
  ];
}

/** The cluster-wide bindings of policy.go (system:node deliberately has no subjects upstream). */
export function bootstrapClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    clusterBinding('cluster-admin', 'cluster-admin', [group(SYSTEM_PRIVILEGED_GROUP)]),
    clusterBinding('system:monitoring', 'system:monitoring', [group(MONITORING_GROUP)]),
    clusterBinding('system:discovery', 'system:discovery', [group(ALL_AUTHENTICATED)]),
    clusterBinding('system:basic-user', 'system:basic-user', [group(ALL_AUTHENTICATED)]),
    clusterBinding('system:public-info-viewer', 'system:public-info-viewer', [
      group(ALL_AUTHENTICATED),
      group(ALL_UNAUTHENTICATED),
    ]),
    clusterBinding('system:node-proxier', 'system:node-proxier', [user(KUBE_PROXY)]),
    clusterBinding('system:kube-controller-manager', 'system:kube-controller-manager', [
      user(KUBE_CONTROLLER_MANAGER),
    ]),
    clusterBinding('system:kube-dns', 'system:kube-dns', [serviceAccount('kube-system', 'kube-dns')]),
    clusterBinding('system:kube-scheduler', 'system:kube-scheduler', [user(KUBE_SCHEDULER)]),
    clusterBinding('system:volume-scheduler', 'system:volume-scheduler', [user(KUBE_SCHEDULER)]),
    clusterBinding('system:node', 'system:node', []),
    clusterBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [
      group(SERVICE_ACCOUNTS_GROUP),
    ]),
  ];
}

/** One role per controller of kube-controller-manager (controller_policy.go). */
export function controllerRoles(): ClusterRole[] {
  const c = (name: string, rules: PolicyRule[]): ClusterRole =>
    clusterRole(`system:controller:${name}`, rules);
  return [
    c('attachdetach-controller', [
      rule(['list', 'watch'], [CORE], ['persistentvolumes', 'persistentvolumeclaims']),
      rule(READ, [CORE], ['nodes']),
      rule(['patch', 'update'], [CORE], ['nodes/status']),
      rule(['list', 'watch'], [CORE], ['pods']),
      eventsRule(),
      rule(['get', 'create', 'delete', 'list', 'watch'], [STORAGE], ['volumeattachments']),
      rule(READ, [STORAGE], ['csidrivers']),
      rule(READ, [STORAGE], ['csinodes']),
    ]),
    c('clusterrole-aggregation-controller', [
      // escalate: it must write rules it does not itself hold
      rule(['escalate', 'get', 'list', 'watch', 'update', 'patch'], [RBAC_GROUP], ['clusterroles']),
    ]),
    c('cronjob-controller', [
      rule(['get', 'list', 'watch', 'update'], [BATCH], ['cronjobs']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], [BATCH], ['jobs']),
      rule(['update'], [BATCH], ['cronjobs/status']),
      rule(['update'], [BATCH], ['cronjobs/finalizers']),
      rule(['list', 'watch', 'delete'], [CORE], ['pods']),
      eventsRule(),
    ]),
    c('daemon-set-controller', [
      rule(READ, [EXTENSIONS, APPS], ['daemonsets']),
      rule(['update'], [EXTENSIONS, APPS], ['daemonsets/status']),
      rule(['update'], [EXTENSIONS, APPS], ['daemonsets/finalizers']),
      rule(['list', 'watch'], [CORE], ['nodes']),
      rule(['list', 'watch', 'create', 'delete', 'patch'], [CORE], ['pods']),
      rule(['create'], [CORE], ['pods/binding']),
      rule(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], [APPS], ['controllerrevisions']),
      eventsRule(),
    ]),
    c('deployment-controller', [
      rule(['get', 'list', 'watch', 'update'], [EXTENSIONS, APPS], ['deployments']),
      rule(['update'], [EXTENSIONS, APPS], ['deployments/status']),
      rule(['update'], [EXTENSIONS, APPS], ['deployments/finalizers']),
      rule(
        ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
        [EXTENSIONS, APPS],
        ['replicasets'],
      ),
      // pods are listed only to compute the deployment's state; update is for adoption
      rule(['get', 'list', 'watch', 'update'], [CORE], ['pods']),
      eventsRule(),
    ]),
    c('disruption-controller', [
      rule(READ, [EXTENSIONS, APPS], ['deployments']),
      rule(READ, [APPS, EXTENSIONS], ['replicasets']),
      rule(READ, [CORE], ['replicationcontrollers']),
      rule(READ, [POLICY], ['poddisruptionbudgets']),
      rule(READ, [APPS], ['statefulsets']),
      rule(['update'], [POLICY], ['poddisruptionbudgets/status']),
      rule(['patch', 'update'], [CORE], ['pods/status']),
      rule(['get'], ['*'], ['*/scale']),
      eventsRule(),
    ]),
    c('endpoint-controller', [
      rule(READ, [CORE], ['services', 'pods']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [CORE], ['endpoints']),
      rule(['create'], [CORE], ['endpoints/restricted']),
      eventsRule(),
    ]),
    c('endpointslice-controller', [
      rule(READ, [CORE], ['services', 'pods', 'nodes']),
      rule(['update'], [CORE], ['services/finalizers']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [DISCOVERY], ['endpointslices']),
      eventsRule(),
    ]),
    c('endpointslicemirroring-controller', [
      rule(READ, [CORE], ['services', 'endpoints']),
      rule(['update'], [CORE], ['services/finalizers']),
      rule(['update'], [CORE], ['endpoints/finalizers']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [DISCOVERY], ['endpointslices']),
      eventsRule(),
    ]),
    c('expand-controller', [
      rule(['get', 'list', 'watch', 'update', 'patch'], [CORE], ['persistentvolumes']),
      rule(['update', 'patch'], [CORE], ['persistentvolumeclaims/status']),
      rule(READ, [CORE], ['persistentvolumeclaims']),
      eventsRule(),
    ]),
    c('ephemeral-volume-controller', [
      rule(READ, [CORE], ['pods']),
      rule(['update'], [CORE], ['pods/finalizers']),
      rule(['get', 'list', 'watch', 'create'], [CORE], ['persistentvolumeclaims']),
      eventsRule(),
    ]),
    c('generic-garbage-collector', [
      // it may delete and update owner references on anything
      rule(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['*'], ['*']),
      eventsRule(),
    ]),
    c('horizontal-pod-autoscaler', [
      rule(READ, [AUTOSCALING], ['horizontalpodautoscalers']),
      rule(['update'], [AUTOSCALING], ['horizontalpodautoscalers/status']),
      rule(['get', 'update'], ['*'], ['*/scale']),
      rule(['list', 'watch'], [CORE], ['pods']),
      rule(['list', 'watch'], ['metrics.k8s.io'], ['pods']),
      rule(READ, ['custom.metrics.k8s.io'], ['*']),
      rule(READ, ['external.metrics.k8s.io'], ['*']),
      eventsRule(),
    ]),
    c('job-controller', [
      rule(['get', 'list', 'watch', 'update', 'patch'], [BATCH], ['jobs']),
      rule(['update'], [BATCH], ['jobs/status']),
      rule(['update'], [BATCH], ['jobs/finalizers']),
      rule(['list', 'watch', 'create', 'delete', 'patch'], [CORE], ['pods']),
      eventsRule(),
    ]),
    c('namespace-controller', [
      rule(['get', 'list', 'watch', 'delete'], [CORE], ['namespaces']),
      rule(['update'], [CORE], ['namespaces/finalize', 'namespaces/status']),
      rule(['get', 'list', 'watch', 'delete', 'deletecollection'], ['*'], ['*']),
    ]),
    c('node-controller', [
      rule(['get', 'list', 'watch', 'update', 'patch', 'delete'], [CORE], ['nodes']),
      rule(['patch', 'update'], [CORE], ['nodes/status']),
      rule(['patch', 'update'], [CORE], ['pods/status']),
      rule(['get', 'list', 'watch', 'delete'], [CORE], ['pods']),
      eventsRule(),
    ]),
    c('persistent-volume-binder', [
      rule(['get', 'list', 'watch', 'update', 'create', 'delete'], [CORE], ['persistentvolumes']),
      rule(['update'], [CORE], ['persistentvolumes/status']),
      rule(['get', 'list', 'watch', 'update'], [CORE], ['persistentvolumeclaims']),
      rule(['update'], [CORE], ['persistentvolumeclaims/status']),
      rule(['list', 'watch', 'get', 'create', 'delete'], [CORE], ['pods']),
      rule(READ, [STORAGE], ['storageclasses']),
      rule(['list', 'watch'], [CORE], ['nodes']),
      eventsRule(),
      rule(['watch'], [CORE], ['events']),
    ]),
    c('pod-garbage-collector', [
      rule(['list', 'watch', 'delete'], [CORE], ['pods']),
      rule(READ, [CORE], ['nodes']),
      rule(['patch'], [CORE], ['pods/status']),
    ]),
    c('replicaset-controller', [
      rule(['get', 'list', 'watch', 'update'], [APPS, EXTENSIONS], ['replicasets']),
      rule(['update'], [APPS, EXTENSIONS], ['replicasets/status']),
      rule(['update'], [APPS, EXTENSIONS], ['replicasets/finalizers']),
      rule(['list', 'watch', 'patch', 'create', 'delete'], [CORE], ['pods']),
      eventsRule(),
    ]),
    c('replication-controller', [
      // 1.0 controllers needed get, update, so without these old controllers break on new servers
      rule(['get', 'list', 'watch', 'update'], [CORE], ['replicationcontrollers']),
      rule(['update'], [CORE], ['replicationcontrollers/status']),
      rule(['update'], [CORE], ['replicationcontrollers/finalizers']),
      rule(['list', 'watch', 'patch', 'create', 'delete'], [CORE], ['pods']),
      eventsRule(),
    ]),
    c('resourcequota-controller', [
      // quota can count quota on anything for reconciliation, so it needs full viewing powers
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['update'], [CORE], ['resourcequotas/status']),
      eventsRule(),
    ]),
    c('route-controller', [
      rule(['list', 'watch'], [CORE], ['nodes']),
      rule(['patch'], [CORE], ['nodes/status']),
      eventsRule(),
    ]),
    c('service-account-controller', [rule(['create'], [CORE], ['serviceaccounts']), eventsRule()]),
    c('service-controller', [
      rule(READ, [CORE], ['services']),
      rule(['patch', 'update'], [CORE], ['services/status']),
      rule(['list', 'watch'], [CORE], ['nodes']),
      eventsRule(),
    ]),
    c('statefulset-controller', [
      rule(['list', 'watch'], [CORE], ['pods']),
      rule(READ, [APPS], ['statefulsets']),
      rule(['update'], [APPS], ['statefulsets/status']),
      rule(['update'], [APPS], ['statefulsets/finalizers']),
      rule(['get', 'create', 'delete', 'update', 'patch'], [CORE], ['pods']),
      rule(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], [APPS], ['controllerrevisions']),
      rule(['get', 'create', 'list', 'watch'], [CORE], ['persistentvolumeclaims']),
      rule(['update', 'delete'], [CORE], ['persistentvolumeclaims']),
      rule(['update'], [CORE], ['pods/finalizers']),
      eventsRule(),
    ]),
    c('ttl-controller', [rule(['update', 'patch', 'list', 'watch'], [CORE], ['nodes']), eventsRule()]),
    c('certificate-controller', [
      rule(['get', 'list', 'watch', 'delete'], [CERTIFICATES], ['certificatesigningrequests']),
      rule(
        ['update'],
        [CERTIFICATES],
        ['certificatesigningrequests/status', 'certificatesigningrequests/approval'],
      ),
      rule(['approve'], [CERTIFICATES], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
      rule(
        ['sign'],
        [CERTIFICATES],
        ['signers'],
        [
          'kubernetes.io/kube-apiserver-client',
          'kubernetes.io/kube-apiserver-client-kubelet',
          'kubernetes.io/kubelet-serving',
          'kubernetes.io/legacy-unknown',
        ],
      ),
      rule(['create'], [AUTHZ], ['subjectaccessreviews']),
      eventsRule(),
    ]),
    c('pvc-protection-controller', [
      rule(['get', 'list', 'watch', 'update'], [CORE], ['persistentvolumeclaims']),
      rule(['update'], [CORE], ['persistentvolumeclaims/status']),
      rule(READ, [CORE], ['pods']),
      eventsRule(),
    ]),
    c('pv-protection-controller', [
      rule(['get', 'list', 'watch', 'update'], [CORE], ['persistentvolumes']),
      eventsRule(),
    ]),
    c('ttl-after-finished-controller', [
      rule(['get', 'list', 'watch', 'delete'], [BATCH], ['jobs']),
      eventsRule(),
    ]),
    c('root-ca-cert-publisher', [rule(['create', 'update'], [CORE], ['configmaps']), eventsRule()]),
    c('service-cidrs-controller', [
      rule(['get', 'list', 'watch', 'patch', 'update'], [NETWORKING], ['servicecidrs']),
      rule(['patch', 'update'], [NETWORKING], ['servicecidrs/finalizers']),
      rule(['patch', 'update'], [NETWORKING], ['servicecidrs/status']),
      rule(READ, [NETWORKING], ['ipaddresses']),
      eventsRule(),
    ]),
    c('validatingadmissionpolicy-status-controller', [
      rule(READ, [ADMISSION], ['validatingadmissionpolicies']),
      rule(['get', 'patch', 'update'], [ADMISSION], ['validatingadmissionpolicies/status']),
      eventsRule(),
    ]),
    c('legacy-service-account-token-cleaner', [
      rule(['get'], [CORE], ['configmaps'], ['kube-apiserver-legacy-service-account-token-tracking']),
      rule(['delete', 'patch'], [CORE], ['secrets']),
    ]),
    c('resource-claim-controller', [
      rule(READ, [CORE], ['pods']),
      rule(['update'], [CORE], ['pods/finalizers']),
      rule(['get', 'list', 'watch', 'create', 'delete'], [RESOURCE], ['resourceclaims']),
      rule(['update', 'patch'], [RESOURCE], ['resourceclaims', 'resourceclaims/status']),
      rule(['update', 'patch'], [CORE], ['pods/status']),
      eventsRule(),
      rule(['update', 'patch'], [RESOURCE], ['resourceclaims/binding']),
    ]),
    c('device-taint-eviction-controller', [
      rule(['get', 'list', 'watch', 'delete'], [CORE], ['pods']),
      rule(['update', 'patch'], [CORE], ['pods/status']),
      rule(READ, [RESOURCE], ['resourceclaims']),
      rule(READ, [RESOURCE], ['resourceslices']),
      rule(READ, [RESOURCE], ['deviceclasses']),
      eventsRule(),
    ]),
    c('selinux-warning-controller', [
      eventsRule(),
      rule(READ, [CORE], ['persistentvolumes']),
      rule(READ, [CORE], ['persistentvolumeclaims']),
      rule(READ, [CORE], ['pods']),
      rule(READ, [STORAGE], ['csidrivers']),
    ]),
    c('volumeattributesclass-protection-controller', [
      rule(READ, [CORE], ['persistentvolumeclaims']),
      rule(READ, [CORE], ['persistentvolumes']),
      rule(['get', 'list', 'watch', 'update'], [STORAGE], ['volumeattributesclasses']),
      eventsRule(),
    ]),
  ];
}

/** Each controller role bound to the controller's ServiceAccount in kube-system. */
export function controllerRoleBindings(): ClusterRoleBinding[] {
  return controllerRoles().map((r) => {
    const name = r.metadata.name ?? '';
    return clusterBinding(name, name, [
      serviceAccount('kube-system', name.slice('system:controller:'.length)),
    ]);
  });
}

function role(namespace: string, name: string, rules: PolicyRule[]): Role {
  return { apiVersion: `${RBAC_GROUP}/v1`, kind: 'Role', metadata: meta(name, {}, namespace), rules };
}

function roleBinding(namespace: string, name: string, roleName: string, subjects: Subject[]): RoleBinding {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'RoleBinding',
    metadata: meta(name, {}, namespace),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: roleName },
    subjects,
  };
}

/** Namespaced roles of namespace_policy.go (kube-system and kube-public). */
export function bootstrapRoles(): Role[] {
  const leaderLocking = (): PolicyRule[] => [
    rule(['watch', 'get', 'list', 'create', 'update'], [COORDINATION], ['leases']),
    rule(['watch', 'get', 'list', 'create', 'update'], [COORDINATION], ['leasecandidates']),
  ];
  return [
    role('kube-system', 'extension-apiserver-authentication-reader', [
      rule(READ, [CORE], ['configmaps'], ['extension-apiserver-authentication']),
    ]),
    role('kube-system', 'system::leader-locking-kube-controller-manager', leaderLocking()),
    role('kube-system', 'system::leader-locking-kube-scheduler', leaderLocking()),
    role('kube-system', 'system:controller:bootstrap-signer', [rule(READ, [CORE], ['secrets'])]),
    role('kube-system', 'system:controller:cloud-provider', [
      rule(['create', 'get', 'list', 'watch'], [CORE], ['configmaps']),
    ]),
    role('kube-system', 'system:controller:token-cleaner', [
      rule(['delete', 'get', 'list', 'watch'], [CORE], ['secrets']),
      eventsRule(),
    ]),
    role('kube-public', 'system:controller:bootstrap-signer', [
      rule(READ, [CORE], ['configmaps']),
      rule(['update'], [CORE], ['configmaps'], ['cluster-info']),
      eventsRule(),
    ]),
  ];
}

export function bootstrapRoleBindings(): RoleBinding[] {
  return [
    roleBinding(
      'kube-system',
      'system::extension-apiserver-authentication-reader',
      'extension-apiserver-authentication-reader',
      [user(KUBE_CONTROLLER_MANAGER), user(KUBE_SCHEDULER)],
    ),
    roleBinding(
      'kube-system',
      'system::leader-locking-kube-controller-manager',
      'system::leader-locking-kube-controller-manager',
      [
        user(KUBE_CONTROLLER_MANAGER),
        serviceAccount('kube-system', 'kube-controller-manager'),
        serviceAccount('kube-system', 'leader-election-controller'),
      ],
    ),
    roleBinding(
      'kube-system',
      'system::leader-locking-kube-scheduler',
      'system::leader-locking-kube-scheduler',
      [user(KUBE_SCHEDULER), serviceAccount('kube-system', 'kube-scheduler')],
    ),
    roleBinding('kube-system', 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [
      serviceAccount('kube-system', 'bootstrap-signer'),
    ]),
    roleBinding('kube-system', 'system:controller:cloud-provider', 'system:controller:cloud-provider', [
      serviceAccount('kube-system', 'cloud-provider'),
    ]),
    roleBinding('kube-system', 'system:controller:token-cleaner', 'system:controller:token-cleaner', [
      serviceAccount('kube-system', 'token-cleaner'),
    ]),
    roleBinding('kube-public', 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [
      serviceAccount('kube-system', 'bootstrap-signer'),
    ]),
  ];
}

/** k8ts' own bindings for node join and node identity (see the header). */
export function k8tsClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    clusterBinding('k8ts:node', 'system:node', [group(NODES_GROUP)]),
    clusterBinding('k8ts:kubelet-bootstrap', 'system:node-bootstrapper', [group(BOOTSTRAP_DEFAULT_GROUP)]),
    clusterBinding(
      'k8ts:node-autoapprove-bootstrap',
      'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
      [group(BOOTSTRAP_DEFAULT_GROUP)],
    ),
    clusterBinding(
      'k8ts:node-autoapprove-certificate-rotation',
      'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
      [group(NODES_GROUP)],
    ),
  ];
}

/**
 * The ClusterRole metrics-server installs for its API: admin, edit and view aggregate it, so that
 * whoever may read pods may also run `kubectl top`. k8ts serves metrics.k8s.io itself.
 */
export const METRICS_READER = 'system:aggregated-metrics-reader';

export function k8tsClusterRoles(): ClusterRole[] {
  return [
    clusterRole(METRICS_READER, [rule(['get', 'list', 'watch'], ['metrics.k8s.io'], ['pods', 'nodes'])], {
      'k8s-app': 'metrics-server',
      [AGGREGATE_TO_ADMIN]: 'true',
      [AGGREGATE_TO_EDIT]: 'true',
      [AGGREGATE_TO_VIEW]: 'true',
    }),
  ];
}

/** kubeadm's name for the Role (and RoleBinding) that lets anyone read kube-public/cluster-info. */
export const CLUSTER_INFO_READER = 'kubeadm:bootstrap-signer-clusterinfo';

/**
 * k8ts' own namespaced roles and bindings, as kubeadm creates them: joining nodes read
 * kube-public/cluster-info without credentials (its signatures make it trustworthy).
 */
export function k8tsRoles(): Role[] {
  return [
    role('kube-public', CLUSTER_INFO_READER, [rule(['get'], [CORE], ['configmaps'], ['cluster-info'])]),
  ];
}

export function k8tsRoleBindings(): RoleBinding[] {
  return [roleBinding('kube-public', CLUSTER_INFO_READER, CLUSTER_INFO_READER, [user(ANONYMOUS)])];
}

/** Everything to create at first start, in creation order. */
export interface BootstrapPolicy {
  clusterRoles: ClusterRole[];
  clusterRoleBindings: ClusterRoleBinding[];
  roles: Role[];
  roleBindings: RoleBinding[];
}

export function bootstrapPolicy(): BootstrapPolicy {
  return {
    clusterRoles: [...bootstrapClusterRoles(), ...controllerRoles(), ...k8tsClusterRoles()],
    clusterRoleBindings: [
      ...bootstrapClusterRoleBindings(),
      ...controllerRoleBindings(),
      ...k8tsClusterRoleBindings(),
    ],
    roles: [...bootstrapRoles(), ...k8tsRoles()],
    roleBindings: [...bootstrapRoleBindings(), ...k8tsRoleBindings()],
  };
}

// ---------------------------------------------------------------------------------------------
// Reconciliation at start-up (pkg/registry/rbac/reconciliation): add what is missing, never remove.

export type ReconcileAction = 'create' | 'update' | 'recreate' | 'none';

export interface ReconcileResult<T> {
  readonly action: ReconcileAction;
  /** The object to create or write (absent for 'none'). */
  readonly object?: T;
}

function mergeMaps(
  desired: Record<string, string> | undefined,
  existing: Record<string, string> | undefined,
): { merged: Record<string, string>; changed: boolean } {
  const merged = { ...(desired ?? {}), ...(existing ?? {}) };
  const changed = Object.keys(merged).length !== Object.keys(existing ?? {}).length;
  return { merged, changed };
}

function skipsAutoupdate(obj: { metadata: { annotations?: Record<string, string> } }): boolean {
  return obj.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false';
}

/**
 * Reconciles a default role (Role or ClusterRole) with what exists: missing labels, annotations and
 * permissions are added, and for aggregated roles missing selectors; extra permissions are kept.
 * Objects annotated autoupdate=false are left alone.
 */
export function reconcileRole<T extends ClusterRole>(
  existing: T | undefined,
  desired: T,
): ReconcileResult<T> {
  if (!existing) return { action: 'create', object: structuredClone(desired) };
  if (skipsAutoupdate(existing)) return { action: 'none' };
  const out = structuredClone(existing);
  const labels = mergeMaps(desired.metadata.labels, existing.metadata.labels);
  const annotations = mergeMaps(desired.metadata.annotations, existing.metadata.annotations);
  let changed = labels.changed || annotations.changed;
  out.metadata.labels = labels.merged;
  out.metadata.annotations = annotations.merged;

  const desiredAgg = desired.aggregationRule;
  if (desiredAgg) {
    const outRole = out;
    const selectors = [...(outRole.aggregationRule?.clusterRoleSelectors ?? [])];
    for (const s of desiredAgg.clusterRoleSelectors ?? []) {
      if (!selectors.some((e) => JSON.stringify(e) === JSON.stringify(s))) {
        selectors.push(structuredClone(s));
        changed = true;
      }
    }
    outRole.aggregationRule = { clusterRoleSelectors: selectors };
  } else {
    const { missing } = covers(existing.rules ?? [], desired.rules ?? []);
    if (missing.length > 0) {
      out.rules = [...(existing.rules ?? []), ...missing];
      changed = true;
    }
  }
  return changed ? { action: 'update', object: out } : { action: 'none' };
}

function sameSubject(a: Subject, b: Subject): boolean {
  return (
    a.kind === b.kind &&
    a.name === b.name &&
    (a.namespace ?? '') === (b.namespace ?? '') &&
    (a.apiGroup ?? '') === (b.apiGroup ?? '')
  );
}

/**
 * Reconciles a default binding: missing subjects, labels and annotations are added. A binding whose
 * roleRef differs cannot be updated (roleRef is immutable) and must be deleted and created again.
 */
export function reconcileBinding<T extends RoleBinding>(
  existing: T | undefined,
  desired: T,
): ReconcileResult<T> {
  if (!existing) return { action: 'create', object: structuredClone(desired) };
  if (skipsAutoupdate(existing)) return { action: 'none' };
  const refChanged =
    existing.roleRef.kind !== desired.roleRef.kind ||
    existing.roleRef.name !== desired.roleRef.name ||
    existing.roleRef.apiGroup !== desired.roleRef.apiGroup;
  const out = structuredClone(existing);
  const labels = mergeMaps(desired.metadata.labels, existing.metadata.labels);
  const annotations = mergeMaps(desired.metadata.annotations, existing.metadata.annotations);
  let changed = labels.changed || annotations.changed;
  out.metadata.labels = labels.merged;
  out.metadata.annotations = annotations.merged;
  const subjects = [...(existing.subjects ?? [])];
  for (const s of desired.subjects ?? []) {
    if (!subjects.some((e) => sameSubject(e, s))) {
      subjects.push({ ...s });
      changed = true;
    }
  }
  if (subjects.length > 0) out.subjects = subjects;
  if (refChanged) {
    out.roleRef = { ...desired.roleRef };
    delete out.metadata.resourceVersion;
    delete out.metadata.uid;
    return { action: 'recreate', object: out };
  }
  return changed ? { action: 'update', object: out } : { action: 'none' };
}
