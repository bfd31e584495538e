// The node IPAM range allocator (upstream's range_allocator): every node gets spec.podCIDR (and
// spec.podCIDRs) from the cluster CIDR, one subnet per node, and gives it back when deleted. The
// subnets in use are rebuilt from the nodes that exist before the first allocation, so a restart
// never hands out a subnet a node already has. When the range is exhausted the node is left
// without a CIDR (event CIDRNotAvailable, once per node) and retried when some node releases one:
// a containerd node stays NotReady ("network is not ready") until then, while simulated nodes keep
// the addresses of their own (k8ts agent --nodes: 10.64.0.0 onwards), so a fleet of 5,000 runs on
// the default /16 (256 subnets). Give real clusters a larger --cluster-cidr for more nodes.
import type { Node } from '../../api/generated/types.js';
import type { EventRecorder } from '../../client/events.js';
import type { Lister } from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { CidrRangeFullError, CidrSet } from './cidrset.js';

/** k3s's default cluster CIDR, and the node mask upstream uses for IPv4. */
export const DEFAULT_CLUSTER_CIDR = '10.42.0.0/16';
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

export interface RangeAllocatorClient {
  /** Sets spec.podCIDR and spec.podCIDRs (allowed once: from empty to a value). */
  setNodePodCidr(name: string, cidr: string): Promise<void>;
}

export interface RangeAllocatorOptions {
  clusterCidr: string;
  nodeCidrMaskSize: number;
  nodes: Lister<Node>;
  client: RangeAllocatorClient;
  recorder: EventRecorder;
  log: Logger;
  /** Asks for the node to be synced again (a released subnet may serve a waiting node). */
  enqueue(name: string): void;
}

function podCidrsOf(node: Node): string[] {
  const list = node.spec?.podCIDRs ?? [];
  if (list.length > 0) return [...list];
  return node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

export class RangeAllocator {
  readonly set: CidrSet;
  /** The subnet each node holds in our set (what to release when it goes). */
  private readonly held = new Map<string, string>();
  /** Nodes that found the range full: synced again when a subnet is released. */
  private readonly waiting = new Set<string>();

  constructor(private readonly opts: RangeAllocatorOptions) {
    this.set = new CidrSet(opts.clusterCidr, opts.nodeCidrMaskSize);
  }

  /** Marks every existing node's subnet as taken; call once with a synced cache, before any sync. */
  occupyExisting(): void {
    for (const node of this.opts.nodes.list()) this.occupy(node);
    this.opts.log.info('node CIDRs rebuilt from existing nodes', {
      clusterCidr: this.opts.clusterCidr,
      inUse: this.set.size - this.set.free,
      free: this.set.free,
    });
  }

  private occupy(node: Node): void {
    const name = node.metadata.name ?? '';
    for (const cidr of podCidrsOf(node)) {
      if (this.set.occupy(cidr)) {
        this.held.set(name, cidr);
        return;
      }
      // A CIDR set by hand or by another allocator: ours only when it is one of our subnets.
      if (this.set.overlapsCluster(cidr))
        this.opts.log.warn(
          'node has a pod CIDR that overlaps the cluster CIDR but is not one of its subnets',
          {
            node: name,
            podCIDR: cidr,
          },
        );
    }
  }

  /** Allocates for a node without a CIDR, records one it has, or releases a deleted node's. */
  async sync(name: string): Promise<void> {
    const node = this.opts.nodes.get(undefined, name);
    if (!node || node.metadata.deletionTimestamp) {
      this.releaseFor(name);
      if (!node) this.waiting.delete(name);
      return;
    }
    if (podCidrsOf(node).length > 0) {
      this.waiting.delete(name);
      if (!this.held.has(name)) this.occupy(node);
      return;
    }
    // Patched earlier, not yet seen through the watch: keep what we gave it.
    const pending = this.held.get(name);
    if (pending !== undefined) {
      await this.patch(node, pending);
      return;
    }
    let cidr: string;
    try {
      cidr = this.set.allocateNext();
    } catch (err) {
      if (!(err instanceof CidrRangeFullError)) throw err;
      if (!this.waiting.has(name)) {
        this.waiting.add(name);
        this.statusChange(node, 'CIDRNotAvailable');
        this.opts.log.info('no pod CIDR left for node', { node: name, err: err.message });
      }
      return;
    }
    this.held.set(name, cidr);
    this.waiting.delete(name);
    await this.patch(node, cidr);
  }

  private async patch(node: Node, cidr: string): Promise<void> {
    const name = node.metadata.name ?? '';
    try {
      await this.opts.client.setNodePodCidr(name, cidr);
      this.opts.log.info('set node pod CIDR', { node: name, podCIDR: cidr });
    } catch (err) {
      // Upstream releases the subnet when the patch fails; the node is synced again with backoff.
      this.statusChange(node, 'CIDRAssignmentFailed');
      this.releaseFor(name);
      throw err;
    }
  }

  private releaseFor(name: string): void {
    const cidr = this.held.get(name);
    if (cidr === undefined) return;
    this.held.delete(name);
    this.set.release(cidr);
    this.opts.log.info('released node pod CIDR', { node: name, podCIDR: cidr });
    for (const w of this.waiting) this.opts.enqueue(w);
  }

  /** Upstream's RecordNodeStatusChange. */
  private statusChange(node: Node, status: string): void {
    const name = node.metadata.name ?? '';
    this.opts.recorder.event(
      { kind: 'Node', name, uid: name },
      'Normal',
      status,
      `Node ${name} status is now: ${status}`,
    );
  }
}
