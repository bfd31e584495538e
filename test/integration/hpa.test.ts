// The horizontal pod autoscaler against a real in-process API server (memory store), with the
// scheduler, a node on the fake runtime, and the replicaset, deployment and autoscaling
// controllers. The test supplies pod usage (the resource metrics API is not needed): high usage
// scales the Deployment up within its bounds, low usage scales it down after the (short) scale-down
// stabilization window; status, events and `kubectl get hpa` show what happened.
import '../support/kubectl-cache.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Deployment, Event, HorizontalPodAutoscaler, Pod } from '../../src/api/generated/types.js';
import { builtinResources } from '../../src/api/kinds/index.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { createAgent, type Agent } from '../../src/agent/agent.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { RestClient } from '../../src/client/rest.js';
import {
  DEPLOYMENTS,
  EVENTS,
  HORIZONTALPODAUTOSCALERS,
  NAMESPACES,
  PODS,
} from '../../src/client/typed-refs.js';
import { createControllerManager, type ControllerManager } from '../../src/controllers/manager.js';
import {
  horizontalPodAutoscalerControllerDescriptor,
  type PodMetricsSample,
  type ResourceMetricsSource,
} from '../../src/controllers/podautoscaler/index.js';
import { createScheduler, type Scheduler } from '../../src/scheduler/scheduler.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';
import { eventually as pollUntil } from '../support/eventually.js';

const NS = 'hpa';

const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 50, retryErrors: true });

let store: MemoryStore;
let server: ApiServer;
let client: RestClient;
let manager: ControllerManager;
let scheduler: Scheduler;
let agent: Agent;

/** Pod usage the test controls: every running pod of the namespace uses this much cpu. */
let cpuPerPod = '0';
/** Per-container overrides of cpuPerPod, by container name. */
const cpuByContainer: Record<string, string> = {};
let metricsUp = true;
const metrics: ResourceMetricsSource = {
  async podMetrics(namespace, selector): Promise<PodMetricsSample[]> {
    if (!metricsUp) throw new Error('the server is currently unable to handle the request');
    const pods = await client.list<Pod>(PODS, namespace, { labelSelector: selector });
    return pods.items
      .filter((p) => p.status?.phase === 'Running')
      .map((p) => ({
        name: p.metadata.name ?? '',
        timestampMs: Date.now(),
        windowMs: 0,
        containers: (p.spec?.containers ?? []).map((c) => ({
          name: c.name,
          usage: { cpu: cpuByContainer[c.name] ?? cpuPerPod },
        })),
      }));
  },
};

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

const replicasOf = async (): Promise<number> =>
  (await client.get<Deployment>(DEPLOYMENTS, NS, 'web')).spec?.replicas ?? -1;
const hpaNow = (name = 'web'): Promise<HorizontalPodAutoscaler> =>
  client.get<HorizontalPodAutoscaler>(HORIZONTALPODAUTOSCALERS, NS, name);
const condition = (h: HorizontalPodAutoscaler, type: string) =>
  h.status?.conditions?.find((c) => c.type === type);

async function events(reason: string): Promise<string[]> {
  const list = await client.list<Event>(EVENTS, NS);
  return list.items.filter((e) => e.reason === reason).map((e) => e.message ?? '');
}

