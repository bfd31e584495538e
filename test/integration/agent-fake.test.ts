// The simulated node agent against a real in-process API server: a thousand nodes register and
// heartbeat, bound pods come up Running and Ready, run-to-completion pods finish, graceful deletion
// ends with the pod gone, and a restarted agent adopts what runs without resetting it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Lease, Node, Pod } from '../../src/api/generated/types.js';
import { builtinResources } from '../../src/api/kinds/index.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { createAgent, startEmbeddedAgent, type Agent, type AgentOptions } from '../../src/agent/agent.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { RestClient } from '../../src/client/rest.js';
import { EVENTS, LEASES, NODES, PODS } from '../../src/client/typed-refs.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';

const NODE_COUNT = 1000;
const PREFIX = 'sim';

let server: ApiServer;
let store: MemoryStore;
let client: RestClient;

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function podOn(
  name: string,
  node: string,
  extra: Partial<Pod['spec']> = {},
  annotations?: Record<string, string>,
): Pod {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: node, containers: [{ name: 'app', image: 'nginx:1.27' }], ...extra },
  };
  if (annotations) pod.metadata.annotations = annotations;
  return pod;
}

function agentOptions(): AgentOptions {
  return {
    client,
    nodes: NODE_COUNT,
    nodePrefix: PREFIX,
    runtime: 'fake',
    fake: { startDelayMs: 200, runDurationMs: 800 },
    heartbeat: { renewIntervalMs: 2000, statusUpdateFrequencyMs: 2000 },
  };
}

