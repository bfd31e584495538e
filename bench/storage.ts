// Storage benchmark: write throughput and latency of each backend next to a raw baseline measured
// in the same run on the same machine, and the ratio between them.
//   sqlite: raw better-sqlite3 single-row INSERTs (WAL, synchronous=NORMAL) vs SqliteStore
//   etcd:   raw puts through the same etcd3 client against the same etcd vs EtcdStore
// Goals (issue 2): SqliteStore single-writer creates >= 50% of the raw commit rate; p99 <= 2 ms
// at a paced 1,000 writes/s. Run: npm run build && npm run bench:storage
import Database from 'better-sqlite3';
import { Etcd3 } from 'etcd3';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { EtcdStore } from '../src/storage/etcd/etcd-store.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../src/storage/types.js';
import { startEtcd } from '../test/support/etcd.js';

const out = (line = ''): void => {
  process.stdout.write(line + '\n');
};

const VALUE = JSON.stringify({
  kind: 'ConfigMap',
  apiVersion: 'v1',
  metadata: { name: 'bench', namespace: 'default', labels: { app: 'bench' } },
  data: { payload: 'x'.repeat(400) },
});

interface Result {
  name: string;
  ops: number;
  seconds: number;
  latenciesMs: number[];
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function row(r: Result, baseline?: Result): string {
  const rate = r.ops / r.seconds;
  const lat = [...r.latenciesMs].sort((a, b) => a - b);
  const ratio = baseline ? `${((rate / (baseline.ops / baseline.seconds)) * 100).toFixed(0)}%` : '';
  return [
    r.name.padEnd(50),
    `${Math.round(rate).toLocaleString('en-US').padStart(8)}/s`,
    `p50 ${pct(lat, 50).toFixed(3).padStart(7)} ms`,
    `p99 ${pct(lat, 99).toFixed(3).padStart(7)} ms`,
    ratio.padStart(6),
  ].join('  ');
}

/** `writers` async loops, each doing its share of `total` operations back to back. */
async function concurrent(
  name: string,
  total: number,
  writers: number,
  op: (writer: number, i: number) => Promise<unknown>,
): Promise<Result> {
  const latenciesMs: number[] = [];
  const per = Math.ceil(total / writers);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < per; i++) {
        const t = performance.now();
        await op(w, i);
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  return { name, ops: per * writers, seconds: (performance.now() - start) / 1000, latenciesMs };
}

/** Writes issued at a fixed rate whatever the latency; latency counts from the scheduled instant. */
async function paced(
  name: string,
  rate: number,
  seconds: number,
  op: (i: number) => Promise<unknown>,
): Promise<Result> {
  const total = rate * seconds;
  const latenciesMs: number[] = [];
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    // Timers are only good to a millisecond or so: sleep most of the way, then yield until due.
    for (let now = performance.now(); now < due; now = performance.now()) {
      if (due - now > 2) await new Promise((r) => setTimeout(r, due - now - 1.5));
      else await new Promise((r) => setImmediate(r));
    }
    // From the scheduled instant, so that a stalled store is charged for the writes it held up.
    const from = Math.min(due, performance.now());
    inflight.push(
      op(i).then(() => {
        latenciesMs.push(performance.now() - from);
      }),
    );
  }
  await Promise.all(inflight);
  return { name, ops: total, seconds: (performance.now() - start) / 1000, latenciesMs };
}

