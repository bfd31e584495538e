// A simulated container runtime, as kwok simulates nodes: no processes, only the states a real
// runtime would report, on a timeline. A pod's sandbox and containers come up startDelayMs after
// the pod is first seen; containers of pods whose restartPolicy is not Always exit after
// runDurationMs with exitCode (per pod: the annotations fake.k8ts.io/run-duration-seconds and
// fake.k8ts.io/exit-code); under OnFailure a failed container restarts after the kubelet's
// back-off (10 s doubling to 5 min). Stopping takes stopDelayMs, capped by the grace period; a
// container that outlives its grace period is killed (exit code 137).
//
// Everything is a function of the pod's timeline and the clock, so the runtime can rebuild its
// state from the pod's status after a restart (adoption): a pod that runs keeps its start times,
// container IDs, restart counts and address.
//
// Running containers also use resources, synthetically but deterministically (usage.ts).
import { createHash } from 'node:crypto';
import type { Container, ContainerStatus, Pod } from '../../api/generated/types.js';
import type {
  ContainerTermination,
  NodeRuntimeContext,
  PodKillResult,
  PodRuntime,
  PodSyncResult,
  RunningPod,
  RuntimeContainerStatus,
  RuntimePodStatus,
} from '../runtime.js';
import { parseTime } from '../support.js';
import { claimVolumes, type ClaimCheck } from './claims.js';
import { NodeIpam } from './ipam.js';
import { SimulatedUsage } from './usage.js';

export const FAKE_RUNTIME_VERSION = 'fake://k8ts';
export const ANNOTATION_RUN_DURATION = 'fake.k8ts.io/run-duration-seconds';
export const ANNOTATION_EXIT_CODE = 'fake.k8ts.io/exit-code';
export { ANNOTATION_CPU_USAGE, ANNOTATION_MEMORY_USAGE } from './usage.js';

export interface FakeRuntimeOptions {
  /** From first sight of a pod to its containers running (default 1000 ms). */
  startDelayMs?: number;
  /** How long containers of pods with restartPolicy Never/OnFailure run before exiting (default 5000 ms). */
  runDurationMs?: number;
  /** Their exit code (default 0). */
  exitCode?: number;
  /** How long containers take to stop when asked (default 0: at once); capped by the grace period. */
  stopDelayMs?: number;
  /** The share of its requests (else limits) a running container uses (default 0.5). */
  usageFraction?: number;
  /** Checks a pod's persistentVolumeClaim volumes before it starts (default: none are checked). */
  claimCheck?: ClaimCheck;
  /** Clock (tests). */
  now?: () => number;
}

/** How often a pod whose claims are not bound looks again. */
const CLAIM_RETRY_MS = 1000;

/** A pod held in ContainerCreating because its claims cannot be mounted yet. */
function waitingForVolumes(pod: Pod, message: string): RuntimePodStatus {
  const waiting = (c: Container): RuntimeContainerStatus => ({
    name: c.name,
    image: normalizeImage(c.image ?? ''),
    imageID: '',
    phase: 'waiting',
    waitingReason: 'ContainerCreating',
    waitingMessage: message,
    restartCount: 0,
    ready: false,
    started: false,
  });
  return {
    sandboxReady: false,
    podIPs: [],
    initContainers: (pod.spec?.initContainers ?? []).map(waiting),
    containers: (pod.spec?.containers ?? []).map(waiting),
  };
}

interface FakeContainer {
  name: string;
  image: string;
  imageID: string;
  sidecar: boolean;
  restartCount: number;
  containerID?: string;
  startedAt?: number;
  termination?: ContainerTermination;
  lastTermination?: ContainerTermination;
  restartAt?: number;
}

/** One running container's simulated usage, in the terms of kubelet's stats summary. */
export interface FakeContainerUsage {
  readonly name: string;
  /** When the container (this instance of it) started, ms since the epoch. */
  readonly startedAt: number;
  /** CPU time since it started. */
  readonly usageCoreNanoSeconds: number;
  /** Its (constant) CPU rate. */
  readonly nanoCores: number;
  readonly workingSetBytes: number;
}

