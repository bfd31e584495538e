// Pod startup benchmark on a real containerd (started here in a temp data dir, with the local
// registry as the docker.io mirror and busybox pre-pulled):
//   raw CRI:    RunPodSandbox + CreateContainer + StartContainer straight through CriClient
//   CriRuntime: the node agent's runtime, syncPod until the container runs (env, volumes, labels,
//               status reading and all)
// Each pass starts N pods one after another (p50/p99 of sandbox, container and total), then the
// same with 8 in flight (throughput), then removes them. Last, the path a user sees (pod-startup-api.ts):
// create through the API server to Running seen on a watch, with a joined `k8ts agent`, and that
// agent's memory with all the pods running. Run: npm run build && node dist/bench/pod-startup.js [pods]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../src/api/generated/types.js';
import { removeBridge } from '../src/agent/cni/cni.js';
import { ContainerRuntime } from '../src/agent/containerd/containerd.js';
import type { CriClient } from '../src/agent/cri/client.js';
import type { PodSandboxConfig } from '../src/agent/cri/types.js';
import { CriRuntime } from '../src/agent/kuberuntime/runtime.js';
import type { NodeRuntimeContext } from '../src/agent/runtime.js';
import { registriesFor, startRegistry } from '../test/support/registry.js';
import { measureThroughApi } from './pod-startup-api.js';

const out = (line = ''): void => {
  process.stdout.write(line + '\n');
};

const N = Number(process.argv[2] ?? process.env.K8TS_BENCH_PODS ?? 100);
const CONCURRENCY = 8;
const IMAGE = 'docker.io/library/busybox:latest';
const BRIDGE = 'k8tsbench0';
const POD_CIDR = '10.42.99.0/24';

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

interface Sample {
  sandboxMs: number;
  containerMs: number;
  totalMs: number;
}

function summary(name: string, samples: Sample[]): string {
  const f = (xs: number[]): string => {
    const s = [...xs].sort((a, b) => a - b);
    return `p50 ${pct(s, 50).toFixed(0).padStart(4)} ms  p99 ${pct(s, 99).toFixed(0).padStart(4)} ms`;
  };
  return [
    `${name}`,
    `  sandbox    ${f(samples.map((x) => x.sandboxMs))}`,
    `  container  ${f(samples.map((x) => x.containerMs))}`,
    `  total      ${f(samples.map((x) => x.totalMs))}`,
  ].join('\n');
}

