import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatBytes,
  formatDuration,
  formatNanoCores,
  MetricsStorage,
  usageBetween,
  type MetricsPoint,
  type NodeBatch,
} from './storage.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');

function point(
  atMs: number,
  cumulativeCpuNanos: number,
  workingSetBytes = 4096,
  startTime = T0,
): MetricsPoint {
  return { startTime, timestamp: T0 + atMs, cumulativeCpuNanos, workingSetBytes };
}

function batch(
  node: MetricsPoint | undefined,
  pods: Record<string, Record<string, MetricsPoint>> = {},
): NodeBatch {
  return {
    ...(node ? { node } : {}),
    pods: new Map(Object.entries(pods).map(([k, cs]) => [k, new Map(Object.entries(cs))])),
  };
}

describe('metrics quantities as metrics-server prints them', () => {
  test('cpu in nano-cores, canonicalised like resource.Quantity', () => {
    assert.equal(formatNanoCores(1_234_567), '1234567n');
    assert.equal(formatNanoCores(5_000_000), '5m');
    assert.equal(formatNanoCores(1_234_000), '1234u');
    assert.equal(formatNanoCores(2_000_000_000), '2');
    assert.equal(formatNanoCores(0), '0');
    assert.equal(formatNanoCores(1234.9), '1234n', 'truncated, as uint64(rate)');
  });

  test('memory in binary units when it divides, plain bytes otherwise', () => {
    assert.equal(formatBytes(12_345 * 1024), '12345Ki');
    assert.equal(formatBytes(64 * 1024 * 1024), '64Mi');
    assert.equal(formatBytes(12_345_679), '12345679');
    assert.equal(formatBytes(1000), '1k', 'below 1024 prints as a decimal quantity');
    assert.equal(formatBytes(0), '0');
  });

  test('windows as Go durations', () => {
    assert.equal(formatDuration(10_000), '10s');
    assert.equal(formatDuration(10_374), '10.374s');
    assert.equal(formatDuration(10_500), '10.5s');
    assert.equal(formatDuration(800), '800ms');
    assert.equal(formatDuration(65_000), '1m5s');
    assert.equal(formatDuration(60_000), '1m0s');
  });
});

describe('usage from two cumulative samples', () => {
  test('cpu is the counter rate over the window, memory the latest working set', () => {
    // 0.25 cores for 10 s = 2.5e9 core-nanoseconds.
    const u = usageBetween(point(0, 1e9, 1024), point(10_000, 3.5e9, 8192 * 1024));
    assert.deepEqual(u, {
      usage: { cpu: '250m', memory: '8Mi' },
      timestamp: T0 + 10_000,
      windowMs: 10_000,
    });
  });

  test('no usage across a restart, a counter going back, or no time passing', () => {
    assert.equal(usageBetween(point(0, 5e9), point(10_000, 1e9)), undefined);
    assert.equal(usageBetween(point(0, 1e9, 1, T0 + 5), point(10_000, 2e9, 1, T0)), undefined);
    assert.equal(usageBetween(point(0, 1e9), point(0, 2e9)), undefined);
  });
});

describe('MetricsStorage', () => {
  test('a node and a pod have usage from the second cycle on', () => {
    const s = new MetricsStorage();
    s.store(new Map([['n1', batch(point(0, 0), { 'default/web': { app: point(0, 0) } })]]));
    assert.equal(s.nodeUsage('n1'), undefined, 'one sample gives no rate');
    assert.equal(s.podUsage('default', 'web'), undefined);
    s.store(new Map([['n1', batch(point(2000, 2e9), { 'default/web': { app: point(2000, 1e8) } })]]));
    assert.equal(s.nodeUsage('n1')?.usage.cpu, '1');
    assert.deepEqual(s.podUsage('default', 'web'), {
      containers: [{ name: 'app', usage: { cpu: '50m', memory: '4Ki' } }],
      timestamp: T0 + 2000,
      windowMs: 2000,
    });
  });

  test('a node missing from a cycle (unreachable) is left out, with its pods', () => {
    const s = new MetricsStorage();
    const both = (at: number) =>
      new Map([
        ['n1', batch(point(at, at * 1e6), { 'default/a': { c: point(at, at * 1e5) } })],
        ['n2', batch(point(at, at * 1e6), { 'default/b': { c: point(at, at * 1e5) } })],
      ]);
    s.store(both(0));
    s.store(both(1000));
    assert.ok(s.nodeUsage('n2'));
    s.store(new Map([['n1', batch(point(2000, 2e9), { 'default/a': { c: point(2000, 2e8) } })]]));
    assert.ok(s.nodeUsage('n1'));
    assert.ok(s.podUsage('default', 'a'));
    assert.equal(s.nodeUsage('n2'), undefined);
    assert.equal(s.podUsage('default', 'b'), undefined);
  });

  test('a restarted container has no usage until it is sampled twice, and hides its pod', () => {
    const s = new MetricsStorage();
    s.store(
      new Map([['n1', batch(point(0, 0), { 'default/web': { app: point(0, 0), side: point(0, 0) } })]]),
    );
    s.store(
      new Map([
        ['n1', batch(point(1000, 1e9), { 'default/web': { app: point(1000, 1e8), side: point(1000, 1e8) } })],
      ]),
    );
    assert.equal(s.podUsage('default', 'web')?.containers.length, 2);
    // side restarted at +1500 ms: its counter starts again.
    const restarted = point(2000, 1e7, 4096, T0 + 1500);
    s.store(
      new Map([
        ['n1', batch(point(2000, 2e9), { 'default/web': { app: point(2000, 2e8), side: restarted } })],
      ]),
    );
    assert.equal(s.podUsage('default', 'web'), undefined, 'all containers or none');
    s.store(
      new Map([
        [
          'n1',
          batch(point(3000, 3e9), {
            'default/web': { app: point(3000, 3e8), side: point(3000, 1.1e8, 4096, T0 + 1500) },
          }),
        ],
      ]),
    );
    const u = s.podUsage('default', 'web');
    assert.deepEqual(
      u?.containers.map((c) => [c.name, c.usage.cpu]),
      [
        ['app', '100m'],
        ['side', '100m'],
      ],
    );
  });

  test('a repeated sample keeps the earlier previous one', () => {
    const s = new MetricsStorage();
    s.store(new Map([['n1', batch(point(0, 0))]]));
    s.store(new Map([['n1', batch(point(1000, 1e9))]]));
    s.store(new Map([['n1', batch(point(1000, 1e9))]]));
    assert.equal(s.nodeUsage('n1')?.usage.cpu, '1');
  });
});
