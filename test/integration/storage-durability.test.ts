// Every write the SQLite store acknowledged survives a SIGKILL of the process, and revisions go on
// from the last one after reopening.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';

const writerScript = join(dirname(fileURLToPath(import.meta.url)), '..', 'support', 'storage-writer.js');
const dir = mkdtempSync(join(tmpdir(), 'k8ts-durability-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Ack {
  revision: number;
  key: string;
  value: string;
}

/** Run the writer until it has acknowledged `atLeast` writes, then SIGKILL it mid-load. */
function runAndKill(runId: string, atLeast: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerScript, dir, runId], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let buf = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer acknowledged only ${acks.length} writes in time: ${stderr}`));
    }, 20_000);
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split('\n');
      // The last piece may be a line cut short by the kill: only whole lines count as acknowledged.
      buf = lines.pop()!;
      for (const line of lines) {
        const [rev, key, value] = line.split(' ');
        acks.push({ revision: Number(rev), key: key!, value: value! });
      }
      if (!killed && acks.length >= atLeast) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (code ${code}): ${stderr}`));
      else resolve(acks);
    });
  });
}

async function verify(acks: readonly Ack[], label: string): Promise<number> {
  const s = SqliteStore.open(dir);
  try {
    const newest = new Map<string, Ack>();
    for (const a of acks) if ((newest.get(a.key)?.revision ?? 0) < a.revision) newest.set(a.key, a);
    for (const a of acks) {
      const kv = await s.get(a.key, { revision: a.revision });
      assert.equal(kv?.value, a.value, `${label}: acknowledged write at revision ${a.revision} is lost`);
      assert.equal(kv.modRevision, a.revision);
    }
    // A write may commit and the process die before it prints the acknowledgement: newer is fine.
    for (const a of newest.values())
      assert.ok(((await s.get(a.key))?.modRevision ?? 0) >= a.revision, `${label}: ${a.key} went back`);
    const last = Math.max(...acks.map((a) => a.revision));
    const current = await s.currentRevision();
    assert.ok(current >= last, `${label}: revision went back from ${last} to ${current}`);
    const next = await s.create(`/after/${label}`, 'x');
    assert.equal(next.modRevision, current + 1, `${label}: revisions do not continue`);
    return next.modRevision;
  } finally {
    await s.close();
  }
}

test('acknowledged SQLite writes survive SIGKILL and revisions continue', async () => {
  const first = await runAndKill('1', 3000);
  assert.ok(first.length >= 3000);
  const revs = first.map((a) => a.revision);
  assert.equal(new Set(revs).size, revs.length, 'revisions acknowledged twice');
  const after1 = await verify(first, 'first');
  // A second run over the recovered file: updates of the same keys, killed again.
  const second = await runAndKill('2', 3000);
  assert.ok(Math.min(...second.map((a) => a.revision)) > after1, 'the second run reused revisions');
  await verify(
    [...first, ...second].filter((a) => a.revision > 0),
    'second',
  );
});