const getPod = (name: string): Promise<Pod> => client.get<Pod>(PODS, 'default', name);
const isReady = (p: Pod): boolean =>
  p.status?.phase === 'Running' &&
  p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describe('fake agent against a real API server', { timeout: 180_000 }, () => {
  let agent: Agent;

  before(async () => {
    store = new MemoryStore();
    server = await createApiServer({ store, resources: builtinResources, schemas: builtinSchemas() });
    client = new RestClient({ server: server.url, namespace: 'default' });
    agent = createAgent(agentOptions());
    await agent.start();
  });

  after(async () => {
    await agent.stop();
    client.close();
    await server.close();
    await store.close();
  });

  test('a thousand simulated nodes register, Ready, with leases that get renewed', async () => {
    const nodes = await client.list<Node>(NODES, undefined, {
      labelSelector: 'node.kubernetes.io/instance-type=k8ts-fake',
    });
    assert.equal(nodes.items.length, NODE_COUNT);
    const n7 = nodes.items.find((n) => n.metadata.name === `${PREFIX}-7`)!;
    assert.equal(n7.metadata.labels?.['kubernetes.io/hostname'], `${PREFIX}-7`);
    assert.equal(n7.metadata.labels?.['kubernetes.io/os'], 'linux');
    assert.equal(n7.status?.capacity?.pods, '110');
    assert.deepEqual(
      n7.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
        ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
        ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
        ['Ready', 'True', 'KubeletReady'],
      ],
    );
    assert.equal(n7.status?.nodeInfo?.containerRuntimeVersion, 'fake://k8ts');
    assert.match(n7.status?.nodeInfo?.kubeletVersion ?? '', /^v1\.32\.0\+k8ts-/);
    assert.equal(n7.status?.addresses?.[0]?.type, 'InternalIP');

    const leases = await waitFor('all leases', async () => {
      const l = await client.list<Lease>(LEASES, 'kube-node-lease');
      return l.items.length >= NODE_COUNT ? l : undefined;
    });
    const first = leases.items.find((l) => l.metadata.name === `${PREFIX}-7`)!;
    assert.equal(first.spec?.holderIdentity, `${PREFIX}-7`);
    assert.equal(first.spec?.leaseDurationSeconds, 40);
    assert.equal(first.metadata.ownerReferences?.[0]?.kind, 'Node');
    await waitFor('a lease renewal', async () => {
      const l = await client.get<Lease>(LEASES, 'kube-node-lease', `${PREFIX}-7`);
      return l.spec?.renewTime !== first.spec?.renewTime ? l : undefined;
    });
    // Every lease moves within a renew interval or two.
    const later = await waitFor(
      'every lease renewed',
      async () => {
        const l = await client.list<Lease>(LEASES, 'kube-node-lease');
        const before = new Map(leases.items.map((x) => [x.metadata.name, x.spec?.renewTime]));
        return l.items.every((x) => x.spec?.renewTime !== before.get(x.metadata.name)) ? l : undefined;
      },
      15_000,
      500,
    );
    assert.equal(later.items.length, NODE_COUNT);
  });

  test('bound pods become Running and Ready with a full status', async () => {
    const names: string[] = [];
    for (let i = 0; i < 200; i++) {
      const name = `web-${i}`;
      names.push(name);
      await client.create<Pod>(PODS, 'default', podOn(name, `${PREFIX}-${(i * 37) % NODE_COUNT}`));
    }
    await waitFor('200 pods ready', async () => {
      const list = await client.list<Pod>(PODS, 'default', { labelSelector: '' });
      const ready = list.items.filter((p) => names.includes(p.metadata.name ?? '') && isReady(p));
      return ready.length === names.length ? ready : undefined;
    });
    const p = await getPod('web-1');
    const st = p.status!;
    assert.equal(st.phase, 'Running');
    assert.deepEqual(
      st.conditions?.map((c) => [c.type, c.status]),
      [
        ['PodReadyToStartContainers', 'True'],
        ['Initialized', 'True'],
        ['Ready', 'True'],
        ['ContainersReady', 'True'],
        ['PodScheduled', 'True'],
      ],
    );
    assert.ok(st.conditions?.every((c) => typeof c.lastTransitionTime === 'string'));
    assert.match(st.podIP ?? '', /^10\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+$/);
    assert.equal(st.hostIP, '172.16.0.38'); // node 37
    assert.ok(st.startTime);
    const cs = st.containerStatuses?.[0];
    assert.equal(cs?.name, 'app');
    assert.equal(cs?.ready, true);
    assert.equal(cs?.started, true);
    assert.equal(cs?.restartCount, 0);
    assert.equal(cs?.image, 'docker.io/library/nginx:1.27');
    assert.match(cs?.imageID ?? '', /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    assert.match(cs?.containerID ?? '', /^fake:\/\/[0-9a-f]{64}$/);
    assert.ok(cs?.state?.running?.startedAt);
    // Pod IPs are unique.
    const list = await client.list<Pod>(PODS, 'default');
    const ips = list.items.filter((x) => names.includes(x.metadata.name ?? '')).map((x) => x.status?.podIP);
    assert.equal(new Set(ips).size, ips.length);
  });

  test('a pod bound through pods/binding runs on its node', async () => {
    const unbound = podOn('bound-later', '');
    delete unbound.spec!.nodeName;
    await client.create<Pod>(PODS, 'default', unbound);
    await client.request('POST', '/api/v1/namespaces/default/pods/bound-later/binding', {
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: 'bound-later', namespace: 'default' },
        target: { apiVersion: 'v1', kind: 'Node', name: `${PREFIX}-11` },
      },
    });
    const p = await waitFor('bound-later ready', async () => {
      const x = await getPod('bound-later');
      return isReady(x) ? x : undefined;
    });
    assert.equal(p.spec?.nodeName, `${PREFIX}-11`);
    assert.equal(p.status?.hostIP, '172.16.0.12');
  });

  test('restartPolicy Never pods complete: Succeeded for exit 0, Failed for another code', async () => {
    await client.create<Pod>(PODS, 'default', podOn('job-ok', `${PREFIX}-3`, { restartPolicy: 'Never' }));
    await client.create<Pod>(
      PODS,
      'default',
      podOn('job-bad', `${PREFIX}-4`, { restartPolicy: 'Never' }, { 'fake.k8ts.io/exit-code': '3' }),
    );
    const ok = await waitFor('job-ok to succeed', async () => {
      const p = await getPod('job-ok');
      return p.status?.phase === 'Succeeded' ? p : undefined;
    });
    const term = ok.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(term?.exitCode, 0);
    assert.equal(term?.reason, 'Completed');
    const ready = ok.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'PodCompleted');
    const bad = await waitFor('job-bad to fail', async () => {
      const p = await getPod('job-bad');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(bad.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
    assert.equal(bad.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Error');
  });

  test('a pod past its activeDeadlineSeconds is stopped and fails with DeadlineExceeded', async () => {
    await client.create<Pod>(PODS, 'default', podOn('deadline', `${PREFIX}-8`, { activeDeadlineSeconds: 2 }));
    const failed = await waitFor('deadline to fail', async () => {
      const p = await getPod('deadline');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(failed.status?.reason, 'DeadlineExceeded');
    assert.equal(failed.status?.message, 'Pod was active on the node longer than the specified deadline');
    assert.equal(failed.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
  });

  test('a pod that does not fit on its node is rejected as the kubelet does', async () => {
    const big = podOn('too-big', `${PREFIX}-6`);
    big.spec!.containers[0]!.resources = { requests: { cpu: '64' } };
    await client.create<Pod>(PODS, 'default', big);
    const rejected = await waitFor('too-big rejected', async () => {
      const p = await getPod('too-big');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(rejected.status?.reason, 'OutOfcpu');
    assert.equal(
      rejected.status?.message,
      "Pod was rejected: Node didn't have enough resource: cpu, requested: 64000, used: 0, capacity: 32000",
    );
  });

  test('a graceful delete ends with the pod removed by the agent', async () => {
    await client.create<Pod>(
      PODS,
      'default',
      podOn('doomed', `${PREFIX}-5`, { terminationGracePeriodSeconds: 30 }),
    );
    await waitFor('doomed ready', async () =>
      (await getPod('doomed')) && isReady(await getPod('doomed')) ? true : undefined,
    );
    const t0 = Date.now();
    const res = await client.delete(PODS, 'default', 'doomed');
    assert.ok(res);
    await waitFor('doomed gone', async () => {
      try {
        await getPod('doomed');
        return undefined;
      } catch (err) {
        return (err as { code?: number }).code === 404 ? true : undefined;
      }
    });
    assert.ok(Date.now() - t0 < 10_000, 'removed well before the grace period ran out');
  });

  test('a restarted agent adopts running pods without resetting them', async () => {
    const before = await client.list<Pod>(PODS, 'default');
    const running = before.items.filter((p) => p.metadata.name?.startsWith('web-'));
    assert.equal(running.length, 200);
    await agent.stop();
    agent = createAgent(agentOptions());
    await agent.start();
    // A new pod after the restart gets an address no adopted pod has.
    await client.create<Pod>(PODS, 'default', podOn('after-restart', `${PREFIX}-37`));
    const fresh = await waitFor('after-restart ready', async () => {
      const p = await getPod('after-restart');
      return isReady(p) ? p : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500));
    const now = await client.list<Pod>(PODS, 'default');
    const byName = new Map(now.items.map((p) => [p.metadata.name, p]));
    for (const p of running) {
      const q = byName.get(p.metadata.name)!;
      assert.equal(
        q.metadata.resourceVersion,
        p.metadata.resourceVersion,
        `${p.metadata.name} was rewritten`,
      );
    }
    const sameNode = running.filter((p) => p.spec?.nodeName === `${PREFIX}-37`).map((p) => p.status?.podIP);
    assert.ok(sameNode.length > 0);
    assert.ok(!sameNode.includes(fresh.status?.podIP), 'the new pod reused an adopted pod’s address');
  });
});

describe('embedded agent for the server’s own node', { timeout: 60_000 }, () => {
  test('registers the host as a control-plane node and runs its pods (simulated)', async () => {
    const st = new MemoryStore();
    const srv = await createApiServer({ store: st, resources: builtinResources, schemas: builtinSchemas() });
    const c = new RestClient({ server: srv.url, namespace: 'default' });
    const agent = await startEmbeddedAgent({
      client: c,
      nodeName: 'server-1',
      runtime: 'fake',
      fake: { startDelayMs: 50 },
    });
    try {
      const node = await c.get<Node>(NODES, undefined, 'server-1');
      assert.equal(node.metadata.labels?.['node-role.kubernetes.io/control-plane'], '');
      assert.equal(node.status?.nodeInfo?.containerRuntimeVersion, 'fake://k8ts');
      assert.ok(Number(node.status?.capacity?.cpu) >= 1);
      assert.match(node.status?.capacity?.memory ?? '', /Ki$/);
      await c.create<Pod>(PODS, 'default', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'own', namespace: 'default' },
        spec: { nodeName: 'server-1', containers: [{ name: 'app', image: 'busybox' }] },
      });
      const pod = await waitFor('own pod ready', async () => {
        const p = await c.get<Pod>(PODS, 'default', 'own');
        return p.status?.phase === 'Running' ? p : undefined;
      });
      assert.match(pod.status?.podIP ?? '', /^10\.42\.0\.\d+$/);
      const evs = await waitFor('node events', async () => {
        const l = await c.list(EVENTS, 'default');
        const reasons = l.items
          .filter((e) => (e.involvedObject as { kind?: string }).kind === 'Node')
          .map((e) => e.reason);
        return reasons.includes('NodeReady') ? reasons : undefined;
      });
      assert.ok(evs.includes('Starting'));
      assert.ok(evs.includes('NodeHasSufficientMemory'));
      assert.equal(pod.status?.hostIP, node.status?.addresses?.[0]?.address);
    } finally {
      await agent.stop();
      c.close();
      await srv.close();
      await st.close();
    }
  });
});
