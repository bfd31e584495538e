// `kubectl top` against `k8ts server --runtime fake`: the API server serves metrics.k8s.io itself,
// from the simulated node's stats (a deterministic share of what containers request, or what the
// fake.k8ts.io/*-usage annotations say), so every figure below is exact.
import '../support/kubectl-cache.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../support/eventually.js';
import { startServer, type TestServer } from '../support/k8ts-server.js';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  containers:
  - name: app
    image: nginx
    resources: {requests: {cpu: 200m, memory: 64Mi}}
  - name: log
    image: busybox
---
apiVersion: v1
kind: Pod
metadata:
  name: busy
  namespace: other
  labels: {app: busy}
  annotations: {fake.k8ts.io/cpu-usage: 500m, fake.k8ts.io/memory-usage: 128Mi}
spec:
  containers:
  - name: main
    image: busybox
---
apiVersion: v1
kind: Pod
metadata: {name: pending, namespace: default}
spec:
  nodeSelector: {no-such-node: "true"}
  containers:
  - name: main
    image: busybox
`;

/** kubectl's table as rows of cells (header first). */
function rows(out: string): string[][] {
  return out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
}

describe('kubectl top on simulated nodes', { timeout: 120_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ agent: true, extraArgs: ['--runtime', 'fake'] });
    await server.kubectlOk(['apply', '-f', '-'], { input: MANIFESTS });
    await server.kubectlOk(['wait', '--for=condition=Ready', 'pod/web', '--timeout=60s']);
    await server.kubectlOk(['wait', '-n', 'other', '--for=condition=Ready', 'pod/busy', '--timeout=60s']);
  });

  after(async () => {
    await server?.stop();
  });

  /** kubectl top, retried while metrics are not there yet (the first scrape cycles). */
  const top = (args: string[]): Promise<string[][]> =>
    eventually(
      `kubectl top ${args.join(' ')}`,
      async () => {
        const r = await server.kubectl(['top', ...args]);
        return r.code === 0 ? rows(r.stdout) : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

  test('kubectl top nodes: the node with CPU and memory, absolute and relative', async () => {
    const table = await top(['nodes']);
    assert.deepEqual(table[0], ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
    assert.equal(table.length, 2);
    const [, cpu, cpuPct, memory, memoryPct] = table[1]!;
    // The node's own 100m and 256Mi, plus web (100m + 1m, 32Mi + 4Mi) and busy (500m, 128Mi).
    assert.equal(cpu, '701m');
    assert.equal(memory, '420Mi');
    assert.match(cpuPct ?? '', /^\d+%$/);
    assert.match(memoryPct ?? '', /^\d+%$/);
  });

  test('kubectl top pods, -A, and --containers', async () => {
    assert.deepEqual(await top(['pods']), [
      ['NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['web', '101m', '36Mi'],
    ]);
    assert.deepEqual(await top(['pods', '-A']), [
      ['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['default', 'web', '101m', '36Mi'],
      ['other', 'busy', '500m', '128Mi'],
    ]);
    assert.deepEqual(await top(['pod', 'web', '--containers']), [
      ['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['web', 'app', '100m', '32Mi'],
      ['web', 'log', '1m', '4Mi'],
    ]);
    assert.deepEqual(await top(['pods', '-A', '-l', 'app=busy']), [
      ['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['other', 'busy', '500m', '128Mi'],
    ]);
  });

  test('GET PodMetricsList with a label selector, as the HPA reads it', async () => {
    await top(['pods']);
    const raw = await server.kubectlOk([
      'get',
      '--raw',
      '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb',
    ]);
    const list = JSON.parse(raw) as {
      kind: string;
      apiVersion: string;
      items: {
        metadata: { name: string; namespace: string };
        timestamp: string;
        window: string;
        containers: { name: string; usage: Record<string, string> }[];
      }[];
    };
    assert.equal(list.kind, 'PodMetricsList');
    assert.equal(list.apiVersion, 'metrics.k8s.io/v1beta1');
    assert.equal(list.items.length, 1);
    const item = list.items[0]!;
    assert.deepEqual(item.metadata.name, 'web');
    assert.deepEqual(item.containers, [
      { name: 'app', usage: { cpu: '100m', memory: '32Mi' } },
      { name: 'log', usage: { cpu: '1m', memory: '4Mi' } },
    ]);
    assert.match(item.window, /^\d+(\.\d+)?s$/);
    assert.ok(Date.now() - Date.parse(item.timestamp) < 60_000, `fresh: ${item.timestamp}`);
  });

  test('discovery lists the group, read-only', async () => {
    const names = await server.kubectlOk(['api-resources', '--api-group=metrics.k8s.io', '-o', 'name']);
    assert.deepEqual(names.trim().split('\n').sort(), ['nodes.metrics.k8s.io', 'pods.metrics.k8s.io']);
    const list = JSON.parse(await server.kubectlOk(['get', '--raw', '/apis/metrics.k8s.io/v1beta1'])) as {
      resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
    };
    assert.deepEqual(
      list.resources.map((r) => [r.name, r.kind, r.namespaced, r.verbs]),
      [
        ['nodes', 'NodeMetrics', false, ['get', 'list']],
        ['pods', 'PodMetrics', true, ['get', 'list']],
      ],
    );
  });

  test('kubectl explain describes the kinds', async () => {
    const out = await server.kubectlOk(['explain', 'podmetrics.containers']);
    assert.match(out, /KIND:\s+PodMetrics/);
    assert.match(out, /usage\s+<map\[string\]string> -required-/);
  });

  test("upstream's errors: a pod without metrics, a pod that does not exist", async () => {
    await top(['pods']);
    const pending = await server.kubectl(['top', 'pod', 'pending']);
    assert.notEqual(pending.code, 0);
    assert.match(pending.stderr, /podmetrics\.metrics\.k8s\.io "default\/pending" not found/);
    const missing = await server.kubectl(['top', 'pod', 'nope']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /pods "nope" not found/);
  });

  test('a user with the view role may run kubectl top in its namespace', async () => {
    await server.kubectlOk(['create', 'serviceaccount', 'viewer']);
    await server.kubectlOk([
      'create',
      'rolebinding',
      'viewer',
      '--clusterrole=view',
      '--serviceaccount=default:viewer',
    ]);
    const as = '--as=system:serviceaccount:default:viewer';
    const table = await top(['pods', as]);
    assert.deepEqual(table[1], ['web', '101m', '36Mi']);
    const nodes = await server.kubectl(['top', 'nodes', as]);
    assert.notEqual(nodes.code, 0, 'nodes are cluster-scoped: a namespaced binding does not reach them');
    assert.match(nodes.stderr, /forbidden/);
  });

  // Runs last: it changes busy's figures.
  test('annotating a running simulated pod changes its usage (simulated load for autoscaling)', async () => {
    await server.kubectlOk([
      'annotate',
      '-n',
      'other',
      'pod',
      'busy',
      'fake.k8ts.io/cpu-usage=250m',
      '--overwrite',
    ]);
    const table = await eventually(
      'busy at 250m',
      async () => {
        const r = await server.kubectl(['top', 'pod', '-n', 'other', 'busy']);
        const t = r.code === 0 ? rows(r.stdout) : [];
        return t[1]?.[1] === '250m' ? t : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 1000 },
    );
    assert.deepEqual(table[1], ['busy', '250m', '128Mi']);
  });
});
