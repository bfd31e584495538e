// Node-pressure eviction on the simulated runtime against a real `k8ts server`: when the node runs
// short of memory (an injected signal that follows what the pods use), the node reports
// MemoryPressure, the node lifecycle controller taints it memory-pressure:NoSchedule, and the pod
// using the most above its request is evicted — Failed, reason Evicted, upstream's message and an
// Evicted event — while a pod within its request and a critical pod keep running. Once memory is
// back the condition and the taint go away.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Event, Node, Pod } from '../../src/api/generated/types.js';
import { createAgent, type Agent } from '../../src/agent/agent.js';
import type { Observations } from '../../src/agent/eviction/thresholds.js';
import { FakeRuntime } from '../../src/agent/fake/runtime.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import { RestClient } from '../../src/client/rest.js';
import { EVENTS, NODES, PODS } from '../../src/client/typed-refs.js';
import { eventually as pollUntil } from '../support/eventually.js';
import { startServer, type TestServer } from '../support/k8ts-server.js';

const NODE = 'pressure-node';
const Mi = 1024 * 1024;
const Gi = 1024 * Mi;
const eventually = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> =>
  pollUntil(what, probe, { timeoutMs: 30_000, intervalMs: 100, retryErrors: true });

let server: TestServer;
let client: RestClient;
let agent: Agent;
const runtime = new FakeRuntime({ startDelayMs: 100 });

/** Memory is short while the hog runs: 50Mi of 8Gi available; 4Gi once it is gone. */
/** Something outside the pods holds memory (the last test): short whatever runs. */
let externalHog = false;

function memorySignal(): Observations {
  const hogRuns = runtime.usage(NODE).some((p) => p.name === 'hog');
  const short = hogRuns || externalHog;
  return { 'memory.available': { available: short ? 50 * Mi : 4 * Gi, capacity: 8 * Gi } };
}

function podSpec(
  name: string,
  namespace: string,
  extra: Partial<Pod['spec']>,
  annotations?: Record<string, string>,
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, annotations },
    spec: { nodeName: NODE, containers: [{ name: 'app', image: 'nginx:1.27' }], ...extra },
  };
}

const condition = (n: Node, type: string): string | undefined =>
  n.status?.conditions?.find((c) => c.type === type)?.status;
const hasTaint = (n: Node, key: string): boolean => (n.spec?.taints ?? []).some((t) => t.key === key);

