// PodTopologySpread: keeps matching pods spread over topology domains. DoNotSchedule constraints
// filter (skew = pods in the domain + self − the least loaded domain, at most maxSkew);
// ScheduleAnyway constraints, or the cluster defaults built from the pod's services and
// controllers when it has none, score (the fewer matching pods in the domain, the better).
import type { LabelSelector, Pod, TopologySpreadConstraint } from '../../../api/generated/types.js';
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
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import { Status } from '../../framework/status.js';
import {
  compileLabelSelector,
  findUntoleratedTaint,
  type LabelPredicate,
  type NodePredicate,
} from '../../util/selectors.js';
import { requiredNodeAffinityOrAll } from '../nodeaffinity/index.js';
import { DomainCountMemo, countMatching, hasAllKeys } from './domain-memo.js';
import { PodTopologySpread as NAME } from '../names/index.js';

export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + ' (missing required label)';
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';

/** The cluster-level defaults upstream applies (DefaultingType System). */
export const SYSTEM_DEFAULT_CONSTRAINTS: TopologySpreadConstraint[] = [
  { topologyKey: LABEL_HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: LABEL_ZONE, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
];

const PRE_FILTER_KEY = 'PreFilter' + NAME;
const PRE_SCORE_KEY = 'PreScore' + NAME;
const TAINT_EFFECTS: ReadonlySet<string> = new Set(['NoSchedule', 'NoExecute']);
/** Domain count memos kept (one per namespace and constraint set, least recently used dropped). */
const MAX_MEMOS = 32;

interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: LabelPredicate;
  /** The selector as written (after matchLabelKeys): equal keys select the same pods. */
  selectorKey: string;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
}

function parseConstraint(
  pod: Pod,
  c: TopologySpreadConstraint,
  selectorOverride?: LabelSelector,
): Constraint {
  const labels = pod.metadata.labels ?? {};
  let sel = selectorOverride ?? c.labelSelector;
  const keys = (c.matchLabelKeys ?? []).filter((k) => k in labels);
  if (sel && keys.length > 0) {
    sel = {
      ...sel,
      matchExpressions: [
        ...(sel.matchExpressions ?? []),
        ...keys.map((k) => ({ key: k, operator: 'In', values: [labels[k]!] })),
      ],
    };
  }
  return {
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    selector: compileLabelSelector(sel),
    selectorKey: JSON.stringify(sel ?? null),
    minDomains: c.minDomains ?? 1,
    honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
    honorTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
  };
}

function included(pod: Pod, c: Constraint, ni: NodeInfo, affinity: NodePredicate | undefined): boolean {
  const node = ni.node;
  if (!node) return false;
  if (c.honorAffinity && affinity && !affinity(node)) return false;
  if (c.honorTaints && findUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, TAINT_EFFECTS))
    return false;
  return true;
}

/**
 * Whether a constraint's node inclusion policies can exclude any node for this pod: honoured node
 * affinity only matters when the pod has some, honoured taints always (any node may be tainted).
 */
function needsInclusionCheck(c: Constraint, affinity: NodePredicate | undefined): boolean {
  return (c.honorAffinity && affinity !== undefined) || c.honorTaints;
}

/**
 * PreFilter's domain counts: per constraint, domain value → pods matching its selector in the pod's
 * namespace on the included nodes that carry every constraint's topology key. A node without pods
 * still makes its domain exist (with 0), which matters for the minimum and minDomains.
 */
function countDomains(
  pod: Pod,
  constraints: readonly Constraint[],
  nodes: readonly NodeInfo[],
  affinity: NodePredicate | undefined,
): Array<Map<string, number>> {
  const ns = pod.metadata.namespace ?? '';
  const n = constraints.length;
  const counts = constraints.map(() => new Map<string, number>());
  const check = constraints.map((c) => needsInclusionCheck(c, affinity));
  for (let j = 0; j < nodes.length; j++) {
    const ni = nodes[j]!;
    const node = ni.node;
    if (!node) continue;
    const labels = node.metadata.labels ?? {};
    if (!hasAllKeys(labels, constraints)) continue;
    const pods = ni.pods;
    for (let i = 0; i < n; i++) {
      const c = constraints[i]!;
      if (check[i] && !included(pod, c, ni, affinity)) continue;
      const m = counts[i]!;
      const v = labels[c.topologyKey]!;
      const before = m.get(v);
      const matching = pods.length === 0 ? 0 : countMatching(pods, c.selector, ns);
      if (before === undefined) m.set(v, matching);
      else if (matching !== 0) m.set(v, before + matching);
    }
  }
  return counts;
}

