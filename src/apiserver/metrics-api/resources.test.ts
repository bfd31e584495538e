import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import type { Node, Pod } from '../../api/generated/types.js';
import { StatusError } from '../../api/errors.js';
import { ANONYMOUS_USER, parseRequestInfo } from '../request-info.js';
import type { Reply } from '../rest.js';
import type { VirtualResource } from '../virtual-resource.js';
import { MetricsCollector } from './collector.js';
import { metricsApiResources, type MetricsSource } from './resources.js';
import type { MetricsPoint, NodeBatch } from './storage.js';

const NODES: Node[] = [
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { zone: 'a' } } },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2', labels: { zone: 'b' } } },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gone' } },
];

function pod(namespace: string, name: string, labels: Record<string, string>, phase = 'Running'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels },
    spec: {
      nodeName: 'n1',
      containers: [
        { name: 'main', image: 'busybox' },
        { name: 'aux', image: 'busybox' },
      ],
    },
    status: { phase },
  };
}

const PODS: Pod[] = [
  pod('default', 'web-1', { app: 'web' }),
  pod('default', 'web-2', { app: 'web' }),
  pod('default', 'db', { app: 'db' }),
  pod('default', 'pending', { app: 'web' }, 'Pending'),
  pod('other', 'web-3', { app: 'web' }),
];

const source: MetricsSource = {
  listNodes: () => Promise.resolve(NODES),
  getNode: (name) => Promise.resolve(NODES.find((n) => n.metadata.name === name)),
  listPods: (ns) => Promise.resolve(PODS.filter((p) => ns === '' || p.metadata.namespace === ns)),
  getPod: (ns, name) =>
    Promise.resolve(PODS.find((p) => p.metadata.namespace === ns && p.metadata.name === name)),
};

function batchAt(ms: number, withPods: boolean): NodeBatch {
  const p = (rate: number): MetricsPoint => ({
    startTime: 0,
    timestamp: ms,
    cumulativeCpuNanos: ms * rate * 1e6,
    workingSetBytes: 2 * 1024 * 1024,
  });
  const containers = new Map([
    ['aux', p(0.001)],
    ['main', p(0.2)],
  ]);
  return {
    node: p(1),
    pods: new Map(
      withPods ? PODS.map((x) => [`${x.metadata.namespace}/${x.metadata.name}`, containers]) : [],
    ),
  };
}

function collector(): MetricsCollector {
  let clock = 1_000_000;
  return new MetricsCollector({
    listNodes: () => {
      clock += 1000; // one second per cycle
      return source.listNodes();
    },
    scrape: (n) => {
      // 'gone' does not answer (as a node that cannot be reached).
      if (n.metadata.name === 'gone') return Promise.reject(new Error('connect EHOSTUNREACH'));
      return Promise.resolve(batchAt(clock, n.metadata.name === 'n1'));
    },
    warmupMs: 1,
    now: () => clock,
  });
}

async function call(resources: VirtualResource[], path: string, accept?: string): Promise<Reply> {
  const url = new URL(path, 'https://x');
  const info = parseRequestInfo('GET', url.pathname, url.searchParams);
  const r = resources.find((v) => v.description.plural === info.resource)!;
  return r.handle({
    info,
    desc: r.description,
    user: ANONYMOUS_USER,
    query: url.searchParams,
    req: { headers: accept ? { accept } : {} } as IncomingMessage,
    res: {} as ServerResponse,
    body: () => Promise.resolve(Buffer.alloc(0)),
  });
}

type Obj = Record<string, unknown> & { metadata: { name: string; namespace?: string } };
type List = { kind: string; apiVersion: string; items: Obj[] };

async function failure(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  assert.fail('expected a StatusError');
}

