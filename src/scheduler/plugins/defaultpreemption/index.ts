// DefaultPreemption (PostFilter): when a pod fits nowhere, find the node where evicting the fewest
// and least important lower-priority pods makes it fit, respecting PodDisruptionBudgets where it
// can; delete those victims and nominate the node for the pod.
import type { Pod, PodDisruptionBudget } from '../../../api/generated/types.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { fitErrorMessage } from '../../framework/fit-error.js';
import type {
  Handle,
  NodeToStatus,
  PluginArgs,
  PostFilterPlugin,
  PostFilterResult,
} from '../../framework/interfaces.js';
import { podName, type NodeInfo, type PodInfo } from '../../framework/node-info.js';
import { Code, Status } from '../../framework/status.js';
import { compileLabelSelector } from '../../util/selectors.js';
import { DefaultPreemption as NAME } from '../names/index.js';

export const MSG_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const MSG_NO_VICTIMS = 'No preemption victims found for incoming pod';

export interface DefaultPreemptionArgs {
  minCandidateNodesPercentage?: number;
  minCandidateNodesAbsolute?: number;
}

export interface Candidate {
  nodeName: string;
  victims: PodInfo[];
  numPDBViolations: number;
}

function startTime(pod: Pod): number {
  const t = pod.status?.startTime ?? pod.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** upstream's MoreImportantPod: higher priority, then started earlier. */
export function moreImportant(a: PodInfo, b: PodInfo): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return startTime(a.pod) < startTime(b.pod);
}

