// One sentence per kind, shared by every version that serves it, in our own words. The generator
// uses these for each top-level definition that the overlay does not describe more precisely.
export const kindDescriptions: Readonly<Record<string, string>> = {
  APIGroup: 'A named API group and the versions the server offers for it.',
  APIService: 'Registers a server that answers for one group and version of the API.',
  APIVersions: 'The versions of the core API and where clients can reach the server.',
  Binding: 'Assigns a pod to a node; the scheduler creates one per placement decision.',
  CSIDriver:
    'Describes a Container Storage Interface driver installed in the cluster and how the node agent should treat its volumes.',
  CSINode: 'The CSI drivers installed on one node, with their node-level identifiers and limits.',
  CSIStorageCapacity: 'How much storage a storage class can provision in one topology segment.',
  CertificateSigningRequest: 'A request to have a certificate signed by one of the cluster signers.',
  ClusterRole:
    'A named set of permissions that applies cluster-wide or, through a RoleBinding, inside a namespace.',
  ClusterRoleBinding:
    'Grants the permissions of a ClusterRole to users, groups or service accounts across the whole cluster.',
  ClusterTrustBundle: 'A cluster-scoped set of trusted X.509 root certificates.',
  ComponentStatus:
    'The health of a control plane component, as probed by the API server. Deprecated upstream.',
  ConfigMap:
    'Non-secret configuration stored as key/value pairs, for pods to read as files, environment variables or arguments.',
  ControllerRevision: 'An immutable snapshot of state that a controller keeps to roll back to.',
  CronJob: 'Runs a Job on a repeating schedule written in cron syntax.',
  CustomResourceDefinition:
    'Adds a new resource type to the API, served under the group and names it declares.',
  DaemonSet: 'Keeps one copy of a pod running on every node that matches its selector.',
  DeleteOptions:
    'Options that shape a delete request: grace period, preconditions and how dependents are handled.',
  Deployment:
    'Declares the pods an application should run and rolls changes out to them through ReplicaSets.',
  DeviceClass:
    'A class of devices that resource claims can ask for, with the selectors and configuration it implies.',
  DeviceTaintRule: 'Adds a taint to the devices it selects.',
  EndpointSlice: 'A subset of the network endpoints that back a service.',
  Endpoints: 'The addresses and ports that back a service. Superseded by EndpointSlice.',
  Event: 'A report of something that happened to an object, kept for a limited time.',
  Eviction: 'A request to evict a pod, subject to its disruption budget.',
  FlowSchema: 'Classifies incoming requests into priority levels for API priority and fairness.',
  HorizontalPodAutoscaler:
    'Adjusts the replica count of a scalable resource to keep observed metrics near their targets.',
  IPAddress: 'Records that one IP address is allocated to an object.',
  Ingress: 'Routes external HTTP and HTTPS traffic to services by host and path.',
  IngressClass: 'Names an ingress controller and its parameters, for ingresses to select.',
  Job: 'Runs pods until a given number of them finish successfully.',
  Lease: 'A lightweight record used for leader election and node heartbeats: who holds it and until when.',
  LeaseCandidate: 'Announces that a component may become the holder of a lease.',
  LimitRange: 'Sets default, minimum and maximum resource amounts for objects in a namespace.',
  LocalSubjectAccessReview: 'Asks whether a user or group may perform an action in one namespace.',
  MutatingAdmissionPolicy: 'Changes objects at admission time with CEL-based mutations.',
  MutatingAdmissionPolicyBinding:
    'Attaches a MutatingAdmissionPolicy to the resources and parameters it applies to.',
  MutatingWebhookConfiguration: 'Registers webhooks that may change objects during admission.',
  Namespace: 'A scope for names: most objects live in exactly one namespace.',
  NetworkPolicy: 'Selects pods and restricts the network traffic they may send and receive.',
  Node: 'A machine that runs pods, with its capacity, conditions and addresses.',
  PersistentVolume: 'A piece of storage in the cluster, provisioned by an administrator or dynamically.',
  PersistentVolumeClaim: 'A request for storage that binds to a PersistentVolume.',
  Pod: 'The smallest deployable unit: one or more containers that share a network namespace and volumes, scheduled together on a node.',
  PodCertificateRequest: 'A request from a pod for a certificate issued by a signer.',
  PodDisruptionBudget: 'Limits how many pods of a set may be down at once because of voluntary disruptions.',
  PodGroup: 'A group of pods that the scheduler places together.',
  PodTemplate: 'A stored pod template that other objects can reference.',
  PriorityClass: 'Maps a priority class name to the integer priority that pods using it receive.',
  PriorityLevelConfiguration: 'Configures one priority level of API priority and fairness.',
  ReplicaSet: 'Keeps a given number of identical pods running.',
  ReplicationController: 'Keeps a given number of identical pods running. Superseded by ReplicaSet.',
  ResourceClaim: 'Asks for devices to be allocated for the pods that reference it.',
  ResourceClaimTemplate: 'A template from which a ResourceClaim is created for each pod.',
  ResourcePoolStatusRequest: 'A request for the status of device resource pools.',
  ResourceQuota: 'Caps the total resources and object counts that a namespace may consume.',
  ResourceSlice: 'Advertises devices that a driver can allocate from one pool.',
  Role: 'A named set of permissions within one namespace.',
  RoleBinding:
    'Grants the permissions of a Role or ClusterRole to users, groups or service accounts within one namespace.',
  RuntimeClass: 'Names a container runtime configuration that pods can select.',
  Scale: 'The desired and observed replica counts of a scalable resource.',
  Secret: 'Holds a small amount of sensitive data, such as a password, token or key.',
  SelfSubjectAccessReview: 'Asks whether the caller may perform an action.',
  SelfSubjectReview: "Returns the user information the server derived from the caller's credentials.",
  SelfSubjectRulesReview: 'Lists the actions the caller may perform in a namespace.',
  Service: 'A stable virtual address and DNS name for a set of pods picked by a label selector.',
  ServiceAccount:
    'An identity for processes that run in pods, with the credentials and image pull secrets they use.',
  ServiceCIDR: 'A range of IP addresses from which service cluster IPs are allocated.',
  Status: 'The result of a request that did not return an object, usually an error.',
  StorageClass: 'Describes a kind of storage that can be provisioned dynamically.',
  StorageVersion: 'The storage version of a resource across API servers.',
  StorageVersionMigration: 'Migrates stored objects of a resource to the current storage version.',
  SubjectAccessReview: 'Asks whether a given user or group may perform an action.',
  TokenRequest: 'Requests a token for a service account.',
  TokenReview: 'Asks the server to authenticate a token and say which user it belongs to.',
  ValidatingAdmissionPolicy: 'Rejects objects at admission time with CEL expressions.',
  ValidatingAdmissionPolicyBinding:
    'Attaches a ValidatingAdmissionPolicy to the resources and parameters it applies to.',
  ValidatingWebhookConfiguration: 'Registers webhooks that may reject objects during admission.',
  VolumeAttachment: 'Records the intent to attach a volume to a node.',
  VolumeAttributesClass: 'A set of mutable volume attributes that a CSI driver can apply.',
  WatchEvent: 'One event of a watch stream: its type and the object it concerns.',
  Workload: 'Describes a workload whose pods the scheduler treats as a unit.',
};

/** Fields every kind shares; the generator uses these when a kind's own overlay says nothing. */
export const commonKindFieldDescriptions: Readonly<Record<string, string>> = {
  apiVersion:
    'The versioned schema of this representation, as group/version ("v1" for the core group). The server converts objects to the version the client asks for.',
  kind: 'The type of object this is, in CamelCase. The server sets it from the endpoint the request used.',
  metadata:
    'Standard object metadata: name, namespace, labels, annotations and the fields the system maintains.',
  spec: 'The desired state of the object, as written by its owner.',
  status:
    'The most recently observed state of the object, written by the system. Read-only for most clients.',
  items: 'The objects in this list.',
};
