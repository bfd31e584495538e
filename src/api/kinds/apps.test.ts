import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorMessage } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { daemonSetResource } from './daemon-set.js';
import {
  deploymentExtensionsV1beta1Resource,
  deploymentResource,
  deploymentV1beta1ToV1,
  deploymentV1ToV1beta1,
} from './deployment.js';
import { replicaSetResource } from './replica-set.js';
import { replicationControllerResource } from './replication-controller.js';
import { statefulSetResource } from './stateful-set.js';
import { controllerRevisionResource } from './controller-revision.js';
import { simulateCreate } from './testing.js';
import { get } from './util.js';

const NOW = new Date('2026-01-01T02:00:00Z');
const template = {
  metadata: { labels: { app: 'nginx' } },
  spec: { containers: [{ name: 'nginx', image: 'nginx:1.14.2' }] },
};

function obj(
  apiVersion: string,
  kind: string,
  spec: Record<string, unknown>,
  status?: Record<string, unknown>,
): KubeObject {
  const o: KubeObject = {
    apiVersion,
    kind,
    metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec,
  };
  if (status) o.status = status;
  return o;
}
const msgs = (o: KubeObject): string[] => simulateCreate(o).messages.slice();
const cells = (
  columns: readonly { cell: (o: KubeObject, n: Date) => unknown }[] | undefined,
  o: KubeObject,
): unknown[] => (columns ?? []).map((c) => c.cell(o, NOW));

test('Deployment apps/v1 defaults', () => {
  const { stored } = simulateCreate(
    obj('apps/v1', 'Deployment', { selector: { matchLabels: { app: 'nginx' } }, template }),
  );
  const s = stored.spec as Record<string, unknown>;
  assert.equal(s.replicas, 1);
  assert.deepEqual(s.strategy, {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
  });
  assert.equal(s.revisionHistoryLimit, 10);
  assert.equal(s.progressDeadlineSeconds, 600);
  assert.deepEqual(get(s, 'template', 'metadata'), { labels: { app: 'nginx' } });
  assert.equal(get(s, 'template', 'spec', 'restartPolicy'), 'Always');
  assert.deepEqual(stored.status, {});
});

test('Deployment validation', () => {
  assert.deepEqual(msgs(obj('apps/v1', 'Deployment', { template })), ['spec.selector: Required value']);
  const mismatch = msgs(
    obj('apps/v1', 'Deployment', { selector: { matchLabels: { app: 'web' } }, template }),
  );
  assert.equal(mismatch.length, 1);
  assert.match(
    mismatch[0] ?? '',
    /^spec\.template\.metadata\.labels: Invalid value: .*: `selector` does not match template `labels`$/,
  );
  assert.deepEqual(
    msgs(
      obj('apps/v1', 'Deployment', { selector: { matchLabels: { app: 'nginx' } }, template, replicas: -1 }),
    ),
    ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
  );
  const never = structuredClone(template) as Record<string, unknown>;
  (never.spec as Record<string, unknown>).restartPolicy = 'Never';
  assert.deepEqual(
    msgs(obj('apps/v1', 'Deployment', { selector: { matchLabels: { app: 'nginx' } }, template: never })),
    ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
  );
  assert.deepEqual(
    msgs(
      obj('apps/v1', 'Deployment', {
        selector: { matchLabels: { app: 'nginx' } },
        template,
        strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } },
      }),
    ),
    ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
  );
  assert.deepEqual(
    msgs(
      obj('apps/v1', 'Deployment', {
        selector: { matchLabels: { app: 'nginx' } },
        template,
        strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } },
      }),
    ),
    ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0'],
  );
  assert.deepEqual(
    msgs(
      obj('apps/v1', 'Deployment', {
        selector: { matchLabels: { app: 'nginx' } },
        template,
        minReadySeconds: 700,
      }),
    ),
    ['spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds'],
  );
  assert.deepEqual(msgs(obj('apps/v1', 'Deployment', { selector: {}, template })), [
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
  ]);
});

test('Deployment selector is immutable', () => {
  const { stored } = simulateCreate(
    obj('apps/v1', 'Deployment', { selector: { matchLabels: { app: 'nginx' } }, template }),
  );
  const changed = structuredClone(stored);
  (changed.spec as Record<string, unknown>).selector = { matchLabels: { app: 'nginx', tier: 'web' } };
  const t = get(changed, 'spec', 'template', 'metadata') as Record<string, unknown>;
  t.labels = { app: 'nginx', tier: 'web' };
  const errs = (deploymentResource.strategy?.validateUpdate?.(changed, stored) ?? []).map(fieldErrorMessage);
  // Upstream prints the new selector with Go's %#v.
  assert.deepEqual(errs, [
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"nginx", "tier":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
  ]);
  const withExpressions = structuredClone(changed);
  (withExpressions.spec as Record<string, unknown>).selector = {
    matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'db'] }],
  };
  assert.deepEqual(
    (deploymentResource.strategy?.validateUpdate?.(withExpressions, stored) ?? [])
      .map(fieldErrorMessage)
      .filter((m) => m.includes('immutable')),
    [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"tier", Operator:"In", Values:[]string{"web", "db"}}}}: field is immutable',
    ],
  );
});

