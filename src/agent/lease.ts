// The node heartbeat: a Lease named after the node in kube-node-lease, renewed every renew
// interval (10 s, a quarter of its 40 s duration) as upstream's lease controller does it. The first
// sync gets the Lease or creates it (owned by the Node, so it goes when the node goes); later syncs
// update the last Lease the server returned with a new renewTime, without reading it first. A
// conflict means someone else wrote it: read it again and retry, up to five times per renewal.
import { StatusError } from '../api/errors.js';
import type { Lease, Node } from '../api/generated/types.js';
import type { RestClient } from '../client/rest.js';
import { LEASES } from '../client/typed-refs.js';
import { microTime } from './support.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const DEFAULT_LEASE_DURATION_SECONDS = 40;
/** Upstream renews at a quarter of the duration. */
export const DEFAULT_RENEW_INTERVAL_MS = (DEFAULT_LEASE_DURATION_SECONDS * 1000) / 4;
const MAX_UPDATE_RETRIES = 5;

function isStatus(err: unknown, code: number): boolean {
  return err instanceof StatusError && err.code === code;
}

export interface NodeLeaseOptions {
  leaseDurationSeconds?: number;
  /** The Node the Lease belongs to (for its owner reference); looked up when absent. */
  node?: () => Node | undefined;
  now?: () => number;
}

export class NodeLease {
  private latest: Lease | undefined;
  private readonly duration: number;
  private readonly now: () => number;

  constructor(
    private readonly client: RestClient,
    readonly nodeName: string,
    private readonly opts: NodeLeaseOptions = {},
  ) {
    this.duration = opts.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
    this.now = opts.now ?? Date.now;
  }

  /** The last Lease the server returned. */
  get lease(): Lease | undefined {
    return this.latest;
  }

  /** One heartbeat; throws when the Lease could not be written (the caller retries next interval). */
  async renew(): Promise<void> {
    if (this.latest) {
      try {
        await this.retryUpdate(this.latest);
        return;
      } catch {
        // Fall back to reading (or creating) it.
        this.latest = undefined;
      }
    }
    const { lease, created } = await this.ensure();
    this.latest = lease;
    if (!created) await this.retryUpdate(lease);
  }

  private ownerReferences(): Lease['metadata']['ownerReferences'] {
    const node = this.opts.node?.();
    if (!node?.metadata.uid) return undefined;
    return [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: node.metadata.uid }];
  }

  private desired(base: Lease | undefined): Lease {
    const lease: Lease = base
      ? structuredClone(base)
      : {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.nodeName, namespace: NODE_LEASE_NAMESPACE },
          spec: { holderIdentity: this.nodeName, leaseDurationSeconds: this.duration },
        };
    lease.spec = { ...lease.spec, renewTime: microTime(this.now()) };
    if (!lease.metadata.ownerReferences?.length) {
      const refs = this.ownerReferences();
      if (refs) lease.metadata.ownerReferences = refs;
    }
    return lease;
  }

  private async ensure(): Promise<{ lease: Lease; created: boolean }> {
    try {
      const lease = await this.client.get<Lease>(LEASES, NODE_LEASE_NAMESPACE, this.nodeName);
      return { lease, created: false };
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
    const lease = await this.client.create<Lease>(LEASES, NODE_LEASE_NAMESPACE, this.desired(undefined));
    return { lease, created: true };
  }

  private async retryUpdate(base: Lease): Promise<void> {
    let current = base;
    let lastErr: unknown;
    for (let i = 0; i < MAX_UPDATE_RETRIES; i++) {
      try {
        this.latest = await this.client.update<Lease>(LEASES, this.desired(current));
        return;
      } catch (err) {
        lastErr = err;
        if (isStatus(err, 409)) {
          current = (await this.ensure()).lease;
          continue;
        }
        if (isStatus(err, 404)) throw err;
      }
    }
    throw lastErr instanceof Error
      ? lastErr
      : new Error(`failed ${MAX_UPDATE_RETRIES} attempts to update lease`);
  }
}
