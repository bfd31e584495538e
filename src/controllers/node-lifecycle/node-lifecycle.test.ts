import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Lease, Node, Pod, Taint, Toleration } from '../../api/generated/types.js';
import { LEASES, NODES, PODS } from '../../client/typed-refs.js';
import type { SharedInformer } from '../../client/informer.js';
import { createLogger } from '../../util/log.js';
import { FakeClock, formatTime } from '../common/clock.js';
import { FakeRecorder, fakeInformer, put, readyPod, remove } from '../testing.js';
import {
  NODE_LEASE_NAMESPACE,
  NodeLifecycleController,
  minTolerationMs,
  type NodeLifecycleClient,
} from './node-lifecycle.js';

class FakeClient implements NodeLifecycleClient {
  readonly actions: string[] = [];
  constructor(
    private readonly nodes: SharedInformer<Node>,
    private readonly pods: SharedInformer<Pod>,
  ) {}
  async updateNodeStatus(node: Node): Promise<Node> {
    await Promise.resolve();
    this.actions.push(`status node ${node.metadata.name}`);
    return put(this.nodes, node);
  }
  async setNodeTaints(name: string, _rv: string | undefined, taints: Taint[]): Promise<Node> {
    await Promise.resolve();
    this.actions.push(`taints ${name} ${taints.map((t) => `${t.key}:${t.effect}`).join(',')}`);
    const cur = structuredClone(this.nodes.get(undefined, name)!);
    cur.spec = { ...(cur.spec ?? {}), taints };
    return put(this.nodes, cur);
  }
  async updatePodStatus(pod: Pod): Promise<Pod> {
    await Promise.resolve();
    this.actions.push(`status pod ${pod.metadata.name}`);
    return put(this.pods, pod);
  }
  async deletePod(namespace: string, name: string): Promise<void> {
    await Promise.resolve();
    this.actions.push(`delete pod ${namespace}/${name}`);
    const cur = this.pods.get(namespace, name);
    if (cur) remove(this.pods, cur);
  }
}

function setup(gracePeriodMs = 40_000) {
  const clock = new FakeClock();
  const nodes = fakeInformer<Node>(NODES);
  const pods = fakeInformer<Pod>(PODS);
  const leases = fakeInformer<Lease>(LEASES);
  const client = new FakeClient(nodes, pods);
  const recorder = new FakeRecorder();
  const controller = new NodeLifecycleController({
    client,
    nodes: nodes.getLister(),
    pods: pods.getLister(),
    leases: leases.getLister(),
    recorder,
    log: createLogger('test'),
    clock,
    nodeMonitorGracePeriodMs: gracePeriodMs,
  });
  const lease = (name: string, renewMs: number): Lease =>
    put(leases, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: NODE_LEASE_NAMESPACE },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(renewMs).toISOString() },
    });
  const node = (name: string, ready: string, heartbeatMs: number, taints?: Taint[]): Node =>
    put(
      nodes,
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, creationTimestamp: formatTime(heartbeatMs) },
        spec: taints ? { taints } : {},
        status: {
          conditions: [
            {
              type: 'Ready',
              status: ready,
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status',
              lastHeartbeatTime: formatTime(heartbeatMs),
              lastTransitionTime: formatTime(heartbeatMs),
            },
            { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: formatTime(heartbeatMs) },
          ],
        },
      },
      clock,
    );
  const pod = (name: string, nodeName: string, tolerations?: Toleration[]): Pod =>
    put(
      pods,
      readyPod(
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'default' },
          spec: { containers: [{ name: 'c', image: 'i' }], tolerations },
        },
        clock.now(),
        { node: nodeName },
      ),
    );
  return { clock, nodes, pods, leases, client, recorder, controller, lease, node, pod };
}

const defaultTolerations: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

