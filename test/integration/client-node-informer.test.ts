// An informer from @kubernetes/client-node (the official JavaScript client, unchanged) against a
// real in-process API server on SQLite, through everything that breaks naive watches: a
// compaction while it watches, a compaction of the history it would resume from (so the server
// answers 410 and it relists), and a restart of the server on the same data dir and port. At every
// step its cache must equal the server's list, object for object, deletes included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, ListWatch, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { builtinResources } from '../../src/api/kinds/index.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/storage/types.js';

const NS = 'informed';

interface Running {
  readonly server: ApiServer;
  readonly store: Store;
}

async function start(dataDir: string, port: number): Promise<Running> {
  const store = SqliteStore.open(dataDir);
  const server = await createApiServer({
    store,
    resources: builtinResources,
    schemas: builtinSchemas(),
    port,
    watchBookmarkIntervalMs: 500,
  });
  return { server, store };
}

async function stop(r: Running): Promise<void> {
  await r.server.close();
  await r.store.close();
}

async function eventually(
  what: string,
  check: () => Promise<string | undefined>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined = 'not checked';
  while (Date.now() < deadline) {
    last = await check();
    if (last === undefined) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: ${last}`);
}

test('a client-node informer misses nothing through compactions and a server restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-informer-'));
  let running = await start(dataDir, 0);
  const port = running.server.port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: running.server.url, skipTLSVerify: true }],
    users: [{ name: 'local' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'local', namespace: NS }],
    currentContext: 'local',
  });
  const core = kc.makeApiClient(CoreV1Api);

  let lists = 0;
  // What makeInformer builds, typed as the ListWatch it is.
  const informer = new ListWatch<V1ConfigMap>(
    `/api/v1/namespaces/${NS}/configmaps`,
    new Watch(kc),
    () => {
      lists++;
      return core.listNamespacedConfigMap({ namespace: NS });
    },
    false,
  );
  const deletedSeen = new Set<string>();
  let errors = 0;
  let stopped = false;
  const addedSeen = new Set<string>();
  informer.on('add', (obj) => addedSeen.add(obj.metadata?.name ?? ''));
  informer.on('delete', (obj) => deletedSeen.add(obj.metadata?.name ?? ''));
  // client-node leaves restarting after an error to its user, with a back-off.
  informer.on('error', () => {
    errors++;
    if (!stopped)
      setTimeout(() => {
        if (!stopped) informer.start().catch(() => undefined);
      }, 200);
  });

  const deleted = new Set<string>();
  let serial = 0;
  /** Creates, updates and deletes a batch of ConfigMaps through the API. */
  const churn = async (creates: number, updates: number, deletes: number): Promise<void> => {
    const names: string[] = [];
    for (let i = 0; i < creates; i++) {
      const name = `cm-${serial++}`;
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name }, data: { v: '0' } } });
      names.push(name);
    }
    const live = (await core.listNamespacedConfigMap({ namespace: NS })).items.map((i) => i.metadata!.name!);
    for (let i = 0; i < updates && live.length > 0; i++) {
      const name = live[(i * 7) % live.length]!;
      // client-node sends patches as JSON Patch.
      await core.patchNamespacedConfigMap({
        name,
        namespace: NS,
        body: [{ op: 'replace', path: '/data', value: { v: String(serial++) } }],
      });
    }
    for (let i = 0; i < deletes && live.length > 0; i++) {
      const name = live.splice((i * 5) % live.length, 1)[0]!;
      await core.deleteNamespacedConfigMap({ name, namespace: NS });
      deleted.add(name);
    }
  };

  /** The informer's cache equals the server's list (names, resourceVersions, data). */
  const inSync = async (): Promise<string | undefined> => {
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    const want = new Map(
      list.items.map((i) => [i.metadata!.name!, `${i.metadata!.resourceVersion} ${JSON.stringify(i.data)}`]),
    );
    const got = new Map(
      informer
        .list(NS)
        .map((i) => [i.metadata!.name!, `${i.metadata!.resourceVersion} ${JSON.stringify(i.data)}`]),
    );
    for (const [name, v] of want)
      if (got.get(name) !== v) return `${name}: server ${v}, informer ${got.get(name) ?? 'missing'}`;
    for (const name of got.keys())
      if (!want.has(name)) return `${name} deleted on the server, still in the informer`;
    // Every deletion of an object the informer had is reported (one that came and went while
    // it was away was never in its cache).
    for (const name of deleted)
      if (addedSeen.has(name) && !deletedSeen.has(name)) return `no delete notification for ${name}`;
    return undefined;
  };

  try {
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await informer.start();
    // 1. Plain watching.
    await churn(30, 20, 10);
    await eventually('in sync while watching', inSync);

    // 2. Compaction of everything up to now, while the informer watches: the watch goes on.
    await running.store.compact(await running.store.currentRevision());
    await churn(10, 10, 5);
    await eventually('in sync after a compaction under the watch', inSync);

    // 3. Changes and a compaction while the informer is away: resuming from its resourceVersion
    // gets 410 Gone, and it relists (a relist reports deletions by difference).
    await informer.stop();
    await churn(10, 15, 12);
    const before = await running.store.currentRevision();
    await running.store.compact(before);
    assert.ok(Number(informer.latestResourceVersion()) < before, 'the informer is behind the compaction');
    const listsBefore = lists;
    await informer.start();
    await eventually('in sync after resuming from compacted history', inSync);
    assert.equal(lists, listsBefore + 1, 'resuming from compacted history relists once');

    // 4. The server restarts on the same data dir and port; the informer reconnects by itself.
    const errorsBefore = errors;
    await stop(running);
    await new Promise((r) => setTimeout(r, 300));
    running = await start(dataDir, port);
    assert.equal(running.server.port, port);
    await churn(10, 10, 10);
    await eventually('in sync after a restart', inSync);
    assert.ok(errors > errorsBefore, 'the outage was reported to the error handlers');

    // 5. Once more: writes, then a compaction and a restart back to back.
    await churn(5, 10, 5);
    await running.store.compact(await running.store.currentRevision());
    await stop(running);
    running = await start(dataDir, port);
    await churn(5, 5, 5);
    await eventually('in sync after compaction and restart', inSync);

    t.diagnostic(`${lists} lists, ${errors} errors reported, ${deleted.size} deletions`);
    const final = await core.listNamespacedConfigMap({ namespace: NS });
    assert.ok(final.items.length > 10, 'objects remain');
    assert.ok(deleted.size >= 40, 'objects were deleted');
  } finally {
    stopped = true;
    await informer.stop();
    await stop(running);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
