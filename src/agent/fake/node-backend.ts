// The node API's backend for a node on the simulated runtime: usage statistics (stats/summary and
// metrics/resource, what the API server's metrics.k8s.io reads) from the runtime's synthetic usage.
// There are no processes, so logs, exec, attach and port-forward are refused.
import { cpus, totalmem } from 'node:os';
import type { Pod } from '../../api/generated/types.js';
import {
  NodeRequestError,
  type ContainerStatsSummary,
  type MachineSpec,
  type NodeStreamingBackend,
  type PodStatsSummary,
  type StatsSummary,
} from '../server/backend.js';
import type { FakeRuntime } from './runtime.js';

export interface FakeNodeBackendOptions {
  readonly nodeName: string;
  readonly runtime: FakeRuntime;
  /** The pods bound to this node. */
  readonly pods: () => Promise<Pod[]>;
  /** What the node itself uses besides its pods (default 100m CPU and 256 MiB). */
  readonly systemNanoCores?: number;
  readonly systemMemoryBytes?: number;
  readonly now?: () => number;
}

const DEFAULT_SYSTEM_NANO_CORES = 100_000_000;
const DEFAULT_SYSTEM_MEMORY_BYTES = 256 * 1024 * 1024;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class FakeNodeBackend implements NodeStreamingBackend {
  readonly nodeName: string;
  private readonly runtime: FakeRuntime;
  private readonly listPods: () => Promise<Pod[]>;
  private readonly systemNanoCores: number;
  private readonly systemMemoryBytes: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  /**
   * The node's CPU counter: integrated over the rate at each read, so that it never goes back
   * when pods end (their own counters vanish with them, as a real node's cgroups do).
   */
  private cpu: { at: number; nanoSeconds: number; nanoCores: number };

  constructor(opts: FakeNodeBackendOptions) {
    this.nodeName = opts.nodeName;
    this.runtime = opts.runtime;
    this.listPods = opts.pods;
    this.systemNanoCores = opts.systemNanoCores ?? DEFAULT_SYSTEM_NANO_CORES;
    this.systemMemoryBytes = opts.systemMemoryBytes ?? DEFAULT_SYSTEM_MEMORY_BYTES;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.cpu = { at: this.startedAt, nanoSeconds: 0, nanoCores: this.systemNanoCores };
  }

  pods(): Promise<Pod[]> {
    return this.listPods();
  }

  private refuse(): Promise<never> {
    return Promise.reject(
      new NodeRequestError(
        400,
        `node ${this.nodeName} runs simulated containers: there is no process to reach`,
      ),
    );
  }

  logs(): Promise<never> {
    return this.refuse();
  }
  exec(): Promise<never> {
    return this.refuse();
  }
  attach(): Promise<never> {
    return this.refuse();
  }
  portForward(): Promise<never> {
    return this.refuse();
  }

  stats(): Promise<StatsSummary> {
    const now = this.now();
    const time = iso(now);
    const pods: PodStatsSummary[] = [];
    let podNanoCores = 0;
    let podMemory = 0;
    // The counters and their time stamp must be the same instant, or a rate taken between two
    // samples drifts by the gap (1 ms in a 1 s window reads 100m as 99.9m).
    for (const p of this.runtime.usage(this.nodeName, now)) {
      const containers: ContainerStatsSummary[] = p.containers.map((c) => ({
        name: c.name,
        startTime: iso(c.startedAt),
        cpu: { time, usageCoreNanoSeconds: c.usageCoreNanoSeconds },
        memory: { time, workingSetBytes: c.workingSetBytes, usageBytes: c.workingSetBytes },
      }));
      const cpuSum = p.containers.reduce((a, c) => a + c.usageCoreNanoSeconds, 0);
      const memSum = p.containers.reduce((a, c) => a + c.workingSetBytes, 0);
      for (const c of p.containers) podNanoCores += c.nanoCores;
      podMemory += memSum;
      pods.push({
        podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
        startTime: iso(p.startedAt),
        containers,
        cpu: { time, usageCoreNanoSeconds: cpuSum },
        memory: { time, workingSetBytes: memSum, usageBytes: memSum },
      });
    }
    // Advance the node's counter at the rate since the last read, then take the current one.
    const elapsedMs = Math.max(0, now - this.cpu.at);
    const nanoCores = Math.round(this.systemNanoCores + podNanoCores);
    this.cpu = {
      at: now,
      nanoSeconds: this.cpu.nanoSeconds + Math.round(this.cpu.nanoCores * (elapsedMs / 1000)),
      nanoCores,
    };
    const workingSet = this.systemMemoryBytes + podMemory;
    return Promise.resolve({
      node: {
        nodeName: this.nodeName,
        startTime: iso(this.startedAt),
        cpu: { time, usageCoreNanoSeconds: this.cpu.nanoSeconds, usageNanoCores: nanoCores },
        memory: { time, workingSetBytes: workingSet, usageBytes: workingSet },
      },
      pods,
    });
  }

  spec(): Promise<MachineSpec> {
    return Promise.resolve({
      num_cores: cpus().length,
      memory_capacity: totalmem(),
      machine_id: '',
      system_uuid: '',
      boot_id: '',
      cpu_frequency_khz: 0,
    });
  }
}