export interface FakePodUsage {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string;
  readonly startedAt: number;
  readonly containers: FakeContainerUsage[];
}

interface FakePod {
  uid: string;
  namespace: string;
  name: string;
  nodeName: string;
  runningAt: number;
  podIP?: string;
  ipam?: NodeIpam;
  init: FakeContainer[];
  containers: FakeContainer[];
  stopAt?: number;
  killed: boolean;
  stopped: boolean;
}

const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A normalized image reference, as containerd reports it (docker.io/library/nginx:latest). */
export function normalizeImage(image: string): string {
  let ref = image;
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasDomain) ref = `docker.io/${slash < 0 ? 'library/' : ''}${ref}`;
  const lastSlash = ref.lastIndexOf('/');
  const name = ref.slice(lastSlash + 1);
  if (!name.includes(':') && !name.includes('@')) ref += ':latest';
  return ref;
}

function imageIdOf(image: string): string {
  const normalized = normalizeImage(image);
  const at = normalized.indexOf('@');
  if (at >= 0) return normalized;
  const lastSlash = normalized.lastIndexOf('/');
  const colon = normalized.indexOf(':', lastSlash + 1);
  const repo = colon >= 0 ? normalized.slice(0, colon) : normalized;
  return `${repo}@sha256:${sha256(normalized)}`;
}

function backoffMs(restartCount: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, restartCount));
}

export class FakeRuntime implements PodRuntime {
  readonly type = 'fake';
  private readonly pods = new Map<string, FakePod>();
  private readonly ipams = new Map<string, NodeIpam>();
  private readonly now: () => number;
  private readonly startDelayMs: number;
  private readonly runDurationMs: number;
  private readonly exitCode: number;
  private readonly stopDelayMs: number;
  private readonly claimCheck: ClaimCheck | undefined;
  private readonly simulated: SimulatedUsage;

  constructor(opts: FakeRuntimeOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.startDelayMs = opts.startDelayMs ?? 1000;
    this.runDurationMs = opts.runDurationMs ?? 5000;
    this.exitCode = opts.exitCode ?? 0;
    this.stopDelayMs = opts.stopDelayMs ?? 0;
    this.claimCheck = opts.claimCheck;
    this.simulated = new SimulatedUsage(opts.usageFraction);
  }

  /** The simulated usage of the running containers of the pods on one node (all nodes: undefined). */
  /** Usage at `now` (default: this runtime's clock); a caller stamping samples passes its own instant. */
  usage(nodeName?: string, now = this.now()): FakePodUsage[] {
    const out: FakePodUsage[] = [];
    for (const p of this.pods.values()) {
      if (p.stopped || now < p.runningAt || (nodeName !== undefined && p.nodeName !== nodeName)) continue;
      const containers: FakeContainerUsage[] = [];
      for (const c of [...p.init, ...p.containers]) {
        if (c.startedAt === undefined || c.termination !== undefined || c.startedAt > now) continue;
        containers.push({
          name: c.name,
          startedAt: c.startedAt,
          ...this.simulated.sample(p.uid, c.name, c.startedAt, now),
        });
      }
      if (containers.length === 0) continue;
      out.push({
        uid: p.uid,
        namespace: p.namespace,
        name: p.name,
        nodeName: p.nodeName,
        startedAt: p.runningAt,
        containers,
      });
    }
    return out;
  }

  version(): string {
    return FAKE_RUNTIME_VERSION;
  }

  /** Pods the runtime holds state for. */
  get size(): number {
    return this.pods.size;
  }

