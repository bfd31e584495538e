// The storage conformance suite: one set of node:test tests that every backend runs unchanged.
// Tests never assume a fresh store starts at revision 0 or that revisions are contiguous (an etcd
// shared by several clusters is neither); they assume only what the Store contract promises.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  InvalidInputError,
  KeyExistsError,
  KeyNotFoundError,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  UnavailableError,
} from './errors.js';
import type { Store, WatchEvent } from './types.js';

export interface ConformanceOptions {
  /** Concurrent writers and writes each in the watch stress test (default 8 × 1000). */
  readonly writers?: number;
  readonly writesPerWriter?: number;
  /** How long a 1-second TTL may take to produce its delete event (default 6000 ms). */
  readonly ttlDeadlineMs?: number;
  /** Open watches of the store, when the backend can tell: checks that cancel releases them. */
  readonly openWatches?: (store: Store) => number;
}

interface Collector {
  readonly events: WatchEvent[];
  error: Error | undefined;
  cancel(): void;
  /** Resolves once pred holds (checked on every batch), rejects after timeoutMs. */
  until(pred: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
}

function collect(store: Store, prefix: string, afterRevision: number): Collector {
  const waiters = new Set<() => void>();
  const c: Collector = {
    events: [],
    error: undefined,
    cancel: () => w.cancel(),
    until(pred, timeoutMs = 10_000, what = 'watch condition') {
      if (pred()) return Promise.resolve();
      if (c.error) return Promise.reject(c.error);
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pred()) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          } else if (c.error) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(c.error);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what} (have ${c.events.length} events)`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
  };
  const w = store.watch(
    prefix,
    { afterRevision, prevKv: true },
    {
      onEvents(evs) {
        c.events.push(...evs);
        for (const f of [...waiters]) f();
      },
      onError(err) {
        c.error = err;
        for (const f of [...waiters]) f();
      },
    },
  );
  return c;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function assertIncreasing(revs: readonly number[], what: string): void {
  for (let i = 1; i < revs.length; i++)
    assert.ok(revs[i]! > revs[i - 1]!, `${what}: revision ${revs[i]} at ${i} does not follow ${revs[i - 1]}`);
}

export function runStoreConformance(
  name: string,
  open: () => Promise<Store>,
  opts: ConformanceOptions = {},
): void {
  const writers = opts.writers ?? 8;
  const writesPerWriter = opts.writesPerWriter ?? 1000;
  const ttlDeadlineMs = opts.ttlDeadlineMs ?? 6000;

  /** Runs body against a freshly opened store and always closes it. */
  async function withStore(body: (s: Store) => Promise<void>): Promise<void> {
    const s = await open();
    try {
      await body(s);
    } finally {
      await s.close();
    }
  }

  describe(`storage conformance: ${name}`, () => {
    test('create then get; create of an existing key fails with KeyExistsError and consumes no revision', () =>
      withStore(async (s) => {
        const before = await s.currentRevision();
        const kv = await s.create('/c/a', 'one');
        assert.equal(kv.key, '/c/a');
        assert.equal(kv.value, 'one');
        assert.ok(kv.modRevision > before);
        assert.equal(kv.createRevision, kv.modRevision);
        assert.equal(await s.currentRevision(), kv.modRevision);
        assert.deepEqual(await s.get('/c/a'), kv);
        assert.equal(await s.get('/c/missing'), undefined);
        await assert.rejects(
          s.create('/c/a', 'two'),
          (e: unknown) => e instanceof KeyExistsError && e.key === '/c/a',
        );
        assert.equal(await s.currentRevision(), kv.modRevision);
        assert.equal((await s.get('/c/a'))?.value, 'one');
      }));

    test('update is conditional on modRevision; ConflictError carries the current value', () =>
      withStore(async (s) => {
        const a = await s.create('/u/a', 'v1');
        const b = await s.update('/u/a', 'v2', a.modRevision);
        assert.equal(b.value, 'v2');
        assert.equal(b.createRevision, a.createRevision);
        assert.ok(b.modRevision > a.modRevision);
        const rev = await s.currentRevision();
        await assert.rejects(s.update('/u/a', 'v3', a.modRevision), (e: unknown) => {
          assert.ok(e instanceof ConflictError);
          assert.equal(e.key, '/u/a');
          assert.deepEqual(e.current, b);
          return true;
        });
        await assert.rejects(s.update('/u/none', 'x', 1), KeyNotFoundError);
        assert.equal(await s.currentRevision(), rev);
        assert.deepEqual(await s.get('/u/a'), b);
      }));

    test('delete, unconditional and conditional; re-create starts a new createRevision', () =>
      withStore(async (s) => {
        const a = await s.create('/d/a', 'va');
        const b = await s.create('/d/b', 'vb');
        const da = await s.delete('/d/a');
        assert.deepEqual(da.kv, a);
        assert.ok(da.revision > b.modRevision);
        assert.equal(await s.get('/d/a'), undefined);
        await assert.rejects(s.delete('/d/a'), KeyNotFoundError);
        await assert.rejects(s.delete('/d/b', b.modRevision - 1), (e: unknown) => {
          assert.ok(e instanceof ConflictError);
          assert.deepEqual(e.current, b);
          return true;
        });
        assert.equal(await s.currentRevision(), da.revision);
        const db = await s.delete('/d/b', b.modRevision);
        assert.deepEqual(db.kv, b);
        const a2 = await s.create('/d/a', 'again');
        assert.ok(a2.createRevision > da.revision);
        assert.equal(a2.createRevision, a2.modRevision);
        await assert.rejects(s.update('/d/b', 'x', b.modRevision), KeyNotFoundError);
      }));

    test('invalid keys, values and options fail with InvalidInputError and write nothing', () =>
      withStore(async (s) => {
        const ok = await s.create('/i/ok', 'keep');
        const rev = await s.currentRevision();
        const badKeys = ['', 'relative', '/nul\0key', '/' + 'k'.repeat(MAX_KEY_BYTES), '/lone\ud800'];
        for (const k of badKeys) {
          await assert.rejects(
            s.create(k, 'v'),
            InvalidInputError,
            `create ${JSON.stringify(k.slice(0, 20))}`,
          );
          await assert.rejects(s.get(k), InvalidInputError);
          await assert.rejects(s.delete(k), InvalidInputError);
        }
        const big = 'x'.repeat(MAX_VALUE_BYTES + 1);
        await assert.rejects(s.create('/i/big', big), InvalidInputError);
        await assert.rejects(s.update('/i/ok', big, ok.modRevision), InvalidInputError);
        await assert.rejects(s.update('/i/ok', 'bad\udc00', ok.modRevision), InvalidInputError);
        await assert.rejects(s.create('/i/ttl', 'v', { ttlSeconds: 0 }), InvalidInputError);
        await assert.rejects(s.create('/i/ttl', 'v', { ttlSeconds: 1.5 }), InvalidInputError);
        await assert.rejects(s.list('noslash'), InvalidInputError);
        await assert.rejects(s.list('/i/', { limit: -1 }), InvalidInputError);
        assert.equal(await s.currentRevision(), rev);
        assert.deepEqual(await s.get('/i/ok'), ok);
        assert.equal(await s.get('/i/big'), undefined);
        assert.equal(await s.get('/i/ttl'), undefined);
        assert.equal((await s.list('/i/')).items.length, 1);
      }));

    test('one global revision increases with every write, across keys', () =>
      withStore(async (s) => {
        const revs: number[] = [await s.currentRevision()];
        for (let i = 0; i < 5; i++) {
          const kv = await s.create(`/r/${i}`, String(i));
          revs.push(kv.modRevision);
          revs.push((await s.update(`/r/${i}`, `${i}!`, kv.modRevision)).modRevision);
        }
        revs.push((await s.delete('/r/0')).revision);
        assertIncreasing(revs, 'write revisions');
        assert.equal(await s.currentRevision(), revs[revs.length - 1]);
      }));

    test('get at an old revision; future and compacted revisions fail', () =>
      withStore(async (s) => {
        await s.create('/g/first', 'so that v1 is not the first revision');
        const v1 = await s.create('/g/a', 'v1');
        const v2 = await s.update('/g/a', 'v2', v1.modRevision);
        const del = await s.delete('/g/a');
        const v3 = await s.create('/g/a', 'v3');
        assert.deepEqual(await s.get('/g/a', { revision: v1.modRevision }), v1);
        assert.deepEqual(await s.get('/g/a', { revision: v2.modRevision }), v2);
        assert.equal(await s.get('/g/a', { revision: del.revision }), undefined);
        assert.deepEqual(await s.get('/g/a', { revision: v3.modRevision }), v3);
        assert.equal(await s.get('/g/a', { revision: v1.modRevision - 1 }), undefined);
        await assert.rejects(s.get('/g/a', { revision: v3.modRevision + 1000 }), FutureRevisionError);
        await s.compact(v2.modRevision);
        assert.ok((await s.compactedRevision()) >= v2.modRevision);
        await assert.rejects(s.get('/g/a', { revision: v1.modRevision }), (e: unknown) => {
          assert.ok(e instanceof CompactedError);
          assert.equal(e.requested, v1.modRevision);
          return true;
        });
        assert.deepEqual(await s.get('/g/a', { revision: v2.modRevision }), v2);
        assert.deepEqual(await s.get('/g/a'), v3);
      }));

    test('list by prefix in key order, with limit, continuation and remaining', () =>
      withStore(async (s) => {
        const keys: string[] = [];
        for (let i = 0; i < 25; i++) keys.push(`/l/k${String(i).padStart(2, '0')}`);
        for (const k of [...keys].reverse()) await s.create(k, `value of ${k}`);
        await s.create('/l', 'the prefix itself without slash');
        await s.create('/lx/other', 'sibling prefix');
        await s.create('/m/k', 'other prefix');
        const all = await s.list('/l/');
        assert.deepEqual(
          all.items.map((kv) => kv.key),
          keys,
        );
        assert.equal(all.more, false);
        assert.equal(all.remaining, 0);
        assert.equal(all.revision, await s.currentRevision());
        const seen: string[] = [];
        let after: string | undefined;
        const remainings: number[] = [];
        let rev: number | undefined;
        for (;;) {
          const page = await s.list('/l/', { limit: 10, after, revision: rev });
          rev = page.revision;
          seen.push(...page.items.map((kv) => kv.key));
          remainings.push(page.remaining);
          assert.equal(page.more, page.remaining > 0);
          if (!page.more) break;
          after = page.items[page.items.length - 1]!.key;
        }
        assert.deepEqual(seen, keys);
        assert.deepEqual(remainings, [15, 5, 0]);
        assert.equal((await s.list('/l/', { limit: 25 })).more, false);
        assert.deepEqual((await s.count('/l/')).count, 25);
        assert.deepEqual((await s.count('/l')).count, 27);
        assert.deepEqual((await s.count('/nothing/')).count, 0);
        const c = await s.count('/m/');
        assert.equal(c.count, 1);
        assert.equal(c.revision, await s.currentRevision());
      }));

    test('continuation pages are read at the first page revision, ignoring writes in between', () =>
      withStore(async (s) => {
        for (let i = 0; i < 9; i++) await s.create(`/p/${i}`, `v${i}`);
        const first = await s.list('/p/', { limit: 3 });
        assert.deepEqual(
          first.items.map((kv) => kv.value),
          ['v0', 'v1', 'v2'],
        );
        const k5 = (await s.get('/p/5'))!;
        await s.update('/p/5', 'changed', k5.modRevision);
        await s.delete('/p/7');
        await s.create('/p/9', 'new');
        await s.delete('/p/1');
        const rest = await s.list('/p/', { after: '/p/2', revision: first.revision });
        assert.deepEqual(
          rest.items.map((kv) => kv.value),
          ['v3', 'v4', 'v5', 'v6', 'v7', 'v8'],
        );
        assert.equal(rest.revision, first.revision);
        assert.ok(rest.items.every((kv) => kv.modRevision <= first.revision));
        const now = await s.list('/p/', { after: '/p/2' });
        assert.deepEqual(
          now.items.map((kv) => kv.value),
          ['v3', 'v4', 'changed', 'v6', 'v8', 'new'],
        );
        assert.equal(first.remaining, 6);
        await s.compact(await s.currentRevision());
        await assert.rejects(s.list('/p/', { after: '/p/2', revision: first.revision }), CompactedError);
        await assert.rejects(
          s.list('/p/', { revision: (await s.currentRevision()) + 100 }),
          FutureRevisionError,
        );
      }));

    test('list is consistent while writes go on', () =>
      withStore(async (s) => {
        // A writer bumps ten keys round-robin to ever newer generations, so any consistent snapshot
        // reads [g+1, ..., g+1, g, ..., g] in key order; a torn read breaks that shape.
        const n = 10;
        const mods: number[] = [];
        for (let i = 0; i < n; i++) mods.push((await s.create(`/cons/${i}`, '0')).modRevision);
        let stop = false;
        const writer = (async () => {
          for (let g = 1; !stop && g < 100_000; g++) {
            for (let i = 0; i < n; i++)
              mods[i] = (await s.update(`/cons/${i}`, String(g), mods[i]!)).modRevision;
            // A backend that answers in microtasks would otherwise never let the reader run.
            await new Promise((r) => setImmediate(r));
          }
        })();
        let snapshots = 0;
        try {
          const deadline = Date.now() + 1500;
          while (Date.now() < deadline) {
            const values: number[] = [];
            let after: string | undefined;
            let rev: number | undefined;
            for (;;) {
              const page = await s.list('/cons/', { limit: 3, after, revision: rev });
              rev = page.revision;
              values.push(...page.items.map((kv) => Number(kv.value)));
              assert.ok(page.items.every((kv) => kv.modRevision <= page.revision));
              if (!page.more) break;
              after = page.items[page.items.length - 1]!.key;
              // Let the writer get ahead between pages.
              await new Promise((r) => setImmediate(r));
            }
            assert.equal(values.length, n);
            const top = values[0]!;
            let dropped = false;
            for (const v of values) {
              if (v === top - 1 && !dropped) dropped = true;
              assert.ok(
                v === (dropped ? top - 1 : top),
                `torn snapshot ${values.join(',')} at revision ${rev}`,
              );
            }
            snapshots++;
          }
        } finally {
          stop = true;
          await writer;
        }
        assert.ok(snapshots > 3, `only ${snapshots} snapshots`);
        assert.ok(Number((await s.get('/cons/0'))!.value) > 1, 'the writer made no progress');
      }));

    test('unicode keys sort by their UTF-8 bytes and round-trip', () =>
      withStore(async (s) => {
        const names = ['a', 'z', 'é', 'ß', '日本', '\uffff', '😀', '\ue000', 'Z', '𝔘'];
        for (const n of names) await s.create(`/uni/${n}`, `значение ${n} ✓`);
        const expected = names
          .map((n) => `/uni/${n}`)
          .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        const got = await s.list('/uni/');
        assert.deepEqual(
          got.items.map((kv) => kv.key),
          expected,
        );
        assert.equal((await s.get('/uni/😀'))?.value, 'значение 😀 ✓');
        const page = await s.list('/uni/', { after: '/uni/\uffff' });
        assert.deepEqual(
          page.items.map((kv) => kv.key),
          expected.slice(expected.indexOf('/uni/\uffff') + 1),
        );
        assert.equal((await s.list('/uni/日')).items.length, 1);
      }));

    test('values of 1 MiB are stored, read and watched intact', () =>
      withStore(async (s) => {
        const rev0 = await s.currentRevision();
        const big = Array.from({ length: (1024 * 1024) / 16 }, (_, i) =>
          i.toString(16).padStart(16, '.'),
        ).join('');
        assert.equal(big.length, 1024 * 1024);
        const kv = await s.create('/big/a', big);
        const big2 = big.slice(1) + 'é';
        await s.update('/big/a', big2, kv.modRevision);
        assert.equal((await s.get('/big/a'))?.value, big2);
        assert.equal((await s.list('/big/')).items[0]?.value, big2);
        const w = collect(s, '/big/', rev0);
        try {
          await w.until(() => w.events.length === 2, 10_000, 'two big events');
          assert.equal(w.events[1]!.kv.value, big2);
          assert.equal(w.events[1]!.prevKv?.value, big);
        } finally {
          w.cancel();
        }
      }));

    test('watch delivers create, update and delete with prevKv, in order', () =>
      withStore(async (s) => {
        const rev0 = await s.currentRevision();
        const w = collect(s, '/w/', rev0);
        try {
          await sleep(50);
          const a = await s.create('/w/a', '1');
          const b = await s.update('/w/a', '2', a.modRevision);
          await s.create('/other/x', 'not watched');
          const d = await s.delete('/w/a');
          await w.until(() => w.events.length >= 3, 10_000, 'three events');
          await sleep(50);
          assert.equal(w.events.length, 3);
          const [e1, e2, e3] = w.events as [WatchEvent, WatchEvent, WatchEvent];
          assert.equal(e1.type, 'create');
          assert.deepEqual(e1.kv, a);
          assert.equal(e1.revision, a.modRevision);
          assert.equal(e2.type, 'update');
          assert.deepEqual(e2.kv, b);
          assert.deepEqual(e2.prevKv, a);
          assert.equal(e3.type, 'delete');
          assert.equal(e3.revision, d.revision);
          assert.deepEqual(e3.kv, b);
          assert.deepEqual(e3.prevKv, b);
          assert.equal(w.error, undefined);
        } finally {
          w.cancel();
        }
      }));

    test('watch from an old revision replays history, then continues live; resume from the middle', () =>
      withStore(async (s) => {
        const rev0 = await s.currentRevision();
        const revs: number[] = [];
        let kv = await s.create('/h/a', '0');
        revs.push(kv.modRevision);
        for (let i = 1; i < 20; i++) {
          kv = await s.update('/h/a', String(i), kv.modRevision);
          revs.push(kv.modRevision);
        }
        const full = collect(s, '/h/', rev0);
        const mid = collect(s, '/h/', revs[9]!);
        try {
          for (let i = 20; i < 30; i++) {
            kv = await s.update('/h/a', String(i), kv.modRevision);
            revs.push(kv.modRevision);
          }
          await full.until(() => full.events.length >= 30, 10_000, 'full history');
          await mid.until(() => mid.events.length >= 20, 10_000, 'history after the middle');
          await sleep(50);
          assert.deepEqual(
            full.events.map((e) => e.revision),
            revs,
          );
          assert.deepEqual(
            full.events.map((e) => e.kv.value),
            revs.map((_, i) => String(i)),
          );
          assert.deepEqual(
            mid.events.map((e) => e.revision),
            revs.slice(10),
          );
          assert.equal(mid.events[0]!.prevKv?.value, '9');
        } finally {
          full.cancel();
          mid.cancel();
        }
      }));

    test(`${writers} concurrent writers × ${writesPerWriter}: every watcher sees every change once, in order`, () =>
      withStore(async (s) => {
        const rev0 = await s.currentRevision();
        const early = collect(s, '/s/', rev0);
        const written = new Map<number, string>();
        const writer = async (id: number): Promise<void> => {
          // Each writer cycles through a few keys of its own: creates, updates and deletes.
          const mods = new Map<string, number>();
          for (let i = 0; i < writesPerWriter; i++) {
            const key = `/s/w${id}/k${i % 5}`;
            const value = `w${id}-${i}`;
            const mod = mods.get(key);
            let rev: number;
            if (mod === undefined) {
              rev = (await s.create(key, value)).modRevision;
              mods.set(key, rev);
            } else if (i % 7 === 0) {
              rev = (await s.delete(key, mod)).revision;
              mods.delete(key);
            } else {
              rev = (await s.update(key, value, mod)).modRevision;
              mods.set(key, rev);
            }
            written.set(rev, key);
          }
        };
        const running = Array.from({ length: writers }, (_, id) => writer(id));
        // Watchers that join mid-load: one replays from the start, one follows a list.
        await sleep(20);
        const late = collect(s, '/s/', rev0);
        const listed = await s.list('/s/');
        const afterList = collect(s, '/s/', listed.revision);
        const one = collect(s, '/s/w3/', rev0);
        await Promise.all(running);
        const total = writers * writesPerWriter;
        assert.equal(written.size, total, 'write revisions are unique');
        const all = [...written.keys()].sort((a, b) => a - b);
        const check = async (c: Collector, expected: number[], label: string): Promise<void> => {
          await c.until(() => c.events.length >= expected.length, 30_000, label);
          await sleep(20);
          const got = c.events.map((e) => e.revision);
          assert.equal(c.error, undefined, label);
          assert.equal(got.length, expected.length, `${label}: event count`);
          assert.deepEqual(got, expected, label);
          for (const e of c.events)
            assert.equal(e.kv.key, written.get(e.revision), `${label}: key at ${e.revision}`);
        };
        try {
          await check(early, all, 'early watcher');
          await check(late, all, 'late watcher');
          await check(
            afterList,
            all.filter((r) => r > listed.revision),
            'watcher after list',
          );
          await check(
            one,
            all.filter((r) => written.get(r)!.startsWith('/s/w3/')),
            'single-writer watcher',
          );
          // The list plus the changes after it reproduce the final state.
          const state = new Map(listed.items.map((kv) => [kv.key, kv.value]));
          for (const e of afterList.events) {
            if (e.type === 'delete') state.delete(e.kv.key);
            else state.set(e.kv.key, e.kv.value);
          }
          const final = await s.list('/s/');
          assert.deepEqual(new Map(final.items.map((kv) => [kv.key, kv.value])), state);
        } finally {
          for (const c of [early, late, afterList, one]) c.cancel();
        }
      }));

    test('watch from a compacted revision fails with CompactedError through onError', () =>
      withStore(async (s) => {
        const rev0 = await s.currentRevision();
        let kv = await s.create('/cw/a', '0');
        for (let i = 1; i < 10; i++) kv = await s.update('/cw/a', String(i), kv.modRevision);
        await s.compact(kv.modRevision);
        const w = collect(s, '/cw/', rev0);
        try {
          await assert.rejects(
            w.until(() => false, 10_000, 'compacted error'),
            (e: unknown) => e instanceof CompactedError,
          );
          assert.equal(w.events.length, 0);
        } finally {
          w.cancel();
        }
        // From the compacted revision itself, nothing is missing: the watch works.
        const ok = collect(s, '/cw/', kv.modRevision);
        try {
          const next = await s.update('/cw/a', 'after', kv.modRevision);
          await ok.until(() => ok.events.length === 1, 10_000, 'event after compaction');
          assert.equal(ok.events[0]!.revision, next.modRevision);
        } finally {
          ok.cancel();
        }
      }));

    test('compaction keeps the state as of the compacted revision', () =>
      withStore(async (s) => {
        const a = await s.create('/k/a', 'a1');
        const b = await s.create('/k/b', 'b1');
        const a2 = await s.update('/k/a', 'a2', a.modRevision);
        await s.delete('/k/b', b.modRevision);
        const c = await s.create('/k/c', 'c1');
        await s.compact(c.modRevision);
        const at = await s.list('/k/', { revision: c.modRevision });
        assert.deepEqual(at.items, [a2, c]);
        await assert.rejects(s.list('/k/', { revision: a2.modRevision }), CompactedError);
        const c2 = await s.update('/k/c', 'c2', c.modRevision);
        assert.deepEqual((await s.list('/k/')).items, [a2, c2]);
        await s.compact(a.modRevision);
        assert.ok((await s.compactedRevision()) >= c.modRevision, 'compaction never goes backwards');
        await assert.rejects(s.compact((await s.currentRevision()) + 100), FutureRevisionError);
      }));

    test('a TTL deletes the key with a delete event; a later write without TTL keeps it', () =>
      withStore(async (s) => {
        const rev0 = await s.currentRevision();
        const w = collect(s, '/ttl/', rev0);
        try {
          const t0 = Date.now();
          const a = await s.create('/ttl/a', 'short-lived', { ttlSeconds: 1 });
          const b = await s.create('/ttl/b', 'kept', { ttlSeconds: 1 });
          const b2 = await s.update('/ttl/b', 'kept for good', b.modRevision);
          await w.until(
            () => w.events.some((e) => e.type === 'delete'),
            ttlDeadlineMs,
            'the TTL delete event',
          );
          assert.ok(Date.now() - t0 >= 900, 'expired too early');
          const del = w.events.find((e) => e.type === 'delete')!;
          assert.equal(del.kv.key, '/ttl/a');
          assert.deepEqual(del.prevKv, a);
          assert.equal(await s.get('/ttl/a'), undefined);
          await sleep(1200);
          assert.deepEqual(await s.get('/ttl/b'), b2);
        } finally {
          w.cancel();
        }
      }));

    test('cancel stops delivery and releases the watch', () =>
      withStore(async (s) => {
        const rev0 = await s.currentRevision();
        const before = opts.openWatches?.(s);
        const w = collect(s, '/x/', rev0);
        const a = await s.create('/x/a', '1');
        await w.until(() => w.events.length === 1, 10_000, 'first event');
        if (opts.openWatches) assert.equal(opts.openWatches(s), before! + 1);
        w.cancel();
        w.cancel();
        await s.update('/x/a', '2', a.modRevision);
        await sleep(100);
        assert.equal(w.events.length, 1);
        assert.equal(w.error, undefined);
        if (opts.openWatches) assert.equal(opts.openWatches(s), before);
      }));

    test('close ends open watches with an error and refuses further calls', async () => {
      const s = await open();
      const rev0 = await s.currentRevision();
      const w = collect(s, '/z/', rev0);
      await s.create('/z/a', '1');
      await w.until(() => w.events.length === 1, 10_000, 'first event');
      await s.close();
      await w.until(() => w.error !== undefined, 5000, 'the close error').catch(() => undefined);
      assert.ok(w.error instanceof Error, 'watch got no error on close');
      await assert.rejects(s.get('/z/a'), UnavailableError);
      await assert.rejects(s.create('/z/b', 'x'), UnavailableError);
      await s.close();
    });
  });
}
