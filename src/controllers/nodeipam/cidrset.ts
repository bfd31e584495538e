// The set of per-node subnets carved out of the cluster CIDR (upstream's cidrset): the cluster range
// split into equal subnets, one bit per subnet. The next allocation starts after the last one handed
// out, as upstream's does, so a subnet just released is not handed to the next node at once (its
// old routes and neighbour entries have time to go).

/** Upstream refuses to split a range into more than 2^16 subnets (one bitmap per range). */
const MAX_PREFIX_DIFFERENCE = 16;

const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefix: number;
}

/** Parses an IPv4 CIDR; throws with what is wrong. The address is masked to its network. */
export function parseCidr4(text: string): Ipv4Cidr {
  const m = CIDR4.exec(text.trim());
  if (!m) throw new Error(`invalid CIDR address: ${text}`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new Error(`invalid CIDR address: ${text}`);
  const addr = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  return { base: maskOf(addr, prefix), prefix };
}

function maskOf(addr: number, prefix: number): number {
  return prefix === 0 ? 0 : (addr & (~0 << (32 - prefix))) >>> 0;
}

export function formatCidr4(c: Ipv4Cidr): string {
  const b = c.base;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${c.prefix}`;
}

/** Thrown when every subnet is taken (upstream's ErrCIDRRangeNoCIDRsRemaining). */
export class CidrRangeFullError extends Error {
  constructor(cluster: string) {
    super(
      `CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range ${cluster}`,
    );
  }
}

export class CidrSet {
  readonly cluster: Ipv4Cidr;
  readonly subnetPrefix: number;
  readonly size: number;
  private readonly used: Uint8Array;
  private allocated = 0;
  private nextCandidate = 0;

  constructor(clusterCidr: string, subnetPrefix: number) {
    this.cluster = parseCidr4(clusterCidr);
    if (!Number.isInteger(subnetPrefix) || subnetPrefix < this.cluster.prefix || subnetPrefix > 32)
      throw new Error(
        `node CIDR mask size /${subnetPrefix} does not fit in the cluster CIDR ${formatCidr4(this.cluster)}`,
      );
    if (subnetPrefix - this.cluster.prefix > MAX_PREFIX_DIFFERENCE)
      throw new Error(
        `the cluster CIDR ${formatCidr4(this.cluster)} splits into more than 2^${MAX_PREFIX_DIFFERENCE} ` +
          `subnets of /${subnetPrefix}: use a larger node CIDR mask size or a smaller cluster CIDR`,
      );
    this.subnetPrefix = subnetPrefix;
    this.size = 2 ** (subnetPrefix - this.cluster.prefix);
    this.used = new Uint8Array(this.size);
  }

  get free(): number {
    return this.size - this.allocated;
  }

  private subnet(index: number): string {
    const step = 2 ** (32 - this.subnetPrefix);
    return formatCidr4({ base: (this.cluster.base + index * step) >>> 0, prefix: this.subnetPrefix });
  }

  /** The subnet's index when it is exactly one of ours; undefined for anything else. */
  indexOf(cidr: string): number | undefined {
    let c: Ipv4Cidr;
    try {
      c = parseCidr4(cidr);
    } catch {
      return undefined;
    }
    if (c.prefix !== this.subnetPrefix) return undefined;
    if (maskOf(c.base, this.cluster.prefix) !== this.cluster.base) return undefined;
    return (c.base - this.cluster.base) / 2 ** (32 - this.subnetPrefix);
  }

  /** Whether `cidr` overlaps the cluster range at all (a node's CIDR from elsewhere may). */
  overlapsCluster(cidr: string): boolean {
    const c = parseCidr4(cidr);
    const shorter = Math.min(c.prefix, this.cluster.prefix);
    return maskOf(c.base, shorter) === maskOf(this.cluster.base, shorter);
  }

  isAllocated(cidr: string): boolean {
    const i = this.indexOf(cidr);
    return i !== undefined && this.used[i] === 1;
  }

  /** Hands out the next free subnet after the last one allocated. */
  allocateNext(): string {
    if (this.allocated === this.size) throw new CidrRangeFullError(formatCidr4(this.cluster));
    for (let n = 0; n < this.size; n++) {
      const i = (this.nextCandidate + n) % this.size;
      if (this.used[i] === 0) {
        this.used[i] = 1;
        this.allocated++;
        this.nextCandidate = (i + 1) % this.size;
        return this.subnet(i);
      }
    }
    throw new CidrRangeFullError(formatCidr4(this.cluster));
  }

  /** Marks a subnet as in use (a node that already has it); false when it is not one of ours. */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    if (this.used[i] === 0) {
      this.used[i] = 1;
      this.allocated++;
    }
    return true;
  }

  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i === undefined || this.used[i] === 0) return;
    this.used[i] = 0;
    this.allocated--;
  }
}
