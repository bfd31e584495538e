// The DaemonSet and StatefulSet controllers against a real in-process API server (memory store),
// run by the controller manager over HTTP. The test creates Node objects and plays the kubelet,
// making StatefulSet pods Running and Ready through pods/status.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  ControllerRevision,
  DaemonSet,
  Node,
  PersistentVolumeClaim,
  Pod,
  StatefulSet,
} from '../../src/api/generated/types.js';
import { builtinResources } from '../../src/api/kinds/index.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { RestClient } from '../../src/client/rest.js';
import {
  CONTROLLERREVISIONS,
  DAEMONSETS,
  NODES,
  PERSISTENTVOLUMECLAIMS,
  PODS,
  STATEFULSETS,
} from '../../src/client/typed-refs.js';
import { targetNodeName } from '../../src/controllers/daemonset/index.js';
import { createControllerManager, type ControllerManager } from '../../src/controllers/manager.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';
import { eventually as pollUntil } from '../support/eventually.js';

const NS = 'default';

let store: MemoryStore;
let server: ApiServer;
let client: RestClient;
let manager: ControllerManager;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The shared poll, with this file's default timeout and pace. */
const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 20, retryErrors: true });

async function pods(selector: string): Promise<Pod[]> {
  return (await client.list<Pod>(PODS, NS, { labelSelector: selector })).items.filter(
    (p) => !p.metadata.deletionTimestamp,
  );
}

function node(name: string, taints?: NonNullable<Node['spec']>['taints']): Node {
  const n: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  };
  if (taints) n.spec = { taints };
  return n;
}

/** Plays the kubelet: the pod is Running and Ready. */
async function makeReady(name: string): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (let attempt = 0; ; attempt++) {
    const cur = await client.get<Pod>(PODS, NS, name);
    cur.status = {
      ...(cur.status ?? {}),
      phase: 'Running',
      startTime: now,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
      containerStatuses: [
        {
          name: 'nginx',
          image: 'nginx',
          imageID: '',
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt: now } },
        },
      ],
    };
    try {
      await client.update<Pod>(PODS, cur, 'status');
      return;
    } catch (err) {
      if (attempt > 5) throw err;
    }
  }
}

