// The scheduler: informers feed the cache and the queue; one loop pops a pod, filters the nodes,
// scores the feasible ones, picks the best (ties broken at random), reserves and assumes it in
// the cache, and binds asynchronously so the next pod never waits for the previous bind. A pod
// that fits nowhere runs PostFilter (preemption), gets PodScheduled=False and a FailedScheduling
// event, and waits in the queue for a cluster event that may help.
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { KubeObject } from '../api/meta.js';
import type { Node, Pod, PodCondition } from '../api/generated/types.js';
import {
  deletedObject,
  type DeletedFinalStateUnknown,
  type ResourceEventHandler,
} from '../client/informer.js';
import { LeaderElector } from '../client/leader-election.js';
import { RestClient } from '../client/rest.js';
import { createLogger, type Logger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import { restSchedulerClient, type SchedulerClient } from './api.js';
import { SchedulerCache } from './cache/cache.js';
import {
  DEFAULT_SCHEDULER_NAME,
  resolveProfiles,
  validateSchedulerConfig,
  type SchedulerConfiguration,
} from './config.js';
import { CycleState } from './framework/cycle-state.js';
import { numFeasibleNodesToFind } from './framework/feasible.js';
import { FitError } from './framework/fit-error.js';
import {
  ActionType,
  type ClusterEvent,
  type ClusterEventWithHint,
  type QueuedPodInfo,
} from './framework/interfaces.js';
import { PodInfo, podKey, podName, type NodeInfo } from './framework/node-info.js';
import { inTreeRegistry, type RegistryEntry } from './framework/registry.js';
import { Framework } from './framework/runtime.js';
import { Code, Status } from './framework/status.js';
import { SchedulingQueue } from './queue/scheduling-queue.js';

export const ERR_NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

/** How long the scheduling loop may run before it lets the event loop take a turn. */
const SCHEDULING_TURN_BUDGET_MS = 4;

const attemptsTotal = metrics.counter(
  'scheduler_schedule_attempts_total',
  'Scheduling attempts, by result and profile.',
);
const attemptDuration = metrics.histogram(
  'scheduler_scheduling_attempt_duration_seconds',
  'Scheduling attempt latency (the algorithm, without binding), by result and profile.',
);
const e2eDuration = metrics.histogram(
  'scheduler_pod_scheduling_sli_duration_seconds',
  'From first enqueue to bound, by attempts.',
);
const preemptionAttempts = metrics.counter('scheduler_preemption_attempts_total', 'Preemption attempts.');
const bindingErrors = metrics.counter(
  'scheduler_binding_errors_total',
  'Binding cycles that failed, by plugin.',
);
const expiredAssumed = metrics.counter(
  'scheduler_assumed_pods_expired_total',
  'Assumed pods dropped because their binding never showed up.',
);

export interface SchedulerOptions {
  /** The API: a RestClient (informers and REST writes are set up) or any SchedulerClient (tests, benchmarks). */
  client: RestClient | SchedulerClient;
  config?: SchedulerConfiguration;
  /** Only schedule while holding the kube-system/kube-scheduler Lease (needs a RestClient). */
  leaderElection?:
    | boolean
    | {
        namespace?: string;
        name?: string;
        leaseDurationMs?: number;
        renewDeadlineMs?: number;
        retryPeriodMs?: number;
      };
  /** This instance's identity (leader election, event source host). */
  identity?: string;
  /** Out-of-tree plugins, added to the in-tree registry. */
  outOfTreeRegistry?: ReadonlyMap<string, RegistryEntry>;
  /** How long an assumed pod may wait for its bind to show up in the watch (default 30 s). */
  assumedPodTtlMs?: number;
  /** Clock (tests). */
  now?: () => number;
  /** Random source for tie-breaking (tests). */
  random?: () => number;
}

export interface ScheduleResult {
  suggestedHost: string;
  evaluatedNodes: number;
  feasibleNodes: number;
}

export interface Scheduler {
  /** Starts the informers, waits for their caches, then schedules (once leading, with leader election). */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly queue: SchedulingQueue;
  readonly cache: SchedulerCache;
  readonly profiles: ReadonlyMap<string, Framework>;
  readonly client: SchedulerClient;
  /** Schedules one pod from the queue if there is one (tests and benchmarks drive the loop with it). */
  scheduleNext(): boolean;
  /** Resolves when every binding cycle started so far has finished. */
  bindingsSettled(): Promise<void>;
  isLeader(): boolean;
}

function isAssigned(pod: Pod): boolean {
  return !!pod.spec?.nodeName;
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function nodeUpdateActions(a: Node, b: Node): number {
  let t = 0;
  const js = (v: unknown): string => JSON.stringify(v ?? null);
  if (js(a.status?.allocatable) !== js(b.status?.allocatable)) t |= ActionType.UpdateNodeAllocatable;
  if (js(a.metadata.labels) !== js(b.metadata.labels)) t |= ActionType.UpdateNodeLabel;
  if (js(a.spec?.taints) !== js(b.spec?.taints) || !!a.spec?.unschedulable !== !!b.spec?.unschedulable)
    t |= ActionType.UpdateNodeTaint;
  const conds = (n: Node): string => js((n.status?.conditions ?? []).map((c) => [c.type, c.status]));
  if (conds(a) !== conds(b)) t |= ActionType.UpdateNodeCondition;
  if (js(a.metadata.annotations) !== js(b.metadata.annotations)) t |= ActionType.UpdateNodeAnnotation;
  return t;
}

function podUpdateActions(a: Pod, b: Pod): number {
  let t = 0;
  const js = (v: unknown): string => JSON.stringify(v ?? null);
  if (js(a.metadata.labels) !== js(b.metadata.labels)) t |= ActionType.UpdatePodLabel;
  if (js(a.spec?.tolerations) !== js(b.spec?.tolerations)) t |= ActionType.UpdatePodTolerations;
  if ((a.spec?.schedulingGates ?? []).length > 0 && (b.spec?.schedulingGates ?? []).length === 0) {
    t |= ActionType.UpdatePodSchedulingGatesEliminated;
  }
  if (js(a.spec?.containers?.map((c) => c.resources)) !== js(b.spec?.containers?.map((c) => c.resources)))
    t |= ActionType.UpdatePodScaleDown;
  return t || ActionType.UpdateOther;
}

function event(resource: ClusterEvent['resource'], actionType: number, label: string): ClusterEvent {
  return { resource, actionType, label };
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const log: Logger = createLogger('scheduler');
  const identity = options.identity ?? `${hostname()}_${Math.random().toString(36).slice(2, 10)}`;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const config = options.config ?? {};
  const rest = options.client instanceof RestClient ? options.client : undefined;
  const client: SchedulerClient = rest
    ? restSchedulerClient(rest, { hostname: identity })
    : (options.client as SchedulerClient);

  const registry = inTreeRegistry();
  for (const [k, v] of options.outOfTreeRegistry ?? []) registry.set(k, v);
  validateSchedulerConfig(config, registry);
  const factories = new Map([...registry].map(([k, v]) => [k, v.factory]));

  const cache = new SchedulerCache({
    assumedPodTtlMs: options.assumedPodTtlMs,
    now,
    log: log.child('cache'),
  });
  const namespaceLabels = (ns: string): Readonly<Record<string, string>> | undefined =>
    client.source('namespaces').get(undefined, ns)?.metadata.labels;

  const holder: { queue?: SchedulingQueue } = {};
  const profiles = new Map<string, Framework>();
  for (const rp of resolveProfiles(config, registry)) {
    profiles.set(
      rp.schedulerName,
      new Framework(rp, factories, {
        client,
        log: log.child(rp.schedulerName),
        snapshot: () => cache,
        nominator: () => holder.queue!,
        namespaceLabels,
        now,
      }),
    );
  }
  const hintsByProfile = new Map<string, Map<string, readonly ClusterEventWithHint[]>>();
  for (const [name, fwk] of profiles) {
    const m = new Map<string, readonly ClusterEventWithHint[]>();
    for (const p of fwk.enqueueExtensions) m.set(p.name, p.eventsToRegister());
    hintsByProfile.set(name, m);
  }
  const profileOf = (pod: Pod): Framework | undefined =>
    profiles.get(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME);
  const first = profiles.values().next().value as Framework;
  const queue = new SchedulingQueue({
    less: (a, b) => first.queueSortPlugin.less(a, b),
    preEnqueue: (pod) => profileOf(pod)?.runPreEnqueuePlugins(pod),
    hintsFor: (pod) => hintsByProfile.get(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) ?? new Map(),
    initialBackoffMs: (config.podInitialBackoffSeconds ?? 1) * 1000,
    maxBackoffMs: (config.podMaxBackoffSeconds ?? 10) * 1000,
    now,
    log: log.child('queue'),
  });
  holder.queue = queue;

  const responsible = (pod: Pod): boolean => profileOf(pod) !== undefined;
  let nextStartNodeIndex = 0;
  const bindings = new Set<Promise<void>>();

  // Event handlers -----------------------------------------------------------------------------

  const onAssignedPodDelete = (pod: Pod): void => {
    cache.removePod(pod);
    queue.moveAllToActiveOrBackoffQueue(
      event('AssignedPod', ActionType.Delete, 'AssignedPodDelete'),
      pod,
      undefined,
    );
  };

  client.source('pods').addHandler({
    onAdd: (pod) => {
      if (isTerminal(pod)) return;
      if (isAssigned(pod)) {
        cache.addPod(pod);
        queue.deleteNominatedPodIfExists(pod);
        queue.moveAllToActiveOrBackoffQueue(
          event('AssignedPod', ActionType.Add, 'AssignedPodAdd'),
          undefined,
          pod,
        );
      } else if (responsible(pod) && !pod.metadata.deletionTimestamp) {
        queue.add(pod);
      }
    },
    onUpdate: (oldPod, pod) => {
      if (isAssigned(pod)) {
        if (isTerminal(pod)) return onAssignedPodDelete(pod);
        if (!isAssigned(oldPod)) {
          // The binding came back through the watch.
          queue.delete(pod);
          cache.addPod(pod);
          queue.moveAllToActiveOrBackoffQueue(
            event('AssignedPod', ActionType.Add, 'AssignedPodAdd'),
            undefined,
            pod,
          );
          return;
        }
        cache.updatePod(oldPod, pod);
        queue.moveAllToActiveOrBackoffQueue(
          event('AssignedPod', podUpdateActions(oldPod, pod), 'AssignedPodUpdate'),
          oldPod,
          pod,
        );
        return;
      }
      if (!responsible(pod) || cache.isAssumed(pod)) return;
      if (pod.metadata.deletionTimestamp) {
        queue.delete(pod);
        return;
      }
      queue.update(oldPod, pod);
    },
    onDelete: (obj: Pod | DeletedFinalStateUnknown<Pod>) => {
      const pod = deletedObject(obj);
      if (isAssigned(pod) || cache.getPod(pod)) {
        onAssignedPodDelete(pod);
        queue.delete(pod);
      } else {
        queue.delete(pod);
      }
      for (const fwk of profiles.values()) fwk.rejectWaitingPod(podKey(pod), '', 'pod deleted');
    },
  });

  client.source('nodes').addHandler({
    onAdd: (node) => {
      cache.addNode(node);
      queue.moveAllToActiveOrBackoffQueue(event('Node', ActionType.Add, 'NodeAdd'), undefined, node);
    },
    onUpdate: (oldNode, node) => {
      cache.updateNode(oldNode, node);
      const actions = nodeUpdateActions(oldNode, node);
      if (actions) queue.moveAllToActiveOrBackoffQueue(event('Node', actions, 'NodeUpdate'), oldNode, node);
    },
    onDelete: (obj) => {
      const node = deletedObject(obj);
      cache.removeNode(node);
      queue.moveAllToActiveOrBackoffQueue(event('Node', ActionType.Delete, 'NodeDelete'), node, undefined);
    },
  });

  const storageHandler = (resource: ClusterEvent['resource']): ResourceEventHandler<KubeObject> => ({
    onAdd: (o) =>
      void queue.moveAllToActiveOrBackoffQueue(
        event(resource, ActionType.Add, `${resource}Add`),
        undefined,
        o,
      ),
    onUpdate: (a, b) =>
      void queue.moveAllToActiveOrBackoffQueue(event(resource, ActionType.Update, `${resource}Update`), a, b),
  });
  client.source('persistentvolumeclaims').addHandler(storageHandler('PersistentVolumeClaim'));
  client.source('persistentvolumes').addHandler(storageHandler('PersistentVolume'));
  client.source('storageclasses').addHandler(storageHandler('StorageClass'));

  // The algorithm ------------------------------------------------------------------------------

  function findNodesThatFitPod(
    fwk: Framework,
    state: CycleState,
    pi: PodInfo,
  ): { feasible: NodeInfo[]; fitError: FitError; evaluated: number } {
    const all = cache.list();
    const fitError = new FitError(all.length, new Map(), new Set(), new Set());
    const pre = fwk.runPreFilterPlugins(state, pi, all);
    for (const p of pre.unschedulablePlugins) fitError.unschedulablePlugins.add(p);
    if (!pre.status.isSuccess()) {
      if (!pre.status.isRejected()) throw pre.status.err ?? new Error(pre.status.message());
      for (const ni of all) fitError.statuses.set(ni.name, pre.status);
      fitError.preFilterMsg = pre.status.message();
      if (pre.status.code === Code.Pending) fitError.pendingPlugins.add(pre.status.plugin);
      return { feasible: [], fitError, evaluated: 0 };
    }
    let nodes = all;
    const names = pre.result?.nodeNames;
    if (names) {
      nodes = all.filter((n) => names.has(n.name));
      for (const ni of all) {
        if (!names.has(ni.name))
          fitError.statuses.set(ni.name, Status.unresolvable('node is filtered out by the prefilter result'));
      }
    }
    // A pod nominated by an earlier preemption tries its nominated node first.
    const nominated = pi.pod.status?.nominatedNodeName;
    if (nominated) {
      const ni = cache.get(nominated);
      if (ni && (!names || names.has(nominated))) {
        const s = fwk.runFilterPluginsWithNominatedPods(state, pi, ni);
        if (s.isSuccess()) return { feasible: [ni], fitError, evaluated: 1 };
      }
    }
    const n = nodes.length;
    const want = numFeasibleNodesToFind(fwk.percentageOfNodesToScore, n);
    const feasible: NodeInfo[] = [];
    let processed = 0;
    const start = n > 0 ? nextStartNodeIndex % n : 0;
    for (let i = 0; i < n; i++) {
      const ni = nodes[(start + i) % n]!;
      processed++;
      const s = fwk.runFilterPluginsWithNominatedPods(state, pi, ni);
      if (s.code === Code.Success) {
        feasible.push(ni);
        if (feasible.length >= want) break;
      } else if (s.code === Code.Error) {
        throw s.err ?? new Error(s.message());
      } else {
        fitError.statuses.set(ni.name, s);
        if (s.code === Code.Pending) fitError.pendingPlugins.add(s.plugin);
        else fitError.unschedulablePlugins.add(s.plugin);
      }
    }
    nextStartNodeIndex = n > 0 ? (start + processed) % n : 0;
    return { feasible, fitError, evaluated: processed };
  }

  function selectHost(nodes: readonly NodeInfo[], scores: readonly number[]): string {
    let best = -Infinity;
    let chosen = '';
    let ties = 0;
    for (let i = 0; i < nodes.length; i++) {
      const s = scores[i]!;
      if (s > best) {
        best = s;
        chosen = nodes[i]!.name;
        ties = 1;
      } else if (s === best) {
        ties++;
        if (random() * ties < 1) chosen = nodes[i]!.name;
      }
    }
    return chosen;
  }

  /** The scheduling algorithm for one pod: a host, or a FitError. Throws on internal errors. */
  function schedulePod(fwk: Framework, state: CycleState, pi: PodInfo): ScheduleResult | FitError {
    if (cache.nodeCount() === 0) throw new Error(ERR_NO_NODES_AVAILABLE);
    const { feasible, fitError, evaluated } = findNodesThatFitPod(fwk, state, pi);
    if (feasible.length === 0) return fitError;
    if (feasible.length === 1)
      return { suggestedHost: feasible[0]!.name, evaluatedNodes: evaluated, feasibleNodes: 1 };
    const pre = fwk.runPreScorePlugins(state, pi, feasible);
    if (!pre.isSuccess()) throw pre.err ?? new Error(pre.message());
    const scores =
      fwk.scorePlugins.length > 0 ? fwk.runScorePlugins(state, pi, feasible) : feasible.map(() => 1);
    return {
      suggestedHost: selectHost(feasible, scores),
      evaluatedNodes: evaluated,
      feasibleNodes: feasible.length,
    };
  }

  // Failure handling ---------------------------------------------------------------------------

  function podScheduledCondition(pod: Pod, reason: string, message: string): PodCondition[] | undefined {
    const conds = pod.status?.conditions ?? [];
    const old = conds.find((c) => c.type === 'PodScheduled');
    if (old && old.status === 'False' && old.reason === reason && old.message === message) return undefined;
    const cond: PodCondition = {
      type: 'PodScheduled',
      status: 'False',
      reason,
      message,
      lastProbeTime: undefined,
      lastTransitionTime:
        old && old.status === 'False'
          ? old.lastTransitionTime
          : new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    return [...conds.filter((c) => c.type !== 'PodScheduled'), cond];
  }

  function handleFailure(
    fwk: Framework,
    q: QueuedPodInfo,
    err: FitError | Error | Status,
    nominatedNodeName: string | undefined,
    start: number,
  ): void {
    const pod = q.podInfo.pod;
    let reason = 'Unschedulable';
    let message: string;
    let isError = false;
    q.unschedulablePlugins = new Set();
    q.pendingPlugins = new Set();
    if (err instanceof FitError) {
      message = err.message();
      q.unschedulablePlugins = new Set([...err.unschedulablePlugins].filter((p) => p));
      q.pendingPlugins = new Set([...err.pendingPlugins].filter((p) => p));
      attemptsTotal.inc({ result: 'unschedulable', profile: fwk.profileName });
      attemptDuration.observe((now() - start) / 1000, { result: 'unschedulable', profile: fwk.profileName });
    } else if (err instanceof Status) {
      message = err.message();
      if (err.code === Code.Error) {
        isError = true;
        reason = 'SchedulerError';
      } else if (err.plugin) q.unschedulablePlugins.add(err.plugin);
      attemptsTotal.inc({ result: isError ? 'error' : 'unschedulable', profile: fwk.profileName });
    } else {
      isError = true;
      reason = 'SchedulerError';
      message = err.message;
      attemptsTotal.inc({ result: 'error', profile: fwk.profileName });
    }
    if (isError) log.error('error scheduling pod; retrying', { pod: podName(pod), err: message });
    else log.debug('unable to schedule pod; waiting', { pod: podName(pod), reason: message });

    // Requeue only if the pod still exists unassigned (it may have been deleted or bound meanwhile).
    const current = client.source('pods').get(pod.metadata.namespace, pod.metadata.name ?? '');
    if (current && podKey(current) === q.podInfo.key && !isAssigned(current)) {
      q.podInfo = new PodInfo(current);
      queue.addUnschedulableIfNotPresent(q, isError);
    } else {
      queue.done(pod);
    }
    const target = current ?? pod;
    if (nominatedNodeName !== undefined) {
      if (nominatedNodeName) queue.addNominatedPod(q.podInfo, nominatedNodeName);
      else queue.deleteNominatedPodIfExists(target);
    }
    client.event(target, 'Warning', 'FailedScheduling', message, fwk.profileName);
    const conditions = podScheduledCondition(target, reason, message);
    const nnChanged =
      nominatedNodeName !== undefined && (target.status?.nominatedNodeName ?? '') !== nominatedNodeName;
    if (conditions || nnChanged) {
      const patch: Record<string, unknown> = {};
      if (conditions) patch.conditions = conditions;
      if (nnChanged) patch.nominatedNodeName = nominatedNodeName || null;
      client
        .patchPodStatus(target, patch)
        .catch((e: unknown) => log.warn('updating pod status failed', { pod: podName(pod), err: e }));
    }
  }

  // One pod ------------------------------------------------------------------------------------

  function scheduleOne(q: QueuedPodInfo): void {
    const pod = q.podInfo.pod;
    const fwk = profileOf(pod);
    if (!fwk) {
      queue.done(pod);
      return;
    }
    if (pod.metadata.deletionTimestamp || cache.isAssumed(pod)) {
      queue.done(pod);
      return;
    }
    const start = now();
    const state = new CycleState();
    let result: ScheduleResult | FitError;
    try {
      result = schedulePod(fwk, state, q.podInfo);
    } catch (err) {
      handleFailure(fwk, q, err instanceof Error ? err : new Error(String(err)), undefined, start);
      return;
    }
    if (result instanceof FitError) {
      let nominated: string | undefined;
      if (fwk.postFilterPlugins.length > 0) {
        preemptionAttempts.inc();
        const pf = fwk.runPostFilterPlugins(state, q.podInfo, result.statuses);
        if (pf.status.code === Code.Error)
          log.error('PostFilter failed', { pod: podName(pod), err: pf.status.message() });
        else if (!pf.status.isSuccess()) result.postFilterMsg = pf.status.message();
        nominated = pf.result?.nominatedNodeName;
      }
      handleFailure(fwk, q, result, nominated, start);
      return;
    }
    const host = result.suggestedHost;
    const assumedPod: Pod = { ...pod, spec: { ...pod.spec!, nodeName: host } };
    const assumed = new PodInfo(assumedPod);
    try {
      cache.assumePod(assumed);
    } catch (err) {
      handleFailure(fwk, q, err instanceof Error ? err : new Error(String(err)), undefined, start);
      return;
    }
    const reserve = fwk.runReservePluginsReserve(state, assumed, host);
    if (!reserve.isSuccess()) {
      fwk.runReservePluginsUnreserve(state, assumed, host);
      cache.forgetPod(assumedPod);
      handleFailure(fwk, q, reserve, undefined, start);
      return;
    }
    const permit = fwk.runPermitPlugins(state, assumed, host);
    if (!permit.isSuccess() && permit.code !== Code.Wait) {
      fwk.runReservePluginsUnreserve(state, assumed, host);
      cache.forgetPod(assumedPod);
      handleFailure(fwk, q, permit, undefined, start);
      return;
    }
    queue.deleteNominatedPodIfExists(pod);
    attemptsTotal.inc({ result: 'scheduled', profile: fwk.profileName });
    attemptDuration.observe((now() - start) / 1000, { result: 'scheduled', profile: fwk.profileName });
    const p = bindingCycle(fwk, state, q, assumed, host, start);
    bindings.add(p);
    void p.finally(() => bindings.delete(p));
  }

  async function bindingCycle(
    fwk: Framework,
    state: CycleState,
    q: QueuedPodInfo,
    assumed: PodInfo,
    host: string,
    start: number,
  ): Promise<void> {
    const fail = (s: Status): void => {
      bindingErrors.inc({ plugin: s.plugin || 'unknown' });
      fwk.runReservePluginsUnreserve(state, assumed, host);
      cache.forgetPod(assumed.pod);
      queue.moveAllToActiveOrBackoffQueue(
        event('AssignedPod', ActionType.Delete, 'AssignedPodDelete'),
        assumed.pod,
        undefined,
      );
      handleFailure(fwk, q, s, undefined, start);
    };
    try {
      let s = await fwk.waitOnPermit(assumed);
      if (!s.isSuccess()) return fail(s);
      s = await fwk.runPreBindPlugins(state, assumed, host);
      if (!s.isSuccess()) return fail(s);
      s = await fwk.runBindPlugins(state, assumed, host);
      if (!s.isSuccess()) return fail(s.code === Code.Error ? s : Status.error(new Error(s.message())));
      cache.finishBinding(assumed.pod);
      queue.done(assumed.pod);
      e2eDuration.observe((now() - q.initialAttemptTimestamp) / 1000, {
        attempts: String(Math.min(q.attempts, 16)),
      });
      client.event(
        assumed.pod,
        'Normal',
        'Scheduled',
        `Successfully assigned ${podName(assumed.pod)} to ${host}`,
        fwk.profileName,
      );
      fwk.runPostBindPlugins(state, assumed, host);
    } catch (err) {
      fail(Status.error(err));
    }
  }

  // Running ------------------------------------------------------------------------------------

  let running = false;
  let loopDone: Promise<void> | undefined;
  let elector: LeaderElector | undefined;
  let leading = false;
  let cleanupTimer: NodeJS.Timeout | undefined;
  const abort = new AbortController();
  // One listener per watched collection while the caches sync.
  setMaxListeners(64, abort.signal);

  const yieldToEvents = (): Promise<void> => new Promise((r) => setImmediate(r));

  async function loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let q = await queue.pop();
      // Several pods per turn of the event loop, up to a time budget: in a busy process one pod
      // per turn made the turn's length (every other request and event in it) the scheduling rate.
      // Decisions never wait for events: the cache holds the assumed pods.
      const turnEnds = performance.now() + SCHEDULING_TURN_BUDGET_MS;
      while (q) {
        if (signal.aborted) {
          queue.addUnschedulableIfNotPresent(q, true);
          return;
        }
        try {
          scheduleOne(q);
        } catch (err) {
          log.error('scheduling cycle crashed', { pod: podName(q.podInfo.pod), err });
          queue.addUnschedulableIfNotPresent(q, true);
        }
        q = performance.now() < turnEnds ? queue.tryPop() : undefined;
      }
      // Let watch events and bind responses in before the next pods.
      await yieldToEvents();
    }
  }

  function startLoop(signal: AbortSignal): void {
    if (running) return;
    running = true;
    queue.run();
    cleanupTimer = setInterval(() => {
      const n = cache.cleanupExpiredAssumedPods();
      if (n > 0) {
        expiredAssumed.inc({}, n);
        queue.moveAllToActiveOrBackoffQueue(event('AssignedPod', ActionType.Delete, 'AssignedPodDelete'));
      }
    }, 1000);
    cleanupTimer.unref();
    loopDone = loop(signal).finally(() => {
      running = false;
    });
  }

  const scheduler: Scheduler = {
    queue,
    cache,
    profiles,
    client,
    async start() {
      const synced = await client.start(abort.signal);
      if (!synced) throw new Error('scheduler caches did not sync');
      const le = options.leaderElection ?? config.leaderElection?.leaderElect ?? false;
      if (le) {
        if (!rest) throw new Error('leader election needs a RestClient');
        const leo = typeof le === 'object' ? le : {};
        elector = new LeaderElector({
          client: rest,
          namespace: leo.namespace ?? config.leaderElection?.resourceNamespace ?? 'kube-system',
          name: leo.name ?? config.leaderElection?.resourceName ?? 'kube-scheduler',
          identity,
          leaseDurationMs: leo.leaseDurationMs,
          renewDeadlineMs: leo.renewDeadlineMs,
          retryPeriodMs: leo.retryPeriodMs,
          callbacks: {
            onStartedLeading: (signal) => {
              leading = true;
              log.info('started leading', { identity });
              startLoop(AbortSignal.any([signal, abort.signal]));
            },
            onStoppedLeading: () => {
              leading = false;
              // Stopping gives the lease up on purpose; losing it otherwise is worth a warning.
              if (abort.signal.aborted) log.info('released leadership; scheduling stopped', { identity });
              else log.warn('leader election lost; scheduling stopped', { identity });
            },
          },
        });
        void elector.run();
        return;
      }
      leading = true;
      startLoop(abort.signal);
    },
    async stop() {
      abort.abort();
      queue.close();
      if (cleanupTimer) clearInterval(cleanupTimer);
      for (const fwk of profiles.values()) fwk.rejectAllWaiting('scheduler stopped');
      if (elector) await elector.stop();
      await loopDone;
      await Promise.allSettled([...bindings]);
      await client.stop();
    },
    scheduleNext() {
      const q = queue.tryPop();
      if (!q) return false;
      scheduleOne(q);
      return true;
    },
    async bindingsSettled() {
      while (bindings.size > 0) await Promise.allSettled([...bindings]);
    },
    isLeader: () => leading,
  };
  return scheduler;
}
