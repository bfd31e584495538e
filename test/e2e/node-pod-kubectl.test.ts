// What kubectl users meet on a real node that the other e2e files leave out: exec into a container
// that is not running (kubelet's `container not found`), a resourceFieldRef written without a
// divisor (served as "0", read as 1), and the events of failing lifecycle hooks (FailedPostStartHook
// with the Killing event kubelet's kill records, FailedPreStopHook on delete).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startContainerdNode, type ContainerdNode } from '../support/containerd-node.js';
import { removeDataDir, type TestServer } from '../support/k8ts-server.js';
import { eventually } from '../support/eventually.js';

let node: ContainerdNode;
let server: TestServer;
const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-pod-kubectl-'));

before(async () => {
  node = await startContainerdNode(dataDir, 'k8ts-pod-kubectl-node');
  server = node.server;
});

after(async () => {
  await node?.stop();
  removeDataDir(dataDir);
});

async function waitPhase(name: string, phase: string): Promise<void> {
  await eventually(
    `pod ${name} ${phase}`,
    async () => {
      const r = await server.kubectl(['get', 'pod', name, '-o', 'jsonpath={.status.phase}']);
      return r.stdout === phase ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

/** The pod's events as "Type Reason Message" lines. */
async function events(name: string): Promise<string> {
  return server.kubectlOk([
    'get',
    'events',
    '--field-selector',
    `involvedObject.name=${name}`,
    '-o',
    'jsonpath={range .items[*]}{.type} {.reason} {.message}{"\\n"}{end}',
  ]);
}

test('kubectl exec into an init container that has exited says kubelet\'s "container not found"', async () => {
  await server.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'with-init' },
    spec: {
      terminationGracePeriodSeconds: 0,
      initContainers: [{ name: 'setup', image: 'busybox:latest', command: ['true'] }],
      containers: [{ name: 'main', image: 'busybox:latest', command: ['sleep', '3600'] }],
    },
  });
  await waitPhase('with-init', 'Running');
  const r = await server.kubectl(['exec', 'with-init', '-c', 'setup', '--', 'ls']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unable to upgrade connection: container not found \("setup"\)/);
  assert.equal(
    (await server.kubectlOk(['exec', 'with-init', '-c', 'main', '--', 'echo', 'ok'])).trim(),
    'ok',
  );
});

test('resourceFieldRef without a divisor gives whole units, rounded up', async () => {
  await server.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'resources-env' },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'main',
          image: 'busybox:latest',
          command: ['sleep', '3600'],
          resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '1500m', memory: '64Mi' } },
          env: [
            { name: 'CPU_REQUEST', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
            { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
            { name: 'MEMORY_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
          ],
        },
      ],
    },
  });
  // The API serves the missing divisor as the zero quantity, as upstream's does.
  assert.equal(
    await server.kubectlOk([
      'get',
      'pod',
      'resources-env',
      '-o',
      'jsonpath={.spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor}',
    ]),
    '0',
  );
  await waitPhase('resources-env', 'Running');
  const env = await server.kubectlOk([
    'exec',
    'resources-env',
    '--',
    'sh',
    '-c',
    'echo $CPU_REQUEST $CPU_LIMIT $MEMORY_LIMIT',
  ]);
  assert.equal(env.trim(), `1 2 ${64 * 1024 * 1024}`);
});

test('a failing postStart hook records FailedPostStartHook and a Killing event; a failing preStop hook FailedPreStopHook', async () => {
  await server.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bad-hooks' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'main',
          image: 'busybox:latest',
          command: ['sleep', '3600'],
          lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo secret; exit 7'] } } },
        },
      ],
    },
  });
  const seen = await eventually(
    'postStart hook events',
    async () => {
      const out = await events('bad-hooks');
      return /Normal Killing FailedPostStartHook/.test(out) ? out : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  assert.match(seen, /^Warning FailedPostStartHook PostStartHook failed$/m);
  // The hook's output stays out of events (it may hold secrets).
  assert.doesNotMatch(seen, /secret/);

  await server.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bad-prestop' },
    spec: {
      terminationGracePeriodSeconds: 2,
      containers: [
        {
          name: 'main',
          image: 'busybox:latest',
          command: ['sleep', '3600'],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'exit 3'] } } },
        },
      ],
    },
  });
  await waitPhase('bad-prestop', 'Running');
  await server.kubectlOk(['delete', 'pod', 'bad-prestop', '--wait=false']);
  const stopped = await eventually(
    'preStop hook event',
    async () => {
      const out = await events('bad-prestop');
      return /FailedPreStopHook/.test(out) ? out : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  assert.match(stopped, /^Warning FailedPreStopHook PreStopHook failed$/m);
  assert.match(stopped, /^Normal Killing Stopping container main$/m);
});

test('a missing ConfigMap volume holds the pod in a bare ContainerCreating, told by a FailedMount event', async () => {
  await server.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'needs-config' },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'main',
          image: 'busybox:latest',
          command: ['sleep', '3600'],
          volumeMounts: [{ name: 'config', mountPath: '/config' }],
        },
      ],
      volumes: [{ name: 'config', configMap: { name: 'late-config' } }],
    },
  });
  const seen = await eventually(
    'FailedMount event',
    async () => {
      const out = await events('needs-config');
      return /FailedMount/.test(out) ? out : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  assert.match(
    seen,
    /^Warning FailedMount MountVolume\.SetUp failed for volume "config" : configmap "late-config" not found$/m,
  );
  // As kubelet: the reason is in the event, not in the container's waiting state.
  assert.equal(
    await server.kubectlOk([
      'get',
      'pod',
      'needs-config',
      '-o',
      'jsonpath={.status.containerStatuses[0].state.waiting}',
    ]),
    '{"reason":"ContainerCreating"}',
  );
  await server.kubectlOk(['create', 'configmap', 'late-config', '--from-literal=greeting=hello']);
  await waitPhase('needs-config', 'Running');
  assert.equal(await server.kubectlOk(['exec', 'needs-config', '--', 'cat', '/config/greeting']), 'hello');
});
