// The ReplicaSet and Deployment controllers against a real in-process API server on a memory
// store. There are no nodes: the test plays the kubelet, marking pods Running and Ready through
// pods/status, and watches every pod change to check the rollout bounds at each observed moment.
import '../support/kubectl-cache.js';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import type { Deployment, Pod, ReplicaSet } from '../../src/api/generated/types.js';
import { builtinResources } from '../../src/api/kinds/index.js';
import type { KubeObject } from '../../src/api/meta.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { SharedInformer } from '../../src/client/informer.js';
import { RestClient } from '../../src/client/rest.js';
import { DEPLOYMENTS, EVENTS, LEASES, NAMESPACES, PODS, REPLICASETS } from '../../src/client/typed-refs.js';
import { createControllerManager, type ControllerManager } from '../../src/controllers/manager.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const SEEDS = join(repoRoot, 'src/api/kinds/testdata');
const CONTROLLERS = ['replicaset', 'replicationcontroller', 'deployment'];

let store: MemoryStore;
let server: ApiServer;
let client: RestClient;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await sleep(20);
  }
}

function seed<T>(file: string): T {
  const doc = parse(readFileSync(join(SEEDS, file), 'utf8'), { uniqueKeys: false }) as T & KubeObject;
  delete doc.metadata.resourceVersion;
  return doc;
}

async function namespace(name: string): Promise<void> {
  await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

function isReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * Plays the kubelet for one namespace: every new pod whose image passes `healthy` is marked
 * Running and Ready shortly after it appears. After each pod event, `onChange` sees the pods.
 */
class FakeKubelet {
  readonly informer: SharedInformer<Pod>;
  readonly created = new Set<string>();
  private readonly marking = new Set<string>();
  onChange: ((pods: Pod[]) => void) | undefined;

  constructor(
    readonly ns: string,
    readonly healthy: (image: string) => boolean = () => true,
    readonly delayMs = 15,
  ) {
    this.informer = new SharedInformer<Pod>(client, PODS, { namespace: ns });
    this.informer.addEventHandler({
      onAdd: (p) => {
        this.created.add(p.metadata.name ?? '');
        this.consider(p);
        this.changed();
      },
      onUpdate: (_o, p) => {
        this.consider(p);
        this.changed();
      },
      onDelete: () => this.changed(),
    });
    this.informer.start();
  }

  pods(filter?: (p: Pod) => boolean): Pod[] {
    return this.informer.list(this.ns).filter((p) => !p.metadata.deletionTimestamp && (!filter || filter(p)));
  }

  private changed(): void {
    this.onChange?.(this.pods());
  }

  private consider(p: Pod): void {
    const name = p.metadata.name ?? '';
    if (isReady(p) || p.metadata.deletionTimestamp || this.marking.has(name)) return;
    const image = p.spec?.containers[0]?.image ?? '';
    if (!this.healthy(image)) return;
    this.marking.add(name);
    setTimeout(() => void this.markReady(name), this.delayMs);
  }

  private async markReady(name: string): Promise<void> {
    try {
      const pod = await client.get<Pod>(PODS, this.ns, name);
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      pod.status = {
        ...(pod.status ?? {}),
        phase: 'Running',
        conditions: [
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'True', lastTransitionTime: now },
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        ],
        containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt: now } },
        })),
      };
      await client.update(PODS, pod, 'status');
    } catch {
      // Gone or changed meanwhile: the next event decides again.
    } finally {
      this.marking.delete(name);
    }
  }

  async stop(): Promise<void> {
    this.informer.stop();
    await this.informer.whenStopped();
  }
}

/** Watches pods with the given label and records the extremes seen once armed. */
function boundsMonitor(kubelet: FakeKubelet, labels: Record<string, string>) {
  const state = { armed: false, maxPods: 0, minReady: Infinity, samples: 0 };
  const match = (p: Pod): boolean => Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v);
  kubelet.onChange = (pods) => {
    if (!state.armed) return;
    const mine = pods.filter(match);
    state.samples++;
    state.maxPods = Math.max(state.maxPods, mine.length);
    state.minReady = Math.min(state.minReady, mine.filter(isReady).length);
  };
  return state;
}

