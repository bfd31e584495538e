// Reads one node's usage from its agent's stats summary (kubelet's /stats/summary), over HTTPS
// with the API server's kubelet-client certificate, the way logs and exec reach the node.
import { request } from 'node:https';
import type { Node } from '../../api/generated/types.js';
import { isPlainObject } from '../../api/meta.js';
import type { NodeEndpoint } from '../streaming/handler.js';
import type { MetricsPoint, NodeBatch } from './storage.js';

export interface NodeClientTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Verifies the node's serving certificate when present. */
  readonly ca?: string | Buffer;
}

export type NodeScraper = (node: Node) => Promise<NodeBatch>;

export class ScrapeError extends Error {
  override readonly name = 'ScrapeError';
}

type Json = Record<string, unknown>;

function record(v: unknown): Json | undefined {
  return isPlainObject(v) ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function time(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * A sample from a summary entry with cpu and memory, or undefined when either is missing (as
 * metrics-server skips containers without both). The CPU sample's time is the sample's time.
 */
function pointOf(entry: Json, startTime: unknown): MetricsPoint | undefined {
  const cpu = record(entry.cpu);
  const memory = record(entry.memory);
  const cumulative = num(cpu?.usageCoreNanoSeconds);
  const workingSet = num(memory?.workingSetBytes);
  const timestamp = time(cpu?.time) ?? time(memory?.time);
  const start = time(startTime);
  if (cumulative === undefined || workingSet === undefined || timestamp === undefined || start === undefined)
    return undefined;
  return { startTime: start, timestamp, cumulativeCpuNanos: cumulative, workingSetBytes: workingSet };
}

/** The samples in a stats summary (stats.k8s.io/v1alpha1 Summary); throws ScrapeError when it is not one. */
export function parseSummary(body: unknown): NodeBatch {
  const summary = record(body);
  const node = record(summary?.node);
  if (!summary || !node) throw new ScrapeError('not a stats summary: no node');
  const pods = new Map<string, Map<string, MetricsPoint>>();
  const podList = Array.isArray(summary.pods) ? summary.pods : [];
  for (const raw of podList) {
    const pod = record(raw);
    const ref = record(pod?.podRef);
    if (!pod || !ref || typeof ref.name !== 'string' || typeof ref.namespace !== 'string') continue;
    const containers = new Map<string, MetricsPoint>();
    for (const c of Array.isArray(pod.containers) ? pod.containers : []) {
      const entry = record(c);
      if (!entry || typeof entry.name !== 'string') continue;
      const point = pointOf(entry, entry.startTime);
      if (point) containers.set(entry.name, point);
    }
    if (containers.size > 0) pods.set(`${ref.namespace}/${ref.name}`, containers);
  }
  const nodePoint = pointOf(node, node.startTime);
  return nodePoint ? { node: nodePoint, pods } : { pods };
}

/** A scraper that asks each node's agent at the endpoint its status publishes. */
export function httpsScraper(opts: {
  readonly tls: NodeClientTls;
  readonly endpoint: (node: Node) => NodeEndpoint | undefined;
  /** Per request (default 5 s). */
  readonly timeoutMs?: number;
}): NodeScraper {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return (node) =>
    new Promise<NodeBatch>((resolve, reject) => {
      const name = node.metadata.name ?? '';
      const ep = opts.endpoint(node);
      if (!ep) {
        reject(new ScrapeError(`node ${name} has no address to reach its agent`));
        return;
      }
      const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
      const req = request(new URL(`https://${host}:${ep.port}/stats/summary`), {
        method: 'GET',
        agent: false,
        cert: opts.tls.cert,
        key: opts.tls.key,
        ca: opts.tls.ca,
        rejectUnauthorized: opts.tls.ca !== undefined,
        timeout: timeoutMs,
        headers: { Accept: 'application/json' },
      });
      req.on('timeout', () => req.destroy(new ScrapeError(`timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new ScrapeError(`request failed, status: ${res.statusCode ?? 0}: ${text.trim()}`));
            return;
          }
          try {
            resolve(parseSummary(JSON.parse(text) as unknown));
          } catch (err) {
            reject(err instanceof ScrapeError ? err : new ScrapeError(`unreadable summary: ${String(err)}`));
          }
        });
      });
      req.end();
    });
}
