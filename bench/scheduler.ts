// Scheduler benchmark, in process: the scheduling algorithm and loop fed through the fake client
// (the end-to-end version through the API server comes later). Shapes follow upstream's
// scheduler_perf: 5,000 nodes, 1,000 pods already placed, then pods to schedule:
//   SchedulingBasic        10,000 pods with cpu/memory requests (driven pod by pod, then through start())
//   PodAntiAffinity         2,000 pods with required hostname anti-affinity within groups of 4
//   TopologySpread          2,000 pods spread over 10 zones (DoNotSchedule) and hosts (ScheduleAnyway)
// Reported: pods/s (first pop to last bind confirmed), p50/p99 per-pod scheduling-cycle latency,
// and the rate as a percentage of a same-run baseline: a bare first-fit scan of the same nodes
// with no framework (what the fastest possible placement loop costs on this machine).
// Goal: >= 1,000 pods/s for SchedulingBasic. Run: npm run build && node dist/bench/scheduler.js
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Pod } from '../src/api/generated/types.js';
import { setLogLevel } from '../src/util/log.js';
import { createScheduler } from '../src/scheduler/scheduler.js';
import { FakeSchedulerClient } from '../src/scheduler/testing/fake-client.js';
import { makeNode, makePod } from '../src/scheduler/testing/builders.js';
import { podRequests } from '../src/scheduler/framework/resource.js';
import { Resource } from '../src/scheduler/framework/resource.js';

const out = (line = ''): void => {
  process.stdout.write(line + '\n');
};

const NODES = Number(process.env.BENCH_NODES ?? 5000);
const INIT_PODS = Number(process.env.BENCH_INIT_PODS ?? 1000);
const ZONES = 10;