describe('node-pressure eviction (fake runtime, real server)', { timeout: 120_000 }, () => {
  before(async () => {
    server = await startServer();
    client = new RestClient(loadKubeconfig(server.kubeconfig));
    agent = createAgent({
      client,
      nodeName: NODE,
      runtime,
      heartbeat: { statusUpdateFrequencyMs: 500 },
      eviction: {
        signals: { observe: () => Promise.resolve(memorySignal()) },
        intervalMs: 300,
        // Long enough for the node lifecycle controller's 5 s monitor pass to see the condition.
        pressureTransitionMs: 8000,
      },
    });
    await agent.start();
  });

  after(async () => {
    await agent?.stop();
    client?.close();
    await server?.stop();
  });

  test('no pressure: the node is healthy and untainted', async () => {
    const n = await eventually('node registered', () => client.get<Node>(NODES, undefined, NODE));
    assert.equal(condition(n, 'MemoryPressure'), 'False');
    assert.equal(hasTaint(n, 'node.kubernetes.io/memory-pressure'), false);
  });

  test('the pod using most above its request is evicted; condition and taint while memory is short', async () => {
    await client.create(
      PODS,
      'default',
      podSpec(
        'modest',
        'default',
        { containers: [{ name: 'app', image: 'nginx', resources: { requests: { memory: '1Gi' } } }] },
        { 'fake.k8ts.io/memory-usage': '300Mi' },
      ),
    );
    await client.create(
      PODS,
      'kube-system',
      podSpec(
        'critical',
        'kube-system',
        { priorityClassName: 'system-node-critical' },
        {
          'fake.k8ts.io/memory-usage': '2Gi',
        },
      ),
    );
    for (const [ns, name] of [
      ['default', 'modest'],
      ['kube-system', 'critical'],
    ] as const)
      await eventually(`${name} Running`, async () =>
        (await client.get<Pod>(PODS, ns, name)).status?.phase === 'Running' ? true : undefined,
      );
    let sawPressure = false;
    let sawTaint = false;
    await client.create(
      PODS,
      'default',
      podSpec('hog', 'default', {}, { 'fake.k8ts.io/memory-usage': '200Mi' }),
    );
    const evicted = await eventually('the hog evicted', async () => {
      const n = await client.get<Node>(NODES, undefined, NODE);
      sawPressure ||= condition(n, 'MemoryPressure') === 'True';
      sawTaint ||= hasTaint(n, 'node.kubernetes.io/memory-pressure');
      const p = await client.get<Pod>(PODS, 'default', 'hog');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(evicted.status?.reason, 'Evicted');
    assert.equal(
      evicted.status?.message,
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container app was using 200Mi, request is 0, has larger consumption of memory. ',
    );
    const disruption = evicted.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    assert.equal(disruption?.reason, 'TerminationByKubelet');
    assert.ok(!runtime.usage(NODE).some((p) => p.name === 'hog'), 'the hog no longer runs');

    // The condition and the taint, whether seen while evicting or right after (the transition period holds them).
    const n = await client.get<Node>(NODES, undefined, NODE);
    sawPressure ||= condition(n, 'MemoryPressure') === 'True';
    assert.ok(sawPressure, 'MemoryPressure was True');
    if (!sawTaint)
      await eventually('memory-pressure taint', async () =>
        hasTaint(await client.get<Node>(NODES, undefined, NODE), 'node.kubernetes.io/memory-pressure')
          ? true
          : undefined,
      );
    const mp = (await client.get<Node>(NODES, undefined, NODE)).spec?.taints?.find(
      (t) => t.key === 'node.kubernetes.io/memory-pressure',
    );
    if (mp) assert.equal(mp.effect, 'NoSchedule');

    const events = await eventually('the Evicted event', async () => {
      const list = await client.list<Event>(EVENTS, 'default', { fieldSelector: 'involvedObject.name=hog' });
      const e = list.items.find((x) => x.reason === 'Evicted');
      return e;
    });
    assert.equal(events.type, 'Warning');
    assert.equal(events.message, evicted.status?.message);

    for (const [ns, name] of [
      ['default', 'modest'],
      ['kube-system', 'critical'],
    ] as const)
      assert.equal((await client.get<Pod>(PODS, ns, name)).status?.phase, 'Running', `${name} keeps running`);
  });

  test('memory back: the condition clears after the transition period and the taint goes', async () => {
    const n = await eventually('MemoryPressure False and untainted', async () => {
      const node = await client.get<Node>(NODES, undefined, NODE);
      return condition(node, 'MemoryPressure') === 'False' &&
        !hasTaint(node, 'node.kubernetes.io/memory-pressure')
        ? node
        : undefined;
    });
    assert.equal(
      n.status?.conditions?.find((c) => c.type === 'MemoryPressure')?.reason,
      'KubeletHasSufficientMemory',
    );
    for (const name of ['modest', 'hog']) await client.delete(PODS, 'default', name);
  });

  test('under memory pressure a new BestEffort pod is refused: Failed, Evicted, the node condition', async () => {
    externalHog = true;
    await eventually('MemoryPressure True', async () =>
      condition(await client.get<Node>(NODES, undefined, NODE), 'MemoryPressure') === 'True'
        ? true
        : undefined,
    );
    await client.create(PODS, 'default', podSpec('late', 'default', {}));
    const late = await eventually('late refused', async () => {
      const p = await client.get<Pod>(PODS, 'default', 'late');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(late.status?.reason, 'Evicted');
    assert.equal(late.status?.message, 'The node had condition: [MemoryPressure]. ');
    assert.ok(!runtime.usage(NODE).some((p) => p.name === 'late'), 'it never ran');
    assert.equal(
      (await client.get<Pod>(PODS, 'kube-system', 'critical')).status?.phase,
      'Running',
      'the critical pod still runs under sustained pressure',
    );
    externalHog = false;
    await client.delete(PODS, 'default', 'late');
    await client.delete(PODS, 'kube-system', 'critical');
  });
});
