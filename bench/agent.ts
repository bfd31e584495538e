// Simulated-node agent benchmark: one agent process running 5,000 fake nodes against an API server
// in a child process (so the server's work is not counted), measuring
//   1. heartbeat CPU: process.cpuUsage of the agent process over a steady window while every node
//      renews its Lease every 10 s (500 renewals/s) and checks its status every 10 s. Goal: ≤ 1 core.
//      The baseline printed next to it is the same window's CPU of an idle agent-less loop of the
//      same process (what the bench harness itself costs), so the ratio is the agent's own share.
//   2. pods/s to Running: a tenth of the pods created bound to the nodes while the agent runs
//      (bounded by the creation rate), the rest bound while no agent runs and then taken up by a
//      new agent at once (the agent's own rate), each timed until the agent wrote every status
//      Running and Ready; then the heartbeat CPU again with all pods in place.
// Run: npm run build && node --max-old-space-size=8192 dist/bench/agent.js [--nodes 5000] [--window 60] [--pods 150000]
// (the child runs the same file with --serve).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import type { Pod } from '../src/api/generated/types.js';
import { builtinResources } from '../src/api/kinds/index.js';
import { builtinSchemas } from '../src/api/schema-registry.js';
import { createAgent, type Agent } from '../src/agent/agent.js';
import { Limiter } from '../src/agent/support.js';
import { createApiServer } from '../src/apiserver/server.js';
import { RestClient } from '../src/client/rest.js';
import { PODS } from '../src/client/typed-refs.js';
import { setLogLevel } from '../src/util/log.js';
import { MemoryStore } from '../src/storage/memory/memory-store.js';

const out = (line = ''): void => {
  process.stdout.write(line + '\n');
};

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean' },
    nodes: { type: 'string', default: '5000' },
    window: { type: 'string', default: '60' },
    pods: { type: 'string', default: '150000' },
    'status-writers': { type: 'string', default: '32' },
  },
});

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

async function serve(): Promise<void> {
  setLogLevel('error');
  const store = new MemoryStore();
  const server = await createApiServer({ store, resources: builtinResources, schemas: builtinSchemas() });
  out(JSON.stringify({ url: server.url }));
  const rl = createInterface({ input: process.stdin });
  let mark = process.cpuUsage();
  for await (const line of rl) {
    if (line === 'mark') mark = process.cpuUsage();
    else if (line === 'cpu') out(JSON.stringify({ cpu: cpuSeconds(process.cpuUsage(mark)) }));
  }
  await server.close();
  await store.close();
}

interface Child {
  url: string;
  send(line: string): void;
  cpu(): Promise<number>;
  close(): void;
}

async function startServerChild(): Promise<Child> {
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=8192', fileURLToPath(import.meta.url), '--serve'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const rl = createInterface({ input: child.stdout });
  const waiting: Array<(v: Record<string, number | string>) => void> = [];
  rl.on('line', (line) => {
    const msg = JSON.parse(line) as Record<string, number | string>;
    waiting.shift()?.(msg);
  });
  const first = await new Promise<Record<string, number | string>>((resolve) => waiting.push(resolve));
  return {
    url: String(first.url),
    send: (line) => child.stdin.write(line + '\n'),
    cpu: () =>
      new Promise<number>((resolve) => {
        waiting.push((m) => resolve(Number(m.cpu)));
        child.stdin.write('cpu\n');
      }),
    close: () => child.stdin.end(),
  };
}

async function measureCpu(seconds: number): Promise<{ cores: number; wall: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = (performance.now() - t0) / 1000;
  return { cores: cpuSeconds(process.cpuUsage(c0)) / wall, wall };
}

