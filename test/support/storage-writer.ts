// Child process of the durability test: writes to an SQLite store as fast as it can and prints one
// line per acknowledged write, "<revision> <key> <value>", until it is killed.
// Usage: node dist/test/support/storage-writer.js <data-dir> <run-id>
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';

const [dataDir, runId = '0'] = process.argv.slice(2);
if (!dataDir) {
  process.stderr.write('usage: storage-writer <data-dir> <run-id>\n');
  process.exit(2);
}

const store = SqliteStore.open(dataDir);

async function writer(w: number): Promise<never> {
  const mods = new Map<string, number>();
  // Keys written by an earlier run are picked up, so a second run updates them.
  for (const kv of (await store.list(`/d/w${w}/`)).items) mods.set(kv.key, kv.modRevision);
  for (let i = 0; ; i++) {
    const key = `/d/w${w}/k${i % 25}`;
    const value = `r${runId}-w${w}-i${i}`;
    const mod = mods.get(key);
    const kv = mod === undefined ? await store.create(key, value) : await store.update(key, value, mod);
    mods.set(key, kv.modRevision);
    // A pipe on stdout is written synchronously: once this returns the parent can read the line.
    process.stdout.write(`${kv.modRevision} ${key} ${value}\n`);
  }
}

await Promise.all([0, 1, 2, 3].map(writer));
