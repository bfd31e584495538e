// The last two usage samples of every node and container, and the usage derived from them, as
// metrics-server's storage keeps them: CPU arrives as a cumulative counter, so its rate needs two
// samples of the same container instance (same start time) at different times; memory is the
// working set of the latest sample. Each scrape cycle replaces the whole batch, so a node that
// did not answer drops out, and so do its pods.
import { formatQuantity } from '../../api/quantity.js';

export interface MetricsPoint {
  /** When the node or container (this instance of it) started, ms since the epoch. */
  readonly startTime: number;
  /** When the sample was taken, ms since the epoch. */
  readonly timestamp: number;
  /** CPU time used since startTime, in core-nanoseconds. */
  readonly cumulativeCpuNanos: number;
  readonly workingSetBytes: number;
}

/** One node's answer: its own sample and its pods' containers', keyed namespace/name then container. */
export interface NodeBatch {
  readonly node?: MetricsPoint;
  readonly pods: ReadonlyMap<string, ReadonlyMap<string, MetricsPoint>>;
}

export interface Usage {
  /** Quantities as metrics-server prints them: "1234567n" and "12345Ki". */
  readonly cpu: string;
  readonly memory: string;
}

export interface TimedUsage {
  readonly usage: Usage;
  /** The latest sample's time, ms since the epoch. */
  readonly timestamp: number;
  /** Between the two samples, ms. */
  readonly windowMs: number;
}

export interface ContainerUsage {
  readonly name: string;
  readonly usage: Usage;
}

export interface PodUsage {
  readonly containers: ContainerUsage[];
  readonly timestamp: number;
  readonly windowMs: number;
}

/** CPU in nano-cores, as a DecimalSI quantity at scale -9 prints: "1234567n", "5m", "0". */
export function formatNanoCores(nanoCores: number): string {
  return formatQuantity({ nanos: BigInt(Math.max(0, Math.trunc(nanoCores))), format: 'DecimalSI' });
}

/** Bytes as a BinarySI quantity prints: "12345Ki", "64Mi", "1000" (not a multiple of 1024). */
export function formatBytes(bytes: number): string {
  return formatQuantity({
    nanos: BigInt(Math.max(0, Math.trunc(bytes))) * 1_000_000_000n,
    format: 'BinarySI',
  });
}

/** A duration as Go's time.Duration prints it (metav1.Duration): "10s", "10.5s", "1m5s", "800ms". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const millis = total % 60_000;
  const seconds = `${Math.floor(millis / 1000)}${
    millis % 1000
      ? `.${String(millis % 1000)
          .padStart(3, '0')
          .replace(/0+$/, '')}`
      : ''
  }s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/**
 * Usage between two samples of the same node or container, or undefined when they cannot give
 * one (a restart in between: the start time moved or the counter went back; no time passed).
 */
export function usageBetween(prev: MetricsPoint, last: MetricsPoint): TimedUsage | undefined {
  if (last.startTime < prev.startTime) return undefined;
  if (last.cumulativeCpuNanos < prev.cumulativeCpuNanos) return undefined;
  const windowMs = last.timestamp - prev.timestamp;
  if (windowMs <= 0) return undefined;
  const nanoCores = ((last.cumulativeCpuNanos - prev.cumulativeCpuNanos) / windowMs) * 1000;
  return {
    usage: { cpu: formatNanoCores(nanoCores), memory: formatBytes(last.workingSetBytes) },
    timestamp: last.timestamp,
    windowMs,
  };
}

/**
 * Which sample becomes the previous one when `next` arrives: the stored latest one when next is
 * newer; else the stored previous one when it is still older than next (a repeated sample).
 */
function previousFor(
  next: MetricsPoint,
  last: MetricsPoint | undefined,
  prev: MetricsPoint | undefined,
): MetricsPoint | undefined {
  if (!last) return undefined;
  // A restart since the stored sample: nothing to compare with yet.
  if (next.startTime > last.timestamp) return undefined;
  if (next.timestamp > last.timestamp) return last;
  if (prev && prev.timestamp < next.timestamp) return prev;
  return undefined;
}

export class MetricsStorage {
  private lastNodes = new Map<string, MetricsPoint>();
  private prevNodes = new Map<string, MetricsPoint>();
  private lastPods = new Map<string, ReadonlyMap<string, MetricsPoint>>();
  private prevPods = new Map<string, Map<string, MetricsPoint>>();

  /** Replaces the stored batch by one scrape cycle's answers, keyed by node name. */
  store(batches: ReadonlyMap<string, NodeBatch>): void {
    const lastNodes = new Map<string, MetricsPoint>();
    const prevNodes = new Map<string, MetricsPoint>();
    const lastPods = new Map<string, ReadonlyMap<string, MetricsPoint>>();
    const prevPods = new Map<string, Map<string, MetricsPoint>>();
    for (const [nodeName, batch] of batches) {
      if (batch.node) {
        const prev = previousFor(batch.node, this.lastNodes.get(nodeName), this.prevNodes.get(nodeName));
        if (prev) prevNodes.set(nodeName, prev);
        lastNodes.set(nodeName, batch.node);
      }
      for (const [podKey, containers] of batch.pods) {
        if (lastPods.has(podKey)) continue; // the same pod reported twice: keep the first
        const storedLast = this.lastPods.get(podKey);
        const storedPrev = this.prevPods.get(podKey);
        const prevContainers = new Map<string, MetricsPoint>();
        for (const [name, point] of containers) {
          const prev = previousFor(point, storedLast?.get(name), storedPrev?.get(name));
          if (prev) prevContainers.set(name, prev);
        }
        if (prevContainers.size > 0) prevPods.set(podKey, prevContainers);
        lastPods.set(podKey, containers);
      }
    }
    this.lastNodes = lastNodes;
    this.prevNodes = prevNodes;
    this.lastPods = lastPods;
    this.prevPods = prevPods;
  }

  nodeUsage(nodeName: string): TimedUsage | undefined {
    const last = this.lastNodes.get(nodeName);
    const prev = this.prevNodes.get(nodeName);
    return last && prev ? usageBetween(prev, last) : undefined;
  }

  /**
   * A pod's usage per container, only when every container it reported has a usage; the pod's
   * time is its earliest container's.
   */
  podUsage(namespace: string, name: string): PodUsage | undefined {
    const key = `${namespace}/${name}`;
    const last = this.lastPods.get(key);
    const prev = this.prevPods.get(key);
    if (!last || !prev) return undefined;
    const containers: ContainerUsage[] = [];
    let earliest: TimedUsage | undefined;
    for (const [containerName, point] of last) {
      const before = prev.get(containerName);
      if (!before) return undefined;
      const u = usageBetween(before, point);
      if (!u) continue;
      containers.push({ name: containerName, usage: u.usage });
      if (!earliest || u.timestamp < earliest.timestamp) earliest = u;
    }
    if (!earliest) return undefined;
    containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { containers, timestamp: earliest.timestamp, windowMs: earliest.windowMs };
  }
}