class PreFilterState implements StateData {
  constructor(
    readonly constraints: Constraint[],
    /** Per constraint: domain value → matching pods. */
    readonly counts: Array<Map<string, number>>,
    readonly minMatch: number[],
    /** The pod's required node affinity; undefined when it has none. */
    readonly affinity: NodePredicate | undefined,
    /** Per constraint: 1 if its selector matches the incoming pod itself, else 0. */
    readonly selfMatch: number[],
  ) {}
  clone(): StateData {
    return new PreFilterState(
      this.constraints,
      this.counts.map((m) => new Map(m)),
      [...this.minMatch],
      this.affinity,
      this.selfMatch,
    );
  }
  recomputeMin(i: number): void {
    const m = this.counts[i]!;
    let min = Infinity;
    for (const v of m.values()) if (v < min) min = v;
    const c = this.constraints[i]!;
    this.minMatch[i] = m.size < c.minDomains || min === Infinity ? 0 : min;
  }
}

class PreScoreState implements StateData {
  constructor(
    readonly constraints: Constraint[],
    readonly ignoredNodes: Set<string>,
    readonly pairCounts: Array<Map<string, number>>,
    readonly weights: number[],
  ) {}
  clone(): StateData {
    return this;
  }
}

export interface PodTopologySpreadArgs {
  defaultConstraints?: TopologySpreadConstraint[];
  defaultingType?: 'System' | 'List';
}

