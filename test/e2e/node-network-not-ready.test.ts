// A containerd node whose podCIDR never comes (the node IPAM controller switched off): as the
// kubelet, it reports NotReady with containerd's "cni plugin not initialized", a pod on the pod
// network waits in ContainerCreating with "network is not ready", and a hostNetwork pod still runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, removeDataDir, startServer, type TestServer } from '../support/k8ts-server.js';
import { startRegistry, type TestRegistry, writeRegistriesYaml } from '../support/registry.js';
import { eventually } from '../support/eventually.js';

const NODE = 'k8ts-no-cidr';
let server: TestServer;
let registry: TestRegistry;
const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-no-cidr-'));

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> =>
  eventually(what, probe, { timeoutMs: 45_000, intervalMs: 250, retryErrors: true });

before(async () => {
  registry = await startRegistry();
  writeRegistriesYaml(join(dataDir, 'registries.yaml'), registry);
  server = await startServer({
    dataDir,
    agent: true,
    extraArgs: [
      '--node-name',
      NODE,
      '--node-port',
      String(await freePort()),
      '--disable',
      'node-ipam-controller',
      '--disable-default-registry-endpoint',
    ],
    readyTimeoutMs: 60_000,
  });
});

after(async () => {
  await server?.kubectl(
    ['delete', 'pod', '--all', '--force', '--grace-period=0', '--wait', '--timeout=60s'],
    {
      timeoutMs: 90_000,
    },
  );
  await server?.stop();
  await registry?.stop();
  removeDataDir(dataDir);
});

test('without a podCIDR the node is NotReady and pods wait for the network; hostNetwork pods run', async () => {
  const message = await waitFor('node NotReady', async () => {
    const out = await server.kubectlOk([
      'get',
      'node',
      NODE,
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}',
    ]);
    return out.startsWith('False ') ? out.slice(6) : undefined;
  });
  assert.match(
    message,
    /container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady/,
  );
  assert.equal((await server.kubectlOk(['get', 'node', NODE, '-o', 'jsonpath={.spec.podCIDR}'])).trim(), '');

  // Bound directly (the scheduler keeps pods off a NotReady node), tolerating its taints.
  const pod = (name: string, hostNetwork: boolean): string =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        nodeName: NODE,
        hostNetwork,
        tolerations: [{ operator: 'Exists' }],
        containers: [{ name: 'main', image: 'busybox:latest', command: ['sleep', '3600'] }],
      },
    });
  await server.kubectlOk(['apply', '-f', '-'], { input: pod('waits', false) });
  await server.kubectlOk(['apply', '-f', '-'], { input: pod('host', true) });
  const waiting = await waitFor('pod waiting for the network', async () => {
    const out = await server.kubectlOk([
      'get',
      'pod',
      'waits',
      '-o',
      'jsonpath={.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].state.waiting.message}',
    ]);
    return out.includes('network is not ready') ? out : undefined;
  });
  assert.match(waiting, /^ContainerCreating\|network is not ready: container runtime network not ready/);
  const phase = await waitFor('hostNetwork pod Running', async () => {
    const out = await server.kubectlOk(['get', 'pod', 'host', '-o', 'jsonpath={.status.phase}']);
    return out.trim() === 'Running' ? out.trim() : undefined;
  });
  assert.equal(phase, 'Running');
  assert.equal(
    (await server.kubectlOk(['get', 'pod', 'waits', '-o', 'jsonpath={.status.phase}'])).trim(),
    'Pending',
  );
});
