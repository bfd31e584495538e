import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import type { Node, Pod } from '../../api/generated/types.js';
import { builtinResources } from '../../api/kinds/index.js';
import {
  NodeRequestError,
  type ContainerLogOptions,
  type NodeStreamingBackend,
  type StatsSummary,
} from '../../agent/server/backend.js';
import { startNodeServer, type NodeServer } from '../../agent/server/server.js';
import { createCertificateAuthority, issueCertificate, issueClientCertificate } from '../../pki/index.js';
import { MemoryStore } from '../../storage/memory/memory-store.js';
import { storageKey } from '../resource-registry.js';
import { startTestServer, type TestServer } from '../test-server.js';
import {
  createStreamingHandler,
  nodeEndpointFromStatus,
  podLogQuery,
  splitSchemeNamePort,
  STREAMING_SUBRESOURCES,
  validateContainer,
} from './handler.js';
import { storeLookup } from './lookup.js';

const pod = (name: string, containers: string[], init: string[] = [], nodeName = 'n1'): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: {
    nodeName,
    initContainers: init.map((n) => ({ name: n, image: 'busybox' })),
    containers: containers.map((n) => ({ name: n, image: 'busybox' })),
  },
});

describe('streaming handler helpers', () => {
  test('validateContainer picks the only container and words errors as upstream', () => {
    assert.equal(validateContainer('', pod('p', ['a'])), 'a');
    assert.equal(validateContainer('b', pod('p', ['a', 'b'])), 'b');
    assert.equal(validateContainer('i', pod('p', ['a', 'b'], ['i'])), 'i');
    assert.throws(
      () => validateContainer('', pod('p', ['a', 'b'], ['i'])),
      /a container name must be specified for pod p, choose one of: \[i a b\]/,
    );
    assert.throws(() => validateContainer('zzz', pod('p', ['a'])), /container zzz is not valid for pod p/);
    assert.throws(
      () => validateContainer('', pod('p', [])),
      /^.*a container name must be specified for pod p$/,
    );
  });

  test('podLogQuery validates and normalises PodLogOptions', () => {
    const q = podLogQuery(
      new URLSearchParams('follow=true&tailLines=3&timestamps=true&limitBytes=10&container=x'),
      'p',
    );
    assert.equal(q.toString(), 'follow=true&timestamps=true&tailLines=3&limitBytes=10');
    assert.equal(
      podLogQuery(new URLSearchParams('sinceTime=2024-01-02T03:04:05.123Z'), 'p').get('sinceTime'),
      '2024-01-02T03:04:05Z',
    );
    assert.throws(() => podLogQuery(new URLSearchParams('tailLines=-1'), 'p'), /tailLines/);
    assert.throws(
      () => podLogQuery(new URLSearchParams('sinceSeconds=5&sinceTime=2024-01-02T03:04:05Z'), 'p'),
      /at most one of `sinceTime` or `sinceSeconds` may be specified/,
    );
    assert.throws(() => podLogQuery(new URLSearchParams('limitBytes=0'), 'p'), /limitBytes/);
  });

  test('splitSchemeNamePort and node endpoints', () => {
    assert.deepEqual(splitSchemeNamePort('web'), { scheme: '', name: 'web', port: '' });
    assert.deepEqual(splitSchemeNamePort('web:80'), { scheme: '', name: 'web', port: '80' });
    assert.deepEqual(splitSchemeNamePort('https:web:443'), { scheme: 'https', name: 'web', port: '443' });
    assert.equal(splitSchemeNamePort('a:b:c:d'), undefined);
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
      status: {
        addresses: [
          { type: 'Hostname', address: 'n1' },
          { type: 'InternalIP', address: '10.0.0.5' },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10251 } },
      },
    };
    assert.deepEqual(nodeEndpointFromStatus(node), { host: '10.0.0.5', port: 10251 });
    assert.deepEqual(
      nodeEndpointFromStatus({ ...node, status: { addresses: [{ type: 'Hostname', address: 'h' }] } }),
      {
        host: 'h',
        port: 10250,
      },
    );
  });
});