describe('node health', () => {
  test('a node whose Lease is older than the grace period becomes Unknown and unreachable-tainted', async () => {
    const s = setup();
    const now = s.clock.now();
    s.node('n1', 'True', now - 3_600_000);
    s.lease('n1', now - 3_600_000);
    await s.controller.monitorNodeHealth();
    const n = s.nodes.get(undefined, 'n1')!;
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, 'NodeStatusUnknown');
    assert.equal(ready?.message, 'Kubelet stopped posting node status.');
    const mem = n.status?.conditions?.find((c) => c.type === 'MemoryPressure');
    assert.equal(mem?.status, 'Unknown');
    for (const type of ['DiskPressure', 'PIDPressure']) {
      const c = n.status?.conditions?.find((x) => x.type === type);
      assert.equal(c?.status, 'Unknown');
      assert.equal(c?.reason, 'NodeStatusNeverUpdated');
      assert.equal(c?.message, 'Kubelet never posted node status.');
    }
    assert.deepEqual((n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort(), [
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
    assert.ok(n.spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded);
    assert.deepEqual(s.recorder.messages('NodeNotReady'), ['Node n1 status is now: NodeNotReady']);
  });

  test('a node seen for the first time is RegisteredNode, once; a deleted one RemovingNode', async () => {
    const s = setup();
    const now = s.clock.now();
    s.node('n1', 'True', now);
    s.lease('n1', now);
    await s.controller.monitorNodeHealth();
    await s.controller.monitorNodeHealth();
    s.node('n2', 'True', now);
    await s.controller.monitorNodeHealth();
    assert.deepEqual(s.recorder.messages('RegisteredNode'), [
      'Node n1 event: Registered Node n1 in Controller',
      'Node n2 event: Registered Node n2 in Controller',
    ]);
    assert.deepEqual(
      s.recorder.events.filter((e) => e.reason === 'RegisteredNode').map((e) => `${e.type} ${e.object}`),
      ['Normal n1', 'Normal n2'],
    );
    remove(s.nodes, s.nodes.get(undefined, 'n1')!);
    await s.controller.monitorNodeHealth();
    assert.deepEqual(s.recorder.messages('RemovingNode'), [
      'Node n1 event: Removing Node n1 from Controller',
    ]);
  });

  test('a renewed Lease keeps the node as it is; it becomes Unknown only after the grace period', async () => {
    const s = setup();
    const now = s.clock.now();
    s.node('n1', 'True', now - 60_000);
    s.lease('n1', now - 1_000);
    await s.controller.monitorNodeHealth();
    assert.deepEqual(s.client.actions, []);
    s.clock.advance(30_000);
    s.lease('n1', s.clock.now());
    await s.controller.monitorNodeHealth();
    s.clock.advance(30_000);
    await s.controller.monitorNodeHealth();
    assert.deepEqual(s.client.actions, []);
    s.clock.advance(11_000);
    await s.controller.monitorNodeHealth();
    assert.equal(s.client.actions[0], 'status node n1');
  });

  test('Ready=False gets the not-ready taints, recovery removes them and keeps foreign taints', async () => {
    const s = setup();
    const now = s.clock.now();
    s.lease('n1', now);
    s.node('n1', 'False', now, [{ key: 'example.com/mine', effect: 'NoSchedule' }]);
    await s.controller.monitorNodeHealth();
    assert.deepEqual(
      (s.nodes.get(undefined, 'n1')!.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`),
      [
        'example.com/mine:NoSchedule',
        'node.kubernetes.io/not-ready:NoExecute',
        'node.kubernetes.io/not-ready:NoSchedule',
      ],
    );
    const recovered = structuredClone(s.nodes.get(undefined, 'n1')!);
    recovered.status!.conditions![0]!.status = 'True';
    put(s.nodes, recovered);
    await s.controller.monitorNodeHealth();
    assert.deepEqual(
      (s.nodes.get(undefined, 'n1')!.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`),
      ['example.com/mine:NoSchedule'],
    );
  });

  test('an Unknown node that renews its Lease and posts Ready again loses the unreachable taints', async () => {
    const s = setup();
    const now = s.clock.now();
    s.node('n1', 'True', now - 3_600_000);
    s.lease('n1', now - 3_600_000);
    await s.controller.monitorNodeHealth();
    s.clock.advance(5_000);
    s.lease('n1', s.clock.now());
    const back = structuredClone(s.nodes.get(undefined, 'n1')!);
    const ready = back.status!.conditions!.find((c) => c.type === 'Ready')!;
    ready.status = 'True';
    ready.lastHeartbeatTime = formatTime(s.clock.now());
    put(s.nodes, back);
    await s.controller.monitorNodeHealth();
    assert.deepEqual(s.nodes.get(undefined, 'n1')!.spec?.taints, []);
  });

  test('pods on an unreachable node are marked not ready', async () => {
    const s = setup();
    const now = s.clock.now();
    s.node('n1', 'True', now - 3_600_000);
    s.lease('n1', now - 3_600_000);
    s.pod('p1', 'n1', defaultTolerations);
    s.pod('other', 'n2', defaultTolerations);
    await s.controller.monitorNodeHealth();
    const ready = (name: string) =>
      s.pods.get('default', name)!.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    assert.equal(ready('p1'), 'False');
    assert.equal(ready('other'), 'True');
    assert.deepEqual(s.recorder.messages('NodeNotReady').sort(), [
      'Node is not ready',
      'Node n1 status is now: NodeNotReady',
    ]);
  });
});

describe('taint eviction', () => {
  const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };

  test('minTolerationMs', () => {
    assert.equal(minTolerationMs([], [unreachable]), undefined);
    assert.equal(minTolerationMs(defaultTolerations, [unreachable]), 300_000);
    assert.equal(minTolerationMs([{ operator: 'Exists' }], [unreachable]), Infinity);
    assert.equal(
      minTolerationMs([{ operator: 'Exists', tolerationSeconds: -5 }, ...defaultTolerations], [unreachable]),
      0,
    );
  });

  test('an untolerated pod is deleted at once, a tolerating one after tolerationSeconds, a forever-tolerating one never', async () => {
    const s = setup();
    const now = s.clock.now();
    s.lease('n1', now);
    s.node('n1', 'True', now, [unreachable]);
    s.pod('bare', 'n1');
    s.pod('tolerant', 'n1', defaultTolerations);
    s.pod('forever', 'n1', [{ key: unreachable.key, operator: 'Exists', effect: 'NoExecute' }]);
    s.pod('elsewhere', 'n2');
    await s.controller.processEvictions();
    assert.deepEqual(s.client.actions, ['delete pod default/bare']);
    assert.deepEqual(s.recorder.messages('TaintManagerEviction'), ['Marking for deletion Pod default/bare']);
    s.clock.advance(299_000);
    await s.controller.processEvictions();
    assert.equal(s.client.actions.length, 1);
    assert.equal(s.controller.nextEvictionAt(), now + 300_000);
    s.clock.advance(1_000);
    await s.controller.processEvictions();
    assert.deepEqual(s.client.actions, ['delete pod default/bare', 'delete pod default/tolerant']);
    s.clock.advance(3_600_000);
    await s.controller.processEvictions();
    assert.equal(s.client.actions.length, 2);
  });

  test('removing the taint cancels a scheduled eviction', async () => {
    const s = setup();
    const now = s.clock.now();
    s.lease('n1', now);
    s.node('n1', 'True', now, [unreachable]);
    s.pod('tolerant', 'n1', defaultTolerations);
    await s.controller.processEvictions();
    assert.equal(s.controller.nextEvictionAt(), now + 300_000);
    s.node('n1', 'True', now, []);
    await s.controller.processEvictions();
    assert.equal(s.controller.nextEvictionAt(), undefined);
    assert.deepEqual(s.recorder.messages('TaintManagerEviction'), [
      'Cancelling deletion of Pod default/tolerant',
    ]);
    s.clock.advance(600_000);
    await s.controller.processEvictions();
    assert.deepEqual(s.client.actions, []);
  });
});
