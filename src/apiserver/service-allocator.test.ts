import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceResource } from '../api/kinds/service.js';
import { namespaces } from './test-fixtures.js';
import { startTestServer, type TestServer } from './test-server.js';

const SVC = '/api/v1/namespaces/default/services';

function service(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ports: [{ port: 80 }], selector: { app: name }, ...spec },
  };
}

describe('Service allocation and the kubernetes Service', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({
      resources: [namespaces, serviceResource],
      serviceClusterIPRange: '10.96.0.0/28',
      serviceNodePortRange: [30000, 30002],
    });
  });
  after(async () => {
    await t.close();
  });

  test('the kubernetes Service takes the first address', async () => {
    const k = await t.request('GET', `${SVC}/kubernetes`);
    assert.equal(k.status, 200);
    assert.equal((k.json.spec as { clusterIP: string }).clusterIP, '10.96.0.1');
  });

  test('ClusterIPs are unique, requested ones are checked, headless stays None', async () => {
    const created = await Promise.all(['a', 'b', 'c'].map((n) => t.request('POST', SVC, service(n))));
    const ips = created.map((c) => (c.json.spec as { clusterIP: string }).clusterIP);
    assert.equal(new Set(ips).size, 3);
    for (const ip of ips) assert.match(ip, /^10\.96\.0\.([2-9]|1[0-4])$/);
    assert.deepEqual((created[0]!.json.spec as { clusterIPs: string[] }).clusterIPs, [ips[0]]);
    const taken = await t.request('POST', SVC, service('d', { clusterIP: ips[0] }));
    assert.equal(taken.status, 422);
    assert.match(String(taken.json.message), /provided IP is already allocated/);
    const outside = await t.request('POST', SVC, service('e', { clusterIP: '10.97.0.9' }));
    assert.equal(outside.status, 422);
    const headless = await t.request('POST', SVC, service('h', { clusterIP: 'None' }));
    assert.equal((headless.json.spec as { clusterIP: string }).clusterIP, 'None');
    await t.request('DELETE', `${SVC}/a`);
    const reuse = await t.request('POST', SVC, service('f', { clusterIP: ips[0] }));
    assert.equal(reuse.status, 422, 'a just-released address stays reserved briefly');
  });

  test('node ports are allocated in range and refused when taken', async () => {
    const np = await t.request('POST', SVC, service('np', { type: 'NodePort' }));
    assert.equal(np.status, 201);
    const port = (np.json.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort;
    assert.ok(port >= 30000 && port <= 30002);
    const clash = await t.request(
      'POST',
      SVC,
      service('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }),
    );
    assert.equal(clash.status, 422);
    assert.match(String(clash.json.message), /provided port is already allocated/);
    const upd = await t.request(
      'PATCH',
      `${SVC}/b`,
      { spec: { type: 'NodePort' } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    assert.equal(upd.status, 200, upd.text);
    const p2 = (upd.json.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort;
    assert.ok(p2 >= 30000 && p2 <= 30002 && p2 !== port);
  });
});

describe('review kinds', () => {
  test('SelfSubjectReview and SelfSubjectAccessReview answer without storing', async () => {
    const { builtinResources } = await import('../api/kinds/index.js');
    const t = await startTestServer({
      resources: builtinResources,
      authenticate: (req) =>
        Promise.resolve(req.headers.authorization ? { name: 'bob', groups: ['g'] } : undefined),
      authorize: (a) =>
        Promise.resolve({
          allowed: a.user.name === 'bob' && (a.verb !== 'delete' || a.resource !== 'secrets'),
          reason: '',
        }),
    });
    try {
      const auth = { Authorization: 'Bearer x' };
      const who = await t.request(
        'POST',
        '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        auth,
      );
      assert.equal(who.status, 201);
      assert.deepEqual((who.json.status as { userInfo: unknown }).userInfo, {
        username: 'bob',
        groups: ['g'],
      });
      const can = await t.request(
        'POST',
        '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: 'delete', resource: 'secrets', namespace: 'default' } },
        },
        auth,
      );
      assert.equal(can.status, 201);
      assert.equal((can.json.status as { allowed: boolean }).allowed, false);
      const list = await t.request(
        'GET',
        '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        undefined,
        auth,
      );
      assert.equal(list.status, 405);
    } finally {
      await t.close();
    }
  });
});