async function startManager(
  extra: Partial<Parameters<typeof createControllerManager>[0]> = {},
): Promise<ControllerManager> {
  const m = createControllerManager({ client, enable: CONTROLLERS, ...extra });
  await m.start();
  return m;
}

function deployment(
  ns: string,
  name: string,
  replicas: number,
  image: string,
  strategy: NonNullable<Deployment['spec']>['strategy'],
  extra: Partial<NonNullable<Deployment['spec']>> = {},
): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy,
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image }] } },
      ...extra,
    },
  };
}

async function getDeployment(ns: string, name: string): Promise<Deployment> {
  return client.get<Deployment>(DEPLOYMENTS, ns, name);
}

/** What `kubectl rollout status` waits for. */
async function rolledOut(ns: string, name: string, timeoutMs = 30_000): Promise<Deployment> {
  return until(
    `deployment ${name} rolled out`,
    async () => {
      const d = await getDeployment(ns, name);
      const s = d.status ?? {};
      const want = d.spec?.replicas ?? 1;
      return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
        (s.updatedReplicas ?? 0) === want &&
        (s.replicas ?? 0) === want &&
        (s.availableReplicas ?? 0) === want
        ? d
        : undefined;
    },
    timeoutMs,
  );
}

async function replicaSetsOf(ns: string, d: Deployment): Promise<ReplicaSet[]> {
  const list = await client.list<ReplicaSet>(REPLICASETS, ns);
  return list.items.filter((rs) => rs.metadata.ownerReferences?.some((r) => r.uid === d.metadata.uid));
}

async function setImage(ns: string, name: string, image: string): Promise<void> {
  await client.patch(DEPLOYMENTS, ns, name, 'json', [
    { op: 'replace', path: '/spec/template/spec/containers/0/image', value: image },
  ]);
}

const SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** What kubectl 1.32's `rollout undo [--to-revision=N]` does: a JSON patch of template and annotations. */
async function rolloutUndo(ns: string, name: string, toRevision = 0): Promise<void> {
  const d = await getDeployment(ns, name);
  const rss = await replicaSetsOf(ns, d);
  const rev = (rs: ReplicaSet): number =>
    Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
  let target: ReplicaSet | undefined;
  if (toRevision === 0) {
    const sorted = [...rss].sort((a, b) => rev(b) - rev(a));
    target = sorted[1];
  } else target = rss.find((rs) => rev(rs) === toRevision);
  assert.ok(target, `no revision ${toRevision}`);
  const template = structuredClone(target.spec!.template!);
  delete template.metadata!.labels!['pod-template-hash'];
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (SKIP.has(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(target.metadata.annotations ?? {}))
    if (!SKIP.has(k)) annotations[k] = v;
  await client.patch(DEPLOYMENTS, ns, name, 'json', [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ]);
}

async function eventsFor(ns: string, name: string, reason: string): Promise<string[]> {
  const list = await client.list<
    KubeObject & { involvedObject: { name: string }; reason: string; message: string }
  >(EVENTS, ns);
  return list.items
    .filter((e) => e.involvedObject.name === name && e.reason === reason)
    .map((e) => e.message);
}

before(async () => {
  store = new MemoryStore();
  server = await createApiServer({ store, resources: builtinResources, schemas: builtinSchemas() });
  client = new RestClient({ server: server.url, namespace: 'default' });
});

after(async () => {
  client.close();
  await server.close();
  await store.close();
});

describe('replica sets', () => {
  let manager: ControllerManager;
  before(async () => {
    manager = await startManager();
    assert.equal(await manager.whenRunning(), true);
  });
  after(() => manager.stop());

  test("the seeds' frontend ReplicaSet keeps 3 ready pods of wangyanglinux/myapp:v1", async () => {
    await namespace('rs-seed');
    const kubelet = new FakeKubelet('rs-seed');
    try {
      const rs = seed<ReplicaSet>('seed000-02-replicaset.yaml');
      await client.create(REPLICASETS, 'rs-seed', rs);
      const status = await until('3 ready replicas', async () => {
        const cur = await client.get<ReplicaSet>(REPLICASETS, 'rs-seed', 'frontend');
        return cur.status?.readyReplicas === 3 && cur.status.availableReplicas === 3 ? cur.status : undefined;
      });
      assert.deepEqual([status.replicas, status.fullyLabeledReplicas, status.observedGeneration], [3, 3, 1]);
      const pods = kubelet.pods();
      assert.equal(pods.length, 3);
      for (const p of pods) {
        assert.match(p.metadata.name ?? '', /^frontend-[a-z0-9]{5}$/);
        assert.equal(p.spec?.containers[0]?.image, 'wangyanglinux/myapp:v1');
        assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'ReplicaSet');
      }
      // A deleted pod is replaced.
      await client.delete(PODS, 'rs-seed', pods[0]!.metadata.name!);
      await until(
        'replacement',
        () =>
          kubelet.pods().length === 3 &&
          !kubelet.pods().some((p) => p.metadata.name === pods[0]!.metadata.name),
      );
      // An orphan with the labels is adopted, and the ReplicaSet then has one too many.
      await client.create(PODS, 'rs-seed', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'stray', labels: { tier: 'frontend' } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
      await until(
        'back to 3 pods',
        () =>
          kubelet.pods().length === 3 &&
          kubelet.pods().every((p) => p.metadata.ownerReferences?.length === 1),
      );
      // Relabelling a pod releases it (and a replacement is made).
      const victim = kubelet.pods()[0]!;
      await client.patch(PODS, 'rs-seed', victim.metadata.name!, 'merge', {
        metadata: { labels: { tier: 'debug' } },
      });
      await until('released', async () => {
        const p = await client.get<Pod>(PODS, 'rs-seed', victim.metadata.name!);
        return (
          (p.metadata.ownerReferences ?? []).length === 0 &&
          kubelet.pods((x) => x.metadata.labels?.tier === 'frontend').length === 3
        );
      });
      const created = await eventsFor('rs-seed', 'frontend', 'SuccessfulCreate');
      assert.ok(
        created.every((m) => /^Created pod: frontend-[a-z0-9]{5}$/.test(m)),
        created.join('\n'),
      );
    } finally {
      await kubelet.stop();
    }
  });

  test('a burst of events never over-creates: 300 replicas make exactly 300 pods, and scaling to 100 deletes exactly 200', async () => {
    await namespace('rs-burst');
    const kubelet = new FakeKubelet('rs-burst', (image) => image !== 'never', 1);
    try {
      const rs: ReplicaSet = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'burst' },
        spec: {
          replicas: 300,
          selector: { matchLabels: { app: 'burst' } },
          template: {
            metadata: { labels: { app: 'burst' } },
            spec: { containers: [{ name: 'c', image: 'ok' }] },
          },
        },
      };
      await client.create(REPLICASETS, 'rs-burst', rs);
      await until(
        '300 ready',
        async () =>
          (await client.get<ReplicaSet>(REPLICASETS, 'rs-burst', 'burst')).status?.readyReplicas === 300,
        60_000,
      );
      await sleep(300);
      assert.equal(kubelet.created.size, 300);
      // Scale down to 100: the controller picks victims; all equally ready, none over-deleted.
      const cur = await client.get<ReplicaSet>(REPLICASETS, 'rs-burst', 'burst');
      cur.spec!.replicas = 100;
      await client.update(REPLICASETS, cur);
      await until('100 left', () => kubelet.pods().length === 100, 30_000);
      await sleep(300);
      assert.equal(kubelet.pods().length, 100);
      assert.equal(kubelet.created.size, 300);
    } finally {
      await kubelet.stop();
    }
  });

  test('a ReplicationController from the seeds is run by the same controller', async () => {
    await namespace('rc-seed');
    const kubelet = new FakeKubelet('rc-seed');
    try {
      const rc = seed<KubeObject>('seed000-01-replicationcontroller.yaml');
      await client.create(
        { group: '', version: 'v1', plural: 'replicationcontrollers', namespaced: true },
        'rc-seed',
        rc,
      );
      await until('3 ready', async () => {
        const cur = await client.get<KubeObject & { status?: { readyReplicas?: number } }>(
          { group: '', version: 'v1', plural: 'replicationcontrollers', namespaced: true },
          'rc-seed',
          'frontend',
        );
        return cur.status?.readyReplicas === 3;
      });
      assert.ok(
        kubelet.pods().every((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicationController'),
      );
    } finally {
      await kubelet.stop();
    }
  });
});

describe('deployments', () => {
  let manager: ControllerManager;
  before(async () => {
    manager = await startManager();
    assert.equal(await manager.whenRunning(), true);
  });
  after(() => manager.stop());

  test('nginx-deployment from the seeds rolls from nginx:1.11 to 1.13, then rollout undo and --to-revision', async () => {
    await namespace('nginx');
    const kubelet = new FakeKubelet('nginx');
    try {
      const d = seed<KubeObject>('seed000-03-deployment.yaml');
      d.metadata.namespace = 'nginx';
      // Created through apps/v1 (same fields, all set in the seed): objects created through
      // extensions/v1beta1 get no metadata.generation from the server yet.
      d.apiVersion = 'apps/v1';
      await client.create(DEPLOYMENTS, 'nginx', d);
      const first = await rolledOut('nginx', 'nginx-deployment');
      assert.equal(first.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
      const [rs1] = await replicaSetsOf('nginx', first);
      assert.match(rs1!.metadata.name ?? '', /^nginx-deployment-[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
      assert.equal(
        rs1!.metadata.labels?.['pod-template-hash'],
        rs1!.metadata.name!.slice('nginx-deployment-'.length),
      );
      // progressDeadlineSeconds is MaxInt32 in the seed: no Progressing condition.
      assert.equal(
        first.status?.conditions?.find((c) => c.type === 'Progressing'),
        undefined,
      );
      assert.equal(
        first.status?.conditions?.find((c) => c.type === 'Available')?.reason,
        'MinimumReplicasAvailable',
      );

      const monitor = boundsMonitor(kubelet, { app: 'nginx' });
      monitor.armed = true;
      await setImage('nginx', 'nginx-deployment', 'nginx:1.13');
      const second = await rolledOut('nginx', 'nginx-deployment');
      monitor.armed = false;
      assert.ok(monitor.maxPods <= 4, `max pods ${monitor.maxPods}`);
      assert.ok(monitor.minReady >= 2, `min ready ${monitor.minReady}`);
      assert.equal(second.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
      assert.ok(kubelet.pods().every((p) => p.spec?.containers[0]?.image === 'nginx:1.13'));
      const rss = await replicaSetsOf('nginx', second);
      const rs2 = rss.find((rs) => rs.metadata.uid !== rs1!.metadata.uid)!;
      const scaling = await until('events', async () => {
        const ev = await eventsFor('nginx', 'nginx-deployment', 'ScalingReplicaSet');
        return ev.some((m) => m.startsWith(`Scaled down replica set ${rs1!.metadata.name} from 1 to 0`))
          ? ev
          : undefined;
      });
      assert.ok(
        scaling.includes(`Scaled up replica set ${rs1!.metadata.name} from 0 to 3`),
        scaling.join('\n'),
      );
      assert.ok(
        scaling.some((m) => m.startsWith(`Scaled up replica set ${rs2.metadata.name} from 0 to`)),
        scaling.join('\n'),
      );

      await rolloutUndo('nginx', 'nginx-deployment');
      const third = await rolledOut('nginx', 'nginx-deployment');
      assert.equal(third.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
      assert.equal(third.spec?.template.spec?.containers[0]?.image, 'nginx:1.11');
      const back = (await replicaSetsOf('nginx', third)).find((rs) => rs.metadata.uid === rs1!.metadata.uid)!;
      assert.equal(back.spec?.replicas, 3);
      assert.equal(back.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
      assert.equal(back.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');

      await rolloutUndo('nginx', 'nginx-deployment', 2);
      const fourth = await rolledOut('nginx', 'nginx-deployment');
      assert.equal(fourth.spec?.template.spec?.containers[0]?.image, 'nginx:1.13');
      assert.equal(fourth.metadata.annotations?.['deployment.kubernetes.io/revision'], '4');
      assert.equal((await replicaSetsOf('nginx', fourth)).length, 2);
    } finally {
      await kubelet.stop();
    }
  });

  test('scale up and down', async () => {
    await namespace('scale');
    const kubelet = new FakeKubelet('scale');
    try {
      await client.create(
        DEPLOYMENTS,
        'scale',
        deployment('scale', 'web', 3, 'nginx', { type: 'RollingUpdate' }),
      );
      await rolledOut('scale', 'web');
      await client.patch(DEPLOYMENTS, 'scale', 'web', 'merge', { spec: { replicas: 10 } });
      await rolledOut('scale', 'web');
      assert.equal(kubelet.pods().length, 10);
      await client.patch(DEPLOYMENTS, 'scale', 'web', 'merge', { spec: { replicas: 2 } });
      await rolledOut('scale', 'web');
      await until('2 pods', () => kubelet.pods().length === 2);
      const d = await getDeployment('scale', 'web');
      const msgs = await eventsFor('scale', 'web', 'ScalingReplicaSet');
      const [rs] = await replicaSetsOf('scale', d);
      assert.ok(msgs.includes(`Scaled up replica set ${rs!.metadata.name} from 3 to 10`), msgs.join('\n'));
      assert.ok(msgs.includes(`Scaled down replica set ${rs!.metadata.name} from 10 to 2`), msgs.join('\n'));
      const p = d.status?.conditions?.find((c) => c.type === 'Progressing');
      assert.equal(p?.message, `ReplicaSet "${rs!.metadata.name}" has successfully progressed.`);
    } finally {
      await kubelet.stop();
    }
  });

  test('a rolling update of 20 replicas never violates maxSurge 25% / maxUnavailable 25%', async () => {
    await namespace('roll20');
    const kubelet = new FakeKubelet('roll20', () => true, 30);
    try {
      const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
      await client.create(DEPLOYMENTS, 'roll20', deployment('roll20', 'web', 20, 'nginx:1.11', strategy));
      await rolledOut('roll20', 'web');
      const monitor = boundsMonitor(kubelet, { app: 'web' });
      monitor.armed = true;
      await setImage('roll20', 'web', 'nginx:1.13');
      await rolledOut('roll20', 'web');
      await until('old pods gone', () => kubelet.pods().length === 20);
      monitor.armed = false;
      assert.ok(monitor.samples > 40, `samples ${monitor.samples}`);
      assert.ok(monitor.maxPods <= 25, `max pods ${monitor.maxPods}`);
      assert.ok(monitor.minReady >= 15, `min ready ${monitor.minReady}`);
      assert.ok(kubelet.pods().every((p) => p.spec?.containers[0]?.image === 'nginx:1.13'));
    } finally {
      await kubelet.stop();
    }
  });

  test('a rollout stuck on an image that never becomes ready stops and reports ProgressDeadlineExceeded', async () => {
    await namespace('stuck');
    const kubelet = new FakeKubelet('stuck', (image) => image !== 'nginx:no-such-tag');
    try {
      const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
      await client.create(
        DEPLOYMENTS,
        'stuck',
        deployment('stuck', 'web', 3, 'nginx:1.11', strategy, { progressDeadlineSeconds: 2 }),
      );
      await rolledOut('stuck', 'web');
      await setImage('stuck', 'web', 'nginx:no-such-tag');
      const d = await until(
        'ProgressDeadlineExceeded',
        async () => {
          const cur = await getDeployment('stuck', 'web');
          const c = cur.status?.conditions?.find((x) => x.type === 'Progressing');
          return c?.reason === 'ProgressDeadlineExceeded' ? cur : undefined;
        },
        15_000,
      );
      const rs = (await replicaSetsOf('stuck', d)).find(
        (x) => x.spec?.template?.spec?.containers[0]?.image === 'nginx:no-such-tag',
      )!;
      const c = d.status!.conditions!.find((x) => x.type === 'Progressing')!;
      assert.equal(c.status, 'False');
      assert.equal(c.message, `ReplicaSet "${rs.metadata.name}" has timed out progressing.`);
      // The rollout did not go further: 3 old ready pods, 1 new unready one.
      assert.equal(kubelet.pods(isReady).length, 3);
      assert.equal(kubelet.pods().length, 4);
    } finally {
      await kubelet.stop();
    }
  });

  test('pause, resume and rollout restart', async () => {
    await namespace('pause');
    const kubelet = new FakeKubelet('pause');
    try {
      await client.create(
        DEPLOYMENTS,
        'pause',
        deployment('pause', 'web', 2, 'nginx:1.11', { type: 'RollingUpdate' }),
      );
      await rolledOut('pause', 'web');
      await client.patch(DEPLOYMENTS, 'pause', 'web', 'merge', { spec: { paused: true } });
      await setImage('pause', 'web', 'nginx:1.13');
      await until(
        'paused condition',
        async () =>
          (await getDeployment('pause', 'web')).status?.conditions?.find((c) => c.type === 'Progressing')
            ?.reason === 'DeploymentPaused',
      );
      await sleep(200);
      assert.equal((await replicaSetsOf('pause', await getDeployment('pause', 'web'))).length, 1);
      await client.patch(DEPLOYMENTS, 'pause', 'web', 'merge', { spec: { paused: null } });
      const resumed = await rolledOut('pause', 'web');
      assert.equal(resumed.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
      // kubectl rollout restart.
      await client.patch(DEPLOYMENTS, 'pause', 'web', 'strategic', {
        spec: {
          template: {
            metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } },
          },
        },
      });
      const restarted = await until('revision 3', async () => {
        const d = await rolledOut('pause', 'web');
        return d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3' ? d : undefined;
      });
      assert.equal((await replicaSetsOf('pause', restarted)).length, 3);
    } finally {
      await kubelet.stop();
    }
  });
});

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs the real kubectl (asynchronously: the API server answers from this process). */
function kubectl(ns: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--server', server.url, '--request-timeout=20s', '-n', ns, ...args],
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

describe(
  'kubectl 1.32 against the controllers',
  { skip: !hasKubectl() && 'kubectl is not installed' },
  () => {
    let manager: ControllerManager;
    before(async () => {
      manager = await startManager();
      assert.equal(await manager.whenRunning(), true);
    });
    after(() => manager.stop());

    test('rollout status, rollout undo (client-side), --to-revision, restart, and a stuck rollout', async () => {
      await namespace('kubectl');
      const kubelet = new FakeKubelet('kubectl', (image) => image !== 'nginx:bad');
      try {
        const rs = async (): Promise<ReplicaSet[]> =>
          (await client.list<ReplicaSet>(REPLICASETS, 'kubectl')).items;
        assert.equal(
          (await kubectl('kubectl', 'create', 'deployment', 'web', '--image=nginx:1.11', '--replicas=3'))
            .code,
          0,
        );
        let st = await kubectl('kubectl', 'rollout', 'status', 'deployment/web', '--timeout=30s');
        assert.match(st.out, /deployment "web" successfully rolled out/);
        await kubectl('kubectl', 'set', 'image', 'deployment/web', 'nginx=nginx:1.13');
        st = await kubectl('kubectl', 'rollout', 'status', 'deployment/web', '--timeout=30s');
        assert.match(st.out, /deployment "web" successfully rolled out/);
        assert.equal((await rs()).length, 2);
        const undo = await kubectl('kubectl', 'rollout', 'undo', 'deployment/web');
        assert.match(undo.out, /rolled back/);
        st = await kubectl('kubectl', 'rollout', 'status', 'deployment/web', '--timeout=30s');
        assert.match(st.out, /successfully rolled out/);
        // The old ReplicaSet is re-used (revision 3), not a new one made.
        const afterUndo = await rs();
        assert.equal(afterUndo.length, 2);
        const v11 = afterUndo.find((r) => r.spec?.template?.spec?.containers[0]?.image === 'nginx:1.11')!;
        assert.equal(v11.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
        assert.equal(v11.spec?.replicas, 3);
        await kubectl('kubectl', 'rollout', 'undo', 'deployment/web', '--to-revision=2');
        st = await kubectl('kubectl', 'rollout', 'status', 'deployment/web', '--timeout=30s');
        assert.match(st.out, /successfully rolled out/);
        assert.equal((await rs()).length, 2);
        assert.equal(
          (await getDeployment('kubectl', 'web')).metadata.annotations?.['deployment.kubernetes.io/revision'],
          '4',
        );
        const history = await kubectl('kubectl', 'rollout', 'history', 'deployment/web');
        assert.match(history.out, /^3\s/m);
        assert.match(history.out, /^4\s/m);
        await kubectl('kubectl', 'rollout', 'restart', 'deployment/web');
        st = await kubectl('kubectl', 'rollout', 'status', 'deployment/web', '--timeout=30s');
        assert.match(st.out, /successfully rolled out/);
        assert.equal((await rs()).length, 3);
        await kubectl('kubectl', 'patch', 'deployment/web', '-p', '{"spec":{"progressDeadlineSeconds":2}}');
        await kubectl('kubectl', 'set', 'image', 'deployment/web', 'nginx=nginx:bad');
        st = await kubectl('kubectl', 'rollout', 'status', 'deployment/web', '--timeout=30s');
        assert.equal(st.code, 1);
        assert.match(st.out, /error: deployment "web" exceeded its progress deadline/);
      } finally {
        await kubelet.stop();
      }
    });
  },
);

describe('controller manager', () => {
  test('stopping and restarting the manager in the middle of a rolling update: it finishes within bounds', async () => {
    await namespace('chaos');
    const kubelet = new FakeKubelet('chaos', () => true, 40);
    let manager = await startManager();
    try {
      const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } };
      await client.create(DEPLOYMENTS, 'chaos', deployment('chaos', 'web', 20, 'nginx:1.11', strategy));
      await rolledOut('chaos', 'web');
      const monitor = boundsMonitor(kubelet, { app: 'web' });
      monitor.armed = true;
      await setImage('chaos', 'web', 'nginx:1.13');
      for (let round = 0; round < 3; round++) {
        await until(
          'some progress',
          () => kubelet.pods((p) => p.spec?.containers[0]?.image === 'nginx:1.13').length >= 4 + round * 4,
        );
        await manager.stop();
        await sleep(100);
        manager = await startManager();
      }
      await rolledOut('chaos', 'web', 60_000);
      await until('old pods gone', () => kubelet.pods().length === 20);
      monitor.armed = false;
      assert.ok(monitor.maxPods <= 23, `max pods ${monitor.maxPods}`);
      assert.ok(monitor.minReady >= 18, `min ready ${monitor.minReady}`);
    } finally {
      await manager.stop();
      await kubelet.stop();
    }
  });

  test('with leader election, two managers never both run; the other takes over when the leader stops', async () => {
    const le = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
    const a = createControllerManager({
      client,
      enable: CONTROLLERS,
      leaderElection: { ...le, identity: 'a' },
    });
    const b = createControllerManager({
      client,
      enable: CONTROLLERS,
      leaderElection: { ...le, identity: 'b' },
    });
    await a.start();
    assert.equal(await a.whenRunning(), true);
    await b.start();
    let both = false;
    const watch = setInterval(() => {
      if (a.isRunning() && b.isRunning()) both = true;
    }, 5);
    try {
      await sleep(1500);
      assert.equal(b.isRunning(), false);
      const lease = await client.get<KubeObject & { spec?: { holderIdentity?: string } }>(
        LEASES,
        'kube-system',
        'kube-controller-manager',
      );
      assert.equal(lease.spec?.holderIdentity, 'a');
      await a.stop();
      assert.equal(await b.whenRunning(), true);
      assert.equal(both, false);
    } finally {
      clearInterval(watch);
      await a.stop();
      await b.stop();
    }
  });
});
