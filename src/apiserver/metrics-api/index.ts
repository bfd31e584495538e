// The resource metrics API (metrics.k8s.io/v1beta1, what `kubectl top` and the HPA read), served by
// the API server itself instead of an aggregated metrics-server: a collector scrapes the node
// agents' stats summaries, storage turns pairs of samples into usage, resources.ts serves it.
import type { Node, Pod } from '../../api/generated/types.js';
import type { ResourceDescription } from '../../api/types.js';
import type { Store } from '../../storage/types.js';
import { storageKey, storagePrefix } from '../resource-registry.js';
import { nodeEndpointFromStatus, type NodeEndpoint } from '../streaming/handler.js';
import type { VirtualResource } from '../virtual-resource.js';
import { MetricsCollector, type CollectorOptions } from './collector.js';
import { metricsApiResources, type MetricsSource } from './resources.js';
import { httpsScraper, type NodeClientTls } from './scraper.js';

export { MetricsCollector, type CollectorOptions } from './collector.js';
export {
  metricsApiResources,
  MetricsView,
  NODE_METRICS_RESOURCE,
  POD_METRICS_RESOURCE,
  METRICS_GROUP,
  METRICS_VERSION,
  type MetricsSource,
} from './resources.js';
export { httpsScraper, parseSummary, ScrapeError, type NodeScraper, type NodeClientTls } from './scraper.js';
export * from './storage.js';

function core(resources: readonly ResourceDescription[], kind: string): ResourceDescription {
  const d = resources.find((r) => r.group === '' && r.kind === kind && !r.conversion);
  if (!d) throw new Error(`core kind ${kind} is not registered`);
  return d;
}

/** Nodes and pods read straight from the store, as the streaming handlers read them. */
export function storeMetricsSource(store: Store, resources: readonly ResourceDescription[]): MetricsSource {
  const nodes = core(resources, 'Node');
  const pods = core(resources, 'Pod');
  const listAll = async <T>(prefix: string): Promise<T[]> => {
    const out: T[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.list(prefix, { limit: 500, ...(after ? { after } : {}) });
      for (const kv of page.items) out.push(JSON.parse(kv.value) as T);
      if (!page.more || page.items.length === 0) return out;
      after = page.items[page.items.length - 1]!.key;
    }
  };
  const read = async <T>(
    desc: ResourceDescription,
    namespace: string,
    name: string,
  ): Promise<T | undefined> => {
    const kv = await store.get(storageKey(desc, namespace, name));
    return kv ? (JSON.parse(kv.value) as T) : undefined;
  };
  return {
    listNodes: () => listAll<Node>(storagePrefix(nodes)),
    getNode: (name) => read<Node>(nodes, '', name),
    listPods: (namespace) => listAll<Pod>(`${storagePrefix(pods)}${namespace ? `${namespace}/` : ''}`),
    getPod: (namespace, name) => read<Pod>(pods, namespace, name),
  };
}

export interface MetricsApiOptions {
  readonly store: Store;
  readonly resources: readonly ResourceDescription[];
  /** The API server's client certificate towards node agents, and the CA of their serving certificates. */
  readonly nodeClient: NodeClientTls;
  /** Where a node's agent listens; default from its status (InternalIP, daemonEndpoints). */
  readonly nodeAddress?: (node: Node) => NodeEndpoint | undefined;
  readonly collector?: Omit<CollectorOptions, 'listNodes' | 'scrape'>;
}

export interface MetricsApi {
  readonly resources: VirtualResource[];
  readonly collector: MetricsCollector;
  stop(): void;
}

export function createMetricsApi(opts: MetricsApiOptions): MetricsApi {
  const source = storeMetricsSource(opts.store, opts.resources);
  const collector = new MetricsCollector({
    ...opts.collector,
    listNodes: () => source.listNodes(),
    scrape: httpsScraper({ tls: opts.nodeClient, endpoint: opts.nodeAddress ?? nodeEndpointFromStatus }),
  });
  return { resources: metricsApiResources(source, collector), collector, stop: () => collector.stop() };
}
