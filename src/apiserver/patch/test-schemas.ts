// A small registry of definitions shaped like upstream's OpenAPI (same names, extensions and
// defaults), for the patch module's tests.
import type { Schema, SchemaRegistry } from '../../api/schema.js';

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer', format: 'int32' };
const bool: Schema = { type: 'boolean' };
const strMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const strList: Schema = { type: 'array', items: { type: 'string' } };
const intOrString: Schema = { 'x-kubernetes-int-or-string': true };

function keyedList(ref: string, key: string, extra: Partial<Schema> = {}): Schema {
  return {
    type: 'array',
    items: { $ref: ref },
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': [key],
    'x-kubernetes-patch-merge-key': key,
    'x-kubernetes-patch-strategy': 'merge',
    ...extra,
  };
}

const meta: Schema = { $ref: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', default: {} };

const DEFINITIONS: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    type: 'object',
    properties: {
      name: str,
      generateName: str,
      namespace: str,
      uid: str,
      resourceVersion: str,
      generation: { type: 'integer', format: 'int64' },
      creationTimestamp: { type: 'string', format: 'date-time' },
      deletionTimestamp: { type: 'string', format: 'date-time' },
      labels: strMap,
      annotations: strMap,
      finalizers: { ...strList, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
      ownerReferences: keyedList('io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference', 'uid'),
      managedFields: {
        type: 'array',
        items: { $ref: 'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry' },
      },
    },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference': {
    type: 'object',
    required: ['apiVersion', 'kind', 'name', 'uid'],
    properties: {
      apiVersion: str,
      kind: str,
      name: str,
      uid: str,
      controller: bool,
      blockOwnerDeletion: bool,
    },
    'x-kubernetes-map-type': 'atomic',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry': {
    type: 'object',
    properties: {
      manager: str,
      operation: str,
      apiVersion: str,
      time: str,
      fieldsType: str,
      fieldsV1: { type: 'object' },
      subresource: str,
    },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': {
    type: 'object',
    properties: {
      matchLabels: strMap,
      matchExpressions: {
        type: 'array',
        items: { $ref: 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement' },
        'x-kubernetes-list-type': 'atomic',
      },
    },
    'x-kubernetes-map-type': 'atomic',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement': {
    type: 'object',
    required: ['key', 'operator'],
    properties: { key: str, operator: str, values: { ...strList, 'x-kubernetes-list-type': 'atomic' } },
  },
  'io.k8s.api.apps.v1.Deployment': {
    type: 'object',
    properties: {
      apiVersion: str,
      kind: str,
      metadata: meta,
      spec: { $ref: 'io.k8s.api.apps.v1.DeploymentSpec', default: {} },
      status: { $ref: 'io.k8s.api.apps.v1.DeploymentStatus', default: {} },
    },
    'x-kubernetes-group-version-kind': [{ group: 'apps', kind: 'Deployment', version: 'v1' }],
  },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    type: 'object',
    required: ['selector', 'template'],
    properties: {
      replicas: int,
      selector: { $ref: 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector' },
      template: { $ref: 'io.k8s.api.core.v1.PodTemplateSpec', default: {} },
      strategy: {
        $ref: 'io.k8s.api.apps.v1.DeploymentStrategy',
        default: {},
        'x-kubernetes-patch-strategy': 'retainKeys',
      },
      minReadySeconds: int,
      revisionHistoryLimit: int,
      paused: bool,
      progressDeadlineSeconds: int,
    },
  },
  'io.k8s.api.apps.v1.DeploymentStrategy': {
    type: 'object',
    properties: { type: str, rollingUpdate: { $ref: 'io.k8s.api.apps.v1.RollingUpdateDeployment' } },
  },
  'io.k8s.api.apps.v1.RollingUpdateDeployment': {
    type: 'object',
    properties: { maxSurge: intOrString, maxUnavailable: intOrString },
  },
  'io.k8s.api.apps.v1.DeploymentStatus': {
    type: 'object',
    properties: {
      observedGeneration: { type: 'integer', format: 'int64' },
      replicas: int,
      readyReplicas: int,
      conditions: keyedList('io.k8s.api.apps.v1.DeploymentCondition', 'type'),
    },
  },
  'io.k8s.api.apps.v1.DeploymentCondition': {
    type: 'object',
    required: ['type', 'status'],
    properties: { type: str, status: str, reason: str, message: str },
  },
  'io.k8s.api.core.v1.PodTemplateSpec': {
    type: 'object',
    properties: { metadata: meta, spec: { $ref: 'io.k8s.api.core.v1.PodSpec', default: {} } },
  },
  'io.k8s.api.core.v1.PodSpec': {
    type: 'object',
    required: ['containers'],
    properties: {
      containers: keyedList('io.k8s.api.core.v1.Container', 'name'),
      initContainers: keyedList('io.k8s.api.core.v1.Container', 'name'),
      volumes: keyedList('io.k8s.api.core.v1.Volume', 'name', {
        'x-kubernetes-patch-strategy': 'merge,retainKeys',
      }),
      imagePullSecrets: keyedList('io.k8s.api.core.v1.LocalObjectReference', 'name'),
      restartPolicy: str,
      terminationGracePeriodSeconds: { type: 'integer', format: 'int64' },
      dnsPolicy: str,
      nodeSelector: { ...strMap, 'x-kubernetes-map-type': 'atomic' },
      serviceAccountName: str,
      tolerations: {
        type: 'array',
        items: { $ref: 'io.k8s.api.core.v1.Toleration' },
        'x-kubernetes-list-type': 'atomic',
      },
    },
  },
  'io.k8s.api.core.v1.Toleration': {
    type: 'object',
    properties: { key: str, operator: str, value: str, effect: str },
  },
  'io.k8s.api.core.v1.LocalObjectReference': {
    type: 'object',
    properties: { name: str },
    'x-kubernetes-map-type': 'atomic',
  },
  'io.k8s.api.core.v1.Container': {
    type: 'object',
    required: ['name'],
    properties: {
      name: str,
      image: str,
      command: { ...strList, 'x-kubernetes-list-type': 'atomic' },
      args: { ...strList, 'x-kubernetes-list-type': 'atomic' },
      ports: {
        type: 'array',
        items: { $ref: 'io.k8s.api.core.v1.ContainerPort' },
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
        'x-kubernetes-patch-merge-key': 'containerPort',
        'x-kubernetes-patch-strategy': 'merge',
      },
      env: keyedList('io.k8s.api.core.v1.EnvVar', 'name'),
      resources: { $ref: 'io.k8s.api.core.v1.ResourceRequirements', default: {} },
      volumeMounts: keyedList('io.k8s.api.core.v1.VolumeMount', 'mountPath'),
      imagePullPolicy: str,
      terminationMessagePath: str,
    },
  },
  'io.k8s.api.core.v1.ContainerPort': {
    type: 'object',
    required: ['containerPort'],
    properties: {
      name: str,
      containerPort: int,
      hostPort: int,
      protocol: { type: 'string', default: 'TCP' },
    },
  },
  'io.k8s.api.core.v1.EnvVar': {
    type: 'object',
    required: ['name'],
    properties: { name: str, value: str },
  },
  'io.k8s.api.core.v1.VolumeMount': {
    type: 'object',
    required: ['name', 'mountPath'],
    properties: { name: str, mountPath: str, readOnly: bool },
  },
  'io.k8s.api.core.v1.ResourceRequirements': {
    type: 'object',
    properties: {
      limits: {
        type: 'object',
        additionalProperties: { $ref: 'io.k8s.apimachinery.pkg.api.resource.Quantity' },
      },
      requests: {
        type: 'object',
        additionalProperties: { $ref: 'io.k8s.apimachinery.pkg.api.resource.Quantity' },
      },
    },
  },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string' },
  'io.k8s.api.core.v1.Volume': {
    type: 'object',
    required: ['name'],
    properties: {
      name: str,
      emptyDir: { $ref: 'io.k8s.api.core.v1.EmptyDirVolumeSource' },
      configMap: { $ref: 'io.k8s.api.core.v1.ConfigMapVolumeSource' },
    },
  },
  'io.k8s.api.core.v1.EmptyDirVolumeSource': { type: 'object', properties: { medium: str, sizeLimit: str } },
  'io.k8s.api.core.v1.ConfigMapVolumeSource': { type: 'object', properties: { name: str, optional: bool } },
  'io.k8s.api.core.v1.ConfigMap': {
    type: 'object',
    properties: {
      apiVersion: str,
      kind: str,
      metadata: meta,
      data: strMap,
      binaryData: strMap,
      immutable: bool,
    },
    'x-kubernetes-group-version-kind': [{ group: '', kind: 'ConfigMap', version: 'v1' }],
  },
  'com.example.stable.v1.CronTab': {
    type: 'object',
    properties: {
      apiVersion: str,
      kind: str,
      metadata: meta,
      spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    'x-kubernetes-group-version-kind': [{ group: 'stable.example.com', kind: 'CronTab', version: 'v1' }],
  },
};

export class FixtureRegistry implements SchemaRegistry {
  private readonly defs = new Map<string, Schema>(Object.entries(structuredClone(DEFINITIONS)));

  get(name: string): Schema | undefined {
    return this.defs.get(name);
  }

  resolve(schema: Schema): Schema {
    let cur = schema;
    for (let i = 0; i < 32 && cur.$ref !== undefined; i++) {
      const next = this.defs.get(cur.$ref);
      if (!next) return cur;
      cur = next;
    }
    return cur;
  }

  names(): Iterable<string> {
    return this.defs.keys();
  }

  set(name: string, schema: Schema): void {
    this.defs.set(name, schema);
  }

  delete(name: string): void {
    this.defs.delete(name);
  }
}

export const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';
export const CONFIGMAP = 'io.k8s.api.core.v1.ConfigMap';
export const CRONTAB = 'com.example.stable.v1.CronTab';
