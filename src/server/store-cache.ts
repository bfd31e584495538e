// An in-memory view of one storage prefix, kept current by a store watch. The authenticator and the
// RBAC authorizer read through it, so that authorizing a request costs map lookups, not queries.
// It lives beside the store because it is part of the API server's own machinery, not a client.
import { CompactedError } from '../storage/errors.js';
import type { Store, Watch } from '../storage/types.js';
import type { KubeObject } from '../api/meta.js';
import { createLogger } from '../util/log.js';

const log = createLogger('store-cache');

export class StoreCache<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  private watch: Watch | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    readonly prefix: string,
  ) {}

  /** Lists the prefix and starts following it; resolves once the initial list is in. */
  async start(): Promise<void> {
    const revision = await this.relist();
    this.follow(revision);
  }

  private async relist(): Promise<number> {
    const { items, revision } = await this.store.list(this.prefix);
    this.items.clear();
    for (const kv of items) this.items.set(kv.key, JSON.parse(kv.value) as T);
    return revision;
  }

  private follow(afterRevision: number): void {
    if (this.stopped) return;
    let last = afterRevision;
    this.watch = this.store.watch(
      this.prefix,
      { afterRevision },
      {
        onEvents: (events) => {
          for (const e of events) {
            if (e.type === 'delete') this.items.delete(e.kv.key);
            else this.items.set(e.kv.key, JSON.parse(e.kv.value) as T);
            last = e.revision;
          }
        },
        onError: (err) => {
          if (this.stopped) return;
          const compacted = err instanceof CompactedError;
          log.warn('watch ended; following again', { prefix: this.prefix, error: err, relist: compacted });
          this.retryTimer = setTimeout(() => {
            const next = compacted ? this.relist() : Promise.resolve(last);
            next.then(
              (rev) => this.follow(rev),
              (e: unknown) => log.error('relist failed', { prefix: this.prefix, error: e }),
            );
          }, 200);
          this.retryTimer.unref();
        },
      },
    );
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  /** Every cached object whose key starts with the cache's prefix plus `subPrefix`. */
  list(subPrefix = ''): T[] {
    if (subPrefix === '') return [...this.items.values()];
    const want = this.prefix + subPrefix;
    const out: T[] = [];
    for (const [k, v] of this.items) if (k.startsWith(want)) out.push(v);
    return out;
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}
