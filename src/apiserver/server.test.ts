import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './test-server.js';

const AGG_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

describe('API server endpoints', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
  });

  test('version and health', async () => {
    const v = await t.request('GET', '/version');
    assert.equal(v.json.major, '1');
    assert.equal(v.json.minor, '32');
    assert.match(String(v.json.gitVersion), /^v1\.32\.\d+/);
    for (const p of ['/livez', '/readyz', '/healthz']) {
      const h = await t.request('GET', p);
      assert.equal(h.status, 200);
      assert.equal(h.text, 'ok');
    }
    const verbose = await t.request('GET', '/readyz?verbose');
    assert.match(verbose.text, /\[\+\]ping ok/);
    assert.match(verbose.text, /readyz check passed/);
    assert.equal((await t.request('GET', '/livez/ping')).status, 200);
  });

  test('legacy discovery', async () => {
    const api = await t.request('GET', '/api');
    assert.equal(api.json.kind, 'APIVersions');
    assert.deepEqual(api.json.versions, ['v1']);
    const apis = await t.request('GET', '/apis');
    const groups = apis.json.groups as {
      name: string;
      preferredVersion: { version: string };
      versions: unknown[];
    }[];
    const apps = groups.find((g) => g.name === 'apps')!;
    assert.equal(apps.preferredVersion.version, 'v1');
    assert.equal(apps.versions.length, 2);
    const v1 = await t.request('GET', '/api/v1');
    const resources = v1.json.resources as {
      name: string;
      kind: string;
      verbs: string[];
      shortNames?: string[];
      namespaced: boolean;
    }[];
    const cm = resources.find((r) => r.name === 'configmaps')!;
    assert.deepEqual(cm.shortNames, ['cm']);
    assert.ok(cm.verbs.includes('watch'));
    assert.ok(resources.find((r) => r.name === 'namespaces/status'));
    const appsV1 = await t.request('GET', '/apis/apps/v1');
    const scale = (appsV1.json.resources as { name: string; group?: string; kind: string }[]).find(
      (r) => r.name === 'deployments/scale',
    )!;
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.group, 'autoscaling');
    const group = await t.request('GET', '/apis/apps');
    assert.equal(group.json.kind, 'APIGroup');
    assert.equal((await t.request('GET', '/apis/nope')).status, 404);
    assert.equal((await t.request('GET', '/apis/apps/v9')).status, 404);
  });

  test('aggregated discovery', async () => {
    const res = await t.request('GET', '/apis', undefined, { Accept: AGG_ACCEPT });
    assert.equal(
      res.headers.get('content-type'),
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    assert.equal(res.json.kind, 'APIGroupDiscoveryList');
    const items = res.json.items as {
      metadata: { name: string };
      versions: { version: string; resources: Record<string, unknown>[] }[];
    }[];
    const apps = items.find((i) => i.metadata.name === 'apps')!;
    const deploy = apps.versions[0]!.resources.find((r) => r.resource === 'deployments')!;
    assert.equal(deploy.scope, 'Namespaced');
    assert.deepEqual(deploy.responseKind, { group: 'apps', version: 'v1', kind: 'Deployment' });
    assert.ok((deploy.subresources as { subresource: string }[]).some((s) => s.subresource === 'scale'));
    const core = await t.request('GET', '/api', undefined, { Accept: AGG_ACCEPT });
    const coreItems = core.json.items as { versions: { version: string }[] }[];
    assert.equal(coreItems.length, 1);
    assert.equal(coreItems[0]!.versions[0]!.version, 'v1');
    const etag = res.headers.get('etag')!;
    const again = await fetch(`${t.url}/apis`, { headers: { Accept: AGG_ACCEPT, 'If-None-Match': etag } });
    assert.equal(again.status, 304);
  });

  test('OpenAPI v3 index and group-version documents', async () => {
    const index = await t.request('GET', '/openapi/v3');
    const paths = index.json.paths as Record<string, { serverRelativeURL: string }>;
    assert.ok(paths['api/v1']);
    assert.ok(paths['apis/apps/v1']);
    const url = paths['api/v1'].serverRelativeURL;
    assert.match(url, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]+$/);
    const doc = await t.request('GET', url);
    assert.equal(doc.headers.get('cache-control'), 'public, immutable');
    const docPaths = doc.json.paths as Record<
      string,
      Record<string, { parameters?: { name: string }[]; 'x-kubernetes-group-version-kind'?: unknown }>
    >;
    const item = docPaths['/api/v1/namespaces/{namespace}/configmaps/{name}']!;
    assert.ok(item.patch!.parameters!.some((p) => p.name === 'fieldValidation'));
    assert.deepEqual(item.patch!['x-kubernetes-group-version-kind'], {
      group: '',
      version: 'v1',
      kind: 'ConfigMap',
    });
    const schemas = (doc.json.components as { schemas: Record<string, Record<string, unknown>> }).schemas;
    const cm = schemas['io.k8s.api.core.v1.ConfigMap']!;
    assert.deepEqual(cm['x-kubernetes-group-version-kind'], [
      { group: '', kind: 'ConfigMap', version: 'v1' },
    ]);
    assert.ok(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    assert.ok(
      JSON.stringify(cm).includes('#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
    );
    const stale = await fetch(`${t.url}/openapi/v3/api/v1?hash=00`, { redirect: 'manual' });
    assert.equal(stale.status, 301);
    const v2 = await t.request('GET', '/openapi/v2', undefined, { Accept: 'application/json' });
    assert.equal(v2.json.swagger, '2.0');
    const proto = await fetch(`${t.url}/openapi/v2`, {
      headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' },
    });
    assert.equal(proto.status, 200);
    assert.equal(
      proto.headers.get('content-type'),
      'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
    );
    // Field 1 (swagger) comes first: tag 0x0a, length 3, "2.0".
    assert.deepEqual(
      [...new Uint8Array(await proto.arrayBuffer()).subarray(0, 5)],
      [0x0a, 3, 0x32, 0x2e, 0x30],
    );
    const refused = await t.request('GET', '/openapi/v2', undefined, { Accept: 'application/xml' });
    assert.equal(refused.status, 406);
  });

  test('unknown paths and resources answer 404 Status; wrong verbs 405', async () => {
    const res = await t.request('GET', '/api/v1/nothings');
    assert.equal(res.status, 404);
    assert.deepEqual(res.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server could not find the requested resource',
      reason: 'NotFound',
      details: {},
      code: 404,
    });
    assert.equal((await t.request('GET', '/nowhere')).status, 404);
    const post = await t.request('POST', '/api/v1/namespaces/default/configmaps/x', {});
    assert.equal(post.status, 405);
    assert.equal(post.json.reason, 'MethodNotAllowed');
  });

  test('metrics', async () => {
    await t.request('GET', '/api/v1/namespaces/default/configmaps');
    const m = await t.request('GET', '/metrics');
    assert.match(m.text, /apiserver_request_total\{code="200",resource="configmaps",verb="LIST"\} \d+/);
    assert.match(m.text, /apiserver_request_duration_seconds_bucket/);
    assert.match(m.text, /apiserver_current_inflight_requests/);
  });
});

