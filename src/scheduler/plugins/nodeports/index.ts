// NodePorts: a pod's hostPorts must be free on the node (same protocol and port; 0.0.0.0 clashes with any IP).
import {
  ActionType,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type PreFilterPlugin,
} from '../../framework/interfaces.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import { Status } from '../../framework/status.js';
import { NodePorts as NAME } from '../names/index.js';

export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";

export class NodePortsPlugin implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  preFilter(_state: CycleState, pod: PodInfo): { status: Status } {
    return { status: pod.hostPorts.length === 0 ? Status.SKIP : Status.SUCCESS };
  }
  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    for (const hp of pod.hostPorts) if (nodeInfo.portConflicts(hp)) return Status.unschedulable(ERR_REASON);
    return Status.SUCCESS;
  }
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      { event: { resource: 'AssignedPod', actionType: ActionType.Delete } },
      { event: { resource: 'Node', actionType: ActionType.Add } },
    ];
  }
}

export const newNodePorts = (): NodePortsPlugin => new NodePortsPlugin();
