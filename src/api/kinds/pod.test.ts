import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorMessage } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { podColumns, podFieldSelectors, podResource, summarizePod } from './pod.js';
import { imageTag } from './pod-spec.js';
import { simulateCreate } from './testing.js';

const NOW = new Date('2026-01-01T01:00:00Z');

function pod(spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec,
    ...extra,
  };
}
const nginx = { name: 'nginx', image: 'nginx' };
function messages(spec: Record<string, unknown>): string[] {
  return simulateCreate(pod(spec)).messages.slice();
}

test('image tags decide imagePullPolicy as upstream does', () => {
  assert.equal(imageTag('nginx'), 'latest');
  assert.equal(imageTag('nginx:latest'), 'latest');
  assert.equal(imageTag('nginx:1.14.2'), '1.14.2');
  assert.equal(imageTag('localhost:5000/app'), 'latest');
  assert.equal(imageTag('localhost:5000/app:v2'), 'v2');
  assert.equal(imageTag('nginx@sha256:abcd'), '');
});

test('pod defaults fill what kubectl get -o yaml shows', () => {
  const { stored } = simulateCreate(
    pod({
      containers: [
        {
          name: 'web',
          image: 'nginx:1.14',
          ports: [{ containerPort: 80 }],
          livenessProbe: { httpGet: { port: 80 } },
          resources: { limits: { cpu: '500m', memory: '128Mi' } },
        },
        { name: 'side', image: 'busybox' },
      ],
      volumes: [{ name: 'scratch' }, { name: 's', secret: { secretName: 'x' } }],
    }),
  );
  const s = stored.spec as Record<string, unknown>;
  assert.equal(s.restartPolicy, 'Always');
  assert.equal(s.dnsPolicy, 'ClusterFirst');
  assert.equal(s.schedulerName, 'default-scheduler');
  assert.deepEqual(s.securityContext, {});
  assert.equal(s.terminationGracePeriodSeconds, 30);
  assert.equal(s.enableServiceLinks, true);
  assert.equal(s.priority, 0);
  assert.equal(s.preemptionPolicy, 'PreemptLowerPriority');
  const [web, side] = s.containers as Record<string, unknown>[];
  assert.deepEqual(web, {
    name: 'web',
    image: 'nginx:1.14',
    imagePullPolicy: 'IfNotPresent',
    ports: [{ containerPort: 80, protocol: 'TCP' }],
    livenessProbe: {
      httpGet: { port: 80, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    },
    resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  });
  assert.equal(side?.imagePullPolicy, 'Always');
  assert.deepEqual(side?.resources, {});
  assert.deepEqual(s.volumes, [
    { name: 'scratch', emptyDir: {} },
    { name: 's', secret: { secretName: 'x', defaultMode: 420 } },
  ]);
  assert.deepEqual(stored.status, { phase: 'Pending', qosClass: 'Burstable' });
});

test('QoS class: Guaranteed and BestEffort', () => {
  const g = simulateCreate(
    pod({ containers: [{ ...nginx, resources: { limits: { cpu: '1', memory: '1Gi' } } }] }),
  );
  assert.equal((g.stored.status as Record<string, unknown>).qosClass, 'Guaranteed');
  const b = simulateCreate(pod({ containers: [nginx] }));
  assert.equal((b.stored.status as Record<string, unknown>).qosClass, 'BestEffort');
});

test('pod validation refuses with upstream paths and messages', () => {
  assert.deepEqual(messages({ containers: [] }), ['spec.containers: Required value']);
  assert.deepEqual(messages({ containers: [{ name: 'web' }] }), ['spec.containers[0].image: Required value']);
  assert.deepEqual(messages({ containers: [{ name: 'Web', image: 'x' }] }), [
    `spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
  ]);
  assert.deepEqual(messages({ containers: [nginx, nginx] }), [
    'spec.containers[1].name: Duplicate value: "nginx"',
  ]);
  assert.deepEqual(messages({ containers: [{ ...nginx, ports: [{ containerPort: 70000 }] }] }), [
    'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
  ]);
  assert.deepEqual(
    messages({ containers: [{ ...nginx, ports: [{ containerPort: 80, protocol: 'HTTP' }] }] }),
    [
      'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ],
  );
  assert.deepEqual(messages({ containers: [nginx], restartPolicy: 'Sometimes' }), [
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  ]);
  assert.deepEqual(messages({ containers: [{ ...nginx, imagePullPolicy: 'Maybe' }] }), [
    'spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never"',
  ]);
  assert.deepEqual(messages({ containers: [{ ...nginx, readinessProbe: { initialDelaySeconds: 5 } }] }), [
    'spec.containers[0].readinessProbe: Required value: must specify a handler type',
  ]);
  assert.deepEqual(
    messages({
      containers: [{ ...nginx, livenessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 80 } } }],
    }),
    ['spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type'],
  );
  assert.deepEqual(
    messages({
      containers: [{ ...nginx, livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } }],
    }),
    ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1'],
  );
  assert.deepEqual(
    messages({ containers: [{ ...nginx, volumeMounts: [{ name: 'data', mountPath: '/data' }] }] }),
    ['spec.containers[0].volumeMounts[0].name: Not found: "data"'],
  );
  assert.deepEqual(
    messages({ containers: [{ ...nginx, resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] }),
    [
      'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ],
  );
  assert.deepEqual(messages({ containers: [{ ...nginx, resources: { limits: { cpu: 'lots' } } }] }), [
    `spec.containers[0].resources.limits[cpu]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    `spec.containers[0].resources.requests[cpu]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
  ]);
  assert.deepEqual(messages({ containers: [{ ...nginx, resources: { limits: { gpu: '1' } } }] }), [
    'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers',
    'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers',
  ]);
  assert.deepEqual(
    messages({ containers: [nginx], volumes: [{ name: 'a', hostPath: { path: '/x' }, emptyDir: {} }] }),
    ['spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type'],
  );
  assert.deepEqual(messages({ containers: [{ ...nginx, env: [{ name: 'A=B', value: '1' }] }] }), [
    `spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
  ]);
  assert.deepEqual(messages({ containers: [nginx], activeDeadlineSeconds: 0 }), [
    'spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive',
  ]);
});

test('pod updates may only change images, deadlines, tolerations', () => {
  const { stored } = simulateCreate(pod({ containers: [{ ...nginx, ports: [{ containerPort: 80 }] }] }));
  const imageOnly = structuredClone(stored);
  ((imageOnly.spec as Record<string, unknown>).containers as Record<string, unknown>[])[0]!.image =
    'nginx:1.25';
  assert.deepEqual(podResource.strategy?.validateUpdate?.(imageOnly, stored), []);
  const portChange = structuredClone(stored);
  (
    ((portChange.spec as Record<string, unknown>).containers as Record<string, unknown>[])[0]!
      .ports as Record<string, unknown>[]
  )[0]!.containerPort = 8080;
  const errs = podResource.strategy?.validateUpdate?.(portChange, stored) ?? [];
  assert.deepEqual(errs.map(fieldErrorMessage), [
    'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
  ]);
});

test('graceful deletion uses terminationGracePeriodSeconds, immediate when never scheduled or finished', () => {
  const grace = (o: KubeObject, r: number | undefined): number | undefined =>
    podResource.strategy?.gracePeriodSeconds?.(o, r);
  const unscheduled = pod({ containers: [nginx], terminationGracePeriodSeconds: 30 });
  assert.equal(grace(unscheduled, undefined), undefined);
  const scheduled = pod({ containers: [nginx], terminationGracePeriodSeconds: 30, nodeName: 'n1' });
  assert.equal(grace(scheduled, undefined), 30);
  assert.equal(grace(scheduled, 5), 5);
  assert.equal(grace(scheduled, 0), undefined);
  assert.equal(grace({ ...scheduled, status: { phase: 'Succeeded' } }, undefined), undefined);
  assert.equal(grace(scheduled, -3), 1);
});

function withStatus(
  status: Record<string, unknown>,
  spec: Record<string, unknown> = { containers: [nginx] },
  meta: Record<string, unknown> = {},
): KubeObject {
  const p = pod(spec, { status });
  Object.assign(p.metadata, meta);
  return p;
}
const statusCell = (p: KubeObject): string => summarizePod(p, NOW).status;

test('STATUS cell as kubectl shows it', () => {
  assert.equal(statusCell(withStatus({ phase: 'Pending' })), 'Pending');
  assert.equal(
    statusCell(
      withStatus({
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'nginx',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ContainerCreating' } },
          },
        ],
      }),
    ),
    'ContainerCreating',
  );
  assert.equal(
    statusCell(
      withStatus({
        phase: 'Running',
        containerStatuses: [
          {
            name: 'nginx',
            ready: true,
            restartCount: 0,
            state: { running: { startedAt: '2026-01-01T00:00:05Z' } },
          },
        ],
      }),
    ),
    'Running',
  );
  assert.equal(
    statusCell(
      withStatus({
        phase: 'Succeeded',
        containerStatuses: [
          {
            name: 'nginx',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed' } },
          },
        ],
      }),
    ),
    'Completed',
  );
  assert.equal(
    statusCell(
      withStatus({
        phase: 'Failed',
        containerStatuses: [
          {
            name: 'nginx',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 1, reason: 'Error' } },
          },
        ],
      }),
    ),
    'Error',
  );
  assert.equal(
    statusCell(
      withStatus({
        phase: 'Failed',
        containerStatuses: [
          { name: 'nginx', ready: false, restartCount: 0, state: { terminated: { exitCode: 137 } } },
        ],
      }),
    ),
    'ExitCode:137',
  );
  assert.equal(
    statusCell(
      withStatus({
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'nginx',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ImagePullBackOff' } },
          },
        ],
      }),
    ),
    'ImagePullBackOff',
  );
  assert.equal(
    statusCell(
      withStatus({
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
      }),
    ),
    'SchedulingGated',
  );
  assert.equal(
    statusCell(
      withStatus(
        { phase: 'Running' },
        { containers: [nginx] },
        { deletionTimestamp: '2026-01-01T00:59:00Z' },
      ),
    ),
    'Terminating',
  );
  assert.equal(statusCell(withStatus({ phase: 'Failed', reason: 'Evicted' })), 'Evicted');
});