describe('DaemonSet and StatefulSet controllers against a real API server', { timeout: 120_000 }, () => {
  before(async () => {
    store = new MemoryStore();
    server = await createApiServer({ store, resources: builtinResources, schemas: builtinSchemas() });
    client = new RestClient({ server: server.url, namespace: NS });
    manager = createControllerManager({ client, enable: ['daemonset', 'statefulset'] });
    await manager.start();
    assert.equal(await manager.whenRunning(), true);
  });

  after(async () => {
    await manager.stop();
    client.close();
    await server.close();
    await store.close();
  });

  test('the seeds daemonset-example: a pod on each of 3 nodes, none on a tainted node, one on a new node', async () => {
    for (const n of ['node1', 'node2', 'node3']) await client.create<Node>(NODES, undefined, node(n));
    await client.create<Node>(
      NODES,
      undefined,
      node('db-only', [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]),
    );
    await client.create<DaemonSet>(DAEMONSETS, NS, {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'deamonset-example', labels: { app: 'daemonset' } },
      spec: {
        selector: { matchLabels: { name: 'deamonset-example' } },
        template: {
          metadata: { labels: { name: 'deamonset-example' } },
          spec: { containers: [{ name: 'daemonset-example', image: 'wangyanglinux/myapp:v1' }] },
        },
      },
    });
    const sel = 'name=deamonset-example';
    const three = await eventually('three daemon pods', async () => {
      const ps = await pods(sel);
      return ps.length === 3 ? ps : undefined;
    });
    assert.deepEqual(three.map((p) => targetNodeName(p.spec)).sort(), ['node1', 'node2', 'node3']);
    const p = three[0]!;
    assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'DaemonSet');
    assert.ok(p.metadata.labels?.['controller-revision-hash']);
    assert.ok(
      (p.spec?.tolerations ?? []).some(
        (t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute',
      ),
    );
    const revs = await client.list<ControllerRevision>(CONTROLLERREVISIONS, NS);
    assert.ok(
      revs.items.some(
        (r) => r.metadata.name === `deamonset-example-${p.metadata.labels?.['controller-revision-hash']}`,
      ),
    );
    const ds = await eventually('status', async () => {
      const d = await client.get<DaemonSet>(DAEMONSETS, NS, 'deamonset-example');
      return d.status?.currentNumberScheduled === 3 ? d : undefined;
    });
    assert.equal(ds.status?.desiredNumberScheduled, 3);
    assert.equal(ds.status?.numberMisscheduled, 0);
    assert.equal(ds.status?.updatedNumberScheduled, 3);
    assert.equal(ds.status?.observedGeneration, 1);

    await client.create<Node>(NODES, undefined, node('node4'));
    const four = await eventually('a pod on the new node', async () => {
      const ps = await pods(sel);
      return ps.some((x) => targetNodeName(x.spec) === 'node4') ? ps : undefined;
    });
    assert.equal(four.length, 4);

    await client.delete(NODES, undefined, 'node2');
    await eventually('the removed node loses its pod', async () => {
      const ps = await pods(sel);
      return ps.length === 3 && !ps.some((x) => targetNodeName(x.spec) === 'node2') ? ps : undefined;
    });
  });

  test('a StatefulSet of 3 starts in order and scales down in reverse order', async () => {
    await client.create<StatefulSet>(STATEFULSETS, NS, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        serviceName: 'nginx',
        selector: { matchLabels: { app: 'nginx' } },
        template: {
          metadata: { labels: { app: 'nginx' } },
          spec: {
            containers: [
              {
                name: 'nginx',
                image: 'nginx:1.27',
                volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { name: 'www' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      },
    });
    const names = async (): Promise<string[]> =>
      (await pods('app=nginx')).map((p) => p.metadata.name ?? '').sort();
    for (let i = 0; i < 3; i++) {
      const want = Array.from({ length: i + 1 }, (_, k) => `web-${k}`);
      await eventually(`web-${i}`, async () => ((await names()).join() === want.join() ? true : undefined));
      // The next ordinal is not created while this one is not Ready.
      await sleep(150);
      assert.deepEqual(await names(), want);
      const pod = await client.get<Pod>(PODS, NS, `web-${i}`);
      assert.equal(pod.spec?.hostname, `web-${i}`);
      assert.equal(pod.spec?.subdomain, 'nginx');
      assert.equal(pod.metadata.labels?.['statefulset.kubernetes.io/pod-name'], `web-${i}`);
      assert.equal(pod.metadata.labels?.['apps.kubernetes.io/pod-index'], String(i));
      assert.equal(
        pod.spec?.volumes?.find((v) => v.name === 'www')?.persistentVolumeClaim?.claimName,
        `www-web-${i}`,
      );
      await makeReady(`web-${i}`);
    }
    const set = await eventually('3 ready replicas', async () => {
      const s = await client.get<StatefulSet>(STATEFULSETS, NS, 'web');
      return s.status?.readyReplicas === 3 ? s : undefined;
    });
    assert.equal(set.status?.replicas, 3);
    assert.equal(set.status?.currentReplicas, 3);
    assert.equal(set.status?.updatedReplicas, 3);
    assert.ok(set.status?.currentRevision && set.status.currentRevision === set.status.updateRevision);
    const claims = (await client.list<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, NS)).items
      .map((c) => c.metadata.name)
      .sort();
    assert.deepEqual(claims, ['www-web-0', 'www-web-1', 'www-web-2']);

    await client.patch(STATEFULSETS, NS, 'web', 'merge', { spec: { replicas: 1 } });
    const order: string[] = [];
    await eventually('scaled down to 1', async () => {
      const now = await names();
      for (const n of ['web-2', 'web-1']) if (!now.includes(n) && !order.includes(n)) order.push(n);
      // web-1 never goes while web-2 is still there.
      assert.ok(!(now.includes('web-2') && !now.includes('web-1')));
      return now.join() === 'web-0' ? true : undefined;
    });
    assert.deepEqual(order, ['web-2', 'web-1']);
    // The claims stay (Retain).
    const left = (await client.list<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, NS)).items.length;
    assert.equal(left, 3);
  });
});
