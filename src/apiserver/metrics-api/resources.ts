// metrics.k8s.io/v1beta1, served by the API server itself: NodeMetrics (`nodes`, cluster-scoped)
// and PodMetrics (`pods`, namespaced), get and list only, in metrics-server's shapes and errors.
// Lists start from the nodes and pods in the API (label and field selectors apply to those), then
// keep the ones the collector has usage for: a node that cannot be reached, or a pod that is not
// Running or not yet sampled twice, is left out.
import type { Node, Pod } from '../../api/generated/types.js';
import { notFound, type QualifiedResource } from '../../api/errors.js';
import type { KubeObject } from '../../api/meta.js';
import { addQuantity, formatQuantity, parseQuantity, type Quantity } from '../../api/quantity.js';
import type { ResourceDescription, TableColumn } from '../../api/types.js';
import { fieldValue, parseListOptions } from '../list-options.js';
import { nowTimestamp } from '../objects.js';
import { methodNotAllowed, type Reply, type RestRequest } from '../rest.js';
import { buildTable, negotiateOutput, type IncludeObject } from '../table.js';
import type { VirtualResource } from '../virtual-resource.js';
import type { MetricsCollector } from './collector.js';
import { METRICS_DEFINITIONS } from './schemas.js';
import { formatDuration, type Usage } from './storage.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** What the handlers read: the nodes and pods in the API. */
export interface MetricsSource {
  listNodes(): Promise<Node[]>;
  getNode(name: string): Promise<Node | undefined>;
  /** Pods of one namespace, or of all when namespace is ''. */
  listPods(namespace: string): Promise<Pod[]>;
  getPod(namespace: string, name: string): Promise<Pod | undefined>;
}

// Errors name the resources as metrics-server registers them.
const NODE_METRICS: QualifiedResource = { group: METRICS_GROUP, resource: 'nodemetrics' };
const POD_METRICS: QualifiedResource = { group: METRICS_GROUP, resource: 'podmetrics' };

function usageOf(obj: KubeObject): Record<string, string>[] {
  if (Array.isArray(obj.containers))
    return (obj.containers as { usage?: Record<string, string> }[]).map((c) => c.usage ?? {});
  return [(obj.usage as Record<string, string> | undefined) ?? {}];
}

/** The summed usage of one resource over a metrics object's containers, for its table row. */
function summed(obj: KubeObject, resource: string): string {
  let total: Quantity | undefined;
  for (const u of usageOf(obj)) {
    const v = u[resource];
    if (v === undefined) continue;
    const q = parseQuantity(v);
    total = total ? addQuantity(total, q) : q;
  }
  return total ? formatQuantity(total) : '';
}

// metrics-server's table: the name, each usage (sorted by resource name) and the window.
const TABLE_COLUMNS: readonly TableColumn[] = [
  {
    name: 'Name',
    type: 'string',
    format: 'name',
    description: 'Name of the resource',
    priority: 0,
    cell: (o) => o.metadata.name ?? '',
  },
  {
    name: 'cpu',
    type: 'string',
    format: 'quantity',
    description: '',
    priority: 0,
    cell: (o) => summed(o, 'cpu'),
  },
  {
    name: 'memory',
    type: 'string',
    format: 'quantity',
    description: '',
    priority: 0,
    cell: (o) => summed(o, 'memory'),
  },
  {
    name: 'Window',
    type: 'string',
    format: 'duration',
    description: '',
    priority: 0,
    cell: (o) => (typeof o.window === 'string' ? o.window : ''),
  },
];

export const NODE_METRICS_RESOURCE: ResourceDescription = {
  group: METRICS_GROUP,
  version: METRICS_VERSION,
  kind: 'NodeMetrics',
  plural: 'nodes',
  singular: '',
  namespaced: false,
  schemaRef: 'io.k8s.metrics.pkg.apis.metrics.v1beta1.NodeMetrics',
  verbs: ['get', 'list'],
  tableColumns: TABLE_COLUMNS,
};

export const POD_METRICS_RESOURCE: ResourceDescription = {
  group: METRICS_GROUP,
  version: METRICS_VERSION,
  kind: 'PodMetrics',
  plural: 'pods',
  singular: '',
  namespaced: true,
  schemaRef: 'io.k8s.metrics.pkg.apis.metrics.v1beta1.PodMetrics',
  verbs: ['get', 'list'],
  tableColumns: TABLE_COLUMNS,
};

function usageJson(u: Usage): Record<string, string> {
  return { cpu: u.cpu, memory: u.memory };
}

