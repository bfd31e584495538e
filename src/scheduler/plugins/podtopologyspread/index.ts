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
import { requiredNodeAffinity } from '../nodeaffinity/index.js';
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

interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: LabelPredicate;
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
    minDomains: c.minDomains ?? 1,
    honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
    honorTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
  };
}

function hasAllKeys(labels: Readonly<Record<string, string>>, cs: readonly Constraint[]): boolean {
  for (const c of cs) if (labels[c.topologyKey] === undefined) return false;
  return true;
}

function countMatching(pods: readonly PodInfo[], selector: LabelPredicate, namespace: string): number {
  let n = 0;
  for (const p of pods) {
    const m = p.pod.metadata;
    if (m.namespace !== namespace || m.deletionTimestamp) continue;
    if (selector(m.labels)) n++;
  }
  return n;
}

function included(pod: Pod, c: Constraint, ni: NodeInfo, affinity: NodePredicate): boolean {
  const node = ni.node;
  if (!node) return false;
  if (c.honorAffinity && !affinity(node)) return false;
  if (c.honorTaints && findUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, TAINT_EFFECTS))
    return false;
  return true;
}

class PreFilterState implements StateData {
  constructor(
    readonly constraints: Constraint[],
    /** Per constraint: domain value → matching pods. */
    readonly counts: Array<Map<string, number>>,
    readonly minMatch: number[],
    readonly affinity: NodePredicate,
  ) {}
  clone(): StateData {
    return new PreFilterState(
      this.constraints,
      this.counts.map((m) => new Map(m)),
      [...this.minMatch],
      this.affinity,
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
    const affinity = requiredNodeAffinity(pod.pod);
    const ns = pod.pod.metadata.namespace ?? '';
    const counts = constraints.map(() => new Map<string, number>());
    for (const ni of nodes) {
      const labels = ni.node?.metadata.labels ?? {};
      if (!hasAllKeys(labels, constraints)) continue;
      constraints.forEach((c, i) => {
        if (!included(pod.pod, c, ni, affinity)) return;
        const v = labels[c.topologyKey]!;
        const m = counts[i]!;
        m.set(v, (m.get(v) ?? 0) + countMatching(ni.pods, c.selector, ns));
      });
    }
    const s = new PreFilterState(
      constraints,
      counts,
      constraints.map(() => 0),
      affinity,
    );
    constraints.forEach((_c, i) => s.recomputeMin(i));
    state.write(PRE_FILTER_KEY, s);
    return { status: Status.SUCCESS };
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
      const self = c.selector(pod.pod.metadata.labels) ? 1 : 0;
      const skew = (s.counts[i]!.get(v) ?? 0) + self - s.minMatch[i]!;
      if (skew > c.maxSkew) return Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }
    return Status.SUCCESS;
  }

  preScore(state: CycleState, pod: PodInfo, filtered: readonly NodeInfo[]): Status {
    const { constraints, explicit } = this.constraintsFor(pod.pod, 'ScheduleAnyway');
    if (constraints.length === 0) return Status.SKIP;
    const affinity = requiredNodeAffinity(pod.pod);
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
    for (const ni of this.handle.snapshot().list()) {
      const labels = ni.node?.metadata.labels ?? {};
      if (explicit && !hasAllKeys(labels, constraints)) continue;
      constraints.forEach((c, i) => {
        if (c.topologyKey === LABEL_HOSTNAME) return;
        const v = labels[c.topologyKey];
        const m = pairCounts[i]!;
        if (v === undefined || !m.has(v)) return;
        if (!included(pod.pod, c, ni, affinity)) return;
        m.set(v, m.get(v)! + countMatching(ni.pods, c.selector, ns));
      });
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
