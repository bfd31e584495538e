// The pod startup benchmark's last phase: the whole path a user sees. A `k8ts server` (control plane
// only) and a joined `k8ts agent` on its own containerd, as separate processes; N pods created one
// after another through the API, each timed from the create request to its Running status arriving
// on a watch (upstream's pod startup SLI, which counts scheduling, the agent's sync and the status
// write). With all N pods running, the agent's resident memory is read from /proc (the agent's own
// process, not its containerd child).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Node, Pod } from '../src/api/generated/types.js';
import { nodeBridgeName, removeBridge } from '../src/agent/cni/cni.js';
import { loadKubeconfig } from '../src/client/kubeconfig.js';
import { RestClient, type WatchHandle } from '../src/client/rest.js';
import { NAMESPACES, NODES, PODS } from '../src/client/typed-refs.js';
import { eventually } from '../test/support/eventually.js';
import { K8TS_COMMAND, removeDataDir, startServer } from '../test/support/k8ts-server.js';
import { type TestRegistry, writeRegistriesYaml } from '../test/support/registry.js';

export interface ApiStartupResult {
  /** Create request sent → Running seen on the watch, ms, in creation order. */
  readonly startupMs: number[];
  /** The agent process's VmRSS with all pods running, bytes. */
  readonly agentRssBytes: number;
  /** The agent process's VmRSS once its node is Ready with no pods, bytes. */
  readonly agentIdleRssBytes: number;
}

const NS = 'bench-startup';

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

function isRunning(p: Pod): boolean {
  const statuses = p.status?.containerStatuses ?? [];
  return p.status?.phase === 'Running' && statuses.length > 0 && statuses.every((s) => s.state?.running);
}

function startupPod(name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'main',
          image: 'busybox:latest',
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', '3600'],
        },
      ],
    },
  };
}

/** Resolves each pod's Running moment from one watch on the namespace. */
class RunningWatcher {
  private readonly waiters = new Map<string, (t: number) => void>();
  private readonly seen = new Map<string, number>();
  private handle: WatchHandle | undefined;

  constructor(private readonly client: RestClient) {}

  async start(): Promise<void> {
    const list = await this.client.list<Pod>(PODS, NS);
    this.handle = this.client.watch<Pod>(
      PODS,
      NS,
      { resourceVersion: list.metadata?.resourceVersion ?? '', timeoutSeconds: 3600 },
      (ev) => {
        if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') return;
        const name = ev.object.metadata?.name ?? '';
        if (!isRunning(ev.object) || this.seen.has(name)) return;
        const t = performance.now();
        this.seen.set(name, t);
        this.waiters.get(name)?.(t);
      },
      (err) => {
        if (err) process.stderr.write(`pod watch ended: ${err.message}\n`);
      },
    );
  }

  running(name: string, timeoutMs: number): Promise<number> {
    const t = this.seen.get(name);
    if (t !== undefined) return Promise.resolve(t);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`pod ${name} not Running after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.set(name, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }

  stop(): void {
    this.handle?.stop();
  }
}

/** Until the node is Ready; an agent that exits meanwhile fails at once, with its output. */
async function waitNodeReady(
  client: RestClient,
  name: string,
  agent: ChildProcess,
  log: () => string,
): Promise<void> {
  await eventually(
    `node ${name} Ready`,
    async () => {
      if (agent.exitCode !== null) throw new Error(`agent exited (${agent.exitCode}):\n${log()}`);
      const node = await client.get<Node>(NODES, undefined, name).catch(() => undefined);
      return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        ? true
        : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
}

export async function measureThroughApi(registry: TestRegistry, n: number): Promise<ApiStartupResult> {
  const server = await startServer({ readyTimeoutMs: 60_000 });
  const agentDir = mkdtempSync(join(tmpdir(), 'k8ts-bench-agent-'));
  const registries = join(agentDir, 'registries.yaml');
  writeRegistriesYaml(registries, registry);
  const token = readFileSync(join(server.dataDir, 'node-token'), 'utf8').trim();
  const nodeName = 'bench-startup-node';
  let agentLog = '';
  // Started as users start it (bin/k8ts), so its V8 settings are the ones measured.
  const agent = spawn(
    K8TS_COMMAND,
    [
      'agent',
      '--server',
      server.url,
      '--token',
      token,
      '--node-name',
      nodeName,
      '--data-dir',
      agentDir,
      '--private-registry',
      registries,
      '--disable-default-registry-endpoint',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, K8TS_LOG_LEVEL: 'warn' } },
  );
  agent.stdout?.on('data', (c: Buffer) => (agentLog += c.toString()));
  agent.stderr?.on('data', (c: Buffer) => (agentLog += c.toString()));
  const client = new RestClient(loadKubeconfig(server.kubeconfig), 'k8ts-bench-pod-startup');
  const watcher = new RunningWatcher(client);
  try {
    await waitNodeReady(client, nodeName, agent, () => agentLog);
    await client.create(NAMESPACES, undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS },
    });
    await watcher.start();
    // Warm-up: the first pod pays for the image unpack and CNI's first bridge setup.
    await client.create(PODS, NS, startupPod('warmup'));
    await watcher.running('warmup', 120_000);
    await client.delete(PODS, NS, 'warmup');
    await new Promise((r) => setTimeout(r, 2000));
    const agentIdleRssBytes = rssBytes(agent.pid ?? 0);

    const startupMs: number[] = [];
    for (let i = 0; i < n; i++) {
      const name = `startup-${i}`;
      const t0 = performance.now();
      await client.create(PODS, NS, startupPod(name));
      startupMs.push((await watcher.running(name, 60_000)) - t0);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const agentRssBytes = rssBytes(agent.pid ?? 0);
    return { startupMs, agentRssBytes, agentIdleRssBytes };
  } finally {
    watcher.stop();
    // Pods outlive their agent by design: remove them while it still runs.
    await client.delete(NAMESPACES, undefined, NS).catch((e: unknown) => {
      process.stderr.write(`deleting ${NS}: ${String(e)}\n`);
    });
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const left = await client.list<Pod>(PODS, NS).catch(() => undefined);
      if (!left || left.items.length === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    client.close();
    if (agent.exitCode === null) {
      const exited = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGTERM');
      const timer = setTimeout(() => agent.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await server.stop();
    removeDataDir(agentDir);
    // The joined node's own bridge outlives its agent, as a node's does; the bench leaves none behind.
    await removeBridge(nodeBridgeName(nodeName));
  }
}
