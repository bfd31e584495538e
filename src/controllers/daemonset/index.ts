// The 'daemonset' controller as the manager starts it.
import type { ControllerRevision, DaemonSet, Node, Pod } from '../../api/generated/types.js';
import { CONTROLLERREVISIONS, DAEMONSETS, NODES, PODS } from '../../client/typed-refs.js';
import type { Clock } from '../common/clock.js';
import { RealPodControl } from '../common/pod-control.js';
import { restRevisionClient } from '../statefulset/revision-client.js';
import type { ControllerDescriptor } from '../types.js';
import { DaemonSetController } from './daemonset-controller.js';

export { DaemonSetController, daemonPodTemplate, TEMPLATE_GENERATION_LABEL } from './daemonset-controller.js';
export type { DaemonSetClient, DaemonSetControllerOptions } from './daemonset-controller.js';
export * from './predicates.js';

/** Upstream's --concurrent-daemonset-syncs default. */
const DEFAULT_WORKERS = 2;

export function daemonSetControllerDescriptor(
  tuning: { clock?: Clock; setNodeName?: boolean } = {},
): ControllerDescriptor {
  return {
    name: 'daemonset',
    start(ctx) {
      const recorder = ctx.recorder('daemonset-controller');
      const controller = new DaemonSetController({
        dsInformer: ctx.informers.informerFor<DaemonSet>(DAEMONSETS),
        podInformer: ctx.informers.informerFor<Pod>(PODS),
        nodeInformer: ctx.informers.informerFor<Node>(NODES),
        revisionInformer: ctx.informers.informerFor<ControllerRevision>(CONTROLLERREVISIONS),
        podControl: new RealPodControl(ctx.client, recorder),
        client: {
          updateStatus: (ds) => ctx.client.update<DaemonSet>(DAEMONSETS, ds, 'status'),
          get: (ns, name) => ctx.client.get<DaemonSet>(DAEMONSETS, ns, name),
          revisions: restRevisionClient(ctx.client),
        },
        recorder,
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
