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

/**
 * Pods counted per topology pair (key, value), kept as key → value → count so that lookups and
 * updates in the per-node loops build no composite strings. Pairs whose count returns to 0 are
 * dropped, so `size` is the number of pairs with a non-zero count.
 */
class PairCounts {
  private readonly byKey = new Map<string, Map<string, number>>();
  size = 0;

  get(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0;
  }

  bump(key: string, value: string, by: number): void {
    let values = this.byKey.get(key);
    if (!values) this.byKey.set(key, (values = new Map<string, number>()));
    const before = values.get(value);
    const n = (before ?? 0) + by;
    if (n === 0) {
      if (before !== undefined) {
        values.delete(value);
        this.size--;
        if (values.size === 0) this.byKey.delete(key);
      }
    } else {
      if (before === undefined) this.size++;
      values.set(value, n);
    }
  }

  /** Whether any of the labels (a node's) names a pair with a positive count. */
  anyPositive(labels: Readonly<Record<string, string>>): boolean {
    for (const [key, values] of this.byKey) {
      if (!Object.prototype.hasOwnProperty.call(labels, key)) continue;
      if ((values.get(labels[key]!) ?? 0) > 0) return true;
    }
    return false;
  }

  clone(): PairCounts {
    const c = new PairCounts();
    for (const [key, values] of this.byKey) c.byKey.set(key, new Map(values));
    c.size = this.size;
    return c;
  }
}

function matchesAll(terms: readonly AffinityTerm[], pod: Pod, ns: NamespaceLabels): boolean {
  if (terms.length === 0) return false;
  for (let i = 0; i < terms.length; i++) if (!terms[i]!.matches(pod, ns)) return false;
  return true;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

class PreFilterState implements StateData {
  constructor(
    readonly existingAntiAffinityCounts: PairCounts,
    readonly affinityCounts: PairCounts,
    readonly antiAffinityCounts: PairCounts,
  ) {}
  clone(): StateData {
    return new PreFilterState(
      this.existingAntiAffinityCounts.clone(),
      this.affinityCounts.clone(),
      this.antiAffinityCounts.clone(),
    );
  }

  /** Counts the existing pods' required anti-affinity terms that select the incoming pod. */
  addExistingAntiAffinity(
    incoming: PodInfo,
    existing: PodInfo,
    labels: Readonly<Record<string, string>>,
    multiplier: number,
    ns: NamespaceLabels,
  ): void {
    const terms = existing.requiredAntiAffinityTerms;
    for (let i = 0; i < terms.length; i++) {
      const t = terms[i]!;
      const v = labels[t.topologyKey];
      if (v !== undefined && t.matches(incoming.pod, ns))
        this.existingAntiAffinityCounts.bump(t.topologyKey, v, multiplier);
    }
  }

  /** Counts the existing pod against the incoming pod's own required affinity and anti-affinity terms. */
  addIncomingTerms(
    incoming: PodInfo,
    existing: PodInfo,
    labels: Readonly<Record<string, string>>,
    multiplier: number,
    ns: NamespaceLabels,
  ): void {
    const affinity = incoming.requiredAffinityTerms;
    if (affinity.length > 0 && matchesAll(affinity, existing.pod, ns)) {
      for (let i = 0; i < affinity.length; i++) {
        const t = affinity[i]!;
        const v = labels[t.topologyKey];
        if (v !== undefined) this.affinityCounts.bump(t.topologyKey, v, multiplier);
      }
    }
    const anti = incoming.requiredAntiAffinityTerms;
    for (let i = 0; i < anti.length; i++) {
      const t = anti[i]!;
      const v = labels[t.topologyKey];
      if (v !== undefined && t.matches(existing.pod, ns))
        this.antiAffinityCounts.bump(t.topologyKey, v, multiplier);
    }
  }

  /** Accounts for (multiplier 1) or forgets (−1) an existing pod on a node. */
  updateWithPod(
    incoming: PodInfo,
    existing: PodInfo,
    nodeInfo: NodeInfo,
    multiplier: number,
    ns: NamespaceLabels,
  ): void {
    const labels = nodeInfo.node?.metadata.labels ?? NO_LABELS;
    this.addExistingAntiAffinity(incoming, existing, labels, multiplier, ns);
    this.addIncomingTerms(incoming, existing, labels, multiplier, ns);
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
    const s = new PreFilterState(new PairCounts(), new PairCounts(), new PairCounts());
    // Existing pods' anti-affinity: only the nodes holding pods with required anti-affinity terms.
    for (let j = 0; j < withAnti.length; j++) {
      const ni = withAnti[j]!;
      const labels = ni.node?.metadata.labels ?? NO_LABELS;
      const pods = ni.podsWithRequiredAntiAffinity;
      for (let k = 0; k < pods.length; k++) s.addExistingAntiAffinity(pod, pods[k]!, labels, 1, ns);
    }
    // The incoming pod's own terms: every pod on every node.
    if (hasTerms) {
      for (let j = 0; j < nodes.length; j++) {
        const ni = nodes[j]!;
        const pods = ni.pods;
        if (pods.length === 0) continue;
        const labels = ni.node?.metadata.labels ?? NO_LABELS;
        for (let k = 0; k < pods.length; k++) s.addIncomingTerms(pod, pods[k]!, labels, 1, ns);
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
    const labels = nodeInfo.node?.metadata.labels ?? NO_LABELS;
    if (!this.satisfiesAffinity(s, pod, labels)) return Status.unresolvable(ERR_REASON_AFFINITY);
    if (s.antiAffinityCounts.size > 0) {
      const terms = pod.requiredAntiAffinityTerms;
      for (let i = 0; i < terms.length; i++) {
        const t = terms[i]!;
        const v = labels[t.topologyKey];
        if (v !== undefined && s.antiAffinityCounts.get(t.topologyKey, v) > 0) {
          return Status.unschedulable(ERR_REASON_ANTI_AFFINITY);
        }
      }
    }
    // Any of the node's labels naming a pair an existing pod's anti-affinity counts (upstream walks
    // the node's labels; walking the few counted keys instead gives the same answer).
    if (s.existingAntiAffinityCounts.size > 0 && s.existingAntiAffinityCounts.anyPositive(labels))
      return Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
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
      if (s.affinityCounts.get(t.topologyKey, v) <= 0) podsExist = false;
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
