// NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods that tolerate the
// node.kubernetes.io/unschedulable:NoSchedule taint.
import type { Node, Taint } from '../../../api/generated/types.js';
import {
  ActionType,
  QueueingHint,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
} from '../../framework/interfaces.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import { Status } from '../../framework/status.js';
import { taintToleratedBy } from '../../util/selectors.js';
import { NodeUnschedulable as NAME } from '../names/index.js';

export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const ERR_REASON_UNKNOWN_CONDITION = 'node(s) had unknown conditions';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

const UNSCHEDULABLE_TAINT: Taint = { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' };

export class NodeUnschedulablePlugin implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const node = nodeInfo.node;
    if (!node) return Status.unresolvable(ERR_REASON_UNKNOWN_CONDITION);
    if (!node.spec?.unschedulable) return Status.SUCCESS;
    if (taintToleratedBy(UNSCHEDULABLE_TAINT, pod.pod.spec?.tolerations)) return Status.SUCCESS;
    return Status.unresolvable(ERR_REASON_UNSCHEDULABLE);
  }
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeTaint },
        hint: (_pod, _old, next) =>
          !(next as Node | undefined)?.spec?.unschedulable ? QueueingHint.Queue : QueueingHint.QueueSkip,
      },
      { event: { resource: 'Pod', actionType: ActionType.UpdatePodTolerations } },
    ];
  }
}

export const newNodeUnschedulable = (): NodeUnschedulablePlugin => new NodeUnschedulablePlugin();
