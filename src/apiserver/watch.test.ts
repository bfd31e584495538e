import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, TEST_BACKENDS, type TestServer } from './test-server.js';

interface WatchEventJson {
  type: string;
  object: {
    kind?: string;
    metadata: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
    [k: string]: unknown;
  };
}

/** Opens a watch and collects events until `until` says stop (or the stream ends). */
async function watch(
  url: string,
  until: (events: WatchEventJson[]) => boolean,
  headers: Record<string, string> = {},
  timeoutMs = 5000,
): Promise<{ events: WatchEventJson[]; ended: boolean; contentType: string | null }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const res = await fetch(url, { signal: ac.signal, headers });
  const events: WatchEventJson[] = [];
  let buf = '';
  let ended = false;
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = (await reader.read()) as { value?: Uint8Array; done: boolean };
      if (done) {
        ended = true;
        break;
      }
      buf += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buf.slice(0, nl)) as WatchEventJson);
        buf = buf.slice(nl + 1);
      }
      if (until(events)) break;
    }
  } catch (err) {
    if (!(err instanceof Error && err.name === 'AbortError')) throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return { events, ended, contentType: res.headers.get('content-type') };
}

const CM = '/api/v1/namespaces/default/configmaps';

for (const backend of TEST_BACKENDS)
  describe(`watch (${backend})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ watchBookmarkIntervalMs: 100, backend });
    });
    after(async () => {
      await t.close();
    });

    test('initial ADDED events, then live changes', async () => {
      await t.request('POST', CM, { metadata: { name: 'w1' } });
      const p = watch(`${t.url}${CM}?watch=1`, (ev) => ev.some((e) => e.type === 'DELETED'));
      await new Promise((r) => setTimeout(r, 100));
      await t.request(
        'PATCH',
        `${CM}/w1`,
        { data: { a: '1' } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      await t.request('POST', CM, { metadata: { name: 'w2' } });
      await t.request('DELETE', `${CM}/w1`);
      const { events, contentType } = await p;
      assert.match(String(contentType), /^application\/json/);
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.object.metadata.name}`),
        ['ADDED w1', 'MODIFIED w1', 'ADDED w2', 'DELETED w1'],
      );
      assert.equal(events[1]!.object.kind, 'ConfigMap');
      const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
      assert.deepEqual(
        [...rvs].sort((a, b) => a - b),
        rvs,
      );
    });

    test('resume from a resourceVersion; legacy watch path; single-object watch', async () => {
      const created = await t.request('POST', CM, { metadata: { name: 'r1' } });
      const rv = String(created.json.metadata!.resourceVersion);
      await t.request('POST', CM, { metadata: { name: 'r2' } });
      await t.request('POST', CM, { metadata: { name: 'r3' } });
      const { events } = await watch(
        `${t.url}${CM}?watch=true&resourceVersion=${rv}`,
        (ev) => ev.length >= 2,
      );
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.object.metadata.name}`),
        ['ADDED r2', 'ADDED r3'],
      );
      const legacy = watch(
        `${t.url}/api/v1/watch/namespaces/default/configmaps/r2?resourceVersion=${rv}`,
        (ev) => ev.length >= 2,
      );
      await t.request(
        'PATCH',
        `${CM}/r2`,
        { data: { b: '1' } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      const le = (await legacy).events;
      assert.deepEqual(
        le.map((e) => `${e.type} ${e.object.metadata.name}`),
        ['ADDED r2', 'MODIFIED r2'],
      );
    });

    test('selectors turn leaving objects into DELETED and arriving ones into ADDED', async () => {
      await t.request('POST', CM, { metadata: { name: 's1', labels: { team: 'a' } } });
      const p = watch(`${t.url}${CM}?watch=1&labelSelector=team%3Da`, (ev) => ev.length >= 3);
      await new Promise((r) => setTimeout(r, 100));
      await t.request(
        'PATCH',
        `${CM}/s1`,
        { metadata: { labels: { team: 'b' } } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      await t.request('POST', CM, { metadata: { name: 's2', labels: { team: 'b' } } });
      await t.request(
        'PATCH',
        `${CM}/s2`,
        { metadata: { labels: { team: 'a' } } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      const { events } = await p;
      assert.deepEqual(
        events.map((e) => `${e.type} ${e.object.metadata.name}`),
        ['ADDED s1', 'DELETED s1', 'ADDED s2'],
      );
      assert.deepEqual((events[1]!.object.metadata as { labels?: unknown }).labels, { team: 'a' });
    });

    test('bookmarks, sendInitialEvents and the initial-events-end marker', async () => {
      const { events } = await watch(
        `${t.url}${CM}?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`,
        (ev) => ev.filter((e) => e.type === 'BOOKMARK').length >= 2,
      );
      const firstBookmark = events.findIndex((e) => e.type === 'BOOKMARK');
      assert.ok(firstBookmark > 0);
      assert.ok(events.slice(0, firstBookmark).every((e) => e.type === 'ADDED'));
      assert.equal(events[firstBookmark]!.object.metadata.annotations?.['k8s.io/initial-events-end'], 'true');
      assert.equal(events[firstBookmark]!.object.kind, 'ConfigMap');
    });

    test('timeoutSeconds ends the stream', async () => {
      const started = Date.now();
      const { ended } = await watch(
        `${t.url}${CM}?watch=1&timeoutSeconds=1&resourceVersion=${await t.store.currentRevision()}`,
        () => false,
      );
      assert.equal(ended, true);
      assert.ok(Date.now() - started >= 900);
    });

    test('a compacted resourceVersion gets a 410 ERROR event', async () => {
      const c = await t.request('POST', CM, { metadata: { name: 'old' } });
      await t.request('DELETE', `${CM}/old`);
      await t.request('POST', CM, { metadata: { name: 'newer' } });
      await t.store.compact(await t.store.currentRevision());
      const rv = Number(c.json.metadata!.resourceVersion) - 1;
      const { events, ended } = await watch(`${t.url}${CM}?watch=1&resourceVersion=${rv}`, () => false);
      assert.equal(ended, true);
      assert.equal(events.length, 1);
      assert.equal(events[0]!.type, 'ERROR');
      assert.equal(events[0]!.object.code, 410);
      assert.equal(events[0]!.object.reason, 'Expired');
      assert.match(String(events[0]!.object.message), /^too old resource version: \d+ \(\d+\)$/);
    });

    test('table watches carry one-row tables', async () => {
      const p = watch(
        `${t.url}${CM}?watch=1&resourceVersion=${await t.store.currentRevision()}`,
        (ev) => ev.length >= 1,
        { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
      );
      await new Promise((r) => setTimeout(r, 100));
      await t.request('POST', CM, { metadata: { name: 'tbl' } });
      const { events } = await p;
      assert.equal(events[0]!.object.kind, 'Table');
      assert.equal((events[0]!.object.rows as { cells: unknown[] }[])[0]!.cells[0], 'tbl');
    });

    test('many watchers share one store watch and all see every event', async () => {
      const rv = await t.store.currentRevision();
      const watchers = Array.from({ length: 50 }, () =>
        watch(`${t.url}${CM}?watch=1&resourceVersion=${rv}`, (ev) => ev.length >= 3),
      );
      await new Promise((r) => setTimeout(r, 200));
      for (const n of ['m1', 'm2', 'm3']) await t.request('POST', CM, { metadata: { name: n } });
      const results = await Promise.all(watchers);
      for (const r of results)
        assert.deepEqual(
          r.events.map((e) => e.object.metadata.name),
          ['m1', 'm2', 'm3'],
        );
      const m = await t.request('GET', '/metrics');
      assert.match(m.text, /apiserver_watch_cache_broadcasters \d/);
    });
  });