export class PodTopologySpreadPlugin
  implements
    PreFilterPlugin,
    FilterPlugin,
    PreScorePlugin,
    ScorePlugin,
    EnqueueExtensions,
    PreFilterExtensions
{
  readonly name = NAME;
  private readonly defaults: TopologySpreadConstraint[];
  private readonly memos = new Map<string, DomainCountMemo>();

  constructor(
    private readonly handle: Handle,
    args: PodTopologySpreadArgs = {},
  ) {
    this.defaults =
      args.defaultingType === 'List' ? (args.defaultConstraints ?? []) : SYSTEM_DEFAULT_CONSTRAINTS;
  }

  /** The pod's own constraints of one kind, or the defaults (selector from its services and controllers). */
  private constraintsFor(
    pod: Pod,
    when: 'DoNotSchedule' | 'ScheduleAnyway',
  ): { constraints: Constraint[]; explicit: boolean } {
    const own = pod.spec?.topologySpreadConstraints ?? [];
    if (own.length > 0) {
      return {
        constraints: own.filter((c) => c.whenUnsatisfiable === when).map((c) => parseConstraint(pod, c)),
        explicit: true,
      };
    }
    const defaults = this.defaults.filter((c) => c.whenUnsatisfiable === when);
    if (defaults.length === 0) return { constraints: [], explicit: false };
    const selector = this.defaultSelector(pod);
    if (!selector) return { constraints: [], explicit: false };
    return { constraints: defaults.map((c) => parseConstraint(pod, c, selector)), explicit: false };
  }

  /** upstream's DefaultSelector: the selectors of the services, RCs, ReplicaSets and StatefulSets that select the pod. */
  private defaultSelector(pod: Pod): LabelSelector | undefined {
    const ns = pod.metadata.namespace ?? '';
    const labels = pod.metadata.labels ?? {};
    const matchLabels: Record<string, string> = {};
    const matchExpressions: NonNullable<LabelSelector['matchExpressions']> = [];
    let found = false;
    const setMatches = (sel: Record<string, string> | undefined): boolean => {
      if (!sel || Object.keys(sel).length === 0) return false;
      for (const [k, v] of Object.entries(sel)) if (labels[k] !== v) return false;
      return true;
    };
    const client = this.handle.client;
    for (const svc of client.source('services').list(ns)) {
      if (setMatches(svc.spec?.selector)) {
        Object.assign(matchLabels, svc.spec?.selector);
        found = true;
      }
    }
    for (const rc of client.source('replicationcontrollers').list(ns)) {
      if (setMatches(rc.spec?.selector)) {
        Object.assign(matchLabels, rc.spec?.selector);
        found = true;
      }
    }
    const addSelector = (sel: LabelSelector | undefined): void => {
      if (!sel) return;
      const m = compileLabelSelector(sel);
      if (!m(labels)) return;
      if (!sel.matchLabels && !sel.matchExpressions?.length) return;
      Object.assign(matchLabels, sel.matchLabels ?? {});
      matchExpressions.push(...(sel.matchExpressions ?? []));
      found = true;
    };
    for (const rs of client.source('replicasets').list(ns)) addSelector(rs.spec?.selector);
    for (const ss of client.source('statefulsets').list(ns)) addSelector(ss.spec?.selector);
    if (!found) return undefined;
    return { matchLabels, matchExpressions };
  }

  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): { status: Status } {
    const { constraints } = this.constraintsFor(pod.pod, 'DoNotSchedule');
    if (constraints.length === 0) return { status: Status.SKIP };
    const affinity = requiredNodeAffinityOrAll(pod.pod);
    const counts = constraints.some((c) => needsInclusionCheck(c, affinity))
      ? countDomains(pod.pod, constraints, nodes, affinity)
      : this.memoFor(pod.pod.metadata.namespace ?? '', constraints).counts(nodes);
    const s = new PreFilterState(
      constraints,
      counts,
      constraints.map(() => 0),
      affinity,
      constraints.map((c) => (c.selector(pod.pod.metadata.labels) ? 1 : 0)),
    );
    constraints.forEach((_c, i) => s.recomputeMin(i));
    state.write(PRE_FILTER_KEY, s);
    return { status: Status.SUCCESS };
  }

  /** The memo of this namespace and constraint set (topology keys and selectors, in order). */
  private memoFor(namespace: string, constraints: readonly Constraint[]): DomainCountMemo {
    let key = namespace;
    for (const c of constraints) key += `\u0000${c.topologyKey}\u0000${c.selectorKey}`;
    let memo = this.memos.get(key);
    if (memo) {
      this.memos.delete(key);
    } else {
      memo = new DomainCountMemo(constraints, namespace);
      if (this.memos.size >= MAX_MEMOS) this.memos.delete(this.memos.keys().next().value!);
    }
    this.memos.set(key, memo);
    return memo;
  }

  preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  private update(state: CycleState, pod: PodInfo, other: PodInfo, nodeInfo: NodeInfo, delta: number): Status {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (!s) return Status.SUCCESS;
    if (other.pod.metadata.namespace !== pod.pod.metadata.namespace) return Status.SUCCESS;
    const labels = nodeInfo.node?.metadata.labels ?? {};
    if (!hasAllKeys(labels, s.constraints)) return Status.SUCCESS;
    s.constraints.forEach((c, i) => {
      if (!included(pod.pod, c, nodeInfo, s.affinity) || !c.selector(other.pod.metadata.labels)) return;
      const v = labels[c.topologyKey]!;
      const m = s.counts[i]!;
      m.set(v, (m.get(v) ?? 0) + delta);
      s.recomputeMin(i);
    });
    return Status.SUCCESS;
  }

  addPod(state: CycleState, pod: PodInfo, toAdd: PodInfo, nodeInfo: NodeInfo): Status {
    return this.update(state, pod, toAdd, nodeInfo, 1);
  }

  removePod(state: CycleState, pod: PodInfo, toRemove: PodInfo, nodeInfo: NodeInfo): Status {
    return this.update(state, pod, toRemove, nodeInfo, -1);
  }

  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (!s) return Status.error(new Error(`reading "${PRE_FILTER_KEY}" from cycle state: not found`));
    const labels = nodeInfo.node?.metadata.labels ?? {};
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const v = labels[c.topologyKey];
      if (v === undefined) return Status.unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
      const skew = (s.counts[i]!.get(v) ?? 0) + s.selfMatch[i]! - s.minMatch[i]!;
      if (skew > c.maxSkew) return Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }
    return Status.SUCCESS;
  }

  preScore(state: CycleState, pod: PodInfo, filtered: readonly NodeInfo[]): Status {
    const { constraints, explicit } = this.constraintsFor(pod.pod, 'ScheduleAnyway');
    if (constraints.length === 0) return Status.SKIP;
    const affinity = requiredNodeAffinityOrAll(pod.pod);
    const check = constraints.map((c) => needsInclusionCheck(c, affinity));
    const ns = pod.pod.metadata.namespace ?? '';
    const ignored = new Set<string>();
    const pairCounts = constraints.map(() => new Map<string, number>());
    const sizes = constraints.map(() => 0);
    for (const ni of filtered) {
      const labels = ni.node?.metadata.labels ?? {};
      if (explicit && !hasAllKeys(labels, constraints)) {
        ignored.add(ni.name);
        continue;
      }
      constraints.forEach((c, i) => {
        const v = labels[c.topologyKey];
        if (v === undefined) return;
        if (c.topologyKey === LABEL_HOSTNAME) {
          sizes[i]!++;
          return;
        }
        const m = pairCounts[i]!;
        if (!m.has(v)) {
          m.set(v, 0);
          sizes[i]!++;
        }
      });
    }
    const all = this.handle.snapshot().list();
    for (let j = 0; j < all.length; j++) {
      const ni = all[j]!;
      if (!ni.node) continue;
      const labels = ni.node.metadata.labels ?? {};
      if (explicit && !hasAllKeys(labels, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i]!;
        if (c.topologyKey === LABEL_HOSTNAME) continue;
        const v = labels[c.topologyKey];
        const m = pairCounts[i]!;
        if (v === undefined) continue;
        const before = m.get(v);
        if (before === undefined) continue;
        if (check[i] && !included(pod.pod, c, ni, affinity)) continue;
        if (ni.pods.length > 0) m.set(v, before + countMatching(ni.pods, c.selector, ns));
      }
    }
    const weights = sizes.map((n) => Math.log(n + 2));
    state.write(PRE_SCORE_KEY, new PreScoreState(constraints, ignored, pairCounts, weights));
    return Status.SUCCESS;
  }

  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s || s.ignoredNodes.has(nodeInfo.name)) return 0;
    const labels = nodeInfo.node?.metadata.labels ?? {};
    const ns = pod.pod.metadata.namespace ?? '';
    let score = 0;
    s.constraints.forEach((c, i) => {
      const v = labels[c.topologyKey];
      if (v === undefined) return;
      const cnt =
        c.topologyKey === LABEL_HOSTNAME
          ? countMatching(nodeInfo.pods, c.selector, ns)
          : (s.pairCounts[i]!.get(v) ?? 0);
      score += cnt * s.weights[i]! + (c.maxSkew - 1);
    });
    return Math.round(score);
  }

  normalizeScore(state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s) return;
    let min = Infinity;
    let max = 0;
    for (const sc of scores) {
      if (s.ignoredNodes.has(sc.name)) continue;
      if (sc.score < min) min = sc.score;
      if (sc.score > max) max = sc.score;
    }
    for (const sc of scores) {
      if (s.ignoredNodes.has(sc.name)) {
        sc.score = 0;
        continue;
      }
      if (max === 0) {
        sc.score = MAX_NODE_SCORE;
        continue;
      }
      sc.score = Math.trunc((MAX_NODE_SCORE * (max + min - sc.score)) / max);
    }
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: {
          resource: 'AssignedPod',
          actionType: ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete,
        },
      },
      {
        event: {
          resource: 'Node',
          actionType:
            ActionType.Add | ActionType.Delete | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint,
        },
      },
    ];
  }
}

export function newPodTopologySpread(args: PluginArgs | undefined, handle: Handle): PodTopologySpreadPlugin {
  return new PodTopologySpreadPlugin(handle, args ?? {});
}
