import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { followCriLog, parseCriLog, readCriLog } from './logs.js';

const LOG = [
  '2026-01-01T00:00:01.000000001Z stdout F one',
  '2026-01-01T00:00:02.000000000Z stderr F two',
  '2026-01-01T00:00:03.000000000Z stdout P thr',
  '2026-01-01T00:00:03.500000000Z stdout F ee',
  '2026-01-01T00:00:04.000000000Z stdout F ',
  '',
].join('\n');

describe('CRI container logs', () => {
  it('parses records and joins partial lines', () => {
    assert.deepEqual(parseCriLog(LOG), [
      { time: '2026-01-01T00:00:01.000000001Z', stream: 'stdout', text: 'one\n' },
      { time: '2026-01-01T00:00:02.000000000Z', stream: 'stderr', text: 'two\n' },
      { time: '2026-01-01T00:00:03.000000000Z', stream: 'stdout', text: 'three\n' },
      { time: '2026-01-01T00:00:04.000000000Z', stream: 'stdout', text: '\n' },
    ]);
  });

  it('reads with tail, since, timestamps and a byte limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-logs-'));
    try {
      const file = join(dir, '0.log');
      writeFileSync(file, LOG);
      assert.equal(await readCriLog(file), 'one\ntwo\nthree\n\n');
      assert.equal(await readCriLog(file, { tailLines: 2 }), 'three\n\n');
      assert.equal(await readCriLog(file, { sinceMs: Date.parse('2026-01-01T00:00:02Z') }), 'two\nthree\n\n');
      assert.equal(
        await readCriLog(file, { timestamps: true, tailLines: 1 }),
        '2026-01-01T00:00:04.000000000Z \n',
      );
      assert.equal(await readCriLog(file, { limitBytes: 5 }), 'one\nt');
      assert.equal(await readCriLog(join(dir, 'missing.log')), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('follows a file as it grows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-logs-'));
    try {
      const file = join(dir, '0.log');
      writeFileSync(file, '2026-01-01T00:00:01Z stdout F first\n');
      const ac = new AbortController();
      const got: string[] = [];
      let running = true;
      const reader = (async () => {
        for await (const chunk of followCriLog(file, {
          signal: ac.signal,
          pollMs: 10,
          stillRunning: () => Promise.resolve(running),
        }))
          got.push(chunk);
      })();
      await new Promise((r) => setTimeout(r, 30));
      appendFileSync(
        file,
        '2026-01-01T00:00:02Z stdout F second\n2026-01-01T00:00:03Z stdout P par\n2026-01-01T00:00:03Z stdout F ',
      );
      await new Promise((r) => setTimeout(r, 50));
      appendFileSync(file, 'tial\n2026-01-01T00:00:04Z stdout F end\n');
      await new Promise((r) => setTimeout(r, 50));
      running = false;
      await reader;
      assert.equal(got.join(''), 'first\nsecond\npartial\nend\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
