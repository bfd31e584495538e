// Cluster-unique values a write must be given before it is stored, as kube-apiserver's service
// registry allocates them: a ClusterIP from the service CIDR and node ports from 30000-32767.
// What is in use is read from storage (services are few) plus a short-lived reservation of values
// handed out but not yet stored, so concurrent creates never receive the same value.
import type { KubeObject } from '../api/meta.js';
import { isPlainObject } from '../api/meta.js';
import { fieldErr, invalid, type FieldError } from '../api/errors.js';
import type { ResourceDescription } from '../api/types.js';
import type { Store } from '../storage/types.js';
import { storagePrefix } from './resource-registry.js';

export interface Allocator {
  beforeCreate(obj: KubeObject, dryRun: boolean): Promise<void>;
  beforeUpdate(obj: KubeObject, old: KubeObject, dryRun: boolean): Promise<void>;
}

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_NODE_PORT_RANGE: readonly [number, number] = [30000, 32767];
const RESERVATION_MS = 30_000;

interface Cidr {
  readonly base: number;
  readonly size: number;
}

function ipToInt(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): Cidr {
  const [ip, bitsText] = cidr.split('/');
  const base = ipToInt(ip ?? '');
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30)
    throw new Error(`invalid service CIDR ${JSON.stringify(cidr)}: expected an IPv4 CIDR between /8 and /30`);
  const size = 2 ** (32 - bits);
  return { base: base - (base % size), size };
}

type Spec = Record<string, unknown>;

function specOf(obj: KubeObject): Spec {
  if (!isPlainObject(obj.spec)) obj.spec = {};
  return obj.spec as Spec;
}

function portsOf(spec: Spec): Record<string, unknown>[] {
  return Array.isArray(spec.ports) ? spec.ports.filter(isPlainObject) : [];
}

function needsClusterIP(spec: Spec): boolean {
  return spec.type !== 'ExternalName';
}

function needsNodePorts(spec: Spec): boolean {
  return (
    spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false)
  );
}

function needsHealthCheckPort(spec: Spec): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

export class ServiceAllocator implements Allocator {
  private readonly cidr: Cidr;
  private readonly reservedIPs = new Map<string, number>();
  private readonly reservedPorts = new Map<number, number>();
  private nextIP = 2;
  private nextPort: number;

  constructor(
    private readonly store: Store,
    private readonly desc: ResourceDescription,
    cidr = DEFAULT_SERVICE_CIDR,
    private readonly portRange: readonly [number, number] = DEFAULT_NODE_PORT_RANGE,
  ) {
    this.cidr = parseCidr(cidr);
    this.nextPort = portRange[0];
  }

  private async inUse(exclude?: KubeObject): Promise<{ ips: Set<string>; ports: Set<number> }> {
    const now = Date.now();
    for (const [k, t] of this.reservedIPs) if (t < now) this.reservedIPs.delete(k);
    for (const [k, t] of this.reservedPorts) if (t < now) this.reservedPorts.delete(k);
    const ips = new Set(this.reservedIPs.keys());
    const ports = new Set(this.reservedPorts.keys());
    const list = await this.store.list(storagePrefix(this.desc));
    for (const kv of list.items) {
      let svc: KubeObject;
      try {
        svc = JSON.parse(kv.value) as KubeObject;
      } catch {
        continue;
      }
      if (exclude && svc.metadata.uid === exclude.metadata.uid) continue;
      const spec = isPlainObject(svc.spec) ? (svc.spec as Spec) : {};
      if (typeof spec.clusterIP === 'string') ips.add(spec.clusterIP);
      if (Array.isArray(spec.clusterIPs))
        for (const ip of spec.clusterIPs) if (typeof ip === 'string') ips.add(ip);
      for (const p of portsOf(spec)) if (typeof p.nodePort === 'number') ports.add(p.nodePort);
      if (typeof spec.healthCheckNodePort === 'number') ports.add(spec.healthCheckNodePort);
    }
    return { ips, ports };
  }

  private inRange(ip: string): boolean {
    const n = ipToInt(ip);
    return n !== undefined && n > this.cidr.base && n < this.cidr.base + this.cidr.size - 1;
  }

  private takeIP(used: Set<string>): string | undefined {
    const usable = this.cidr.size - 2;
    for (let i = 0; i < usable; i++) {
      const offset = ((this.nextIP - 1 + i) % usable) + 1;
      const ip = intToIp(this.cidr.base + offset);
      if (!used.has(ip)) {
        this.nextIP = offset + 1;
        return ip;
      }
    }
    return undefined;
  }

  private takePort(used: Set<number>): number | undefined {
    const [lo, hi] = this.portRange;
    const n = hi - lo + 1;
    for (let i = 0; i < n; i++) {
      const port = lo + ((this.nextPort - lo + i) % n);
      if (!used.has(port)) {
        this.nextPort = port + 1;
        return port;
      }
    }
    return undefined;
  }

