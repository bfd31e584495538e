import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../../../test/support/etcd.js';
import { runStoreConformance } from '../conformance.js';
import { openStore } from '../open.js';
import type { Store } from '../types.js';
import { EtcdStore } from './etcd-store.js';

let etcd: TestEtcd | undefined;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

/** Every store gets its own key prefix in the one etcd, as clusters sharing an etcd would. */
function openPrefixed(prefix = `/test-${randomBytes(4).toString('hex')}`): EtcdStore {
  assert.ok(etcd, 'etcd did not start');
  return new EtcdStore({ endpoints: [etcd.endpoint], keyPrefix: prefix });
}

runStoreConformance('etcd', (): Promise<Store> => Promise.resolve(openPrefixed()), {
  openWatches: (s) => (s as EtcdStore).openWatches,
});

describe('etcd store: key prefixes', () => {
  test('two prefixes in one etcd do not see each other', async () => {
    const a = openPrefixed('/cluster-a');
    const b = openPrefixed('/cluster-ab');
    try {
      await a.create('/registry/x', 'from a');
      await b.create('/registry/x', 'from b');
      assert.equal((await a.get('/registry/x'))?.value, 'from a');
      assert.deepEqual(
        (await a.list('/')).items.map((kv) => kv.key),
        ['/registry/x'],
      );
      assert.equal((await b.count('/')).count, 1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('openStore takes etcd://host:port/prefix and http:// forms', async () => {
    assert.ok(etcd);
    const hostPort = etcd.endpoint.replace('http://', '');
    const a = await openStore(`etcd://${hostPort}/spec-a`, '/nonexistent');
    const b = await openStore(etcd.endpoint, '/nonexistent');
    try {
      assert.equal(a.backend, 'etcd');
      await a.create('/k', 'in a');
      assert.equal((await b.get('/spec-a/k'))?.value, 'in a', 'the prefix is not where the spec put it');
      assert.equal(await a.get('/spec-a/k'), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('writes with the same long TTL share a lease that outlives the TTL by at most 5%', async () => {
    assert.ok(etcd);
    const s = openPrefixed('/lease-test');
    const raw = new Etcd3({ hosts: [etcd.endpoint] });
    try {
      await s.create('/a', '1', { ttlSeconds: 100 });
      await s.create('/b', '2', { ttlSeconds: 100 });
      await s.create('/c', '3', { ttlSeconds: 200 });
      const lease = async (k: string): Promise<string> =>
        (await raw.kv.range({ key: Buffer.from(`/lease-test${k}`) })).kvs[0]!.lease;
      const [a, b, c] = [await lease('/a'), await lease('/b'), await lease('/c')];
      assert.equal(a, b);
      assert.notEqual(a, c);
      assert.notEqual(a, '0');
      const ttl = await raw.leaseClient.leaseTimeToLive({ ID: a });
      assert.ok(Number(ttl.grantedTTL) >= 100 && Number(ttl.grantedTTL) <= 105, `granted ${ttl.grantedTTL}`);
    } finally {
      raw.close();
      await s.close();
    }
  });

  test('an unreachable etcd fails with UnavailableError', async () => {
    const s = new EtcdStore({ endpoints: ['http://127.0.0.1:9'], dialTimeoutMs: 300 });
    try {
      await assert.rejects(s.get('/x'), (e: unknown) => e instanceof Error && e.name === 'UnavailableError');
    } finally {
      await s.close();
    }
  });
});
