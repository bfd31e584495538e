// What the simulated runtime's containers use: synthetic but deterministic, for `kubectl top` and
// autoscaling on simulated nodes. A running container uses `fraction` of what it requests (else of
// its limits, else a small floor); the pod annotations fake.k8ts.io/cpu-usage and
// fake.k8ts.io/memory-usage (quantities, per container) override that, and may be changed on a
// running pod (`kubectl annotate --overwrite`) to simulate load. The CPU counter integrates the
// rate over time, so it keeps growing monotonically across such changes, and starts again from
// zero when the container restarts.
import type { Container, Pod } from '../../api/generated/types.js';
import { tryParseQuantity } from '../../api/quantity.js';

export const ANNOTATION_CPU_USAGE = 'fake.k8ts.io/cpu-usage';
export const ANNOTATION_MEMORY_USAGE = 'fake.k8ts.io/memory-usage';

/** What a container that declares nothing uses: 1m CPU and 4 MiB. */
const FLOOR_NANO_CORES = 1_000_000;
const FLOOR_MEMORY_BYTES = 4 * 1024 * 1024;
const NANOS_PER_UNIT = 1_000_000_000n;

export interface ContainerUsageSample {
  /** CPU time since the container started, in core-nanoseconds. */
  readonly usageCoreNanoSeconds: number;
  readonly nanoCores: number;
  readonly workingSetBytes: number;
}

interface Entry {
  nanoCores: number;
  memoryBytes: number;
  /** The container instance the counter is about (its start, ms). */
  startedAt: number | undefined;
  /** CPU used before `since`, core-nanoseconds. */
  cpuBefore: number;
  /** When the current rate took effect, ms. */
  since: number;
}

export class SimulatedUsage {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly fraction = 0.5) {
    if (!Number.isFinite(fraction) || fraction < 0)
      throw new Error(`usageFraction must be a non-negative number, got ${fraction}`);
  }

  private rate(
    spec: Container,
    annotations: Readonly<Record<string, string>>,
    resource: 'cpu' | 'memory',
  ): number {
    const annotation = resource === 'cpu' ? ANNOTATION_CPU_USAGE : ANNOTATION_MEMORY_USAGE;
    // CPU in nano-cores (a quantity's nanos are nano-cores already); memory in bytes.
    const unit = resource === 'cpu' ? 1n : NANOS_PER_UNIT;
    const floor = resource === 'cpu' ? FLOOR_NANO_CORES : FLOOR_MEMORY_BYTES;
    const fixed = tryParseQuantity(annotations[annotation]);
    if (fixed && fixed.nanos >= 0n) return Number(fixed.nanos / unit);
    const declared =
      tryParseQuantity(spec.resources?.requests?.[resource]) ??
      tryParseQuantity(spec.resources?.limits?.[resource]);
    if (!declared || declared.nanos <= 0n) return floor;
    return Math.round((Number(declared.nanos) / Number(unit)) * this.fraction);
  }

  /** Takes the pod's declared usage as of now (first sight, or an update of its annotations). */
  observe(pod: Pod, now: number): void {
    const uid = pod.metadata.uid ?? '';
    const annotations = pod.metadata.annotations ?? {};
    const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    for (const spec of specs) {
      const key = `${uid}/${spec.name}`;
      const nanoCores = this.rate(spec, annotations, 'cpu');
      const memoryBytes = this.rate(spec, annotations, 'memory');
      const e = this.entries.get(key);
      if (!e) {
        this.entries.set(key, { nanoCores, memoryBytes, startedAt: undefined, cpuBefore: 0, since: now });
        continue;
      }
      e.memoryBytes = memoryBytes;
      if (e.nanoCores === nanoCores) continue;
      if (e.startedAt !== undefined && now > e.since) {
        e.cpuBefore += (e.nanoCores * (now - e.since)) / 1000;
        e.since = now;
      }
      e.nanoCores = nanoCores;
    }
  }

  /** A running container's usage at `now`; startedAt identifies the instance (a restart resets the counter). */
  sample(uid: string, container: string, startedAt: number, now: number): ContainerUsageSample {
    const key = `${uid}/${container}`;
    let e = this.entries.get(key);
    if (!e) {
      e = {
        nanoCores: FLOOR_NANO_CORES,
        memoryBytes: FLOOR_MEMORY_BYTES,
        startedAt: undefined,
        cpuBefore: 0,
        since: startedAt,
      };
      this.entries.set(key, e);
    }
    if (e.startedAt !== startedAt) {
      e.startedAt = startedAt;
      e.cpuBefore = 0;
      e.since = startedAt;
    }
    const running = Math.max(0, now - e.since);
    return {
      usageCoreNanoSeconds: Math.round(e.cpuBefore + (e.nanoCores * running) / 1000),
      nanoCores: e.nanoCores,
      workingSetBytes: e.memoryBytes,
    };
  }

  forget(uid: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${uid}/`)) this.entries.delete(key);
  }
}