before(async () => {
  store = new MemoryStore();
  server = await createApiServer({ store, resources: builtinResources, schemas: builtinSchemas() });
  client = new RestClient({ server: server.url, namespace: NS });
  await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  agent = createAgent({ client, nodeName: 'hpa-node', runtime: 'fake', fake: { startDelayMs: 20 } });
  await agent.start();
  scheduler = createScheduler({ client });
  await scheduler.start();
  manager = createControllerManager({
    client,
    enable: ['replicaset', 'deployment', 'horizontalpodautoscaling'],
    controllers: [horizontalPodAutoscalerControllerDescriptor({ metrics, syncPeriodMs: 300 })],
  });
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

describe('horizontal pod autoscaler against a real API server', { timeout: 120_000 }, () => {
  test('high cpu scales a Deployment up to maxReplicas, low cpu scales it down after the stabilization window', async () => {
    await client.create<Deployment>(DEPLOYMENTS, NS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '500m' } } }],
          },
        },
      },
    });
    cpuPerPod = '900m';
    await client.create<HorizontalPodAutoscaler>(HORIZONTALPODAUTOSCALERS, NS, {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: NS },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
          },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 2 } },
      },
    });
    // 180% of request against 50%: 1 → 4 (the default policy allows +4 pods per 15 s), then → 5 (max).
    await eventually('scale-up to 4', async () => ((await replicasOf()) >= 4 ? true : undefined));
    const firstUp = await eventually('a SuccessfulRescale event', async () => {
      const msgs = await events('SuccessfulRescale');
      return msgs.length > 0 ? msgs : undefined;
    });
    assert.equal(
      firstUp[0],
      'New size: 4; reason: cpu resource utilization (percentage of request) above target',
    );
    const scaledUp = await eventually(
      'status at 5 replicas, limited by maxReplicas',
      async () => {
        const h = await hpaNow();
        return h.status?.currentReplicas === 5 && condition(h, 'ScalingLimited')?.status === 'True'
          ? h
          : undefined;
      },
      45_000,
    );
    assert.equal(await replicasOf(), 5);
    assert.equal(scaledUp.status?.desiredReplicas, 5);
    assert.ok(scaledUp.status?.lastScaleTime);
    assert.deepEqual(scaledUp.status?.currentMetrics, [
      {
        type: 'Resource',
        resource: { name: 'cpu', current: { averageUtilization: 180, averageValue: '900m' } },
      },
    ]);
    assert.deepEqual(
      (scaledUp.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason]),
      [
        ['AbleToScale', 'True', 'ReadyForNewScale'],
        ['ScalingActive', 'True', 'ValidMetricFound'],
        ['ScalingLimited', 'True', 'TooManyReplicas'],
      ],
    );
    assert.equal(
      condition(scaledUp, 'ScalingActive')?.message,
      'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
    );

    const table = await kubectl('get', 'hpa', 'web');
    assert.equal(table.code, 0, table.out);
    const [header, row] = table.out.trim().split('\n');
    assert.deepEqual(header?.split(/\s{2,}/), [
      'NAME',
      'REFERENCE',
      'TARGETS',
      'MINPODS',
      'MAXPODS',
      'REPLICAS',
      'AGE',
    ]);
    assert.deepEqual(row?.split(/\s{2,}/).slice(0, 6), [
      'web',
      'Deployment/web',
      'cpu: 180%/50%',
      '1',
      '5',
      '5',
    ]);

    const described = await kubectl('describe', 'hpa', 'web');
    assert.equal(described.code, 0, described.out);
    assert.match(
      described.out,
      /resource cpu on pods\s+\(as a percentage of request\):\s+180% \(900m\) \/ 50%/,
    );
    assert.match(described.out, /Deployment pods:\s+5 current \/ 5 desired/);
    assert.match(
      described.out,
      /ScalingLimited\s+True\s+TooManyReplicas\s+the desired replica count is more than the maximum replica count/,
    );
    assert.match(
      described.out,
      /SuccessfulRescale\s+.*New size: 4; reason: cpu resource utilization \(percentage of request\) above target/,
    );

    // Low usage: 10% against 50% → 1 pod, after the 2 s window.
    const lowAt = Date.now();
    cpuPerPod = '50m';
    await eventually('scale-down to 1', async () => ((await replicasOf()) === 1 ? true : undefined));
    assert.ok(Date.now() - lowAt >= 1_500, 'the scale-down waited for the stabilization window');
    const down = await eventually('a scale-down event', async () => {
      const msgs = await events('SuccessfulRescale');
      return msgs.find((m) => m === 'New size: 1; reason: All metrics below target');
    });
    assert.ok(down);
    const settled = await eventually('status at 1 replica', async () => {
      const h = await hpaNow();
      return h.status?.currentReplicas === 1 ? h : undefined;
    });
    assert.equal(settled.status?.currentMetrics?.[0]?.resource?.current.averageUtilization, 10);
  });

  test('when the metrics API fails, ScalingActive turns False with FailedGetResourceMetric and a warning event', async () => {
    metricsUp = false;
    try {
      const h = await eventually('ScalingActive False', async () => {
        const cur = await hpaNow();
        return condition(cur, 'ScalingActive')?.status === 'False' ? cur : undefined;
      });
      const c = condition(h, 'ScalingActive');
      assert.equal(c?.reason, 'FailedGetResourceMetric');
      assert.equal(
        c?.message,
        'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server is currently unable to handle the request',
      );
      const warned = await eventually('a FailedGetResourceMetric event', async () => {
        const msgs = await events('FailedGetResourceMetric');
        return msgs.length > 0 ? msgs : undefined;
      });
      assert.match(warned[0] ?? '', /^failed to get cpu utilization: unable to get metrics for resource cpu/);
      assert.equal(await replicasOf(), 1, 'no scaling without metrics');
      const table = await kubectl('get', 'hpa', 'web', '--no-headers');
      assert.match(table.out, /cpu: 10%\/50%|cpu: <unknown>\/50%/);
    } finally {
      metricsUp = true;
    }
  });

  test('kubectl autoscale (autoscaling/v1 and v2 both served) creates an autoscaler the controller acts on', async () => {
    cpuPerPod = '500m';
    await client.create<Deployment>(DEPLOYMENTS, NS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: NS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'api' } },
        template: {
          metadata: { labels: { app: 'api' } },
          spec: {
            containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '250m' } } }],
          },
        },
      },
    });
    const made = await kubectl('autoscale', 'deployment', 'api', '--cpu-percent=80', '--min=1', '--max=3');
    assert.equal(made.code, 0, made.out);
    // 200% of request against 80%: ceil(2.5) = 3 (the max).
    await eventually('api scaled to 3', async () => {
      const d = await client.get<Deployment>(DEPLOYMENTS, NS, 'api');
      return d.spec?.replicas === 3 ? true : undefined;
    });
    const v1 = await client.request<{
      spec?: { targetCPUUtilizationPercentage?: number };
      status?: { currentReplicas?: number };
    }>('GET', `/apis/autoscaling/v1/namespaces/${NS}/horizontalpodautoscalers/api`);
    assert.equal(v1.spec?.targetCPUUtilizationPercentage, 80);
    await eventually('v1 status', async () => {
      const cur = await client.request<{
        status?: { currentReplicas?: number; currentCPUUtilizationPercentage?: number };
      }>('GET', `/apis/autoscaling/v1/namespaces/${NS}/horizontalpodautoscalers/api`);
      return cur.status?.currentReplicas === 3 && cur.status.currentCPUUtilizationPercentage === 200
        ? true
        : undefined;
    });
  });

  test('a ContainerResource metric scales on one container (the pod as a whole is on target)', async () => {
    cpuByContainer.main = '200m';
    cpuByContainer.proxy = '0';
    await client.create<Deployment>(DEPLOYMENTS, NS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'side', namespace: NS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'side' } },
        template: {
          metadata: { labels: { app: 'side' } },
          spec: {
            containers: [
              { name: 'main', image: 'nginx:1.27', resources: { requests: { cpu: '100m' } } },
              { name: 'proxy', image: 'envoy:1', resources: { requests: { cpu: '100m' } } },
            ],
          },
        },
      },
    });
    // main: 200m of 100m = 200% against 100% → 2; the pod: 200m of 200m = 100%, on target.
    await client.create<HorizontalPodAutoscaler>(HORIZONTALPODAUTOSCALERS, NS, {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'side', namespace: NS },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'side' },
        maxReplicas: 3,
        metrics: [
          {
            type: 'ContainerResource',
            containerResource: {
              name: 'cpu',
              container: 'main',
              target: { type: 'Utilization', averageUtilization: 100 },
            },
          },
        ],
      },
    });
    await eventually('side scaled to 2', async () => {
      const d = await client.get<Deployment>(DEPLOYMENTS, NS, 'side');
      return d.spec?.replicas === 2 ? true : undefined;
    });
    const h = await eventually('ContainerResource status', async () => {
      const cur = await hpaNow('side');
      return cur.status?.currentMetrics?.[0]?.type === 'ContainerResource' ? cur : undefined;
    });
    assert.deepEqual(h.status?.currentMetrics?.[0]?.containerResource, {
      name: 'cpu',
      container: 'main',
      current: { averageUtilization: 200, averageValue: '200m' },
    });
    assert.equal(
      condition(h, 'ScalingActive')?.message,
      'the HPA was able to successfully calculate a replica count from cpu container resource utilization (percentage of request)',
    );
    const table = await kubectl('get', 'hpa', 'side', '--no-headers');
    assert.match(table.out, /^side\s+Deployment\/side\s+cpu: 200%\/100%\s+1\s+3\s+/);
  });
});
