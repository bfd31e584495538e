// Scheduler benchmark, end to end through the API server: upstream scheduler_perf's SchedulingBasic
// shape against a real `k8ts server --disable-agent --datastore sqlite` process (which runs the
// scheduler and the controller manager), over HTTPS with the admin client certificate.
//   1. a second child process registers BENCH_NODES (5,000) simulated nodes with the fake-runtime agent;
//   2. BENCH_INIT_PODS (1,000) pods are created and awaited until bound;
//   3. BENCH_PODS (10,000) pods with small cpu/memory requests and no nodeName are created, 64 in flight.
// Reported: pods scheduled per second from the first create to the last bind (binds observed through a
// watch on pods, spec.nodeName set), per-pod latency p50/p99 (create acknowledged → bind seen), and
// the server process's peak RSS (VmHWM). Goal: >= 1,000 pods/s (upstream's threshold: 270).
// BENCH_SHAPE picks upstream's workload (scheduler_perf's 5000Nodes variants):
//   basic            SchedulingBasic: 1,000 placed, 10,000 measured, plain pods (the default);
//   anti-affinity    SchedulingPodAntiAffinity-like: 1,000 placed and 1,000 measured pods that each
//                    refuse a node holding another (required podAntiAffinity on kubernetes.io/hostname);
//   topology-spread  TopologySpreading-like: nodes in three zones, 5,000 plain pods placed, 2,000
//                    measured pods spread over the zones (maxSkew 1, DoNotSchedule).
// Run: npm run build && node dist/bench/scheduler-e2e.js
// (the agent child runs the same file with --agent <kubeconfig> <nodes>).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Pod } from '../src/api/generated/types.js';
import { createAgent } from '../src/agent/agent.js';
import { Limiter } from '../src/agent/support.js';
import { loadKubeconfig, parseKubeconfig } from '../src/client/kubeconfig.js';
import { RestClient, type WatchHandle } from '../src/client/rest.js';
import { PODS } from '../src/client/typed-refs.js';
import { setLogLevel } from '../src/util/log.js';
import { K8TS_COMMAND, freePort } from '../test/support/k8ts-server.js';

const out = (line = ''): void => void process.stdout.write(line + '\n');

type Shape = 'basic' | 'anti-affinity' | 'topology-spread';
const SHAPES: Record<Shape, { title: string; initPods: number; pods: number }> = {
  basic: { title: 'SchedulingBasic', initPods: 1000, pods: 10000 },
  'anti-affinity': { title: 'SchedulingPodAntiAffinity', initPods: 1000, pods: 1000 },
  'topology-spread': { title: 'TopologySpreading', initPods: 5000, pods: 2000 },
};
const SHAPE_NAME = process.env.BENCH_SHAPE ?? 'basic';
if (!(SHAPE_NAME in SHAPES))
  throw new Error(`BENCH_SHAPE: ${SHAPE_NAME}: one of ${Object.keys(SHAPES).join(', ')}`);
const SHAPE = SHAPE_NAME as Shape;
const ZONES = ['zone-a', 'zone-b', 'zone-c'];
const NODES = Number(process.env.BENCH_NODES ?? 5000);
const INIT_PODS = Number(process.env.BENCH_INIT_PODS ?? SHAPES[SHAPE].initPods);
const PODS_N = Number(process.env.BENCH_PODS ?? SHAPES[SHAPE].pods);
const IN_FLIGHT = 64;
const NS = 'default';

function pct(sorted: readonly number[], p: number): number {
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- agent child -------------------------------------------------------------------------------

async function agentChild(kubeconfig: string, nodes: number, zoned: boolean): Promise<void> {
  setLogLevel('error');
  const client = new RestClient(loadKubeconfig(kubeconfig), 'k8ts-bench-e2e-agent');
  // With zones, one simulated fleet per zone, its nodes labelled with it.
  const fleets = zoned
    ? ZONES.map((zone, i) =>
        createAgent({
          client,
          nodes: Math.floor(nodes / ZONES.length) + (i < nodes % ZONES.length ? 1 : 0),
          nodePrefix: `sim-${zone}`,
          labels: { 'topology.kubernetes.io/zone': zone },
          runtime: 'fake',
          fake: { startDelayMs: 0, podCidrBase: `10.${64 + i * 32}.0.0`, nodeIpBase: `10.${160 + i}.0.0` },
        }),
      )
    : [createAgent({ client, nodes, nodePrefix: 'sim', runtime: 'fake', fake: { startDelayMs: 0 } })];
  const t0 = performance.now();
  await Promise.all(fleets.map((a) => a.start()));
  out(JSON.stringify({ ready: (performance.now() - t0) / 1000 }));
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) void line;
  await Promise.all(fleets.map((a) => a.stop()));
  client.close();
  process.exit(0);
}

