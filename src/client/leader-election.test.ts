import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderElector, formatMicroTime, type Lease, type LeaderElectionConfig } from './leader-election.js';
import { RestClient } from './rest.js';
import { FakeApiServer } from './testing/fake-apiserver.js';
import { leakCheck, sleep, until } from './testing/helpers.js';

const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
// Short timings with upstream's proportions (15 s / 10 s / 2 s).
const TIMING = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

test('formatMicroTime writes RFC 3339 with microseconds in UTC', () => {
  assert.equal(formatMicroTime(Date.UTC(2006, 0, 2, 15, 4, 5, 123)), '2006-01-02T15:04:05.123000Z');
  assert.equal(formatMicroTime(Date.UTC(2026, 10, 22, 0, 0, 0, 0) + 0.5), '2026-11-22T00:00:00.000500Z');
});

test('config is validated as upstream does', () => {
  const client = new RestClient({ server: 'http://127.0.0.1:1', namespace: 'default' });
  const base = {
    client,
    namespace: 'ns',
    name: 'l',
    identity: 'a',
    callbacks: { onStartedLeading: () => {}, onStoppedLeading: () => {} },
  };
  assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 10, renewDeadlineMs: 10 }));
  assert.throws(
    () => new LeaderElector({ ...base, leaseDurationMs: 100, renewDeadlineMs: 20, retryPeriodMs: 20 }),
  );
  assert.throws(() => new LeaderElector({ ...base, identity: '' }));
  client.close();
});

interface Candidate {
  elector: LeaderElector;
  run: Promise<void>;
  events: string[];
}

async function setup() {
  const leaks = leakCheck();
  const server = new FakeApiServer();
  await server.start();
  const client = new RestClient({ server: server.url, namespace: 'default' });
  const leaders = new Set<string>();
  let overlaps = 0;
  const candidate = (identity: string, extra: Partial<LeaderElectionConfig> = {}): Candidate => {
    const events: string[] = [];
    const elector = new LeaderElector({
      client,
      namespace: 'kube-system',
      name: 'k8ts-controller-manager',
      identity,
      ...TIMING,
      ...extra,
      callbacks: {
        onStartedLeading: () => {
          leaders.add(identity);
          if (leaders.size > 1) overlaps++;
          events.push('started');
        },
        onStoppedLeading: () => {
          leaders.delete(identity);
          events.push('stopped');
        },
        onNewLeader: (id) => events.push(`leader=${id}`),
      },
    });
    return { elector, run: elector.run(), events };
  };
  const lease = (): Lease | undefined =>
    server.getObject('coordination.k8s.io/leases', 'kube-system', 'k8ts-controller-manager');
  return {
    server,
    candidate,
    lease,
    overlaps: () => overlaps,
    done: async () => {
      client.close();
      await server.stop();
      await leaks.check();
    },
  };
}

test('two candidates: one leads, the other takes over after the leader is released on stop', async () => {
  const { candidate, lease, overlaps, done } = await setup();
  const a = candidate('a');
  await until(() => a.elector.isLeader(), 3000, 'a to lead');
  const b = candidate('b');
  await sleep(500);
  assert.equal(b.elector.isLeader(), false);
  assert.equal(b.elector.getLeader(), 'a');
  assert.ok(b.events.includes('leader=a'));
  const l = lease()!;
  assert.equal(l.spec?.holderIdentity, 'a');
  assert.equal(l.spec?.leaseDurationSeconds, 2);
  assert.equal(l.spec?.leaseTransitions, 0);
  assert.match(l.spec?.acquireTime ?? '', MICRO);
  assert.match(l.spec?.renewTime ?? '', MICRO);
  assert.notEqual(l.spec?.renewTime, l.spec?.acquireTime, 'renewed since acquired');

  const stoppedAt = Date.now();
  await a.elector.stop();
  await a.run;
  assert.deepEqual(
    a.events.filter((e) => !e.startsWith('leader=')),
    ['started', 'stopped'],
  );
  await until(() => b.elector.isLeader(), 3000, 'b to take over');
  assert.ok(Date.now() - stoppedAt < 1000, 'a released the lease: b did not wait for it to expire');
  assert.equal(lease()?.spec?.holderIdentity, 'b');
  assert.equal(lease()?.spec?.leaseTransitions, 1);
  await b.elector.stop();
  await b.run;
  assert.equal(lease()?.spec?.holderIdentity, '');
  assert.equal(overlaps(), 0);
  await done();
});

test('a leader that stops renewing loses the lease; the other takes over only after it expires', async () => {
  const { server, candidate, lease, overlaps, done } = await setup();
  const a = candidate('a');
  await until(() => a.elector.isLeader(), 3000, 'a to lead');
  const b = candidate('b');
  await sleep(300);
  // a's writes now fail (a partition between a and the API server).
  server.interceptor = (req) => {
    const body = req.body as Lease | undefined;
    return req.method === 'PUT' && body?.spec?.holderIdentity === 'a'
      ? {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          reason: 'InternalError',
          code: 500,
          message: 'partition',
        }
      : undefined;
  };
  const cutAt = Date.now();
  await until(() => !a.elector.isLeader(), 3000, 'a to give up');
  const aStopped = Date.now() - cutAt;
  assert.ok(
    aStopped <= TIMING.retryPeriodMs + TIMING.renewDeadlineMs + 300,
    `a stopped leading after ${aStopped} ms`,
  );
  await a.run;
  assert.deepEqual(
    a.events.filter((e) => !e.startsWith('leader=')),
    ['started', 'stopped'],
  );
  await until(() => b.elector.isLeader(), 5000, 'b to take over');
  const bLed = Date.now() - cutAt;
  assert.ok(bLed >= TIMING.leaseDurationMs - TIMING.retryPeriodMs, `b led after ${bLed} ms (after expiry)`);
  assert.equal(lease()?.spec?.holderIdentity, 'b');
  assert.equal(lease()?.spec?.leaseTransitions, 1);
  assert.equal(overlaps(), 0);
  server.interceptor = undefined;
  await b.elector.stop();
  await b.run;
  await done();
});

test('a candidate stopped without leading leaves the lease alone and calls no callbacks', async () => {
  const { candidate, lease, done } = await setup();
  const a = candidate('a', { releaseOnCancel: false });
  await until(() => a.elector.isLeader(), 3000, 'a to lead');
  const b = candidate('b');
  await sleep(300);
  await b.elector.stop();
  await b.run;
  assert.deepEqual(b.events, ['leader=a']);
  // releaseOnCancel false: a stops but the lease still names it until it expires.
  await a.elector.stop();
  await a.run;
  assert.equal(lease()?.spec?.holderIdentity, 'a');
  await done();
});
