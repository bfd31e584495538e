// The 'replicaset' and 'replicationcontroller' controllers as the manager starts them.
import type { Pod } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import { PODS } from '../../client/typed-refs.js';
import { RealPodControl } from '../common/pod-control.js';
import type { ControllerContext, ControllerDescriptor, StopController } from '../types.js';
import { replicaSetAdapter, replicationControllerAdapter, type ReplicaSetKindAdapter } from './adapter.js';
import { ReplicaSetController } from './replica-set.js';

export { ReplicaSetController, BURST_REPLICAS } from './replica-set.js';
export type { ReplicaSetClient, ReplicaSetControllerOptions } from './replica-set.js';
export { replicaSetAdapter, replicationControllerAdapter } from './adapter.js';
export type { ReplicaSetKindAdapter } from './adapter.js';

/** Upstream's --concurrent-replicaset-syncs / --concurrent_rc_syncs default. */
const DEFAULT_WORKERS = 5;

function startFor(adapter: ReplicaSetKindAdapter, ctx: ControllerContext): StopController {
  const rsInformer = ctx.informers.informerFor<KubeObject>(adapter.ref);
  const podInformer = ctx.informers.informerFor<Pod>(PODS);
  const recorder = ctx.recorder(adapter.component);
  const controller = new ReplicaSetController({
    adapter,
    rsInformer,
    podInformer,
    podControl: new RealPodControl(ctx.client, recorder),
    client: {
      updateStatus: (obj) => ctx.client.update(adapter.ref, obj, 'status'),
      get: (namespace, name) => ctx.client.get(adapter.ref, namespace, name),
    },
    logger: ctx.logger,
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
}

export const replicaSetControllerDescriptor: ControllerDescriptor = {
  name: 'replicaset',
  start: (ctx) => startFor(replicaSetAdapter, ctx),
};

export const replicationControllerDescriptor: ControllerDescriptor = {
  name: 'replicationcontroller',
  start: (ctx) => startFor(replicationControllerAdapter, ctx),
};