// ---- server child ------------------------------------------------------------------------------

interface Server {
  child: ChildProcess;
  dataDir: string;
  kubeconfig: string;
}

function readyz(port: number, agent: https.Agent): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/readyz', agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(res.statusCode === 200 && text === 'ok'));
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function startServer(): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-bench-sched-e2e-'));
  const port = await freePort();
  // The server runs as users start it (bin/k8ts, with its V8 settings). BENCH_SERVER_NODE_ARGS adds
  // node flags (bin/k8ts's K8TS_NODE_ARGS), e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS ?? '';
  const child = spawn(
    K8TS_COMMAND,
    [
      'server',
      '--data-dir',
      dataDir,
      '--https-port',
      String(port),
      '--bind-address',
      '127.0.0.1',
      '--disable-agent',
      '--datastore',
      'sqlite',
    ],
    {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, K8TS_LOG_LEVEL: 'warn', K8TS_NODE_ARGS: nodeArgs },
    },
  );
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`k8ts server exited with ${child.exitCode}`);
    try {
      const cfg = parseKubeconfig(readFileSync(kubeconfig, 'utf8'));
      const agent = new https.Agent({ ca: cfg.caPem, cert: cfg.clientCertPem, key: cfg.clientKeyPem });
      const ok = await readyz(port, agent);
      agent.destroy();
      if (ok) return { child, dataDir, kubeconfig };
    } catch {
      // Not up yet: the kubeconfig is written once the server listens.
    }
    await sleep(20);
  }
}

function startAgentChild(
  kubeconfig: string,
  nodes: number,
): Promise<{ child: ChildProcess; seconds: number }> {
  const child = spawn(
    process.execPath,
    [
      '--max-old-space-size=8192',
      // BENCH_AGENT_NODE_ARGS: node flags for the simulated nodes' process (--cpu-prof ...).
      ...(process.env.BENCH_AGENT_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== ''),
      fileURLToPath(import.meta.url),
      '--agent',
      kubeconfig,
      String(nodes),
      SHAPE === 'topology-spread' ? 'zoned' : 'flat',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', (line) => {
      const msg = JSON.parse(line) as { ready: number };
      resolve({ child, seconds: msg.ready });
    });
    child.once('exit', (code) => reject(new Error(`agent child exited with ${code}`)));
  });
}

