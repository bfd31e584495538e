import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { runStoreConformance } from '../conformance.js';
import { UnavailableError } from '../errors.js';
import { SqliteStore } from './sqlite-store.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'k8ts-sqlite-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

runStoreConformance('sqlite', () => Promise.resolve(SqliteStore.open(tempDir())), {
  openWatches: (s) => (s as SqliteStore).openWatches,
});

/** The one-line error a bad data dir must produce, naming the file. */
function assertOpenFails(dir: string, pattern: RegExp): void {
  assert.throws(
    () => SqliteStore.open(dir),
    (e: unknown) => {
      assert.ok(e instanceof UnavailableError, String(e));
      assert.ok(!e.message.includes('\n'), `message is more than one line: ${e.message}`);
      assert.ok(e.message.includes(join(dir, 'state.db')), `message does not name the file: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe('sqlite store: files and data dir', () => {
  test('data survives reopen: values, revision, compacted revision and TTLs', async () => {
    const dir = tempDir();
    const s1 = SqliteStore.open(dir);
    const a = await s1.create('/a', '1');
    const a2 = await s1.update('/a', '2', a.modRevision);
    const gone = await s1.create('/gone', 'x');
    const del = await s1.delete('/gone', gone.modRevision);
    await s1.create('/ttl', 'short', { ttlSeconds: 1 });
    await s1.compact(del.revision);
    const rev = await s1.currentRevision();
    await s1.close();
    const s2 = SqliteStore.open(dir);
    try {
      assert.equal(await s2.currentRevision(), rev);
      assert.equal(await s2.compactedRevision(), del.revision);
      assert.deepEqual(await s2.get('/a'), a2);
      assert.equal(await s2.get('/gone'), undefined);
      const next = await s2.create('/b', 'b');
      assert.equal(next.modRevision, rev + 1);
      await new Promise((r) => setTimeout(r, 1300));
      assert.equal(await s2.get('/ttl'), undefined, 'the TTL of the reopened store did not fire');
    } finally {
      await s2.close();
    }
  });

  test('the revision never goes back even when compaction removed the newest row', async () => {
    const dir = tempDir();
    const s1 = SqliteStore.open(dir);
    const a = await s1.create('/a', '1');
    const d = await s1.delete('/a', a.modRevision);
    await s1.compact(d.revision);
    await s1.close();
    const s2 = SqliteStore.open(dir);
    try {
      assert.equal(await s2.currentRevision(), d.revision);
      assert.equal((await s2.create('/a', 'again')).modRevision, d.revision + 1);
    } finally {
      await s2.close();
    }
  });

  test('a second store on the same data dir is refused while the first is open', async () => {
    const dir = tempDir();
    const s1 = SqliteStore.open(dir);
    try {
      await s1.create('/a', '1');
      assertOpenFails(dir, /locked/);
      // Another process is refused too.
      const storeModule = new URL('./sqlite-store.js', import.meta.url).href;
      const r = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { SqliteStore } from ${JSON.stringify(storeModule)};
           try { SqliteStore.open(${JSON.stringify(dir)}); process.exit(0); } catch (e) { process.stdout.write(e.message); process.exit(3); }`,
        ],
        { encoding: 'utf8', env: { ...process.env, K8TS_LOG_LEVEL: 'error' } },
      );
      assert.equal(r.status, 3, `another process could open the store: ${r.stderr}`);
      assert.match(r.stdout, /is locked/);
    } finally {
      await s1.close();
    }
    const s2 = SqliteStore.open(dir);
    assert.equal((await s2.get('/a'))?.value, '1');
    await s2.close();
  });

  test('a file that is not a database fails with one line naming it, and is left alone', () => {
    const dir = tempDir();
    const garbage = 'this is not sqlite '.repeat(500);
    writeFileSync(join(dir, 'state.db'), garbage);
    assertOpenFails(dir, /not a valid database|corrupt/);
    assert.equal(readFileSync(join(dir, 'state.db'), 'utf8'), garbage);
  });

  test('a corrupt database fails its quick check with one line naming the file', async () => {
    const dir = tempDir();
    const s = SqliteStore.open(dir);
    for (let i = 0; i < 300; i++) await s.create(`/k/${String(i).padStart(4, '0')}`, 'v'.repeat(500));
    await s.close();
    // Scribble over the middle of the file: pages of the table and its indexes.
    const file = join(dir, 'state.db');
    const db = new Database(file);
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.close();
    const fd = (await import('node:fs')).openSync(file, 'r+');
    const junk = Buffer.alloc(4096 * 4, 0x5a);
    (await import('node:fs')).writeSync(fd, junk, 0, junk.length, 4096 * Math.floor(pages / 2));
    (await import('node:fs')).closeSync(fd);
    assertOpenFails(dir, /corrupt|not a valid database/);
  });

  test('a state.db that is a directory, or a foreign database, is refused', () => {
    const dir1 = tempDir();
    mkdirSync(join(dir1, 'state.db'));
    assertOpenFails(dir1, /not a regular file/);
    const dir2 = tempDir();
    const db = new Database(join(dir2, 'state.db'));
    db.exec('CREATE TABLE other (x INTEGER)');
    db.close();
    assertOpenFails(dir2, /not a k8ts database/);
  });

  test('an unusable data dir fails with one line naming the file', () => {
    const parent = tempDir();
    writeFileSync(join(parent, 'file'), 'x');
    assertOpenFails(join(parent, 'file', 'sub'), /data dir/);
  });

  test('many updates of the same keys with compaction keep the file size bounded', async () => {
    const dir = tempDir();
    const s = SqliteStore.open(dir);
    try {
      const keys = 50;
      const value = 'v'.repeat(4000);
      const mods = new Map<string, number>();
      for (let k = 0; k < keys; k++)
        mods.set(`/churn/${k}`, (await s.create(`/churn/${k}`, value)).modRevision);
      const sizes: number[] = [];
      for (let round = 0; round < 80; round++) {
        await Promise.all(
          [...mods].map(async ([key, mod]) =>
            mods.set(key, (await s.update(key, value + round, mod)).modRevision),
          ),
        );
        if (round % 5 === 4) {
          await s.compact((await s.currentRevision()) - keys);
          sizes.push(s.diskBytes());
        }
      }
      // 80 rounds × 50 keys × 4 KB is 16 MB written; the live data and one round of history are
      // 400 KB, and the WAL (bounded on its own) may hold a few MB more between checkpoints.
      const max = Math.max(...sizes);
      assert.ok(max < 4 * 1024 * 1024, `file grew to ${max} bytes: ${sizes.join(', ')}`);
      const firstHalf = Math.max(...sizes.slice(0, sizes.length / 2));
      const secondHalf = Math.max(...sizes.slice(sizes.length / 2));
      assert.ok(secondHalf <= firstHalf * 1.25, `file keeps growing: ${sizes.join(', ')}`);
      assert.equal((await s.list('/churn/')).items.length, keys);
    } finally {
      await s.close();
    }
  });
});

