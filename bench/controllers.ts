// Controller benchmark, against a real in-process API server on a memory store:
//   scale-up   a Deployment scaled from 0 to 5,000 replicas: seconds until all 5,000 pods exist
//              (seen through a watch), next to 5,000 raw pod creates through the API in the same
//              run (64 in flight, the client's socket limit), also counted through a watch.
//              Goal: within 1.5x of the raw creates.
//   memory     the controller manager's heap with 10,000 pods and 1,000 ReplicaSets in its
//              informers (heap after sync minus heap before start, after full GCs). Goal <= 300 MB.
// Run: npm run build && node --expose-gc dist/bench/controllers.js
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Deployment, Pod, ReplicaSet } from '../src/api/generated/types.js';
import { builtinResources } from '../src/api/kinds/index.js';
import { builtinSchemas } from '../src/api/schema-registry.js';
import { createApiServer, type ApiServer } from '../src/apiserver/server.js';
import { SharedInformer } from '../src/client/informer.js';
import { RestClient } from '../src/client/rest.js';
import { DEPLOYMENTS, NAMESPACES, PODS, REPLICASETS } from '../src/client/typed-refs.js';
import { createControllerManager } from '../src/controllers/manager.js';
import { MemoryStore } from '../src/storage/memory/memory-store.js';
import { setLogLevel } from '../src/util/log.js';

const out = (line = ''): void => {
  process.stdout.write(line + '\n');
};

const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 5000);
const MEM_RS = Number(process.env.BENCH_MEM_RS ?? 1000);
const MEM_PODS_PER_RS = Number(process.env.BENCH_MEM_PODS_PER_RS ?? 10);
const RAW_IN_FLIGHT = 64;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
    return;
  }
  setFlagsFromString('--expose-gc');
  const fn = runInNewContext('gc') as () => void;
  fn();
  fn();
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function podSpec(image: string): NonNullable<Pod['spec']> {
  return {
    containers: [
      {
        name: 'web',
        image,
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: { requests: { cpu: '100m', memory: '64Mi' } },
        env: [{ name: 'GET_HOSTS_FROM', value: 'dns' }],
      },
    ],
  };
}

async function withServer<T>(fn: (client: RestClient) => Promise<T>): Promise<T> {
  const store = new MemoryStore();
  const server: ApiServer = await createApiServer({
    store,
    resources: builtinResources,
    schemas: builtinSchemas(),
  });
  const client = new RestClient({ server: server.url, namespace: 'default' });
  try {
    return await fn(client);
  } finally {
    client.close();
    await server.close();
    await store.close();
  }
}

async function namespace(client: RestClient, name: string): Promise<void> {
  await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** Resolves once the informer holds n objects. */
function untilCount(inf: SharedInformer<Pod>, ns: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (inf.list(ns).length >= n) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(check, 5);
    check();
  });
}

async function podWatcher(client: RestClient, ns: string): Promise<SharedInformer<Pod>> {
  const inf = new SharedInformer<Pod>(client, PODS, { namespace: ns });
  inf.start();
  await inf.waitForSync();
  return inf;
}

async function rawCreates(client: RestClient, ns: string, n: number): Promise<number> {
  const inf = await podWatcher(client, ns);
  const start = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      await client.create<Pod>(PODS, ns, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { generateName: 'raw-', labels: { app: 'raw' } },
        spec: podSpec('nginx:1.11'),
      });
      void i;
    }
  };
  await Promise.all(Array.from({ length: RAW_IN_FLIGHT }, () => worker()));
  await untilCount(inf, ns, n);
  const seconds = (performance.now() - start) / 1000;
  inf.stop();
  await inf.whenStopped();
  return seconds;
}

async function deploymentScaleUp(client: RestClient, ns: string, n: number): Promise<number> {
  const manager = createControllerManager({ client, enable: ['replicaset', 'deployment'] });
  await manager.start();
  await manager.whenRunning();
  const d: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'scale', namespace: ns },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'scale' } },
      template: { metadata: { labels: { app: 'scale' } }, spec: podSpec('nginx:1.11') },
    },
  };
  await client.create(DEPLOYMENTS, ns, d);
  // Wait for the (empty) ReplicaSet, so only the scale-up is timed.
  for (;;) {
    const rss = await client.list<ReplicaSet>(REPLICASETS, ns);
    if (rss.items.length > 0) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const inf = await podWatcher(client, ns);
  const start = performance.now();
  await client.patch(DEPLOYMENTS, ns, 'scale', 'merge', { spec: { replicas: n } });
  await untilCount(inf, ns, n);
  const seconds = (performance.now() - start) / 1000;
  inf.stop();
  await inf.whenStopped();
  await manager.stop();
  return seconds;
}

