import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/meta.js';
import {
  DeletedFinalStateUnknown,
  SharedInformer,
  SharedInformerFactory,
  deletionHandlingKey,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type InformerOptions,
} from './informer.js';
import { RestClient } from './rest.js';
import { FakeApiServer } from './testing/fake-apiserver.js';
import { leakCheck, sleep, until } from './testing/helpers.js';
import { CONFIGMAPS, NODES, PODS } from './typed-refs.js';

const CM = '/configmaps';

function cm(
  ns: string,
  name: string,
  data: Record<string, string> = {},
  labels?: Record<string, string>,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: ns, name, ...(labels ? { labels } : {}) },
    data,
  };
}

const FAST: InformerOptions = { backoff: { initialMs: 10, maxMs: 100 } };

/** A handler that mirrors what it is told into a map and counts notifications per key. */
function mirror() {
  const state = new Map<string, KubeObject>();
  const seen = {
    add: new Map<string, number>(),
    update: new Map<string, number>(),
    delete: new Map<string, number>(),
  };
  const tombstones: string[] = [];
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  return {
    state,
    seen,
    tombstones,
    handler: {
      onAdd: (o: KubeObject) => {
        const k = metaNamespaceKey(o);
        assert.ok(!state.has(k), `add of ${k} already present`);
        state.set(k, o);
        bump(seen.add, k);
      },
      onUpdate: (old: KubeObject, o: KubeObject) => {
        const k = metaNamespaceKey(o);
        assert.equal(state.get(k), old, `update of ${k}: old is the object last delivered`);
        state.set(k, o);
        bump(seen.update, k);
      },
      onDelete: (o: KubeObject | DeletedFinalStateUnknown) => {
        const k = deletionHandlingKey(o);
        assert.ok(state.has(k), `delete of unknown ${k}`);
        if (o instanceof DeletedFinalStateUnknown) tombstones.push(k);
        state.delete(k);
        bump(seen.delete, k);
      },
    },
  };
}

function assertMirrors(state: Map<string, KubeObject>, server: FakeApiServer): void {
  const want = new Map(server.listObjects(CM).map((o) => [metaNamespaceKey(o), o.metadata.resourceVersion]));
  const got = new Map([...state].map(([k, o]) => [k, o.metadata.resourceVersion]));
  assert.deepEqual(got, want);
}

async function setup() {
  const leaks = leakCheck();
  const server = new FakeApiServer();
  await server.start();
  const client = new RestClient({ server: server.url, namespace: 'default' });
  return {
    server,
    client,
    done: async (...informers: SharedInformer[]) => {
      for (const i of informers) i.stop();
      await Promise.all(informers.map((i) => i.whenStopped()));
      client.close();
      await server.stop();
      await leaks.check();
    },
  };
}

test('keys split and join as upstream', () => {
  assert.equal(metaNamespaceKey(cm('ns', 'a')), 'ns/a');
  assert.deepEqual(splitMetaNamespaceKey('ns/a'), { namespace: 'ns', name: 'a' });
  assert.deepEqual(splitMetaNamespaceKey('node1'), { namespace: '', name: 'node1' });
  assert.throws(() => splitMetaNamespaceKey('a/b/c'));
});

