// `--kubelet-arg KEY=VALUE` (repeatable), as k3s passes settings through to its kubelet: the keys
// k8ts' node agent understands, validated here so a mistake is a usage error, not a failed start.
import { parseEvictionHard, ThresholdError } from '../agent/eviction/thresholds.js';
import { ImageGCError, validatePolicy, DEFAULT_IMAGE_GC_POLICY } from '../agent/images/gc.js';
import type { NodeTuning } from '../agent/tuning.js';
import { UsageError } from './flags.js';

export const KUBELET_ARGS_USAGE = [
  '  --kubelet-arg KEY=VALUE node agent settings, as kubelet flags (repeatable):',
  '                          pod-manifest-path=DIR, eviction-hard=memory.available<100Mi,...,',
  '                          image-gc-high-threshold=85, image-gc-low-threshold=80,',
  '                          minimum-image-ttl-duration=2m, image-gc-period=5m (k8ts)',
].join('\n');

/** Go-style durations ("2m", "1m30s", "500ms", "0s"). */
export function parseDuration(text: string): number | undefined {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0].length;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

function percent(command: string, key: string, value: string): number {
  const n = Number(value);
  if (value === '' || !Number.isInteger(n))
    throw new UsageError(`${command}: --kubelet-arg ${key}: not an integer: ${value}`);
  return n;
}

export function parseKubeletArgs(command: string, args: readonly string[]): NodeTuning {
  const out: NodeTuning = {};
  const gc: NonNullable<NodeTuning['imageGC']> = {};
  for (const arg of args) {
    const at = arg.indexOf('=');
    if (at <= 0)
      throw new UsageError(`${command}: --kubelet-arg: expected KEY=VALUE, got ${JSON.stringify(arg)}`);
    const key = arg.slice(0, at).replace(/^--/, '');
    const value = arg.slice(at + 1);
    switch (key) {
      case 'pod-manifest-path':
        out.staticPodPath = value;
        break;
      case 'eviction-hard':
        try {
          parseEvictionHard(value);
        } catch (err) {
          if (err instanceof ThresholdError)
            throw new UsageError(`${command}: --kubelet-arg eviction-hard: ${err.message}`);
          throw err;
        }
        out.evictionHard = value;
        break;
      case 'image-gc-high-threshold':
        gc.highThresholdPercent = percent(command, key, value);
        break;
      case 'image-gc-low-threshold':
        gc.lowThresholdPercent = percent(command, key, value);
        break;
      case 'minimum-image-ttl-duration':
      case 'image-gc-period': {
        const ms = parseDuration(value);
        if (ms === undefined)
          throw new UsageError(`${command}: --kubelet-arg ${key}: invalid duration ${JSON.stringify(value)}`);
        if (key === 'image-gc-period') gc.periodMs = ms;
        else gc.minAgeMs = ms;
        break;
      }
      default:
        throw new UsageError(`${command}: --kubelet-arg: unsupported kubelet setting ${JSON.stringify(key)}`);
    }
  }
  if (Object.keys(gc).length > 0) {
    try {
      validatePolicy({ ...DEFAULT_IMAGE_GC_POLICY, ...gc });
    } catch (err) {
      if (err instanceof ImageGCError) throw new UsageError(`${command}: --kubelet-arg: ${err.message}`);
      throw err;
    }
    out.imageGC = gc;
  }
  return out;
}