async function main(): Promise<void> {
  if (values.serve) return serve();
  setLogLevel('warn');
  const nodes = Number(values.nodes);
  const windowS = Number(values.window);
  const podCount = Number(values.pods);
  out(
    `# agent bench: ${nodes} simulated nodes, ${windowS}s windows, ${podCount} pods (${cpus().length} CPUs, node ${process.version})`,
  );

  // Baseline: what this process costs doing nothing but a timer (the harness).
  const idle = await measureCpu(Math.min(5, windowS));

  const server = await startServerChild();
  const client = new RestClient({ server: server.url, namespace: 'default' }, 'k8ts-bench-agent');
  const agent = createAgent({
    client,
    nodes,
    nodePrefix: 'bench',
    runtime: 'fake',
    fake: { startDelayMs: 0 },
  });
  const tReg = performance.now();
  const cReg = process.cpuUsage();
  await agent.start();
  const regS = (performance.now() - tReg) / 1000;
  out(
    `registration: ${nodes} nodes in ${regS.toFixed(1)} s (${(nodes / regS).toFixed(0)} nodes/s, ${(cpuSeconds(process.cpuUsage(cReg)) / regS).toFixed(2)} cores)`,
  );

  // Let the first lease round (get + create) pass, then measure the steady state.
  await new Promise((r) => setTimeout(r, 11_000));
  server.send('mark');
  const beat = await measureCpu(windowS);
  const serverCpu = (await server.cpu()) / beat.wall;
  const s = agent.stats();
  out(
    `heartbeats: agent ${beat.cores.toFixed(3)} cores over ${beat.wall.toFixed(1)} s (baseline idle harness ${idle.cores.toFixed(3)}; ratio to the 1-core goal ${(beat.cores / 1).toFixed(2)}); server ${serverCpu.toFixed(2)} cores; queued ${s.requestsQueued}`,
  );

  // Pods to Running, live: created while the agent runs (bounded by the creation rate).
  const creator = new RestClient({ server: server.url, namespace: 'default' }, 'k8ts-bench-creator');
  const createPods = async (from: number, to: number, prefix: string): Promise<number> => {
    const limiter = new Limiter(64);
    const t0 = performance.now();
    const creates: Promise<unknown>[] = [];
    for (let i = from; i < to; i++) {
      const pod: Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${prefix}-${i}`, namespace: 'default', labels: { app: 'bench' } },
        spec: {
          nodeName: `bench-${i % nodes}`,
          containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }],
        },
      };
      creates.push(limiter.run(() => creator.create<Pod>(PODS, 'default', pod)));
    }
    await Promise.all(creates);
    return (performance.now() - t0) / 1000;
  };
  const waitReady = async (a: Agent, count: number): Promise<void> => {
    while (a.stats().podsReady < count) await new Promise((r) => setTimeout(r, 50));
  };
  const live = Math.max(1, Math.round(podCount * 0.1));
  const tLive = performance.now();
  const cLive = process.cpuUsage();
  const createdS = await createPods(0, live, 'live');
  await waitReady(agent, live);
  const liveS = (performance.now() - tLive) / 1000;
  out(
    `pods, live: ${live} created in ${createdS.toFixed(1)} s (${(live / createdS).toFixed(0)}/s); all Running and Ready after ${liveS.toFixed(1)} s (${(live / liveS).toFixed(0)} pods/s, bounded by creation; process ${(cpuSeconds(process.cpuUsage(cLive)) / liveS).toFixed(2)} cores incl. the creator)`,
  );

  // Pods to Running, backlog: bound while no agent runs, then a new agent takes them all (and
  // adopts the live ones unchanged). Timed from the moment its pod workers start.
  await agent.stop();
  const backlog = podCount - live;
  const backlogCreateS = await createPods(live, podCount, 'backlog');
  out(`pods, backlog: ${backlog} created in ${backlogCreateS.toFixed(1)} s with no agent running`);
  const writesBefore = agent.stats().statusWrites;
  const agent2 = createAgent({
    client,
    nodes,
    nodePrefix: 'bench',
    runtime: 'fake',
    fake: { startDelayMs: 0 },
  });
  const tStart = performance.now();
  await agent2.start();
  const tWorkers = performance.now();
  const cBacklog = process.cpuUsage();
  server.send('mark');
  await waitReady(agent2, podCount);
  const backlogS = (performance.now() - tWorkers) / 1000;
  const backlogServer = (await server.cpu()) / backlogS;
  out(
    `pods, backlog: agent restart (re-registration, list of ${podCount} pods) ${((tWorkers - tStart) / 1000).toFixed(1)} s; then ${backlog} pods Running and Ready (and ${live} adopted) in ${backlogS.toFixed(1)} s: ${(backlog / backlogS).toFixed(0)} pods/s at ${(cpuSeconds(process.cpuUsage(cBacklog)) / backlogS).toFixed(2)} cores (server ${backlogServer.toFixed(2)} cores); status writes ${agent2.stats().statusWrites} (live phase ${writesBefore})`,
  );

  // Steady state with the pods in place.
  server.send('mark');
  const steady = await measureCpu(Math.min(windowS, 30));
  out(
    `heartbeats with ${podCount} pods: agent ${steady.cores.toFixed(3)} cores; server ${((await server.cpu()) / steady.wall).toFixed(2)} cores; memory ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB rss`,
  );
  await agent2.stop();
  client.close();
  creator.close();
  server.close();
}

await main();
