import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/meta.js';
import { EventBroadcaster, getReference, type CoreEvent, type EventBroadcasterOptions } from './events.js';
import { RestClient } from './rest.js';
import { FakeApiServer } from './testing/fake-apiserver.js';
import { leakCheck, sleep } from './testing/helpers.js';

const EV = '/events';
const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: 'web', name: 'frontend-1', uid: 'u-1', resourceVersion: '7' },
};

async function setup(opts: EventBroadcasterOptions = {}) {
  const leaks = leakCheck();
  const server = new FakeApiServer();
  await server.start();
  const client = new RestClient({ server: server.url, namespace: 'default' });
  let now = Date.UTC(2026, 10, 22, 12, 0, 0);
  const broadcaster = new EventBroadcaster(client, { retrySleepMs: 20, ...opts, now: () => now });
  const recorder = broadcaster.newRecorder({ component: 'k8ts-scheduler', host: 'node-a' });
  const writes = () =>
    server.requests.filter((r) => r.path.endsWith('/events') || r.path.includes('/events/'));
  return {
    server,
    broadcaster,
    recorder,
    writes,
    events: () => server.listObjects(EV) as CoreEvent[],
    advance: (ms: number) => void (now += ms),
    done: async () => {
      await broadcaster.shutdown();
      client.close();
      await server.stop();
      await leaks.check();
    },
  };
}

test('an event is written as a core/v1 Event about the object', async () => {
  const { recorder, broadcaster, events, done } = await setup();
  recorder.event(pod, 'Normal', 'Scheduled', 'Successfully assigned web/frontend-1 to node-a');
  await broadcaster.flush();
  const [e, ...rest] = events();
  assert.equal(rest.length, 0);
  assert.match(e!.metadata.name!, /^frontend-1\.[0-9a-f]+$/);
  assert.equal(e!.metadata.namespace, 'web');
  assert.deepEqual(e!.involvedObject, {
    kind: 'Pod',
    namespace: 'web',
    name: 'frontend-1',
    uid: 'u-1',
    apiVersion: 'v1',
    resourceVersion: '7',
  });
  assert.equal(e!.reason, 'Scheduled');
  assert.equal(e!.type, 'Normal');
  assert.equal(e!.count, 1);
  assert.deepEqual(e!.source, { component: 'k8ts-scheduler', host: 'node-a' });
  assert.equal(e!.reportingComponent, 'k8ts-scheduler');
  assert.equal(e!.reportingInstance, 'node-a');
  assert.equal(e!.firstTimestamp, '2026-11-22T12:00:00Z');
  assert.equal(e!.lastTimestamp, '2026-11-22T12:00:00Z');
  // Cluster-scoped objects get their events in "default".
  recorder.event(
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } },
    'Warning',
    'NodeNotReady',
    'down',
  );
  await broadcaster.flush();
  assert.equal(events().find((x) => x.reason === 'NodeNotReady')?.metadata.namespace, 'default');
  assert.deepEqual(getReference({ kind: 'Pod', name: 'x', namespace: 'y' }), {
    kind: 'Pod',
    name: 'x',
    namespace: 'y',
  });
  await done();
});

test('repeats of the same event patch count and lastTimestamp instead of creating Events', async () => {
  const { recorder, broadcaster, events, writes, advance, done } = await setup();
  for (let i = 0; i < 5; i++) {
    recorder.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    advance(10_000);
  }
  await broadcaster.flush();
  const all = events();
  assert.equal(all.length, 1);
  assert.equal(all[0]!.count, 5);
  assert.equal(all[0]!.firstTimestamp, '2026-11-22T12:00:00Z');
  assert.equal(all[0]!.lastTimestamp, '2026-11-22T12:00:40Z');
  const verbs = writes().map((r) => r.method);
  assert.deepEqual(verbs, ['POST', 'PATCH', 'PATCH', 'PATCH', 'PATCH']);
  assert.deepEqual(writes()[1]!.body, {
    count: 2,
    lastTimestamp: '2026-11-22T12:00:10Z',
    message: 'Back-off restarting failed container',
  });

  // A different message or reason is a different Event.
  recorder.event(pod, 'Warning', 'BackOff', 'another message');
  recorder.event(pod, 'Normal', 'Pulled', 'Back-off restarting failed container');
  await broadcaster.flush();
  assert.equal(events().length, 3);
  await done();
});