test('lists in pages, syncs, serves listers and indexes, and freezes cached objects', async () => {
  const { server, client, done } = await setup();
  for (let i = 0; i < 7; i++)
    server.put(CM, cm(i % 2 ? 'odd' : 'even', `c${i}`, { i: String(i) }, { parity: i % 2 ? 'odd' : 'even' }));
  const inf = new SharedInformer(client, CONFIGMAPS, { ...FAST, pageSize: 2 });
  inf.addIndexers({ byData: (o) => [String((o.data as Record<string, string>).i)] });
  const m = mirror();
  const reg = inf.addEventHandler(m.handler);
  assert.equal(inf.hasSynced(), false);
  inf.start();
  assert.equal(await inf.waitForSync(), true);
  assert.ok(reg.hasSynced());
  assert.equal(m.state.size, 7);
  const lists = server.requests.filter((r) => r.method === 'GET' && r.query.watch === undefined);
  assert.equal(lists.length, 4, 'seven objects in pages of two');
  assert.equal(inf.list().length, 7);
  assert.equal(inf.list('odd').length, 3);
  assert.equal(inf.list(undefined, 'parity=even').length, 4);
  assert.equal(inf.get('even', 'c4')?.metadata.name, 'c4');
  assert.equal(inf.get('odd', 'c4'), undefined);
  assert.deepEqual(
    inf.byIndex('byData', '5').map((o) => o.metadata.name),
    ['c5'],
  );
  assert.deepEqual(
    inf
      .byIndex('namespace', 'odd')
      .map((o) => o.metadata.name)
      .sort(),
    ['c1', 'c3', 'c5'],
  );
  const cached = inf.get('even', 'c0')!;
  assert.throws(() => {
    cached.metadata.name = 'changed';
  }, TypeError);
  assert.throws(() => {
    (cached.data as Record<string, string>).i = 'x';
  }, TypeError);

  // Watch events flow after the list.
  await client.create(CONFIGMAPS, 'even', cm('even', 'new'));
  await until(() => m.state.has('even/new'));
  const cur = await client.get(CONFIGMAPS, 'even', 'c0');
  await client.update(CONFIGMAPS, { ...cur, data: { i: 'changed' } });
  await until(() => (m.state.get('even/c0')?.data as Record<string, string>).i === 'changed');
  await client.delete(CONFIGMAPS, 'odd', 'c1');
  await until(() => !m.state.has('odd/c1'));
  assert.deepEqual(m.tombstones, [], 'a watched delete carries the final object');
  assert.deepEqual(
    inf.byIndex('byData', 'changed').map((o) => o.metadata.name),
    ['c0'],
  );
  await done(inf);
});

test('a late handler gets synthetic adds, and a removed handler hears nothing more', async () => {
  const { server, client, done } = await setup();
  server.put(CM, cm('a', 'x'));
  server.put(CM, cm('a', 'y'));
  const inf = new SharedInformer(client, CONFIGMAPS, FAST);
  inf.start();
  await inf.waitForSync();
  const initial: boolean[] = [];
  const late = mirror();
  const reg = inf.addEventHandler({
    onAdd: (o, isInitial) => {
      initial.push(isInitial);
      late.handler.onAdd(o);
    },
    onUpdate: late.handler.onUpdate,
    onDelete: late.handler.onDelete,
  });
  assert.equal(reg.hasSynced(), true);
  assert.deepEqual([...late.state.keys()].sort(), ['a/x', 'a/y']);
  assert.deepEqual(initial, [true, true]);
  reg.remove();
  await client.create(CONFIGMAPS, 'a', cm('a', 'z'));
  await until(() => inf.get('a', 'z') !== undefined);
  assert.equal(late.state.has('a/z'), false);
  await done(inf);
});

test('a 410 mid-stream relists and handlers see the final state of every object exactly once', async () => {
  const { server, client, done } = await setup();
  for (let i = 0; i < 20; i++) server.put(CM, cm('ns', `o${i}`, { v: '0' }));
  const inf = new SharedInformer(client, CONFIGMAPS, FAST);
  const m = mirror();
  inf.addEventHandler(m.handler);
  inf.start();
  await inf.waitForSync();
  await until(() => server.openWatches === 1, 5000, 'the watch to open');

  // The watch stops hearing about changes; many happen; history is compacted; then the server says 410.
  server.holdWatchDelivery(true);
  for (let i = 0; i < 20; i++) {
    if (i % 4 === 0) server.remove(CM, 'ns', `o${i}`);
    else if (i % 4 === 1) for (let v = 1; v <= 3; v++) server.put(CM, cm('ns', `o${i}`, { v: String(v) }));
  }
  for (let i = 0; i < 5; i++) server.put(CM, cm('ns', `new${i}`));
  server.remove(CM, 'ns', 'new0'); // created and deleted while unseen: never reported
  server.compact();
  server.holdWatchDelivery(false);
  server.expireWatches();

  await until(() => inf.lastSyncResourceVersion() === String(server.currentRevision), 5000, 'the relist');
  assertMirrors(m.state, server);
  for (let i = 0; i < 20; i++) {
    const k = `ns/o${i}`;
    if (i % 4 === 0) assert.equal(m.seen.delete.get(k), 1, `${k} deleted once`);
    else if (i % 4 === 1) assert.equal(m.seen.update.get(k), 1, `${k} updated once, to its final state`);
    else assert.equal(m.seen.update.get(k), undefined, `${k} unchanged, not reported`);
  }
  assert.deepEqual(m.tombstones.sort(), ['ns/o0', 'ns/o12', 'ns/o16', 'ns/o4', 'ns/o8']);
  assert.equal(m.seen.add.get('ns/new0'), undefined);
  for (let i = 1; i < 5; i++) assert.equal(m.seen.add.get(`ns/new${i}`), 1);

  // And the new watch works.
  await client.create(CONFIGMAPS, 'ns', cm('ns', 'after'));
  await until(() => m.state.has('ns/after'));
  await done(inf);
});

