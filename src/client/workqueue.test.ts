import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metrics } from '../util/metrics.js';
import {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  WorkQueue,
  defaultControllerRateLimiter,
  runWorkers,
} from './workqueue.js';
import { leakCheck, sleep, until } from './testing/helpers.js';

test('duplicates collapse while waiting; a key re-added while processing is requeued after done', async () => {
  const q = new WorkQueue<string>({ name: 'dedup' });
  q.add('a');
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), 'a');
  q.add('a'); // dirty while processing: not handed to anyone else
  q.add('a');
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'b');
  assert.equal(q.len(), 0);
  q.done('a');
  assert.equal(q.len(), 1, 'requeued once, after done');
  assert.equal(await q.get(), 'a');
  q.done('a');
  q.done('b');
  assert.equal(q.len(), 0);
  q.shutDown();
  assert.equal(await q.get(), undefined);
});

test('a key is never processed by two workers at once, and the last add is always processed', async () => {
  const leaks = leakCheck();
  const q = new WorkQueue<string>({ name: 'concurrency' });
  const active = new Set<string>();
  const processedAfterAdd = new Map<string, number>();
  const lastAdd = new Map<string, number>();
  let clock = 0;
  let overlaps = 0;
  const workers = runWorkers(q, 8, async (key) => {
    if (active.has(key)) overlaps++;
    active.add(key);
    const started = ++clock;
    await sleep(Math.random() * 3);
    active.delete(key);
    processedAfterAdd.set(key, started);
  });
  for (let round = 0; round < 50; round++) {
    for (const k of ['a', 'b', 'c', 'd']) {
      q.add(k);
      lastAdd.set(k, ++clock);
    }
    await sleep(1);
  }
  await until(
    () => [...lastAdd].every(([k, t]) => (processedAfterAdd.get(k) ?? 0) > t),
    5000,
    'the final adds to be processed',
  );
  assert.equal(overlaps, 0);
  await q.shutDownWithDrain();
  await workers;
  await leaks.check();
});

test('exponential per-item back-off from 5 ms doubling to 1000 s; forget starts over', () => {
  const r = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
  assert.deepEqual([r.when('a'), r.when('a'), r.when('a'), r.when('a')], [5, 10, 20, 40]);
  assert.equal(r.when('b'), 5, 'per item');
  assert.equal(r.numRequeues('a'), 4);
  for (let i = 0; i < 40; i++) r.when('a');
  assert.equal(r.when('a'), 1_000_000);
  r.forget('a');
  assert.equal(r.numRequeues('a'), 0);
  assert.equal(r.when('a'), 5);
});

test('the token bucket allows a burst of 100, then 10 per second; the default combines both as max', () => {
  let now = 0;
  const bucket = new BucketRateLimiter<string>(10, 100, () => now);
  for (let i = 0; i < 100; i++) assert.equal(bucket.when(`k${i}`), 0);
  assert.equal(Math.round(bucket.when('x')), 100);
  assert.equal(Math.round(bucket.when('y')), 200);
  now += 1000; // ten tokens refill, two were borrowed
  assert.equal(bucket.when('z'), 0);

  const t = 0;
  const combined = new MaxOfRateLimiter<string>(
    new ItemExponentialFailureRateLimiter(5, 1_000_000),
    new BucketRateLimiter(10, 100, () => t),
  );
  assert.equal(combined.when('a'), 5);
  assert.equal(combined.when('a'), 10);
  for (let i = 0; i < 98; i++) combined.when(`k${i}`);
  assert.equal(Math.round(combined.when('b')), 100, 'bucket exhausted: its delay dominates');
  assert.equal(combined.numRequeues('a'), 2);
  combined.forget('a');
  assert.equal(combined.numRequeues('a'), 0);
  assert.equal(defaultControllerRateLimiter<string>().when('first'), 5);
});

