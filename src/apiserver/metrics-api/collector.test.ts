import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Node } from '../../api/generated/types.js';
import { MetricsCollector } from './collector.js';
import { parseSummary, ScrapeError } from './scraper.js';
import type { NodeBatch } from './storage.js';

function node(name: string): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name } };
}

/** A node whose CPU counter grows by 0.5 cores of wall time between reads. */
function summaryAt(name: string, ms: number): unknown {
  const time = new Date(ms).toISOString();
  const start = new Date(0).toISOString();
  return {
    node: {
      nodeName: name,
      startTime: start,
      cpu: { time, usageCoreNanoSeconds: ms * 0.5 * 1e6 },
      memory: { time, workingSetBytes: 256 * 1024 * 1024 },
    },
    pods: [
      {
        podRef: { name: 'web', namespace: 'default', uid: 'u1' },
        startTime: start,
        containers: [
          {
            name: 'app',
            startTime: start,
            cpu: { time, usageCoreNanoSeconds: ms * 0.1 * 1e6 },
            memory: { time, workingSetBytes: 1024 * 1024 },
          },
          // No memory: left out, as metrics-server leaves out incomplete containers.
          { name: 'partial', startTime: start, cpu: { time, usageCoreNanoSeconds: 1 } },
        ],
      },
    ],
  };
}

describe('stats summary parsing', () => {
  test('reads node and container samples; rejects what is not a summary', () => {
    const b = parseSummary(summaryAt('n1', 10_000));
    assert.equal(b.node?.cumulativeCpuNanos, 5e9);
    assert.deepEqual([...(b.pods.get('default/web')?.keys() ?? [])], ['app']);
    assert.throws(() => parseSummary({ pods: [] }), ScrapeError);
    assert.throws(() => parseSummary('nope'), ScrapeError);
  });
});

describe('MetricsCollector', () => {
  test('the first request waits for two cycles and then has rates', async () => {
    let clock = 1_000_000;
    const c = new MetricsCollector({
      listNodes: () => Promise.resolve([node('n1')]),
      scrape: (n) => {
        clock += 500;
        return Promise.resolve(parseSummary(summaryAt(n.metadata.name ?? '', clock)));
      },
      warmupMs: 1,
      now: () => clock,
    });
    try {
      await c.ready();
      assert.equal(c.storage.nodeUsage('n1')?.usage.cpu, '500m');
      assert.equal(c.storage.nodeUsage('n1')?.usage.memory, '256Mi');
      assert.deepEqual(c.storage.podUsage('default', 'web')?.containers, [
        { name: 'app', usage: { cpu: '100m', memory: '1Mi' } },
      ]);
    } finally {
      c.stop();
    }
  });

  test('a node that cannot be reached is left out and retried with back-off', async () => {
    let clock = 1_000_000;
    const attempts = new Map<string, number>();
    const c = new MetricsCollector({
      listNodes: () => Promise.resolve([node('up'), node('down')]),
      scrape: (n): Promise<NodeBatch> => {
        const name = n.metadata.name ?? '';
        attempts.set(name, (attempts.get(name) ?? 0) + 1);
        if (name === 'down') return Promise.reject(new Error('connect ECONNREFUSED'));
        return Promise.resolve(parseSummary(summaryAt(name, clock)));
      },
      intervalMs: 10_000,
      now: () => clock,
    });
    try {
      await c.cycle();
      clock += 1000;
      await c.cycle(); // 'down' is backing off: not asked
      assert.ok(c.storage.nodeUsage('up'));
      assert.equal(c.storage.nodeUsage('down'), undefined);
      assert.equal(attempts.get('down'), 1);
      assert.equal(attempts.get('up'), 2);
      clock += 10_000;
      await c.cycle();
      assert.equal(attempts.get('down'), 2, 'retried once the back-off passed');
      clock += 10_000;
      await c.cycle();
      assert.equal(attempts.get('down'), 2, 'the back-off doubled');
    } finally {
      c.stop();
    }
  });
});
