// NodeAffinity: spec.nodeSelector and requiredDuringScheduling node affinity must match the node;
// preferred terms add their weights to the score. The configuration may add affinity to every pod.
import type { Node, NodeAffinity, Pod } from '../../../api/generated/types.js';
import {
  ActionType,
  MAX_NODE_SCORE,
  QueueingHint,
  defaultNormalizeScore,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type NodeScore,
  type PluginArgs,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework/interfaces.js';
import type { CycleState, StateData } from '../../framework/cycle-state.js';
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import { Status } from '../../framework/status.js';
import { compileNodeSelector, compileNodeSelectorTerm, type NodePredicate } from '../../util/selectors.js';
import { NodeAffinity as NAME } from '../names/index.js';

export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity";

const PRE_FILTER_KEY = 'PreFilter' + NAME;
const PRE_SCORE_KEY = 'PreScore' + NAME;

class RequiredState implements StateData {
  constructor(readonly matches: NodePredicate) {}
  clone(): StateData {
    return this;
  }
}

class PreferredState implements StateData {
  constructor(readonly terms: Array<{ weight: number; match: NodePredicate }>) {}
  clone(): StateData {
    return this;
  }
}

const everyNode: NodePredicate = () => true;

/** The pod's required node affinity (nodeSelector AND required terms) as one predicate. */
export function requiredNodeAffinity(pod: Pod): NodePredicate {
  return requiredNodeAffinityOrAll(pod) ?? everyNode;
}

/**
 * The pod's required node affinity, or undefined when it has none (no nodeSelector entries and no
 * required terms), so that per-node loops can skip a check that passes every node.
 */
export function requiredNodeAffinityOrAll(pod: Pod): NodePredicate | undefined {
  const selector = pod.spec?.nodeSelector;
  const entries = selector ? Object.entries(selector) : [];
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const affinity = required ? compileNodeSelector(required) : undefined;
  if (entries.length === 0 && !affinity) return undefined;
  return (node) => {
    if (entries.length > 0) {
      const labels = node.metadata.labels ?? {};
      for (const [k, v] of entries) if (labels[k] !== v) return false;
    }
    return affinity ? affinity(node) : true;
  };
}

export interface NodeAffinityArgs {
  addedAffinity?: NodeAffinity;
}

export class NodeAffinityPlugin
  implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions
{
  readonly name = NAME;
  private readonly addedRequired: NodePredicate | undefined;
  private readonly addedPreferred: Array<{ weight: number; match: NodePredicate }>;

  constructor(args: NodeAffinityArgs = {}) {
    const added = args.addedAffinity;
    this.addedRequired = added?.requiredDuringSchedulingIgnoredDuringExecution
      ? compileNodeSelector(added.requiredDuringSchedulingIgnoredDuringExecution)
      : undefined;
    this.addedPreferred = (added?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => ({
      weight: t.weight,
      match: compileNodeSelectorTerm(t.preference),
    }));
  }

  preFilter(state: CycleState, pod: PodInfo): { status: Status } {
    const spec = pod.pod.spec;
    const hasSelector = spec?.nodeSelector && Object.keys(spec.nodeSelector).length > 0;
    const hasRequired = !!spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (!hasSelector && !hasRequired && !this.addedRequired) return { status: Status.SKIP };
    state.write(PRE_FILTER_KEY, new RequiredState(requiredNodeAffinity(pod.pod)));
    return { status: Status.SUCCESS };
  }

  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const node = nodeInfo.node;
    if (!node) return Status.error(new Error('node not found'));
    if (this.addedRequired && !this.addedRequired(node)) return Status.unresolvable(ERR_REASON_ENFORCED);
    const s = state.read<RequiredState>(PRE_FILTER_KEY);
    const matches = s ? s.matches(node) : requiredNodeAffinity(pod.pod)(node);
    return matches ? Status.SUCCESS : Status.unresolvable(ERR_REASON_POD);
  }

  preScore(state: CycleState, pod: PodInfo): Status {
    const preferred =
      pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (preferred.length === 0 && this.addedPreferred.length === 0) return Status.SKIP;
    const terms = [
      ...this.addedPreferred,
      ...preferred
        .filter((t) => t.weight !== 0)
        .map((t) => ({ weight: t.weight, match: compileNodeSelectorTerm(t.preference) })),
    ];
    state.write(PRE_SCORE_KEY, new PreferredState(terms));
    return Status.SUCCESS;
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read<PreferredState>(PRE_SCORE_KEY);
    const node = nodeInfo.node;
    if (!s || !node) return 0;
    let total = 0;
    for (const t of s.terms) if (t.match(node)) total += t.weight;
    return total;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeLabel },
        hint: (pod, _old, next) => {
          const node = next as Node | undefined;
          if (!node) return QueueingHint.QueueSkip;
          if (this.addedRequired && !this.addedRequired(node)) return QueueingHint.QueueSkip;
          return requiredNodeAffinity(pod)(node) ? QueueingHint.Queue : QueueingHint.QueueSkip;
        },
      },
    ];
  }
}

export function newNodeAffinity(args: PluginArgs | undefined): NodeAffinityPlugin {
  return new NodeAffinityPlugin(args ?? {});
}
