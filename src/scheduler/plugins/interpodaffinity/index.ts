// InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, the required
// anti-affinity of pods already placed, and a score from preferred terms on both sides.
import type { Pod } from '../../../api/generated/types.js';
import type { CycleState, StateData } from '../../framework/cycle-state.js';
import {
  ActionType,
  MAX_NODE_SCORE,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type NodeScore,
  type PluginArgs,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework/interfaces.js';
import type { AffinityTerm, NamespaceLabels, NodeInfo, PodInfo } from '../../framework/node-info.js';
import { Status } from '../../framework/status.js';
import { InterPodAffinity as NAME } from '../names/index.js';

export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

const PRE_FILTER_KEY = 'PreFilter' + NAME;
const PRE_SCORE_KEY = 'PreScore' + NAME;

type Counts = Map<string, number>;

function pairKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

function bump(counts: Counts, key: string, value: string, by: number): void {
  const k = pairKey(key, value);
  const n = (counts.get(k) ?? 0) + by;
  if (n === 0) counts.delete(k);
  else counts.set(k, n);
}

function matchesAll(terms: readonly AffinityTerm[], pod: Pod, ns: NamespaceLabels): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!t.matches(pod, ns)) return false;
  return true;
}

class PreFilterState implements StateData {
  constructor(
    readonly existingAntiAffinityCounts: Counts,
    readonly affinityCounts: Counts,
    readonly antiAffinityCounts: Counts,
  ) {}
  clone(): StateData {
    return new PreFilterState(
      new Map(this.existingAntiAffinityCounts),
      new Map(this.affinityCounts),
      new Map(this.antiAffinityCounts),
    );
  }

  /** Accounts for (multiplier 1) or forgets (−1) an existing pod on a node. */
  updateWithPod(
    incoming: PodInfo,
    existing: PodInfo,
    nodeInfo: NodeInfo,
    multiplier: number,
    ns: NamespaceLabels,
  ): void {
    const labels = nodeInfo.node?.metadata.labels ?? {};
    for (const t of existing.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && t.matches(incoming.pod, ns))
        bump(this.existingAntiAffinityCounts, t.topologyKey, v, multiplier);
    }
    if (
      incoming.requiredAffinityTerms.length > 0 &&
      matchesAll(incoming.requiredAffinityTerms, existing.pod, ns)
    ) {
      for (const t of incoming.requiredAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined) bump(this.affinityCounts, t.topologyKey, v, multiplier);
      }
    }
    for (const t of incoming.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && t.matches(existing.pod, ns))
        bump(this.antiAffinityCounts, t.topologyKey, v, multiplier);
    }
  }
}

class PreScoreState implements StateData {
  constructor(readonly topologyScore: Map<string, Map<string, number>>) {}
  clone(): StateData {
    return this;
  }
}

export interface InterPodAffinityArgs {
  hardPodAffinityWeight?: number;
  ignorePreferredTermsOfExistingPods?: boolean;
}