/** Splits pods into those whose eviction would violate a PodDisruptionBudget and the rest, keeping order. */
export function filterPodsWithPDBViolation(
  pods: readonly PodInfo[],
  pdbs: readonly PodDisruptionBudget[],
): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((p) => {
    const sel = p.spec?.selector;
    const empty =
      !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
    return empty ? undefined : compileLabelSelector(sel);
  });
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pi of pods) {
    const pod = pi.pod;
    let violated = false;
    const labels = pod.metadata.labels;
    if (labels && Object.keys(labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        if (pdb.metadata.namespace !== pod.metadata.namespace) return;
        const sel = selectors[i];
        if (!sel || !sel(labels)) return;
        if (pdb.status?.disruptedPods && (pod.metadata.name ?? '') in pdb.status.disruptedPods) return;
        allowed[i]!--;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

/** Picks the best candidate with upstream's ordered criteria. */
export function pickOneNodeForPreemption(candidates: readonly Candidate[]): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const OFFSET = 2 ** 31;
  const narrow = (list: Candidate[], key: (c: Candidate) => number, prefer: 'min' | 'max'): Candidate[] => {
    let best = prefer === 'min' ? Infinity : -Infinity;
    let out: Candidate[] = [];
    for (const c of list) {
      const k = key(c);
      if ((prefer === 'min' && k < best) || (prefer === 'max' && k > best)) {
        best = k;
        out = [c];
      } else if (k === best) out.push(c);
    }
    return out;
  };
  let list = [...candidates];
  const withVictims = list.filter((c) => c.victims.length > 0);
  if (withVictims.length < list.length) return list.find((c) => c.victims.length === 0);
  list = narrow(list, (c) => c.numPDBViolations, 'min');
  if (list.length > 1) list = narrow(list, (c) => c.victims[0]!.priority, 'min');
  if (list.length > 1)
    list = narrow(list, (c) => c.victims.reduce((s, v) => s + v.priority + OFFSET, 0), 'min');
  if (list.length > 1) list = narrow(list, (c) => c.victims.length, 'min');
  if (list.length > 1) {
    list = narrow(
      list,
      (c) => {
        const top = c.victims[0]!.priority;
        let earliest = Infinity;
        for (const v of c.victims) if (v.priority === top) earliest = Math.min(earliest, startTime(v.pod));
        return earliest;
      },
      'max',
    );
  }
  return list[0];
}

export class DefaultPreemptionPlugin implements PostFilterPlugin {
  readonly name = NAME;
  private readonly minPercentage: number;
  private readonly minAbsolute: number;

  constructor(
    private readonly handle: Handle,
    args: DefaultPreemptionArgs = {},
  ) {
    this.minPercentage = args.minCandidateNodesPercentage ?? 10;
    this.minAbsolute = args.minCandidateNodesAbsolute ?? 100;
  }

  postFilter(
    state: CycleState,
    pod: PodInfo,
    statuses: NodeToStatus,
  ): { result?: PostFilterResult; status: Status } {
    const eligible = this.eligible(pod, statuses);
    if (eligible !== undefined) return { status: Status.unschedulable(`preemption: ${eligible}`) };
    const allNodes = this.handle.snapshot().list();
    const nodeStatuses = new Map<string, Status>();
    const potential: NodeInfo[] = [];
    for (const ni of allNodes) {
      const s = statuses.get(ni.name);
      if (s && s.code === Code.UnschedulableAndUnresolvable)
        nodeStatuses.set(ni.name, Status.unresolvable(MSG_NOT_HELPFUL));
      else potential.push(ni);
    }
    const candidates: Candidate[] = [];
    if (potential.length > 0) {
      const pdbs = this.handle.client.source('poddisruptionbudgets').list();
      const wanted = this.numCandidates(potential.length);
      const offset = Math.floor(Math.random() * potential.length);
      for (let i = 0; i < potential.length; i++) {
        const ni = potential[(offset + i) % potential.length]!;
        const r = this.selectVictimsOnNode(state.clone(), pod, ni.clone(), pdbs);
        if (r.status.isSuccess() && r.victims.length > 0) {
          candidates.push({ nodeName: ni.name, victims: r.victims, numPDBViolations: r.numPDBViolations });
          if (candidates.length >= wanted) break;
        } else if (!r.status.isSuccess()) {
          nodeStatuses.set(ni.name, r.status);
        } else {
          nodeStatuses.set(ni.name, Status.unresolvable(MSG_NO_VICTIMS));
        }
      }
    }
    const best = pickOneNodeForPreemption(candidates);
    if (!best) {
      const msg = fitErrorMessage(allNodes.length, nodeStatuses, '');
      return { result: { nominatedNodeName: '' }, status: Status.unschedulable(`preemption: ${msg}`) };
    }
    this.prepareCandidate(best, pod);
    return { result: { nominatedNodeName: best.nodeName }, status: Status.SUCCESS };
  }

  /** undefined when the pod may preempt; otherwise why not. */
  private eligible(pod: PodInfo, statuses: NodeToStatus): string | undefined {
    if (pod.pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      const s = statuses.get(nominated);
      if (s && s.code === Code.UnschedulableAndUnresolvable) return undefined;
      const ni = this.handle.snapshot().get(nominated);
      if (ni) {
        for (const p of ni.pods) {
          if (p.pod.metadata.deletionTimestamp && p.priority < pod.priority) {
            return 'not eligible due to a terminating pod on the nominated node.';
          }
        }
      }
    }
    return undefined;
  }

  private numCandidates(numNodes: number): number {
    let n = Math.trunc((numNodes * this.minPercentage) / 100);
    if (n < this.minAbsolute) n = this.minAbsolute;
    return Math.min(n, numNodes);
  }

  /** Finds the smallest set of victims on a node (a private copy) that lets the pod fit. */
  selectVictimsOnNode(
    state: CycleState,
    pod: PodInfo,
    nodeInfo: NodeInfo,
    pdbs: readonly PodDisruptionBudget[],
  ): { victims: PodInfo[]; numPDBViolations: number; status: Status } {
    const h = this.handle;
    const remove = (pi: PodInfo): void => {
      nodeInfo.removePod(pi.key);
      h.runPreFilterExtensionRemovePod(state, pod, pi, nodeInfo);
    };
    const add = (pi: PodInfo): void => {
      nodeInfo.addPodInfo(pi);
      h.runPreFilterExtensionAddPod(state, pod, pi, nodeInfo);
    };
    const potential: PodInfo[] = [];
    for (const pi of [...nodeInfo.pods]) {
      if (pi.priority < pod.priority) {
        potential.push(pi);
        remove(pi);
      }
    }
    if (potential.length === 0)
      return { victims: [], numPDBViolations: 0, status: Status.unresolvable(MSG_NO_VICTIMS) };
    const fits = h.runFilterPluginsWithNominatedPods(state, pod, nodeInfo);
    if (!fits.isSuccess()) return { victims: [], numPDBViolations: 0, status: fits };
    potential.sort((a, b) => (moreImportant(a, b) ? -1 : moreImportant(b, a) ? 1 : 0));
    const { violating, nonViolating } = filterPodsWithPDBViolation(potential, pdbs);
    const victims: PodInfo[] = [];
    let numPDBViolations = 0;
    const reprieve = (pi: PodInfo): boolean => {
      add(pi);
      const ok = h.runFilterPluginsWithNominatedPods(state, pod, nodeInfo).isSuccess();
      if (!ok) {
        remove(pi);
        victims.push(pi);
      }
      return ok;
    };
    for (const pi of violating) if (!reprieve(pi)) numPDBViolations++;
    for (const pi of nonViolating) reprieve(pi);
    victims.sort((a, b) => (moreImportant(a, b) ? -1 : moreImportant(b, a) ? 1 : 0));
    return { victims, numPDBViolations, status: Status.SUCCESS };
  }

  /** Deletes the victims and clears lower-priority nominations on the node (API calls run in the background). */
  private prepareCandidate(c: Candidate, pod: PodInfo): void {
    const h = this.handle;
    for (const v of c.victims) {
      h.client.event(
        v.pod,
        'Normal',
        'Preempted',
        `Preempted by pod ${pod.pod.metadata.uid ?? podName(pod.pod)} on node ${c.nodeName}`,
        h.profileName,
      );
      // As upstream: mark the victim with a DisruptionTarget condition, then delete it.
      const conditions = [
        ...(v.pod.status?.conditions ?? []).filter((cond) => cond.type !== 'DisruptionTarget'),
        {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'PreemptionByScheduler',
          message: `${h.profileName}: preempting to accommodate a higher priority pod`,
          lastTransitionTime: new Date(h.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        },
      ];
      h.client
        .patchPodStatus(v.pod, { conditions })
        .catch((err: unknown) =>
          h.log.debug('adding the DisruptionTarget condition failed', { pod: podName(v.pod), err }),
        )
        .then(() => h.client.deletePod(v.pod))
        .catch((err: unknown) =>
          h.log.warn('deleting preemption victim failed', { pod: podName(v.pod), err }),
        );
    }
    const nominator = h.nominator();
    for (const other of [...nominator.nominatedPodsForNode(c.nodeName)]) {
      if (other.priority >= pod.priority || other.key === pod.key) continue;
      nominator.deleteNominatedPodIfExists(other.pod);
      h.client
        .patchPodStatus(other.pod, { nominatedNodeName: null })
        .catch((err: unknown) =>
          h.log.warn('clearing nominated node failed', { pod: podName(other.pod), err }),
        );
    }
  }
}

export function newDefaultPreemption(args: PluginArgs | undefined, handle: Handle): DefaultPreemptionPlugin {
  return new DefaultPreemptionPlugin(handle, args ?? {});
}
