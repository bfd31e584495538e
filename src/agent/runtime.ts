// The contract between the pod workers and a container runtime. The pod workers own the pod's
// lifecycle as the API describes it (what should run, when to stop); a runtime owns the sandboxes
// and containers and reports what it observes, in runtime terms. pod-status.ts turns that report
// into the API's PodStatus. Implementations: fake/runtime.ts (simulated nodes, as kwok); the CRI
// runtime for containerd plugs in here too.
import type { Pod } from '../api/generated/types.js';
import type { EventRecorder } from '../client/events.js';

/** What the node the pod runs on gives the runtime to work with. */
export interface NodeRuntimeContext {
  readonly nodeName: string;
  /** The node's primary address (status.hostIP). */
  readonly hostIP: string;
  /** The node's pod CIDR (spec.podCIDR), if it has one. */
  readonly podCIDR?: string;
}

export type ContainerPhase = 'waiting' | 'running' | 'terminated';

export interface ContainerTermination {
  exitCode: number;
  reason: string;
  message?: string;
  signal?: number;
  startedAt: number;
  finishedAt: number;
  containerID: string;
}

/** One container as the runtime sees it (times in ms since the epoch). */
export interface RuntimeContainerStatus {
  name: string;
  /** The image as the runtime resolved it (a normalized reference). */
  image: string;
  /** The image's content address, "<repo>@sha256:<digest>". */
  imageID: string;
  /** "<runtime>://<id>"; absent while nothing was created yet. */
  containerID?: string;
  phase: ContainerPhase;
  /** For waiting: ContainerCreating, CrashLoopBackOff, ... */
  waitingReason?: string;
  waitingMessage?: string;
  startedAt?: number;
  termination?: ContainerTermination;
  lastTermination?: ContainerTermination;
  restartCount: number;
  /** Passes its readiness probe (or has none and runs). */
  ready: boolean;
  /** Passed its startup probe (or has none and runs). */
  started: boolean;
}

/** The runtime's view of a pod. */
export interface RuntimePodStatus {
  /** The sandbox exists and networking is set up (PodReadyToStartContainers). */
  sandboxReady: boolean;
  podIPs: string[];
  initContainers: RuntimeContainerStatus[];
  containers: RuntimeContainerStatus[];
}

export interface PodSyncResult {
  status: RuntimePodStatus;
  /** Sync again after this long (the runtime expects a change then: a start, an exit, a restart). */
  requeueAfterMs?: number;
}

export interface PodKillResult {
  status: RuntimePodStatus;
  /** True once every container has stopped and the sandbox is gone. */
  done: boolean;
  /** Not done yet: look again after this long. */
  requeueAfterMs?: number;
}

/** A pod the runtime has resources for, whatever the API says. */
export interface RunningPod {
  uid: string;
  namespace: string;
  name: string;
  nodeName: string;
}

export interface PodRuntime {
  /** The runtime type ("fake", "containerd"). */
  readonly type: string;
  /** For status.nodeInfo.containerRuntimeVersion: "<type>://<version>". */
  version(): string;
  /** Brings the pod towards its spec: creates the sandbox and starts, restarts or reports containers. */
  syncPod(pod: Pod, node: NodeRuntimeContext): Promise<PodSyncResult>;
  /** Stops the pod's containers (gracePeriodSeconds for them to exit) and removes its sandbox. */
  killPod(pod: Pod, gracePeriodSeconds: number, node: NodeRuntimeContext): Promise<PodKillResult>;
  /** Pods the runtime holds resources for (to find orphans at start). */
  listRunning(): Promise<RunningPod[]>;
  /** Releases whatever is left of a pod the API no longer has (no grace). */
  removePod(uid: string): Promise<void>;
  /**
   * A finished pod (Succeeded or Failed): releases what it holds (its sandbox and address) but
   * keeps its containers and logs until it is deleted. Without it, removePod is used.
   */
  stopPod?(uid: string): Promise<void>;
  /** Where a runtime that records kubelet's container events (Pulling, Created, Started, BackOff ...) sends them. */
  setEventRecorder?(recorder: EventRecorder): void;
}
