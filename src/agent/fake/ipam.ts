// Pod addresses for a simulated node: host-local style allocation from the node's pod CIDR (the
// first address is the node's bridge, so pods start at the second), next-fit so that a freed
// address is not handed out again at once.
import { intToIpv4, ipv4ToInt, parseCidr4 } from '../support.js';

export class NodeIpam {
  private readonly base: number;
  private readonly size: number;
  private readonly used = new Set<number>();
  private cursor = 2;

  constructor(readonly cidr: string) {
    const { base, prefix } = parseCidr4(cidr);
    this.base = base;
    this.size = 2 ** (32 - prefix);
    if (this.size < 4) throw new Error(`pod CIDR ${cidr} is too small`);
  }

  get allocated(): number {
    return this.used.size;
  }

  /** The next free address; throws when the range is exhausted. */
  allocate(): string {
    const usable = this.size - 3; // network, bridge, broadcast
    if (this.used.size >= usable) throw new Error(`no free pod address left in ${this.cidr}`);
    for (let i = 0; i < this.size; i++) {
      const offset = this.cursor;
      this.cursor = this.cursor + 1 >= this.size - 1 ? 2 : this.cursor + 1;
      if (!this.used.has(offset)) {
        this.used.add(offset);
        return intToIpv4((this.base + offset) >>> 0);
      }
    }
    throw new Error(`no free pod address left in ${this.cidr}`);
  }

  /** Marks an address as used (a pod adopted after a restart); false if it is outside the range. */
  reserve(ip: string): boolean {
    const offset = this.offsetOf(ip);
    if (offset === undefined) return false;
    this.used.add(offset);
    return true;
  }

  release(ip: string): void {
    const offset = this.offsetOf(ip);
    if (offset !== undefined) this.used.delete(offset);
  }

  private offsetOf(ip: string): number | undefined {
    let n: number;
    try {
      n = ipv4ToInt(ip);
    } catch {
      return undefined;
    }
    const offset = n - this.base;
    return offset > 0 && offset < this.size - 1 ? offset : undefined;
  }
}

/**
 * The pod CIDR of simulated node number `index`: consecutive /24s from `base` (default 10.64.0.0,
 * room for 16,384 nodes below 10.128.0.0).
 */
export function fakePodCidr(index: number, base = '10.64.0.0'): string {
  return `${intToIpv4((ipv4ToInt(base) + index * 256) >>> 0)}/24`;
}

/** The InternalIP of simulated node number `index`: consecutive addresses after `base` (default 172.16.0.0). */
export function fakeNodeIp(index: number, base = '172.16.0.0'): string {
  return intToIpv4((ipv4ToInt(base) + index + 1) >>> 0);
}
