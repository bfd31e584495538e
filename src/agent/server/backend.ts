// What the node agent's HTTPS server needs from the node: its pods, container logs, the runtime's
// streaming URLs for exec, attach and port-forward, and resource usage. The CRI implementation is
// cri-backend.ts; tests can supply their own.
import type { Pod } from '../../api/generated/types.js';

export interface ContainerLogOptions {
  readonly follow?: boolean;
  readonly previous?: boolean;
  readonly tailLines?: number;
  /** Only lines at or after this time (ms since the epoch). */
  readonly sinceMs?: number;
  readonly timestamps?: boolean;
  readonly limitBytes?: number;
  /** Aborted when the caller goes away (ends a follow). */
  readonly signal?: AbortSignal;
}

export interface StreamOptions {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

/** A failure the server reports with this HTTP code and message (as kubelet's plain-text errors). */
export class NodeRequestError extends Error {
  override readonly name = 'NodeRequestError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Usage figures in the shape of kubelet's stats/summary API (stats.k8s.io/v1alpha1 Summary). */
export interface CpuStats {
  readonly time: string;
  readonly usageNanoCores?: number;
  readonly usageCoreNanoSeconds?: number;
}

export interface MemoryStats {
  readonly time: string;
  readonly availableBytes?: number;
  readonly usageBytes?: number;
  readonly workingSetBytes?: number;
  readonly rssBytes?: number;
}

export interface ContainerStatsSummary {
  readonly name: string;
  readonly startTime: string;
  readonly cpu?: CpuStats;
  readonly memory?: MemoryStats;
  readonly rootfs?: { readonly time: string; readonly usedBytes?: number; readonly inodesUsed?: number };
}

export interface PodStatsSummary {
  readonly podRef: { readonly name: string; readonly namespace: string; readonly uid: string };
  readonly startTime: string;
  readonly containers: ContainerStatsSummary[];
  readonly cpu?: CpuStats;
  readonly memory?: MemoryStats;
}

export interface StatsSummary {
  readonly node: {
    readonly nodeName: string;
    readonly startTime: string;
    readonly cpu?: CpuStats;
    readonly memory?: MemoryStats;
    readonly fs?: {
      readonly time: string;
      readonly availableBytes?: number;
      readonly capacityBytes?: number;
      readonly usedBytes?: number;
    };
  };
  readonly pods: PodStatsSummary[];
}

/** Machine facts for /spec (a subset of cadvisor's MachineInfo, with its JSON names). */
export interface MachineSpec {
  readonly num_cores: number;
  readonly memory_capacity: number;
  readonly machine_id: string;
  readonly system_uuid: string;
  readonly boot_id: string;
  readonly cpu_frequency_khz: number;
}

export interface NodeStreamingBackend {
  readonly nodeName: string;
  /** The pods bound to this node, as the agent knows them. */
  pods(): Promise<Pod[]>;
  /** A container's log; throws NodeRequestError when there is none to read. */
  logs(
    uid: string,
    container: string,
    opts: ContainerLogOptions,
  ): Promise<AsyncIterable<string> | Iterable<string>>;
  /** The runtime's streaming URL for an exec session. */
  exec(uid: string, container: string, command: readonly string[], streams: StreamOptions): Promise<string>;
  /** The runtime's streaming URL for attaching to a container's main process. */
  attach(uid: string, container: string, streams: StreamOptions): Promise<string>;
  /** The runtime's streaming URL for forwarding ports of a pod's sandbox. */
  portForward(uid: string, ports: readonly number[]): Promise<string>;
  stats(): Promise<StatsSummary>;
  spec(): Promise<MachineSpec>;
}
