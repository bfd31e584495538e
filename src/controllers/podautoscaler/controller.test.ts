import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { HorizontalPodAutoscaler, Pod } from '../../api/generated/types.js';
import { StatusError } from '../../api/errors.js';
import type { SharedInformer } from '../../client/informer.js';
import { HORIZONTALPODAUTOSCALERS, PODS } from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import { FakeClock, formatTime } from '../common/clock.js';
import type { Scale, ScaleClient } from '../common/scale-client.js';
import { FakeRecorder, fakeInformer, put } from '../testing.js';
import { HorizontalPodAutoscalerController } from './controller.js';
import type { PodMetricsSample } from './metrics.js';

const NS = 'ns';
let clock: FakeClock;
let hpas: SharedInformer<HorizontalPodAutoscaler>;
let pods: SharedInformer<Pod>;
let recorder: FakeRecorder;
let scale: Scale | StatusError;
let scaleWrites: number[];
let statuses: HorizontalPodAutoscaler[];
let usage: string;
let controller: HorizontalPodAutoscalerController;

const scales: ScaleClient = {
  getScale: async () => {
    await Promise.resolve();
    if (scale instanceof StatusError) throw scale;
    return structuredClone(scale);
  },
  updateScale: async (_ns, _target, s) => {
    await Promise.resolve();
    scaleWrites.push(s.spec?.replicas ?? -1);
    return s;
  },
};

beforeEach(() => {
  clock = new FakeClock();
  hpas = fakeInformer(HORIZONTALPODAUTOSCALERS);
  pods = fakeInformer(PODS);
  recorder = new FakeRecorder();
  scale = {
    metadata: { name: 'web', namespace: NS },
    spec: { replicas: 2 },
    status: { replicas: 2, selector: 'app=web' },
  };
  scaleWrites = [];
  statuses = [];
  usage = '400m';
  controller = new HorizontalPodAutoscalerController({
    hpas,
    pods: pods.getLister(),
    scales,
    metrics: {
      podMetrics: async (): Promise<PodMetricsSample[]> => {
        await Promise.resolve();
        return pods.list(NS).map((p) => ({
          name: p.metadata.name ?? '',
          timestampMs: clock.now(),
          windowMs: 0,
          containers: [{ name: 'c', usage: { cpu: usage } }],
        }));
      },
    },
    updateStatus: async (h) => {
      await Promise.resolve();
      statuses.push(structuredClone(h));
      return put(hpas, h);
    },
    recorder,
    log: createLogger('test'),
    clock,
  });
  for (const name of ['a', 'b'])
    put(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '1' } } }] },
      status: {
        phase: 'Running',
        startTime: formatTime(clock.now() - 3_600_000),
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: formatTime(clock.now() - 3_600_000) },
        ],
      },
    });
  put(hpas, {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
        },
      ],
    },
  });
});

// Stopping drops the periodic re-syncs each sync schedules.
afterEach(() => controller.stop());

const lastStatus = () => statuses.at(-1)?.status;
const cond = (type: string) => lastStatus()?.conditions?.find((c) => c.type === type);

describe('autoscaler reconcile', () => {
  test('within tolerance: no rescale, status reports the metric and ValidMetricFound', async () => {
    usage = '520m'; // 52% against 50%
    await controller.sync('ns/web');
    assert.deepEqual(scaleWrites, []);
    assert.equal(lastStatus()?.currentReplicas, 2);
    assert.equal(lastStatus()?.desiredReplicas, 2);
    assert.equal(lastStatus()?.lastScaleTime, undefined);
    assert.deepEqual(lastStatus()?.currentMetrics?.[0]?.resource?.current, {
      averageUtilization: 52,
      averageValue: '520m',
    });
    assert.deepEqual(
      [cond('AbleToScale')?.reason, cond('ScalingActive')?.reason, cond('ScalingLimited')?.reason],
      ['ReadyForNewScale', 'ValidMetricFound', 'DesiredWithinRange'],
    );
  });

  test('a target that cannot be read: AbleToScale False FailedGetScale and a warning', async () => {
    scale = new StatusError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code: 404,
      reason: 'NotFound',
      message: 'deployments.apps "web" not found',
    });
    await controller.sync('ns/web');
    assert.equal(cond('AbleToScale')?.status, 'False');
    assert.equal(cond('AbleToScale')?.reason, 'FailedGetScale');
    assert.equal(
      cond('AbleToScale')?.message,
      'the HPA controller was unable to get the target\'s current scale: deployments.apps "web" not found',
    );
    assert.deepEqual(recorder.messages('FailedGetScale'), ['deployments.apps "web" not found']);
  });

  test('a target scaled to zero by hand turns autoscaling off (ScalingDisabled)', async () => {
    scale = {
      metadata: { name: 'web', namespace: NS },
      spec: { replicas: 0 },
      status: { replicas: 0, selector: 'app=web' },
    };
    await controller.sync('ns/web');
    assert.deepEqual(scaleWrites, []);
    assert.equal(cond('ScalingActive')?.reason, 'ScalingDisabled');
    assert.equal(
      cond('ScalingActive')?.message,
      'scaling is disabled since the replica count of the target is zero',
    );
  });

  test('replicas above maxReplicas are brought down without looking at metrics', async () => {
    scale = {
      metadata: { name: 'web', namespace: NS },
      spec: { replicas: 12 },
      status: { replicas: 12, selector: 'app=web' },
    };
    await controller.sync('ns/web');
    assert.deepEqual(scaleWrites, [10]);
    assert.deepEqual(recorder.messages('SuccessfulRescale'), [
      'New size: 10; reason: Current number of replicas above Spec.MaxReplicas',
    ]);
    assert.equal(lastStatus()?.lastScaleTime, formatTime(clock.now()));
  });

  test('a scale without a selector: ScalingActive False InvalidSelector', async () => {
    scale = { metadata: { name: 'web', namespace: NS }, spec: { replicas: 2 }, status: { replicas: 2 } };
    await controller.sync('ns/web');
    assert.equal(cond('ScalingActive')?.reason, 'InvalidSelector');
    assert.deepEqual(recorder.messages('SelectorRequired'), ['selector is required']);
    assert.ok(recorder.messages('FailedComputeMetricsReplicas').length > 0);
  });

  test('condition transition times move only when the status changes', async () => {
    usage = '520m';
    await controller.sync('ns/web');
    const first = cond('ScalingActive')?.lastTransitionTime;
    clock.advance(60_000);
    usage = '510m';
    await controller.sync('ns/web');
    assert.equal(cond('ScalingActive')?.lastTransitionTime, first);
  });
});
