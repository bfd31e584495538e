// Scrapes every node every intervalMs while the metrics API is in use, as metrics-server does
// (every 15 s), and keeps the last two cycles in MetricsStorage. It starts with the first request
// (two cycles a moment apart, so that the first answer already has a CPU rate) and stops after
// idleMs without requests, so a cluster nobody asks about is never scraped. A node that does not
// answer is left out of the cycle and retried with back-off.
import type { Node } from '../../api/generated/types.js';
import { createLogger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import type { NodeScraper } from './scraper.js';
import { MetricsStorage, type NodeBatch } from './storage.js';

const log = createLogger('metrics-api');
const scrapes = metrics.counter(
  'metrics_server_kubelet_scrape_total',
  'Node stats scrapes by the metrics API, by outcome.',
);

export interface CollectorOptions {
  readonly listNodes: () => Promise<Node[]>;
  readonly scrape: NodeScraper;
  /** Between cycles (default 10 s). */
  readonly intervalMs?: number;
  /** Between the first two cycles (default 1 s). */
  readonly warmupMs?: number;
  /** Stop scraping after this long without a request (default 10 min). */
  readonly idleMs?: number;
  /** Nodes scraped at once (default 16). */
  readonly concurrency?: number;
  /** Longest wait before retrying a node that failed (default 5 min). */
  readonly maxBackoffMs?: number;
  readonly now?: () => number;
}

interface Failing {
  readonly since: number;
  readonly retryAt: number;
  readonly delayMs: number;
}

export class MetricsCollector {
  readonly storage = new MetricsStorage();
  private readonly intervalMs: number;
  private readonly warmupMs: number;
  private readonly idleMs: number;
  private readonly concurrency: number;
  private readonly maxBackoffMs: number;
  private readonly now: () => number;
  private readonly failing = new Map<string, Failing>();
  private warm: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastUse = 0;
  private stopped = false;

  constructor(private readonly opts: CollectorOptions) {
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.warmupMs = opts.warmupMs ?? 1000;
    this.idleMs = opts.idleMs ?? 600_000;
    this.concurrency = opts.concurrency ?? 16;
    this.maxBackoffMs = opts.maxBackoffMs ?? 300_000;
    this.now = opts.now ?? Date.now;
  }

  /** Starts scraping if it is not running; resolves once the first two cycles are stored. */
  ready(): Promise<void> {
    this.lastUse = this.now();
    if (this.stopped) return Promise.resolve();
    this.warm ??= this.warmUp();
    return this.warm;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async warmUp(): Promise<void> {
    log.info('starting to scrape nodes', { intervalMs: this.intervalMs });
    await this.cycle();
    await new Promise((r) => setTimeout(r, this.warmupMs));
    await this.cycle();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.now() - this.lastUse > this.idleMs) {
        log.info('no metrics requests for a while; stopped scraping nodes', { idleMs: this.idleMs });
        this.warm = undefined;
        return;
      }
      this.cycle().then(
        () => this.schedule(),
        (err: unknown) => {
          log.error('scrape cycle failed', { err: err instanceof Error ? err.message : String(err) });
          this.schedule();
        },
      );
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One cycle: every node not backing off, concurrency at a time; then the batch is stored. */
  async cycle(): Promise<void> {
    let nodes: Node[];
    try {
      nodes = await this.opts.listNodes();
    } catch (err) {
      log.error('listing nodes to scrape failed', { err: err instanceof Error ? err.message : String(err) });
      return;
    }
    const now = this.now();
    const names = new Set(nodes.map((n) => n.metadata.name ?? ''));
    for (const name of this.failing.keys()) if (!names.has(name)) this.failing.delete(name);
    const due = nodes.filter((n) => (this.failing.get(n.metadata.name ?? '')?.retryAt ?? 0) <= now);
    const batches = new Map<string, NodeBatch>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length) {
        const node = due[next++]!;
        const name = node.metadata.name ?? '';
        try {
          batches.set(name, await this.opts.scrape(node));
          scrapes.inc({ outcome: 'success' });
          if (this.failing.delete(name)) log.info('node answers stats requests again', { node: name });
        } catch (err) {
          scrapes.inc({ outcome: 'error' });
          this.noteFailure(name, err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, due.length) }, () => worker()));
    this.storage.store(batches);
  }

  private noteFailure(name: string, err: unknown): void {
    const now = this.now();
    const before = this.failing.get(name);
    const delayMs = before ? Math.min(before.delayMs * 2, this.maxBackoffMs) : this.intervalMs;
    this.failing.set(name, { since: before?.since ?? now, retryAt: now + delayMs, delayMs });
    const fields = {
      node: name,
      err: err instanceof Error ? err.message : String(err),
      retryInMs: delayMs,
    };
    // Once per outage at warning level: a fleet of unreachable nodes would flood the log otherwise.
    if (before) log.debug('failed to scrape node', fields);
    else log.warn('failed to scrape node; its metrics are left out', fields);
  }
}
