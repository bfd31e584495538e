// Static pods on the simulated runtime against a real `k8ts server` (its admission chain included):
// a manifest dropped in the folder runs as `<name>-<node>` with a mirror pod in the API that
// carries its status; deleting the mirror brings it back while the pod keeps running; editing the
// file replaces the pod; a broken file is ignored; removing the file stops the pod.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Node, Pod } from '../../src/api/generated/types.js';
import { StatusError } from '../../src/api/errors.js';
import { createAgent, type Agent } from '../../src/agent/agent.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import { RestClient } from '../../src/client/rest.js';
import { NODES, PODS } from '../../src/client/typed-refs.js';
import { eventually as pollUntil } from '../support/eventually.js';
import { startServer, type TestServer } from '../support/k8ts-server.js';

const NODE = 'static-node';
const eventually = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> =>
  pollUntil(what, probe, { timeoutMs: 20_000, intervalMs: 50, retryErrors: true });

const manifest = (name: string, image: string, extra = ''): string =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  labels:\n    app: ${name}\n${extra}spec:\n  containers:\n  - name: app\n    image: ${image}\n`;

let server: TestServer;
let client: RestClient;
let agent: Agent;
let folder: string;

async function podOrUndefined(name: string): Promise<Pod | undefined> {
  try {
    return await client.get<Pod>(PODS, 'default', name);
  } catch (err) {
    if (err instanceof StatusError && err.code === 404) return undefined;
    throw err;
  }
}

async function runningUids(): Promise<string[]> {
  return (await agent.runtime.listRunning()).map((r) => r.uid).sort();
}

describe('static pods (fake runtime, real server)', { timeout: 120_000 }, () => {
  before(async () => {
    server = await startServer();
    client = new RestClient(loadKubeconfig(server.kubeconfig));
    folder = mkdtempSync(join(tmpdir(), 'k8ts-manifests-'));
    agent = createAgent({
      client,
      nodeName: NODE,
      runtime: 'fake',
      fake: { startDelayMs: 100 },
      staticPodPath: folder,
      staticPodResyncMs: 500,
    });
    await agent.start();
  });

  after(async () => {
    await agent?.stop();
    client?.close();
    await server?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  test('a manifest runs as <name>-<node>, mirrored in the API with its status', async () => {
    writeFileSync(join(folder, 'web.yaml'), manifest('web', 'nginx:1.27'));
    const mirror = await eventually('the mirror pod Running', async () => {
      const p = await podOrUndefined(`web-${NODE}`);
      return p?.status?.phase === 'Running' ? p : undefined;
    });
    const ann = mirror.metadata.annotations ?? {};
    assert.equal(ann['kubernetes.io/config.source'], 'file');
    assert.match(ann['kubernetes.io/config.hash'] ?? '', /^[0-9a-f]{32}$/);
    assert.equal(ann['kubernetes.io/config.mirror'], ann['kubernetes.io/config.hash']);
    assert.ok(ann['kubernetes.io/config.seen']);
    assert.equal(mirror.spec?.nodeName, NODE);
    assert.equal(mirror.metadata.labels?.app, 'web');
    // No service account: mirror pods may not have one, and admission gave it none.
    assert.equal(mirror.spec?.serviceAccountName, undefined);
    const node = await client.get<Node>(NODES, undefined, NODE);
    assert.deepEqual(mirror.metadata.ownerReferences, [
      { apiVersion: 'v1', kind: 'Node', name: NODE, uid: node.metadata.uid, controller: true },
    ]);
    assert.ok(mirror.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    assert.deepEqual(await runningUids(), [ann['kubernetes.io/config.hash']]);
  });

  test('deleting the mirror pod brings it back; the static pod keeps running', async () => {
    const before = (await podOrUndefined(`web-${NODE}`))!;
    const hash = before.metadata.annotations?.['kubernetes.io/config.hash'];
    await client.delete(PODS, 'default', `web-${NODE}`);
    const again = await eventually('a new mirror pod', async () => {
      const p = await podOrUndefined(`web-${NODE}`);
      return p && p.metadata.uid !== before.metadata.uid && p.status?.phase === 'Running' ? p : undefined;
    });
    assert.equal(again.metadata.annotations?.['kubernetes.io/config.mirror'], hash);
    assert.deepEqual(await runningUids(), [hash]);
  });

  test('a pod of the API cannot pose as a mirror pod with a service account', async () => {
    await assert.rejects(
      client.create<Pod>(PODS, 'default', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'fake-mirror', annotations: { 'kubernetes.io/config.mirror': 'x' } },
        spec: { serviceAccountName: 'default', containers: [{ name: 'c', image: 'nginx' }] },
      }),
      /a mirror pod may not reference service accounts/,
    );
  });

  test('editing the manifest replaces the pod and its mirror', async () => {
    const old = (await podOrUndefined(`web-${NODE}`))!;
    const oldHash = old.metadata.annotations?.['kubernetes.io/config.hash'];
    writeFileSync(join(folder, 'web.yaml'), manifest('web', 'nginx:1.28'));
    const next = await eventually('the mirror of the edited pod', async () => {
      const p = await podOrUndefined(`web-${NODE}`);
      return p &&
        p.metadata.annotations?.['kubernetes.io/config.mirror'] !== oldHash &&
        p.status?.phase === 'Running'
        ? p
        : undefined;
    });
    assert.equal(next.spec?.containers[0]?.image, 'nginx:1.28');
    const newHash = next.metadata.annotations?.['kubernetes.io/config.hash'];
    assert.notEqual(newHash, oldHash);
    await eventually('only the new pod running', async () => {
      const uids = await runningUids();
      return uids.length === 1 && uids[0] === newHash ? true : undefined;
    });
  });

  test('a broken manifest is ignored and the agent keeps going', async () => {
    writeFileSync(join(folder, 'broken.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: [oops\n');
    writeFileSync(
      join(folder, 'noimage.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'x' },
        spec: { containers: [{ name: 'c' }] },
      }),
    );
    writeFileSync(join(folder, '.hidden.yaml'), manifest('hidden', 'nginx'));
    writeFileSync(
      join(folder, 'db.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'db', namespace: 'kube-system' },
        spec: { containers: [{ name: 'db', image: 'postgres:16' }] },
      }),
    );
    await eventually('the JSON static pod in kube-system', async () => {
      const p = await client.get<Pod>(PODS, 'kube-system', `db-${NODE}`);
      return p.status?.phase === 'Running' ? p : undefined;
    });
    assert.equal(await podOrUndefined(`x-${NODE}`), undefined);
    assert.equal(await podOrUndefined(`hidden-${NODE}`), undefined);
    assert.equal((await runningUids()).length, 2);
    unlinkSync(join(folder, 'broken.yaml'));
    unlinkSync(join(folder, 'noimage.json'));
    unlinkSync(join(folder, '.hidden.yaml'));
  });

  test('removing the manifest stops the pod and deletes its mirror', async () => {
    unlinkSync(join(folder, 'web.yaml'));
    unlinkSync(join(folder, 'db.json'));
    await eventually('mirrors gone', async () =>
      (await podOrUndefined(`web-${NODE}`)) === undefined &&
      (await client.list<Pod>(PODS, 'kube-system')).items.every((p) => p.metadata.name !== `db-${NODE}`)
        ? true
        : undefined,
    );
    await eventually('nothing running', async () => ((await runningUids()).length === 0 ? true : undefined));
  });
});

describe(
  'k8ts server --runtime fake runs static pods from <data-dir>/agent/pod-manifests',
  { timeout: 60_000 },
  () => {
    let fakeServer: TestServer;
    before(async () => {
      fakeServer = await startServer({
        agent: true,
        extraArgs: ['--runtime', 'fake', '--node-name', 'fake-static'],
      });
    });
    after(async () => {
      await fakeServer?.kubectl(['delete', 'pod', '--all', '--wait=false']);
      await fakeServer?.stop();
    });

    test('a manifest dropped in the folder shows in kubectl get pods as <name>-<node> Running', async () => {
      const dir = join(fakeServer.dataDir, 'agent', 'pod-manifests');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cache.yaml'), manifest('cache', 'redis:7'));
      const row = await eventually('the mirror pod Running', async () => {
        const r = await fakeServer.kubectl(['get', 'pods', '--no-headers']);
        return r.stdout.split('\n').find((l) => /^cache-fake-static\s+1\/1\s+Running\s/.test(l));
      });
      assert.match(row, /^cache-fake-static\s+1\/1\s+Running/);
    });
  },
);