function byName<T extends { metadata: { name?: string; namespace?: string } }>(a: T, b: T): number {
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Builds the API objects from the collector's usage. */
export class MetricsView {
  constructor(private readonly collector: MetricsCollector) {}

  nodeMetrics(node: Node, now = new Date()): KubeObject | undefined {
    const name = node.metadata.name ?? '';
    const u = this.collector.storage.nodeUsage(name);
    if (!u) return undefined;
    return {
      kind: 'NodeMetrics',
      apiVersion: API_VERSION,
      metadata: {
        name,
        creationTimestamp: nowTimestamp(now),
        ...(node.metadata.labels ? { labels: { ...node.metadata.labels } } : {}),
      },
      timestamp: nowTimestamp(new Date(u.timestamp)),
      window: formatDuration(u.windowMs),
      usage: usageJson(u.usage),
    };
  }

  /** Metrics of a Running pod whose containers all have usage; containers in the pod's order. */
  podMetrics(pod: Pod, now = new Date()): KubeObject | undefined {
    if (pod.status?.phase !== 'Running') return undefined;
    const namespace = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const u = this.collector.storage.podUsage(namespace, name);
    if (!u) return undefined;
    const order = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].map((c) => c.name);
    const rank = (c: string): number => {
      const i = order.indexOf(c);
      return i < 0 ? order.length : i;
    };
    const containers = [...u.containers].sort((a, b) => rank(a.name) - rank(b.name));
    return {
      kind: 'PodMetrics',
      apiVersion: API_VERSION,
      metadata: {
        name,
        namespace,
        creationTimestamp: nowTimestamp(now),
        ...(pod.metadata.labels ? { labels: { ...pod.metadata.labels } } : {}),
      },
      timestamp: nowTimestamp(new Date(u.timestamp)),
      window: formatDuration(u.windowMs),
      containers: containers.map((c) => ({ name: c.name, usage: usageJson(c.usage) })),
    };
  }
}

function reply(
  r: RestRequest,
  desc: ResourceDescription,
  value: KubeObject | KubeObject[],
  listKind: string,
): Reply {
  const list = Array.isArray(value);
  const out = negotiateOutput(r.req.headers.accept, list);
  if (out?.as === 'Table') {
    const include = (r.query.get('includeObject') ?? 'Metadata') as IncludeObject;
    const table = buildTable(
      desc,
      list ? value : [value],
      {},
      {
        includeObject: include === 'None' || include === 'Object' ? include : 'Metadata',
        version: out.version ?? 'v1',
      },
    );
    return { status: 200, body: table, contentType: out.contentType };
  }
  if (!list) return { status: 200, body: value };
  // Items of a list carry no kind or apiVersion of their own, as upstream serialises them.
  const items = value.map((o) => {
    const { kind: _kind, apiVersion: _apiVersion, ...rest } = o;
    return rest;
  });
  return { status: 200, body: { kind: listKind, apiVersion: API_VERSION, metadata: {}, items } };
}

/** The two metrics.k8s.io resources, answered from the collector's usage of what `source` lists. */
export function metricsApiResources(source: MetricsSource, collector: MetricsCollector): VirtualResource[] {
  const view = new MetricsView(collector);

  const nodes: VirtualResource = {
    description: NODE_METRICS_RESOURCE,
    definitions: METRICS_DEFINITIONS,
    async handle(r) {
      const desc = NODE_METRICS_RESOURCE;
      if (r.info.subresource) throw methodNotAllowed();
      if (r.info.verb === 'get') {
        const node = await source.getNode(r.info.name);
        if (!node) throw notFound({ group: '', resource: 'nodes' }, r.info.name);
        await collector.ready();
        const m = view.nodeMetrics(node);
        if (!m) throw notFound(NODE_METRICS, r.info.name);
        return reply(r, desc, m, 'NodeMetricsList');
      }
      if (r.info.verb === 'list') {
        const opts = parseListOptions(desc, r.query);
        const selected = (await source.listNodes()).filter(
          (n) =>
            opts.labelSelector.matches(n.metadata.labels) &&
            opts.fieldSelector.matches((f) => fieldValue(desc, n, f)),
        );
        await collector.ready();
        const items = selected
          .sort(byName)
          .map((n) => view.nodeMetrics(n))
          .filter((m): m is KubeObject => m !== undefined);
        return reply(r, desc, items, 'NodeMetricsList');
      }
      throw methodNotAllowed();
    },
  };

  const pods: VirtualResource = {
    description: POD_METRICS_RESOURCE,
    definitions: METRICS_DEFINITIONS,
    async handle(r) {
      const desc = POD_METRICS_RESOURCE;
      if (r.info.subresource) throw methodNotAllowed();
      const namespace = r.info.namespace;
      if (r.info.verb === 'get') {
        const pod = await source.getPod(namespace, r.info.name);
        if (!pod) throw notFound({ group: '', resource: 'pods' }, r.info.name);
        await collector.ready();
        const m = view.podMetrics(pod);
        if (!m) throw notFound(POD_METRICS, `${namespace}/${r.info.name}`);
        return reply(r, desc, m, 'PodMetricsList');
      }
      if (r.info.verb === 'list') {
        const opts = parseListOptions(desc, r.query);
        const selected = (await source.listPods(namespace)).filter(
          (p) =>
            opts.labelSelector.matches(p.metadata.labels) &&
            opts.fieldSelector.matches((f) => fieldValue(desc, p, f)),
        );
        await collector.ready();
        const items = selected
          .sort(byName)
          .map((p) => view.podMetrics(p))
          .filter((m): m is KubeObject => m !== undefined);
        return reply(r, desc, items, 'PodMetricsList');
      }
      throw methodNotAllowed();
    },
  };

  return [nodes, pods];
}
