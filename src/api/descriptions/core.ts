// Our own descriptions for core/v1 types that `kubectl explain` users read most.
const C = 'io.k8s.api.core.v1';

export const coreDescriptions: Readonly<Record<string, string>> = {
  // Pod
  [`${C}.Pod.spec`]: 'What the pod should run: its containers, volumes and scheduling constraints.',
  [`${C}.Pod.status`]:
    'What the node agent last observed about the pod: phase, conditions, IPs and per-container state. Read-only for users.',
  [`${C}.PodSpec`]: 'The desired contents and behaviour of a pod.',
  [`${C}.PodSpec.activeDeadlineSeconds`]:
    'How long, in seconds from start, the pod may run before the system stops it and marks it failed.',
  [`${C}.PodSpec.affinity`]:
    'Rules that attract the pod to, or keep it away from, certain nodes and other pods.',
  [`${C}.PodSpec.automountServiceAccountToken`]:
    'Whether a service account token is mounted into the containers automatically.',
  [`${C}.PodSpec.containers`]:
    'The containers of the pod. At least one is required, and none may be added or removed after creation.',
  [`${C}.PodSpec.dnsPolicy`]:
    'How DNS is configured for the pod: ClusterFirst (default), ClusterFirstWithHostNet, Default or None.',
  [`${C}.PodSpec.enableServiceLinks`]:
    'Whether environment variables describing services in the namespace are injected into the containers. Defaults to true.',
  [`${C}.PodSpec.hostNetwork`]: "Run the pod in the node's network namespace instead of its own.",
  [`${C}.PodSpec.hostname`]: "The pod's hostname; defaults to the pod name.",
  [`${C}.PodSpec.imagePullSecrets`]:
    'Secrets in the same namespace holding registry credentials for pulling the container images.',
  [`${C}.PodSpec.initContainers`]:
    'Containers that run one after another, each to completion, before the regular containers start.',
  [`${C}.PodSpec.nodeName`]:
    'The node the pod is bound to. Normally set by the scheduler; setting it yourself skips scheduling.',
  [`${C}.PodSpec.nodeSelector`]: 'Labels a node must carry for the pod to be scheduled there.',
  [`${C}.PodSpec.priorityClassName`]: "The PriorityClass that decides the pod's scheduling priority.",
  [`${C}.PodSpec.restartPolicy`]: 'When the containers are restarted: Always (default), OnFailure or Never.',
  [`${C}.PodSpec.schedulerName`]:
    "The scheduler that places the pod; defaults to the cluster's default scheduler.",
  [`${C}.PodSpec.securityContext`]: 'Security settings that apply to every container of the pod.',
  [`${C}.PodSpec.serviceAccountName`]:
    'The service account whose identity the pod runs with; defaults to "default".',
  [`${C}.PodSpec.serviceAccount`]: 'Deprecated alias of serviceAccountName.',
  [`${C}.PodSpec.terminationGracePeriodSeconds`]:
    'Seconds the containers get to stop after the termination signal before they are killed. Defaults to 30.',
  [`${C}.PodSpec.tolerations`]: 'Node taints the pod tolerates.',
  [`${C}.PodSpec.topologySpreadConstraints`]:
    'How the scheduler should spread matching pods across zones, nodes or other topology domains.',
  [`${C}.PodSpec.volumes`]: 'Volumes that containers of the pod can mount.',
  [`${C}.PodStatus`]: 'The observed state of a pod.',
  [`${C}.PodStatus.conditions`]: 'Conditions such as PodScheduled, Initialized, ContainersReady and Ready.',
  [`${C}.PodStatus.containerStatuses`]:
    'The state of each regular container: waiting, running or terminated, with restart counts.',
  [`${C}.PodStatus.hostIP`]: 'The primary IP of the node the pod runs on.',
  [`${C}.PodStatus.message`]: 'A human-readable note on why the pod is in its current state.',
  [`${C}.PodStatus.phase`]:
    'Where the pod is in its lifecycle: Pending, Running, Succeeded, Failed or Unknown.',
  [`${C}.PodStatus.podIP`]: "The pod's primary IP address, once allocated.",
  [`${C}.PodStatus.podIPs`]: 'All IP addresses of the pod, at most one per address family.',
  [`${C}.PodStatus.qosClass`]:
    'The quality-of-service class derived from the resource requests and limits: Guaranteed, Burstable or BestEffort.',
  [`${C}.PodStatus.reason`]:
    'A short CamelCase word on why the pod is in its current state, such as Evicted.',
  [`${C}.PodStatus.startTime`]: 'When the node agent acknowledged the pod, before its images were pulled.',
  [`${C}.PodTemplateSpec`]: 'The pods a controller creates: their metadata and spec.',
  [`${C}.PodTemplateSpec.metadata`]:
    'Metadata given to each pod created from the template, notably its labels.',
  [`${C}.PodTemplateSpec.spec`]: 'The spec given to each pod created from the template.',
  // Container
  [`${C}.Container`]: 'One container of a pod: the image to run and how to run it.',
  [`${C}.Container.args`]:
    "Arguments to the entrypoint; replaces the image's CMD. $(VAR) references to container environment variables are expanded.",
  [`${C}.Container.command`]:
    "The entrypoint, run without a shell; replaces the image's ENTRYPOINT. $(VAR) references are expanded.",
  [`${C}.Container.env`]: 'Environment variables set in the container.',
  [`${C}.Container.envFrom`]: 'Sources (ConfigMaps or Secrets) whose keys all become environment variables.',
  [`${C}.Container.image`]: 'The container image to run, as a registry reference such as "nginx:1.27".',
  [`${C}.Container.imagePullPolicy`]:
    'When to pull the image: Always, IfNotPresent or Never. Defaults to Always for the :latest tag or no tag, otherwise IfNotPresent.',
  [`${C}.Container.lifecycle`]:
    'Actions the node agent runs right after the container starts and just before it stops.',
  [`${C}.Container.livenessProbe`]:
    'A periodic check of whether the container is alive; the container is restarted when it fails.',
  [`${C}.Container.name`]: "The container's name, a DNS label unique within the pod.",
  [`${C}.Container.ports`]:
    'Ports the container listens on. Informational: a port not listed here is still reachable.',
  [`${C}.Container.readinessProbe`]:
    'A periodic check of whether the container can serve traffic; a failing pod is removed from service endpoints.',
  [`${C}.Container.resources`]:
    'The compute resources the container requests and the limits it must stay within.',
  [`${C}.Container.securityContext`]: 'Security settings for this container, overriding the pod-level ones.',
  [`${C}.Container.startupProbe`]:
    'A check that must succeed once before the liveness and readiness probes start.',
  [`${C}.Container.stdin`]: 'Keep a stdin stream open for the container.',
  [`${C}.Container.terminationMessagePath`]:
    'File in the container whose contents become the termination message. Defaults to /dev/termination-log.',
  [`${C}.Container.terminationMessagePolicy`]:
    'Where the termination message comes from: File (default) or FallbackToLogsOnError.',
  [`${C}.Container.tty`]: 'Allocate a terminal for the container; usually set together with stdin.',
  [`${C}.Container.volumeMounts`]: "Pod volumes mounted into the container's filesystem.",
  [`${C}.Container.workingDir`]: "The working directory for the entrypoint; defaults to the image's.",
  [`${C}.ContainerPort`]: 'A network port of a container.',
  [`${C}.ContainerPort.containerPort`]: "The port number on the pod's IP, between 1 and 65535.",
  [`${C}.ContainerPort.hostIP`]: 'The host IP to bind an exposed host port to.',
  [`${C}.ContainerPort.hostPort`]: 'A port on the node to forward to this container port. Rarely needed.',
  [`${C}.ContainerPort.name`]: 'A name for the port (an IANA service name) that services can refer to.',
  [`${C}.ContainerPort.protocol`]: 'TCP (default), UDP or SCTP.',
  [`${C}.EnvVar`]: 'One environment variable.',
  [`${C}.EnvVar.name`]: "The variable's name.",
  [`${C}.EnvVar.value`]: 'A literal value; $(VAR) references to earlier variables are expanded.',
  [`${C}.EnvVar.valueFrom`]:
    'Where to read the value from instead: a ConfigMap or Secret key, a pod field or a resource amount.',
  [`${C}.ResourceRequirements`]: 'Compute resource requests and limits.',
  [`${C}.ResourceRequirements.limits`]: 'The most of each resource the container may use.',
  [`${C}.ResourceRequirements.requests`]:
    'The amount of each resource the scheduler reserves for the container. Defaults to the limits when only limits are set.',
  [`${C}.ResourceRequirements.claims`]: "Names of the pod's resource claims this container uses.",
  [`${C}.Probe`]: 'A health check of a container, with its timing.',
  [`${C}.Probe.exec`]: 'Run a command in the container; exit status 0 means success.',
  [`${C}.Probe.failureThreshold`]:
    'Consecutive failures after which the probe counts as failed. Defaults to 3.',
  [`${C}.Probe.httpGet`]: 'Send an HTTP GET; a status between 200 and 399 means success.',
  [`${C}.Probe.initialDelaySeconds`]: 'Seconds to wait after the container starts before the first probe.',
  [`${C}.Probe.periodSeconds`]: 'Seconds between probes. Defaults to 10.',
  [`${C}.Probe.successThreshold`]:
    'Consecutive successes after a failure for the probe to count as passing again. Defaults to 1.',
  [`${C}.Probe.tcpSocket`]: 'Open a TCP connection; success if it connects.',
  [`${C}.Probe.timeoutSeconds`]: 'Seconds after which one probe attempt times out. Defaults to 1.',
  [`${C}.Volume`]: "A named volume that the pod's containers can mount, and where its data comes from.",
  [`${C}.Volume.name`]: "The volume's name, a DNS label unique within the pod.",
  [`${C}.Volume.configMap`]: 'Files filled from the keys of a ConfigMap.',
  [`${C}.Volume.emptyDir`]: 'An empty directory created for the pod and removed with it.',
  [`${C}.Volume.hostPath`]: "A file or directory of the node's filesystem.",
  [`${C}.Volume.persistentVolumeClaim`]:
    'The storage bound to a PersistentVolumeClaim in the same namespace.',
  [`${C}.Volume.projected`]:
    'Several sources (secrets, ConfigMaps, service account tokens, downward API) merged into one directory.',
  [`${C}.Volume.secret`]: 'Files filled from the keys of a Secret.',
  [`${C}.VolumeMount`]: 'Where a pod volume appears in a container.',
  [`${C}.VolumeMount.mountPath`]: 'The path in the container; must not contain ":".',
  [`${C}.VolumeMount.name`]: 'The name of the pod volume to mount.',
  [`${C}.VolumeMount.readOnly`]: 'Mount the volume read-only.',
  [`${C}.VolumeMount.subPath`]: 'A path inside the volume to mount instead of its root.',
  // Service
  [`${C}.Service.spec`]:
    'How the service is exposed: its type, ports and the selector of the pods behind it.',
  [`${C}.Service.status`]: 'Observed state, such as the addresses of an external load balancer.',
  [`${C}.ServiceSpec`]: 'The desired behaviour of a service.',
  [`${C}.ServiceSpec.clusterIP`]:
    'The virtual IP of the service inside the cluster. Allocated automatically unless given; "None" makes a headless service. Cannot be changed.',
  [`${C}.ServiceSpec.clusterIPs`]:
    'The cluster IPs of the service, one per IP family; the first equals clusterIP.',
  [`${C}.ServiceSpec.externalIPs`]: 'Additional IPs on which the nodes accept traffic for the service.',
  [`${C}.ServiceSpec.externalName`]: 'For type ExternalName: the DNS name the service is an alias for.',
  [`${C}.ServiceSpec.externalTrafficPolicy`]:
    'How traffic from outside reaches endpoints: Cluster (any node) or Local (only endpoints on the receiving node, keeping the client IP).',
  [`${C}.ServiceSpec.internalTrafficPolicy`]:
    'How traffic from inside the cluster reaches endpoints: Cluster or Local.',
  [`${C}.ServiceSpec.ipFamilies`]: "The IP families (IPv4, IPv6) of the service's cluster IPs.",
  [`${C}.ServiceSpec.ipFamilyPolicy`]: 'SingleStack, PreferDualStack or RequireDualStack.',
  [`${C}.ServiceSpec.ports`]: 'The ports the service exposes and where each sends traffic.',
  [`${C}.ServiceSpec.selector`]:
    "Pods with these labels receive the service's traffic. Without a selector, endpoints are managed by hand.",
  [`${C}.ServiceSpec.sessionAffinity`]:
    'ClientIP keeps a client on the same endpoint; None (default) does not.',
  [`${C}.ServiceSpec.type`]:
    'How the service is exposed: ClusterIP (default), NodePort, LoadBalancer or ExternalName.',
  [`${C}.ServicePort`]: 'One port of a service.',
  [`${C}.ServicePort.appProtocol`]:
    'The application protocol spoken on this port, as a hint for implementations.',
  [`${C}.ServicePort.name`]: "The port's name, required when the service has more than one port.",
  [`${C}.ServicePort.nodePort`]:
    'For NodePort and LoadBalancer services: the port opened on every node. Allocated automatically unless given.',
  [`${C}.ServicePort.port`]: 'The port the service listens on.',
  [`${C}.ServicePort.protocol`]: 'TCP (default), UDP or SCTP.',
  [`${C}.ServicePort.targetPort`]:
    'The port on the pods to send traffic to: a number, or the name of a container port. Defaults to port.',
  // Namespace
  [`${C}.Namespace.spec`]: 'The finalizers that must run before the namespace is removed.',
  [`${C}.Namespace.status`]: 'Whether the namespace is active or being terminated.',
  [`${C}.NamespaceSpec`]: 'The desired state of a namespace.',
  [`${C}.NamespaceSpec.finalizers`]:
    'Cleanup steps, such as "kubernetes" (delete everything in the namespace), that must finish before the namespace is removed.',
  [`${C}.NamespaceStatus`]: 'The observed state of a namespace.',
  [`${C}.NamespaceStatus.phase`]: 'Active, or Terminating once deletion has been requested.',
  [`${C}.NamespaceStatus.conditions`]: "Conditions that explain progress of the namespace's deletion.",
  // ConfigMap and Secret
  [`${C}.ConfigMap.binaryData`]: 'Binary values, base64-encoded in JSON. Keys must not repeat those of data.',
  [`${C}.ConfigMap.data`]: 'UTF-8 string values. Keys consist of alphanumerics, "-", "_" or ".".',
  [`${C}.ConfigMap.immutable`]:
    'When true, data and binaryData can no longer be changed; the only way to change them is to delete and recreate the object.',
  [`${C}.Secret.data`]:
    'The secret values, each base64-encoded in JSON. Keys consist of alphanumerics, "-", "_" or ".".',
  [`${C}.Secret.immutable`]: 'When true, the data can no longer be changed.',
  [`${C}.Secret.stringData`]:
    'Write-only convenience: plain-text values that the server merges into data (encoding them) on write. Never returned on read.',
  [`${C}.Secret.type`]:
    'What the secret holds, which decides the keys it must contain: Opaque (default), kubernetes.io/tls, kubernetes.io/dockerconfigjson, kubernetes.io/service-account-token and others.',
  // ServiceAccount
  [`${C}.ServiceAccount.automountServiceAccountToken`]:
    'Whether pods using this account get an API token mounted by default. A pod can override it.',
  [`${C}.ServiceAccount.imagePullSecrets`]: 'Registry credentials added to every pod that uses this account.',
  [`${C}.ServiceAccount.secrets`]:
    'Secrets that pods using this account may use. Legacy: tokens are now issued on demand.',
  // Event
  [`${C}.Event.action`]: 'What was done, or failed to be done, to the object.',
  [`${C}.Event.count`]: 'How many times this event has occurred.',
  [`${C}.Event.eventTime`]: 'When the event was first observed, with microsecond precision.',
  [`${C}.Event.firstTimestamp`]: 'When the event was first recorded.',
  [`${C}.Event.involvedObject`]: 'The object the event is about.',
  [`${C}.Event.lastTimestamp`]: 'When the event most recently occurred.',
  [`${C}.Event.message`]: 'A human-readable description of what happened.',
  [`${C}.Event.reason`]: 'A short, machine-readable CamelCase word for why the event happened.',
  [`${C}.Event.related`]: 'A second object involved, for more complex events.',
  [`${C}.Event.reportingComponent`]:
    'The controller that emitted the event, such as "kubernetes.io/kubelet".',
  [`${C}.Event.reportingInstance`]:
    'Which instance of the controller emitted the event, such as a node name.',
  [`${C}.Event.series`]: 'Data about a series of repeated occurrences of this event.',
  [`${C}.Event.source`]: 'The component and host that reported the event.',
  [`${C}.Event.type`]: 'Normal or Warning.',
  [`${C}.EventSource`]: 'The component that reported an event.',
  [`${C}.EventSource.component`]: 'The reporting component.',
  [`${C}.EventSource.host`]: 'The node the reporting component runs on.',
  [`${C}.ObjectReference`]: 'Points at another object by kind, namespace and name.',
  [`${C}.ObjectReference.apiVersion`]: 'The API version of the referent.',
  [`${C}.ObjectReference.fieldPath`]:
    'A part of the referent, such as "spec.containers{web}" for one container of a pod.',
  [`${C}.ObjectReference.kind`]: 'The kind of the referent.',
  [`${C}.ObjectReference.name`]: 'The name of the referent.',
  [`${C}.ObjectReference.namespace`]: 'The namespace of the referent.',
  [`${C}.ObjectReference.resourceVersion`]: 'The version of the referent this reference was made against.',
  [`${C}.ObjectReference.uid`]: 'The UID of the referent.',
  // ComponentStatus
  [`${C}.ComponentStatus.conditions`]: 'Health conditions of the component.',
  [`${C}.ComponentCondition`]: 'One health condition of a control plane component.',
  [`${C}.ComponentCondition.error`]: 'The error from the health probe, if it failed.',
  [`${C}.ComponentCondition.message`]: 'The message returned by the health probe.',
  [`${C}.ComponentCondition.status`]: 'True, False or Unknown.',
  [`${C}.ComponentCondition.type`]: 'The condition type; only "Healthy" is used.',
};