  async syncPod(pod: Pod, node: NodeRuntimeContext): Promise<PodSyncResult> {
    // A pod that has not started waits for its claims to be bound, as kubelet's volume manager.
    if (this.claimCheck && !this.pods.has(pod.metadata.uid ?? '') && claimVolumes(pod).length > 0) {
      const why = await this.claimCheck(pod);
      if (why !== undefined) return { status: waitingForVolumes(pod, why), requeueAfterMs: CLAIM_RETRY_MS };
    }
    return this.syncPodNow(pod, node);
  }

  /** syncPod without the promise (the fake does no I/O; the pod workers call this in bulk). */
  syncPodNow(pod: Pod, node: NodeRuntimeContext): PodSyncResult {
    const now = this.now();
    const state = this.stateFor(pod, node, now);
    this.simulated.observe(pod, now);
    if (state.stopped) return { status: this.report(state, now) };
    if (now < state.runningAt)
      return { status: this.report(state, now), requeueAfterMs: state.runningAt - now };
    if (state.podIP === undefined) this.assignIp(state, node, pod.spec?.hostNetwork === true);
    const policy = pod.spec?.restartPolicy ?? 'Always';
    const runFor = this.runDurationFor(pod);
    const exitCode = this.exitCodeFor(pod);
    let next = Infinity;
    for (const c of state.init) {
      if (c.startedAt !== undefined) continue;
      c.startedAt = state.runningAt;
      c.containerID = this.containerId(state.uid, c);
      if (!c.sidecar)
        c.termination = {
          exitCode: 0,
          reason: 'Completed',
          startedAt: state.runningAt,
          finishedAt: state.runningAt,
          containerID: c.containerID,
        };
    }
    for (const c of state.containers) {
      if (c.startedAt === undefined) {
        c.startedAt = state.runningAt;
        c.containerID = this.containerId(state.uid, c);
      }
      if (policy === 'Always') continue;
      if (c.termination === undefined) {
        const finish = c.startedAt + runFor;
        if (now < finish) {
          next = Math.min(next, finish);
          continue;
        }
        c.termination = {
          exitCode,
          reason: exitCode === 0 ? 'Completed' : 'Error',
          startedAt: c.startedAt,
          finishedAt: finish,
          containerID: c.containerID ?? '',
        };
        if (policy === 'OnFailure' && exitCode !== 0) c.restartAt = finish + backoffMs(c.restartCount);
      }
      // Restarts due by now (a long outage may owe several).
      while (c.restartAt !== undefined && c.termination !== undefined) {
        if (now < c.restartAt) {
          next = Math.min(next, c.restartAt);
          break;
        }
        const startedAt = c.restartAt;
        c.lastTermination = c.termination;
        c.termination = undefined;
        c.restartAt = undefined;
        c.restartCount++;
        c.startedAt = startedAt;
        c.containerID = this.containerId(state.uid, c);
        const finish = startedAt + runFor;
        if (now < finish) {
          next = Math.min(next, finish);
          break;
        }
        c.termination = {
          exitCode,
          reason: 'Error',
          startedAt,
          finishedAt: finish,
          containerID: c.containerID,
        };
        c.restartAt = finish + backoffMs(c.restartCount);
      }
    }
    const result: PodSyncResult = { status: this.report(state, now) };
    if (next !== Infinity) result.requeueAfterMs = Math.max(0, next - now);
    return result;
  }

  killPod(pod: Pod, gracePeriodSeconds: number, node: NodeRuntimeContext): Promise<PodKillResult> {
    return Promise.resolve(this.killPodNow(pod, gracePeriodSeconds, node));
  }

  killPodNow(pod: Pod, gracePeriodSeconds: number, node: NodeRuntimeContext): PodKillResult {
    const now = this.now();
    const state = this.stateFor(pod, node, now);
    if (state.stopped) return { status: this.report(state, now), done: true };
    const graceMs = Math.max(0, gracePeriodSeconds) * 1000;
    if (state.stopAt === undefined) {
      state.stopAt = now + Math.min(this.stopDelayMs, graceMs);
      state.killed = this.stopDelayMs > graceMs;
    }
    if (now < state.stopAt)
      return { status: this.report(state, now), done: false, requeueAfterMs: state.stopAt - now };
    for (const c of [...state.init, ...state.containers]) {
      if (c.startedAt === undefined || c.termination !== undefined) {
        c.restartAt = undefined;
        continue;
      }
      c.termination = {
        exitCode: state.killed ? 137 : 0,
        reason: state.killed ? 'Error' : 'Completed',
        startedAt: c.startedAt,
        finishedAt: state.stopAt,
        containerID: c.containerID ?? '',
      };
      if (state.killed) c.termination.signal = 9;
    }
    this.stop(state);
    return { status: this.report(state, now), done: true };
  }

