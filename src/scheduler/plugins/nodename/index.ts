// NodeName: a pod that names its node (spec.nodeName) fits only there.
import type { Node } from '../../../api/generated/types.js';
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
import { NodeName as NAME } from '../names/index.js';

export const ERR_REASON = "node(s) didn't match the requested node name";

export class NodeNamePlugin implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const want = pod.pod.spec?.nodeName;
    if (!want || want === nodeInfo.name) return Status.SUCCESS;
    return Status.unresolvable(ERR_REASON);
  }
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actionType: ActionType.Add },
        hint: (pod, _old, next) =>
          !pod.spec?.nodeName || (next as Node | undefined)?.metadata.name === pod.spec.nodeName
            ? QueueingHint.Queue
            : QueueingHint.QueueSkip,
      },
    ];
  }
}

export const newNodeName = (): NodeNamePlugin => new NodeNamePlugin();