describe('sqlite store: recent values served from memory', () => {
  test('writes of one key in one transaction, then reads, agree with the file after a reopen', async () => {
    const dir = tempDir();
    const s = SqliteStore.open(dir);
    const first = await s.create('/r/k', 'v1');
    // Queued together, so one transaction applies them in order: update, delete, re-create, update.
    const [updated, deleted, recreated, conflict] = await Promise.allSettled([
      s.update('/r/k', 'v2', first.modRevision),
      s.delete('/r/k'),
      s.create('/r/k', 'v3'),
      s.update('/r/k', 'stale', first.modRevision),
    ]);
    assert.equal(updated.status, 'fulfilled');
    assert.equal(deleted.status, 'fulfilled');
    assert.equal(recreated.status, 'fulfilled');
    assert.equal(conflict.status, 'rejected');
    const live = await s.get('/r/k');
    assert.equal(live?.value, 'v3');
    assert.equal(live?.createRevision, recreated.status === 'fulfilled' ? recreated.value.modRevision : -1);
    const next = await s.update('/r/k', 'v4', live.modRevision);
    await assert.rejects(s.update('/r/k', 'v5', live.modRevision), /conflict|modified|revision/i);
    await s.close();
    const again = SqliteStore.open(dir);
    const fromFile = await again.get('/r/k');
    assert.deepEqual(
      { ...fromFile },
      { key: '/r/k', value: 'v4', createRevision: live.createRevision, modRevision: next.modRevision },
    );
    await again.close();
  });
});
