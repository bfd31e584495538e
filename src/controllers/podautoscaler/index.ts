// The 'horizontalpodautoscaling' controller as the controller manager runs it.
import type { HorizontalPodAutoscaler, Pod } from '../../api/generated/types.js';
import { HORIZONTALPODAUTOSCALERS, PODS } from '../../client/typed-refs.js';
import type { Clock } from '../common/clock.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import { HorizontalPodAutoscalerController } from './controller.js';
import { restResourceMetricsSource, type ResourceMetricsSource } from './metrics.js';
import { restScaleClient, type ScaleClient } from '../common/scale-client.js';

export { HorizontalPodAutoscalerController, DEFAULT_SYNC_PERIOD_MS } from './controller.js';
export type { PodMetricsSample, ResourceMetricsSource } from './metrics.js';
export { restResourceMetricsSource } from './metrics.js';

/** Upstream's --concurrent-horizontal-pod-autoscaler-syncs default. */
const HPA_WORKERS = 5;

export interface HorizontalPodAutoscalerTuning {
  /** Where pod usage comes from (default: metrics.k8s.io/v1beta1 through the API server). */
  metrics?: ResourceMetricsSource;
  /** How the target's scale subresource is read and written (default: through the API server). */
  scales?: ScaleClient;
  /** How often each autoscaler is reconciled (default 15 s). */
  syncPeriodMs?: number;
  /** Scale-down stabilization for autoscalers without spec.behavior (default 5 min). */
  downscaleStabilizationMs?: number;
  tolerance?: number;
  cpuInitializationPeriodMs?: number;
  initialReadinessDelayMs?: number;
  clock?: Clock;
}

export function horizontalPodAutoscalerControllerDescriptor(
  tuning: HorizontalPodAutoscalerTuning = {},
): ControllerDescriptor {
  return {
    name: 'horizontalpodautoscaling',
    start(ctx): StopController {
      const { metrics, scales, ...rest } = tuning;
      const controller = new HorizontalPodAutoscalerController({
        hpas: ctx.informers.informerFor<HorizontalPodAutoscaler>(HORIZONTALPODAUTOSCALERS),
        pods: ctx.informers.informerFor<Pod>(PODS).getLister(),
        scales: scales ?? restScaleClient(ctx.client),
        metrics: metrics ?? restResourceMetricsSource(ctx.client),
        updateStatus: (hpa) =>
          ctx.client.update<HorizontalPodAutoscaler>(HORIZONTALPODAUTOSCALERS, hpa, 'status'),
        recorder: ctx.recorder('horizontal-pod-autoscaler'),
        log: ctx.logger,
        ...rest,
      });
      controller.registerHandlers();
      let stopped = false;
      void ctx.waitForCacheSync().then((ok) => {
        if (ok && !stopped) void controller.run(ctx.workers ?? HPA_WORKERS);
      });
      return async () => {
        stopped = true;
        await controller.stop();
      };
    },
  };
}
