// The 'statefulset' controller as the manager starts it.
import type {
  ControllerRevision,
  PersistentVolumeClaim,
  Pod,
  StatefulSet,
} from '../../api/generated/types.js';
import { CONTROLLERREVISIONS, PERSISTENTVOLUMECLAIMS, PODS, STATEFULSETS } from '../../client/typed-refs.js';
import type { Clock } from '../common/clock.js';
import type { ControllerDescriptor } from '../types.js';
import { restRevisionClient } from './revision-client.js';
import { StatefulSetController } from './statefulset-controller.js';

export { StatefulSetController } from './statefulset-controller.js';
export type { StatefulSetClient, StatefulSetControllerOptions } from './statefulset-controller.js';
export * from './history.js';
export * from './stateful-pod.js';
export { restRevisionClient } from './revision-client.js';

/** Upstream's --concurrent-statefulset-syncs default. */
const DEFAULT_WORKERS = 5;

export function statefulSetControllerDescriptor(tuning: { clock?: Clock } = {}): ControllerDescriptor {
  return {
    name: 'statefulset',
    start(ctx) {
      const c = ctx.client;
      const controller = new StatefulSetController({
        setInformer: ctx.informers.informerFor<StatefulSet>(STATEFULSETS),
        podInformer: ctx.informers.informerFor<Pod>(PODS),
        pvcInformer: ctx.informers.informerFor<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS),
        revisionInformer: ctx.informers.informerFor<ControllerRevision>(CONTROLLERREVISIONS),
        client: {
          createPod: (pod) => c.create<Pod>(PODS, pod.metadata.namespace, pod),
          deletePod: async (ns, name) => {
            await c.delete(PODS, ns, name);
          },
          patchPod: async (ns, name, ops) => {
            await c.patch(PODS, ns, name, 'json', ops);
          },
          createClaim: (pvc) =>
            c.create<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, pvc.metadata.namespace, pvc),
          patchClaim: async (ns, name, ops) => {
            await c.patch(PERSISTENTVOLUMECLAIMS, ns, name, 'json', ops);
          },
          updateStatus: (set) => c.update<StatefulSet>(STATEFULSETS, set, 'status'),
          get: (ns, name) => c.get<StatefulSet>(STATEFULSETS, ns, name),
          revisions: restRevisionClient(c),
        },
        recorder: ctx.recorder('statefulset-controller'),
        logger: ctx.logger,
        ...tuning,
      });
      controller.registerHandlers();
      let stopped = false;
      void ctx.waitForCacheSync().then((ok) => {
        if (ok && !stopped) void controller.run(ctx.workers ?? DEFAULT_WORKERS);
      });
      return async () => {
        stopped = true;
        await controller.stop();
      };
    },
  };
}
