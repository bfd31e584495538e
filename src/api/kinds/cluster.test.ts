import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorMessage } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { horizontalPodAutoscalerResource, hpaV1ToV2, hpaV2ToV1 } from './horizontal-pod-autoscaler.js';
import { limitRangeResource } from './limit-range.js';
import { nodeResource } from './node.js';
import { persistentVolumeClaimResource } from './persistent-volume-claim.js';
import { persistentVolumeResource } from './persistent-volume.js';
import { podDisruptionBudgetResource } from './pod-disruption-budget.js';
import { podTemplateResource } from './pod-template.js';
import { priorityClassResource } from './priority-class.js';
import { resourceQuotaResource } from './resource-quota.js';
import { storageClassResource } from './storage-class.js';
import { simulateCreate } from './testing.js';

const NOW = new Date('2026-01-03T00:00:00Z');
const created = '2026-01-01T00:00:00Z';
const cells = (
  r: { tableColumns?: readonly { cell: (o: KubeObject, n: Date) => unknown }[] },
  o: KubeObject,
): unknown[] => (r.tableColumns ?? []).map((c) => c.cell(o, NOW));

test('HPA autoscaling/v2 defaults, validation, table', () => {
  const hpa: KubeObject = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: created },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 10 },
  };
  const { stored, messages } = simulateCreate(hpa);
  assert.deepEqual(messages, []);
  assert.equal((stored.spec as Record<string, unknown>).minReplicas, 1);
  assert.deepEqual((stored.spec as Record<string, unknown>).metrics, [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
  ]);
  const observed = {
    ...stored,
    status: {
      currentReplicas: 2,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 35 } } }],
    },
  };
  assert.deepEqual(cells(horizontalPodAutoscalerResource, observed), [
    'web',
    'Deployment/web',
    'cpu: 35%/80%',
    '1',
    10,
    2,
    '2d',
  ]);
  assert.equal(horizontalPodAutoscalerResource.tableColumns?.[2]?.cell(stored, NOW), 'cpu: <unknown>/80%');
  assert.deepEqual(
    simulateCreate({
      ...hpa,
      spec: { ...(hpa.spec as Record<string, unknown>), minReplicas: 5, maxReplicas: 2 },
    }).messages,
    ['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`'],
  );
});

test('HPA autoscaling/v1 converts to v2 and back', () => {
  const v1: KubeObject = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 10,
      targetCPUUtilizationPercentage: 50,
    },
    status: { currentReplicas: 1, desiredReplicas: 1, currentCPUUtilizationPercentage: 20 },
  };
  const v2 = hpaV1ToV2(v1);
  assert.equal(v2.apiVersion, 'autoscaling/v2');
  assert.deepEqual((v2.spec as Record<string, unknown>).metrics, [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
  ]);
  assert.deepEqual((v2.status as Record<string, unknown>).currentMetrics, [
    { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 20 } } },
  ]);
  assert.deepEqual(hpaV2ToV1(v2), v1);
  // v2-only information survives a trip through v1 in annotations.
  const rich: KubeObject = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
        },
        {
          type: 'Resource',
          resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } },
        },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }],
        },
        scaleDown: {
          stabilizationWindowSeconds: 300,
          selectPolicy: 'Max',
          policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
        },
      },
    },
    status: { currentReplicas: 1, desiredReplicas: 1, conditions: [{ type: 'AbleToScale', status: 'True' }] },
  };
  const asV1 = hpaV2ToV1(rich);
  assert.equal((asV1.spec as Record<string, unknown>).targetCPUUtilizationPercentage, 60);
  assert.ok(asV1.metadata.annotations?.['autoscaling.alpha.kubernetes.io/metrics']);
  assert.deepEqual(hpaV1ToV2(asV1), rich);
});

test('PersistentVolumeClaim defaults, validation, update, table', () => {
  const pvc: KubeObject = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'default', creationTimestamp: created },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1024Mi' } } },
  };
  const { stored, messages } = simulateCreate(pvc);
  assert.deepEqual(messages, []);
  assert.equal((stored.spec as Record<string, unknown>).volumeMode, 'Filesystem');
  assert.deepEqual(stored.status, { phase: 'Pending' });
  assert.deepEqual(((stored.spec as Record<string, unknown>).resources as Record<string, unknown>).requests, {
    storage: '1Gi',
  });
  assert.deepEqual(
    simulateCreate({ ...pvc, spec: { resources: { requests: { storage: '1Gi' } } } }).messages,
    ['spec.accessModes: Required value: at least 1 access mode is required'],
  );
  assert.deepEqual(simulateCreate({ ...pvc, spec: { accessModes: ['ReadWriteOnce'] } }).messages, [
    'spec.resources[storage]: Required value',
  ]);
  assert.deepEqual(
    simulateCreate({
      ...pvc,
      spec: { accessModes: ['ReadWriteSometimes'], resources: { requests: { storage: '1Gi' } } },
    }).messages,
    [
      'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    ],
  );
  const changed = structuredClone(stored);
  (changed.spec as Record<string, unknown>).accessModes = ['ReadWriteMany'];
  assert.deepEqual(
    (persistentVolumeClaimResource.strategy?.validateUpdate?.(changed, stored) ?? []).map(fieldErrorMessage),
    [
      'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
    ],
  );
  const bound = {
    ...stored,
    spec: { ...(stored.spec as Record<string, unknown>), volumeName: 'pv-1', storageClassName: 'standard' },
    status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } },
  };
  assert.deepEqual(cells(persistentVolumeClaimResource, bound), [
    'data',
    'Bound',
    'pv-1',
    '1Gi',
    'RWO',
    'standard',
    '<unset>',
    '2d',
    'Filesystem',
  ]);
  assert.deepEqual(cells(persistentVolumeClaimResource, stored), [
    'data',
    'Pending',
    '',
    '',
    '',
    '',
    '<unset>',
    '2d',
    'Filesystem',
  ]);
});

