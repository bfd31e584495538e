import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResources } from '../api/kinds/index.js';
import { startTestServer, type TestServer } from './test-server.js';

const pod = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

describe('pods/binding and pods/eviction', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ resources: builtinResources });
  });
  after(() => s.close());

  test('binding assigns the node once, sets PodScheduled, and refuses a second binding', async () => {
    assert.equal((await s.request('POST', '/api/v1/namespaces/default/pods', pod('web'))).status, 201);
    const bind = await s.request('POST', '/api/v1/namespaces/default/pods/web/binding', {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'web' },
      target: { kind: 'Node', name: 'node-1' },
    });
    assert.equal(bind.status, 201);
    assert.equal(bind.json.status, 'Success');
    const got = (await s.request('GET', '/api/v1/namespaces/default/pods/web')).json as {
      spec: { nodeName: string };
      status: { conditions: { type: string; status: string }[] };
    };
    assert.equal(got.spec.nodeName, 'node-1');
    assert.deepEqual(
      got.status.conditions.map((c) => [c.type, c.status]),
      [['PodScheduled', 'True']],
    );
    const again = await s.request('POST', '/api/v1/namespaces/default/pods/web/binding', {
      target: { kind: 'Node', name: 'node-2' },
    });
    assert.equal(again.status, 409);
    assert.equal(
      again.json.message,
      'Operation cannot be fulfilled on pods "web": pod web is already assigned to node "node-1"',
    );
  });

  test('binding without a target name is invalid and changes nothing', async () => {
    await s.request('POST', '/api/v1/namespaces/default/pods', pod('unbound'));
    const bad = await s.request('POST', '/api/v1/namespaces/default/pods/unbound/binding', { target: {} });
    assert.equal(bad.status, 422);
    const got = (await s.request('GET', '/api/v1/namespaces/default/pods/unbound')).json as {
      spec: { nodeName?: string };
    };
    assert.equal(got.spec.nodeName, undefined);
  });

  test('eviction deletes a pod, and a budget with no disruptions left refuses with 429', async () => {
    await s.request('POST', '/api/v1/namespaces/default/pods', pod('free'));
    const ok = await s.request('POST', '/api/v1/namespaces/default/pods/free/eviction', {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'free' },
      deleteOptions: { gracePeriodSeconds: 0 },
    });
    assert.equal(ok.status, 201);
    assert.equal((await s.request('GET', '/api/v1/namespaces/default/pods/free')).status, 404);

    await s.request('POST', '/api/v1/namespaces/default/pods', pod('guarded', { app: 'db' }));
    await s.request('PUT', '/api/v1/namespaces/default/pods/guarded/status', {
      ...pod('guarded', { app: 'db' }),
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    await s.request('POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'db' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } },
    });
    const refused = await s.request('POST', '/api/v1/namespaces/default/pods/guarded/eviction', {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'guarded' },
    });
    assert.equal(refused.status, 429);
    assert.equal(refused.json.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.equal((await s.request('GET', '/api/v1/namespaces/default/pods/guarded')).status, 200);
  });
});
