// The disruption controller and the eviction subresource against a real in-process API server
// (memory store), with the scheduler, a node on the fake runtime (slow to start containers, so a
// replacement pod takes a while to become Ready) and the replicaset and deployment controllers:
// a Deployment of 3 under a budget of minAvailable 2 allows one disruption; evicting two pods the
// way `kubectl drain` does lets the first go and refuses the second with 429 until a replacement
// is Ready; the real `kubectl drain` of one of the two simulated nodes waits the same way.
import '../support/kubectl-cache.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Deployment, Pod, PodDisruptionBudget } from '../../src/api/generated/types.js';
import { StatusError } from '../../src/api/errors.js';
import { builtinResources } from '../../src/api/kinds/index.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { createAgent, type Agent } from '../../src/agent/agent.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { RestClient } from '../../src/client/rest.js';
import { DEPLOYMENTS, NAMESPACES, PODDISRUPTIONBUDGETS, PODS } from '../../src/client/typed-refs.js';
import { isPodReady } from '../../src/controllers/common/pods.js';
import { createControllerManager, type ControllerManager } from '../../src/controllers/manager.js';
import { createScheduler, type Scheduler } from '../../src/scheduler/scheduler.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';
import { eventually as pollUntil } from '../support/eventually.js';

const NS = 'pdb';
const START_DELAY_MS = 1_500;

const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 50, retryErrors: true });

let store: MemoryStore;
let server: ApiServer;
let client: RestClient;
let manager: ControllerManager;
let scheduler: Scheduler;
let agent: Agent;

function kubectl(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--server', server.url, '--request-timeout=20s', '-n', NS, ...args],
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

/** POST pods/NAME/eviction as kubectl drain does; resolves with the HTTP code (and the error, if any). */
async function evict(name: string): Promise<{ code: number; err?: StatusError }> {
  try {
    await client.request('POST', `/api/v1/namespaces/${NS}/pods/${name}/eviction`, {
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: NS } },
    });
    return { code: 201 };
  } catch (err) {
    if (err instanceof StatusError) return { code: err.code ?? 0, err };
    throw err;
  }
}

const budget = (): Promise<PodDisruptionBudget> =>
  client.get<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, NS, 'web');
const livePods = async (): Promise<Pod[]> =>
  (await client.list<Pod>(PODS, NS, { labelSelector: 'app=web' })).items.filter(
    (p) => !p.metadata.deletionTimestamp,
  );

before(async () => {
  store = new MemoryStore();
  server = await createApiServer({ store, resources: builtinResources, schemas: builtinSchemas() });
  client = new RestClient({ server: server.url, namespace: NS });
  await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  agent = createAgent({
    client,
    nodes: 2,
    nodePrefix: 'pdb',
    runtime: 'fake',
    fake: { startDelayMs: START_DELAY_MS },
  });
  await agent.start();
  scheduler = createScheduler({ client });
  await scheduler.start();
  manager = createControllerManager({ client, enable: ['replicaset', 'deployment', 'disruption'] });
  await manager.start();
  assert.equal(await manager.whenRunning(), true);
});

after(async () => {
  await manager.stop();
  await scheduler.stop();
  await agent.stop();
  client.close();
  await server.close();
  await store.close();
});