  listRunning(): Promise<RunningPod[]> {
    const out: RunningPod[] = [];
    for (const p of this.pods.values())
      if (!p.stopped) out.push({ uid: p.uid, namespace: p.namespace, name: p.name, nodeName: p.nodeName });
    return Promise.resolve(out);
  }

  removePod(uid: string): Promise<void> {
    const state = this.pods.get(uid);
    if (state) {
      this.stop(state);
      this.pods.delete(uid);
    }
    this.simulated.forget(uid);
    return Promise.resolve();
  }

  /** Releases the address and marks the sandbox gone; the state stays for reporting. */
  private stop(state: FakePod): void {
    if (state.podIP !== undefined && state.ipam) state.ipam.release(state.podIP);
    state.ipam = undefined;
    state.stopped = true;
  }

  private ipamFor(node: NodeRuntimeContext): NodeIpam | undefined {
    if (!node.podCIDR) return undefined;
    const key = `${node.nodeName}|${node.podCIDR}`;
    let ipam = this.ipams.get(key);
    if (!ipam) {
      ipam = new NodeIpam(node.podCIDR);
      this.ipams.set(key, ipam);
    }
    return ipam;
  }

  private assignIp(state: FakePod, node: NodeRuntimeContext, hostNetwork: boolean): void {
    const ipam = hostNetwork ? undefined : this.ipamFor(node);
    if (!ipam) {
      state.podIP = node.hostIP;
      return;
    }
    state.podIP = ipam.allocate();
    state.ipam = ipam;
  }

  private runDurationFor(pod: Pod): number {
    const v = Number(pod.metadata.annotations?.[ANNOTATION_RUN_DURATION]);
    return pod.metadata.annotations?.[ANNOTATION_RUN_DURATION] !== undefined && Number.isFinite(v) && v >= 0
      ? v * 1000
      : this.runDurationMs;
  }

  private exitCodeFor(pod: Pod): number {
    const raw = pod.metadata.annotations?.[ANNOTATION_EXIT_CODE];
    const v = Number(raw);
    return raw !== undefined && Number.isInteger(v) && v >= 0 && v <= 255 ? v : this.exitCode;
  }

  private containerId(uid: string, c: FakeContainer): string {
    return `fake://${sha256(`${uid}/${c.name}/${c.restartCount}`)}`;
  }

  private newContainer(spec: Container, sidecar: boolean): FakeContainer {
    const image = normalizeImage(spec.image ?? '');
    return { name: spec.name, image, imageID: imageIdOf(spec.image ?? ''), sidecar, restartCount: 0 };
  }

  private stateFor(pod: Pod, node: NodeRuntimeContext, now: number): FakePod {
    const uid = pod.metadata.uid ?? '';
    const existing = this.pods.get(uid);
    if (existing) return existing;
    const state: FakePod = {
      uid,
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      nodeName: node.nodeName,
      runningAt: now + this.startDelayMs,
      init: (pod.spec?.initContainers ?? []).map((c) => this.newContainer(c, c.restartPolicy === 'Always')),
      containers: (pod.spec?.containers ?? []).map((c) => this.newContainer(c, false)),
      killed: false,
      stopped: false,
    };
    this.adopt(state, pod, node);
    this.pods.set(uid, state);
    return state;
  }

