import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../api/errors.js';
import type { ControllerRevision, DaemonSet, Node, Pod } from '../../api/generated/types.js';
import { CONTROLLERREVISIONS, DAEMONSETS, NODES, PODS } from '../../client/typed-refs.js';
import { FakeClock } from '../common/clock.js';
import { FakePodControl, FakeRecorder, fakeInformer, put, readyPod, remove } from '../testing.js';
import type { RevisionClient } from '../statefulset/history.js';
import { DaemonSetController } from './daemonset-controller.js';
import { nodeShouldRunDaemonPod, targetNodeName } from './predicates.js';

/** Controllers made by the tests, stopped at the end so no requeue timer outlives them. */
const made: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const c of made) await c.stop();
});

function dsExample(): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'deamonset-example', namespace: 'default', labels: { app: 'daemonset' } },
    spec: {
      selector: { matchLabels: { name: 'deamonset-example' } },
      template: {
        metadata: { labels: { name: 'deamonset-example' } },
        spec: { containers: [{ name: 'daemonset-example', image: 'wangyanglinux/myapp:v1' }] },
      },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    },
  };
}

function node(name: string, extra: Partial<Node> = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    ...extra,
  };
}

function setup(initial: DaemonSet) {
  const clock = new FakeClock();
  const dsInformer = fakeInformer<DaemonSet>(DAEMONSETS);
  const podInformer = fakeInformer<Pod>(PODS);
  const nodeInformer = fakeInformer<Node>(NODES);
  const revInformer = fakeInformer<ControllerRevision>(CONTROLLERREVISIONS);
  const podControl = new FakePodControl();
  const recorder = new FakeRecorder();
  put(dsInformer, initial, clock);
  const revisions: RevisionClient = {
    create: async (rev) => {
      await Promise.resolve();
      if (revInformer.get(rev.metadata.namespace, rev.metadata.name ?? ''))
        throw new StatusError({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          code: 409,
          reason: 'AlreadyExists',
          message: 'exists',
        });
      return put(revInformer, rev, clock);
    },
    updateRevisionNumber: async (rev, revision) => {
      await Promise.resolve();
      return put(revInformer, { ...structuredClone(rev), revision }, clock);
    },
    delete: async (ns, name) => {
      await Promise.resolve();
      const r = revInformer.get(ns, name);
      if (r) remove(revInformer, r);
    },
    get: async (ns, name) => {
      await Promise.resolve();
      return revInformer.get(ns, name)!;
    },
  };
  const controller = new DaemonSetController({
    dsInformer,
    podInformer,
    nodeInformer,
    revisionInformer: revInformer,
    podControl,
    recorder,
    clock,
    client: {
      updateStatus: async (d) => {
        await Promise.resolve();
        return put(dsInformer, d, clock);
      },
      get: async (ns, name) => {
        await Promise.resolve();
        return dsInformer.get(ns, name)!;
      },
      revisions,
    },
  });
  made.push(controller);
  const key = 'default/deamonset-example';
  const observe = (ready = true): Pod[] => {
    const out: Pod[] = [];
    for (const p of podControl.created.splice(0)) {
      out.push(put(podInformer, ready ? readyPod(p, clock.now()) : p, clock));
      controller.expectations.creationObserved(key);
    }
    for (const k of podControl.deleted.splice(0)) {
      const [ns, name] = k.split('/');
      const p = podInformer.get(ns, name ?? '');
      if (p) remove(podInformer, p);
      controller.expectations.deletionObserved(key, k);
    }
    return out;
  };
  const ds = (): DaemonSet => dsInformer.get('default', 'deamonset-example')!;
  return {
    clock,
    dsInformer,
    podInformer,
    nodeInformer,
    revInformer,
    podControl,
    recorder,
    controller,
    key,
    observe,
    ds,
  };
}

test('one pod per eligible node, pinned by node affinity, with the daemon tolerations; tainted node skipped', async () => {
  const t = setup(dsExample());
  for (const n of ['node1', 'node2', 'node3']) put(t.nodeInformer, node(n));
  put(
    t.nodeInformer,
    node('tainted', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } }),
  );
  await t.controller.sync(t.key);
  const pods = t.observe();
  assert.deepEqual(pods.map((p) => targetNodeName(p.spec)).sort(), ['node1', 'node2', 'node3']);
  const p = pods[0]!;
  assert.equal(p.spec?.nodeName, undefined);
  assert.deepEqual(
    p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]
      ?.matchFields?.[0]?.key,
    'metadata.name',
  );
  const keys = (p.spec?.tolerations ?? []).map((x) => `${x.key}:${x.effect}`);
  assert.deepEqual(keys, [
    'node.kubernetes.io/not-ready:NoExecute',
    'node.kubernetes.io/unreachable:NoExecute',
    'node.kubernetes.io/disk-pressure:NoSchedule',
    'node.kubernetes.io/memory-pressure:NoSchedule',
    'node.kubernetes.io/pid-pressure:NoSchedule',
    'node.kubernetes.io/unschedulable:NoSchedule',
  ]);
  assert.ok(p.metadata.labels?.['controller-revision-hash']);
  assert.equal(p.metadata.labels?.['pod-template-generation'], '1');
  assert.equal(t.revInformer.list().length, 1);
  assert.equal(
    t.revInformer.list()[0]?.metadata.name,
    `deamonset-example-${p.metadata.labels?.['controller-revision-hash']}`,
  );
  await t.controller.sync(t.key);
  const st = t.ds().status!;
  assert.deepEqual(
    [
      st.desiredNumberScheduled,
      st.currentNumberScheduled,
      st.numberReady,
      st.numberAvailable,
      st.updatedNumberScheduled,
      st.numberMisscheduled,
    ],
    [3, 3, 3, 3, 3, 0],
  );
});

