// NodeResourcesFit: the pod's requests (cpu, memory, ephemeral storage, extended resources and the
// pod count) must fit in what the node has left of its allocatable. Scores with LeastAllocated
// (default) or MostAllocated over weighted resources.
import type { Node } from '../../../api/generated/types.js';
import {
  ActionType,
  MAX_NODE_SCORE,
  QueueingHint,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type PluginArgs,
  type PreFilterPlugin,
  type ScorePlugin,
} from '../../framework/interfaces.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import { CPU, EPHEMERAL_STORAGE, MEMORY, Resource, podRequests } from '../../framework/resource.js';
import { Status } from '../../framework/status.js';
import { NodeResourcesFit as NAME } from '../names/index.js';

export type ScoringStrategyType = 'LeastAllocated' | 'MostAllocated';

export interface ResourceSpec {
  name: string;
  weight: number;
}

export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: { type?: ScoringStrategyType; resources?: ResourceSpec[] };
}

export const DEFAULT_RESOURCES: ResourceSpec[] = [
  { name: CPU, weight: 1 },
  { name: MEMORY, weight: 1 },
];

export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
  /** The node could not hold the request even empty: preemption cannot help. */
  unresolvable: boolean;
}

/** The resources the pod lacks on the node (upstream's fitsRequest). */
export function fitsRequest(
  req: Resource,
  nodeInfo: NodeInfo,
  ignored: ReadonlySet<string> = new Set(),
  ignoredGroups: ReadonlySet<string> = new Set(),
): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  const allowedPods = alloc.allowedPodNumber;
  if (nodeInfo.pods.length + 1 > allowedPods) {
    out.push({
      resourceName: 'pods',
      reason: 'Too many pods',
      requested: 1,
      used: nodeInfo.pods.length,
      capacity: allowedPods,
      unresolvable: false,
    });
  }
  const check = (name: string, r: number, a: number, u: number): void => {
    if (r > 0 && r > a - u) {
      out.push({
        resourceName: name,
        reason: `Insufficient ${name}`,
        requested: r,
        used: u,
        capacity: a,
        unresolvable: r > a,
      });
    }
  };
  check(CPU, req.milliCPU, alloc.milliCPU, used.milliCPU);
  check(MEMORY, req.memory, alloc.memory, used.memory);
  check(EPHEMERAL_STORAGE, req.ephemeralStorage, alloc.ephemeralStorage, used.ephemeralStorage);
  if (req.scalar) {
    for (const [name, r] of req.scalar) {
      if (ignored.has(name)) continue;
      const slash = name.indexOf('/');
      if (slash > 0 && ignoredGroups.has(name.slice(0, slash))) continue;
      check(name, r, alloc.scalar?.get(name) ?? 0, used.scalar?.get(name) ?? 0);
    }
  }
  return out;
}

function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  if (requested > capacity) requested = capacity;
  return Math.trunc((requested * MAX_NODE_SCORE) / capacity);
}

/** What the node would have requested of a resource with the pod added, for scoring (non-zero defaults for cpu/memory). */
export function requestedWithPod(nodeInfo: NodeInfo, pod: PodInfo, name: string, nonZero: boolean): number {
  if (nonZero && (name === CPU || name === MEMORY))
    return nodeInfo.nonZeroRequested.get(name) + pod.nonZeroRequests.get(name);
  return nodeInfo.requested.get(name) + pod.requests.get(name);
}

export class NodeResourcesFitPlugin implements PreFilterPlugin, FilterPlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  private readonly ignored: ReadonlySet<string>;
  private readonly ignoredGroups: ReadonlySet<string>;
  private readonly strategy: ScoringStrategyType;
  private readonly resources: ResourceSpec[];
  private readonly weightSum: number;

  constructor(args: NodeResourcesFitArgs = {}) {
    this.ignored = new Set(args.ignoredResources ?? []);
    this.ignoredGroups = new Set(args.ignoredResourceGroups ?? []);
    this.strategy = args.scoringStrategy?.type ?? 'LeastAllocated';
    this.resources = args.scoringStrategy?.resources?.length
      ? args.scoringStrategy.resources
      : DEFAULT_RESOURCES;
    this.weightSum = this.resources.reduce((s, r) => s + r.weight, 0);
  }

  preFilter(): { status: Status } {
    return { status: Status.SUCCESS };
  }

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const req = pod.requests;
    const alloc = nodeInfo.allocatable;
    const used = nodeInfo.requested;
    // Fast path: everything fits.
    if (
      nodeInfo.pods.length + 1 <= alloc.allowedPodNumber &&
      req.milliCPU <= alloc.milliCPU - used.milliCPU &&
      req.memory <= alloc.memory - used.memory &&
      req.ephemeralStorage <= alloc.ephemeralStorage - used.ephemeralStorage &&
      !req.scalar
    ) {
      return Status.SUCCESS;
    }
    const insufficient = fitsRequest(req, nodeInfo, this.ignored, this.ignoredGroups);
    if (insufficient.length === 0) return Status.SUCCESS;
    const unresolvable = insufficient.some((i) => i.unresolvable);
    const reasons = insufficient.map((i) => i.reason);
    return unresolvable ? Status.unresolvable(...reasons) : Status.unschedulable(...reasons);
  }

  score(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    let total = 0;
    let weights = 0;
    const most = this.strategy === 'MostAllocated';
    for (const r of this.resources) {
      const isScalar = r.name !== CPU && r.name !== MEMORY && r.name !== EPHEMERAL_STORAGE;
      if (isScalar && pod.requests.get(r.name) === 0) continue;
      const capacity = nodeInfo.allocatable.get(r.name);
      const requested = requestedWithPod(nodeInfo, pod, r.name, true);
      total +=
        (most ? mostRequestedScore(requested, capacity) : leastRequestedScore(requested, capacity)) *
        r.weight;
      weights += r.weight;
    }
    if (weights === 0) return 0;
    return Math.trunc(total / (weights || this.weightSum));
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      { event: { resource: 'AssignedPod', actionType: ActionType.Delete | ActionType.UpdatePodScaleDown } },
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeAllocatable },
        hint: (pod, _old, next) => {
          const node = next as Node | undefined;
          if (!node) return QueueingHint.QueueSkip;
          const alloc = Resource.fromList(node.status?.allocatable);
          const req = podRequests(pod);
          if (
            req.milliCPU > alloc.milliCPU ||
            req.memory > alloc.memory ||
            req.ephemeralStorage > alloc.ephemeralStorage
          ) {
            return QueueingHint.QueueSkip;
          }
          if (req.scalar)
            for (const [k, v] of req.scalar)
              if (v > (alloc.scalar?.get(k) ?? 0)) return QueueingHint.QueueSkip;
          return QueueingHint.Queue;
        },
      },
    ];
  }
}

export function newNodeResourcesFit(args: PluginArgs | undefined): NodeResourcesFitPlugin {
  return new NodeResourcesFitPlugin(args ?? {});
}