export class InterPodAffinityPlugin
  implements
    PreFilterPlugin,
    FilterPlugin,
    PreScorePlugin,
    ScorePlugin,
    EnqueueExtensions,
    PreFilterExtensions
{
  readonly name = NAME;
  private readonly hardWeight: number;
  private readonly ignoreExisting: boolean;

  constructor(
    private readonly handle: Handle,
    args: InterPodAffinityArgs = {},
  ) {
    this.hardWeight = args.hardPodAffinityWeight ?? 1;
    this.ignoreExisting = args.ignorePreferredTermsOfExistingPods ?? false;
  }

  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): { status: Status } {
    if (pod.parseError) return { status: Status.error(pod.parseError) };
    const ns = this.handle.namespaceLabels;
    const withAnti = this.handle.snapshot().havePodsWithRequiredAntiAffinity();
    const hasTerms = pod.requiredAffinityTerms.length > 0 || pod.requiredAntiAffinityTerms.length > 0;
    if (!hasTerms && withAnti.length === 0) return { status: Status.SKIP };
    const s = new PreFilterState(new Map(), new Map(), new Map());
    for (const ni of withAnti) {
      const labels = ni.node?.metadata.labels ?? {};
      for (const existing of ni.podsWithRequiredAntiAffinity) {
        for (const t of existing.requiredAntiAffinityTerms) {
          const v = labels[t.topologyKey];
          if (v !== undefined && t.matches(pod.pod, ns))
            bump(s.existingAntiAffinityCounts, t.topologyKey, v, 1);
        }
      }
    }
    if (hasTerms) {
      for (const ni of nodes) {
        if (ni.pods.length === 0) continue;
        const labels = ni.node?.metadata.labels ?? {};
        for (const existing of ni.pods) {
          if (
            pod.requiredAffinityTerms.length > 0 &&
            matchesAll(pod.requiredAffinityTerms, existing.pod, ns)
          ) {
            for (const t of pod.requiredAffinityTerms) {
              const v = labels[t.topologyKey];
              if (v !== undefined) bump(s.affinityCounts, t.topologyKey, v, 1);
            }
          }
          for (const t of pod.requiredAntiAffinityTerms) {
            const v = labels[t.topologyKey];
            if (v !== undefined && t.matches(existing.pod, ns))
              bump(s.antiAffinityCounts, t.topologyKey, v, 1);
          }
        }
      }
    }
    state.write(PRE_FILTER_KEY, s);
    return { status: Status.SUCCESS };
  }

  preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  addPod(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status {
    state
      .read<PreFilterState>(PRE_FILTER_KEY)
      ?.updateWithPod(podToSchedule, podToAdd, nodeInfo, 1, this.handle.namespaceLabels);
    return Status.SUCCESS;
  }

  removePod(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status {
    state
      .read<PreFilterState>(PRE_FILTER_KEY)
      ?.updateWithPod(podToSchedule, podToRemove, nodeInfo, -1, this.handle.namespaceLabels);
    return Status.SUCCESS;
  }

  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (!s) return Status.error(new Error(`reading "${PRE_FILTER_KEY}" from cycle state: not found`));
    const labels = nodeInfo.node?.metadata.labels ?? {};
    if (!this.satisfiesAffinity(s, pod, labels)) return Status.unresolvable(ERR_REASON_AFFINITY);
    if (s.antiAffinityCounts.size > 0) {
      for (const t of pod.requiredAntiAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined && (s.antiAffinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) > 0) {
          return Status.unschedulable(ERR_REASON_ANTI_AFFINITY);
        }
      }
    }
    if (s.existingAntiAffinityCounts.size > 0) {
      for (const [k, v] of Object.entries(labels)) {
        if ((s.existingAntiAffinityCounts.get(pairKey(k, v)) ?? 0) > 0)
          return Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
      }
    }
    return Status.SUCCESS;
  }

  private satisfiesAffinity(
    s: PreFilterState,
    pod: PodInfo,
    labels: Readonly<Record<string, string>>,
  ): boolean {
    if (pod.requiredAffinityTerms.length === 0) return true;
    let podsExist = true;
    for (const t of pod.requiredAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v === undefined) return false;
      if ((s.affinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
    }
    if (podsExist) return true;
    // The first pod of a group that has affinity to itself may go anywhere the topology keys exist.
    return (
      s.affinityCounts.size === 0 &&
      matchesAll(pod.requiredAffinityTerms, pod.pod, this.handle.namespaceLabels)
    );
  }

  preScore(state: CycleState, pod: PodInfo): Status {
    if (pod.parseError) return Status.error(pod.parseError);
    const hasConstraints = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
    if (!hasConstraints && this.ignoreExisting) return Status.SKIP;
    const snap = this.handle.snapshot();
    const nodes = hasConstraints ? snap.list() : snap.havePodsWithAffinity();
    if (nodes.length === 0) return Status.SKIP;
    const ns = this.handle.namespaceLabels;
    const scores = new Map<string, Map<string, number>>();
    const add = (key: string, value: string, w: number): void => {
      let m = scores.get(key);
      if (!m) scores.set(key, (m = new Map<string, number>()));
      m.set(value, (m.get(value) ?? 0) + w);
    };
    for (const ni of nodes) {
      const labels = ni.node?.metadata.labels ?? {};
      const pods = hasConstraints ? ni.pods : ni.podsWithAffinity;
      for (const existing of pods) {
        for (const t of pod.preferredAffinityTerms) {
          const v = labels[t.topologyKey];
          if (v !== undefined && t.matches(existing.pod, ns)) add(t.topologyKey, v, t.weight);
        }
        for (const t of pod.preferredAntiAffinityTerms) {
          const v = labels[t.topologyKey];
          if (v !== undefined && t.matches(existing.pod, ns)) add(t.topologyKey, v, -t.weight);
        }
        if (this.hardWeight > 0) {
          for (const t of existing.requiredAffinityTerms) {
            const v = labels[t.topologyKey];
            if (v !== undefined && t.matches(pod.pod, ns)) add(t.topologyKey, v, this.hardWeight);
          }
        }
        for (const t of existing.preferredAffinityTerms) {
          const v = labels[t.topologyKey];
          if (v !== undefined && t.matches(pod.pod, ns)) add(t.topologyKey, v, t.weight);
        }
        for (const t of existing.preferredAntiAffinityTerms) {
          const v = labels[t.topologyKey];
          if (v !== undefined && t.matches(pod.pod, ns)) add(t.topologyKey, v, -t.weight);
        }
      }
    }
    if (scores.size === 0) return Status.SKIP;
    state.write(PRE_SCORE_KEY, new PreScoreState(scores));
    return Status.SUCCESS;
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s) return 0;
    const labels = nodeInfo.node?.metadata.labels ?? {};
    let total = 0;
    for (const [key, values] of s.topologyScore) {
      const v = labels[key];
      if (v !== undefined) total += values.get(v) ?? 0;
    }
    return total;
  }

  normalizeScore(state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    if (!state.read<PreScoreState>(PRE_SCORE_KEY)) return;
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s.score < min) min = s.score;
      if (s.score > max) max = s.score;
    }
    const diff = max - min;
    for (const s of scores) s.score = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((s.score - min) / diff)) : 0;
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: {
          resource: 'AssignedPod',
          actionType: ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete,
        },
      },
      { event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeLabel } },
    ];
  }
}

export function newInterPodAffinity(args: PluginArgs | undefined, handle: Handle): InterPodAffinityPlugin {
  return new InterPodAffinityPlugin(handle, args ?? {});
}
