// @kubernetes/client-node (the official JavaScript client) against the server, unchanged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { startTestServer, type TestServer } from './test-server.js';

let t: TestServer;
let kc: KubeConfig;
before(async () => {
  t = await startTestServer();
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: t.url, skipTLSVerify: true }],
    users: [{ name: 'local' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'local', namespace: 'default' }],
    currentContext: 'local',
  });
});
after(async () => {
  await t.close();
});

test('client-node creates, reads, lists, patches and watches', async () => {
  const core = kc.makeApiClient(CoreV1Api);
  const created = await core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'cn' }, data: { a: '1' } },
  });
  assert.equal(created.metadata?.name, 'cn');
  const read = await core.readNamespacedConfigMap({ name: 'cn', namespace: 'default' });
  assert.deepEqual(read.data, { a: '1' });
  const list = await core.listNamespacedConfigMap({ namespace: 'default' });
  assert.ok(list.items.some((i) => i.metadata?.name === 'cn'));
  assert.ok(list.metadata?.resourceVersion);

  const seen: string[] = [];
  const w = new Watch(kc);
  let resolveSeen: () => void = () => {};
  const done = new Promise<void>((r) => (resolveSeen = r));
  const req = await w.watch(
    '/api/v1/namespaces/default/configmaps',
    { resourceVersion: list.metadata.resourceVersion },
    (type: string, obj: V1ConfigMap) => {
      seen.push(`${type} ${obj.metadata?.name}`);
      if (type === 'DELETED') resolveSeen();
    },
    () => {},
  );
  await core.replaceNamespacedConfigMap({
    name: 'cn',
    namespace: 'default',
    body: { ...read, data: { a: '2' } },
  });
  await core.deleteNamespacedConfigMap({ name: 'cn', namespace: 'default' });
  await done;
  req.abort();
  assert.deepEqual(seen, ['MODIFIED cn', 'DELETED cn']);

  await assert.rejects(core.readNamespacedConfigMap({ name: 'cn', namespace: 'default' }), (err: unknown) => {
    return typeof err === 'object' && err !== null && (err as { code?: number }).code === 404;
  });
});