function rawSqlite(dir: string, n: number): Result {
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE kv (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO kv (name, value) VALUES (?, ?)');
  const latenciesMs: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    insert.run(`/raw/${i}`, VALUE);
    latenciesMs.push(performance.now() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return { name: 'raw better-sqlite3 INSERT, autocommit', ops: n, seconds, latenciesMs };
}

/** Creates then updates of the same keys, single writer and concurrent. */
async function storeSuite(label: string, store: Store, n: number, writers: number): Promise<Result[]> {
  const mods = new Map<string, number>();
  const results: Result[] = [];
  results.push(
    await concurrent(`${label} create, 1 writer`, n, 1, async (_w, i) => {
      const kv = await store.create(`/b/one/${i}`, VALUE);
      mods.set(kv.key, kv.modRevision);
    }),
  );
  results.push(
    await concurrent(`${label} update, 1 writer`, n, 1, async (_w, i) => {
      const key = `/b/one/${i}`;
      mods.set(key, (await store.update(key, VALUE, mods.get(key)!)).modRevision);
    }),
  );
  results.push(
    await concurrent(`${label} create, ${writers} writers`, n, writers, async (w, i) => {
      const kv = await store.create(`/b/many/${w}/${i}`, VALUE);
      mods.set(kv.key, kv.modRevision);
    }),
  );
  results.push(
    await concurrent(`${label} update, ${writers} writers`, n, writers, async (w, i) => {
      const key = `/b/many/${w}/${i}`;
      mods.set(key, (await store.update(key, VALUE, mods.get(key)!)).modRevision);
    }),
  );
  return results;
}

function machine(): string[] {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // Not Linux: os.cpus() is all there is.
  }
  return [
    `date: ${new Date().toISOString()}`,
    `cpu: ${model}, ${cpus().length} cores; memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free)`,
    `node ${process.version}; value size ${VALUE.length} bytes; load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ];
}

async function benchSqlite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-sqlite-'));
  try {
    const n = 20_000;
    out('## SQLite');
    // The raw rate swings by a factor of two from run to run with when SQLite's checkpoints land,
    // so it is measured before and after the store's runs and the baseline is the two together.
    const rawA = rawSqlite(join(dir, 'a'), n);
    out(row(rawA));
    const results: Result[] = [];
    const store = SqliteStore.open(join(dir, 'store'));
    try {
      results.push(...(await storeSuite('SqliteStore', store, n, 16)));
    } finally {
      await store.close();
    }
    const rawB = rawSqlite(join(dir, 'b'), n);
    out(row(rawB));
    const raw: Result = {
      name: 'raw baseline (both runs)',
      ops: rawA.ops + rawB.ops,
      seconds: rawA.seconds + rawB.seconds,
      latenciesMs: [...rawA.latenciesMs, ...rawB.latenciesMs],
    };
    out(row(raw));
    for (const r of results) out(row(r, raw));
    // The paced run gets a store of its own, warmed up, so that garbage left by the runs above does
    // not land in its tail.
    const pacedStore = SqliteStore.open(join(dir, 'paced'));
    try {
      for (let i = 0; i < 20_000; i++) await pacedStore.create(`/b/warm/${i}`, VALUE);
      // Three rounds, each with the event-loop delay it saw: on a shared 2-core machine a round's tail
      // tells as much about the neighbours as about the store.
      const rounds: Result[] = [];
      for (let round = 1; round <= 3; round++) {
        const loop = monitorEventLoopDelay({ resolution: 1 });
        loop.enable();
        const r = await paced(`SqliteStore paced 1,000 writes/s, round ${round} (5 s)`, 1000, 5, (i) =>
          pacedStore.create(`/b/paced/${round}/${i}`, VALUE),
        );
        loop.disable();
        rounds.push(r);
        const lat = [...r.latenciesMs].sort((a, b) => a - b);
        out(
          `${row(r)}  max ${lat[lat.length - 1]!.toFixed(2)} ms; event-loop delay p99 ` +
            `${(loop.percentile(99) / 1e6).toFixed(2)} ms, max ${(loop.max / 1e6).toFixed(2)} ms; load ${loadavg()[0]!.toFixed(2)}`,
        );
      }
      out(
        row({
          name: 'SqliteStore paced 1,000 writes/s, all rounds',
          ops: rounds.reduce((n, r) => n + r.ops, 0),
          seconds: rounds.reduce((n, r) => n + r.seconds, 0),
          latenciesMs: rounds.flatMap((r) => r.latenciesMs),
        }),
      );
    } finally {
      await pacedStore.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchEtcd(): Promise<void> {
  const etcd = await startEtcd();
  try {
    out('## etcd (local single member, etcd 3.4)');
    const client = new Etcd3({ hosts: [etcd.endpoint] });
    const n = 3000;
    const writers = 64;
    try {
      const raw1 = await concurrent('raw etcd3 put, 1 writer', n, 1, (_w, i) =>
        client.put(`/raw/one/${i}`).value(VALUE).exec(),
      );
      out(row(raw1));
      const rawN = await concurrent(`raw etcd3 put, ${writers} writers`, n, writers, (w, i) =>
        client.put(`/raw/many/${w}/${i}`).value(VALUE).exec(),
      );
      out(row(rawN));
      const store = new EtcdStore({ endpoints: [etcd.endpoint], keyPrefix: '/bench' });
      try {
        const rs = await storeSuite('EtcdStore', store, n, writers);
        rs.forEach((r, i) => out(row(r, i < 2 ? raw1 : rawN)));
        const base = await store.currentRevision();
        out(
          row(
            await paced('EtcdStore paced 1,000 writes/s (3 s)', 1000, 3, (i) =>
              store.create(`/b/paced/${base}/${i}`, VALUE),
            ),
          ),
        );
      } finally {
        await store.close();
      }
    } finally {
      client.close();
    }
  } finally {
    await etcd.stop();
  }
}

out('# k8ts storage benchmark');
for (const line of machine()) out(line);
out('(rate, latency percentiles, and the ratio to the raw baseline of the same run)');
out();
await benchSqlite();
out();
await benchEtcd();
