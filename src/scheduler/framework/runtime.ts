// A profile's plugins wired to the extension points, and the code that runs each point in order
// with upstream's rules (skips, the first failing filter wins, weighted normalized scores). The
// Framework is also the Handle plugins get.
import type { Pod } from '../../api/generated/types.js';
import type { Logger } from '../../util/log.js';
import type { SchedulerClient } from '../api.js';
import { CycleState } from './cycle-state.js';
import {
  MAX_NODE_SCORE,
  MIN_NODE_SCORE,
  isBind,
  isEnqueueExtensions,
  isFilter,
  isPermit,
  isPostBind,
  isPostFilter,
  isPreBind,
  isPreEnqueue,
  isPreFilter,
  isPreScore,
  isQueueSort,
  isReserve,
  isScore,
  type BindPlugin,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type NodeScore,
  type NodeToStatus,
  type PermitPlugin,
  type Plugin,
  type PluginArgs,
  type PluginFactory,
  type PodNominator,
  type PostBindPlugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreBindPlugin,
  type PreEnqueuePlugin,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type QueueSortPlugin,
  type ReservePlugin,
  type ScorePlugin,
  type SnapshotLister,
} from './interfaces.js';
import type { NamespaceLabels, NodeInfo, PodInfo } from './node-info.js';
import { Code, Status } from './status.js';

export type ExtensionPoint =
  | 'preEnqueue'
  | 'queueSort'
  | 'preFilter'
  | 'filter'
  | 'postFilter'
  | 'preScore'
  | 'score'
  | 'reserve'
  | 'permit'
  | 'preBind'
  | 'bind'
  | 'postBind';

export const EXTENSION_POINTS: readonly ExtensionPoint[] = [
  'preEnqueue',
  'queueSort',
  'preFilter',
  'filter',
  'postFilter',
  'preScore',
  'score',
  'reserve',
  'permit',
  'preBind',
  'bind',
  'postBind',
];

/** A profile after configuration is merged with the defaults: the plugins of each point, in order. */
export interface ResolvedProfile {
  schedulerName: string;
  plugins: Record<ExtensionPoint, Array<{ name: string; weight: number }>>;
  pluginConfig: Map<string, PluginArgs>;
  percentageOfNodesToScore?: number;
}

export interface FrameworkDeps {
  client: SchedulerClient;
  log: Logger;
  snapshot: () => SnapshotLister;
  nominator: () => PodNominator;
  namespaceLabels: NamespaceLabels;
  now?: () => number;
}

interface WaitingPod {
  pending: Set<string>;
  resolve: (s: Status) => void;
  timers: NodeJS.Timeout[];
}

export class Framework implements Handle {
  readonly profileName: string;
  readonly client: SchedulerClient;
  readonly log: Logger;
  readonly namespaceLabels: NamespaceLabels;
  readonly percentageOfNodesToScore: number | undefined;
  readonly preEnqueuePlugins: PreEnqueuePlugin[] = [];
  readonly queueSortPlugin: QueueSortPlugin;
  readonly preFilterPlugins: PreFilterPlugin[] = [];
  readonly filterPlugins: FilterPlugin[] = [];
  readonly postFilterPlugins: PostFilterPlugin[] = [];
  readonly preScorePlugins: PreScorePlugin[] = [];
  readonly scorePlugins: Array<{ plugin: ScorePlugin; weight: number }> = [];
  readonly reservePlugins: ReservePlugin[] = [];
  readonly permitPlugins: PermitPlugin[] = [];
  readonly preBindPlugins: PreBindPlugin[] = [];
  readonly bindPlugins: BindPlugin[] = [];
  readonly postBindPlugins: PostBindPlugin[] = [];
  readonly enqueueExtensions: EnqueueExtensions[] = [];
  private readonly instances = new Map<string, Plugin>();
  private readonly waiting = new Map<string, WaitingPod>();
  private readonly deps: FrameworkDeps;

