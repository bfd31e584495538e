import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../../api/generated/types.js';
import { formatTime } from '../common/clock.js';
import { podUsage, parseDurationMs, parsePodMetricsList, type PodMetric } from './metrics.js';
import { resourceAverageValueReplicas, resourceUtilizationReplicas } from './replica-calculator.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const LONG_AGO = NOW - 3_600_000;

interface PodOpts {
  request?: string;
  phase?: string;
  ready?: boolean;
  startedAt?: number;
  readySince?: number;
  deleted?: boolean;
}

function pod(name: string, o: PodOpts = {}): Pod {
  const ready = o.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns',
      labels: { app: 'web' },
      ...(o.deleted ? { deletionTimestamp: formatTime(NOW) } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: o.request ?? '1' } } }] },
    status: {
      phase: o.phase ?? 'Running',
      startTime: formatTime(o.startedAt ?? LONG_AGO),
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          lastTransitionTime: formatTime(o.readySince ?? LONG_AGO),
        },
      ],
    },
  };
}

function usage(
  entries: Record<string, number>,
  timestampMs = NOW - 1000,
  windowMs = 30_000,
): Map<string, PodMetric> {
  return new Map(Object.entries(entries).map(([k, milli]) => [k, { milli, timestampMs, windowMs }]));
}

const opts = { now: NOW };

describe('resource utilization replicas', () => {
  test('scales up in proportion to usage over target: 3 pods at 90% of 50% target → ceil(3 × 1.8) = 6', () => {
    const pods = [pod('a'), pod('b'), pod('c')];
    const p = resourceUtilizationReplicas(3, 50, 'cpu', pods, usage({ a: 900, b: 900, c: 900 }), opts);
    assert.equal(p.replicas, 6);
    assert.equal(p.utilization, 90);
    assert.equal(p.rawAverageMilli, 900);
  });

  test('scales down: 4 pods at 20% of a 50% target → 2', () => {
    const pods = ['a', 'b', 'c', 'd'].map((n) => pod(n));
    const p = resourceUtilizationReplicas(
      4,
      50,
      'cpu',
      pods,
      usage({ a: 200, b: 200, c: 200, d: 200 }),
      opts,
    );
    assert.equal(p.replicas, 2);
  });

  test('within the 10% tolerance the count stays: 54% against 50% (ratio 1.08)', () => {
    const pods = [pod('a'), pod('b')];
    const p = resourceUtilizationReplicas(2, 50, 'cpu', pods, usage({ a: 540, b: 540 }), opts);
    assert.equal(p.replicas, 2);
    assert.equal(p.utilization, 54);
    // Just outside it (ratio 1.12) the count changes.
    const q = resourceUtilizationReplicas(2, 50, 'cpu', pods, usage({ a: 560, b: 560 }), opts);
    assert.equal(q.replicas, 3);
  });

  test('on a scale-up, unready pods count as using nothing', () => {
    // Two ready pods at 100% of request (ratio 2.0), one pending: with it at 0 the ratio is 1.32.
    const three = [pod('a'), pod('b'), pod('c', { phase: 'Pending' })];
    const p = resourceUtilizationReplicas(3, 50, 'cpu', three, usage({ a: 1000, b: 1000 }), opts);
    assert.equal(p.replicas, 4);
    assert.equal(p.utilization, 100, "status reports the ready pods' utilization");
    // Six pending pods: counted at 0 they turn the scale-up into a scale-down, so the count stays.
    const many = [
      pod('a'),
      pod('b'),
      ...['c', 'd', 'e', 'f', 'g', 'h'].map((n) => pod(n, { phase: 'Pending' })),
    ];
    const q = resourceUtilizationReplicas(8, 50, 'cpu', many, usage({ a: 1000, b: 1000 }), opts);
    assert.equal(q.replicas, 8, 'not ceil(2.0 × 2 ready) = 4');
  });

  test('a cpu sample taken before the pod was ready for one window is not trusted while initialising', () => {
    const started = NOW - 60_000;
    const pods = [pod('a'), pod('b', { startedAt: started, readySince: NOW - 10_000 })];
    // b's sample predates readiness + window: b is unready, so only a counts, and b fills in at 0.
    const p = resourceUtilizationReplicas(2, 50, 'cpu', pods, usage({ a: 1000, b: 1000 }), opts);
    assert.equal(p.utilization, 100);
    assert.equal(p.replicas, 2, 'a:100% and b:0% → ratio 1.0 → stays at 2');
  });

  test('on a scale-down, pods without metrics count as using their whole request', () => {
    const pods = [pod('a'), pod('b'), pod('c'), pod('d')];
    // a,b,c at 10%; d missing. Without the fallback: ceil(0.2 × 3) = 1; with d at 100%: (300+1000)/4000 = 32% → ceil(0.65 × 4) = 3.
    const p = resourceUtilizationReplicas(4, 50, 'cpu', pods, usage({ a: 100, b: 100, c: 100 }), opts);
    assert.equal(p.replicas, 3);
  });

  test('on a scale-up, pods without metrics count as using nothing, and a flip in direction keeps the count', () => {
    const pods = [pod('a'), pod('b'), pod('c'), pod('d')];
    // a at 60% (ratio 1.2); the three missing pods at 0 make it 15% (ratio 0.3): direction flips → stay at 4.
    const p = resourceUtilizationReplicas(4, 50, 'cpu', pods, usage({ a: 600 }), opts);
    assert.equal(p.replicas, 4);
  });

  test('deleted and failed pods are ignored', () => {
    const pods = [pod('a'), pod('b', { deleted: true }), pod('c', { phase: 'Failed' })];
    const p = resourceUtilizationReplicas(3, 50, 'cpu', pods, usage({ a: 1000, b: 0, c: 0 }), opts);
    assert.equal(p.replicas, 2);
  });

  test('errors as upstream: no pods, no metrics for the pods, missing requests', () => {
    assert.throws(
      () => resourceUtilizationReplicas(1, 50, 'cpu', [], usage({ a: 1 }), opts),
      /no pods returned by selector while calculating replica count/,
    );
    assert.throws(
      () =>
        resourceUtilizationReplicas(1, 50, 'cpu', [pod('a', { phase: 'Pending' })], usage({ a: 1 }), opts),
      /did not receive metrics for targeted pods \(pods might be unready\)/,
    );
    const noRequest = pod('a');
    noRequest.spec!.containers[0]!.resources = {};
    assert.throws(
      () => resourceUtilizationReplicas(1, 50, 'cpu', [noRequest], usage({ a: 1 }), opts),
      /missing request for cpu in container c of Pod a/,
    );
  });
});

