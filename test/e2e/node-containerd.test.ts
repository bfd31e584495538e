// `k8ts server` as a single-node cluster running real containers: its own node agent starts
// containerd, pulls the seeds' images through a docker.io mirror (a local registry holding
// busybox-built stand-ins), and kubectl sees pods Running, their logs, exec, and HTTP on the pod IP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type TestRegistry, writeRegistriesYaml } from '../support/registry.js';
import { freePort, removeDataDir, startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually as pollUntil } from '../support/eventually.js';

let registry: TestRegistry;
let server: TestServer;
const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-node-'));

/** The shared poll, with this file's default timeout and pace. */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 250 });

before(async () => {
  registry = await startRegistry();
  writeRegistriesYaml(join(dataDir, 'registries.yaml'), registry);
  const nodePort = await freePort();
  server = await startServer({
    dataDir,
    agent: true,
    extraArgs: [
      '--node-name',
      'k8ts-e2e-node',
      '--node-port',
      String(nodePort),
      '--disable-default-registry-endpoint',
    ],
    readyTimeoutMs: 60_000,
  });
});

after(async () => {
  // Pods outlive a stopped agent (a restarted one adopts them), so remove them through the API first.
  await server?.kubectl(['delete', 'deployment,pod', '--all', '--wait', '--timeout=60s'], {
    timeoutMs: 90_000,
  });
  await server?.stop();
  await registry?.stop();
  removeDataDir(dataDir);
});

test('the server registers its own node, Ready and labelled control-plane', async () => {
  const ready = await waitFor('node Ready', async () => {
    const r = await server.kubectl([
      'get',
      'node',
      'k8ts-e2e-node',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    return r.stdout === 'True' ? r.stdout : undefined;
  });
  assert.equal(ready, 'True');
  const roles = await server.kubectlOk(['get', 'nodes']);
  assert.match(roles, /k8ts-e2e-node\s+Ready\s+control-plane/);
});

test("a Deployment of the seeds' myapp runs real containers that answer HTTP, log and exec", async () => {
  await server.kubectlOk(['create', 'deployment', 'myapp', '--image=wangyanglinux/myapp:v1', '--replicas=2']);
  const pods = await waitFor('2 pods Running', async () => {
    const out = await server.kubectlOk([
      'get',
      'pods',
      '-l',
      'app=myapp',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.podIP}{"\\n"}{end}',
    ]);
    const lines = out
      .trim()
      .split('\n')
      .filter((l) => / Running \d/.test(l));
    return lines.length === 2 ? lines.map((l) => l.split(' ')) : undefined;
  });
  const [name, , ip] = pods[0]!;
  const page = await fetch(`http://${ip}/`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text());
  assert.match(page, /v1/);
  const exec = await server.kubectlOk(['exec', name!, '--', 'echo', 'hello from the pod']);
  assert.equal(exec.trim(), 'hello from the pod');
  const table = await server.kubectlOk(['get', 'deployment', 'myapp']);
  assert.match(table, /myapp\s+2\/2\s+2\s+2/);
});

test('an image that does not exist ends in ImagePullBackOff', async () => {
  await server.kubectlOk(['run', 'ghost', '--image=no-such/image:v9']);
  const reason = await waitFor('ImagePullBackOff', async () => {
    const out = await server.kubectlOk([
      'get',
      'pod',
      'ghost',
      '-o',
      'jsonpath={.status.containerStatuses[0].state.waiting.reason}',
    ]);
    return out === 'ImagePullBackOff' ? out : undefined;
  });
  assert.equal(reason, 'ImagePullBackOff');
});

test('probes: a readiness httpGet on a closed port keeps the pod 0/1; a failing liveness exec restarts it', async () => {
  const manifest = join(dataDir, 'probed.yaml');
  writeFileSync(
    manifest,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'probed' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'app',
            image: 'busybox:latest',
            command: ['sh', '-c', 'touch /tmp/healthy; sleep 3; rm -f /tmp/healthy; sleep 3600'],
            readinessProbe: { httpGet: { port: 8081, path: '/' }, periodSeconds: 1 },
            livenessProbe: {
              exec: { command: ['cat', '/tmp/healthy'] },
              periodSeconds: 1,
              failureThreshold: 2,
            },
          },
        ],
      },
    }),
  );
  await server.kubectlOk(['apply', '-f', manifest]);
  const restarted = await waitFor('a liveness restart', async () => {
    const out = await server.kubectlOk([
      'get',
      'pod',
      'probed',
      '-o',
      'jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].ready}',
    ]);
    const [count, exit, ready] = out.split(' ');
    return Number(count) >= 1 && exit !== '' ? { exit, ready } : undefined;
  });
  assert.equal(restarted.ready, 'false');
  const table = await server.kubectlOk(['get', 'pod', 'probed']);
  assert.match(table, /probed\s+0\/1\s+Running\s+[1-9]/);
  const ready = await server.kubectlOk([
    'get',
    'pod',
    'probed',
    '-o',
    'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
  ]);
  assert.equal(ready, 'False');
  const messages = await waitFor('probe events', async () => {
    const out = await server.kubectlOk([
      'get',
      'events',
      '-o',
      'jsonpath={range .items[*]}{.message}{"\\n"}{end}',
    ]);
    return /Container app failed liveness probe, will be restarted/.test(out) ? out : undefined;
  });
  assert.match(messages, /Liveness probe failed: cat: (can't open )?'?\/tmp\/healthy/);
  // Refused, or (the first probe, while the pod's network settles) timed out.
  assert.match(
    messages,
    /Readiness probe failed: Get "http:\/\/[\d.]+:8081\/": (dial tcp [\d.]+:8081: connect: connection refused|context deadline exceeded)/,
  );
});