interface Result {
  name: string;
  pods: number;
  scheduled: number;
  seconds: number;
  latenciesMs: number[];
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function row(r: Result, baseline?: Result): string {
  const rate = r.scheduled / r.seconds;
  const lat = [...r.latenciesMs].sort((a, b) => a - b);
  const ratio = baseline ? `${((rate / (baseline.scheduled / baseline.seconds)) * 100).toFixed(1)}%` : '';
  return [
    r.name.padEnd(34),
    `${r.scheduled}/${r.pods}`.padStart(12),
    `${Math.round(rate).toLocaleString('en-US').padStart(9)} pods/s`,
    lat.length > 0 ? `p50 ${pct(lat, 50).toFixed(3).padStart(7)} ms` : `p50 ${'-'.padStart(7)}   `,
    lat.length > 0 ? `p99 ${pct(lat, 99).toFixed(3).padStart(7)} ms` : `p99 ${'-'.padStart(7)}   `,
    ratio.padStart(7),
  ].join('  ');
}

function nodes(): ReturnType<typeof makeNode>[] {
  const list = [];
  for (let i = 0; i < NODES; i++) {
    list.push(
      makeNode(`node-${i}`, {
        cpu: '32',
        memory: '128Gi',
        pods: 110,
        labels: { 'topology.kubernetes.io/zone': `zone-${i % ZONES}` },
      }),
    );
  }
  return list;
}

function initPods(): Pod[] {
  const list: Pod[] = [];
  for (let i = 0; i < INIT_PODS; i++)
    list.push(
      makePod(`init-${i}`, {
        namespace: 'init',
        cpu: '100m',
        memory: '128Mi',
        nodeName: `node-${(i * 7) % NODES}`,
      }),
    );
  return list;
}

async function run(name: string, count: number, podFor: (i: number) => Pod): Promise<Result> {
  const client = new FakeSchedulerClient({ delivery: 'microtask', record: false });
  for (const n of nodes()) client.add('nodes', n);
  for (const p of initPods()) client.add('pods', p);
  const s = createScheduler({ client, identity: 'bench' });
  for (let i = 0; i < count; i++) client.add('pods', podFor(i));
  const latencies: number[] = [];
  const t0 = performance.now();
  let n = 0;
  for (;;) {
    const a = performance.now();
    if (!s.scheduleNext()) break;
    latencies.push(performance.now() - a);
    if (++n % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  await s.bindingsSettled();
  await new Promise((r) => setImmediate(r));
  const seconds = (performance.now() - t0) / 1000;
  let scheduled = 0;
  for (const p of client.source('pods').list('bench')) if (p.spec?.nodeName) scheduled++;
  await s.stop();
  return { name, pods: count, scheduled, seconds, latenciesMs: latencies };
}

/** The baseline: first fit over the same nodes by cpu/memory/pod count, no framework, no cache machinery. */
function baseline(count: number): Result {
  const free = nodes().map((n) => ({
    name: n.metadata.name!,
    alloc: Resource.fromList(n.status?.allocatable),
    used: new Resource(),
    pods: 0,
  }));
  for (const p of initPods()) {
    const f = free.find((x) => x.name === p.spec?.nodeName)!;
    f.used.add(podRequests(p));
    f.pods++;
  }
  const latencies: number[] = [];
  let scheduled = 0;
  let start = 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const a = performance.now();
    const req = podRequests(makePod(`b-${i}`, { cpu: '100m', memory: '128Mi' }));
    for (let j = 0; j < free.length; j++) {
      const f = free[(start + j) % free.length]!;
      if (
        f.pods + 1 <= f.alloc.allowedPodNumber &&
        req.milliCPU <= f.alloc.milliCPU - f.used.milliCPU &&
        req.memory <= f.alloc.memory - f.used.memory
      ) {
        f.used.add(req);
        f.pods++;
        scheduled++;
        start = (start + j + 1) % free.length;
        break;
      }
    }
    latencies.push(performance.now() - a);
  }
  return {
    name: 'baseline: bare first-fit',
    pods: count,
    scheduled,
    seconds: (performance.now() - t0) / 1000,
    latenciesMs: latencies,
  };
}

/** The same workload through the scheduler's own loop (start()): pops, cycles and binds interleaved with watch events. */
async function runLoop(name: string, count: number, podFor: (i: number) => Pod): Promise<Result> {
  const client = new FakeSchedulerClient({ delivery: 'microtask', record: false });
  for (const n of nodes()) client.add('nodes', n);
  for (const p of initPods()) client.add('pods', p);
  const s = createScheduler({ client, identity: 'bench' });
  let bound = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  client.source('pods').addHandler({
    onUpdate: (a, b) => {
      if (b.metadata.namespace === 'bench' && !a.spec?.nodeName && b.spec?.nodeName && ++bound === count)
        done();
    },
  });
  for (let i = 0; i < count; i++) client.add('pods', podFor(i));
  const t0 = performance.now();
  await s.start();
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await s.stop();
  return { name, pods: count, scheduled: bound, seconds, latenciesMs: [] };
}

async function main(): Promise<void> {
  setLogLevel('error');
  out(
    `k8ts scheduler benchmark: ${NODES} nodes, ${INIT_PODS} placed pods; node ${process.version}, ${cpus().length} cpus, load ${loadavg()[0]!.toFixed(2)}`,
  );
  out();
  const base = baseline(10_000);
  out(row(base));
  const basic = await run('SchedulingBasic', 10_000, (i) =>
    makePod(`basic-${i}`, { namespace: 'bench', cpu: '100m', memory: '128Mi' }),
  );
  out(row(basic, base));
  const loop = await runLoop('SchedulingBasic, start() loop', 10_000, (i) =>
    makePod(`loop-${i}`, { namespace: 'bench', cpu: '100m', memory: '128Mi' }),
  );
  out(row(loop, base));
  const anti = await run('SchedulingPodAntiAffinity', 2_000, (i) =>
    makePod(`anti-${i}`, {
      namespace: 'bench',
      cpu: '100m',
      memory: '128Mi',
      labels: { group: `g-${Math.floor(i / 4)}` },
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              labelSelector: { matchLabels: { group: `g-${Math.floor(i / 4)}` } },
              topologyKey: 'kubernetes.io/hostname',
            },
          ],
        },
      },
    }),
  );
  out(row(anti, base));
  const spread = await run('SchedulingTopologySpread', 2_000, (i) =>
    makePod(`spread-${i}`, {
      namespace: 'bench',
      cpu: '100m',
      memory: '128Mi',
      labels: { app: `app-${i % 10}` },
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { app: `app-${i % 10}` } },
        },
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: { app: `app-${i % 10}` } },
        },
      ],
    }),
  );
  out(row(spread, base));
  out();
  const rate = basic.scheduled / basic.seconds;
  out(`SchedulingBasic: ${Math.round(rate)} pods/s (goal >= 1000): ${rate >= 1000 ? 'met' : 'NOT met'}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
