// The node IPAM controller as the controller manager runs it (kube-controller-manager's
// node-ipam-controller with --allocate-node-cidrs, which k3s always sets).
import type { Node } from '../../api/generated/types.js';
import { deletedObject } from '../../client/informer.js';
import type { RestClient } from '../../client/rest.js';
import { NODES } from '../../client/typed-refs.js';
import { queueRunner } from '../common/runner.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import {
  DEFAULT_CLUSTER_CIDR,
  DEFAULT_NODE_CIDR_MASK_SIZE,
  RangeAllocator,
  type RangeAllocatorClient,
} from './range-allocator.js';

export { DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE, RangeAllocator } from './range-allocator.js';
export { CidrSet, parseCidr4 } from './cidrset.js';

export function restRangeAllocatorClient(client: RestClient): RangeAllocatorClient {
  return {
    async setNodePodCidr(name, cidr) {
      await client.patch<Node>(NODES, undefined, name, 'strategic', {
        spec: { podCIDR: cidr, podCIDRs: [cidr] },
      });
    },
  };
}

export interface NodeIpamControllerOptions {
  /** The range pod addresses come from (--cluster-cidr; default 10.42.0.0/16). */
  clusterCidr?: string;
  /** The size of each node's subnet (--node-cidr-mask-size; default 24). */
  nodeCidrMaskSize?: number;
}

/** Upstream runs the range allocator with one worker per CIDR update (30); one is plenty here. */
const WORKERS = 1;

export function nodeIpamControllerDescriptor(opts: NodeIpamControllerOptions = {}): ControllerDescriptor {
  return {
    name: 'node-ipam-controller',
    start(ctx): StopController {
      const nodes = ctx.informers.informerFor<Node>(NODES);
      const runner = queueRunner('node_ipam', ctx.logger, (name) => allocator.sync(name));
      const allocator = new RangeAllocator({
        clusterCidr: opts.clusterCidr ?? DEFAULT_CLUSTER_CIDR,
        nodeCidrMaskSize: opts.nodeCidrMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE,
        nodes: nodes.getLister(),
        client: restRangeAllocatorClient(ctx.client),
        recorder: ctx.recorder('cidrAllocator'),
        log: ctx.logger,
        enqueue: (name) => runner.queue.add(name),
      });
      const enqueue = (n: Node): void => runner.queue.add(n.metadata.name ?? '');
      const reg = nodes.addEventHandler({
        onAdd: enqueue,
        onUpdate: (_old, n) => enqueue(n),
        onDelete: (n) => enqueue(deletedObject(n)),
      });
      let stopped = false;
      void ctx.waitForCacheSync().then((ok) => {
        if (!ok || stopped) return;
        // Every subnet a node holds is marked before the first allocation: none is handed out twice.
        allocator.occupyExisting();
        void runner.run(WORKERS);
      });
      return async () => {
        stopped = true;
        reg.remove();
        await runner.stop();
      };
    },
  };
}