function vm(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

// ---- bind watcher ------------------------------------------------------------------------------

/** Records the first time each pod is seen with spec.nodeName set, from a watch restarted as needed. */
class BindWatcher {
  readonly boundAt = new Map<string, number>();
  private handle: WatchHandle | undefined;
  private stopped = false;
  private rv = '';
  private waiters: Array<{ prefix: string; count: number; resolve: () => void }> = [];
  private readonly counts = new Map<string, number>();

  constructor(private readonly client: RestClient) {}

  async start(): Promise<void> {
    const list = await this.client.list<Pod>(PODS, NS);
    this.rv = list.metadata?.resourceVersion ?? '';
    for (const p of list.items) this.seen(p);
    this.open();
  }

  private open(): void {
    if (this.stopped) return;
    this.handle = this.client.watch<Pod>(
      PODS,
      NS,
      { resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds: 3600 },
      (ev) => {
        if (ev.type === 'ERROR') return;
        const rv = ev.object.metadata?.resourceVersion;
        if (rv) this.rv = rv;
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.seen(ev.object);
      },
      (err) => {
        if (this.stopped) return;
        if (err) process.stderr.write(`watch ended: ${err.message}; reopening\n`);
        setTimeout(() => this.open(), err ? 100 : 0);
      },
    );
  }

  private seen(p: Pod): void {
    const name = p.metadata?.name;
    if (!name || !p.spec?.nodeName || this.boundAt.has(name)) return;
    this.boundAt.set(name, performance.now());
    const prefix = name.slice(0, name.lastIndexOf('-'));
    const c = (this.counts.get(prefix) ?? 0) + 1;
    this.counts.set(prefix, c);
    this.waiters = this.waiters.filter((w) => {
      if (w.prefix === prefix && c >= w.count) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  waitFor(prefix: string, count: number): Promise<void> {
    if ((this.counts.get(prefix) ?? 0) >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ prefix, count, resolve }));
  }

  bound(prefix: string): number {
    return this.counts.get(prefix) ?? 0;
  }

  stop(): void {
    this.stopped = true;
    this.handle?.stop();
  }
}

/** The server's /metrics text (request counts by verb and resource show what each pod costs). */
function fetchMetrics(kubeconfig: string): Promise<string> {
  const cfg = parseKubeconfig(readFileSync(kubeconfig, 'utf8'));
  const url = new URL(cfg.server);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        path: '/metrics',
        ca: cfg.caPem,
        cert: cfg.clientCertPem,
        key: cfg.clientKeyPem,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A percentile of a Prometheus histogram (all its series summed), as the upper bound of the bucket
 * it falls in: what the scheduler itself measured, without the benchmark's queueing.
 */
function histogramPercentile(text: string, name: string, p: number): number {
  const buckets = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{(?:.*,)?le="([^"]+)"\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted[sorted.length - 1]?.[1] ?? 0;
  if (total === 0) return NaN;
  return sorted.find(([, n]) => n >= (p / 100) * total)?.[0] ?? Infinity;
}

const bucketBound = (s: number): string =>
  s === Infinity ? '>10 s' : `≤ ${(s * 1000).toFixed(s < 0.01 ? 1 : 0)} ms`;

// ---- main --------------------------------------------------------------------------------------

/** A pod of the benchmark's shape; `measured` pods are the ones the shape is about. */
function pod(name: string, measured: boolean): Pod {
  const requests = SHAPE === 'basic' ? { cpu: '100m', memory: '128Mi' } : { cpu: '100m', memory: '500Mi' };
  const base: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'sched-bench' } },
    spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', resources: { requests } }] },
  };
  if (SHAPE === 'anti-affinity') {
    base.metadata.labels!.color = 'green';
    base.spec!.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { color: 'green' } }, topologyKey: 'kubernetes.io/hostname' },
        ],
      },
    };
  } else if (SHAPE === 'topology-spread' && measured) {
    base.metadata.labels!.color = 'blue';
    base.spec!.topologySpreadConstraints = [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { color: 'blue' } },
      },
    ];
  }
  return base;
}

async function createPods(
  client: RestClient,
  prefix: string,
  n: number,
  ackAt: Map<string, number> | undefined,
): Promise<number> {
  const limiter = new Limiter(IN_FLIGHT);
  let errors = 0;
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${prefix}-${i}`;
    all.push(
      limiter.run(async () => {
        try {
          await client.create<Pod>(PODS, NS, pod(name, ackAt !== undefined));
          ackAt?.set(name, performance.now());
        } catch (err) {
          errors++;
          if (errors <= 5)
            process.stderr.write(`create ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }),
    );
  }
  await Promise.all(all);
  return errors;
}

