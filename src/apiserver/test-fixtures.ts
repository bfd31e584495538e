// Small resource descriptions for the API server's own tests, independent of the full kind set:
// a namespaced kind without spec (ConfigMap), a cluster-scoped one (Namespace), a kind with
// status and scale subresources (Deployment) and a deprecated version served by conversion.
import type { KubeObject } from '../api/meta.js';
import { isPlainObject } from '../api/meta.js';
import type { ResourceDescription } from '../api/types.js';
import { ageOf } from './table.js';

export const configMaps: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.ConfigMap',
  tableColumns: [
    {
      name: 'Name',
      type: 'string',
      format: 'name',
      description: 'Name of the object.',
      priority: 0,
      cell: (o) => o.metadata.name ?? '',
    },
    {
      name: 'Data',
      type: 'integer',
      description: 'Number of data entries.',
      priority: 0,
      cell: (o) =>
        (isPlainObject(o.data) ? Object.keys(o.data).length : 0) +
        (isPlainObject(o.binaryData) ? Object.keys(o.binaryData).length : 0),
    },
    {
      name: 'Age',
      type: 'string',
      description: 'Time since creation.',
      priority: 0,
      cell: (o, now) => ageOf(o, now),
    },
  ],
};

export const secrets: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.Secret',
  fieldSelectors: { type: (o: KubeObject) => (typeof o.type === 'string' ? o.type : '') },
};

export const namespaces: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  schemaRef: 'io.k8s.api.core.v1.Namespace',
  subresources: { status: true },
  fieldSelectors: {
    'status.phase': (o) =>
      isPlainObject(o.status) && typeof o.status.phase === 'string' ? o.status.phase : '',
  },
  strategy: {
    prepareForCreate(obj) {
      obj.status = { phase: 'Active' };
      const spec = isPlainObject(obj.spec) ? obj.spec : {};
      if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
      obj.spec = spec;
    },
  },
};

export const deployments: ResourceDescription = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  categories: ['all'],
  namespaced: true,
  schemaRef: 'io.k8s.api.apps.v1.Deployment',
  subresources: {
    status: true,
    scale: {
      specReplicasPath: '.spec.replicas',
      statusReplicasPath: '.status.replicas',
      selectorFor: (o) => {
        const spec = isPlainObject(o.spec) ? o.spec : {};
        const sel = isPlainObject(spec.selector) ? spec.selector : {};
        const ml = isPlainObject(sel.matchLabels) ? sel.matchLabels : {};
        return Object.entries(ml)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(',');
      },
    },
  },
  strategy: {
    default(obj) {
      const spec = isPlainObject(obj.spec) ? obj.spec : {};
      if (spec.replicas === undefined) spec.replicas = 1;
      obj.spec = spec;
    },
  },
};

/** apps/v1beta2 Deployment served by conversion to apps/v1 storage, with a deprecation warning. */
export const deploymentsV1beta2: ResourceDescription = {
  ...deployments,
  version: 'v1beta2',
  schemaRef: 'io.k8s.api.apps.v1.Deployment',
  conversion: {
    storageGroup: 'apps',
    storageVersion: 'v1',
    toStorage: (o) => ({ ...o, apiVersion: 'apps/v1' }),
    fromStorage: (o) => ({ ...o, apiVersion: 'apps/v1beta2' }),
    deprecationWarning: 'apps/v1beta2 Deployment is deprecated; use apps/v1 Deployment',
  },
};

export const fixtureResources: readonly ResourceDescription[] = [
  namespaces,
  configMaps,
  secrets,
  deployments,
  deploymentsV1beta2,
];
