import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DelayHeap, Limiter, microTime, parseCidr4, rfc3339, semanticEqual } from './support.js';

describe('agent support', () => {
  test('time formats', () => {
    const t = Date.parse('2026-03-04T05:06:07.891Z');
    assert.equal(rfc3339(t), '2026-03-04T05:06:07Z');
    assert.equal(microTime(t), '2026-03-04T05:06:07.891000Z');
  });

  test('semantic equality: null and absent alike, key order irrelevant', () => {
    assert.equal(semanticEqual({ a: 1, b: null }, { a: 1 }), true);
    assert.equal(semanticEqual({ a: [1, { x: 2, y: 3 }] }, { a: [1, { y: 3, x: 2 }] }), true);
    assert.equal(semanticEqual({ a: [1] }, { a: [1, 2] }), false);
    assert.equal(semanticEqual({ a: 1 }, { a: '1' }), false);
  });

  test('the limiter bounds concurrency', async () => {
    const l = new Limiter(2);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        l.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 5));
          active--;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.equal(l.inFlight, 0);
  });

  test('the delay heap fires keys in time order, earliest schedule wins, cancel works', async () => {
    const fired: string[] = [];
    const heap = new DelayHeap<string>((k) => fired.push(k), 0);
    const now = Date.now();
    heap.scheduleAt('c', now + 30);
    heap.scheduleAt('a', now + 10);
    heap.scheduleAt('b', now + 20);
    heap.scheduleAt('a', now + 500); // later: ignored
    heap.scheduleAt('d', now + 15);
    heap.cancel('d');
    heap.reschedule('c', now + 5);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(fired, ['c', 'a', 'b']);
    assert.equal(heap.size, 0);
    heap.close();
  });

  test('CIDR parsing clears host bits', () => {
    const { base, prefix } = parseCidr4('10.64.3.7/24');
    assert.equal(prefix, 24);
    assert.equal(base, ((10 << 24) >>> 0) + (64 << 16) + (3 << 8));
  });
});
