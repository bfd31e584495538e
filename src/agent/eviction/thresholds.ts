// Eviction signals and thresholds, as the kubelet's eviction manager knows them
// (pkg/kubelet/eviction/api and helpers.go): a threshold is "<signal><<value>", the value a
// quantity or a percentage of the signal's capacity; a threshold is met when what is available
// falls below it. `--eviction-hard` takes them comma-separated, kubelet's syntax.
import { formatQuantity, parseQuantity, quantityFromValue, quantityValue } from '../../api/quantity.js';

export const SIGNALS = [
  'memory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'pid.available',
] as const;
export type Signal = (typeof SIGNALS)[number];

/** What a signal starves: the resource pods are ranked by, named as in eviction messages. */
export const SIGNAL_RESOURCE: Record<Signal, 'memory' | 'ephemeral-storage' | 'inodes' | 'pids'> = {
  'memory.available': 'memory',
  'nodefs.available': 'ephemeral-storage',
  'nodefs.inodesFree': 'inodes',
  'imagefs.available': 'ephemeral-storage',
  'imagefs.inodesFree': 'inodes',
  'pid.available': 'pids',
};

export const SIGNAL_CONDITION: Record<Signal, 'MemoryPressure' | 'DiskPressure' | 'PIDPressure'> = {
  'memory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure',
  'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure',
  'imagefs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

export interface Threshold {
  signal: Signal;
  /** An absolute amount (bytes, inodes, pids) ... */
  quantity?: number;
  /** ... or a fraction (0..1) of the signal's capacity. */
  percentage?: number;
}

/** What was observed of a signal: how much is available out of how much there is. */
export interface Observation {
  available: number;
  capacity: number;
}

export type Observations = Partial<Record<Signal, Observation>>;

/** Upstream's default hard thresholds on Linux. */
export const DEFAULT_EVICTION_HARD =
  'memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%';

export class ThresholdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThresholdError';
  }
}

function isSignal(s: string): s is Signal {
  return (SIGNALS as readonly string[]).includes(s);
}

/** One statement; undefined for 0% and 100%, which upstream ignores. */
export function parseThreshold(signal: string, value: string): Threshold | undefined {
  if (!isSignal(signal)) throw new ThresholdError(`unsupported eviction signal ${signal}`);
  if (value.endsWith('%')) {
    if (value === '0%' || value === '100%') return undefined;
    const n = Number(value.slice(0, -1));
    if (value.length === 1 || !Number.isFinite(n))
      throw new ThresholdError(`invalid eviction percentage threshold ${signal}: ${value}`);
    if (n < 0) throw new ThresholdError(`eviction percentage threshold ${signal} must be >= 0%: ${value}`);
    if (n > 100)
      throw new ThresholdError(`eviction percentage threshold ${signal} must be <= 100%: ${value}`);
    return { signal, percentage: n / 100 };
  }
  let amount: number;
  try {
    amount = quantityValue(parseQuantity(value));
  } catch (err) {
    throw new ThresholdError(
      `invalid eviction threshold ${signal}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (amount <= 0) throw new ThresholdError(`eviction threshold ${signal} must be positive: ${value}`);
  return { signal, quantity: amount };
}

/** `--eviction-hard`: "memory.available<100Mi,nodefs.available<10%" (an empty string: no thresholds). */
export function parseEvictionHard(text: string): Threshold[] {
  const out: Threshold[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const pair = raw.trim();
    if (pair === '') continue;
    const at = pair.indexOf('<');
    if (at <= 0) throw new ThresholdError(`malformed pair, expect string<string: ${JSON.stringify(pair)}`);
    const signal = pair.slice(0, at).trim();
    if (seen.has(signal)) throw new ThresholdError(`eviction signal ${signal} given more than once`);
    seen.add(signal);
    const t = parseThreshold(signal, pair.slice(at + 1).trim());
    if (t) out.push(t);
  }
  return out;
}

/** The threshold's amount for a signal of this capacity. */
export function thresholdQuantity(t: Threshold, capacity: number): number {
  if (t.quantity !== undefined) return t.quantity;
  return Math.floor((t.percentage ?? 0) * capacity);
}

/** The thresholds what was observed crosses (a signal not observed crosses nothing). */
export function thresholdsMet(thresholds: readonly Threshold[], observations: Observations): Threshold[] {
  return thresholds.filter((t) => {
    const o = observations[t.signal];
    return o !== undefined && thresholdQuantity(t, o.capacity) > o.available;
  });
}

/** Amounts as the kubelet prints them: bytes in binary SI ("100Mi"), counts as plain numbers. */
export function formatAmount(signal: Signal, amount: number): string {
  const resource = SIGNAL_RESOURCE[signal];
  return formatQuantity(
    quantityFromValue(
      Math.max(0, Math.round(amount)),
      resource === 'memory' || resource === 'ephemeral-storage' ? 'BinarySI' : 'DecimalSI',
    ),
  );
}

/** Memory is reclaimed before anything else (upstream's byEvictionPriority). */
export function byEvictionPriority(a: Threshold, b: Threshold): number {
  const rank = (t: Threshold): number => (t.signal === 'memory.available' ? 0 : 1);
  return rank(a) - rank(b);
}
