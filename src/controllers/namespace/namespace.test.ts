import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../api/errors.js';
import type { Namespace, NamespaceCondition } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { ResourceRef } from '../../client/rest.js';
import { NAMESPACES } from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import { FakeClock } from '../common/clock.js';
import { fakeInformer, put } from '../testing.js';
import type { DiscoveredResource, DiscoveryResult } from '../garbage-collector/discovery.js';
import { ConditionUpdater } from './conditions.js';
import { NamespaceController, type NamespaceClient } from './namespace.js';

type Ns = Namespace & KubeObject;

const CM: DiscoveredResource = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'watch'],
};
const PODS: DiscoveredResource = {
  group: '',
  version: 'v1',
  plural: 'pods',
  kind: 'Pod',
  namespaced: true,
  verbs: ['delete', 'get', 'list'],
};
const NODES: DiscoveredResource = {
  group: '',
  version: 'v1',
  plural: 'nodes',
  kind: 'Node',
  namespaced: false,
  verbs: ['delete', 'list'],
};
const LSAR: DiscoveredResource = {
  group: 'authorization.k8s.io',
  version: 'v1',
  plural: 'localsubjectaccessreviews',
  kind: 'LocalSubjectAccessReview',
  namespaced: true,
  verbs: ['create'],
};

class FakeNsClient implements NamespaceClient {
  readonly actions: string[] = [];
  /** What is in the namespace, per plural (objects that survive a delete have finalizers). */
  content = new Map<string, KubeObject[]>();
  statuses: Ns[] = [];
  finalized: Ns[] = [];
  constructor(public ns: Ns) {}
  async getNamespace(): Promise<Namespace> {
    await Promise.resolve();
    return structuredClone(this.ns);
  }
  async updateStatus(ns: Namespace): Promise<Namespace> {
    await Promise.resolve();
    this.actions.push('status');
    this.statuses.push(structuredClone(ns as Ns));
    this.ns = structuredClone(ns as Ns);
    return structuredClone(ns);
  }
  async finalize(ns: Namespace): Promise<Namespace> {
    await Promise.resolve();
    this.actions.push('finalize');
    this.finalized.push(structuredClone(ns as Ns));
    return ns;
  }
  async list(ref: ResourceRef): Promise<KubeObject[]> {
    await Promise.resolve();
    return structuredClone(this.content.get(ref.plural) ?? []);
  }
  private drop(plural: string, name?: string): void {
    const items = this.content.get(plural) ?? [];
    this.content.set(
      plural,
      items
        .filter((o) =>
          name !== undefined && o.metadata.name !== name ? true : (o.metadata.finalizers ?? []).length > 0,
        )
        .map((o) =>
          name === undefined || o.metadata.name === name
            ? { ...o, metadata: { ...o.metadata, deletionTimestamp: 'x' } }
            : o,
        ),
    );
  }
  async deleteCollection(ref: ResourceRef): Promise<void> {
    await Promise.resolve();
    this.actions.push(`deletecollection ${ref.plural}`);
    this.drop(ref.plural);
  }
  async delete(ref: ResourceRef, _ns: string, name: string): Promise<void> {
    await Promise.resolve();
    this.actions.push(`delete ${ref.plural}/${name}`);
    this.drop(ref.plural, name);
  }
}

function setup(discovery: DiscoveryResult | Error, nsExtra: Partial<Ns> = {}) {
  const clock = new FakeClock();
  const inf = fakeInformer<Ns>(NAMESPACES);
  const initial: Ns = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'doomed', deletionTimestamp: '2026-01-01T00:00:00Z' },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Terminating' },
    ...nsExtra,
  };
  const ns = put(inf, initial);
  const client = new FakeNsClient(ns);
  const requeued: Array<[string, number]> = [];
  const c = new NamespaceController({
    client,
    namespaces: inf.getLister(),
    discover: () => (discovery instanceof Error ? Promise.reject(discovery) : Promise.resolve(discovery)),
    enqueueAfter: (name, ms) => requeued.push([name, ms]),
    log: createLogger('test'),
    clock,
  });
  return { c, client, requeued, clock, inf };
}

function conditionsOf(ns: Ns | undefined): Map<string, NamespaceCondition> {
  return new Map((ns?.status?.conditions ?? []).map((c) => [c.type, c]));
}

function obj(name: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'X', metadata: { name, namespace: 'doomed', ...extra } };
}

