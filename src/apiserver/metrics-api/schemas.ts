// OpenAPI definitions of metrics.k8s.io/v1beta1's kinds, so that `kubectl explain` and the OpenAPI
// documents describe them like any other kind.
import type { Schema } from '../../api/schema.js';

const PREFIX = 'io.k8s.metrics.pkg.apis.metrics.v1beta1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

const typeMeta: Record<string, Schema> = {
  apiVersion: { type: 'string', description: 'The versioned schema of this representation of an object.' },
  kind: { type: 'string', description: 'The REST resource this object represents.' },
};

const usage: Schema = {
  type: 'object',
  description: 'Resource usage: cpu in cores (averaged over the window), memory as the working set in bytes.',
  additionalProperties: { $ref: QUANTITY },
};

const timing: Record<string, Schema> = {
  timestamp: {
    $ref: `${META}.Time`,
    description: 'When the usage was measured: the end of the window [timestamp - window, timestamp].',
  },
  window: { type: 'string', description: 'The length of the window the usage was measured over.' },
};

function list(kind: string): Schema {
  return {
    type: 'object',
    description: `A list of ${kind}.`,
    required: ['items'],
    properties: {
      ...typeMeta,
      metadata: { $ref: `${META}.ListMeta`, description: 'Standard list metadata.' },
      items: { type: 'array', description: `The ${kind} objects.`, items: { $ref: `${PREFIX}.${kind}` } },
    },
  };
}

export const METRICS_DEFINITIONS: Readonly<Record<string, Schema>> = {
  [`${PREFIX}.NodeMetrics`]: {
    type: 'object',
    description: "A node's resource usage.",
    required: ['timestamp', 'window', 'usage'],
    properties: {
      ...typeMeta,
      metadata: { $ref: `${META}.ObjectMeta`, description: 'Standard object metadata: the node name.' },
      ...timing,
      usage,
    },
  },
  [`${PREFIX}.NodeMetricsList`]: list('NodeMetrics'),
  [`${PREFIX}.PodMetrics`]: {
    type: 'object',
    description: "A pod's resource usage, per container.",
    required: ['timestamp', 'window', 'containers'],
    properties: {
      ...typeMeta,
      metadata: { $ref: `${META}.ObjectMeta`, description: 'Standard object metadata: the pod name.' },
      ...timing,
      containers: {
        type: 'array',
        description: 'The usage of each container of the pod.',
        items: { $ref: `${PREFIX}.ContainerMetrics` },
      },
    },
  },
  [`${PREFIX}.PodMetricsList`]: list('PodMetrics'),
  [`${PREFIX}.ContainerMetrics`]: {
    type: 'object',
    description: "A container's resource usage.",
    required: ['name', 'usage'],
    properties: {
      name: { type: 'string', description: 'The container name, as in the pod spec.' },
      usage,
    },
  },
};
