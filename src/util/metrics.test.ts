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

test("render merges another registry's families: one family per name, a shared series summed", () => {
  const main = new MetricsRegistry();
  const worker = new MetricsRegistry();
  main.counter('k8ts_requests_total', 'Requests.').inc({ code: '200' }, 2);
  worker.counter('k8ts_requests_total', 'Requests.').inc({ code: '200' }, 3);
  worker.counter('k8ts_requests_total', 'Requests.').inc({ code: '404' });
  worker.gauge('k8ts_queue_depth', 'Depth.').set(7, { name: 'q' });
  // Families cross threads as plain data.
  const text = main.render(structuredClone(worker.families()));
  assert.equal(text.match(/^# TYPE k8ts_requests_total counter$/gm)?.length, 1);
  assert.match(text, /^k8ts_requests_total\{code="200"\} 5$/m);
  assert.match(text, /^k8ts_requests_total\{code="404"\} 1$/m);
  assert.match(text, /^k8ts_queue_depth\{name="q"\} 7$/m);
});

test('labels given in any order are one series, and values are escaped', () => {
  const r = new MetricsRegistry();
  const c = r.counter('k8ts_x_total', 'X.');
  c.inc({ b: '1', a: '2' });
  c.inc({ a: '2', b: '1' });
  c.inc({ a: 'say "hi"\\\n' });
  const text = r.render();
  assert.match(text, /^k8ts_x_total\{a="2",b="1"\} 2$/m);
  assert.ok(text.includes('k8ts_x_total{a="say \\"hi\\"\\\\\\n"} 1'));
});