describe('container resource replicas', () => {
  test('only the named container counts, for usage and for requests', () => {
    const withSidecar = (name: string): Pod => {
      const p = pod(name, { request: '500m' });
      p.spec!.containers.push({ name: 'sidecar', image: 'i', resources: { requests: { cpu: '100m' } } });
      return p;
    };
    const samples = parsePodMetricsList({
      items: ['a', 'b'].map((name) => ({
        metadata: { name },
        timestamp: formatTime(NOW - 1000),
        window: '0s',
        containers: [
          { name: 'c', usage: { cpu: '450m' } },
          { name: 'sidecar', usage: { cpu: '10m' } },
        ],
      })),
    });
    const pods = [withSidecar('a'), withSidecar('b')];
    // The app container alone: 90% of its request against 50% → ceil(1.8 × 2) = 4.
    const app = resourceUtilizationReplicas(2, 50, 'cpu', pods, podUsage(samples, 'cpu', 'c'), {
      ...opts,
      container: 'c',
    });
    assert.deepEqual([app.replicas, app.utilization], [4, 90]);
    // The whole pod: 460m of 600m = 76% → ceil(1.53 × 2) = 4 as well, but from another figure.
    const whole = resourceUtilizationReplicas(2, 50, 'cpu', pods, podUsage(samples, 'cpu'), opts);
    assert.equal(whole.utilization, 76);
    // A container no pod has: every pod is missing its metric.
    assert.equal(podUsage(samples, 'cpu', 'nope').size, 0);
  });
});

describe('resource average value replicas', () => {
  test('memory per pod against an average value target', () => {
    const pods = [pod('a'), pod('b')];
    // 300Mi average against 100Mi → ratio 3 → 6 pods; memory has no readiness rules.
    const mi = 1024 * 1024 * 1000;
    const p = resourceAverageValueReplicas(
      2,
      100 * mi,
      'memory',
      pods,
      usage({ a: 300 * mi, b: 300 * mi }),
      opts,
    );
    assert.equal(p.replicas, 6);
    assert.equal(p.averageMilli, 300 * mi);
  });

  test('a scale-down counts missing pods at the target', () => {
    const pods = [pod('a'), pod('b')];
    const p = resourceAverageValueReplicas(2, 1000, 'cpu', pods, usage({ a: 100 }), opts);
    // (100 + 1000) / 2 = 550 → 0.55 → ceil(1.1) = 2: the missing pod stops the scale-down.
    assert.equal(p.replicas, 2);
  });
});

describe('pod metrics', () => {
  test('PodMetricsList parsing and per-pod sums; a container without the resource makes the pod missing', () => {
    const samples = parsePodMetricsList({
      kind: 'PodMetricsList',
      items: [
        {
          metadata: { name: 'a' },
          timestamp: '2026-01-01T12:00:00Z',
          window: '30s',
          containers: [
            { name: 'x', usage: { cpu: '250m', memory: '10Mi' } },
            { name: 'y', usage: { cpu: '1', memory: '5Mi' } },
          ],
        },
        {
          metadata: { name: 'b' },
          timestamp: '2026-01-01T12:00:00Z',
          window: '30s',
          containers: [{ name: 'x', usage: { memory: '1Mi' } }],
        },
      ],
    });
    const cpu = podUsage(samples, 'cpu');
    assert.equal(cpu.get('a')?.milli, 1250);
    assert.equal(cpu.get('a')?.windowMs, 30_000);
    assert.equal(cpu.has('b'), false);
    assert.throws(() => parsePodMetricsList({ kind: 'Status' }), /no items/);
  });

  test('durations', () => {
    assert.equal(parseDurationMs('30s'), 30_000);
    assert.equal(parseDurationMs('1m0.5s'), 60_500);
    assert.equal(parseDurationMs('250ms'), 250);
    assert.equal(parseDurationMs('soon'), undefined);
  });
});
