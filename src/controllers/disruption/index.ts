// The 'disruption' controller as the controller manager runs it.
import type {
  Deployment,
  Pod,
  PodDisruptionBudget,
  ReplicaSet,
  ReplicationController,
  StatefulSet,
} from '../../api/generated/types.js';
import {
  DEPLOYMENTS,
  PODDISRUPTIONBUDGETS,
  PODS,
  REPLICASETS,
  REPLICATIONCONTROLLERS,
  STATEFULSETS,
} from '../../client/typed-refs.js';
import type { Clock } from '../common/clock.js';
import { restScaleClient } from '../common/scale-client.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import { DisruptionController } from './disruption.js';

export { DisruptionController, countHealthyPods, DELETION_TIMEOUT_MS } from './disruption.js';

/** Upstream runs one disruption worker. */
const DISRUPTION_WORKERS = 1;

export function disruptionControllerDescriptor(tuning: { clock?: Clock } = {}): ControllerDescriptor {
  return {
    name: 'disruption',
    start(ctx): StopController {
      const controller = new DisruptionController({
        pdbs: ctx.informers.informerFor<PodDisruptionBudget>(PODDISRUPTIONBUDGETS),
        pods: ctx.informers.informerFor<Pod>(PODS),
        replicaSets: ctx.informers.informerFor<ReplicaSet>(REPLICASETS).getLister(),
        deployments: ctx.informers.informerFor<Deployment>(DEPLOYMENTS).getLister(),
        statefulSets: ctx.informers.informerFor<StatefulSet>(STATEFULSETS).getLister(),
        replicationControllers: ctx.informers
          .informerFor<ReplicationController>(REPLICATIONCONTROLLERS)
          .getLister(),
        scales: restScaleClient(ctx.client),
        updateStatus: (pdb) => ctx.client.update<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, pdb, 'status'),
        updatePodStatus: (pod) => ctx.client.update<Pod>(PODS, pod, 'status'),
        recorder: ctx.recorder('controllermanager'),
        log: ctx.logger,
        clock: tuning.clock,
      });
      controller.registerHandlers();
      let stopped = false;
      void ctx.waitForCacheSync().then((ok) => {
        if (ok && !stopped) void controller.run(ctx.workers ?? DISRUPTION_WORKERS);
      });
      return async () => {
        stopped = true;
        await controller.stop();
      };
    },
  };
}
