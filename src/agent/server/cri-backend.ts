// The node API's backend on a CRI runtime: logs from the runtime's log files, exec/attach/
// port-forward through the runtime's streaming server, usage from CRI container stats and /proc.
import { readFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import type { Pod } from '../../api/generated/types.js';
import type { CriClient } from '../cri/client.js';
import { followCriLog, readCriLog } from '../kuberuntime/logs.js';
import {
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
} from '../kuberuntime/labels.js';
import type { CriRuntime } from '../kuberuntime/runtime.js';
import {
  NodeRequestError,
  type ContainerLogOptions,
  type ContainerStatsSummary,
  type MachineSpec,
  type NodeStreamingBackend,
  type PodStatsSummary,
  type StatsSummary,
  type StreamOptions,
} from './backend.js';

export interface CriBackendOptions {
  readonly nodeName: string;
  readonly runtime: CriRuntime;
  readonly client: CriClient;
  /** The pods bound to this node (the agent's pod manager). */
  readonly pods: () => Promise<Pod[]>;
  /** When the node agent started (the node's startTime in stats). */
  readonly startedAt?: Date;
}

function nsToIso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Node CPU time in nanoseconds from /proc/stat (user+nice+system+irq+softirq+steal). */
function nodeCpuNanos(): number | undefined {
  const line = readText('/proc/stat').split('\n')[0] ?? '';
  if (!line.startsWith('cpu ')) return undefined;
  const f = line.split(/\s+/).slice(1).map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy * 1e7; // USER_HZ is 100 on Linux
}

/**
 * Node memory from /proc/meminfo: the working set is what is not available (MemTotal minus
 * MemAvailable, which counts reclaimable page cache as available, as kubelet's working set leaves
 * inactive file pages out). Falls back to os' free memory where /proc is not there.
 */
export function nodeMemory(meminfo: string): { total: number; available: number } | undefined {
  const kib = (field: string): number | undefined => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(meminfo);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kib('MemTotal');
  const available = kib('MemAvailable') ?? kib('MemFree');
  return total !== undefined && available !== undefined ? { total, available } : undefined;
}

function containerKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class CriStreamingBackend implements NodeStreamingBackend {
  readonly nodeName: string;
  private readonly runtime: CriRuntime;
  private readonly client: CriClient;
  private readonly listPods: () => Promise<Pod[]>;
  private readonly startedAt: Date;
  private lastCpu: { at: number; nanos: number } | undefined;

  constructor(opts: CriBackendOptions) {
    this.nodeName = opts.nodeName;
    this.runtime = opts.runtime;
    this.client = opts.client;
    this.listPods = opts.pods;
    this.startedAt = opts.startedAt ?? new Date();
  }

  pods(): Promise<Pod[]> {
    return this.listPods();
  }

  private async podByUid(uid: string): Promise<Pod | undefined> {
    return (await this.listPods()).find((p) => p.metadata.uid === uid);
  }

  /**
   * The running container exec and attach reach. As kubelet, which looks only among running
   * containers, a container that exited (an init container, a crashed one) is "not found".
   */
  private async runningContainer(uid: string, container: string): Promise<string> {
    const id = await this.runtime.containerId(uid, container);
    const running = id !== undefined && (await this.client.containerStatus(id)).state === 'CONTAINER_RUNNING';
    if (!id || !running) throw new NodeRequestError(404, `container not found ("${container}")`);
    return id;
  }

  async logs(
    uid: string,
    container: string,
    opts: ContainerLogOptions,
  ): Promise<AsyncIterable<string> | Iterable<string>> {
    const pod = await this.podByUid(uid);
    const podName = pod?.metadata.name ?? uid;
    const file = await this.runtime.containerLogFile(uid, container, opts.previous ?? false);
    if (!file) {
      if (opts.previous)
        throw new NodeRequestError(
          400,
          `previous terminated container "${container}" in pod "${podName}" not found`,
        );
      const statuses = [
        ...(pod?.status?.initContainerStatuses ?? []),
        ...(pod?.status?.containerStatuses ?? []),
        ...(pod?.status?.ephemeralContainerStatuses ?? []),
      ];
      const reason = statuses.find((c) => c.name === container)?.state?.waiting?.reason;
      if (reason === 'ErrImagePull' || reason === 'ImagePullBackOff')
        throw new NodeRequestError(
          400,
          `container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`,
        );
      if (reason)
        throw new NodeRequestError(
          400,
          `container "${container}" in pod "${podName}" is waiting to start: ${reason}`,
        );
      throw new NodeRequestError(
        400,
        `container "${container}" in pod "${podName}" is waiting to start: ContainerCreating`,
      );
    }
    const read = {
      tailLines: opts.tailLines,
      sinceMs: opts.sinceMs,
      timestamps: opts.timestamps,
      limitBytes: opts.limitBytes,
    };
    if (!opts.follow || opts.previous) {
      const text = await readCriLog(file, read);
      return text ? [text] : [];
    }
    const id = await this.runtime.containerId(uid, container);
    const client = this.client;
    const limit = opts.limitBytes;
    const followed = followCriLog(file, {
      ...read,
      signal: opts.signal,
      stillRunning: async () => {
        if (!id) return false;
        try {
          return (await client.containerStatus(id)).state === 'CONTAINER_RUNNING';
        } catch {
          return false;
        }
      },
    });
    if (limit === undefined) return followed;
    return (async function* () {
      let left = limit;
      for await (const chunk of followed) {
        const buf = Buffer.from(chunk);
        if (buf.length >= left) {
          yield buf.subarray(0, left).toString('utf8');
          return;
        }
        left -= buf.length;
        yield chunk;
      }
    })();
  }

  async exec(uid: string, container: string, command: readonly string[], s: StreamOptions): Promise<string> {
    const containerId = await this.runningContainer(uid, container);
    return this.client.exec({
      containerId,
      cmd: [...command],
      tty: s.tty,
      stdin: s.stdin,
      stdout: s.stdout,
      stderr: s.stderr,
    });
  }

  async attach(uid: string, container: string, s: StreamOptions): Promise<string> {
    const containerId = await this.runningContainer(uid, container);
    return this.client.attach({
      containerId,
      tty: s.tty,
      stdin: s.stdin,
      stdout: s.stdout,
      stderr: s.stderr,
    });
  }

  async portForward(uid: string, ports: readonly number[]): Promise<string> {
    const sandbox = await this.runtime.sandboxId(uid);
    if (!sandbox) throw new NodeRequestError(404, `pod sandbox of ${uid} not found or not ready`);
    return this.client.portForward(sandbox, [...ports]);
  }

  async stats(): Promise<StatsSummary> {
    const now = new Date().toISOString();
    const [stats, containers, pods] = await Promise.all([
      this.client.listContainerStats(),
      this.client.listContainers(),
      this.listPods(),
    ]);
    const created = new Map(containers.map((c) => [c.id, c]));
    const podStart = new Map<string, string>();
    for (const p of pods)
      if (p.metadata.uid)
        podStart.set(p.metadata.uid, p.status?.startTime ?? p.metadata.creationTimestamp ?? now);
    const byPod = new Map<string, { ref: PodStatsSummary['podRef']; containers: ContainerStatsSummary[] }>();
    const latest = new Map<string, { created: bigint; summary: ContainerStatsSummary; uid: string }>();
    for (const s of stats) {
      const c = created.get(s.id);
      if (!c || c.state !== 'CONTAINER_RUNNING') continue;
      const uid = s.labels[LABEL_POD_UID] ?? c.labels[LABEL_POD_UID] ?? '';
      const name = s.labels[LABEL_CONTAINER_NAME] ?? s.metadata.name;
      const summary: ContainerStatsSummary = {
        name,
        startTime: nsToIso(c.createdAt),
        ...(s.cpu
          ? {
              cpu: {
                time: nsToIso(s.cpu.timestamp),
                usageNanoCores: s.cpu.usageNanoCores,
                usageCoreNanoSeconds: s.cpu.usageCoreNanoSeconds,
              },
            }
          : {}),
        ...(s.memory
          ? {
              memory: {
                time: nsToIso(s.memory.timestamp),
                usageBytes: s.memory.usageBytes,
                workingSetBytes: s.memory.workingSetBytes,
                rssBytes: s.memory.rssBytes,
              },
            }
          : {}),
        ...(s.writableLayer
          ? {
              rootfs: {
                time: nsToIso(s.writableLayer.timestamp),
                usedBytes: s.writableLayer.usedBytes,
                inodesUsed: s.writableLayer.inodesUsed,
              },
            }
          : {}),
      };
      const key = `${uid}/${name}`;
      const seen = latest.get(key);
      if (!seen || seen.created < c.createdAt) latest.set(key, { created: c.createdAt, summary, uid });
      if (!byPod.has(uid))
        byPod.set(uid, {
          ref: {
            uid,
            name: s.labels[LABEL_POD_NAME] ?? c.labels[LABEL_POD_NAME] ?? '',
            namespace: s.labels[LABEL_POD_NAMESPACE] ?? c.labels[LABEL_POD_NAMESPACE] ?? '',
          },
          containers: [],
        });
    }
    for (const { summary, uid } of latest.values()) byPod.get(uid)?.containers.push(summary);
    const podSummaries: PodStatsSummary[] = [];
    for (const [uid, p] of byPod) {
      const sum = (pick: (c: ContainerStatsSummary) => number | undefined): number | undefined => {
        const vals = p.containers.map(pick).filter((v): v is number => v !== undefined);
        return vals.length ? vals.reduce((a, b) => a + b, 0) : undefined;
      };
      const cpuNanos = sum((c) => c.cpu?.usageCoreNanoSeconds);
      const nanoCores = sum((c) => c.cpu?.usageNanoCores);
      const ws = sum((c) => c.memory?.workingSetBytes);
      const usage = sum((c) => c.memory?.usageBytes);
      p.containers.sort((a, b) => (containerKey('', a.name) < containerKey('', b.name) ? -1 : 1));
      podSummaries.push({
        podRef: p.ref,
        startTime: podStart.get(uid) ?? p.containers[0]?.startTime ?? now,
        containers: p.containers,
        ...(cpuNanos !== undefined
          ? {
              cpu: {
                time: now,
                usageCoreNanoSeconds: cpuNanos,
                ...(nanoCores !== undefined ? { usageNanoCores: nanoCores } : {}),
              },
            }
          : {}),
        ...(ws !== undefined
          ? {
              memory: {
                time: now,
                workingSetBytes: ws,
                ...(usage !== undefined ? { usageBytes: usage } : {}),
              },
            }
          : {}),
      });
    }
    const cpuNow = nodeCpuNanos();
    let nanoCores: number | undefined;
    const at = Date.now();
    if (cpuNow !== undefined && this.lastCpu && at > this.lastCpu.at)
      nanoCores = Math.round(((cpuNow - this.lastCpu.nanos) / (at - this.lastCpu.at)) * 1e6);
    if (cpuNow !== undefined) this.lastCpu = { at, nanos: cpuNow };
    const mem = nodeMemory(readText('/proc/meminfo'));
    const total = mem?.total ?? totalmem();
    const available = mem?.available ?? freemem();
    return {
      node: {
        nodeName: this.nodeName,
        startTime: this.startedAt.toISOString(),
        cpu: {
          time: now,
          ...(cpuNow !== undefined ? { usageCoreNanoSeconds: cpuNow } : {}),
          ...(nanoCores !== undefined ? { usageNanoCores: nanoCores } : {}),
        },
        memory: {
          time: now,
          availableBytes: available,
          usageBytes: total - available,
          workingSetBytes: total - available,
        },
      },
      pods: podSummaries,
    };
  }

  spec(): Promise<MachineSpec> {
    const list = cpus();
    return Promise.resolve({
      num_cores: list.length,
      memory_capacity: totalmem(),
      machine_id: readText('/etc/machine-id'),
      system_uuid: readText('/sys/class/dmi/id/product_uuid'),
      boot_id: readText('/proc/sys/kernel/random/boot_id'),
      cpu_frequency_khz: (list[0]?.speed ?? 0) * 1000,
    });
  }
}
