// The kubelet's NodeNotSchedulable / NodeSchedulable events: the agent reads its Node before each
// status update and records the change of spec.unschedulable that `kubectl cordon` / `uncordon`
// made, as upstream's kubelet does (they show in `kubectl describe node` and `kubectl get events`).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Event, Node } from '../../src/api/generated/types.js';
import { builtinResources } from '../../src/api/kinds/index.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { NodeManager } from '../../src/agent/node-manager.js';
import { fakeNodeConfig } from '../../src/agent/node-status.js';
import { EventBroadcaster } from '../../src/client/events.js';
import { RestClient } from '../../src/client/rest.js';
import { EVENTS, NODES } from '../../src/client/typed-refs.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';
import { eventually } from '../support/eventually.js';

let server: ApiServer;
let store: MemoryStore;
let client: RestClient;
let events: EventBroadcaster;
let nodes: NodeManager;

before(async () => {
  store = new MemoryStore();
  server = await createApiServer({ store, resources: builtinResources, schemas: builtinSchemas() });
  client = new RestClient({ server: server.url, namespace: 'default' });
  events = new EventBroadcaster(client);
  nodes = new NodeManager({
    client,
    nodes: [fakeNodeConfig('k1', '192.0.2.9', '10.99.0.0/24')],
    recorder: events.newRecorder({ component: 'kubelet', host: 'k1' }),
    heartbeat: { statusUpdateFrequencyMs: 100 },
  });
  await nodes.start();
});

after(async () => {
  await nodes.stop();
  await events.shutdown();
  client.close();
  await server.close();
  await store.close();
});

const reasons = async (): Promise<string[]> =>
  (await client.list<Event>(EVENTS, 'default')).items
    .filter((e) => e.involvedObject.name === 'k1' && /Schedulable/.test(e.reason ?? ''))
    .map((e) => `${e.reason} ${e.source?.component}: ${e.message}`);

test('cordon records NodeNotSchedulable, uncordon NodeSchedulable, once each', async () => {
  const opts = { timeoutMs: 5_000, intervalMs: 50 };
  await client.patch<Node>(NODES, undefined, 'k1', 'merge', { spec: { unschedulable: true } });
  await eventually(
    'NodeNotSchedulable',
    async () => ((await reasons()).length === 1 ? true : undefined),
    opts,
  );
  await client.patch<Node>(NODES, undefined, 'k1', 'merge', { spec: { unschedulable: null } });
  await eventually('NodeSchedulable', async () => ((await reasons()).length === 2 ? true : undefined), opts);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual((await reasons()).sort(), [
    'NodeNotSchedulable kubelet: Node k1 status is now: NodeNotSchedulable',
    'NodeSchedulable kubelet: Node k1 status is now: NodeSchedulable',
  ]);
});
