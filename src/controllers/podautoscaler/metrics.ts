// Where the autoscaler reads pod usage: the resource metrics API (metrics.k8s.io/v1beta1
// PodMetrics, served by metrics-server upstream). Behind an interface so tests can supply usage.
import { tryParseQuantity, quantityMilliValue } from '../../api/quantity.js';
import type { RestClient } from '../../client/rest.js';

/** One pod's usage as PodMetrics reports it: per container, quantities as the API writes them. */
export interface PodMetricsSample {
  name: string;
  /** When the usage was measured (ms since the epoch). */
  timestampMs: number;
  /** The window the usage was averaged over. */
  windowMs: number;
  containers: Array<{ name: string; usage: Readonly<Record<string, string>> }>;
}

export interface ResourceMetricsSource {
  /** The PodMetrics of the pods a label selector (in its string form) picks in a namespace. */
  podMetrics(namespace: string, selector: string): Promise<PodMetricsSample[]>;
}

/** A pod's usage of one resource, summed over its containers (upstream's metrics client). */
export interface PodMetric {
  timestampMs: number;
  windowMs: number;
  /** Milli-units (millicores for cpu). */
  milli: number;
}

/**
 * Sums each pod's usage of a resource over its containers (or takes one named container's). A pod
 * with no containers, or whose containers do not report the resource, is left out (it counts as
 * missing metrics), as upstream does.
 */
export function podUsage(
  samples: readonly PodMetricsSample[],
  resource: string,
  container?: string,
): Map<string, PodMetric> {
  const out = new Map<string, PodMetric>();
  for (const s of samples) {
    const containers =
      container === undefined ? s.containers : s.containers.filter((c) => c.name === container);
    if (containers.length === 0) continue;
    let sum = 0;
    let missing = false;
    for (const c of containers) {
      const q = tryParseQuantity(c.usage[resource]);
      if (!q) {
        missing = true;
        break;
      }
      sum += quantityMilliValue(q);
    }
    if (!missing) out.set(s.name, { timestampMs: s.timestampMs, windowMs: s.windowMs, milli: sum });
  }
  return out;
}

/** metav1.Duration text ("30s", "1m0.5s", "250ms") in ms; undefined if unreadable. */
export function parseDurationMs(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;
  const units: Record<string, number> = {
    h: 3_600_000,
    m: 60_000,
    s: 1000,
    ms: 1,
    us: 1e-3,
    µs: 1e-3,
    ns: 1e-6,
  };
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * (units[m[2]!] ?? 0);
    consumed += m[0].length;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a PodMetricsList body, checking its shape (it crosses a process boundary). */
export function parsePodMetricsList(body: unknown): PodMetricsSample[] {
  if (!isRecord(body) || !Array.isArray(body.items))
    throw new Error('resource metrics API returned no items');
  const out: PodMetricsSample[] = [];
  for (const item of body.items) {
    if (!isRecord(item) || !isRecord(item.metadata)) continue;
    const name = item.metadata.name;
    if (typeof name !== 'string') continue;
    const ts = typeof item.timestamp === 'string' ? Date.parse(item.timestamp) : NaN;
    const windowMs = typeof item.window === 'string' ? parseDurationMs(item.window) : undefined;
    const containers: PodMetricsSample['containers'] = [];
    for (const c of Array.isArray(item.containers) ? item.containers : []) {
      if (!isRecord(c) || typeof c.name !== 'string') continue;
      const usage: Record<string, string> = {};
      if (isRecord(c.usage))
        for (const [k, v] of Object.entries(c.usage)) if (typeof v === 'string') usage[k] = v;
      containers.push({ name: c.name, usage });
    }
    out.push({
      name,
      timestampMs: Number.isNaN(ts) ? 0 : ts,
      windowMs: windowMs ?? 0,
      containers,
    });
  }
  return out;
}

/** The resource metrics API through the API server (aggregated metrics.k8s.io/v1beta1). */
export function restResourceMetricsSource(client: RestClient): ResourceMetricsSource {
  return {
    async podMetrics(namespace, selector) {
      const body = await client.request<unknown>(
        'GET',
        `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`,
        { query: { labelSelector: selector } },
      );
      return parsePodMetricsList(body);
    },
  };
}