test('addAfter delays; the shortest pending delay wins', async () => {
  const leaks = leakCheck();
  const q = new WorkQueue<string>({ name: 'delay' });
  const t0 = Date.now();
  q.addAfter('x', 200);
  q.addAfter('x', 30);
  q.addAfter('x', 500);
  q.addAfter('y', 60);
  assert.equal(q.len(), 0);
  assert.equal(await q.get(), 'x');
  const tx = Date.now() - t0;
  assert.ok(tx >= 25 && tx < 180, `x after ${tx} ms`);
  assert.equal(await q.get(), 'y');
  q.done('x');
  q.done('y');
  await sleep(250);
  assert.equal(q.len(), 0, 'the longer delays for x were dropped');
  q.shutDown();
  await leaks.check();
});

test('runWorkers retries a failing key with growing back-off and forgets it on success', async () => {
  const leaks = leakCheck();
  const q = new WorkQueue<string>({ name: 'retry' });
  const attempts: number[] = [];
  let requeuesAtSuccess = -1;
  const workers = runWorkers(q, 2, (key) => {
    attempts.push(Date.now());
    if (attempts.length <= 4) return Promise.reject(new Error('not yet'));
    requeuesAtSuccess = q.numRequeues(key);
    return Promise.resolve();
  });
  q.add('k');
  await until(() => attempts.length === 5, 5000, 'five attempts');
  await sleep(5);
  assert.equal(requeuesAtSuccess, 4);
  assert.equal(q.numRequeues('k'), 0, 'forgotten after success');
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
  // 5, 10, 20, 40 ms (timers may fire a little late, never early)
  [5, 10, 20, 40].forEach((min, i) => assert.ok(gaps[i]! >= min - 1, `gap ${i} = ${gaps[i]} ms ≥ ${min}`));
  q.shutDown();
  await workers;
  assert.match(metrics.render(), /^workqueue_retries_total\{name="retry"\} 4$/m);
  assert.match(metrics.render(), /^workqueue_adds_total\{name="retry"\} 5$/m);
  await leaks.check();
});

test('runWorkers drops a key after maxRetries', async () => {
  const q = new WorkQueue<string>({
    name: 'maxretries',
    rateLimiter: new ItemExponentialFailureRateLimiter(1, 10),
  });
  let calls = 0;
  const workers = runWorkers(
    q,
    1,
    () => {
      calls++;
      return Promise.reject(new Error('always'));
    },
    { maxRetries: 3 },
  );
  q.add('k');
  await sleep(100);
  assert.equal(calls, 4, 'first try plus three retries');
  assert.equal(q.numRequeues('k'), 0);
  q.shutDown();
  await workers;
});

test('shutdown lets workers drain the queue, ignores new adds, drops delayed items and ends workers', async () => {
  const leaks = leakCheck();
  const q = new WorkQueue<string>({ name: 'shutdown' });
  const processed: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  for (const k of ['a', 'b', 'c']) q.add(k);
  q.addAfter('late', 10_000);
  const workers = runWorkers(q, 1, async (key) => {
    await gate;
    processed.push(key);
  });
  await sleep(5);
  let drained = false;
  const draining = q.shutDownWithDrain().then(() => (drained = true));
  q.add('ignored');
  await sleep(5);
  assert.equal(drained, false, 'waits for the item in flight');
  release();
  await draining;
  await workers;
  assert.deepEqual(processed, ['a', 'b', 'c']);
  assert.equal(await q.get(), undefined);
  await leaks.check();
});

test('queue metrics are exported under the queue name', async () => {
  const q = new WorkQueue<string>({ name: 'metrics' });
  q.add('a');
  q.add('b');
  const text = metrics.render();
  assert.match(text, /^workqueue_depth\{name="metrics"\} 2$/m);
  const a = await q.get();
  q.done(a!);
  assert.match(metrics.render(), /^workqueue_work_duration_seconds_count\{name="metrics"\} 1$/m);
  assert.match(metrics.render(), /^workqueue_queue_duration_seconds_count\{name="metrics"\} 1$/m);
  q.shutDown();
});
