import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { InvalidInputError, UnavailableError } from './errors.js';
import { MemoryStore } from './memory/memory-store.js';
import { openStore, parseEtcdSpec, startCompactor } from './open.js';
import { metrics } from '../util/metrics.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ts-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('openStore', () => {
  test('sqlite is the default and keeps state.db in the data dir', async () => {
    for (const spec of ['', 'sqlite']) {
      const d = join(dir, `s${spec}`);
      const s = await openStore(spec, d);
      try {
        assert.equal(s.backend, 'sqlite');
        assert.ok(existsSync(join(d, 'state.db')));
      } finally {
        await s.close();
      }
    }
  });

  test('memory', async () => {
    const s = await openStore('memory', dir);
    assert.equal(s.backend, 'memory');
    await s.close();
  });

  test('etcd specs: etcd:// lists, http:// lists, a key prefix', () => {
    assert.deepEqual(parseEtcdSpec('etcd://127.0.0.1:2379'), {
      endpoints: ['http://127.0.0.1:2379'],
      keyPrefix: '',
    });
    assert.deepEqual(parseEtcdSpec('etcd://a:1,b.example:2/cluster-a/'), {
      endpoints: ['http://a:1', 'http://b.example:2'],
      keyPrefix: '/cluster-a',
    });
    assert.deepEqual(parseEtcdSpec('http://a:1,http://[::1]:2'), {
      endpoints: ['http://a:1', 'http://[::1]:2'],
      keyPrefix: '',
    });
  });

  test('invalid specs fail with a clear error', async () => {
    for (const spec of [
      'postgres://x',
      'etcd://',
      'etcd://host',
      'etcd://a:1,,b:2',
      'etcd://a:99999',
      'mem',
      'https://a:1',
    ]) {
      await assert.rejects(openStore(spec, dir), (e: unknown) => {
        assert.ok(e instanceof InvalidInputError, `${spec}: ${String(e)}`);
        assert.match(e.message, /invalid storage/);
        assert.ok(e.message.includes(JSON.stringify(spec)));
        return true;
      });
    }
  });

  test('an unreachable etcd fails at open', async () => {
    await assert.rejects(openStore('etcd://127.0.0.1:9', dir), UnavailableError);
  });
});

describe('startCompactor', () => {
  test('compacts periodically, keeping the retained window, and stops', async () => {
    const s = new MemoryStore();
    let kv = await s.create('/a', '0');
    for (let i = 1; i < 50; i++) kv = await s.update('/a', String(i), kv.modRevision);
    const before = metrics
      .counter('k8ts_storage_compactions_total', '')
      .get({ backend: 'memory', result: 'ok' });
    const c = startCompactor(s, { intervalMs: 20, retainRevisions: 10 });
    try {
      const deadline = Date.now() + 2000;
      while ((await s.compactedRevision()) === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(await s.compactedRevision(), 40);
      assert.equal(await c.runOnce(), undefined, 'nothing new to compact');
      for (let i = 0; i < 5; i++) kv = await s.update('/a', `x${i}`, kv.modRevision);
      assert.equal(await c.runOnce(), 45);
      assert.ok(
        metrics.counter('k8ts_storage_compactions_total', '').get({ backend: 'memory', result: 'ok' }) >=
          before + 2,
      );
    } finally {
      c.stop();
      c.stop();
    }
    for (let i = 0; i < 30; i++) kv = await s.update('/a', `y${i}`, kv.modRevision);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(await s.compactedRevision(), 45, 'compacted after stop');
    await s.close();
  });

  test('rejects bad options', () => {
    const s = new MemoryStore();
    assert.throws(() => startCompactor(s, { intervalMs: 0, retainRevisions: 1 }), InvalidInputError);
    assert.throws(() => startCompactor(s, { intervalMs: 10, retainRevisions: -1 }), InvalidInputError);
  });
});
