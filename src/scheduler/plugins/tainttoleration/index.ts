// TaintToleration: NoSchedule/NoExecute taints must be tolerated; PreferNoSchedule taints that are
// not tolerated lower the node's score.
import type { Node, Toleration } from '../../../api/generated/types.js';
import {
  ActionType,
  MAX_NODE_SCORE,
  QueueingHint,
  defaultNormalizeScore,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type NodeScore,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework/interfaces.js';
import type { CycleState, StateData } from '../../framework/cycle-state.js';
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import { Status } from '../../framework/status.js';
import { findUntoleratedTaint, taintToleratedBy } from '../../util/selectors.js';
import { TaintToleration as NAME } from '../names/index.js';

const FILTER_EFFECTS: ReadonlySet<string> = new Set(['NoSchedule', 'NoExecute']);
const PRE_SCORE_KEY = 'PreScore' + NAME;

class PreScoreState implements StateData {
  constructor(readonly tolerations: Toleration[]) {}
  clone(): StateData {
    return this;
  }
}

export class TaintTolerationPlugin implements FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const taint = findUntoleratedTaint(
      nodeInfo.node?.spec?.taints,
      pod.pod.spec?.tolerations,
      FILTER_EFFECTS,
    );
    if (!taint) return Status.SUCCESS;
    return Status.unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
  }

  preScore(state: CycleState, pod: PodInfo): Status {
    const tolerations = (pod.pod.spec?.tolerations ?? []).filter(
      (t) => !t.effect || t.effect === 'PreferNoSchedule',
    );
    state.write(PRE_SCORE_KEY, new PreScoreState(tolerations));
    return Status.SUCCESS;
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    let n = 0;
    for (const taint of nodeInfo.node?.spec?.taints ?? []) {
      if (taint.effect !== 'PreferNoSchedule') continue;
      if (!taintToleratedBy(taint, s?.tolerations)) n++;
    }
    return n;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeTaint },
        hint: (pod, _old, next) => {
          const node = next as Node | undefined;
          if (!node) return QueueingHint.QueueSkip;
          return findUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, FILTER_EFFECTS)
            ? QueueingHint.QueueSkip
            : QueueingHint.Queue;
        },
      },
      { event: { resource: 'Pod', actionType: ActionType.UpdatePodTolerations } },
    ];
  }
}

export const newTaintToleration = (): TaintTolerationPlugin => new TaintTolerationPlugin();