test('CrashLoopBackOff with restarts "3 (2m ago)"', () => {
  const p = withStatus({
    phase: 'Running',
    containerStatuses: [
      {
        name: 'nginx',
        ready: false,
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2026-01-01T00:58:00Z' } },
      },
    ],
  });
  assert.deepEqual(summarizePod(p, NOW), {
    ready: '0/1',
    status: 'CrashLoopBackOff',
    restarts: '3 (2m ago)',
  });
});

test('init containers: Init:0/2, Init:1/2, Init:CrashLoopBackOff, Init:Error, PodInitializing', () => {
  const spec = {
    containers: [nginx],
    initContainers: [
      { name: 'init-myservice', image: 'busybox' },
      { name: 'init-mydb', image: 'busybox' },
    ],
  };
  const running = { running: { startedAt: '2026-01-01T00:00:01Z' } };
  const waitingInit = { waiting: { reason: 'PodInitializing' } };
  const done = { terminated: { exitCode: 0, reason: 'Completed' } };
  assert.equal(
    statusCell(
      withStatus(
        {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'init-myservice', ready: false, restartCount: 0, state: running },
            {
              name: 'init-mydb',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'PodInitializing' } },
            },
          ],
          containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, state: waitingInit }],
        },
        spec,
      ),
    ),
    'Init:0/2',
  );
  assert.equal(
    statusCell(
      withStatus(
        {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'init-myservice', ready: false, restartCount: 0, state: done },
            { name: 'init-mydb', ready: false, restartCount: 0, state: running },
          ],
        },
        spec,
      ),
    ),
    'Init:1/2',
  );
  assert.equal(
    statusCell(
      withStatus(
        {
          phase: 'Pending',
          initContainerStatuses: [
            {
              name: 'init-myservice',
              ready: false,
              restartCount: 4,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
            },
          ],
        },
        spec,
      ),
    ),
    'Init:CrashLoopBackOff',
  );
  assert.equal(
    statusCell(
      withStatus(
        {
          phase: 'Failed',
          initContainerStatuses: [
            {
              name: 'init-myservice',
              ready: false,
              restartCount: 0,
              state: { terminated: { exitCode: 2, reason: 'Error' } },
            },
          ],
        },
        spec,
      ),
    ),
    'Init:Error',
  );
  assert.equal(
    statusCell(
      withStatus(
        {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'init-myservice', ready: false, restartCount: 0, state: done },
            { name: 'init-mydb', ready: false, restartCount: 0, state: done },
          ],
          containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, state: waitingInit }],
        },
        spec,
      ),
    ),
    'PodInitializing',
  );
});