test('Deployment table and scale selector', () => {
  const d = obj(
    'apps/v1',
    'Deployment',
    { replicas: 3, selector: { matchLabels: { app: 'nginx' } }, template },
    { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  );
  assert.deepEqual(cells(deploymentResource.tableColumns, d), [
    'web',
    '2/3',
    3,
    2,
    '120m',
    'nginx',
    'nginx:1.14.2',
    'app=nginx',
  ]);
  assert.deepEqual(
    deploymentResource.tableColumns?.map((c) => `${c.name}:${c.priority}`),
    ['Name:0', 'Ready:0', 'Up-to-date:0', 'Available:0', 'Age:0', 'Containers:1', 'Images:1', 'Selector:1'],
  );
  assert.equal(deploymentResource.subresources?.scale?.selectorFor?.(d), 'app=nginx');
  const expr = obj('apps/v1', 'Deployment', {
    selector: {
      matchLabels: { b: '2', a: '1' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'dev'] },
        { key: 'x', operator: 'DoesNotExist' },
      ],
    },
  });
  assert.equal(deploymentResource.subresources?.scale?.selectorFor?.(expr), 'a=1,b=2,env in (dev,prod),!x');
});

test('extensions/v1beta1 Deployment: old defaults, conversion both ways, deprecation warning', () => {
  const d = obj('extensions/v1beta1', 'Deployment', { template });
  deploymentExtensionsV1beta1Resource.strategy?.default?.(d);
  assert.deepEqual(get(d, 'spec', 'selector'), { matchLabels: { app: 'nginx' } });
  assert.deepEqual(get(d, 'spec', 'strategy'), {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 1, maxSurge: 1 },
  });
  const v1 = deploymentV1beta1ToV1(d);
  assert.equal(v1.apiVersion, 'apps/v1');
  const back = deploymentV1ToV1beta1(v1);
  assert.deepEqual(back, d);
  const fromV1 = simulateCreate(
    obj('apps/v1', 'Deployment', { selector: { matchLabels: { app: 'nginx' } }, template }),
  ).stored;
  assert.deepEqual(deploymentV1beta1ToV1(deploymentV1ToV1beta1(fromV1)), fromV1);
  assert.equal(
    deploymentExtensionsV1beta1Resource.conversion?.deprecationWarning,
    'extensions/v1beta1 Deployment is deprecated in v1.9+, unavailable in v1.16+; use apps/v1 Deployment',
  );
});

test('ReplicaSet defaults, validation and table', () => {
  const { stored, messages } = simulateCreate(
    obj('apps/v1', 'ReplicaSet', { selector: { matchLabels: { app: 'nginx' } }, template }),
  );
  assert.deepEqual(messages, []);
  assert.equal(get(stored, 'spec', 'replicas'), 1);
  assert.match(
    msgs(obj('apps/v1', 'ReplicaSet', { selector: { matchLabels: { app: 'x' } }, template }))[0] ?? '',
    /`selector` does not match template `labels`$/,
  );
  const rs = obj(
    'apps/v1',
    'ReplicaSet',
    { replicas: 2, selector: { matchLabels: { app: 'nginx' } }, template },
    { replicas: 2, readyReplicas: 1 },
  );
  assert.deepEqual(cells(replicaSetResource.tableColumns, rs), [
    'web',
    2,
    2,
    1,
    '120m',
    'nginx',
    'nginx:1.14.2',
    'app=nginx',
  ]);
});