describe('metrics.k8s.io resources', () => {
  test('PodMetricsList for a label selector, in upstream shape, Running pods only', async () => {
    const c = collector();
    const res = metricsApiResources(source, c);
    try {
      const reply = await call(
        res,
        '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb',
      );
      const list = reply.body as List;
      assert.equal(list.kind, 'PodMetricsList');
      assert.equal(list.apiVersion, 'metrics.k8s.io/v1beta1');
      assert.deepEqual(
        list.items.map((i) => i.metadata.name),
        ['web-1', 'web-2'],
      );
      const item = list.items[0]!;
      assert.equal(item.kind, undefined, 'list items carry no kind');
      assert.equal(item.window, '1s');
      assert.match(String(item.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.deepEqual(item.containers, [
        { name: 'main', usage: { cpu: '200m', memory: '2Mi' } },
        { name: 'aux', usage: { cpu: '1m', memory: '2Mi' } },
      ]);
      assert.deepEqual((item.metadata as { labels?: unknown }).labels, { app: 'web' });
    } finally {
      c.stop();
    }
  });

  test('all namespaces, and a field selector on metadata.name', async () => {
    const c = collector();
    const res = metricsApiResources(source, c);
    try {
      const all = (await call(res, '/apis/metrics.k8s.io/v1beta1/pods')).body as List;
      assert.deepEqual(
        all.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`),
        ['default/db', 'default/web-1', 'default/web-2', 'other/web-3'],
      );
      const one = (
        await call(
          res,
          '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?fieldSelector=metadata.name%3Ddb',
        )
      ).body as List;
      assert.deepEqual(
        one.items.map((i) => i.metadata.name),
        ['db'],
      );
    } finally {
      c.stop();
    }
  });

  test('NodeMetrics leaves out the node that cannot be reached', async () => {
    const c = collector();
    const res = metricsApiResources(source, c);
    try {
      const list = (await call(res, '/apis/metrics.k8s.io/v1beta1/nodes')).body as List;
      assert.equal(list.kind, 'NodeMetricsList');
      assert.deepEqual(
        list.items.map((i) => i.metadata.name),
        ['n1', 'n2'],
      );
      assert.deepEqual(list.items[0]!.usage, { cpu: '1', memory: '2Mi' });
      const zoneB = (await call(res, '/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=zone%3Db'))
        .body as List;
      assert.deepEqual(
        zoneB.items.map((i) => i.metadata.name),
        ['n2'],
      );
      const got = (await call(res, '/apis/metrics.k8s.io/v1beta1/nodes/n1')).body as Obj;
      assert.equal(got.kind, 'NodeMetrics');
      const err = await failure(call(res, '/apis/metrics.k8s.io/v1beta1/nodes/gone'));
      assert.equal(err.code, 404);
      assert.equal(err.message, 'nodemetrics.metrics.k8s.io "gone" not found');
    } finally {
      c.stop();
    }
  });

  test("upstream's NotFound texts and verbs", async () => {
    const c = collector();
    const res = metricsApiResources(source, c);
    try {
      const noMetrics = await failure(
        call(res, '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/pending'),
      );
      assert.equal(noMetrics.code, 404);
      assert.equal(noMetrics.message, 'podmetrics.metrics.k8s.io "default/pending" not found');
      const noPod = await failure(call(res, '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope'));
      assert.equal(noPod.message, 'pods "nope" not found');
      const watch = await failure(call(res, '/apis/metrics.k8s.io/v1beta1/pods?watch=true'));
      assert.equal(watch.code, 405);
    } finally {
      c.stop();
    }
  });

  test('a Table for kubectl get, as metrics-server prints it', async () => {
    const c = collector();
    const res = metricsApiResources(source, c);
    try {
      const reply = await call(
        res,
        '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1',
        'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      );
      const table = reply.body as {
        kind: string;
        columnDefinitions: { name: string }[];
        rows: { cells: unknown[] }[];
      };
      assert.equal(table.kind, 'Table');
      assert.deepEqual(
        table.columnDefinitions.map((d) => d.name),
        ['Name', 'cpu', 'memory', 'Window'],
      );
      assert.deepEqual(table.rows[0]!.cells, ['web-1', '201m', '4Mi', '1s']);
    } finally {
      c.stop();
    }
  });
});