  constructor(profile: ResolvedProfile, registry: ReadonlyMap<string, PluginFactory>, deps: FrameworkDeps) {
    this.deps = deps;
    this.profileName = profile.schedulerName;
    this.client = deps.client;
    this.log = deps.log;
    this.namespaceLabels = deps.namespaceLabels;
    this.percentageOfNodesToScore = profile.percentageOfNodesToScore;
    const get = (name: string): Plugin => {
      let p = this.instances.get(name);
      if (!p) {
        const factory = registry.get(name);
        if (!factory) throw new Error(`plugin "${name}" does not exist`);
        p = factory(profile.pluginConfig.get(name), this);
        this.instances.set(name, p);
      }
      return p;
    };
    const wire = <T extends Plugin>(point: ExtensionPoint, guard: (p: Plugin) => p is T, into: T[]): void => {
      for (const { name } of profile.plugins[point]) {
        const p = get(name);
        if (!guard(p)) throw new Error(`plugin "${name}" does not extend ${point} plugin`);
        into.push(p);
      }
    };
    wire('preEnqueue', isPreEnqueue, this.preEnqueuePlugins);
    const sorts: QueueSortPlugin[] = [];
    wire('queueSort', isQueueSort, sorts);
    if (sorts.length !== 1)
      throw new Error(`one queue sort plugin required for profile with scheduler name "${this.profileName}"`);
    this.queueSortPlugin = sorts[0]!;
    wire('preFilter', isPreFilter, this.preFilterPlugins);
    wire('filter', isFilter, this.filterPlugins);
    wire('postFilter', isPostFilter, this.postFilterPlugins);
    wire('preScore', isPreScore, this.preScorePlugins);
    for (const { name, weight } of profile.plugins.score) {
      const p = get(name);
      if (!isScore(p)) throw new Error(`plugin "${name}" does not extend score plugin`);
      this.scorePlugins.push({ plugin: p, weight: weight || 1 });
    }
    wire('reserve', isReserve, this.reservePlugins);
    wire('permit', isPermit, this.permitPlugins);
    wire('preBind', isPreBind, this.preBindPlugins);
    wire('bind', isBind, this.bindPlugins);
    if (this.bindPlugins.length === 0)
      throw new Error(
        `at least one bind plugin is needed for profile with scheduler name "${this.profileName}"`,
      );
    wire('postBind', isPostBind, this.postBindPlugins);
    for (const p of this.instances.values()) if (isEnqueueExtensions(p)) this.enqueueExtensions.push(p);
  }

  // Handle --------------------------------------------------------------------------------------

