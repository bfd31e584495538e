import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from './metrics.js';

test('metrics render counters and histograms in the Prometheus text format', () => {
  const r = new MetricsRegistry();
  r.counter('k8ts_things_total', 'Things.').inc({ kind: 'a' }, 2);
  r.histogram('k8ts_latency_seconds', 'Latency.', [0.1, 1]).observe(0.5);
  const text = r.render();
  assert.match(text, /^k8ts_things_total\{kind="a"\} 2$/m);
  assert.match(text, /^k8ts_latency_seconds_bucket\{le="0.1"\} 0$/m);
  assert.match(text, /^k8ts_latency_seconds_bucket\{le="1"\} 1$/m);
  assert.match(text, /^k8ts_latency_seconds_count 1$/m);
});
