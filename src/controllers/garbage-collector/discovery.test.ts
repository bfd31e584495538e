import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { discoverResources, hasVerbs, type DiscoveryClient } from './discovery.js';
import { gcWatchable } from './index.js';

function docs(map: Record<string, unknown>): DiscoveryClient {
  return {
    getJson: (path) =>
      path in map
        ? Promise.resolve(map[path])
        : Promise.reject(new Error(`the server could not find the requested resource (${path})`)),
  };
}

const DOCS = {
  '/api': { kind: 'APIVersions', versions: ['v1'] },
  '/apis': {
    kind: 'APIGroupList',
    groups: [
      {
        name: 'apps',
        versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
      },
      {
        name: 'autoscaling',
        versions: [{ version: 'v2' }, { version: 'v1' }],
        preferredVersion: { version: 'v2' },
      },
      {
        name: 'metrics.k8s.io',
        versions: [{ version: 'v1beta1' }],
        preferredVersion: { version: 'v1beta1' },
      },
    ],
  },
  '/api/v1': {
    resources: [
      {
        name: 'pods',
        kind: 'Pod',
        namespaced: true,
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'watch'],
      },
      { name: 'pods/status', kind: 'Pod', namespaced: true, verbs: ['get'] },
      { name: 'events', kind: 'Event', namespaced: true, verbs: ['delete', 'list', 'watch'] },
      { name: 'namespaces', kind: 'Namespace', namespaced: false, verbs: ['delete', 'list', 'watch'] },
    ],
  },
  '/apis/apps/v1': {
    resources: [
      { name: 'deployments', kind: 'Deployment', namespaced: true, verbs: ['delete', 'list', 'watch'] },
    ],
  },
  '/apis/autoscaling/v2': {
    resources: [
      {
        name: 'horizontalpodautoscalers',
        kind: 'HorizontalPodAutoscaler',
        namespaced: true,
        verbs: ['delete', 'list', 'watch'],
      },
    ],
  },
};

describe('discovery', () => {
  test('preferred versions only, subresources left out, failed group versions reported', async () => {
    const res = await discoverResources(docs(DOCS));
    assert.deepEqual(
      res.resources.map((r) => `${r.group}/${r.version}/${r.plural}`),
      [
        '/v1/pods',
        '/v1/events',
        '/v1/namespaces',
        'apps/v1/deployments',
        'autoscaling/v2/horizontalpodautoscalers',
      ],
    );
    assert.deepEqual([...res.failed.keys()], ['metrics.k8s.io/v1beta1']);
    assert.ok(hasVerbs(res.resources[0]!, 'deletecollection', 'list'));
  });

  test('the garbage collector watches deletable, listable, watchable resources except events', async () => {
    const res = await discoverResources(docs(DOCS));
    assert.deepEqual(
      res.resources.filter(gcWatchable).map((r) => r.plural),
      ['pods', 'namespaces', 'deployments', 'horizontalpodautoscalers'],
    );
  });
});
