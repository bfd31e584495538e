// The default backend: kine's schema in one SQLite file, owned by this process alone.
//
// One append-only table holds every version of every key; the row id is the global revision.
// A key's current value is its newest row. An update inserts a row naming the revision it replaces
// (prev_revision), and the unique index on (name, prev_revision) refuses a second successor of the
// same version. A delete inserts a tombstone that carries the deleted value, so a watch replaying
// history can still deliver it. Compaction removes superseded rows and tombstones up to a revision
// and gives the pages back to the file system (k3s users learned what happens otherwise).
//
// Because one process owns the file (an exclusive lock on state.db.lock), watchers are fed straight
// after each commit instead of polling, and concurrent writes that arrive in the same turn of the
// event loop share one transaction (group commit). WAL checkpoints, with their fsyncs, run on a
// worker thread (wal-checkpointer.ts) rather than inside commits.
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  StorageError,
  UnavailableError,
  validateKey,
  validateTtl,
  validateValue,
} from '../errors.js';
import { prefixEnd, resolveReadRevision, validateLimit, validatePrefix, validateRevision } from '../keys.js';
import { settle } from '../settle.js';
import { TtlTracker } from '../ttl.js';
import { RESTART_WAL_FRAMES, WalCheckpointer } from './wal-checkpointer.js';
import type {
  KeyValue,
  ListOptions,
  ListResult,
  Store,
  Watch,
  WatchEvent,
  WatchHandlers,
  WatchOptions,
  WriteOptions,
} from '../types.js';
import { LatestValues } from './latest-values.js';
import { WatchHub } from '../watch-hub.js';
import { createLogger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';

const SCHEMA_VERSION = 1;
/** Rows examined per compaction transaction, so writes are never held up for long. */
const COMPACT_CHUNK = 5000;
/** Give free pages back once there are this many (4 KiB pages: 1 MiB). */
const VACUUM_MIN_FREE_PAGES = 256;
/**
 * SQLite's own auto-checkpoint, in the commit path, only past this many WAL pages (64 MiB): the
 * safety net should the checkpointer thread fall behind or die.
 */
const SAFETY_AUTOCHECKPOINT_PAGES = 2 * RESTART_WAL_FRAMES;

const log = createLogger('storage.sqlite');
const commitSeconds = metrics.histogram(
  'k8ts_storage_sqlite_commit_duration_seconds',
  'Time to apply and commit one group of writes.',
  [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
);
const commitBatch = metrics.histogram(
  'k8ts_storage_sqlite_commit_batch_size',
  'Writes per committed group.',
  [1, 2, 4, 8, 16, 32, 64, 128, 256],
);
const latestReads = metrics.counter(
  'k8ts_storage_sqlite_latest_reads_total',
  "Reads of a key's current value, by whether recent values in memory had it (hit) or SQLite was read (miss).",
);
const writesTotal = metrics.counter(
  'k8ts_storage_writes_total',
  'Storage writes by backend, operation and result.',
);

export interface SqliteStoreOptions {
  /** Run PRAGMA quick_check at open (default true). */
  readonly quickCheck?: boolean;
}

interface Row {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

interface ReplayRow extends Row {
  prev_value: string | null;
  prev_create_revision: number | null;
}

type WriteOp =
  | { kind: 'create'; key: string; value: string; expiresAt: number | undefined }
  | { kind: 'update'; key: string; value: string; expected: number; expiresAt: number | undefined }
  | { kind: 'delete'; key: string; expected: number | undefined };

interface Pending {
  op: WriteOp;
  resolve: (r: { kv: KeyValue; revision: number }) => void;
  reject: (e: Error) => void;
}

interface Applied {
  kv: KeyValue;
  revision: number;
  event: WatchEvent;
  expiresAt: number | undefined;
}

interface RangeParams {
  prefix: string;
  end: string;
  after: string;
  revision: number;
}

function rowKv(r: Row): KeyValue {
  return { key: r.name, value: r.value, createRevision: r.create_revision, modRevision: r.id };
}

/** One line: which file, and what is wrong with it. */
function openError(file: string, what: string, err?: unknown): UnavailableError {
  const detail = err instanceof Error ? `: ${err.message.split('\n')[0]}` : '';
  return new UnavailableError(`storage file ${file} ${what}${detail}`);
}

export class SqliteStore implements Store {
  readonly backend = 'sqlite';
  readonly file: string;
  private readonly db: Database.Database;
  private rev = 0;
  private compactRev = 0;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private compacting: Promise<void> | undefined;
  private closed = false;
  private readonly hub: WatchHub;
  private readonly ttl: TtlTracker;
  private readonly applyBatch: (batch: readonly Pending[]) => (Applied | StorageError)[];

  private readonly stmt: {
    current: Database.Statement<[string], Row>;
    atRevision: Database.Statement<[string, number], Row>;
    insert: Database.Statement<[number, string, number, number, number, number, number | null, string]>;
    list: Database.Statement<[RangeParams & { limit: number }], Row>;
    countAfter: Database.Statement<[RangeParams], { n: number }>;
    replay: Database.Statement<
      [{ after: number; upTo: number; prefix: string; end: string; limit: number }],
      ReplayRow
    >;
    setMeta: Database.Statement<[string, number]>;
    deleteSuperseded: Database.Statement<[number, number]>;
    deleteTombstones: Database.Statement<[number, number]>;
  };

  private readonly lockDb: Database.Database;
  /** Committed values of recent keys (see latest-values.ts). */
  private readonly latest = new LatestValues();
  /** Keys written by the transaction being applied: their state is read from SQLite, which sees it. */
  private readonly touched = new Set<string>();
  private checkpointer: WalCheckpointer | undefined;
  /** Writes wait in the queue while the checkpointer resets the WAL (see wal-checkpointer.ts). */
  private writesHeld = false;
  private readonly resumeWaiters: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  private constructor(file: string, db: Database.Database, lockDb: Database.Database) {
    this.file = file;
    this.db = db;
    this.lockDb = lockDb;
    this.stmt = {
      // Along one name's chain prev_revision grows with id, so the unique index (whose entries
      // also carry the row id) serves "newest row of a name" without an index of its own.
      current: db.prepare('SELECT * FROM kv WHERE name = ? ORDER BY prev_revision DESC LIMIT 1'),
      atRevision: db.prepare(
        'SELECT * FROM kv WHERE name = ? AND id <= ? ORDER BY prev_revision DESC LIMIT 1',
      ),
      insert: db.prepare(
        'INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, expires_at, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      // The newest row of each name at the revision, skipping tombstones. The grouping walks the
      // (name, prev_revision) index in name order, so the limit inside stops it early; a bare
      // column next to MAX() comes from the row that has the maximum (SQLite guarantees it).
      list: db.prepare(
        `SELECT kv.* FROM (
           SELECT MAX(id) AS mid, deleted FROM kv
           WHERE name >= @prefix AND name < @end AND name > @after AND id <= @revision
           GROUP BY name HAVING deleted = 0 ORDER BY name LIMIT @limit
         ) m JOIN kv ON kv.id = m.mid ORDER BY kv.name`,
      ),
      countAfter: db.prepare(
        `SELECT COUNT(*) AS n FROM (
           SELECT MAX(id) AS mid, deleted FROM kv
           WHERE name >= @prefix AND name < @end AND name > @after AND id <= @revision
           GROUP BY name HAVING deleted = 0
         )`,
      ),
      replay: db.prepare(
        `SELECT kv.*, p.value AS prev_value, p.create_revision AS prev_create_revision
         FROM kv LEFT JOIN kv p ON p.id = kv.prev_revision AND kv.created = 0 AND kv.deleted = 0
         WHERE kv.id > @after AND kv.id <= @upTo AND kv.name >= @prefix AND kv.name < @end
         ORDER BY kv.id LIMIT @limit`,
      ),
      setMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
      // Every row that a row in the range superseded, then the range's tombstones: see compact().
      deleteSuperseded: db.prepare(
        'DELETE FROM kv WHERE id IN (SELECT prev_revision FROM kv WHERE id > ? AND id <= ? AND prev_revision > 0)',
      ),
      deleteTombstones: db.prepare('DELETE FROM kv WHERE id > ? AND id <= ? AND deleted = 1'),
    };
    this.applyBatch = db.transaction((batch: readonly Pending[]) => batch.map((p) => this.apply(p.op)));
    this.hub = new WatchHub(
      'sqlite',
      {
        replay: (prefix, after, upTo, limit) => this.replay(prefix, after, upTo, limit),
        compacted: () => this.compactRev,
      },
      log,
    );
    this.ttl = new TtlTracker((key, modRevision) => {
      this.enqueue({ kind: 'delete', key, expected: modRevision }).catch((err: unknown) => {
        // The key changed or went away since the deadline was read: nothing to expire.
        if (!(
          err instanceof ConflictError ||
          err instanceof KeyNotFoundError ||
          err instanceof UnavailableError
        ))
          log.warn('TTL delete failed', { key, err: err instanceof Error ? err : String(err) });
      });
    });
  }

  /** Open (or create) `<dataDir>/state.db`, taking the data dir for this process alone. */
  static open(dataDir: string, opts: SqliteStoreOptions = {}): SqliteStore {
    const file = join(dataDir, 'state.db');
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      throw openError(file, 'cannot be created: the data dir is not usable', err);
    }
    let existed = false;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw openError(file, 'is not a regular file');
      existed = st.size > 0;
    } catch (err) {
      if (err instanceof UnavailableError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw openError(file, 'cannot be read', err);
    }
    const lock = SqliteStore.lock(file);
    let db: Database.Database | undefined;
    try {
      try {
        // No busy waiting: this process is the only writer, and with a busy handler a commit that
        // wants to restart the WAL would sleep while the checkpointer thread reads it.
        db = new Database(file, { timeout: 0 });
      } catch (err) {
        throw openError(file, 'cannot be opened', err);
      }
      SqliteStore.prepare(db, file, existed, opts.quickCheck ?? true);
    } catch (err) {
      db?.close();
      lock.close();
      if (err instanceof UnavailableError) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
        throw openError(file, 'is not a valid database', err);
      throw openError(file, 'cannot be used', err);
    }
    const store = new SqliteStore(file, db, lock);
    store.load();
    return store;
  }

  /**
   * Take the data dir for this process: an exclusive SQLite lock on `state.db.lock`, held until
   * close. The kernel drops it when the process dies, so a crash never leaves a stale lock, and a
   * second store in this process or another is refused.
   */
  private static lock(file: string): Database.Database {
    const lockFile = `${file}.lock`;
    let lock: Database.Database;
    try {
      lock = new Database(lockFile, { timeout: 0 });
    } catch (err) {
      throw openError(file, `cannot be locked (${lockFile})`, err);
    }
    try {
      lock.pragma('locking_mode = EXCLUSIVE');
      lock.exec(
        'BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS owner (pid INTEGER); DELETE FROM owner; ' +
          `INSERT INTO owner VALUES (${process.pid}); COMMIT`,
      );
    } catch (err) {
      lock.close();
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED')
        throw openError(file, `is locked: another k8ts process is using this data dir (${lockFile})`);
      throw openError(file, `cannot be locked (${lockFile})`, err);
    }
    return lock;
  }

  private static prepare(db: Database.Database, file: string, existed: boolean, quickCheck: boolean): void {
    if (quickCheck && existed) {
      let result: string;
      try {
        result = db.pragma('quick_check(1)', { simple: true }) as string;
      } catch (err) {
        throw openError(file, 'is corrupt', err);
      }
      if (result !== 'ok') throw openError(file, `is corrupt (quick_check: ${result.replace(/\s+/g, ' ')})`);
    }
    if (!existed) {
      // Only takes effect before the first table exists; lets compaction return pages to the OS.
      db.pragma('auto_vacuum = INCREMENTAL');
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // A reset WAL keeps its size up to this limit (more than the reset point, so the file is not
    // cut and regrown each time); past it, as after the safety-net checkpoint, it is cut back.
    db.pragma(`journal_size_limit = ${(RESTART_WAL_FRAMES + 2048) * 4096}`);
    // The checkpointer thread does the regular checkpoints; this one is the safety net if it stops.
    db.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT_PAGES}`);
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .pluck()
      .all() as string[];
    if (tables.length > 0 && !(tables.includes('kv') && tables.includes('meta')))
      throw openError(file, `is not a k8ts database (tables: ${tables.join(', ')})`);
    db.exec(`
      CREATE TABLE IF NOT EXISTS kv (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        created INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        create_revision INTEGER NOT NULL,
        prev_revision INTEGER NOT NULL,
        expires_at INTEGER,
        value TEXT NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS kv_name_prev_revision ON kv (name, prev_revision);
      CREATE INDEX IF NOT EXISTS kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as
      number | undefined;
    if (version === undefined)
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(SCHEMA_VERSION);
    else if (version !== SCHEMA_VERSION)
      throw openError(file, `has schema version ${version}, this k8ts understands ${SCHEMA_VERSION}`);
    if (existed && (db.pragma('auto_vacuum', { simple: true }) as number) !== 2) {
      // A file made without incremental auto-vacuum could never shrink; convert it once.
      db.pragma('auto_vacuum = INCREMENTAL');
      db.exec('VACUUM');
    }
  }

  private holdWrites(): void {
    this.writesHeld = true;
  }

  /** Resolves when writes are not held. */
  private writable(): Promise<void> {
    if (!this.writesHeld) return Promise.resolve();
    return new Promise((resolve) => this.resumeWaiters.push(resolve));
  }

  private resumeWrites(): void {
    if (!this.writesHeld) return;
    this.writesHeld = false;
    for (const resolve of this.resumeWaiters.splice(0)) resolve();
    if (this.queue.length > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private load(): void {
    this.checkpointer = new WalCheckpointer(
      this.file,
      { hold: () => this.holdWrites(), resume: () => this.resumeWrites() },
      log,
      () => {
        if (!this.closed) this.db.pragma('wal_autocheckpoint = 1000');
      },
    );
    const maxId = (this.db.prepare('SELECT MAX(id) FROM kv').pluck().get() as number | null) ?? 0;
    this.compactRev =
      (this.db.prepare("SELECT value FROM meta WHERE key = 'compact_revision'").pluck().get() as
        number | undefined) ?? 0;
    // Compaction may have removed the newest row (a tombstone), so the compacted revision counts too.
    this.rev = Math.max(maxId, this.compactRev);
    const expiring = this.db
      .prepare(
        `SELECT k.name, k.id, k.expires_at FROM kv k WHERE k.expires_at IS NOT NULL AND k.deleted = 0
         AND NOT EXISTS (SELECT 1 FROM kv n WHERE n.name = k.name AND n.id > k.id)`,
      )
      .all() as { name: string; id: number; expires_at: number }[];
    for (const r of expiring) this.ttl.set(r.name, r.id, r.expires_at);
    log.info('opened', {
      file: this.file,
      revision: this.rev,
      compacted: this.compactRev,
      expiring: expiring.length,
    });
  }

  /** Open watches, for leak checks. */
  get openWatches(): number {
    return this.hub.size;
  }

  private check(): void {
    if (this.closed) throw new UnavailableError('store is closed');
  }

  currentRevision(): Promise<number> {
    return settle(() => {
      this.check();
      return this.rev;
    });
  }

  compactedRevision(): Promise<number> {
    return settle(() => {
      this.check();
      return this.compactRev;
    });
  }

  private readRevision(revision: number | undefined): number {
    return resolveReadRevision(revision, this.rev, this.compactRev);
  }

  get(key: string, opts?: { readonly revision?: number }): Promise<KeyValue | undefined> {
    return settle(() => {
      this.check();
      validateKey(key);
      const rev = this.readRevision(opts?.revision);
      if (rev !== this.rev) {
        const row = this.stmt.atRevision.get(key, rev);
        return row && !row.deleted ? rowKv(row) : undefined;
      }
      const hit = this.latest.get(key);
      latestReads.inc({ result: hit ? 'hit' : 'miss' });
      if (hit) return hit;
      const row = this.stmt.current.get(key);
      if (!row || row.deleted) return undefined;
      const kv = rowKv(row);
      this.latest.set(kv);
      return kv;
    });
  }

  private expiry(opts: WriteOptions | undefined): number | undefined {
    validateTtl(opts?.ttlSeconds);
    return opts?.ttlSeconds === undefined ? undefined : Date.now() + opts.ttlSeconds * 1000;
  }

  async create(key: string, value: string, opts?: WriteOptions): Promise<KeyValue> {
    this.check();
    validateKey(key);
    validateValue(value);
    return (await this.enqueue({ kind: 'create', key, value, expiresAt: this.expiry(opts) })).kv;
  }

  async update(
    key: string,
    value: string,
    expectedModRevision: number,
    opts?: WriteOptions,
  ): Promise<KeyValue> {
    this.check();
    validateKey(key);
    validateValue(value);
    validateRevision('expectedModRevision', expectedModRevision);
    return (
      await this.enqueue({
        kind: 'update',
        key,
        value,
        expected: expectedModRevision,
        expiresAt: this.expiry(opts),
      })
    ).kv;
  }

  async delete(
    key: string,
    expectedModRevision?: number,
  ): Promise<{ readonly kv: KeyValue; readonly revision: number }> {
    this.check();
    validateKey(key);
    validateRevision('expectedModRevision', expectedModRevision);
    return this.enqueue({ kind: 'delete', key, expected: expectedModRevision });
  }

  private enqueue(op: WriteOp): Promise<{ kv: KeyValue; revision: number }> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new UnavailableError('store is closed'));
        return;
      }
      this.queue.push({ op, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate rather than a microtask: writers woken by the previous commit get to
        // queue their next write first, so they share the next transaction.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Apply one write inside the open transaction; a precondition failure returns the error. */
  private apply(op: WriteOp): Applied | StorageError {
    let live = this.touched.has(op.key) ? undefined : this.latest.get(op.key);
    // The newest row's id, a tombstone's too: a re-created key's first row points at it.
    let newestId = live?.modRevision ?? 0;
    if (!live) {
      const cur = this.stmt.current.get(op.key);
      newestId = cur?.id ?? 0;
      live = cur && !cur.deleted ? rowKv(cur) : undefined;
    }
    this.touched.add(op.key);
    if (op.kind === 'create') {
      if (live) return new KeyExistsError(op.key);
      const id = this.rev + 1;
      this.stmt.insert.run(id, op.key, 1, 0, id, newestId, op.expiresAt ?? null, op.value);
      this.rev = id;
      const kv: KeyValue = { key: op.key, value: op.value, createRevision: id, modRevision: id };
      return { kv, revision: id, event: { type: 'create', revision: id, kv }, expiresAt: op.expiresAt };
    }
    if (!live) return new KeyNotFoundError(op.key);
    const prev = live;
    if (op.expected !== undefined && live.modRevision !== op.expected) return new ConflictError(op.key, prev);
    const id = this.rev + 1;
    if (op.kind === 'update') {
      this.stmt.insert.run(
        id,
        op.key,
        0,
        0,
        live.createRevision,
        live.modRevision,
        op.expiresAt ?? null,
        op.value,
      );
      this.rev = id;
      const kv: KeyValue = {
        key: op.key,
        value: op.value,
        createRevision: live.createRevision,
        modRevision: id,
      };
      return {
        kv,
        revision: id,
        event: { type: 'update', revision: id, kv, prevKv: prev },
        expiresAt: op.expiresAt,
      };
    }
    this.stmt.insert.run(id, op.key, 0, 1, live.createRevision, live.modRevision, null, live.value);
    this.rev = id;
    return {
      kv: prev,
      revision: id,
      event: { type: 'delete', revision: id, kv: prev, prevKv: prev },
      expiresAt: undefined,
    };
  }

  private flush(force = false): void {
    this.flushScheduled = false;
    if (this.writesHeld && !force) return;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (this.closed && !this.db.open) {
      for (const p of batch) p.reject(new UnavailableError('store is closed'));
      return;
    }
    const revBefore = this.rev;
    const start = performance.now();
    let results: (Applied | StorageError)[];
    try {
      results = this.applyBatch(batch);
    } catch (err) {
      this.touched.clear();
      this.rev = revBefore;
      if (batch.length > 1) {
        // Something below the preconditions failed (disk full, I/O): retry one by one so a
        // single bad write does not take its neighbours down with it.
        for (const p of batch) {
          this.queue.push(p);
          this.flush(true);
        }
        return;
      }
      writesTotal.inc({ backend: 'sqlite', op: batch[0]!.op.kind, result: 'error' });
      batch[0]!.reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.touched.clear();
    // Committed: the cache follows.
    for (const r of results) {
      if (r instanceof StorageError) continue;
      if (r.event.type === 'delete') this.latest.delete(r.kv.key);
      else this.latest.set(r.kv);
    }
    commitSeconds.observe((performance.now() - start) / 1000);
    commitBatch.observe(batch.length);
    this.checkpointer?.noteWrites(batch.length);
    const events: WatchEvent[] = [];
    for (const r of results) {
      if (r instanceof StorageError) continue;
      events.push(r.event);
      if (r.event.type === 'delete') this.ttl.clear(r.kv.key);
      else this.ttl.set(r.kv.key, r.kv.modRevision, r.expiresAt);
    }
    this.hub.publish(events);
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r instanceof StorageError) {
        writesTotal.inc({ backend: 'sqlite', op: p.op.kind, result: r.name });
        p.reject(r);
      } else {
        writesTotal.inc({ backend: 'sqlite', op: p.op.kind, result: 'ok' });
        p.resolve({ kv: r.kv, revision: r.revision });
      }
    });
  }

  private range(prefix: string): string {
    const end = prefixEnd(prefix);
    // Prefixes start with "/", so there is always an end.
    if (end === undefined) throw new UnavailableError(`no range end for prefix ${prefix}`);
    return end;
  }

  list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    return settle(() => {
      this.check();
      validatePrefix(prefix);
      validateLimit(opts?.limit);
      if (opts?.after !== undefined) validateKey(opts.after);
      const revision = this.readRevision(opts?.revision);
      const end = this.range(prefix);
      const after = opts?.after ?? '';
      const limit = opts?.limit ?? 0;
      const rows = this.stmt.list.all({ prefix, end, after, revision, limit: limit > 0 ? limit : -1 });
      const items = rows.map(rowKv);
      let remaining = 0;
      if (limit > 0 && items.length === limit) {
        remaining = this.stmt.countAfter.get({
          prefix,
          end,
          after: items[items.length - 1]!.key,
          revision,
        })!.n;
      }
      return { items, revision, more: remaining > 0, remaining };
    });
  }

  count(prefix: string): Promise<{ readonly count: number; readonly revision: number }> {
    return settle(() => {
      this.check();
      validatePrefix(prefix);
      const n = this.stmt.countAfter.get({
        prefix,
        end: this.range(prefix),
        after: '',
        revision: this.rev,
      })!.n;
      return { count: n, revision: this.rev };
    });
  }

  private replay(
    prefix: string,
    after: number,
    upTo: number,
    limit: number,
  ): { events: WatchEvent[]; reached: number } {
    const rows = this.stmt.replay.all({ after, upTo, prefix, end: this.range(prefix), limit });
    const events: WatchEvent[] = rows.map((r) => {
      if (r.created) {
        const kv = rowKv(r);
        return { type: 'create', revision: r.id, kv };
      }
      if (r.deleted) {
        const prev: KeyValue = {
          key: r.name,
          value: r.value,
          createRevision: r.create_revision,
          modRevision: r.prev_revision,
        };
        return { type: 'delete', revision: r.id, kv: prev, prevKv: prev };
      }
      const kv = rowKv(r);
      const prevKv: KeyValue | undefined =
        r.prev_value === null
          ? undefined
          : {
              key: r.name,
              value: r.prev_value,
              createRevision: r.prev_create_revision!,
              modRevision: r.prev_revision,
            };
      return prevKv ? { type: 'update', revision: r.id, kv, prevKv } : { type: 'update', revision: r.id, kv };
    });
    const reached = rows.length < limit ? upTo : rows[rows.length - 1]!.id;
    return { events, reached };
  }

  watch(prefix: string, opts: WatchOptions, handlers: WatchHandlers): Watch {
    this.check();
    validatePrefix(prefix);
    validateRevision('afterRevision', opts.afterRevision);
    return this.hub.add(prefix, opts.afterRevision, this.rev, handlers);
  }

  async compact(revision: number): Promise<void> {
    this.check();
    validateRevision('revision', revision);
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    // One compaction at a time; a later request waits and then continues from where it ended.
    while (this.compacting) await this.compacting;
    if (revision <= this.compactRev) return;
    this.compacting = this.runCompaction(revision);
    try {
      await this.compacting;
    } finally {
      this.compacting = undefined;
    }
  }

  private async runCompaction(revision: number): Promise<void> {
    const from = this.compactRev;
    const start = performance.now();
    // Writes of compaction bypass the write queue, so they too wait while the WAL is being reset.
    await this.writable();
    if (this.closed) return;
    // Record the new floor first: from here on reads and watches below it fail cleanly instead of
    // seeing history half removed.
    this.stmt.setMeta.run('compact_revision', revision);
    this.compactRev = revision;
    this.hub.compacted(revision);
    let removed = 0;
    for (let lo = from; lo < revision; lo += COMPACT_CHUNK) {
      await this.writable();
      if (this.closed) return;
      const hi = Math.min(lo + COMPACT_CHUNK, revision);
      // A row at or below the revision is superseded exactly when its successor (the row naming it
      // as prev_revision) is at or below the revision too; rows superseded by rows at or below the
      // previous compaction are gone already, so only successors in (from, revision] matter.
      removed += this.db.transaction(() => {
        return (
          this.stmt.deleteSuperseded.run(lo, hi).changes + this.stmt.deleteTombstones.run(lo, hi).changes
        );
      })();
      await new Promise<void>((r) => setImmediate(r));
    }
    await this.writable();
    if (!this.closed) await this.reclaim();
    log.info('compacted', {
      revision,
      removedRows: removed,
      ms: Math.round(performance.now() - start),
    });
  }

  /** Return free pages to the file system and shrink the WAL. */
  private async reclaim(): Promise<void> {
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    if (free >= VACUUM_MIN_FREE_PAGES) this.db.pragma('incremental_vacuum');
    // incremental_vacuum writes through the WAL and the file shrinks only once that is copied
    // back; the truncating checkpoint also brings the WAL back to nothing after each compaction.
    if (this.checkpointer?.running) {
      if (await this.checkpointer.reset('truncate')) return;
    }
    if (!this.closed) this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Bytes on disk: the database plus its WAL. */
  diskBytes(): number {
    let total = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        total += statSync(f).size;
      } catch {
        // A missing WAL is zero bytes.
      }
    }
    return total;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Writes already accepted are committed before the file is closed (once any WAL reset is over:
    // the checkpointer holds SQLite's write lock during one).
    await this.writable();
    if (this.queue.length > 0) this.flush(true);
    this.closed = true;
    this.ttl.close();
    this.hub.failAll(new UnavailableError('store is closed'));
    if (this.compacting) await this.compacting.catch(() => undefined);
    await this.checkpointer?.close();
    this.latest.clear();
    this.db.close();
    this.lockDb.close();
    log.info('closed', { file: this.file, revision: this.rev });
  }
}