test('a server restart with history kept resumes the watch without a relist', async () => {
  const { server, client, done } = await setup();
  for (let i = 0; i < 10; i++) server.put(CM, cm('ns', `o${i}`));
  const inf = new SharedInformer(client, CONFIGMAPS, FAST);
  const m = mirror();
  inf.addEventHandler(m.handler);
  inf.start();
  await inf.waitForSync();
  await until(() => server.openWatches === 1);
  await server.stop();
  for (let i = 0; i < 10; i += 2) server.put(CM, cm('ns', `o${i}`, { changed: 'yes' }));
  server.remove(CM, 'ns', 'o1');
  server.put(CM, cm('ns', 'born-offline'));
  await sleep(50); // the informer notices and retries against a closed port
  await server.start();
  await until(() => inf.lastSyncResourceVersion() === String(server.currentRevision), 5000, 'catching up');
  assertMirrors(m.state, server);
  assert.equal(m.seen.delete.get('ns/o1'), 1);
  assert.deepEqual(m.tombstones, [], 'the watch replayed the delete itself');
  const lists = server.requests.filter((r) => r.method === 'GET' && r.query.watch === undefined);
  assert.equal(lists.length, 1, 'no relist');
  await done(inf);
});

test('a server restart after compaction relists and reports missed deletes as tombstones', async () => {
  const { server, client, done } = await setup();
  for (let i = 0; i < 10; i++) server.put(CM, cm('ns', `o${i}`));
  const inf = new SharedInformer(client, CONFIGMAPS, FAST);
  const m = mirror();
  inf.addEventHandler(m.handler);
  inf.start();
  await inf.waitForSync();
  await until(() => server.openWatches === 1);
  await server.stop();
  for (let i = 0; i < 10; i += 3) server.remove(CM, 'ns', `o${i}`);
  for (let i = 1; i < 10; i += 3) server.put(CM, cm('ns', `o${i}`, { v: 'final' }));
  server.put(CM, cm('ns', 'fresh'));
  server.compact();
  await server.start();
  await until(() => inf.lastSyncResourceVersion() === String(server.currentRevision), 5000, 'the relist');
  assertMirrors(m.state, server);
  assert.deepEqual(m.tombstones.sort(), ['ns/o0', 'ns/o3', 'ns/o6', 'ns/o9']);
  for (const k of ['ns/o1', 'ns/o4', 'ns/o7']) assert.equal(m.seen.update.get(k), 1);
  assert.equal(m.seen.add.get('ns/fresh'), 1);
  await done(inf);
});

test('bookmarks advance the resourceVersion; a cleanly ended watch is reopened from it', async () => {
  const { server, client, done } = await setup();
  server.put(CM, cm('ns', 'a'));
  const inf = new SharedInformer(client, CONFIGMAPS, FAST);
  inf.start();
  await inf.waitForSync();
  await until(() => server.openWatches === 1);
  server.put('/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns', name: 'p' } });
  server.sendBookmarks();
  await until(() => inf.lastSyncResourceVersion() === String(server.currentRevision), 5000, 'the bookmark');
  server.endWatches();
  await until(() => server.openWatches === 1, 5000, 'the watch to reopen');
  const watches = server.requests.filter((r) => r.query.watch === '1');
  assert.equal(watches.at(-1)?.query.resourceVersion, String(server.currentRevision));
  assert.equal(watches.at(-1)?.query.allowWatchBookmarks, 'true');
  await done(inf);
});

test('an expired continue token falls back to one full list', async () => {
  const { server, client, done } = await setup();
  for (let i = 0; i < 5; i++) server.put(CM, cm('ns', `o${i}`));
  let failed = false;
  server.interceptor = (req) => {
    if (req.query.continue && !failed) {
      failed = true;
      return {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        reason: 'Expired',
        code: 410,
        message: 'continue too old',
      };
    }
    return undefined;
  };
  const inf = new SharedInformer(client, CONFIGMAPS, { ...FAST, pageSize: 2 });
  inf.start();
  await inf.waitForSync();
  assert.equal(inf.list().length, 5);
  await done(inf);
});

