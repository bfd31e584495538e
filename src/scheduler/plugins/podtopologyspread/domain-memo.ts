// PreFilter's domain counts carried from one scheduling cycle to the next. Counting walks every
// node and every pod on it, yet between two cycles only the nodes that gained or lost a pod (or
// were relabelled) change: each NodeInfo's generation moves on every such change. A memo keeps each
// node's contribution (its domain value and matching pods per constraint) with the generation it
// was counted at, and recounts only the nodes whose NodeInfo or generation differs. The sums are
// the same as a full count's, so decisions do not change.
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import type { LabelPredicate } from '../../util/selectors.js';

/** What counting needs from a constraint. */
export interface CountedConstraint {
  readonly topologyKey: string;
  readonly selector: LabelPredicate;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export function hasAllKeys(
  labels: Readonly<Record<string, string>>,
  cs: readonly CountedConstraint[],
): boolean {
  for (let i = 0; i < cs.length; i++) if (labels[cs[i]!.topologyKey] === undefined) return false;
  return true;
}

/** Pods in the namespace, not terminating, whose labels the selector matches. */
export function countMatching(pods: readonly PodInfo[], selector: LabelPredicate, namespace: string): number {
  let n = 0;
  for (let i = 0; i < pods.length; i++) {
    const m = pods[i]!.pod.metadata;
    if (m.namespace !== namespace || m.deletionTimestamp) continue;
    if (selector(m.labels)) n++;
  }
  return n;
}

/**
 * The domain counts of one set of constraints in one namespace, for pods whose constraints
 * include every node that has all the topology keys (no honoured node affinity or taints).
 */
export class DomainCountMemo {
  private refs: Array<NodeInfo | undefined> = [];
  private generations: number[] = [];
  /** Per constraint, per node index: the node's domain value (undefined: not counted). */
  private values: Array<Array<string | undefined>>;
  /** Per constraint, per node index: the node's matching pods. */
  private matched: number[][];
  /** Per constraint: domain → counted nodes in it. */
  private readonly nodesIn: Array<Map<string, number>>;
  /** Per constraint: domain → matching pods in it (a domain is present while it has counted nodes). */
  private readonly podsIn: Array<Map<string, number>>;

  constructor(
    private readonly constraints: readonly CountedConstraint[],
    private readonly namespace: string,
  ) {
    this.values = constraints.map(() => []);
    this.matched = constraints.map(() => []);
    this.nodesIn = constraints.map(() => new Map<string, number>());
    this.podsIn = constraints.map(() => new Map<string, number>());
  }

  /** Per constraint: domain value → matching pods, brought up to date with the nodes (fresh maps). */
  counts(nodes: readonly NodeInfo[]): Array<Map<string, number>> {
    if (nodes.length !== this.refs.length) this.reset(nodes.length);
    for (let j = 0; j < nodes.length; j++) {
      const ni = nodes[j]!;
      if (this.refs[j] === ni && this.generations[j] === ni.generation) continue;
      this.forget(j);
      this.count(j, ni);
    }
    return this.podsIn.map((m) => new Map(m));
  }

  private reset(n: number): void {
    this.refs = new Array<NodeInfo | undefined>(n).fill(undefined);
    this.generations = new Array<number>(n).fill(-1);
    this.values = this.constraints.map(() => new Array<string | undefined>(n).fill(undefined));
    this.matched = this.constraints.map(() => new Array<number>(n).fill(0));
    for (const m of this.nodesIn) m.clear();
    for (const m of this.podsIn) m.clear();
  }

  private forget(j: number): void {
    for (let i = 0; i < this.constraints.length; i++) {
      const v = this.values[i]![j];
      if (v === undefined) continue;
      this.values[i]![j] = undefined;
      const nodes = this.nodesIn[i]!.get(v)! - 1;
      if (nodes === 0) {
        this.nodesIn[i]!.delete(v);
        this.podsIn[i]!.delete(v);
      } else {
        this.nodesIn[i]!.set(v, nodes);
        this.podsIn[i]!.set(v, this.podsIn[i]!.get(v)! - this.matched[i]![j]!);
      }
    }
  }

  private count(j: number, ni: NodeInfo): void {
    this.refs[j] = ni;
    this.generations[j] = ni.generation;
    const node = ni.node;
    if (!node) return;
    const labels = node.metadata.labels ?? NO_LABELS;
    if (!hasAllKeys(labels, this.constraints)) return;
    const pods = ni.pods;
    for (let i = 0; i < this.constraints.length; i++) {
      const c = this.constraints[i]!;
      const v = labels[c.topologyKey]!;
      const matching = pods.length === 0 ? 0 : countMatching(pods, c.selector, this.namespace);
      this.values[i]![j] = v;
      this.matched[i]![j] = matching;
      this.nodesIn[i]!.set(v, (this.nodesIn[i]!.get(v) ?? 0) + 1);
      this.podsIn[i]!.set(v, (this.podsIn[i]!.get(v) ?? 0) + matching);
    }
  }
}