describe('namespace controller', () => {
  test('deletes every namespaced deletable resource, sets the ok conditions and finalizes', async () => {
    const t = setup({ resources: [CM, PODS, NODES, LSAR], failed: new Map() });
    t.client.content.set('configmaps', [obj('a'), obj('b')]);
    t.client.content.set('pods', [obj('p')]);
    await t.c.sync('doomed');
    assert.deepEqual(t.client.actions, [
      'deletecollection configmaps',
      'delete pods/p',
      'status',
      'finalize',
    ]);
    const conds = conditionsOf(t.client.statuses[0]);
    assert.deepEqual(
      [...conds.keys()],
      [
        'NamespaceDeletionDiscoveryFailure',
        'NamespaceDeletionGroupVersionParsingFailure',
        'NamespaceDeletionContentFailure',
        'NamespaceContentRemaining',
        'NamespaceFinalizersRemaining',
      ],
    );
    assert.deepEqual(
      [...conds.values()].map((c) => [c.status, c.reason]),
      [
        ['False', 'ResourcesDiscovered'],
        ['False', 'ParsedGroupVersions'],
        ['False', 'ContentDeleted'],
        ['False', 'ContentRemoved'],
        ['False', 'ContentHasNoFinalizers'],
      ],
    );
    assert.deepEqual(t.client.finalized[0]!.spec?.finalizers, []);
  });

  test('content held by finalizers is reported and looked at again after 15 s', async () => {
    const t = setup({ resources: [CM], failed: new Map() });
    t.client.content.set('configmaps', [obj('a', { finalizers: ['example.com/x'] }), obj('b')]);
    await t.c.sync('doomed');
    assert.deepEqual(t.requeued, [['doomed', 15_000]]);
    assert.ok(!t.client.actions.includes('finalize'));
    const conds = conditionsOf(t.client.statuses[0]);
    assert.equal(
      conds.get('NamespaceContentRemaining')?.message,
      'Some resources are remaining: configmaps. has 1 resource instances',
    );
    assert.equal(
      conds.get('NamespaceFinalizersRemaining')?.message,
      'Some content in the namespace has finalizers remaining: example.com/x in 1 resource instances',
    );
  });

  test('a partial discovery failure is reported, the rest deleted, and the pass fails', async () => {
    const t = setup({
      resources: [CM],
      failed: new Map([['metrics.k8s.io/v1beta1', 'the server is currently unable to handle the request']]),
    });
    await assert.rejects(t.c.sync('doomed'), /unable to retrieve the complete list of server APIs/);
    assert.deepEqual(t.client.actions, ['deletecollection configmaps', 'status']);
    const c = conditionsOf(t.client.statuses[0]).get('NamespaceDeletionDiscoveryFailure');
    assert.equal(c?.status, 'True');
    assert.equal(c?.reason, 'DiscoveryFailed');
    assert.equal(
      c?.message,
      'Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the server is currently unable to handle the request',
    );
  });

  test('items that remain without finalizers are a content failure', async () => {
    const t = setup({ resources: [PODS], failed: new Map() });
    t.client.content.set('pods', [obj('p')]);
    // A delete that does nothing.
    t.client.delete = async () => Promise.resolve();
    await assert.rejects(
      t.c.sync('doomed'),
      /unexpected items still remain in namespace: doomed for gvr: \/v1, Resource=pods/,
    );
    const c = conditionsOf(t.client.statuses[0]).get('NamespaceDeletionContentFailure');
    assert.equal(c?.reason, 'ContentDeletionFailed');
    assert.equal(
      c?.message,
      'Failed to delete all resource types, 1 remaining: unexpected items still remain in namespace: doomed for gvr: /v1, Resource=pods',
    );
  });

  test('pods in their grace period make the pass wait for the longest one', async () => {
    const t = setup({ resources: [PODS], failed: new Map() });
    const pod = {
      ...obj('p', { finalizers: [] }),
      spec: { terminationGracePeriodSeconds: 30 },
      status: { phase: 'Running' },
    };
    t.client.content.set('pods', [pod]);
    t.client.delete = async () => Promise.resolve();
    await t.c.sync('doomed');
    assert.deepEqual(t.requeued, [['doomed', 30_000]]);
  });

  test('namespaces not being deleted, or without the kubernetes finalizer, are left alone', async () => {
    const t = setup({ resources: [CM], failed: new Map() }, { spec: { finalizers: ['example.com/other'] } });
    await t.c.sync('doomed');
    assert.deepEqual(t.client.actions, []);
    const u = setup({ resources: [CM], failed: new Map() });
    u.inf.store.remove('doomed');
    await u.c.sync('doomed');
    assert.deepEqual(u.client.actions, []);
  });

  test('finalize retries on conflict with a fresh copy', async () => {
    const t = setup({ resources: [], failed: new Map() });
    let calls = 0;
    const finalize = t.client.finalize.bind(t.client);
    t.client.finalize = async (ns) => {
      if (calls++ === 0)
        throw new StatusError({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          code: 409,
          reason: 'Conflict',
          message: 'conflict',
        });
      return finalize(ns);
    };
    await t.c.sync('doomed');
    assert.equal(t.client.finalized.length, 1);
  });

  test('conditions keep their transition time when only the message changes', () => {
    const conds: NamespaceCondition[] = [];
    let now = '2026-01-01T00:00:00Z';
    const a = new ConditionUpdater(() => now);
    a.contentTotals(new Map([['configmaps.', 2]]), new Map());
    assert.equal(a.update(conds), true);
    now = '2026-01-01T00:01:00Z';
    const b = new ConditionUpdater(() => now);
    b.contentTotals(new Map([['configmaps.', 1]]), new Map());
    assert.equal(b.update(conds), true);
    const c = conds.find((x) => x.type === 'NamespaceContentRemaining')!;
    assert.equal(c.lastTransitionTime, '2026-01-01T00:00:00Z');
    assert.equal(c.message, 'Some resources are remaining: configmaps. has 1 resource instances');
    const same = new ConditionUpdater(() => now);
    same.contentTotals(new Map([['configmaps.', 1]]), new Map());
    assert.equal(same.update(conds), false);
  });
});