test('a sidecar (restartable init container) counts toward READY', () => {
  const p = withStatus(
    {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }],
      initContainerStatuses: [
        { name: 'log', ready: true, started: true, restartCount: 1, state: { running: {} } },
      ],
      containerStatuses: [{ name: 'nginx', ready: true, restartCount: 0, state: { running: {} } }],
    },
    { containers: [nginx], initContainers: [{ name: 'log', image: 'busybox', restartPolicy: 'Always' }] },
  );
  assert.deepEqual(summarizePod(p, NOW), { ready: '2/2', status: 'Running', restarts: '1' });
});

test('pod table columns, wide ones at priority 1', () => {
  assert.deepEqual(
    podColumns.map((c) => [c.name, c.priority]),
    [
      ['Name', 0],
      ['Ready', 0],
      ['Status', 0],
      ['Restarts', 0],
      ['Age', 0],
      ['IP', 1],
      ['Node', 1],
      ['Nominated Node', 1],
      ['Readiness Gates', 1],
    ],
  );
  const p = withStatus(
    {
      phase: 'Running',
      podIPs: [{ ip: '10.42.0.7' }],
      conditions: [{ type: 'www.example.com/gate', status: 'True' }],
    },
    {
      containers: [nginx],
      nodeName: 'node1',
      readinessGates: [{ conditionType: 'www.example.com/gate' }, { conditionType: 'other' }],
    },
  );
  assert.deepEqual(
    podColumns.map((c) => c.cell(p, NOW)),
    ['p', '0/1', 'Running', '0', '60m', '10.42.0.7', 'node1', '<none>', '1/2'],
  );
});

