// Keeps ordinary pods off the control-plane node once there is somewhere else for them to go: with
// worker nodes in the cluster, every control-plane node carries
// node-role.kubernetes.io/control-plane:NoSchedule (as kubeadm sets on its control plane); with the
// control plane alone, it does not, or a single-node cluster could run nothing. Upstream has no
// such controller (kubeadm taints at init, k3s leaves servers schedulable); this is k8ts's answer
// to a cluster that starts with one node and grows. The taint is removed only if this controller
// set it (an annotation records that), so a taint an administrator set stays.
import type { Node, Taint } from '../../api/generated/types.js';
import type { Lister } from '../../client/informer.js';
import type { Logger } from '../../util/log.js';

export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
export const CONTROL_PLANE_TAINT: Taint = { key: CONTROL_PLANE_LABEL, effect: 'NoSchedule' };
/** Marks a taint this controller added (and may therefore remove). */
export const MANAGED_ANNOTATION = 'k8ts.io/control-plane-taint';

export interface ControlPlaneTaintClient {
  /** Replaces taints and sets or clears our annotation, at the node's resourceVersion. */
  setTaints(node: Node, taints: Taint[], managed: boolean): Promise<void>;
}

export interface ControlPlaneTaintOptions {
  nodes: Lister<Node>;
  client: ControlPlaneTaintClient;
  log: Logger;
}

export function isControlPlane(node: Node): boolean {
  return node.metadata.labels?.[CONTROL_PLANE_LABEL] !== undefined;
}

function isOurTaint(t: Taint): boolean {
  return t.key === CONTROL_PLANE_TAINT.key && t.effect === CONTROL_PLANE_TAINT.effect;
}

export class ControlPlaneTaintController {
  constructor(private readonly o: ControlPlaneTaintOptions) {}

  /** Whether control-plane nodes should be tainted now: some node that is not one exists. */
  wantTaint(): boolean {
    return this.o.nodes.list().some((n) => !isControlPlane(n) && !n.metadata.deletionTimestamp);
  }

  /** Brings every control-plane node's taint in line with the cluster's shape. */
  async sync(): Promise<void> {
    const want = this.wantTaint();
    for (const node of this.o.nodes.list()) {
      if (!isControlPlane(node)) continue;
      const taints = node.spec?.taints ?? [];
      const has = taints.some(isOurTaint);
      const managed = node.metadata.annotations?.[MANAGED_ANNOTATION] !== undefined;
      if (want && !has) {
        await this.o.client.setTaints(node, [...taints, { ...CONTROL_PLANE_TAINT }], true);
        this.o.log.info('tainted control-plane node: the cluster has worker nodes', {
          node: node.metadata.name,
        });
      } else if (!want && has && managed) {
        await this.o.client.setTaints(
          node,
          taints.filter((t) => !isOurTaint(t)),
          false,
        );
        this.o.log.info('untainted control-plane node: it is the only node left', {
          node: node.metadata.name,
        });
      }
    }
  }
}
