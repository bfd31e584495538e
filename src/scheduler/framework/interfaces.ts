// The extension points of a scheduling profile, one small interface each, and the handle through
// which plugins see the cluster (the cycle's snapshot, the listers, the API) and the framework.
import type { KubeObject } from '../../api/meta.js';
import type { Pod } from '../../api/generated/types.js';
import type { Logger } from '../../util/log.js';
import type { SchedulerClient } from '../api.js';
import type { CycleState } from './cycle-state.js';
import type { NamespaceLabels, NodeInfo, PodInfo } from './node-info.js';
import type { Status } from './status.js';

export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

// ---------------------------------------------------------------------------------------------
// Cluster events and queueing hints

/** What kind of object changed. AssignedPod: a pod bound to a node; Pod: the pending pod itself. */
export type EventResource =
  | 'AssignedPod'
  | 'Pod'
  | 'Node'
  | 'PersistentVolumeClaim'
  | 'PersistentVolume'
  | 'StorageClass'
  | 'Namespace'
  | 'WildCard';

/** Action types as bits, so a registration can name several. */
export const ActionType = {
  Add: 1,
  Delete: 2,
  UpdateNodeAllocatable: 4,
  UpdateNodeLabel: 8,
  UpdateNodeTaint: 16,
  UpdateNodeCondition: 32,
  UpdateNodeAnnotation: 64,
  UpdatePodLabel: 128,
  UpdatePodScaleDown: 256,
  UpdatePodTolerations: 512,
  UpdatePodSchedulingGatesEliminated: 1024,
  UpdateOther: 2048,
  Update: 4 | 8 | 16 | 32 | 64 | 128 | 256 | 512 | 1024 | 2048,
  All: 0xffff,
} as const;

export interface ClusterEvent {
  resource: EventResource;
  actionType: number;
  label: string;
}

export enum QueueingHint {
  /** The event cannot make the pod schedulable. */
  QueueSkip = 0,
  /** The event may make the pod schedulable: retry it. */
  Queue = 1,
}

/** Decides, for a pod this plugin rejected, whether an event may make it schedulable. */
export type QueueingHintFn = (
  pod: Pod,
  oldObj: KubeObject | undefined,
  newObj: KubeObject | undefined,
) => QueueingHint;

export interface ClusterEventWithHint {
  event: { resource: EventResource; actionType: number };
  /** Without a hint, every matching event requeues the pod. */
  hint?: QueueingHintFn;
}

// ---------------------------------------------------------------------------------------------
// Plugins

export interface Plugin {
  readonly name: string;
}

export interface EnqueueExtensions extends Plugin {
  eventsToRegister(): ClusterEventWithHint[];
}

export interface PreEnqueuePlugin extends Plugin {
  preEnqueue(pod: Pod): Status;
}

export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When the pod was (last) added to the queue, ms. */
  timestamp: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** When the pod was first added to the queue, ms. */
  initialAttemptTimestamp: number;
  /** Plugins that rejected the pod in the last attempt. */
  unschedulablePlugins: Set<string>;
  /** Plugins that returned Pending in the last attempt. */
  pendingPlugins: Set<string>;
  /** Whether the pod is held by PreEnqueue (scheduling gates). */
  gated: boolean;
  /** Plugin that gated it. */
  gatingPlugin?: string;
  /** Back-off expiry (ms since epoch). */
  backoffExpiry: number;
  /** Whether the last failure was an error (not unschedulability). */
  lastFailureWasError: boolean;
}

