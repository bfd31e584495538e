// The control-plane taint controller as the controller manager runs it: one sync (over all nodes)
// whenever a node is added, changed or deleted.
import type { Node, Taint } from '../../api/generated/types.js';
import type { RestClient } from '../../client/rest.js';
import { NODES } from '../../client/typed-refs.js';
import { queueRunner } from '../common/runner.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import {
  ControlPlaneTaintController,
  MANAGED_ANNOTATION,
  type ControlPlaneTaintClient,
} from './control-plane-taint.js';

export {
  ControlPlaneTaintController,
  CONTROL_PLANE_TAINT,
  MANAGED_ANNOTATION,
} from './control-plane-taint.js';

export function restControlPlaneTaintClient(client: RestClient): ControlPlaneTaintClient {
  return {
    async setTaints(node: Node, taints: Taint[], managed: boolean) {
      await client.patch<Node>(NODES, undefined, node.metadata.name ?? '', 'merge', {
        metadata: {
          resourceVersion: node.metadata.resourceVersion,
          annotations: { [MANAGED_ANNOTATION]: managed ? 'true' : null },
        },
        spec: { taints },
      });
    },
  };
}

const KEY = 'control-plane';

export const controlPlaneTaintController: ControllerDescriptor = {
  name: 'control-plane-taint-controller',
  start(ctx): StopController {
    const nodes = ctx.informers.informerFor<Node>(NODES);
    const controller = new ControlPlaneTaintController({
      nodes: nodes.getLister(),
      client: restControlPlaneTaintClient(ctx.client),
      log: ctx.logger,
    });
    const runner = queueRunner('control_plane_taint', ctx.logger, () => controller.sync());
    const changed = (): void => runner.queue.add(KEY);
    // Status heartbeats do not change the answer: only a node's role, taints or annotation do.
    const relevant = (n: Node): string =>
      JSON.stringify([n.metadata.labels, n.spec?.taints, n.metadata.annotations?.[MANAGED_ANNOTATION]]);
    const reg = nodes.addEventHandler({
      onAdd: changed,
      onUpdate: (a, b) => {
        if (relevant(a) !== relevant(b)) changed();
      },
      onDelete: changed,
    });
    let stopped = false;
    void ctx.waitForCacheSync().then((ok) => {
      if (!ok || stopped) return;
      runner.queue.add(KEY);
      void runner.run(1);
    });
    return async () => {
      stopped = true;
      reg.remove();
      await runner.stop();
    };
  },
};