test('PersistentVolume defaults, validation, table', () => {
  const pv: KubeObject = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'pv-1', creationTimestamp: created },
    spec: {
      capacity: { storage: '5Gi' },
      accessModes: ['ReadWriteOnce', 'ReadOnlyMany'],
      hostPath: { path: '/mnt/data' },
    },
  };
  const { stored, messages } = simulateCreate(pv);
  assert.deepEqual(messages, []);
  const s = stored.spec as Record<string, unknown>;
  assert.equal(s.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(s.volumeMode, 'Filesystem');
  assert.deepEqual(s.hostPath, { path: '/mnt/data', type: '' });
  assert.equal((stored.status as Record<string, unknown>).phase, 'Pending');
  assert.match(
    String((stored.status as Record<string, unknown>).lastPhaseTransitionTime),
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
  );
  assert.deepEqual(
    simulateCreate({ ...pv, spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'] } })
      .messages,
    ['spec: Required value: must specify a volume type'],
  );
  const bound = {
    ...stored,
    spec: { ...s, claimRef: { namespace: 'default', name: 'data' } },
    status: { phase: 'Bound' },
  };
  assert.deepEqual(cells(persistentVolumeResource, bound), [
    'pv-1',
    '5Gi',
    'RWO,ROX',
    'Retain',
    'Bound',
    'default/data',
    '',
    '<unset>',
    '',
    '2d',
    'Filesystem',
  ]);
});

test('StorageClass defaults, immutability, default marker', () => {
  const sc: KubeObject = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: 'standard',
      creationTimestamp: created,
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: 'rancher.io/local-path',
  };
  const { stored, messages } = simulateCreate(sc);
  assert.deepEqual(messages, []);
  assert.deepEqual(cells(storageClassResource, stored), [
    'standard (default)',
    'rancher.io/local-path',
    'Delete',
    'Immediate',
    false,
    '2d',
  ]);
  const changed = { ...stored, provisioner: 'other.io/x' };
  assert.deepEqual(
    (storageClassResource.strategy?.validateUpdate?.(changed, stored) ?? []).map(fieldErrorMessage),
    ['provisioner: Forbidden: updates to provisioner are forbidden.'],
  );
  assert.deepEqual(simulateCreate({ ...sc, provisioner: undefined }).messages, [
    'provisioner: Required value',
  ]);
});

test('Node table, roles, status, field selector', () => {
  const node: KubeObject = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: 'minikube',
      creationTimestamp: created,
      labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/master': '' },
    },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [
        { type: 'InternalIP', address: '192.168.49.2' },
        { type: 'Hostname', address: 'minikube' },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.36.0',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0',
        containerRuntimeVersion: 'containerd://1.6.20',
      },
      capacity: { cpu: '4', memory: '8048000Ki' },
    },
  };
  const { stored, messages } = simulateCreate(node);
  assert.deepEqual(messages, []);
  assert.deepEqual((stored.status as Record<string, unknown>).allocatable, { cpu: '4', memory: '8048000Ki' });
  assert.deepEqual(cells(nodeResource, stored), [
    'minikube',
    'Ready,SchedulingDisabled',
    'control-plane,master',
    '2d',
    'v1.36.0',
    '192.168.49.2',
    '<none>',
    'Debian GNU/Linux 12 (bookworm)',
    '6.1.0',
    'containerd://1.6.20',
  ]);
  assert.equal(nodeResource.fieldSelectors?.['spec.unschedulable']?.(stored), 'true');
  const bare: KubeObject = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n', creationTimestamp: created },
  };
  assert.deepEqual(cells(nodeResource, bare).slice(1, 3), ['Unknown', '<none>']);
  assert.deepEqual(
    simulateCreate({ ...bare, spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'Sometimes' }] } })
      .messages,
    [
      'spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"',
    ],
  );
});

