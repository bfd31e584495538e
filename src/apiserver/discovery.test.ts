import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResources } from '../api/kinds/index.js';
import type { ResourceDescription } from '../api/types.js';
import { DiscoveryCache } from './discovery.js';
import { ResourceRegistry } from './resource-registry.js';

interface LegacyList {
  resources: { name: string }[];
}
interface AggregatedList {
  items: {
    metadata: { name?: string };
    versions: {
      version: string;
      resources: { resource: string; subresources?: { subresource: string }[] }[];
    }[];
  }[];
}

function discoveryOf(resources: readonly ResourceDescription[]): DiscoveryCache {
  return new DiscoveryCache(new ResourceRegistry(resources), () => '127.0.0.1:6443');
}

function json<T>(body: string | Buffer): T {
  return JSON.parse(body.toString()) as T;
}

test('groups are listed in the aggregator order: core, then apps, events, …, autoscaling before batch', () => {
  const discovery = discoveryOf(builtinResources);
  const apis = json<{ groups: { name: string }[] }>(discovery.apiGroupList().body);
  const names = apis.groups.map((g) => g.name);
  const order = (g: string): number => {
    const i = names.indexOf(g);
    assert.notEqual(i, -1, `${g} is served`);
    return i;
  };
  assert.equal(names[0], 'apps');
  assert.ok(order('apps') < order('events.k8s.io'));
  assert.ok(order('events.k8s.io') < order('authentication.k8s.io'));
  assert.ok(order('autoscaling') < order('batch'));
  assert.ok(order('batch') < order('networking.k8s.io'));
  assert.ok(order('rbac.authorization.k8s.io') < order('storage.k8s.io'));
  assert.ok(order('coordination.k8s.io') < order('discovery.k8s.io'));
  // Kept only for old manifests: after every group upstream serves, so kubectl never prefers it.
  if (names.includes('extensions')) assert.equal(names.at(-1), 'extensions');
  const aggregated = json<AggregatedList>(discovery.aggregated('apis', 'v2').body);
  assert.deepEqual(
    aggregated.items.map((i) => i.metadata.name),
    names,
  );
});

test('a custom group sorts after the built-in ones', () => {
  const custom: ResourceDescription = {
    ...builtinResources.find((d) => d.kind === 'ConfigMap')!,
    group: 'stable.example.com',
    version: 'v1',
    kind: 'CronTab',
    plural: 'crontabs',
    singular: 'crontab',
    shortNames: ['ct'],
  };
  const discovery = discoveryOf([...builtinResources, custom]);
  const names = json<{ groups: { name: string }[] }>(discovery.apiGroupList().body).groups.map((g) => g.name);
  assert.ok(names.indexOf('stable.example.com') > names.indexOf('flowcontrol.apiserver.k8s.io'));
  assert.ok(names.indexOf('stable.example.com') > names.indexOf('discovery.k8s.io'));
});

test('resources of a group version are sorted by name, as upstream installs them', () => {
  const discovery = discoveryOf(builtinResources);
  const batch = json<LegacyList>(discovery.apiResourceList('batch', 'v1')!.body);
  assert.deepEqual(
    batch.resources.map((r) => r.name),
    ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'],
  );
  const apps = json<LegacyList>(discovery.apiResourceList('apps', 'v1')!.body).resources.map((r) => r.name);
  assert.deepEqual(apps, [...apps].sort());
  assert.deepEqual(apps.slice(0, 4), [
    'controllerrevisions',
    'daemonsets',
    'daemonsets/status',
    'deployments',
  ]);
  assert.ok(apps.indexOf('deployments/scale') < apps.indexOf('deployments/status'));
  const core = json<LegacyList>(discovery.apiResourceList('', 'v1')!.body).resources.map((r) => r.name);
  assert.deepEqual(core, [...core].sort());

  const aggregated = json<AggregatedList>(discovery.aggregated('apis', 'v2').body);
  const appsV1 = aggregated.items.find((i) => i.metadata.name === 'apps')!.versions[0]!.resources;
  assert.deepEqual(
    appsV1.map((r) => r.resource),
    ['controllerrevisions', 'daemonsets', 'deployments', 'replicasets', 'statefulsets'],
  );
  assert.deepEqual(
    appsV1.find((r) => r.resource === 'deployments')!.subresources!.map((s) => s.subresource),
    ['scale', 'status'],
  );
  const coreAgg = json<AggregatedList>(discovery.aggregated('api', 'v2').body).items[0]!.versions[0]!
    .resources;
  const coreNames = coreAgg.map((r) => r.resource);
  assert.deepEqual(coreNames, [...coreNames].sort());
});
