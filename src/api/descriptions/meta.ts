// Our own descriptions for the apimachinery meta/v1 types (what `kubectl explain <kind>.metadata` shows).
const M = 'io.k8s.apimachinery.pkg.apis.meta.v1';

export const metaDescriptions: Readonly<Record<string, string>> = {
  [`${M}.ObjectMeta`]:
    'Metadata that every persisted object carries: identity, labels and annotations, ownership and bookkeeping maintained by the server.',
  [`${M}.ObjectMeta.annotations`]:
    'Free-form key/value pairs for tools and people to attach non-identifying information. Keys follow the label key syntax; the total size of all annotations is limited to 256 KiB.',
  [`${M}.ObjectMeta.creationTimestamp`]:
    'When the server created the object (RFC 3339, UTC). Set by the system and read-only; clients cannot choose it.',
  [`${M}.ObjectMeta.deletionGracePeriodSeconds`]:
    'How many seconds the object has to terminate gracefully before it is removed. Set only once deletion has been requested, and can only shrink.',
  [`${M}.ObjectMeta.deletionTimestamp`]:
    'When the object will be deleted. Set by the server when a client asks for deletion; while finalizers remain, the object stays readable with this field set. Read-only.',
  [`${M}.ObjectMeta.finalizers`]:
    'Names of cleanup steps that must finish before the object is removed from storage. Each entry is removed by the controller that performs it; once the list is empty, a deleted object goes away.',
  [`${M}.ObjectMeta.generateName`]:
    'A prefix from which the server builds a unique name when none is given: a random suffix is appended. Used only on create, and only when name is empty.',
  [`${M}.ObjectMeta.generation`]:
    'A counter of changes to the desired state, incremented by the server. Controllers report the generation they acted on in status.observedGeneration. Read-only.',
  [`${M}.ObjectMeta.labels`]:
    'Identifying key/value pairs used to organise and select objects, for example by services and controllers.',
  [`${M}.ObjectMeta.managedFields`]:
    'Which fields each manager (client) set and through which operation. Maintained by the server for server-side apply; most users never edit it.',
  [`${M}.ObjectMeta.name`]:
    "The object's name, unique among objects of the same kind in its namespace. Required when creating, unless generateName is used, and cannot be changed afterwards.",
  [`${M}.ObjectMeta.namespace`]:
    'The namespace the object lives in. Empty for cluster-scoped kinds; defaults to the namespace of the request for namespaced ones. Cannot be changed.',
  [`${M}.ObjectMeta.ownerReferences`]:
    'The objects this one depends on. When every owner is gone, the garbage collector deletes this object; at most one owner may be marked as the managing controller.',
  [`${M}.ObjectMeta.resourceVersion`]:
    'An opaque version string that changes on every write. Clients send it back on update for optimistic concurrency and use it to resume watches; they must not interpret it.',
  [`${M}.ObjectMeta.selfLink`]: 'Legacy field, no longer set by the server.',
  [`${M}.ObjectMeta.uid`]:
    'A unique identifier assigned by the server at creation, never reused for another object. Read-only.',
  [`${M}.OwnerReference`]: 'Points at an object that owns this one, in the same namespace or cluster-scoped.',
  [`${M}.OwnerReference.apiVersion`]: 'The API version of the owner.',
  [`${M}.OwnerReference.kind`]: 'The kind of the owner.',
  [`${M}.OwnerReference.name`]: 'The name of the owner.',
  [`${M}.OwnerReference.uid`]: 'The UID of the owner; a new object with the same name is a different owner.',
  [`${M}.OwnerReference.controller`]:
    'True when the owner is the controller that manages this object. Only one owner may say so.',
  [`${M}.OwnerReference.blockOwnerDeletion`]:
    'When true and the owner is deleted in the foreground, the owner is not removed until this object is gone.',
  [`${M}.ListMeta`]: 'Metadata of a list response: the version it reflects and how to fetch the next page.',
  [`${M}.ListMeta.continue`]:
    'An opaque token to fetch the next page of a paginated list; empty on the last page.',
  [`${M}.ListMeta.remainingItemCount`]:
    'How many items were left after this page when the list was served, if known.',
  [`${M}.ListMeta.resourceVersion`]:
    'The version of the collection this list reflects; start a watch from here to see later changes.',
  [`${M}.ListMeta.selfLink`]: 'Legacy field, no longer set by the server.',
  [`${M}.LabelSelector`]:
    'Selects objects by their labels. The conditions of matchLabels and matchExpressions must all hold; an empty selector matches everything.',
  [`${M}.LabelSelector.matchLabels`]: 'Labels that must be present with exactly these values.',
  [`${M}.LabelSelector.matchExpressions`]:
    'Set-based conditions on labels (In, NotIn, Exists, DoesNotExist).',
  [`${M}.LabelSelectorRequirement`]: 'One set-based condition on a label.',
  [`${M}.LabelSelectorRequirement.key`]: 'The label key the condition looks at.',
  [`${M}.LabelSelectorRequirement.operator`]:
    'How the key relates to the values: In, NotIn, Exists or DoesNotExist.',
  [`${M}.LabelSelectorRequirement.values`]:
    'The values for In and NotIn; must be empty for Exists and DoesNotExist.',
  [`${M}.Condition`]: "One aspect of an object's current state, with when and why it last changed.",
  [`${M}.Condition.type`]: 'The aspect this condition reports, in CamelCase.',
  [`${M}.Condition.status`]: 'True, False or Unknown.',
  [`${M}.Condition.reason`]: 'A machine-readable CamelCase word explaining the last transition.',
  [`${M}.Condition.message`]: 'A human-readable explanation of the last transition.',
  [`${M}.Condition.lastTransitionTime`]: 'When the status last changed.',
  [`${M}.Condition.observedGeneration`]: 'The metadata.generation the condition was computed from.',
  [`${M}.Status`]:
    'The result of a request that returned no object; for errors it carries the reason and details.',
};

/** Scalar-like helper types that appear under many fields. */
export const scalarDescriptions: Readonly<Record<string, string>> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString':
    'A value that is either an integer or a string, such as a port number or a port name, or a count or a percentage.',
  'io.k8s.apimachinery.pkg.api.resource.Quantity':
    'An amount of a resource, written as a number with an optional suffix: binary (Ki, Mi, Gi, …), decimal (m, k, M, G, …) or an exponent ("1e3").',
  [`${M}.Time`]: 'A timestamp in RFC 3339 form with second precision, in UTC.',
  [`${M}.MicroTime`]: 'A timestamp in RFC 3339 form with microsecond precision, in UTC.',
  'io.k8s.apimachinery.pkg.runtime.RawExtension': 'An embedded object of any kind, carried as JSON.',
};