class FakeBackend implements NodeStreamingBackend {
  readonly nodeName = 'n1';
  lastLogOptions: ContainerLogOptions | undefined;
  constructor(private readonly list: Pod[]) {}
  pods(): Promise<Pod[]> {
    return Promise.resolve(this.list);
  }
  logs(uid: string, container: string, opts: ContainerLogOptions): Promise<Iterable<string>> {
    this.lastLogOptions = opts;
    if (container === 'waiting')
      return Promise.reject(
        new NodeRequestError(
          400,
          `container "waiting" in pod "multi" is waiting to start: ContainerCreating`,
        ),
      );
    return Promise.resolve([`log of ${uid}/${container}\n`, 'second line\n']);
  }
  exec(): Promise<string> {
    return Promise.reject(new NodeRequestError(500, 'no runtime'));
  }
  attach(): Promise<string> {
    return Promise.reject(new NodeRequestError(500, 'no runtime'));
  }
  portForward(): Promise<string> {
    return Promise.reject(new NodeRequestError(500, 'no runtime'));
  }
  stats(): Promise<StatsSummary> {
    const t = '2024-01-01T00:00:00Z';
    return Promise.resolve({
      node: { nodeName: 'n1', startTime: t, memory: { time: t, workingSetBytes: 100 } },
      pods: [
        {
          podRef: { name: 'single', namespace: 'default', uid: 'uid-single' },
          startTime: t,
          containers: [
            {
              name: 'main',
              startTime: t,
              cpu: { time: t, usageCoreNanoSeconds: 2e9 },
              memory: { time: t, workingSetBytes: 42 },
            },
          ],
        },
      ],
    });
  }
  spec() {
    return Promise.resolve({
      num_cores: 2,
      memory_capacity: 1,
      machine_id: 'm',
      system_uuid: 's',
      boot_id: 'b',
      cpu_frequency_khz: 0,
    });
  }
}

