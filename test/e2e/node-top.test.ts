// `kubectl top` on a node running real containers: the API server's metrics.k8s.io reads the node
// agent's stats (CRI container stats from containerd, the host's /proc for the node), so a pod that
// spins shows CPU in use, and one that holds memory shows it in its working set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type TestRegistry, writeRegistriesYaml } from '../support/registry.js';
import { freePort, removeDataDir, startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually } from '../support/eventually.js';

let registry: TestRegistry;
let server: TestServer;
const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-node-top-'));
const NODE = 'k8ts-top-node';

// Holds ~20 MB in a shell variable, then spins (throttled to 300m so it leaves the machine's
// other work alone).
const BURN = `
apiVersion: v1
kind: Pod
metadata: {name: burn, labels: {app: burn}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: spin
    image: busybox:latest
    command: [sh, -c, 'x=$(head -c 20000000 /dev/zero | tr "\\\\0" a); while :; do :; done']
    resources: {limits: {cpu: 300m, memory: 128Mi}}
`;

function rows(out: string): string[][] {
  return out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
}

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
      '--disable-default-registry-endpoint',
    ],
    readyTimeoutMs: 60_000,
  });
});

after(async () => {
  // Pods outlive a stopped agent, so remove them through the API first.
  await server?.kubectl(['delete', 'pod', '--all', '--wait', '--timeout=60s'], { timeoutMs: 90_000 });
  await server?.stop();
  await registry?.stop();
  removeDataDir(dataDir);
});

/** kubectl top's table once it answers (metrics need two scrapes of a running container). */
const top = (args: string[], accept: (table: string[][]) => boolean): Promise<string[][]> =>
  eventually(
    `kubectl top ${args.join(' ')}`,
    async () => {
      const r = await server.kubectl(['top', ...args]);
      if (r.code !== 0) return undefined;
      const table = rows(r.stdout);
      return accept(table) ? table : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1000 },
  );

test('a spinning busybox pod shows CPU in use and its memory in Mi', { timeout: 180_000 }, async () => {
  await server.kubectlOk(['apply', '-f', '-'], { input: BURN });
  await server.kubectlOk(['wait', '--for=condition=Ready', 'pod/burn', '--timeout=120s'], {
    timeoutMs: 130_000,
  });
  const millicores = (cell: string | undefined): number => Number(/^(\d+)m$/.exec(cell ?? '')?.[1] ?? NaN);
  const mebibytes = (cell: string | undefined): number => Number(/^(\d+)Mi$/.exec(cell ?? '')?.[1] ?? NaN);
  // The first sample may cover the shell filling its variable: wait for the spinning to show.
  const table = await top(['pod', 'burn'], (t) => millicores(t[1]?.[1]) >= 50);
  assert.deepEqual(table[0], ['NAME', 'CPU(cores)', 'MEMORY(bytes)']);
  assert.equal(table[1]?.[0], 'burn');
  const cpu = millicores(table[1]?.[1]);
  assert.ok(cpu >= 50 && cpu <= 450, `CPU near the 300m limit: ${table[1]?.[1]}`);
  const memory = mebibytes(table[1]?.[2]);
  assert.ok(memory >= 15 && memory < 128, `the ~20 MB it holds: ${table[1]?.[2]}`);

  const containers = await top(['pod', 'burn', '--containers'], (t) => t.length === 2);
  assert.deepEqual(containers[0], ['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
  assert.deepEqual(containers[1]?.slice(0, 2), ['burn', 'spin']);
});

test(
  'kubectl top node shows the host’s CPU and memory, absolute and relative',
  { timeout: 120_000 },
  async () => {
    const table = await top(['node'], (t) => t.length === 2);
    assert.deepEqual(table[0], ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
    const [name, cpu, cpuPct, memory, memoryPct] = table[1]!;
    assert.equal(name, NODE);
    assert.match(cpu ?? '', /^\d+m$/);
    assert.ok(Number(cpu?.slice(0, -1)) > 0, `the node is busy: ${cpu}`);
    assert.match(cpuPct ?? '', /^\d+%$/);
    assert.match(memory ?? '', /^\d+Mi$/);
    assert.ok(Number(memory?.slice(0, -2)) > 100, `a host uses memory: ${memory}`);
    assert.match(memoryPct ?? '', /^\d+%$/);
  },
);