async function rawPod(
  client: CriClient,
  i: number,
  logsDir: string,
): Promise<{ sample: Sample; sandboxId: string }> {
  const uid = randomUUID();
  const cfg: PodSandboxConfig = {
    metadata: { name: `raw-${i}`, uid, namespace: 'bench', attempt: 0 },
    hostname: `raw-${i}`,
    logDirectory: join(logsDir, `bench_raw-${i}_${uid}`),
    labels: {
      'io.kubernetes.pod.uid': uid,
      'io.kubernetes.pod.name': `raw-${i}`,
      'io.kubernetes.pod.namespace': 'bench',
    },
    linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
  const t0 = process.hrtime.bigint();
  const sandboxId = await client.runPodSandbox(cfg);
  const sandboxMs = ms(t0);
  const t1 = process.hrtime.bigint();
  const id = await client.createContainer(
    sandboxId,
    {
      metadata: { name: 'main', attempt: 0 },
      image: { image: IMAGE },
      command: ['sleep', '3600'],
      logPath: 'main/0.log',
    },
    cfg,
  );
  await client.startContainer(id);
  const containerMs = ms(t1);
  return { sample: { sandboxMs, containerMs, totalMs: ms(t0) }, sandboxId };
}

function benchPod(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `agent-${i}`, namespace: 'bench', uid: randomUUID() },
    spec: {
      restartPolicy: 'Always',
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

async function runtimePod(rt: CriRuntime, pod: Pod, node: NodeRuntimeContext): Promise<Sample> {
  const t0 = process.hrtime.bigint();
  for (;;) {
    const r = await rt.syncPod(pod, node);
    if (r.status.containers[0]?.phase === 'running') break;
    if (r.status.containers[0]?.waitingReason && r.status.containers[0].waitingReason !== 'ContainerCreating')
      throw new Error(
        `pod ${pod.metadata.name}: ${r.status.containers[0].waitingReason} ${r.status.containers[0].waitingMessage ?? ''}`,
      );
    await new Promise((res) => setTimeout(res, 5));
  }
  const total = ms(t0);
  // syncPod does sandbox and container in one pass; its split is in the runtime's metrics.
  return { sandboxMs: NaN, containerMs: NaN, totalMs: total };
}

async function pool<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-bench-pods-'));
  const registry = await startRegistry();
  const runtime = await ContainerRuntime.start({
    dataDir,
    podCIDR: POD_CIDR,
    bridge: BRIDGE,
    registries: registriesFor(registry),
  });
  const client = runtime.client;
  const node: NodeRuntimeContext = { nodeName: 'bench', hostIP: '127.0.0.1', podCIDR: POD_CIDR };
  const source = { configMap: () => Promise.resolve(undefined), secret: () => Promise.resolve(undefined) };
  try {
    const v = await client.version();
    out(
      `pod startup: ${N} pods, ${v.runtimeName} ${v.runtimeVersion}, snapshotter ${runtime.snapshotter}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load ${loadavg()[0]?.toFixed(2)}`,
    );
    await client.pullImage(IMAGE);
    const logsDir = join(dataDir, 'logs');
    const teardown = async (): Promise<number> => {
      const t = process.hrtime.bigint();
      const sandboxes = await client.listPodSandbox();
      await pool(sandboxes.length, CONCURRENCY, async (i) => {
        const id = sandboxes[i]?.id ?? '';
        await client.stopPodSandbox(id);
        await client.removePodSandbox(id);
      });
      return ms(t) / Math.max(1, sandboxes.length);
    };
    // Warm-up: the first sandbox pays for CNI's first bridge setup and page cache.
    await rawPod(client, -1, logsDir);
    await teardown();

    const rawSeq: Sample[] = [];
    for (let i = 0; i < N; i++) rawSeq.push((await rawPod(client, i, logsDir)).sample);
    const rawTeardown = await teardown();
    out(summary('raw CRI, one at a time', rawSeq));
    out(
      `  teardown   ${rawTeardown.toFixed(0)} ms per pod (stop + remove sandbox, ${CONCURRENCY} in flight)`,
    );

    let t = process.hrtime.bigint();
    await pool(N, CONCURRENCY, (i) => rawPod(client, N + i, logsDir));
    const rawPar = ms(t);
    await teardown();
    out(`raw CRI, ${CONCURRENCY} in flight: ${(N / (rawPar / 1000)).toFixed(1)} pods/s`);

    const rt = await CriRuntime.create({ client, dataDir, source });
    const rtSeq: Sample[] = [];
    const pods: Pod[] = [];
    for (let i = 0; i < N; i++) {
      const p = benchPod(i);
      pods.push(p);
      rtSeq.push(await runtimePod(rt, p, node));
    }
    for (const p of pods.splice(0)) await rt.removePod(p.metadata.uid ?? '');
    const totals = (xs: Sample[]): number[] => xs.map((x) => x.totalMs).sort((a, b) => a - b);
    const r50 = pct(totals(rawSeq), 50);
    const a50 = pct(totals(rtSeq), 50);
    const a99 = pct(totals(rtSeq), 99);
    out(
      `CriRuntime.syncPod to Running, one at a time: p50 ${a50.toFixed(0)} ms  p99 ${a99.toFixed(0)} ms  (ratio to raw p50: ${(a50 / r50).toFixed(2)}x)`,
    );

    t = process.hrtime.bigint();
    await pool(N, CONCURRENCY, async (i) => {
      const p = benchPod(N + i);
      pods.push(p);
      return runtimePod(rt, p, node);
    });
    const rtPar = ms(t);
    out(
      `CriRuntime, ${CONCURRENCY} in flight: ${(N / (rtPar / 1000)).toFixed(1)} pods/s (ratio to raw: ${(rawPar / rtPar).toFixed(2)}x)`,
    );
    for (const p of pods.splice(0)) await rt.removePod(p.metadata.uid ?? '');

    const api = await measureThroughApi(registry, N);
    const apiSorted = [...api.startupMs].sort((a, b) => a - b);
    const r99 = pct(totals(rawSeq), 99);
    const api50 = pct(apiSorted, 50);
    const api99 = pct(apiSorted, 99);
    out(
      `through the API server (create → Running on a watch), one at a time: p50 ${api50.toFixed(0)} ms  p99 ${api99.toFixed(0)} ms  (ratio to raw: p50 ${(api50 / r50).toFixed(2)}x, p99 ${(api99 / r99).toFixed(2)}x; goal p99 <= 1000 ms and <= 2x raw)`,
    );
    const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
    out(
      `k8ts agent resident memory: ${mib(api.agentIdleRssBytes)} idle, ${mib(api.agentRssBytes)} with ${N} pods running (goal <= 100 MB)`,
    );
  } finally {
    await teardownAll(client);
    await runtime.stop();
    await registry.stop();
    await removeBridge(BRIDGE);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function teardownAll(client: CriClient): Promise<void> {
  for (const s of await client.listPodSandbox().catch(() => [])) {
    await client.stopPodSandbox(s.id).catch(() => undefined);
    await client.removePodSandbox(s.id).catch(() => undefined);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(
    `pod-startup benchmark failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