  private reserveIP(ip: string, dryRun: boolean): void {
    if (!dryRun) this.reservedIPs.set(ip, Date.now() + RESERVATION_MS);
  }

  private reservePort(port: number, dryRun: boolean): void {
    if (!dryRun) this.reservedPorts.set(port, Date.now() + RESERVATION_MS);
  }

  private allocate(
    obj: KubeObject,
    old: KubeObject | undefined,
    used: { ips: Set<string>; ports: Set<number> },
    dryRun: boolean,
  ): void {
    const spec = specOf(obj);
    const errs: FieldError[] = [];
    const oldSpec = old && isPlainObject(old.spec) ? (old.spec as Spec) : undefined;
    if (needsClusterIP(spec)) {
      const requested = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
      const unchanged = oldSpec !== undefined && requested !== '' && requested === oldSpec.clusterIP;
      if (requested === 'None') {
        spec.clusterIPs = ['None'];
      } else if (!unchanged) {
        let ip = requested;
        if (ip === '') {
          const taken = this.takeIP(used.ips);
          if (!taken)
            errs.push(fieldErr.invalid('spec.clusterIPs', [], 'failed to allocate IP: range is full'));
          else ip = taken;
        } else if (!this.inRange(ip)) {
          errs.push(
            fieldErr.invalid(
              'spec.clusterIPs',
              [ip],
              `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range`,
            ),
          );
        } else if (used.ips.has(ip)) {
          errs.push(
            fieldErr.invalid(
              'spec.clusterIPs',
              [ip],
              `failed to allocate IP ${ip}: provided IP is already allocated`,
            ),
          );
        }
        if (ip !== '' && errs.length === 0) {
          spec.clusterIP = ip;
          spec.clusterIPs = [ip];
          used.ips.add(ip);
          this.reserveIP(ip, dryRun);
        }
      }
      if (spec.ipFamilies === undefined) spec.ipFamilies = ['IPv4'];
      if (spec.ipFamilyPolicy === undefined) spec.ipFamilyPolicy = 'SingleStack';
    }
    if (needsNodePorts(spec)) {
      const oldPorts = new Set(oldSpec ? portsOf(oldSpec).map((p) => p.nodePort) : []);
      portsOf(spec).forEach((p, i) => {
        if (typeof p.nodePort === 'number' && p.nodePort !== 0) {
          if (oldPorts.has(p.nodePort)) return;
          if (p.nodePort < this.portRange[0] || p.nodePort > this.portRange[1])
            errs.push(
              fieldErr.invalid(
                `spec.ports[${i}].nodePort`,
                p.nodePort,
                `provided port is not in the valid range. The range of valid ports is ${this.portRange[0]}-${this.portRange[1]}`,
              ),
            );
          else if (used.ports.has(p.nodePort))
            errs.push(
              fieldErr.invalid(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated'),
            );
          else {
            used.ports.add(p.nodePort);
            this.reservePort(p.nodePort, dryRun);
          }
          return;
        }
        const port = this.takePort(used.ports);
        if (port === undefined) errs.push(fieldErr.invalid(`spec.ports[${i}].nodePort`, 0, 'range is full'));
        else {
          p.nodePort = port;
          used.ports.add(port);
          this.reservePort(port, dryRun);
        }
      });
    }
    if (
      needsHealthCheckPort(spec) &&
      (typeof spec.healthCheckNodePort !== 'number' || spec.healthCheckNodePort === 0)
    ) {
      const port = this.takePort(used.ports);
      if (port !== undefined) {
        spec.healthCheckNodePort = port;
        this.reservePort(port, dryRun);
      }
    }
    if (errs.length) throw invalid(this.desc.kind, this.desc.group, obj.metadata.name ?? '', errs);
  }

  async beforeCreate(obj: KubeObject, dryRun: boolean): Promise<void> {
    this.allocate(obj, undefined, await this.inUse(), dryRun);
  }

  async beforeUpdate(obj: KubeObject, old: KubeObject, dryRun: boolean): Promise<void> {
    const spec = specOf(obj);
    const oldSpec = isPlainObject(old.spec) ? (old.spec as Spec) : {};
    const needsIP =
      needsClusterIP(spec) &&
      (spec.clusterIP === undefined || spec.clusterIP === '' || spec.clusterIP !== oldSpec.clusterIP);
    const needsPorts =
      needsNodePorts(spec) &&
      portsOf(spec).some(
        (p) =>
          typeof p.nodePort !== 'number' ||
          p.nodePort === 0 ||
          !portsOf(oldSpec).some((o) => o.nodePort === p.nodePort),
      );
    if (!needsIP && !needsPorts && !needsHealthCheckPort(spec)) return;
    this.allocate(obj, old, await this.inUse(old), dryRun);
  }
}