async function managerMemory(
  client: RestClient,
): Promise<{ heapDelta: number; rssAfter: number; pods: number; rss: number; seconds: number }> {
  const ns = 'mem';
  await namespace(client, ns);
  const rsObjs: ReplicaSet[] = [];
  let next = 0;
  const mkRs = async (): Promise<void> => {
    while (next < MEM_RS) {
      const i = next++;
      const rs: ReplicaSet = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: `rs-${i}`, namespace: ns, labels: { app: `rs-${i}` } },
        spec: {
          replicas: MEM_PODS_PER_RS,
          selector: { matchLabels: { app: `rs-${i}` } },
          template: { metadata: { labels: { app: `rs-${i}` } }, spec: podSpec('nginx:1.11') },
        },
      };
      rsObjs[i] = await client.create<ReplicaSet>(REPLICASETS, ns, rs);
    }
  };
  await Promise.all(Array.from({ length: RAW_IN_FLIGHT }, () => mkRs()));
  const jobs: Array<{ rs: ReplicaSet; j: number }> = [];
  for (const rs of rsObjs) for (let j = 0; j < MEM_PODS_PER_RS; j++) jobs.push({ rs, j });
  let k = 0;
  const mkPod = async (): Promise<void> => {
    while (k < jobs.length) {
      const { rs } = jobs[k++]!;
      await client.create<Pod>(PODS, ns, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          generateName: `${rs.metadata.name}-`,
          labels: { ...rs.spec!.template!.metadata!.labels },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: rs.metadata.name!,
              uid: rs.metadata.uid!,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: podSpec('nginx:1.11'),
      });
    }
  };
  await Promise.all(Array.from({ length: RAW_IN_FLIGHT }, () => mkPod()));

  gc();
  const before = process.memoryUsage().heapUsed;
  const start = performance.now();
  const manager = createControllerManager({
    client,
    enable: ['replicaset', 'deployment', 'replicationcontroller'],
  });
  await manager.start();
  await manager.whenRunning();
  const seconds = (performance.now() - start) / 1000;
  // Let the first syncs of 1,000 ReplicaSets run (status writes), then measure.
  await new Promise((r) => setTimeout(r, 3000));
  gc();
  const after = process.memoryUsage();
  const pods = manager.informers()?.informerFor<Pod>(PODS).list(ns).length ?? 0;
  const rss = manager.informers()?.informerFor<ReplicaSet>(REPLICASETS).list(ns).length ?? 0;
  await manager.stop();
  return { heapDelta: after.heapUsed - before, rssAfter: after.rss, pods, rss, seconds };
}

async function main(): Promise<void> {
  setLogLevel('error');
  out(
    `controllers benchmark — node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  out();

  const raw = await withServer(async (client) => {
    await namespace(client, 'raw');
    return rawCreates(client, 'raw', REPLICAS);
  });
  const scaled = await withServer(async (client) => {
    await namespace(client, 'scale');
    return deploymentScaleUp(client, 'scale', REPLICAS);
  });
  out(`scale-up: ${REPLICAS.toLocaleString('en-US')} pods`);
  out(
    `  raw creates through the API (${RAW_IN_FLIGHT} in flight)   ${raw.toFixed(2).padStart(7)} s   ${Math.round(
      REPLICAS / raw,
    )
      .toLocaleString('en-US')
      .padStart(6)} pods/s`,
  );
  out(
    `  Deployment 0 -> ${REPLICAS} (controllers)          ${scaled.toFixed(2).padStart(7)} s   ${Math.round(
      REPLICAS / scaled,
    )
      .toLocaleString('en-US')
      .padStart(6)} pods/s`,
  );
  out(`  ratio controllers / raw: ${(scaled / raw).toFixed(2)}x   (goal <= 1.5x)`);
  out();

  const mem = await withServer((client) => managerMemory(client));
  out(
    `memory: controller manager with ${mem.pods.toLocaleString('en-US')} pods and ${mem.rss.toLocaleString('en-US')} ReplicaSets in its informers`,
  );
  out(`  start to synced: ${mem.seconds.toFixed(2)} s`);
  out(`  heap growth after start and sync (GC'd): ${mb(mem.heapDelta)}   (goal <= 300 MB)`);
  out(`  process RSS (API server and store included): ${mb(mem.rssAfter)}`);
}

await main();