test('an expired Event is recreated when the repeat finds it gone', async () => {
  const { server, recorder, broadcaster, events, done } = await setup();
  recorder.event(pod, 'Normal', 'Pulling', 'pulling image');
  await broadcaster.flush();
  const first = events()[0]!;
  server.remove(EV, 'web', first.metadata.name!);
  recorder.event(pod, 'Normal', 'Pulling', 'pulling image');
  await broadcaster.flush();
  const again = events();
  assert.equal(again.length, 1);
  assert.equal(again[0]!.count, 2);
  await done();
});

test('similar events with ten distinct messages are combined', async () => {
  const { recorder, broadcaster, events, done } = await setup();
  for (let i = 1; i <= 12; i++) recorder.event(pod, 'Warning', 'FailedMount', `volume v${i} not found`);
  await broadcaster.flush();
  const all = events();
  const combined = all.filter((e) => e.message.startsWith('(combined from similar events): '));
  assert.equal(all.length - combined.length, 9, 'the first nine stand alone');
  assert.equal(combined.length, 1);
  assert.equal(combined[0]!.count, 3, 'the tenth to twelfth fold into one');
  assert.equal(combined[0]!.message, '(combined from similar events): volume v12 not found');
  await done();
});

test('a hot loop is rate limited per object: a burst of 25, then one per five minutes', async () => {
  const { recorder, broadcaster, events, writes, advance, done } = await setup();
  for (let i = 0; i < 500; i++) recorder.event(pod, 'Warning', 'FailedSync', 'error syncing pod');
  await broadcaster.flush();
  assert.equal(writes().length, 25);
  assert.equal(events()[0]!.count, 25);
  // Another object is not affected.
  recorder.event(
    { ...pod, metadata: { ...pod.metadata, name: 'other', uid: 'u-2' } },
    'Warning',
    'FailedSync',
    'x',
  );
  await broadcaster.flush();
  assert.equal(writes().length, 26);
  advance(300_000);
  recorder.event(pod, 'Warning', 'FailedSync', 'error syncing pod');
  recorder.event(pod, 'Warning', 'FailedSync', 'error syncing pod');
  await broadcaster.flush();
  assert.equal(writes().length, 27, 'one token refilled');
  await done();
});

test('network failures are retried; a server refusal is not', async () => {
  const { server, recorder, broadcaster, events, writes, done } = await setup({ retrySleepMs: 30 });
  await server.stop();
  recorder.event(pod, 'Normal', 'Created', 'created container');
  await sleep(60);
  await server.start();
  await broadcaster.flush();
  assert.equal(events().length, 1);

  server.interceptor = () => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    reason: 'Forbidden',
    code: 403,
    message: 'no',
  });
  const before = writes().length;
  recorder.event(pod, 'Normal', 'Started', 'started container');
  await broadcaster.flush();
  assert.equal(writes().length, before + 1, 'one attempt only');
  server.interceptor = undefined;
  await done();
});

test('shutdown drops queued events and ends retries promptly', async () => {
  const { server, recorder, broadcaster, done } = await setup({ retrySleepMs: 10_000 });
  await server.stop();
  for (let i = 0; i < 5; i++) recorder.event(pod, 'Normal', `R${i}`, 'm');
  await sleep(30);
  const t = Date.now();
  await broadcaster.shutdown();
  assert.ok(Date.now() - t < 1000);
  recorder.event(pod, 'Normal', 'After', 'ignored');
  await server.start();
  await done();
});
