import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResources } from '../api/kinds/index.js';
import type { KubeObject } from '../api/meta.js';
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

  test('eviction spends a disruption of a met budget; unready pods follow unhealthyPodEvictionPolicy', async () => {
    const running = async (name: string, ready: boolean): Promise<void> => {
      await s.request('POST', '/api/v1/namespaces/default/pods', pod(name, { app: 'web' }));
      await s.request('PUT', `/api/v1/namespaces/default/pods/${name}/status`, {
        ...pod(name, { app: 'web' }),
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
      });
    };
    const evict = (name: string) =>
      s.request('POST', `/api/v1/namespaces/default/pods/${name}/eviction`, {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name },
      });
    const budget = '/apis/policy/v1/namespaces/default/poddisruptionbudgets/web';
    const setStatus = async (status: Record<string, unknown>, policy?: string): Promise<void> => {
      const cur = (await s.request('GET', budget)).json as unknown as KubeObject;
      if (policy) {
        cur.spec = { ...(cur.spec as object), unhealthyPodEvictionPolicy: policy };
        await s.request('PUT', budget, cur);
      }
      const fresh = (await s.request('GET', budget)).json as unknown as KubeObject;
      const res = await s.request('PUT', `${budget}/status`, {
        ...fresh,
        status: { observedGeneration: fresh.metadata.generation, ...status },
      });
      assert.equal(res.status, 200);
    };
    await running('w1', true);
    await running('w2', true);
    await running('sick', false);
    await s.request('POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
    });
    // Not yet observed by the controller: refused, with upstream's cause.
    const early = await evict('w1');
    assert.equal(early.status, 429);
    assert.deepEqual((early.json.details as { causes: unknown[] }).causes, [
      {
        reason: 'DisruptionBudget',
        message: 'The disruption budget web is still being processed by the server.',
      },
    ]);
    // Budget exactly met (2 healthy of 2): an unready pod may still go, a ready one may not.
    await setStatus({ currentHealthy: 2, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 0 });
    assert.equal((await evict('w1')).status, 429);
    assert.equal((await evict('sick')).status, 201);
    // One disruption allowed: spent by the first eviction, recorded, and the condition turns False.
    await setStatus({ currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1 });
    assert.equal((await evict('w1')).status, 201);
    const after = (await s.request('GET', budget)).json as unknown as KubeObject;
    const st = after.status as Record<string, unknown>;
    assert.equal(st.disruptionsAllowed, 0);
    assert.deepEqual(Object.keys(st.disruptedPods as object), ['w1']);
    assert.deepEqual(
      (st.conditions as Array<Record<string, unknown>>).map((c) => [c.type, c.status, c.reason]),
      [['DisruptionAllowed', 'False', 'InsufficientPods']],
    );
    const second = await evict('w2');
    assert.equal(second.status, 429);
    assert.deepEqual((second.json.details as { causes: unknown[] }).causes, [
      {
        reason: 'DisruptionBudget',
        message: 'The disruption budget web needs 1 healthy pods and has 2 currently',
      },
    ]);
    // Budget not met: an unready pod is protected too, unless the policy is AlwaysAllow.
    await running('sick2', false);
    await setStatus({ currentHealthy: 1, desiredHealthy: 2, expectedPods: 2, disruptionsAllowed: 0 });
    assert.equal((await evict('sick2')).status, 429);
    await setStatus(
      { currentHealthy: 1, desiredHealthy: 2, expectedPods: 2, disruptionsAllowed: 0 },
      'AlwaysAllow',
    );
    assert.equal((await evict('sick2')).status, 201);
  });

  test('an evicted pod is marked DisruptionTarget before its graceful deletion; a stale resourceVersion precondition refuses', async () => {
    const onNode = {
      ...pod('bound'),
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
    };
    const created = await s.request('POST', '/api/v1/namespaces/default/pods', onNode);
    const rv = (created.json as unknown as KubeObject).metadata.resourceVersion;
    const stale = await s.request('POST', '/api/v1/namespaces/default/pods/bound/eviction', {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'bound' },
      deleteOptions: { preconditions: { resourceVersion: '1' } },
    });
    assert.equal(stale.status, 409);
    const ok = await s.request('POST', '/api/v1/namespaces/default/pods/bound/eviction', {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'bound' },
      deleteOptions: { preconditions: { resourceVersion: rv } },
    });
    assert.equal(ok.status, 201);
    const gone = (await s.request('GET', '/api/v1/namespaces/default/pods/bound'))
      .json as unknown as KubeObject;
    assert.ok(gone.metadata.deletionTimestamp, 'deleted gracefully');
    const conditions = (gone.status as { conditions?: Array<Record<string, unknown>> }).conditions ?? [];
    const c = conditions.find((x) => x.type === 'DisruptionTarget');
    assert.deepEqual(
      [c?.status, c?.reason, c?.message],
      ['True', 'EvictionByEvictionAPI', 'Eviction API: evicting'],
    );
  });
});
