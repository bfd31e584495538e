// `kubectl cordon` as the node lifecycle controller sees it: the node.kubernetes.io/unschedulable
// NoSchedule taint follows spec.unschedulable on the node's update (upstream's NoSchedule tainting
// pass runs from the node update queue), not at the next node monitor period.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Node } from '../../src/api/generated/types.js';
import type { RestClient } from '../../src/client/rest.js';
import { NODES } from '../../src/client/typed-refs.js';
import { nodeLifecycleControllerDescriptor } from '../../src/controllers/node-lifecycle/index.js';
import { startControllerHarness, type ControllerHarness } from '../support/controller-harness.js';
import { eventually } from '../support/eventually.js';

let harness: ControllerHarness;
let client: RestClient;

before(async () => {
  harness = await startControllerHarness({
    enable: ['node-lifecycle-controller'],
    // A monitor period far beyond the test: only the reaction to the node's update can taint it.
    controllers: [nodeLifecycleControllerDescriptor({ nodeMonitorPeriodMs: 600_000 })],
  });
  client = harness.client;
});

after(() => harness.stop());

const taints = async (name: string): Promise<string[]> =>
  ((await client.get<Node>(NODES, undefined, name)).spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);

test('cordon adds node.kubernetes.io/unschedulable:NoSchedule at once; uncordon removes it', async () => {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await client.create<Node>(NODES, undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'c1' },
    spec: { taints: [{ key: 'example.com/mine', value: 'x', effect: 'NoSchedule' }] },
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now }],
    },
  });
  await client.patch<Node>(NODES, undefined, 'c1', 'merge', { spec: { unschedulable: true } });
  const opts = { timeoutMs: 3_000, intervalMs: 25 };
  await eventually(
    'unschedulable taint',
    async () =>
      (await taints('c1')).includes('node.kubernetes.io/unschedulable:NoSchedule') ? true : undefined,
    opts,
  );
  assert.deepEqual(await taints('c1'), [
    'example.com/mine:NoSchedule',
    'node.kubernetes.io/unschedulable:NoSchedule',
  ]);
  await client.patch<Node>(NODES, undefined, 'c1', 'merge', { spec: { unschedulable: null } });
  await eventually(
    'unschedulable taint removed',
    async () => ((await taints('c1')).length === 1 ? true : undefined),
    opts,
  );
  assert.deepEqual(await taints('c1'), ['example.com/mine:NoSchedule']);
});

test('a node whose only taint was the unschedulable one has no taints field after uncordon', async () => {
  await client.create<Node>(NODES, undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'c2' },
    spec: { unschedulable: true },
  });
  const opts = { timeoutMs: 3_000, intervalMs: 25 };
  await eventually(
    'unschedulable taint',
    async () => ((await taints('c2')).length === 1 ? true : undefined),
    opts,
  );
  await client.patch<Node>(NODES, undefined, 'c2', 'merge', { spec: { unschedulable: null } });
  await eventually('taint removed', async () => ((await taints('c2')).length === 0 ? true : undefined), opts);
  assert.equal((await client.get<Node>(NODES, undefined, 'c2')).spec?.taints, undefined);
});