test('ReplicationController defaults selector and labels from the template', () => {
  const { stored, messages } = simulateCreate(obj('v1', 'ReplicationController', { template }));
  assert.deepEqual(messages, []);
  assert.deepEqual(get(stored, 'spec', 'selector'), { app: 'nginx' });
  assert.deepEqual(stored.metadata.labels, { app: 'nginx' });
  assert.equal(get(stored, 'spec', 'replicas'), 1);
  assert.equal(replicationControllerResource.subresources?.scale?.selectorFor?.(stored), 'app=nginx');
  assert.deepEqual(msgs(obj('v1', 'ReplicationController', { selector: { app: 'other' }, template })), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`',
  ]);
  assert.deepEqual(
    cells(replicationControllerResource.tableColumns, {
      ...stored,
      status: { replicas: 1, readyReplicas: 1 },
    }).slice(0, 4),
    ['web', 1, 1, 1],
  );
});

test('DaemonSet defaults, validation and table', () => {
  const { stored, messages } = simulateCreate(
    obj('apps/v1', 'DaemonSet', { selector: { matchLabels: { app: 'nginx' } }, template }),
  );
  assert.deepEqual(messages, []);
  assert.deepEqual(get(stored, 'spec', 'updateStrategy'), {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
  });
  assert.equal(get(stored, 'spec', 'revisionHistoryLimit'), 10);
  assert.deepEqual(
    msgs(
      obj('apps/v1', 'DaemonSet', {
        selector: { matchLabels: { app: 'nginx' } },
        template,
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } },
      }),
    ),
    ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0'],
  );
  const ds = obj(
    'apps/v1',
    'DaemonSet',
    { selector: { matchLabels: { app: 'nginx' } }, template },
    {
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      numberReady: 1,
      updatedNumberScheduled: 2,
      numberAvailable: 1,
    },
  );
  assert.deepEqual(cells(daemonSetResource.tableColumns, ds), [
    'web',
    2,
    2,
    1,
    2,
    1,
    '<none>',
    '120m',
    'nginx',
    'nginx:1.14.2',
    'app=nginx',
  ]);
});

test('StatefulSet defaults, validation, update rules, table', () => {
  const { stored, messages } = simulateCreate(
    obj('apps/v1', 'StatefulSet', {
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'nginx' } },
      template,
      volumeClaimTemplates: [
        {
          metadata: { name: 'www' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
    }),
  );
  assert.deepEqual(messages, []);
  const s = stored.spec as Record<string, unknown>;
  assert.equal(s.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(s.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.equal(s.revisionHistoryLimit, 10);
  assert.deepEqual(s.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.deepEqual(s.volumeClaimTemplates, [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'www' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Pending' },
    },
  ]);
  assert.deepEqual(
    msgs(
      obj('apps/v1', 'StatefulSet', {
        selector: { matchLabels: { app: 'nginx' } },
        template,
        podManagementPolicy: 'Random',
      }),
    ),
    ["spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"],
  );
  const changed = structuredClone(stored);
  (changed.spec as Record<string, unknown>).serviceName = 'other';
  assert.deepEqual(
    (statefulSetResource.strategy?.validateUpdate?.(changed, stored) ?? []).map(fieldErrorMessage),
    [
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ],
  );
  const scaled = structuredClone(stored);
  (scaled.spec as Record<string, unknown>).replicas = 5;
  assert.deepEqual(statefulSetResource.strategy?.validateUpdate?.(scaled, stored), []);
  assert.deepEqual(cells(statefulSetResource.tableColumns, { ...stored, status: { readyReplicas: 1 } }), [
    'web',
    '1/1',
    '120m',
    'nginx',
    'nginx:1.14.2',
  ]);
});

test('ControllerRevision controller column', () => {
  const cr: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: 'web-7d4b9c',
      creationTimestamp: '2026-01-01T00:00:00Z',
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true },
      ],
    },
    data: {},
    revision: 2,
  };
  assert.deepEqual(cells(controllerRevisionResource.tableColumns, cr), [
    'web-7d4b9c',
    'statefulset.apps/web',
    2,
    '120m',
  ]);
});

test('StatefulSet containers may mount their volumeClaimTemplates; DaemonSet without selector fails the label match', () => {
  const mounting = structuredClone(template) as { spec: { containers: Record<string, unknown>[] } };
  mounting.spec.containers[0]!.volumeMounts = [{ name: 'www', mountPath: '/usr/share/nginx/html' }];
  assert.deepEqual(
    msgs(
      obj('apps/v1', 'StatefulSet', {
        selector: { matchLabels: { app: 'nginx' } },
        template: mounting,
        volumeClaimTemplates: [
          {
            metadata: { name: 'www' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      }),
    ),
    [],
  );
  assert.deepEqual(msgs(obj('apps/v1', 'DaemonSet', { template })), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`',
  ]);
  const deadline = structuredClone(template) as { spec: Record<string, unknown> };
  deadline.spec.activeDeadlineSeconds = 10;
  assert.deepEqual(
    msgs(obj('apps/v1', 'Deployment', { selector: { matchLabels: { app: 'nginx' } }, template: deadline })),
    [
      'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported',
    ],
  );
});

test('an extensions/v1beta1 Deployment is prepared and validated through apps/v1', () => {
  const d = obj('extensions/v1beta1', 'Deployment', {
    selector: { matchLabels: { app: 'other' } },
    template,
  });
  const errs = deploymentExtensionsV1beta1Resource.strategy?.validate?.(
    (() => {
      deploymentExtensionsV1beta1Resource.strategy?.default?.(d);
      return d;
    })(),
  );
  assert.match((errs ?? []).map(fieldErrorMessage)[0] ?? '', /`selector` does not match template `labels`$/);
  deploymentExtensionsV1beta1Resource.strategy?.prepareForCreate?.(d);
  assert.equal(d.apiVersion, 'extensions/v1beta1');
  assert.deepEqual(d.status, {});
});