test('a new node gets a pod; a removed node loses its pod', async () => {
  const t = setup(dsExample());
  put(t.nodeInformer, node('node1'));
  await t.controller.sync(t.key);
  t.observe();
  const n2 = put(t.nodeInformer, node('node2'));
  await t.controller.sync(t.key);
  const [p2] = t.observe();
  assert.equal(targetNodeName(p2?.spec), 'node2');
  remove(t.nodeInformer, n2);
  await t.controller.sync(t.key);
  assert.deepEqual(t.podControl.deleted, [`default/${p2?.metadata.name}`]);
});

test('rolling update replaces at most maxUnavailable pods at a time', async () => {
  const t = setup(dsExample());
  for (const n of ['node1', 'node2', 'node3']) put(t.nodeInformer, node(n));
  await t.controller.sync(t.key);
  t.observe();
  const d = structuredClone(t.ds());
  d.spec!.template.spec!.containers[0]!.image = 'wangyanglinux/myapp:v2';
  d.metadata.generation = 2;
  put(t.dsInformer, d);
  let rounds = 0;
  for (; rounds < 10; rounds++) {
    await t.controller.sync(t.key);
    const deleting = t.podControl.deleted.length;
    assert.ok(deleting <= 1, `deleted ${deleting} at once`);
    t.observe();
    const images = t.podInformer.list().map((p) => p.spec?.containers[0]?.image);
    if (images.length === 3 && images.every((i) => i === 'wangyanglinux/myapp:v2')) break;
  }
  assert.ok(rounds < 10);
  assert.equal(t.revInformer.list().length, 2);
  await t.controller.sync(t.key);
  assert.equal(t.ds().status?.updatedNumberScheduled, 3);
});

test('OnDelete: pods change only when deleted', async () => {
  const ds = dsExample();
  ds.spec!.updateStrategy = { type: 'OnDelete' };
  const t = setup(ds);
  put(t.nodeInformer, node('node1'));
  await t.controller.sync(t.key);
  const [p] = t.observe();
  const d = structuredClone(t.ds());
  d.spec!.template.spec!.containers[0]!.image = 'v2';
  put(t.dsInformer, d);
  await t.controller.sync(t.key);
  assert.equal(t.podControl.deleted.length, 0);
  remove(t.podInformer, p!);
  await t.controller.sync(t.key);
  const [q] = t.observe();
  assert.equal(q?.spec?.containers[0]?.image, 'v2');
});

test('predicates: nodeSelector, taints with tolerations, NoExecute evicts, hostNetwork tolerates network-unavailable', () => {
  const tmpl = dsExample().spec!.template;
  assert.deepEqual(nodeShouldRunDaemonPod(tmpl, node('a')), { shouldRun: true, shouldContinueRunning: true });
  const sel = { ...tmpl, spec: { ...tmpl.spec!, nodeSelector: { disk: 'ssd' } } };
  assert.equal(nodeShouldRunDaemonPod(sel, node('a')).shouldRun, false);
  const ssd = node('b');
  ssd.metadata.labels = { disk: 'ssd' };
  assert.equal(nodeShouldRunDaemonPod(sel, ssd).shouldRun, true);
  const noSched = node('c', { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } });
  assert.deepEqual(nodeShouldRunDaemonPod(tmpl, noSched), { shouldRun: false, shouldContinueRunning: true });
  const noExec = node('d', { spec: { taints: [{ key: 'k', effect: 'NoExecute' }] } });
  assert.deepEqual(nodeShouldRunDaemonPod(tmpl, noExec), { shouldRun: false, shouldContinueRunning: false });
  const tolerating = { ...tmpl, spec: { ...tmpl.spec!, tolerations: [{ key: 'k', operator: 'Exists' }] } };
  assert.equal(nodeShouldRunDaemonPod(tolerating, noExec).shouldRun, true);
  const notReady = node('e', {
    spec: {
      taints: [
        { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
      ],
    },
  });
  assert.equal(nodeShouldRunDaemonPod(tmpl, notReady).shouldRun, true);
  const netDown = node('f', {
    spec: { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] },
  });
  assert.equal(nodeShouldRunDaemonPod(tmpl, netDown).shouldRun, false);
  assert.equal(
    nodeShouldRunDaemonPod({ ...tmpl, spec: { ...tmpl.spec!, hostNetwork: true } }, netDown).shouldRun,
    true,
  );
});