  /** Rebuilds a pod's timeline from the status a fake runtime wrote before (after a restart). */
  private adopt(state: FakePod, pod: Pod, node: NodeRuntimeContext): void {
    const st = pod.status;
    const statuses = [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])];
    const ours = statuses.some((s) => s.containerID?.startsWith('fake://'));
    if (!ours) return;
    const byName = new Map<string, ContainerStatus>(statuses.map((s) => [s.name, s]));
    let earliest = Infinity;
    for (const c of [...state.init, ...state.containers]) {
      const s = byName.get(c.name);
      if (!s) continue;
      c.restartCount = s.restartCount ?? 0;
      if (s.containerID) c.containerID = s.containerID;
      const running = parseTime(s.state?.running?.startedAt);
      const term = s.state?.terminated;
      const last = s.lastState?.terminated;
      const toTermination = (t: NonNullable<typeof term>): ContainerTermination => ({
        exitCode: t.exitCode,
        reason: t.reason ?? (t.exitCode === 0 ? 'Completed' : 'Error'),
        startedAt: parseTime(t.startedAt) ?? 0,
        finishedAt: parseTime(t.finishedAt) ?? 0,
        containerID: t.containerID ?? s.containerID ?? '',
      });
      if (last) c.lastTermination = toTermination(last);
      if (running !== undefined) {
        c.startedAt = running;
      } else if (term) {
        c.termination = toTermination(term);
        c.startedAt = c.termination.startedAt;
      } else if (c.lastTermination && s.state?.waiting) {
        // Waiting to restart after a failure.
        c.termination = c.lastTermination;
        c.lastTermination = undefined;
        c.restartCount = Math.max(0, c.restartCount - 1);
        c.startedAt = c.termination.startedAt;
        c.restartAt = c.termination.finishedAt + backoffMs(c.restartCount);
      }
      if (c.startedAt !== undefined) earliest = Math.min(earliest, c.startedAt);
    }
    if (earliest !== Infinity) state.runningAt = Math.min(state.runningAt, earliest);
    const ip = st?.podIP;
    if (ip && ip !== node.hostIP) {
      const ipam = this.ipamFor(node);
      if (ipam?.reserve(ip)) state.ipam = ipam;
      state.podIP = ip;
    } else if (ip) {
      state.podIP = ip;
    }
    if (st?.phase === 'Succeeded' || st?.phase === 'Failed') this.stop(state);
  }

  private report(state: FakePod, now: number): RuntimePodStatus {
    const running = !state.stopped && now >= state.runningAt;
    const one = (c: FakeContainer): RuntimeContainerStatus => {
      const base = { name: c.name, image: c.image, imageID: c.imageID, restartCount: c.restartCount };
      if (c.startedAt === undefined) {
        return {
          ...base,
          imageID: running ? c.imageID : '',
          phase: 'waiting',
          waitingReason: 'ContainerCreating',
          ready: false,
          started: false,
        };
      }
      if (c.termination) {
        if (c.restartAt !== undefined && !state.stopped) {
          return {
            ...base,
            containerID: c.containerID,
            phase: 'waiting',
            waitingReason: 'CrashLoopBackOff',
            waitingMessage: `back-off ${Math.round(backoffMs(c.restartCount) / 1000)}s restarting failed container=${c.name} pod=${state.name}_${state.namespace}(${state.uid})`,
            lastTermination: c.termination,
            ready: false,
            started: false,
          };
        }
        return {
          ...base,
          containerID: c.containerID,
          phase: 'terminated',
          termination: c.termination,
          lastTermination: c.lastTermination,
          ready: false,
          started: false,
        };
      }
      return {
        ...base,
        containerID: c.containerID,
        phase: 'running',
        startedAt: c.startedAt,
        lastTermination: c.lastTermination,
        ready: true,
        started: true,
      };
    };
    return {
      sandboxReady: running,
      podIPs: state.podIP !== undefined ? [state.podIP] : [],
      initContainers: state.init.map(one),
      containers: state.containers.map(one),
    };
  }
}
