// The 'deployment' controller as the manager starts it.
import type { Deployment, Pod, ReplicaSet } from '../../api/generated/types.js';
import type { RestClient } from '../../client/rest.js';
import { DEPLOYMENTS, PODS, REPLICASETS } from '../../client/typed-refs.js';
import type { ControllerDescriptor } from '../types.js';
import type { DeploymentClient } from './context.js';
import { DeploymentController } from './controller.js';

export { DeploymentController } from './controller.js';
export type { DeploymentControllerOptions } from './controller.js';
export type { DeploymentClient, DeploymentSyncContext } from './context.js';
export { computeHash, safeEncodeString } from './hash.js';

/** Upstream's --concurrent-deployment-syncs default. */
const DEFAULT_WORKERS = 5;

export function restDeploymentClient(client: RestClient): DeploymentClient {
  return {
    createReplicaSet: (rs) => client.create<ReplicaSet>(REPLICASETS, rs.metadata.namespace, rs),
    updateReplicaSet: (rs) => client.update<ReplicaSet>(REPLICASETS, rs),
    deleteReplicaSet: async (namespace, name) => {
      await client.delete(REPLICASETS, namespace, name);
    },
    patchReplicaSet: async (namespace, name, ops) => {
      await client.patch(REPLICASETS, namespace, name, 'json', ops);
    },
    getDeployment: (namespace, name) => client.get<Deployment>(DEPLOYMENTS, namespace, name),
    updateDeployment: (d) => client.update<Deployment>(DEPLOYMENTS, d),
    updateDeploymentStatus: (d) => client.update<Deployment>(DEPLOYMENTS, d, 'status'),
  };
}

export const deploymentControllerDescriptor: ControllerDescriptor = {
  name: 'deployment',
  start(ctx) {
    const controller = new DeploymentController({
      deploymentInformer: ctx.informers.informerFor<Deployment>(DEPLOYMENTS),
      rsInformer: ctx.informers.informerFor<ReplicaSet>(REPLICASETS),
      podInformer: ctx.informers.informerFor<Pod>(PODS),
      client: restDeploymentClient(ctx.client),
      recorder: ctx.recorder('deployment-controller'),
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
  },
};
