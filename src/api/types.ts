// The single description of a resource kind. Every REST verb, discovery, OpenAPI, table printing,
// field selectors and validation are driven from it, so adding a kind is adding a description
// (and a CustomResourceDefinition adds one at run time through the same path).
import type { FieldError } from './errors.js';
import type { KubeObject } from './meta.js';

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export const ALL_VERBS: readonly Verb[] = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

export type CellValue = string | number | boolean | null;

/** A column of server-side printing (meta.k8s.io/v1 Table), as upstream's printers define it. */
export interface TableColumn {
  /** As upstream spells it: 'Name', 'Ready', 'Age', 'Nominated Node'. kubectl upper-cases it. */
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly format?: string;
  readonly description: string;
  /** 0: always shown; 1 or more: only with -o wide. */
  readonly priority: number;
  /** The cell for one object; `now` lets Age columns render relative times. */
  cell(obj: KubeObject, now: Date): CellValue;
}

/** Where the scale subresource reads and writes replicas (JSON paths like '.spec.replicas'). */
export interface ScaleDescription {
  readonly specReplicasPath: string;
  readonly statusReplicasPath: string;
  /** Path of a string label selector in status (CRDs); built-ins derive it with selectorFor. */
  readonly labelSelectorPath?: string;
  /** The label selector (in its string form) reported in Scale.status.selector. */
  selectorFor?(obj: KubeObject): string;
}

/** Per-kind behaviour around the generic store, as upstream's rest strategies do it. */
export interface Strategy {
  /** Fill in defaults in place, exactly as upstream's defaulting for this version does. */
  default?(obj: KubeObject): void;
  /** Before a create: clear status or anything else a client may not set. */
  prepareForCreate?(obj: KubeObject): void;
  /** Before an update of the main resource: carry over what the client may not change. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  validate?(obj: KubeObject): FieldError[];
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /** Before an update through the status subresource. */
  prepareForStatusUpdate?(obj: KubeObject, old: KubeObject): void;
  validateStatusUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /**
   * When a deletion starts (the object has no deletionTimestamp yet): add finalizers or conditions
   * to the copy that is about to be written (a CRD adds its cleanup finalizer, as upstream's does).
   */
  prepareForDelete?(obj: KubeObject): void;
  /** Graceful deletion (pods): the grace period to use, or undefined to delete at once. */
  gracePeriodSeconds?(obj: KubeObject, requested: number | undefined): number | undefined;
}

/**
 * A served version that is stored as another (the seeds' extensions/v1beta1 Deployment is stored
 * as apps/v1). Both directions are needed so that reads in the old version work too.
 */
export interface VersionConversion {
  readonly storageGroup: string;
  readonly storageVersion: string;
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
  /** The Warning header text sent on every request in this version. */
  readonly deprecationWarning?: string;
}

export interface ResourceDescription {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Lower-case plural, the URL segment: 'pods', 'deployments'. */
  readonly plural: string;
  readonly singular: string;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly namespaced: boolean;
  /**
   * How metadata.name is validated on create, as upstream's ValidateXName for the kind does: a
   * DNS-1123 subdomain when absent; a DNS-1123 label (Namespace), a DNS-1035 label (Service), or any
   * valid URL path segment (RBAC kinds, HorizontalPodAutoscaler, CertificateSigningRequest).
   */
  readonly nameRule?: 'dns-subdomain' | 'dns-label' | 'dns-1035-label' | 'path-segment';
  /** Definition name in the schema registry: 'io.k8s.api.apps.v1.Deployment'. */
  readonly schemaRef: string;
  /** Verbs served; all of ALL_VERBS when absent. */
  readonly verbs?: readonly Verb[];
  readonly subresources?: {
    readonly status?: boolean;
    readonly scale?: ScaleDescription;
  };
  /** Server-side printing; when empty, the generic Name/Age columns are used. */
  readonly tableColumns?: readonly TableColumn[];
  /** Field selectors beyond metadata.name and metadata.namespace, with how to read each. */
  readonly fieldSelectors?: Readonly<Record<string, (obj: KubeObject) => string | undefined>>;
  readonly strategy?: Strategy;
  /** Present when this version is served by conversion to the storage version. */
  readonly conversion?: VersionConversion;
}

export function groupVersion(d: Pick<ResourceDescription, 'group' | 'version'>): string {
  return d.group === '' ? d.version : `${d.group}/${d.version}`;
}
