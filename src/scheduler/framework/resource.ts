// Resource amounts as the scheduler adds them up: cpu in millicores, everything else in whole units
// (memory and ephemeral storage in bytes), extended resources by name.
import { tryParseQuantity, quantityMilliValue, quantityValue } from '../../api/quantity.js';
import type { Container, Pod } from '../../api/generated/types.js';

export const CPU = 'cpu';
export const MEMORY = 'memory';
export const EPHEMERAL_STORAGE = 'ephemeral-storage';
export const PODS = 'pods';

/** What the scoring plugins assume for a container that requests nothing (upstream's non-zero defaults). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export class Resource {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  allowedPodNumber = 0;
  scalar: Map<string, number> | undefined;

  clone(): Resource {
    const r = new Resource();
    r.milliCPU = this.milliCPU;
    r.memory = this.memory;
    r.ephemeralStorage = this.ephemeralStorage;
    r.allowedPodNumber = this.allowedPodNumber;
    if (this.scalar) r.scalar = new Map(this.scalar);
    return r;
  }

  add(o: Resource, sign = 1): void {
    this.milliCPU += sign * o.milliCPU;
    this.memory += sign * o.memory;
    this.ephemeralStorage += sign * o.ephemeralStorage;
    this.allowedPodNumber += sign * o.allowedPodNumber;
    if (o.scalar) {
      this.scalar ??= new Map();
      for (const [k, v] of o.scalar) this.scalar.set(k, (this.scalar.get(k) ?? 0) + sign * v);
    }
  }

  setMax(o: Resource): void {
    this.milliCPU = Math.max(this.milliCPU, o.milliCPU);
    this.memory = Math.max(this.memory, o.memory);
    this.ephemeralStorage = Math.max(this.ephemeralStorage, o.ephemeralStorage);
    if (o.scalar) {
      this.scalar ??= new Map();
      for (const [k, v] of o.scalar) this.scalar.set(k, Math.max(this.scalar.get(k) ?? 0, v));
    }
  }

  /** The amount of a named resource. */
  get(name: string): number {
    switch (name) {
      case CPU:
        return this.milliCPU;
      case MEMORY:
        return this.memory;
      case EPHEMERAL_STORAGE:
        return this.ephemeralStorage;
      case PODS:
        return this.allowedPodNumber;
      default:
        return this.scalar?.get(name) ?? 0;
    }
  }

  setScalar(name: string, v: number): void {
    this.scalar ??= new Map();
    this.scalar.set(name, v);
  }

  isZero(): boolean {
    if (this.milliCPU || this.memory || this.ephemeralStorage) return false;
    if (this.scalar) for (const v of this.scalar.values()) if (v) return false;
    return true;
  }

  /** From a ResourceList (requests, allocatable, overhead). */
  static fromList(list: Readonly<Record<string, string>> | undefined): Resource {
    const r = new Resource();
    if (!list) return r;
    for (const [name, raw] of Object.entries(list)) {
      const q = tryParseQuantity(raw);
      if (!q) continue;
      switch (name) {
        case CPU:
          r.milliCPU = quantityMilliValue(q);
          break;
        case MEMORY:
          r.memory = quantityValue(q);
          break;
        case EPHEMERAL_STORAGE:
          r.ephemeralStorage = quantityValue(q);
          break;
        case PODS:
          r.allowedPodNumber = quantityValue(q);
          break;
        default:
          if (isScalarResourceName(name)) r.setScalar(name, quantityValue(q));
      }
    }
    return r;
  }
}

/** Extended resources (domain/name outside kubernetes.io), hugepages and attachable volumes. */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  if (!name.includes('/')) return false;
  const domain = name.slice(0, name.indexOf('/'));
  return !(domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io')) || name.startsWith('requests.');
}

function containerRequests(c: Container): Readonly<Record<string, string>> | undefined {
  // Requests default to limits where only limits are given (the API server's defaulting does the same).
  const req = c.resources?.requests;
  const lim = c.resources?.limits;
  if (!lim) return req;
  const out: Record<string, string> = { ...lim, ...(req ?? {}) };
  return out;
}

function isRestartableInit(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

/**
 * The pod's effective request, as upstream's resource helpers compute it: the sum of the app
 * containers (and sidecars), against the largest init container (each counted with the sidecars
 * started before it), plus the pod overhead. Pod-level resources, when given, take precedence.
 * With nonZero, a container that requests no cpu/memory counts the scoring defaults.
 */
export function podRequests(pod: Pod, nonZero = false): Resource {
  const spec = pod.spec;
  const total = new Resource();
  if (!spec) return total;
  const forContainer = (c: Container): Resource => {
    const r = Resource.fromList(containerRequests(c));
    if (nonZero) {
      const req = containerRequests(c) ?? {};
      if (!(CPU in req)) r.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
      if (!(MEMORY in req)) r.memory = DEFAULT_MEMORY_REQUEST;
    }
    return r;
  };
  for (const c of spec.containers ?? []) total.add(forContainer(c));
  const sidecars = new Resource();
  const initMax = new Resource();
  for (const c of spec.initContainers ?? []) {
    const r = forContainer(c);
    if (isRestartableInit(c)) {
      sidecars.add(r);
      total.add(r);
      initMax.setMax(sidecars);
    } else {
      const withSidecars = r.clone();
      withSidecars.add(sidecars);
      initMax.setMax(withSidecars);
    }
  }
  total.setMax(initMax);
  const podLevel = spec.resources?.requests;
  if (podLevel && Object.keys(podLevel).length > 0) {
    const pl = Resource.fromList(podLevel);
    if (CPU in podLevel) total.milliCPU = pl.milliCPU;
    if (MEMORY in podLevel) total.memory = pl.memory;
  }
  if (spec.overhead) total.add(Resource.fromList(spec.overhead));
  return total;
}
