import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../api/generated/types.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import type { PermitPlugin } from './framework/interfaces.js';
import type { Framework } from './framework/runtime.js';
import { Code, Status } from './framework/status.js';
import { FakeSchedulerClient } from './testing/fake-client.js';
import { makeNode, makePod } from './testing/builders.js';

const CONTROL_PLANE_TAINT = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

function setup(): { client: FakeSchedulerClient; s: Scheduler; advance: (ms: number) => void } {
  const client = new FakeSchedulerClient();
  let t = Date.now();
  const s = createScheduler({ client, identity: 'test', now: () => t });
  return { client, s, advance: (ms) => (t += ms) };
}

/** Runs the loop by hand until nothing is left to do. */
async function settle(s: Scheduler): Promise<void> {
  for (let i = 0; i < 20; i++) {
    let did = false;
    while (s.scheduleNext()) did = true;
    await s.bindingsSettled();
    await new Promise((r) => setImmediate(r));
    if (!did && s.queue.stats().active === 0) break;
  }
}

function nodeOf(client: FakeSchedulerClient, name: string): string | undefined {
  return client.get('pods', 'default', name)?.spec?.nodeName;
}

function lastFailure(client: FakeSchedulerClient, name: string): string | undefined {
  return client.eventsFor(name, 'FailedScheduling').at(-1)?.message;
}

function condition(
  client: FakeSchedulerClient,
  name: string,
): NonNullable<NonNullable<Pod['status']>['conditions']>[number] | undefined {
  return client.get('pods', 'default', name)?.status?.conditions?.find((c) => c.type === 'PodScheduled');
}