describe('disruption budget against a real API server', { timeout: 120_000 }, () => {
  test('Deployment of 3 with minAvailable 2: one eviction at a time, the next after a replacement is Ready', async () => {
    await client.create<Deployment>(DEPLOYMENTS, NS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
        },
      },
    });
    await client.create<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, NS, {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web', namespace: NS },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
    });
    const ready = await eventually('1 disruption allowed with 3 healthy pods', async () => {
      const b = await budget();
      return b.status?.disruptionsAllowed === 1 && b.status.currentHealthy === 3 ? b : undefined;
    });
    assert.equal(ready.status?.expectedPods, 3);
    assert.equal(ready.status?.desiredHealthy, 2);
    assert.equal(ready.status?.observedGeneration, ready.metadata.generation);
    const cond = ready.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
    assert.deepEqual([cond?.status, cond?.reason], ['True', 'SufficientPods']);

    const table = await kubectl('get', 'pdb', 'web');
    assert.equal(table.code, 0, table.out);
    const [header, row] = table.out.trim().split('\n');
    assert.deepEqual(header?.split(/\s{2,}/), [
      'NAME',
      'MIN AVAILABLE',
      'MAX UNAVAILABLE',
      'ALLOWED DISRUPTIONS',
      'AGE',
    ]);
    assert.deepEqual(row?.split(/\s{2,}/).slice(0, 4), ['web', '2', 'N/A', '1']);

    const [first, second] = (await livePods()).map((p) => p.metadata.name ?? '');
    assert.ok(first && second);
    assert.equal((await evict(first)).code, 201);
    const refused = await evict(second);
    assert.equal(refused.code, 429);
    assert.equal(refused.err?.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    const spent = await budget();
    assert.equal(spent.status?.disruptionsAllowed, 0);
    assert.ok(spent.status?.disruptedPods?.[first] !== undefined || spent.status?.currentHealthy === 2);

    // Keep trying as kubectl drain does (every 5 s there; faster here) until the replacement is Ready.
    const refusedAt = Date.now();
    await eventually('second eviction succeeds', async () =>
      (await evict(second)).code === 201 ? true : undefined,
    );
    const pods = await livePods();
    assert.ok(
      pods.filter((p) => isPodReady(p)).length >= 2,
      'at least minAvailable pods stayed Ready throughout the second eviction',
    );
    assert.ok(Date.now() - refusedAt >= 500, 'the second eviction had to wait for a replacement to start');
    await eventually('budget recovers to 1 allowed disruption', async () => {
      const b = await budget();
      return b.status?.disruptionsAllowed === 1 && b.status.currentHealthy === 3 && !b.status.disruptedPods
        ? true
        : undefined;
    });
  });

  test('maxUnavailable as a percentage uses the Deployment scale', async () => {
    await client.create<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, NS, {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web-pct', namespace: NS },
      spec: { maxUnavailable: '50%', selector: { matchLabels: { app: 'web' } } },
    });
    const b = await eventually('maxUnavailable status', async () => {
      const cur = await client.get<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, NS, 'web-pct');
      return cur.status?.observedGeneration === cur.metadata.generation && cur.status?.expectedPods === 3
        ? cur
        : undefined;
    });
    // 50% of 3 rounds up to 2 unavailable: 1 must stay healthy.
    assert.equal(b.status?.desiredHealthy, 1);
    assert.equal(b.status?.disruptionsAllowed, 2);
    // Two budgets now cover the pods: eviction refuses as upstream does.
    const pod = (await livePods())[0]!.metadata.name ?? '';
    const two = await evict(pod);
    assert.equal(two.code, 500);
    assert.match(two.err?.message ?? '', /more than one PodDisruptionBudget/);
  });

  test("kubectl drain evicts a node's pods one disruption at a time and finishes once they run elsewhere", async () => {
    await client.delete(PODDISRUPTIONBUDGETS, NS, 'web-pct');
    await eventually('one budget, 1 disruption allowed, 3 healthy', async () => {
      const b = await budget();
      return b.status?.disruptionsAllowed === 1 && b.status.currentHealthy === 3 ? true : undefined;
    });
    // The node with the most of the Deployment's pods.
    const byNode = new Map<string, number>();
    for (const p of await livePods())
      byNode.set(p.spec?.nodeName ?? '', (byNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
    const [node, onIt] = [...byNode].sort((a, b) => b[1] - a[1])[0]!;
    assert.ok(onIt >= 2, `expected two pods on one of the two nodes, got ${JSON.stringify([...byNode])}`);
    // Watch readiness throughout: never fewer than minAvailable Ready pods.
    let minReady = Infinity;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const ready = (await livePods()).filter((p) => isPodReady(p)).length;
        minReady = Math.min(minReady, ready);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const drained = await kubectl(
      'drain',
      node,
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      '--timeout=60s',
    );
    watching = false;
    await watcher;
    assert.equal(drained.code, 0, drained.out);
    assert.match(drained.out, new RegExp(`node/${node} cordoned`));
    assert.match(
      drained.out,
      /error when evicting pods\/"web-[^"]+" -n "pdb" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./,
    );
    assert.match(drained.out, new RegExp(`node/${node} drained`));
    assert.ok(minReady >= 2, `Ready pods dropped to ${minReady}`);
    const after = await eventually('3 pods Ready on the other node', async () => {
      const pods = await livePods();
      return pods.length === 3 && pods.every((p) => isPodReady(p)) ? pods : undefined;
    });
    assert.ok(after.every((p) => p.spec?.nodeName !== node));
  });
});