describe('authentication and authorization hooks', () => {
  test('denied requests get 403 with upstream wording; health stays open', async () => {
    const t = await startTestServer({
      authenticate: (req) =>
        Promise.resolve(
          req.headers.authorization === 'Bearer good' ? { name: 'alice', groups: ['devs'] } : undefined,
        ),
      authorize: (a) =>
        Promise.resolve({ allowed: a.user.name === 'alice' && a.verb !== 'delete', reason: '' }),
    });
    try {
      assert.equal((await t.request('GET', '/healthz')).status, 200);
      assert.equal((await t.request('GET', '/version')).status, 200);
      const anon = await t.request('GET', '/api/v1/namespaces/default/configmaps');
      assert.equal(anon.status, 403);
      assert.equal(
        anon.json.message,
        'configmaps is forbidden: User "system:anonymous" cannot list resource "configmaps" in API group "" in the namespace "default"',
      );
      const ok = await t.request('GET', '/api/v1/namespaces/default/configmaps', undefined, {
        Authorization: 'Bearer good',
      });
      assert.equal(ok.status, 200);
      const del = await t.request('DELETE', '/api/v1/namespaces/default/configmaps/x', undefined, {
        Authorization: 'Bearer good',
      });
      assert.equal(del.status, 403);
      assert.match(
        String(del.json.message),
        /^configmaps "x" is forbidden: User "alice" cannot delete resource "configmaps"/,
      );
    } finally {
      await t.close();
    }
  });
});