  snapshot(): SnapshotLister {
    return this.deps.snapshot();
  }
  nominator(): PodNominator {
    return this.deps.nominator();
  }
  now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }
  plugin(name: string): Plugin | undefined {
    return this.instances.get(name);
  }
  pluginNames(): string[] {
    return [...this.instances.keys()];
  }

  // PreFilter / Filter ----------------------------------------------------------------------------

  runPreFilterPlugins(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
  ): { result?: PreFilterResult; status: Status; unschedulablePlugins: Set<string> } {
    let result: PreFilterResult | undefined;
    const unschedulablePlugins = new Set<string>();
    for (const p of this.preFilterPlugins) {
      let r: { result?: PreFilterResult; status: Status };
      try {
        r = p.preFilter(state, pod, nodes);
      } catch (err) {
        r = { status: Status.error(err) };
      }
      if (r.status.isSkip()) {
        state.skipFilterPlugins.add(p.name);
        continue;
      }
      if (!r.status.isSuccess()) {
        const s = r.status.withPlugin(p.name);
        if (s.isRejected()) unschedulablePlugins.add(p.name);
        return { status: s, unschedulablePlugins };
      }
      if (r.result?.nodeNames) {
        const names = r.result.nodeNames;
        result = {
          nodeNames: result?.nodeNames ? new Set([...result.nodeNames].filter((n) => names.has(n))) : names,
        };
        if (result.nodeNames!.size === 0) {
          unschedulablePlugins.add(p.name);
          return {
            status: Status.unresolvable(
              `node(s) didn't satisfy plugin(s) [${p.name}] simultaneously`,
            ).withPlugin(p.name),
            unschedulablePlugins,
          };
        }
      }
    }
    return { result, status: Status.SUCCESS, unschedulablePlugins };
  }

  /** Runs the filters in order; the first that rejects the node decides. */
  runFilterPlugins(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const skip = state.skipFilterPlugins;
    for (const p of this.filterPlugins) {
      if (skip.size > 0 && skip.has(p.name)) continue;
      let s: Status;
      try {
        s = p.filter(state, pod, nodeInfo);
      } catch (err) {
        s = Status.error(err);
      }
      if (s.code !== Code.Success) return s.withPlugin(p.name);
    }
    return Status.SUCCESS;
  }

  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const nominated = this.deps.nominator().nominatedPodsForNode(nodeInfo.name);
    let added = false;
    if (nominated.length > 0) {
      let ni: NodeInfo | undefined;
      let st: CycleState | undefined;
      for (const np of nominated) {
        if (np.key === pod.key || np.priority < pod.priority) continue;
        if (!ni || !st) {
          ni = nodeInfo.clone();
          st = state.clone();
        }
        ni.addPodInfo(np);
        const s = this.runPreFilterExtensionAddPod(st, pod, np, ni);
        if (!s.isSuccess()) return s;
        added = true;
      }
      if (added && ni && st) {
        const s = this.runFilterPlugins(st, pod, ni);
        if (!s.isSuccess()) return s;
      }
    }
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  runPreFilterExtensionAddPod(
    state: CycleState,
    podToSchedule: PodInfo,
    podToAdd: PodInfo,
    nodeInfo: NodeInfo,
  ): Status {
    for (const p of this.preFilterPlugins) {
      if (state.skipFilterPlugins.has(p.name)) continue;
      const ext = p.preFilterExtensions?.();
      if (!ext) continue;
      const s = ext.addPod(state, podToSchedule, podToAdd, nodeInfo);
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.SUCCESS;
  }

  runPreFilterExtensionRemovePod(
    state: CycleState,
    podToSchedule: PodInfo,
    podToRemove: PodInfo,
    nodeInfo: NodeInfo,
  ): Status {
    for (const p of this.preFilterPlugins) {
      if (state.skipFilterPlugins.has(p.name)) continue;
      const ext = p.preFilterExtensions?.();
      if (!ext) continue;
      const s = ext.removePod(state, podToSchedule, podToRemove, nodeInfo);
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.SUCCESS;
  }

  runPostFilterPlugins(
    state: CycleState,
    pod: PodInfo,
    statuses: NodeToStatus,
  ): { result?: PostFilterResult; status: Status } {
    const reasons: string[] = [];
    let rejector = '';
    for (const p of this.postFilterPlugins) {
      let r: { result?: PostFilterResult; status: Status };
      try {
        r = p.postFilter(state, pod, statuses);
      } catch (err) {
        r = { status: Status.error(err) };
      }
      if (r.status.isSuccess()) return { result: r.result, status: r.status };
      if (r.status.code === Code.Error) return { status: r.status.withPlugin(p.name) };
      reasons.push(...r.status.reasons);
      rejector ||= p.name;
      if (r.result?.nominatedNodeName !== undefined && r.result.nominatedNodeName !== '') return r;
    }
    return { status: Status.unschedulable(...reasons).withPlugin(rejector) };
  }

  // Scoring ---------------------------------------------------------------------------------------

  runPreScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status {
    for (const p of this.preScorePlugins) {
      let s: Status;
      try {
        s = p.preScore(state, pod, nodes);
      } catch (err) {
        s = Status.error(err);
      }
      if (s.isSkip()) {
        state.skipScorePlugins.add(p.name);
        continue;
      }
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.SUCCESS;
  }

  /** The weighted total score of each node (same order as nodes); throws on a plugin error. */
  runScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): number[] {
    const totals = new Array<number>(nodes.length).fill(0);
    for (const { plugin, weight } of this.scorePlugins) {
      if (state.skipScorePlugins.has(plugin.name)) continue;
      const scores: NodeScore[] = new Array<NodeScore>(nodes.length);
      for (let i = 0; i < nodes.length; i++) {
        const ni = nodes[i]!;
        scores[i] = { name: ni.name, score: plugin.score(state, pod, ni) };
      }
      plugin.normalizeScore?.(state, pod, scores);
      for (let i = 0; i < scores.length; i++) {
        const s = scores[i]!.score;
        if (s > MAX_NODE_SCORE || s < MIN_NODE_SCORE || Number.isNaN(s)) {
          throw new Error(
            `plugin "${plugin.name}" returns an invalid score ${s}, it should in the range of [${MIN_NODE_SCORE}, ${MAX_NODE_SCORE}] after normalizing`,
          );
        }
        totals[i]! += s * weight;
      }
    }
    return totals;
  }

  // Reserve / Permit / Bind -----------------------------------------------------------------------

  runReservePluginsReserve(state: CycleState, pod: PodInfo, nodeName: string): Status {
    for (const p of this.reservePlugins) {
      let s: Status;
      try {
        s = p.reserve(state, pod, nodeName);
      } catch (err) {
        s = Status.error(err);
      }
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.SUCCESS;
  }

  /** Unreserve runs in reverse order, for every reserve plugin. */
  runReservePluginsUnreserve(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) {
      const p = this.reservePlugins[i]!;
      try {
        p.unreserve(state, pod, nodeName);
      } catch (err) {
        this.log.error('unreserve failed', { plugin: p.name, err });
      }
    }
  }

  runPermitPlugins(state: CycleState, pod: PodInfo, nodeName: string): Status {
    const waitFor = new Map<string, number>();
    for (const p of this.permitPlugins) {
      let r: { status: Status; timeoutMs: number };
      try {
        r = p.permit(state, pod, nodeName);
      } catch (err) {
        r = { status: Status.error(err), timeoutMs: 0 };
      }
      if (r.status.code === Code.Wait) {
        waitFor.set(p.name, Math.min(r.timeoutMs, 15 * 60_000));
        continue;
      }
      if (!r.status.isSuccess()) return r.status.withPlugin(p.name);
    }
    if (waitFor.size === 0) return Status.SUCCESS;
    const wp: WaitingPod = { pending: new Set(waitFor.keys()), resolve: () => undefined, timers: [] };
    this.waiting.set(pod.key, wp);
    const done = new Promise<Status>((resolve) => (wp.resolve = resolve));
    for (const [name, ms] of waitFor) {
      wp.timers.push(
        setTimeout(
          () =>
            this.rejectWaitingPod(
              pod.key,
              name,
              `rejected due to timeout after waiting ${ms / 1000}s at plugin ${name}`,
            ),
          ms,
        ),
      );
    }
    this.permitResults.set(pod.key, done);
    return new Status(Code.Wait);
  }

  private readonly permitResults = new Map<string, Promise<Status>>();

  /** Lets a waiting pod through for one plugin; when no plugin holds it any more it proceeds to binding. */
  allowWaitingPod(podKey: string, plugin: string): void {
    const wp = this.waiting.get(podKey);
    if (!wp) return;
    wp.pending.delete(plugin);
    if (wp.pending.size === 0) this.finishWaiting(podKey, Status.SUCCESS);
  }

  rejectWaitingPod(podKey: string, plugin: string, msg: string): void {
    if (!this.waiting.has(podKey)) return;
    this.finishWaiting(podKey, Status.unschedulable(msg).withPlugin(plugin));
  }

  private finishWaiting(podKey: string, s: Status): void {
    const wp = this.waiting.get(podKey);
    if (!wp) return;
    this.waiting.delete(podKey);
    for (const t of wp.timers) clearTimeout(t);
    wp.resolve(s);
  }

  waitingPodKeys(): string[] {
    return [...this.waiting.keys()];
  }

  async waitOnPermit(pod: PodInfo): Promise<Status> {
    const p = this.permitResults.get(pod.key);
    if (!p) return Status.SUCCESS;
    try {
      return await p;
    } finally {
      this.permitResults.delete(pod.key);
    }
  }

  /** Rejects every waiting pod (shutdown). */
  rejectAllWaiting(msg: string): void {
    for (const key of [...this.waiting.keys()]) this.finishWaiting(key, Status.unschedulable(msg));
  }

  async runPreBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    for (const p of this.preBindPlugins) {
      let s: Status;
      try {
        s = await p.preBind(state, pod, nodeName);
      } catch (err) {
        s = Status.error(err);
      }
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.SUCCESS;
  }

  async runBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    for (const p of this.bindPlugins) {
      let s: Status;
      try {
        s = await p.bind(state, pod, nodeName);
      } catch (err) {
        s = Status.error(err);
      }
      if (s.isSkip()) continue;
      return s.isSuccess() ? s : s.withPlugin(p.name);
    }
    return Status.error(new Error('all bind plugins skipped the pod')).withPlugin('');
  }

  runPostBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (const p of this.postBindPlugins) {
      try {
        p.postBind(state, pod, nodeName);
      } catch (err) {
        this.log.error('postBind failed', { plugin: p.name, err });
      }
    }
  }

  /** Runs PreEnqueue plugins; the first that does not allow the pod gates it. */
  runPreEnqueuePlugins(pod: Pod): Status {
    for (const p of this.preEnqueuePlugins) {
      const s = p.preEnqueue(pod);
      if (!s.isSuccess()) return s.withPlugin(p.name);
    }
    return Status.SUCCESS;
  }

  newCycleState(): CycleState {
    return new CycleState();
  }
}