async function waitBound(w: BindWatcher, prefix: string, count: number, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const ok = await Promise.race([
    w.waitFor(prefix, count).then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  return ok;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--agent')
    return agentChild(process.argv[3]!, Number(process.argv[4]), process.argv[5] === 'zoned');
  setLogLevel('warn');
  const [l1, l5, l15] = loadavg();
  out(
    `# scheduler e2e bench (${SHAPES[SHAPE].title} through the API server, SQLite): ${NODES} nodes${SHAPE === 'topology-spread' ? ` in ${ZONES.length} zones` : ''}, ${INIT_PODS} initial pods, ${PODS_N} pods, ${IN_FLIGHT} creates in flight`,
  );
  out(
    `# machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load ${l1!.toFixed(2)} ${l5!.toFixed(2)} ${l15!.toFixed(2)}`,
  );
  if (SHAPE === 'basic')
    out('# goal: >= 1,000 pods/s (upstream scheduler_perf threshold for SchedulingBasic: 270 pods/s)');

  const tStart = performance.now();
  const server = await startServer();
  out(`server ready in ${((performance.now() - tStart) / 1000).toFixed(2)} s (pid ${server.child.pid})`);
  let agentChildProc: ChildProcess | undefined;
  const client = new RestClient(loadKubeconfig(server.kubeconfig), 'k8ts-bench-sched-e2e');
  const watcher = new BindWatcher(client);
  try {
    const ag = await startAgentChild(server.kubeconfig, NODES);
    agentChildProc = ag.child;
    out(`nodes: ${NODES} simulated nodes registered in ${ag.seconds.toFixed(1)} s`);

    await watcher.start();

    // Initial pods: created and awaited until bound (also lets the scheduler's caches fill).
    const tInit = performance.now();
    const initErrors = await createPods(client, 'init', INIT_PODS, undefined);
    if (!(await waitBound(watcher, 'init', INIT_PODS - initErrors, 300_000)))
      throw new Error(`initial pods: only ${watcher.bound('init')} of ${INIT_PODS} bound after 300 s`);
    const initS = (performance.now() - tInit) / 1000;
    out(
      `initial: ${INIT_PODS} pods created and bound in ${initS.toFixed(1)} s (${(INIT_PODS / initS).toFixed(0)} pods/s)${initErrors ? `, ${initErrors} create errors` : ''}`,
    );

    // Measured pods.
    const ackAt = new Map<string, number>();
    const t0 = performance.now();
    const errors = await createPods(client, 'pod', PODS_N, ackAt);
    const createdS = (performance.now() - t0) / 1000;
    const expected = PODS_N - errors;
    const ok = await waitBound(watcher, 'pod', expected, 600_000);
    const bound = watcher.bound('pod');
    let last = t0;
    const lat: number[] = [];
    for (const [name, ack] of ackAt) {
      const b = watcher.boundAt.get(name);
      if (b === undefined) continue;
      if (b > last) last = b;
      lat.push(Math.max(0, b - ack));
    }
    lat.sort((a, b) => a - b);
    const seconds = (last - t0) / 1000;
    const rate = bound / seconds;
    const hwm = vm(server.child.pid!, 'VmHWM');
    const rss = vm(server.child.pid!, 'VmRSS');
    out(
      `creates: ${PODS_N} pods in ${createdS.toFixed(1)} s (${(PODS_N / createdS).toFixed(0)} creates/s)${errors ? `, ${errors} errors` : ''}`,
    );
    out(
      `${SHAPES[SHAPE].title} e2e: ${bound}/${PODS_N} pods bound in ${seconds.toFixed(2)} s = ${rate.toFixed(0)} pods/s${SHAPE === 'basic' ? ` (${((rate / 1000) * 100).toFixed(0)}% of the 1,000 goal, ${((rate / 270) * 100).toFixed(0)}% of upstream's 270)` : ''}${ok ? '' : ' [TIMED OUT waiting for binds]'}`,
    );
    out(
      `latency (create ack → bind seen): p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, max ${(lat[lat.length - 1] ?? NaN).toFixed(1)} ms`,
    );
    out(`server memory: peak RSS (VmHWM) ${hwm.toFixed(0)} MB, RSS now ${rss.toFixed(0)} MB`);
    const metricsText = await fetchMetrics(server.kubeconfig);
    if (process.env.BENCH_METRICS_OUT) writeFileSync(process.env.BENCH_METRICS_OUT, metricsText);
    const attempt = 'scheduler_scheduling_attempt_duration_seconds';
    const sli = 'scheduler_pod_scheduling_sli_duration_seconds';
    out(
      `scheduler's own histograms (whole run, bucket bounds): attempt p50 ${bucketBound(histogramPercentile(metricsText, attempt, 50))}, p99 ${bucketBound(histogramPercentile(metricsText, attempt, 99))}; enqueue → bound p50 ${bucketBound(histogramPercentile(metricsText, sli, 50))}, p99 ${bucketBound(histogramPercentile(metricsText, sli, 99))}`,
    );
    const [e1, e5, e15] = loadavg();
    out(`# load after: ${e1!.toFixed(2)} ${e5!.toFixed(2)} ${e15!.toFixed(2)}`);
  } finally {
    watcher.stop();
    client.close();
    if (agentChildProc) {
      agentChildProc.stdin?.end();
      await Promise.race([
        new Promise((r) => agentChildProc!.once('exit', r)),
        sleep(20_000).then(() => stopChild(agentChildProc!, 'SIGKILL')),
      ]);
    }
    await stopChild(server.child, 'SIGTERM');
    rmSync(server.dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