test('pod field selectors', () => {
  const p = withStatus(
    { phase: 'Running', podIPs: [{ ip: '10.0.0.9' }] },
    { containers: [nginx], nodeName: 'n1', restartPolicy: 'Never', serviceAccountName: 'sa' },
  );
  const read = (k: string): string | undefined => podFieldSelectors[k]?.(p);
  assert.equal(read('spec.nodeName'), 'n1');
  assert.equal(read('spec.restartPolicy'), 'Never');
  assert.equal(read('spec.serviceAccountName'), 'sa');
  assert.equal(read('spec.hostNetwork'), 'false');
  assert.equal(read('status.phase'), 'Running');
  assert.equal(read('status.podIP'), '10.0.0.9');
  assert.equal(read('status.nominatedNodeName'), '');
});

test('volume and env validation', () => {
  assert.deepEqual(messages({ containers: [nginx], volumes: [{ name: 'c', configMap: {} }] }), [
    'spec.volumes[0].configMap.name: Required value',
  ]);
  assert.deepEqual(messages({ containers: [nginx], volumes: [{ name: 's', secret: {} }] }), [
    'spec.volumes[0].secret.secretName: Required value',
  ]);
  assert.deepEqual(
    messages({ containers: [nginx], volumes: [{ name: 'h', hostPath: { path: '/x', type: 'Folder' } }] }),
    [
      'spec.volumes[0].hostPath.type: Unsupported value: "Folder": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
    ],
  );
  assert.deepEqual(messages({ containers: [nginx], volumes: [{ name: 'a' }, { name: 'a' }] }), [
    'spec.volumes[1].name: Duplicate value: "a"',
  ]);
  assert.deepEqual(
    messages({
      containers: [
        { ...nginx, env: [{ name: 'U', valueFrom: { secretKeyRef: { name: 'mongodb-secret' } } }] },
      ],
    }),
    ['spec.containers[0].env[0].valueFrom.secretKeyRef.key: Required value'],
  );
  assert.deepEqual(
    messages({
      containers: [
        {
          ...nginx,
          env: [{ name: 'U', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        },
      ],
    }),
    [
      'spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
    ],
  );
  assert.deepEqual(
    messages({
      containers: [
        { ...nginx, env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] },
      ],
    }),
    [],
  );
  assert.deepEqual(messages({ containers: [nginx], dnsPolicy: 'Google' }), [
    'spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"',
  ]);
});

test('DefaultTolerationSeconds and the serviceAccount spelling', () => {
  const { stored } = simulateCreate(pod({ containers: [nginx], serviceAccount: 'builder' }));
  const s = stored.spec as Record<string, unknown>;
  assert.equal(s.serviceAccountName, 'builder');
  assert.equal(s.serviceAccount, 'builder');
  assert.deepEqual(s.tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    {
      key: 'node.kubernetes.io/unreachable',
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: 300,
    },
  ]);
  const tolerant = simulateCreate(pod({ containers: [nginx], tolerations: [{ operator: 'Exists' }] })).stored;
  assert.deepEqual((tolerant.spec as Record<string, unknown>).tolerations, [{ operator: 'Exists' }]);
});

test('hostNetwork pods default hostPort to containerPort and require them to match', () => {
  const { stored, messages } = simulateCreate(
    pod({ hostNetwork: true, containers: [{ ...nginx, ports: [{ containerPort: 8080 }] }] }),
  );
  assert.deepEqual(messages, []);
  assert.deepEqual(
    ((stored.spec as Record<string, unknown>).containers as Record<string, unknown>[])[0]?.ports,
    [{ containerPort: 8080, protocol: 'TCP', hostPort: 8080 }],
  );
  assert.deepEqual(
    messages_(
      pod({ hostNetwork: true, containers: [{ ...nginx, ports: [{ containerPort: 8080, hostPort: 80 }] }] }),
    ),
    [
      'spec.containers[0].ports[0].hostPort: Invalid value: 80: must match `containerPort` when `hostNetwork` is true',
    ],
  );
});
function messages_(p: KubeObject): string[] {
  return simulateCreate(p).messages.slice();
}
