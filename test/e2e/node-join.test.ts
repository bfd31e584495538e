// A cluster of two real nodes on one host: `k8ts server` with its own containerd node, and a
// `k8ts agent` joined with the node token, running its own containerd (own data dir and socket,
// its own CNI bridge and node API port). Each node gets its own podCIDR from the node IPAM
// controller; the control-plane node is tainted NoSchedule once the worker is there; a pod on the
// worker gets an address from the worker's podCIDR, and `kubectl logs` and `kubectl exec` reach it
// through the API server, which trusts the worker's serving certificate (a kubelet-serving CSR).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type TestRegistry, writeRegistriesYaml } from '../support/registry.js';
import { K8TS_BIN, freePort, removeDataDir, startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually as pollUntil } from '../support/eventually.js';
import { nodeBridgeName, removeBridge } from '../../src/agent/cni/cni.js';

const CONTROL_PLANE = 'k8ts-cp';
const WORKER = 'k8ts-worker';

let registry: TestRegistry;
let server: TestServer;
let agent: ChildProcess | undefined;
let agentOutput = '';
const serverDir = mkdtempSync(join(tmpdir(), 'k8ts-join-cp-'));
const agentDir = mkdtempSync(join(tmpdir(), 'k8ts-join-worker-'));

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 250 }).catch((err: unknown) => {
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}\nagent output (tail):\n${agentOutput.slice(-4000)}`,
    );
  });

/** Pids of processes started from the agent's data dir (its containerd), found through /proc. */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(dir) && cmd.includes('containerd') && !cmd.includes('containerd-shim'))
        pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

async function nodeField(node: string, jsonpath: string): Promise<string> {
  return (await server.kubectlOk(['get', 'node', node, '-o', `jsonpath=${jsonpath}`])).trim();
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const toInt = (a: string): number => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(ip) & mask) >>> 0 === (toInt(base) & mask) >>> 0;
}

before(async () => {
  registry = await startRegistry();
  writeRegistriesYaml(join(serverDir, 'registries.yaml'), registry);
  writeRegistriesYaml(join(agentDir, 'registries.yaml'), registry);
  server = await startServer({
    dataDir: serverDir,
    agent: true,
    extraArgs: [
      '--node-name',
      CONTROL_PLANE,
      '--node-port',
      String(await freePort()),
      '--disable-default-registry-endpoint',
    ],
    readyTimeoutMs: 60_000,
  });
});

after(async () => {
  // Pods outlive a stopped agent, so they go through the API first, while both nodes still run.
  await server?.kubectl(['delete', 'deployment,pod', '--all', '--wait', '--timeout=60s'], {
    timeoutMs: 90_000,
  });
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent?.once('exit', r));
    agent.kill('SIGTERM');
    const timer = setTimeout(() => agent?.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  // A containerd the agent could not stop (killed agent) must not outlive the test.
  for (const pid of processesUnder(agentDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await server?.stop();
  await registry?.stop();
  // The worker's bridge holds its podCIDR's gateway address: another test's node may get that CIDR.
  await removeBridge(nodeBridgeName(WORKER));
  removeDataDir(agentDir);
  removeDataDir(serverDir);
});

test('a joined containerd node and the server node are both Ready, with different podCIDRs', async () => {
  const token = readFileSync(join(serverDir, 'node-token'), 'utf8').trim();
  // The agent learns the CA from the signed cluster-info, which the controller manager publishes.
  await waitFor('signed cluster-info', async () => {
    const r = await server.kubectl(['get', 'configmap', '-n', 'kube-public', 'cluster-info', '-o', 'json']);
    if (r.code !== 0) return undefined;
    const cm = JSON.parse(r.stdout) as { data?: Record<string, string> };
    return cm.data?.[`jws-kubeconfig-${token.split('.')[0] ?? ''}`] ? true : undefined;
  });
  agent = spawn(
    process.execPath,
    [
      K8TS_BIN,
      'agent',
      '--server',
      server.url,
      '--token',
      token,
      '--node-name',
      WORKER,
      '--data-dir',
      agentDir,
      '--node-port',
      String(await freePort()),
      '--disable-default-registry-endpoint',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, K8TS_LOG_LEVEL: 'info' } },
  );
  agent.stdout?.on('data', (c: Buffer) => (agentOutput += c.toString()));
  agent.stderr?.on('data', (c: Buffer) => (agentOutput += c.toString()));

  for (const node of [CONTROL_PLANE, WORKER]) {
    await waitFor(`node ${node} Ready`, async () => {
      if (agent?.exitCode !== null) throw new Error(`agent exited (${agent?.exitCode})`);
      const r = await server.kubectl([
        'get',
        'node',
        node,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return r.code === 0 && r.stdout.trim() === 'True' ? true : undefined;
    });
  }
  const cpCidr = await nodeField(CONTROL_PLANE, '{.spec.podCIDR}');
  const workerCidr = await nodeField(WORKER, '{.spec.podCIDR}');
  assert.equal(cpCidr, '10.42.0.0/24', 'the server node keeps the first /24');
  assert.match(workerCidr, /^10\.42\.\d+\.0\/24$/);
  assert.notEqual(workerCidr, cpCidr);
  assert.equal(await nodeField(WORKER, '{.spec.podCIDRs[0]}'), workerCidr);
  const roles = await server.kubectlOk(['get', 'nodes']);
  assert.match(roles, new RegExp(`${CONTROL_PLANE}\\s+Ready\\s+control-plane`));
  assert.match(roles, new RegExp(`${WORKER}\\s+Ready\\s+<none>`));
});

test('with a worker in the cluster, the control-plane node is tainted NoSchedule', async () => {
  await waitFor('control-plane taint', async () => {
    const taints = await nodeField(CONTROL_PLANE, '{range .spec.taints[*]}{.key}:{.effect}{"\\n"}{end}');
    return taints.includes('node-role.kubernetes.io/control-plane:NoSchedule') ? true : undefined;
  });
  const described = await server.kubectlOk(['describe', 'node', CONTROL_PLANE]);
  assert.match(described, /Taints:\s+node-role\.kubernetes\.io\/control-plane:NoSchedule/);
  assert.equal(await nodeField(WORKER, '{.spec.taints}'), '', 'the worker is not tainted');
});

test("the worker's serving certificate came from an approved kubelet-serving CSR", async () => {
  const line = await waitFor('kubelet-serving CSR issued', async () => {
    const csrs = await server.kubectlOk(['get', 'csr', '--no-headers']);
    return csrs
      .split('\n')
      .find((l) => l.includes('kubernetes.io/kubelet-serving') && l.includes(`system:node:${WORKER}`));
  });
  assert.match(line, /\bApproved,Issued\b/);
});

test("a new Deployment's pods land on the worker, not the tainted control plane", async () => {
  await server.kubectlOk([
    'create',
    'deployment',
    'spread',
    '--image=wangyanglinux/myapp:v1',
    '--replicas=2',
  ]);
  const nodes = await waitFor('2 pods Running', async () => {
    const out = await server.kubectlOk([
      'get',
      'pods',
      '-l',
      'app=spread',
      '-o',
      'jsonpath={range .items[*]}{.status.phase} {.spec.nodeName}{"\\n"}{end}',
    ]);
    const running = out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('Running '));
    return running.length === 2 ? running.map((l) => l.split(' ')[1]) : undefined;
  });
  assert.deepEqual(nodes, [WORKER, WORKER]);
});

test("a pod pinned to the worker runs with an address from the worker's podCIDR; logs and exec work", async () => {
  const workerCidr = await nodeField(WORKER, '{.spec.podCIDR}');
  await server.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'on-worker' },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': WORKER },
        containers: [
          {
            name: 'main',
            image: 'busybox:latest',
            command: ['sh', '-c', 'echo hello from the worker; sleep 3600'],
          },
        ],
      },
    }),
  });
  const [nodeName, ip] = await waitFor('pod Running', async () => {
    const out = await server.kubectlOk([
      'get',
      'pod',
      'on-worker',
      '-o',
      'jsonpath={.status.phase} {.spec.nodeName} {.status.podIP}',
    ]);
    const [phase, node, podIP] = out.trim().split(' ');
    return phase === 'Running' && podIP ? [node, podIP] : undefined;
  });
  assert.equal(nodeName, WORKER);
  assert.ok(inCidr(ip, workerCidr), `pod IP ${ip} is in the worker's ${workerCidr}`);

  const logs = await waitFor('logs', async () => {
    const r = await server.kubectl(['logs', 'on-worker']);
    return r.code === 0 && r.stdout.includes('hello') ? r.stdout : undefined;
  });
  assert.equal(logs.trim(), 'hello from the worker');
  const exec = await server.kubectlOk(['exec', 'on-worker', '--', 'hostname']);
  assert.equal(exec.trim(), 'on-worker');
});
