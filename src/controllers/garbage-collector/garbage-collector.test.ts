import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/meta.js';
import type { SharedInformer } from '../../client/informer.js';
import type { ResourceRef } from '../../client/rest.js';
import { CONFIGMAPS, SECRETS } from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import type { JsonPatchOp } from '../common/pod-control.js';
import { FakeRecorder, fakeInformer, put } from '../testing.js';
import type { DiscoveredResource } from './discovery.js';
import {
  GarbageCollector,
  removeOwnerRefsPatch,
  type GcClient,
  type PropagationPolicy,
} from './garbage-collector.js';
import { InformerGraph } from './graph.js';

const CM_RES: DiscoveredResource = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
  verbs: ['delete', 'list', 'watch', 'get'],
};
const SECRET_RES: DiscoveredResource = {
  group: '',
  version: 'v1',
  plural: 'secrets',
  kind: 'Secret',
  namespaced: true,
  verbs: ['delete', 'list', 'watch', 'get'],
};

function notFound(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 404,
    reason: 'NotFound',
    message: 'not found',
  });
}

class FakeGcClient implements GcClient {
  readonly actions: string[] = [];
  readonly patches: Array<{ name: string; ops: JsonPatchOp[] }> = [];
  constructor(private readonly infs: Map<string, SharedInformer>) {}
  async get(ref: ResourceRef, ns: string | undefined, name: string): Promise<KubeObject> {
    await Promise.resolve();
    this.actions.push(`get ${ref.plural} ${name}`);
    const o = this.infs.get(ref.plural)?.get(ns, name);
    if (!o) throw notFound();
    return structuredClone(o);
  }
  async delete(
    ref: ResourceRef,
    _ns: string | undefined,
    name: string,
    uid: string,
    policy: PropagationPolicy,
  ): Promise<void> {
    await Promise.resolve();
    assert.ok(uid);
    this.actions.push(`delete ${ref.plural} ${name} ${policy}`);
  }
  async patch(ref: ResourceRef, _ns: string | undefined, name: string, ops: JsonPatchOp[]): Promise<void> {
    await Promise.resolve();
    this.actions.push(`patch ${ref.plural} ${name}`);
    this.patches.push({ name, ops });
  }
}

function setup() {
  const cms = fakeInformer<KubeObject>(CONFIGMAPS);
  const secrets = fakeInformer<KubeObject>(SECRETS);
  const graph = new InformerGraph();
  graph.add(CM_RES, cms);
  graph.add(SECRET_RES, secrets);
  graph.setKinds([CM_RES, SECRET_RES]);
  const client = new FakeGcClient(
    new Map<string, SharedInformer>([
      ['configmaps', cms],
      ['secrets', secrets],
    ]),
  );
  const enqueued: string[] = [];
  const gc = new GarbageCollector({
    graph,
    client,
    log: createLogger('test'),
    enqueue: (uid) => enqueued.push(uid),
  });
  return { cms, secrets, graph, client, gc, enqueued };
}

function cm(name: string, meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', ...meta } };
}

function secret(name: string, meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'ns', ...meta } };
}

function ref(o: KubeObject, blockOwnerDeletion = false) {
  return {
    apiVersion: 'v1',
    kind: o.kind,
    name: o.metadata.name ?? '',
    uid: o.metadata.uid ?? '',
    blockOwnerDeletion,
  };
}