export interface QueueSortPlugin extends Plugin {
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

/** Narrows the nodes the Filter phase looks at; undefined nodeNames means all. */
export interface PreFilterResult {
  nodeNames?: ReadonlySet<string>;
}

/** Keeps PreFilter state right while preemption adds and removes pods on a node. */
export interface PreFilterExtensions {
  addPod(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status;
  removePod(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status;
}

export interface PreFilterPlugin extends Plugin {
  preFilter(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
  ): { result?: PreFilterResult; status: Status };
  preFilterExtensions?(): PreFilterExtensions | undefined;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status;
}

/** Per-node statuses of a failed Filter phase. */
export type NodeToStatus = Map<string, Status>;

export interface PostFilterResult {
  nominatedNodeName?: string;
}

export interface PostFilterPlugin extends Plugin {
  postFilter(
    state: CycleState,
    pod: PodInfo,
    statuses: NodeToStatus,
  ): { result?: PostFilterResult; status: Status };
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status;
}

export interface NodeScore {
  name: string;
  score: number;
}

export interface ScorePlugin extends Plugin {
  /** The node's raw score (throw for an internal error). */
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number;
  /** Rescales the raw scores of all nodes to [0, 100] in place. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: NodeScore[]): void;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status;
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: PodInfo, nodeName: string): { status: Status; timeoutMs: number };
}

export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status>;
}

export interface BindPlugin extends Plugin {
  bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status>;
}

export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pod: PodInfo, nodeName: string): void;
}

// ---------------------------------------------------------------------------------------------
// Handle

/** The cycle's view of the nodes. Node infos are the cache's live ones, read-only to plugins. */
export interface SnapshotLister {
  list(): readonly NodeInfo[];
  get(name: string): NodeInfo | undefined;
  havePodsWithAffinity(): readonly NodeInfo[];
  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[];
}

/** Pods nominated to run on nodes (after preemption), which filters must make room for. */
export interface PodNominator {
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
  addNominatedPod(pi: PodInfo, nodeName: string): void;
  deleteNominatedPodIfExists(pod: Pod): void;
}

export interface Handle {
  readonly profileName: string;
  readonly client: SchedulerClient;
  readonly log: Logger;
  snapshot(): SnapshotLister;
  nominator(): PodNominator;
  namespaceLabels: NamespaceLabels;
  /** Runs every Filter plugin, considering nominated pods of equal or higher priority (preemption). */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status;
  runPreFilterExtensionAddPod(
    state: CycleState,
    podToSchedule: PodInfo,
    podToAdd: PodInfo,
    nodeInfo: NodeInfo,
  ): Status;
  runPreFilterExtensionRemovePod(
    state: CycleState,
    podToSchedule: PodInfo,
    podToRemove: PodInfo,
    nodeInfo: NodeInfo,
  ): Status;
  /** Clock (tests). */
  now(): number;
}

export type PluginArgs = Record<string, unknown>;

export type PluginFactory = (args: PluginArgs | undefined, handle: Handle) => Plugin;

export function isPreEnqueue(p: Plugin): p is PreEnqueuePlugin {
  return typeof (p as Partial<PreEnqueuePlugin>).preEnqueue === 'function';
}
export function isQueueSort(p: Plugin): p is QueueSortPlugin {
  return typeof (p as Partial<QueueSortPlugin>).less === 'function';
}
export function isEnqueueExtensions(p: Plugin): p is EnqueueExtensions {
  return typeof (p as Partial<EnqueueExtensions>).eventsToRegister === 'function';
}
export function isPreFilter(p: Plugin): p is PreFilterPlugin {
  return typeof (p as Partial<PreFilterPlugin>).preFilter === 'function';
}
export function isFilter(p: Plugin): p is FilterPlugin {
  return typeof (p as Partial<FilterPlugin>).filter === 'function';
}
export function isPostFilter(p: Plugin): p is PostFilterPlugin {
  return typeof (p as Partial<PostFilterPlugin>).postFilter === 'function';
}
export function isPreScore(p: Plugin): p is PreScorePlugin {
  return typeof (p as Partial<PreScorePlugin>).preScore === 'function';
}
export function isScore(p: Plugin): p is ScorePlugin {
  return typeof (p as Partial<ScorePlugin>).score === 'function';
}
export function isReserve(p: Plugin): p is ReservePlugin {
  return typeof (p as Partial<ReservePlugin>).reserve === 'function';
}
export function isPermit(p: Plugin): p is PermitPlugin {
  return typeof (p as Partial<PermitPlugin>).permit === 'function';
}
export function isPreBind(p: Plugin): p is PreBindPlugin {
  return typeof (p as Partial<PreBindPlugin>).preBind === 'function';
}
export function isBind(p: Plugin): p is BindPlugin {
  return typeof (p as Partial<BindPlugin>).bind === 'function';
}
export function isPostBind(p: Plugin): p is PostBindPlugin {
  return typeof (p as Partial<PostBindPlugin>).postBind === 'function';
}

/** framework.DefaultNormalizeScore: scales to [0, maxPriority], optionally reversed. */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: NodeScore[]): void {
  let max = 0;
  for (const s of scores) if (s.score > max) max = s.score;
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = maxPriority;
    return;
  }
  for (const s of scores) {
    let v = Math.trunc((maxPriority * s.score) / max);
    if (reverse) v = maxPriority - v;
    s.score = v;
  }
}