test('LimitRange defaults and ordering checks', () => {
  const lr: KubeObject = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: 'limits', namespace: 'default', creationTimestamp: created },
    spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }] },
  };
  const { stored, messages } = simulateCreate(lr);
  assert.deepEqual(messages, []);
  assert.deepEqual(stored.spec, {
    limits: [
      {
        type: 'Container',
        max: { cpu: '2' },
        min: { memory: '64Mi' },
        default: { cpu: '2' },
        defaultRequest: { cpu: '2', memory: '64Mi' },
      },
    ],
  });
  assert.deepEqual(
    simulateCreate({ ...lr, spec: { limits: [{ type: 'Container', max: { cpu: '1' }, min: { cpu: '2' } }] } })
      .messages,
    [
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
      'spec.limits[0].defaultRequest[cpu]: Invalid value: "1": min value 2 is greater than default request value 1',
      'spec.limits[0].default[cpu]: Invalid value: "2": min value 2 is greater than default value 1',
    ],
  );
  assert.deepEqual(cells(limitRangeResource, stored), ['limits', '2026-01-01T00:00:00Z']);
});

test('ResourceQuota table', () => {
  const q: KubeObject = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'quota', namespace: 'default', creationTimestamp: created },
    spec: { hard: { 'requests.cpu': '1', 'limits.memory': '1Gi', pods: '10' } },
    status: {
      hard: { 'requests.cpu': '1', 'limits.memory': '1Gi', pods: '10' },
      used: { 'requests.cpu': '500m', pods: '2' },
    },
  };
  assert.deepEqual(cells(resourceQuotaResource, q), [
    'quota',
    '2d',
    'pods: 2/10, requests.cpu: 500m/1',
    'limits.memory: 0/1Gi',
  ]);
  assert.deepEqual(simulateCreate({ ...q, spec: { hard: { pods: 'many' } } }).messages, [
    `spec.hard[pods]: Invalid value: "many": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
  ]);
});

test('PriorityClass rules and table', () => {
  const pc: KubeObject = {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'high', creationTimestamp: created },
    value: 1000,
  };
  const { stored, messages } = simulateCreate(pc);
  assert.deepEqual(messages, []);
  assert.deepEqual(cells(priorityClassResource, stored), ['high', 1000, false, '2d', 'PreemptLowerPriority']);
  assert.deepEqual(simulateCreate({ ...pc, value: 2000000000 }).messages, [
    'value: Forbidden: maximum allowed value of a user defined priority is 1000000000',
  ]);
  assert.deepEqual(simulateCreate({ ...pc, metadata: { name: 'system-mine' } }).messages, [
    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved",
  ]);
  assert.deepEqual(
    (priorityClassResource.strategy?.validateUpdate?.({ ...stored, value: 5 }, stored) ?? []).map(
      fieldErrorMessage,
    ),
    ['value: Forbidden: may not be changed in an update.'],
  );
});

test('PodDisruptionBudget validation and table', () => {
  const pdb: KubeObject = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: created },
    spec: { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } },
  };
  const { stored, messages } = simulateCreate(pdb);
  assert.deepEqual(messages, []);
  assert.deepEqual(cells(podDisruptionBudgetResource, { ...stored, status: { disruptionsAllowed: 1 } }), [
    'web',
    '50%',
    'N/A',
    1,
    '2d',
  ]);
  assert.equal(simulateCreate({ ...pdb, spec: { minAvailable: 1, maxUnavailable: 1 } }).messages.length, 1);
  assert.deepEqual(simulateCreate({ ...pdb, spec: { maxUnavailable: '150%' } }).messages, [
    'spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
  ]);
});

test('PodTemplate defaults and table', () => {
  const pt: KubeObject = {
    apiVersion: 'v1',
    kind: 'PodTemplate',
    metadata: { name: 'tmpl', namespace: 'default', creationTimestamp: created },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx' }] },
    },
  };
  const { stored, messages } = simulateCreate(pt);
  assert.deepEqual(messages, []);
  assert.deepEqual(cells(podTemplateResource, stored), ['tmpl', 'web', 'nginx', 'app=web']);
});

test('an autoscaling/v1 HPA gets the v2 default cpu target back as targetCPUUtilizationPercentage', async () => {
  const { horizontalPodAutoscalerV1Resource } = await import('./horizontal-pod-autoscaler.js');
  const v1: KubeObject = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 },
  };
  horizontalPodAutoscalerV1Resource.strategy?.default?.(v1);
  assert.deepEqual(v1.spec, {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    maxReplicas: 5,
    minReplicas: 1,
    targetCPUUtilizationPercentage: 80,
  });
  assert.deepEqual(
    horizontalPodAutoscalerV1Resource.strategy
      ?.validate?.({ ...v1, spec: { ...(v1.spec as object), maxReplicas: 0 } })
      .map(fieldErrorMessage),
    ['spec.maxReplicas: Invalid value: 0: must be greater than 0'],
  );
});