describe('garbage collector', () => {
  test('an object whose owner exists costs no request', async () => {
    const t = setup();
    const owner = put(t.cms, cm('owner'));
    const dep = put(t.secrets, secret('dep', { ownerReferences: [ref(owner)] }));
    await t.gc.sync(dep.metadata.uid ?? '');
    assert.deepEqual(t.client.actions, []);
  });

  test('an object whose only owner is gone is deleted in the background', async () => {
    const t = setup();
    const dep = put(
      t.cms,
      cm('dep', { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', uid: 'u-gone' }] }),
    );
    await t.gc.sync(dep.metadata.uid ?? '');
    assert.deepEqual(t.client.actions, [
      'get configmaps dep',
      'get configmaps gone',
      'delete configmaps dep Background',
    ]);
  });

  test('an owner with the same name but another UID counts as gone, and the policy follows the object finalizers', async () => {
    const t = setup();
    put(t.cms, cm('owner'));
    const dep = put(
      t.cms,
      cm('dep', {
        finalizers: ['orphan'],
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'old-uid' }],
      }),
    );
    await t.gc.sync(dep.metadata.uid ?? '');
    assert.equal(t.client.actions.at(-1), 'delete configmaps dep Orphan');
  });

  test('with a solid owner left, only references to gone owners are removed', async () => {
    const t = setup();
    const keeper = put(t.cms, cm('keeper'));
    const dep = put(
      t.cms,
      cm('dep', {
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', uid: 'u-gone' }, ref(keeper)],
      }),
    );
    await t.gc.sync(dep.metadata.uid ?? '');
    assert.deepEqual(t.client.actions.at(-1), 'patch configmaps dep');
    const ops = t.client.patches[0]!.ops;
    assert.deepEqual(ops, [
      { op: 'test', path: '/metadata/uid', value: dep.metadata.uid },
      { op: 'test', path: '/metadata/ownerReferences/0/uid', value: 'u-gone' },
      { op: 'remove', path: '/metadata/ownerReferences/0' },
    ]);
  });

  test('orphaning: dependents lose the reference, then the finalizer goes', async () => {
    const t = setup();
    const owner = put(
      t.cms,
      cm('owner', { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['orphan'] }),
    );
    put(t.cms, cm('d1', { ownerReferences: [ref(owner)] }));
    put(t.secrets, secret('d2', { ownerReferences: [ref(owner)] }));
    await t.gc.sync(owner.metadata.uid ?? '');
    assert.deepEqual([...t.client.actions].sort(), [
      'patch configmaps d1',
      'patch configmaps owner',
      'patch secrets d2',
    ]);
    assert.equal(t.client.actions.at(-1), 'patch configmaps owner');
    assert.deepEqual(t.client.patches.at(-1)!.ops.at(-1), { op: 'remove', path: '/metadata/finalizers' });
    assert.deepEqual(t.client.patches.find((p) => p.name === 'd1')!.ops.at(-1), {
      op: 'remove',
      path: '/metadata/ownerReferences',
    });
  });

  test('foreground: blocking dependents keep the finalizer and are queued; none left removes it', async () => {
    const t = setup();
    const owner = put(
      t.cms,
      cm('owner', {
        deletionTimestamp: '2026-01-01T00:00:00Z',
        finalizers: ['foregroundDeletion', 'example.com/x'],
      }),
    );
    const dep = put(t.cms, cm('dep', { ownerReferences: [ref(owner, true)] }));
    await t.gc.sync(owner.metadata.uid ?? '');
    assert.deepEqual(t.client.actions, []);
    assert.deepEqual(t.enqueued, [dep.metadata.uid]);
    // The dependent sees its owner waiting and is deleted.
    await t.gc.sync(dep.metadata.uid ?? '');
    assert.equal(t.client.actions.at(-1), 'delete configmaps dep Background');
    t.cms.store.remove('ns/dep');
    await t.gc.sync(owner.metadata.uid ?? '');
    assert.equal(t.client.actions.at(-1), 'patch configmaps owner');
    assert.deepEqual(t.client.patches.at(-1)!.ops.at(-1), {
      op: 'replace',
      path: '/metadata/finalizers',
      value: ['example.com/x'],
    });
  });

  test('a dependent of a waiting owner with dependents of its own unblocks its owner and goes in the foreground', async () => {
    const t = setup();
    const owner = put(
      t.cms,
      cm('owner', { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }),
    );
    const mid = put(t.cms, cm('mid', { ownerReferences: [ref(owner, true)] }));
    put(t.cms, cm('leaf', { ownerReferences: [ref(mid, true)] }));
    await t.gc.sync(mid.metadata.uid ?? '');
    assert.deepEqual(t.client.actions.slice(-2), [
      'patch configmaps mid',
      'delete configmaps mid Foreground',
    ]);
    assert.deepEqual(t.client.patches.at(-1)!.ops.at(-1), {
      op: 'replace',
      path: '/metadata/ownerReferences/0/blockOwnerDeletion',
      value: false,
    });
  });

  test('an owner in another namespace does not count, and is reported', async () => {
    const t = setup();
    const owner = put(t.cms, cm('owner', { namespace: 'other' }));
    const dep = put(t.cms, cm('dep', { ownerReferences: [ref(owner)] }));
    const recorder = new FakeRecorder();
    const gc = new GarbageCollector({
      graph: t.graph,
      client: t.client,
      log: createLogger('test'),
      recorder,
      enqueue: () => undefined,
    });
    await gc.sync(dep.metadata.uid ?? '');
    assert.equal(t.client.actions.at(-1), 'delete configmaps dep Background');
    assert.deepEqual(
      recorder.events.map((e) => e.reason),
      ['OwnerRefInvalidNamespace'],
    );
  });

  test('handlers enqueue the object, and on delete its owners and dependents', () => {
    const t = setup();
    const owner = put(t.cms, cm('owner'));
    const dep = put(t.cms, cm('dep', { ownerReferences: [ref(owner)] }));
    const h = t.gc.handlers();
    h.onAdd?.(dep, false);
    h.onDelete?.(owner);
    h.onDelete?.(dep);
    assert.deepEqual(t.enqueued, [dep.metadata.uid, dep.metadata.uid, owner.metadata.uid]);
  });

  test('removeOwnerRefsPatch leaves other references in place', () => {
    const o = cm('x', {
      uid: 'me',
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'a', uid: 'a' },
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'b', uid: 'b' },
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'c' },
      ],
    });
    const ops = removeOwnerRefsPatch(o, new Set(['a', 'c']));
    assert.deepEqual(
      ops.filter((p) => p.op === 'remove').map((p) => p.path),
      ['/metadata/ownerReferences/2', '/metadata/ownerReferences/0'],
    );
    assert.deepEqual(removeOwnerRefsPatch(o, new Set(['z'])), []);
  });
});