describe('streaming handler against a node API server', () => {
  let api: TestServer;
  let nodeServer: NodeServer;
  let clientPems: { cert: string; key: string; ca: string };
  const store = new MemoryStore();
  const backend = new FakeBackend([pod('single', ['main']), pod('multi', ['a', 'waiting'])]);

  before(async () => {
    const ca = await createCertificateAuthority('test-ca');
    const serving = await issueCertificate(ca, {
      commonName: 'n1',
      usages: ['digital signature', 'key encipherment', 'server auth'],
      sans: { dns: [], ips: ['127.0.0.1'] },
    });
    const client = await issueClientCertificate(ca, 'kube-apiserver-kubelet-client');
    clientPems = { cert: client.certPem, key: client.keyPem, ca: ca.certPem };
    nodeServer = await startNodeServer({
      backend,
      tls: { cert: serving.certPem, key: serving.keyPem, ca: ca.certPem },
      host: '127.0.0.1',
      port: 0,
    });
    api = await startTestServer({
      store,
      resources: builtinResources,
      subresourceHandler: createStreamingHandler({
        lookup: storeLookup(store, builtinResources),
        nodeClient: clientPems,
      }),
      extraSubresources: STREAMING_SUBRESOURCES,
    });
    const put = async (kind: string, ns: string, obj: { metadata: { name?: string } }): Promise<void> => {
      const desc = builtinResources.find((r) => r.group === '' && r.kind === kind && !r.conversion)!;
      await store.create(storageKey(desc, ns, obj.metadata.name ?? ''), JSON.stringify(obj));
    };
    for (const p of [
      pod('single', ['main']),
      pod('multi', ['a', 'waiting']),
      pod('unscheduled', ['main'], [], ''),
    ])
      await put('Pod', 'default', p);
    await put('Node', '', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: nodeServer.port } },
      },
    } as Node);
  });

  after(async () => {
    await api.close();
    await nodeServer.close();
  });

  test('pods/log streams the node answer and passes options on', async () => {
    const r = await api.request(
      'GET',
      '/api/v1/namespaces/default/pods/single/log?tailLines=5&timestamps=true',
    );
    assert.equal(r.status, 200);
    assert.equal(r.text, 'log of uid-single/main\nsecond line\n');
    assert.equal(backend.lastLogOptions?.tailLines, 5);
    assert.equal(backend.lastLogOptions?.timestamps, true);
  });

  test('pods/log errors: container choice, node refusals, unknown pods, unscheduled pods', async () => {
    const noName = await api.request('GET', '/api/v1/namespaces/default/pods/multi/log');
    assert.equal(noName.status, 400);
    assert.equal(
      noName.json.message,
      'a container name must be specified for pod multi, choose one of: [a waiting]',
    );
    const waiting = await api.request('GET', '/api/v1/namespaces/default/pods/multi/log?container=waiting');
    assert.equal(waiting.status, 400);
    assert.equal(waiting.json.reason, 'BadRequest');
    assert.equal(
      waiting.json.message,
      'container "waiting" in pod "multi" is waiting to start: ContainerCreating',
    );
    const missing = await api.request('GET', '/api/v1/namespaces/default/pods/nope/log');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.message, 'pods "nope" not found');
    const unscheduled = await api.request('GET', '/api/v1/namespaces/default/pods/unscheduled/log');
    assert.equal(unscheduled.status, 200);
    assert.equal(unscheduled.text, '');
  });

  test('exec without an upgrade is refused; a pod without a node has no host', async () => {
    const r = await api.request('POST', '/api/v1/namespaces/default/pods/single/exec?command=ls&stdout=true');
    assert.equal(r.status, 400);
    assert.equal(r.json.message, 'Upgrade request required');
    const u = await api.request(
      'POST',
      '/api/v1/namespaces/default/pods/unscheduled/exec?command=ls&stdout=true',
    );
    assert.equal(u.json.message, 'pod unscheduled does not have a host assigned');
  });

  test('nodes/proxy reaches the node API: pods, stats, metrics, spec, healthz', async () => {
    const pods = await api.request('GET', '/api/v1/nodes/n1/proxy/pods');
    assert.equal(pods.status, 200);
    assert.equal(pods.json.kind, 'PodList');
    assert.equal(pods.json.items?.length, 2);
    const stats = await api.request('GET', '/api/v1/nodes/n1/proxy/stats/summary');
    assert.equal((stats.json.node as { nodeName: string }).nodeName, 'n1');
    const m = await api.request('GET', '/api/v1/nodes/n1/proxy/metrics/resource');
    assert.match(
      m.text,
      /^container_cpu_usage_seconds_total\{container="main",namespace="default",pod="single"\} 2 1704067200000$/m,
    );
    assert.match(m.text, /^node_memory_working_set_bytes 100 1704067200000$/m);
    assert.equal((await api.request('GET', '/api/v1/nodes/n1/proxy/spec')).json.num_cores, 2);
    assert.equal((await api.request('GET', '/api/v1/nodes/n1/proxy/healthz')).text, 'ok\n');
    assert.equal((await api.request('GET', '/api/v1/nodes/nope/proxy/pods')).status, 404);
  });

  test('the node API wants a client certificate from the cluster CA', async () => {
    const status = (withCert: boolean): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: nodeServer.port,
            path: '/pods',
            ca: clientPems.ca,
            ...(withCert ? { cert: clientPems.cert, key: clientPems.key } : {}),
            agent: false,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    assert.equal(await status(false), 401);
    assert.equal(await status(true), 200);
  });

  test('discovery announces the streaming subresources', async () => {
    const r = await api.request('GET', '/api/v1');
    const names = (r.json.resources as { name: string; verbs: string[] }[]).map((x) => x.name);
    for (const n of [
      'pods/log',
      'pods/exec',
      'pods/attach',
      'pods/portforward',
      'pods/proxy',
      'services/proxy',
      'nodes/proxy',
    ])
      assert.ok(names.includes(n), n);
  });
});