describe('scheduler', () => {
  it('places pods until cpu runs out, then places the waiting pod when a pod is deleted', async () => {
    const { client, s, advance } = setup();
    client.add('nodes', makeNode('n1', { cpu: '2' }));
    client.add('nodes', makeNode('n2', { cpu: '2' }));
    for (let i = 0; i < 5; i++) client.add('pods', makePod(`p${i}`, { cpu: '1' }));
    await settle(s);
    const placed = [0, 1, 2, 3, 4].filter((i) => nodeOf(client, `p${i}`));
    assert.equal(placed.length, 4);
    const waiting = [0, 1, 2, 3, 4].find((i) => !nodeOf(client, `p${i}`))!;
    assert.equal(
      lastFailure(client, `p${waiting}`),
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    );
    const cond = condition(client, `p${waiting}`);
    assert.equal(cond?.status, 'False');
    assert.equal(cond?.reason, 'Unschedulable');
    assert.equal(s.queue.where(client.get('pods', 'default', `p${waiting}`)!), 'unschedulable');
    // Free a slot: the deletion of an assigned pod moves the waiting pod back (after its back-off).
    client.remove('pods', 'default', `p${placed[0]!}`);
    const where = s.queue.where(client.get('pods', 'default', `p${waiting}`)!);
    assert.ok(where === 'backoff' || where === 'active', `queue: ${String(where)}`);
    advance(1100);
    s.queue.flushBackoffCompleted();
    await settle(s);
    assert.ok(nodeOf(client, `p${waiting}`));
    await s.stop();
  });

  it('keeps pods off tainted nodes unless tolerated, with upstream’s message', async () => {
    const { client, s } = setup();
    client.add('nodes', makeNode('cp', { taints: [CONTROL_PLANE_TAINT] }));
    client.add('nodes', makeNode('w1'));
    client.add('pods', makePod('a'));
    client.add('pods', makePod('b', { nodeSelector: { 'kubernetes.io/hostname': 'cp' } }));
    client.add(
      'pods',
      makePod('c', {
        nodeSelector: { 'kubernetes.io/hostname': 'cp' },
        tolerations: [
          { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
        ],
      }),
    );
    await settle(s);
    assert.equal(nodeOf(client, 'a'), 'w1');
    assert.equal(nodeOf(client, 'b'), undefined);
    assert.equal(
      lastFailure(client, 'b'),
      "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
    assert.equal(nodeOf(client, 'c'), 'cp');
    await s.stop();
  });

  it('skips cordoned nodes and schedules once the node is uncordoned', async () => {
    const { client, s, advance } = setup();
    const node = client.add('nodes', makeNode('n1', { unschedulable: true }));
    client.add('pods', makePod('p'));
    await settle(s);
    assert.equal(nodeOf(client, 'p'), undefined);
    assert.match(
      lastFailure(client, 'p') ?? '',
      /^0\/1 nodes are available: 1 node\(s\) were unschedulable\./,
    );
    client.update('nodes', { ...node, spec: { ...node.spec, unschedulable: false } });
    advance(1100);
    s.queue.flushBackoffCompleted();
    await settle(s);
    assert.equal(nodeOf(client, 'p'), 'n1');
    await s.stop();
  });

  it('honours required node affinity and requeues on a label change', async () => {
    const { client, s, advance } = setup();
    client.add('nodes', makeNode('a1', { labels: { zone: 'a' } }));
    const b1 = client.add('nodes', makeNode('b1', { labels: { zone: 'b' } }));
    const affinity = (zone: string): Pod['spec'] => ({
      containers: [],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: [zone] }] }],
          },
        },
      },
    });
    client.add('pods', makePod('pa', { affinity: affinity('a')!.affinity }));
    client.add('pods', makePod('pc', { affinity: affinity('c')!.affinity }));
    await settle(s);
    assert.equal(nodeOf(client, 'pa'), 'a1');
    assert.equal(
      lastFailure(client, 'pc'),
      "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
    client.update('nodes', {
      ...b1,
      metadata: { ...b1.metadata, labels: { ...b1.metadata.labels, zone: 'c' } },
    });
    advance(1100);
    s.queue.flushBackoffCompleted();
    await settle(s);
    assert.equal(nodeOf(client, 'pc'), 'b1');
    await s.stop();
  });

  it('spreads 3 replicas with required anti-affinity over 3 nodes; a 4th does not fit', async () => {
    const { client, s } = setup();
    for (const n of ['n1', 'n2', 'n3']) client.add('nodes', makeNode(n));
    const anti = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' },
        ],
      },
    };
    for (let i = 0; i < 4; i++)
      client.add('pods', makePod(`web-${i}`, { labels: { app: 'web' }, affinity: anti }));
    await settle(s);
    const nodes = [0, 1, 2, 3].map((i) => nodeOf(client, `web-${i}`)).filter(Boolean);
    assert.equal(nodes.length, 3);
    assert.equal(new Set(nodes).size, 3);
    const left = [0, 1, 2, 3].find((i) => !nodeOf(client, `web-${i}`))!;
    assert.equal(
      lastFailure(client, `web-${left}`),
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    );
    await s.stop();
  });

  it('spreads pods evenly across zones with a DoNotSchedule topology spread constraint', async () => {
    const { client, s } = setup();
    client.add('nodes', makeNode('a1', { labels: { 'topology.kubernetes.io/zone': 'a' } }));
    client.add('nodes', makeNode('a2', { labels: { 'topology.kubernetes.io/zone': 'a' } }));
    client.add('nodes', makeNode('a3', { labels: { 'topology.kubernetes.io/zone': 'a' } }));
    client.add('nodes', makeNode('b1', { labels: { 'topology.kubernetes.io/zone': 'b' } }));
    const tsc = [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { app: 'db' } },
      },
    ];
    for (let i = 0; i < 6; i++) {
      client.add('pods', makePod(`db-${i}`, { labels: { app: 'db' }, topologySpreadConstraints: tsc }));
      await settle(s);
    }
    const zones = { a: 0, b: 0 };
    for (let i = 0; i < 6; i++) {
      const n = nodeOf(client, `db-${i}`);
      assert.ok(n, `db-${i} placed`);
      zones[n.startsWith('a') ? 'a' : 'b']++;
    }
    assert.deepEqual(zones, { a: 3, b: 3 });
    await s.stop();
  });

  it('preempts lower-priority pods for a higher-priority pod and nominates the node', async () => {
    const { client, s, advance } = setup();
    client.add('nodes', makeNode('n1', { cpu: '2' }));
    client.add('pods', makePod('low-1', { cpu: '1', priority: 1 }));
    client.add('pods', makePod('low-2', { cpu: '1', priority: 1 }));
    await settle(s);
    assert.equal(nodeOf(client, 'low-1'), 'n1');
    client.add('pods', makePod('high', { cpu: '1', priority: 100 }));
    await settle(s);
    assert.equal(client.deletedPods.length, 1);
    assert.equal(client.get('pods', 'default', 'high')?.status?.nominatedNodeName, 'n1');
    assert.match(lastFailure(client, 'high') ?? '', /^0\/1 nodes are available: 1 Insufficient cpu\.$/);
    assert.equal(client.eventsFor(client.deletedPods[0]!.split('/')[1]!, 'Preempted').length, 1);
    advance(1100);
    s.queue.flushBackoffCompleted();
    await settle(s);
    assert.equal(nodeOf(client, 'high'), 'n1');
    await s.stop();
  });

  it('explains a pod that fits nowhere: taints, cpu, and why preemption cannot help', async () => {
    const { client, s } = setup();
    client.add('nodes', makeNode('cp', { taints: [CONTROL_PLANE_TAINT], cpu: '4' }));
    client.add('nodes', makeNode('w1', { cpu: '1' }));
    client.add('nodes', makeNode('w2', { cpu: '1' }));
    client.add('pods', makePod('busy-1', { cpu: '1', nodeName: 'w1' }));
    client.add('pods', makePod('busy-2', { cpu: '1', nodeName: 'w2' }));
    client.add('pods', makePod('big', { cpu: '1' }));
    await settle(s);
    assert.equal(
      lastFailure(client, 'big'),
      '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    );
    assert.equal(condition(client, 'big')?.message, lastFailure(client, 'big'));
    await s.stop();
  });

  it('runs its own loop with start() and stop(), only for pods of its profiles', async () => {
    const client = new FakeSchedulerClient();
    const s = createScheduler({ client });
    client.add('nodes', makeNode('n1'));
    await s.start();
    client.add('pods', makePod('mine'));
    client.add('pods', makePod('other', { schedulerName: 'someone-else' }));
    for (let i = 0; i < 50 && !nodeOf(client, 'mine'); i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(nodeOf(client, 'mine'), 'n1');
    assert.equal(nodeOf(client, 'other'), undefined);
    assert.equal(
      client.eventsFor('mine', 'Scheduled')[0]?.message,
      'Successfully assigned default/mine to n1',
    );
    await s.stop();
  });

  it('expires an assumed pod whose binding never shows up', async () => {
    let t = 1_000_000;
    const client = new FakeSchedulerClient({ delivery: 'macrotask' });
    const s = createScheduler({ client, now: () => t, assumedPodTtlMs: 1000 });
    client.add('nodes', makeNode('n1', { cpu: '1' }));
    client.add('pods', makePod('p', { cpu: '1' }));
    // Lose the watch event for the bind: swap in a client write that is never delivered.
    client.bind = () => Promise.resolve();
    s.scheduleNext();
    await s.bindingsSettled();
    assert.equal(s.cache.isAssumed(client.get('pods', 'default', 'p')!), true);
    assert.equal(s.cache.list()[0]!.requested.milliCPU, 1000);
    t += 2000;
    assert.equal(s.cache.cleanupExpiredAssumedPods(), 1);
    assert.equal(s.cache.list()[0]!.requested.milliCPU, 0);
    await s.stop();
  });

  it('requeues with back-off when the bind fails', async () => {
    const { client, s, advance } = setup();
    client.add('nodes', makeNode('n1'));
    client.add('pods', makePod('p'));
    client.bindError = () => new Error('etcd is down');
    await settle(s);
    assert.equal(nodeOf(client, 'p'), undefined);
    assert.equal(s.queue.where(client.get('pods', 'default', 'p')!), 'backoff');
    assert.equal(lastFailure(client, 'p'), 'etcd is down');
    assert.equal(condition(client, 'p')?.reason, 'SchedulerError');
    client.bindError = undefined;
    advance(1100);
    s.queue.flushBackoffCompleted();
    await settle(s);
    assert.equal(nodeOf(client, 'p'), 'n1');
    await s.stop();
  });

  it('serves several profiles, each taking the pods that name it', async () => {
    const client = new FakeSchedulerClient();
    const s = createScheduler({
      client,
      config: {
        profiles: [
          { schedulerName: 'default-scheduler' },
          {
            schedulerName: 'bin-packer',
            pluginConfig: [
              { name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } },
            ],
            plugins: { score: { disabled: [{ name: 'NodeResourcesBalancedAllocation' }] } },
          },
        ],
      },
    });
    client.add('nodes', makeNode('empty', { cpu: '4' }));
    client.add('nodes', makeNode('busy', { cpu: '4' }));
    client.add('pods', makePod('x', { cpu: '2', nodeName: 'busy' }));
    client.add('pods', makePod('spread', { cpu: '1' }));
    client.add('pods', makePod('packed', { cpu: '1', schedulerName: 'bin-packer' }));
    await settle(s);
    assert.equal(nodeOf(client, 'spread'), 'empty');
    assert.equal(nodeOf(client, 'packed'), 'busy');
    assert.equal(client.eventsFor('packed', 'Scheduled')[0]?.reportingController, 'bin-packer');
    await s.stop();
  });

  it('rejects an invalid configuration up front', () => {
    assert.throws(
      () =>
        createScheduler({
          client: new FakeSchedulerClient(),
          config: { profiles: [{ schedulerName: 'a' }, { schedulerName: 'a' }] },
        }),
      /profiles\[1\]\.schedulerName: Duplicate value: "a"/,
    );
  });

  it('binds a WaitForFirstConsumer claim to a local volume on the chosen node before binding the pod', async () => {
    const { client, s } = setup();
    client.add('nodes', makeNode('n1'));
    client.add('nodes', makeNode('n2'));
    client.add('storageclasses', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'local' },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
    client.add('persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'pv-n2' },
      spec: {
        storageClassName: 'local',
        accessModes: ['ReadWriteOnce'],
        capacity: { storage: '10Gi' },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] },
            ],
          },
        },
      },
      status: { phase: 'Available' },
    });
    client.add('persistentvolumeclaims', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: 'default' },
      spec: {
        storageClassName: 'local',
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
      },
    });
    client.add('pods', makePod('db', { volumes: [{ name: 'data', claimName: 'data' }] }));
    await settle(s);
    assert.equal(nodeOf(client, 'db'), 'n2');
    assert.equal(client.get('persistentvolumes', undefined, 'pv-n2')?.spec?.claimRef?.name, 'data');
    await s.stop();
  });

  it('holds a pod at Permit until a plugin allows it', async () => {
    const client = new FakeSchedulerClient();
    const gate: PermitPlugin = {
      name: 'Gate',
      permit: () => ({ status: new Status(Code.Wait), timeoutMs: 60_000 }),
    };
    const s = createScheduler({
      client,
      outOfTreeRegistry: new Map([['Gate', { factory: () => gate, points: ['permit'] as const }]]),
      config: {
        profiles: [
          { schedulerName: 'default-scheduler', plugins: { permit: { enabled: [{ name: 'Gate' }] } } },
        ],
      },
    });
    const fwkRef: Framework | undefined = s.profiles.get('default-scheduler');
    client.add('nodes', makeNode('n1'));
    client.add('pods', makePod('p'));
    s.scheduleNext();
    await new Promise((r) => setImmediate(r));
    assert.equal(nodeOf(client, 'p'), undefined);
    assert.equal(fwkRef!.waitingPodKeys().length, 1);
    fwkRef!.allowWaitingPod(fwkRef!.waitingPodKeys()[0]!, 'Gate');
    await s.bindingsSettled();
    await new Promise((r) => setImmediate(r));
    assert.equal(nodeOf(client, 'p'), 'n1');
    await s.stop();
  });
});
