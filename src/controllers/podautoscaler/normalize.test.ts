import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HorizontalPodAutoscalerBehavior } from '../../api/generated/types.js';
import {
  normalizeDesiredReplicas,
  recordScaleEvent,
  ScalingHistory,
  type NormalizeArgs,
} from './normalize.js';

const T0 = Date.parse('2026-01-01T12:00:00Z');

function args(o: Partial<NormalizeArgs>): NormalizeArgs {
  return {
    currentReplicas: 2,
    desiredReplicas: 2,
    minReplicas: 1,
    maxReplicas: 10,
    behavior: undefined,
    now: T0,
    ...o,
  };
}

describe('without spec.behavior', () => {
  test('a scale-down waits for the stabilization window; the highest recent recommendation wins', () => {
    const h = new ScalingHistory();
    const win = 300_000;
    assert.equal(
      normalizeDesiredReplicas(h, args({ currentReplicas: 5, desiredReplicas: 5, now: T0 })).replicas,
      5,
    );
    const down = normalizeDesiredReplicas(
      h,
      args({ currentReplicas: 5, desiredReplicas: 2, now: T0 + 60_000 }),
    );
    assert.equal(down.replicas, 5);
    assert.equal(down.ableToScale.reason, 'ScaleDownStabilized');
    assert.equal(
      down.ableToScale.message,
      'recent recommendations were higher than current one, applying the highest recent recommendation',
    );
    const later = normalizeDesiredReplicas(
      h,
      args({ currentReplicas: 5, desiredReplicas: 2, now: T0 + win + 1000 }),
    );
    assert.equal(later.replicas, 2);
    assert.equal(later.ableToScale.reason, 'ReadyForNewScale');
  });

  test('scale-up limited to max(2×current, 4) and to maxReplicas; TooFewReplicas at min', () => {
    const up = normalizeDesiredReplicas(
      new ScalingHistory(),
      args({ currentReplicas: 3, desiredReplicas: 20, maxReplicas: 50 }),
    );
    assert.equal(up.replicas, 6);
    assert.deepEqual([up.limited.status, up.limited.reason], ['True', 'ScaleUpLimit']);
    const max = normalizeDesiredReplicas(
      new ScalingHistory(),
      args({ currentReplicas: 3, desiredReplicas: 20, maxReplicas: 5 }),
    );
    assert.equal(max.replicas, 5);
    assert.deepEqual([max.limited.status, max.limited.reason], ['True', 'TooManyReplicas']);
    const min = normalizeDesiredReplicas(
      new ScalingHistory(),
      args({ currentReplicas: 3, desiredReplicas: 1, minReplicas: 2, downscaleStabilizationMs: 0 }),
    );
    assert.equal(min.replicas, 2);
    assert.deepEqual([min.limited.status, min.limited.reason], ['True', 'TooFewReplicas']);
    const ok = normalizeDesiredReplicas(
      new ScalingHistory(),
      args({ currentReplicas: 3, desiredReplicas: 4 }),
    );
    assert.deepEqual([ok.replicas, ok.limited.status, ok.limited.reason], [4, 'False', 'DesiredWithinRange']);
  });
});

describe('with spec.behavior', () => {
  test('Pods and Percent policies, selectPolicy Max picks the larger change, Min the smaller', () => {
    const behavior: HorizontalPodAutoscalerBehavior = {
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [
          { type: 'Pods', value: 2, periodSeconds: 60 },
          { type: 'Percent', value: 50, periodSeconds: 60 },
        ],
      },
    };
    const max = normalizeDesiredReplicas(
      new ScalingHistory(),
      args({ currentReplicas: 10, desiredReplicas: 30, maxReplicas: 100, behavior }),
    );
    assert.equal(max.replicas, 15);
    assert.equal(max.limited.reason, 'ScaleUpLimit');
    const minBehavior = { scaleUp: { ...behavior.scaleUp, selectPolicy: 'Min' } };
    const min = normalizeDesiredReplicas(
      new ScalingHistory(),
      args({ currentReplicas: 10, desiredReplicas: 30, maxReplicas: 100, behavior: minBehavior }),
    );
    assert.equal(min.replicas, 12);
  });

  test('selectPolicy Disabled keeps the count in that direction', () => {
    const behavior: HorizontalPodAutoscalerBehavior = {
      scaleDown: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Disabled',
        policies: [{ type: 'Pods', value: 1, periodSeconds: 15 }],
      },
    };
    const n = normalizeDesiredReplicas(
      new ScalingHistory(),
      args({ currentReplicas: 5, desiredReplicas: 1, behavior }),
    );
    assert.equal(n.replicas, 5);
    assert.equal(n.limited.reason, 'ScaleDownLimit');
  });

  test('changes made within a policy period count against it', () => {
    const behavior: HorizontalPodAutoscalerBehavior = {
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }],
      },
    };
    const h = new ScalingHistory();
    const first = normalizeDesiredReplicas(
      h,
      args({ currentReplicas: 2, desiredReplicas: 10, maxReplicas: 20, behavior }),
    );
    assert.equal(first.replicas, 4);
    recordScaleEvent(h, behavior, 2, 4, T0);
    const again = normalizeDesiredReplicas(
      h,
      args({ currentReplicas: 4, desiredReplicas: 10, maxReplicas: 20, behavior, now: T0 + 15_000 }),
    );
    assert.equal(again.replicas, 4, 'the period already used its 2 pods');
    const afterPeriod = normalizeDesiredReplicas(
      h,
      args({ currentReplicas: 4, desiredReplicas: 10, maxReplicas: 20, behavior, now: T0 + 61_000 }),
    );
    assert.equal(afterPeriod.replicas, 6);
  });

  test('scale-down stabilization window from behavior; default down policy allows 100% per 15 s', () => {
    const behavior: HorizontalPodAutoscalerBehavior = { scaleDown: { stabilizationWindowSeconds: 10 } };
    const h = new ScalingHistory();
    normalizeDesiredReplicas(h, args({ currentReplicas: 8, desiredReplicas: 8, behavior, now: T0 }));
    const held = normalizeDesiredReplicas(
      h,
      args({ currentReplicas: 8, desiredReplicas: 1, behavior, now: T0 + 5_000 }),
    );
    assert.equal(held.replicas, 8);
    assert.equal(held.ableToScale.reason, 'ScaleDownStabilized');
    const down = normalizeDesiredReplicas(
      h,
      args({ currentReplicas: 8, desiredReplicas: 1, behavior, now: T0 + 16_000 }),
    );
    assert.equal(down.replicas, 1);
  });

  test('scale-up stabilization takes the lowest recent recommendation', () => {
    const behavior: HorizontalPodAutoscalerBehavior = { scaleUp: { stabilizationWindowSeconds: 60 } };
    const h = new ScalingHistory();
    normalizeDesiredReplicas(h, args({ currentReplicas: 2, desiredReplicas: 3, behavior, now: T0 }));
    const n = normalizeDesiredReplicas(
      h,
      args({ currentReplicas: 2, desiredReplicas: 8, behavior, now: T0 + 10_000 }),
    );
    assert.equal(n.replicas, 3);
    assert.equal(n.ableToScale.reason, 'ScaleUpStabilized');
  });
});
