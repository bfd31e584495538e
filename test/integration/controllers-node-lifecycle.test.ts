// The node lifecycle controller against a real in-process API server (memory store), run by the
// controller manager: a Node whose Lease in kube-node-lease is old becomes Unknown and tainted
// unreachable, its pod is marked not ready and evicted after its tolerationSeconds, and the taints
// go away once the node renews its Lease and posts Ready again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Lease, Node, Pod } from '../../src/api/generated/types.js';
import { StatusError } from '../../src/api/errors.js';
import { builtinResources } from '../../src/api/kinds/index.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { RestClient } from '../../src/client/rest.js';
import { EVENTS, LEASES, NAMESPACES, NODES, PODS } from '../../src/client/typed-refs.js';
import { createControllerManager, type ControllerManager } from '../../src/controllers/manager.js';
import { nodeLifecycleControllerDescriptor } from '../../src/controllers/node-lifecycle/index.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';
import { eventually as pollUntil } from '../support/eventually.js';

const NS = 'nlc';

/** The shared poll, with this file's default timeout and pace. */
const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 25, retryErrors: true });

let server: ApiServer;
let store: MemoryStore;
let client: RestClient;
let manager: ControllerManager;

async function ensureNamespace(name: string): Promise<void> {
  try {
    await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  } catch (err) {
    if (!(err instanceof StatusError && err.code === 409)) throw err;
  }
}

async function lease(name: string, renewMs: number): Promise<void> {
  const body: Lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(renewMs).toISOString() },
  };
  try {
    const cur = await client.get<Lease>(LEASES, 'kube-node-lease', name);
    await client.update<Lease>(LEASES, { ...body, metadata: cur.metadata });
  } catch (err) {
    if (!(err instanceof StatusError && err.code === 404)) throw err;
    await client.create<Lease>(LEASES, 'kube-node-lease', body);
  }
}

function taintsOf(n: Node): string[] {
  return (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();
}

before(async () => {
  store = new MemoryStore();
  server = await createApiServer({ store, resources: builtinResources, schemas: builtinSchemas() });
  client = new RestClient({ server: server.url, namespace: NS });
  await ensureNamespace('kube-node-lease');
  await ensureNamespace(NS);
  manager = createControllerManager({
    client,
    enable: ['node-lifecycle-controller'],
    controllers: [
      nodeLifecycleControllerDescriptor({ nodeMonitorGracePeriodMs: 1_000, nodeMonitorPeriodMs: 200 }),
    ],
  });
  await manager.start();
  assert.equal(await manager.whenRunning(), true);
});

after(async () => {
  await manager.stop();
  client.close();
  await server.close();
  await store.close();
});

describe('node lifecycle controller against a real API server', { timeout: 60_000 }, () => {
  test('a node with an old Lease becomes Unknown and unreachable-tainted; its pod is marked not ready and evicted', async () => {
    const old = Date.now() - 3_600_000;
    await lease('n1', old);
    const created = await client.create<Node>(NODES, undefined, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
      spec: {},
    });
    const stamp = new Date(old).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await client.update<Node>(
      NODES,
      {
        ...created,
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status',
              lastHeartbeatTime: stamp,
              lastTransitionTime: stamp,
            },
          ],
        },
      },
      'status',
    );
    const pod = await client.create<Pod>(PODS, NS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        nodeName: 'n1',
        containers: [{ name: 'c', image: 'nginx' }],
        tolerations: [
          {
            key: 'node.kubernetes.io/unreachable',
            operator: 'Exists',
            effect: 'NoExecute',
            tolerationSeconds: 2,
          },
        ],
      },
    });
    await client.update<Pod>(
      PODS,
      {
        ...pod,
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: stamp }],
        },
      },
      'status',
    );

    const unknown = await eventually('node n1 Unknown and tainted', async () => {
      const n = await client.get<Node>(NODES, undefined, 'n1');
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'Unknown' && taintsOf(n).length === 2 ? n : undefined;
    });
    const ready = unknown.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.reason, 'NodeStatusUnknown');
    assert.equal(ready?.message, 'Kubelet stopped posting node status.');
    assert.deepEqual(taintsOf(unknown), [
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);

    // Marked not ready while it is tolerated (2 s), then deleted.
    await eventually('pod web not ready', async () => {
      const p = await client.get<Pod>(PODS, NS, 'web');
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False' ? p : undefined;
    });
    const taintedAt = Date.now();
    await eventually('pod web evicted', async () => {
      try {
        const p = await client.get<Pod>(PODS, NS, 'web');
        return p.metadata.deletionTimestamp ? true : undefined;
      } catch (err) {
        if (err instanceof StatusError && err.code === 404) return true;
        throw err;
      }
    });
    assert.ok(Date.now() - taintedAt >= 500, 'evicted only after its tolerationSeconds');
    await eventually('TaintManagerEviction event', async () => {
      const events = await client.list(EVENTS, NS);
      return events.items.some(
        (e) =>
          (e as unknown as { reason?: string; message?: string }).reason === 'TaintManagerEviction' &&
          (e as unknown as { message?: string }).message === `Marking for deletion Pod ${NS}/web`,
      )
        ? true
        : undefined;
    });
  });

  test('a node that renews its Lease and posts Ready again loses the taints', async () => {
    await lease('n1', Date.now());
    const n = await client.get<Node>(NODES, undefined, 'n1');
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const conditions = (n.status?.conditions ?? []).map((c) =>
      c.type === 'Ready'
        ? { ...c, status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now }
        : { ...c, status: 'False', lastHeartbeatTime: now },
    );
    await client.update<Node>(NODES, { ...n, status: { ...n.status, conditions } }, 'status');
    await eventually('taints removed', async () => {
      const cur = await client.get<Node>(NODES, undefined, 'n1');
      return taintsOf(cur).length === 0 ? true : undefined;
    });
  });
});