test('periodic resync redelivers every object as an update with old === new', async () => {
  const { server, client, done } = await setup();
  server.put(CM, cm('ns', 'a'));
  server.put(CM, cm('ns', 'b'));
  const inf = new SharedInformer(client, CONFIGMAPS, FAST);
  const resyncs: string[] = [];
  inf.addEventHandler(
    { onUpdate: (o, n) => (o === n ? resyncs.push(metaNamespaceKey(n)) : undefined) },
    { resyncPeriodMs: 30 },
  );
  inf.start();
  await inf.waitForSync();
  await until(() => resyncs.length >= 4, 5000, 'two resyncs');
  await done(inf);
});

test('waitForSync resolves false when stopped before the first list succeeds', async () => {
  const leaks = leakCheck();
  const server = new FakeApiServer();
  await server.start();
  const url = server.url;
  await server.stop();
  const client = new RestClient({ server: url, namespace: 'default' });
  const inf = new SharedInformer(client, NODES, FAST);
  inf.start();
  const waiting = inf.waitForSync();
  await sleep(30);
  inf.stop();
  assert.equal(await waiting, false);
  await inf.whenStopped();
  client.close();
  await leaks.check();
});

test('the factory shares one informer per resource and shuts all down', async () => {
  const { server, client, done } = await setup();
  server.put('/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns', name: 'p' } });
  server.put('/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
  const factory = new SharedInformerFactory(client, { backoff: { initialMs: 10, maxMs: 100 } });
  const a = factory.informerFor(PODS);
  const b = factory.informerFor(PODS);
  const n = factory.informerFor(NODES);
  assert.equal(a, b);
  assert.notEqual(a, n);
  factory.start();
  assert.equal(await factory.waitForCacheSync(), true);
  assert.equal(a.get('ns', 'p')?.metadata.name, 'p');
  assert.equal(n.get(undefined, 'n1')?.metadata.name, 'n1');
  await factory.shutdown();
  await done();
});

test('a throwing handler does not stop others; a namespaced, label-selected informer sees only its objects', async () => {
  const { server, client, done } = await setup();
  server.put(CM, cm('a', 'match', {}, { app: 'x' }));
  server.put(CM, cm('a', 'other', {}, { app: 'y' }));
  server.put(CM, cm('b', 'match', {}, { app: 'x' }));
  const inf = new SharedInformer(client, CONFIGMAPS, { ...FAST, namespace: 'a', labelSelector: 'app=x' });
  inf.addEventHandler({
    onAdd: () => {
      throw new Error('handler bug');
    },
  });
  const m = mirror();
  inf.addEventHandler(m.handler);
  inf.start();
  await inf.waitForSync();
  assert.deepEqual([...m.state.keys()], ['a/match']);
  server.put(CM, cm('a', 'late', {}, { app: 'x' }));
  server.put(CM, cm('b', 'late', {}, { app: 'x' }));
  server.put(CM, cm('a', 'late-y', {}, { app: 'y' }));
  await until(() => m.state.has('a/late'));
  await sleep(20);
  assert.deepEqual([...m.state.keys()].sort(), ['a/late', 'a/match']);
  await done(inf);
});

test('stripManagedFields keeps managedFields out of the cache, listed or watched', async () => {
  const { server, client, done } = await setup();
  const managed = [
    { manager: 'kubectl', operation: 'Update' as const, apiVersion: 'v1', fieldsType: 'FieldsV1' as const },
  ];
  const withManaged = (name: string): KubeObject => {
    const o = cm('ns', name);
    o.metadata.managedFields = managed;
    return o;
  };
  server.put(CM, withManaged('listed'));
  const stripped = new SharedInformer(client, CONFIGMAPS, { ...FAST, stripManagedFields: true });
  const kept = new SharedInformer(client, CONFIGMAPS, FAST);
  stripped.start();
  kept.start();
  await stripped.waitForSync();
  await kept.waitForSync();
  server.put(CM, withManaged('watched'));
  await until(() => stripped.getLister().get('ns', 'watched') !== undefined);
  await until(() => kept.getLister().get('ns', 'watched') !== undefined);
  for (const name of ['listed', 'watched']) {
    assert.equal(stripped.getLister().get('ns', name)?.metadata.managedFields, undefined, name);
    assert.deepEqual(kept.getLister().get('ns', name)?.metadata.managedFields, managed, name);
  }
  await done(stripped, kept);
});
