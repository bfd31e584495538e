import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENDPOINTSLICES, NODES, PODS, SERVICES } from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import { FakeClock } from '../common/clock.js';
import { fakeInformer, put, remove } from '../testing.js';
import {
  EndpointSliceController,
  podToEndpoint,
  StaleCacheError,
  type EndpointSliceObj,
  type NodeObj,
} from './endpoint-slices.js';
import type { PodObj, ServiceObj } from './pod-endpoints.js';
import { pod, svc } from './testutil.js';

const WEB = svc('web', {
  selector: { app: 'web' },
  ipFamilies: ['IPv4'],
  ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
});

function setup(max?: number) {
  const services = fakeInformer<ServiceObj>(SERVICES);
  const pods = fakeInformer<PodObj>(PODS);
  const slices = fakeInformer<EndpointSliceObj>(ENDPOINTSLICES);
  const nodes = fakeInformer<NodeObj>(NODES);
  put(nodes, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } },
  });
  const actions: string[] = [];
  let n = 0;
  const clock = new FakeClock();
  const c = new EndpointSliceController({
    services: services.getLister(),
    pods: pods.getLister(),
    slices: slices.getLister(),
    nodes: nodes.getLister(),
    client: {
      async create(_ns, s) {
        await Promise.resolve();
        const copy = structuredClone(s);
        copy.metadata.name = `${s.metadata.generateName ?? ''}${++n}`;
        actions.push(`create ${copy.metadata.name} ${(s.endpoints ?? []).length}`);
        return put(slices, copy);
      },
      async update(s) {
        await Promise.resolve();
        actions.push(`update ${s.metadata.name ?? ''} ${(s.endpoints ?? []).length}`);
        return put(slices, s);
      },
      async delete(_ns, name) {
        await Promise.resolve();
        actions.push(`delete ${name}`);
        const cur = slices.get('ns', name);
        if (cur) remove(slices, cur);
      },
    },
    log: createLogger('test'),
    maxEndpointsPerSlice: max,
    clock,
  });
  return { services, pods, slices, actions, c, clock };
}

describe('endpoint slice controller', () => {
  test('a placeholder slice for a service without endpoints, replaced once pods come', async () => {
    const t = setup();
    put(t.services, WEB);
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions, ['create web-1 0']);
    const placeholder = t.slices.get('ns', 'web-1')!;
    assert.deepEqual(placeholder.metadata.labels, {
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    assert.deepEqual(placeholder.metadata.ownerReferences, [
      {
        apiVersion: 'v1',
        kind: 'Service',
        name: 'web',
        uid: 'svc-web',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    put(t.pods, pod('a', { ip: '10.0.0.1' }));
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions.slice(1), ['create web-2 1', 'delete web-1']);
    const s = t.slices.get('ns', 'web-2')!;
    assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.equal(
      s.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'],
      '2026-01-01T00:01:00Z',
    );
  });

  test('unchanged endpoints cause no write; a changed one updates its slice in place', async () => {
    const t = setup();
    put(t.services, WEB);
    put(t.pods, pod('a', { ip: '10.0.0.1' }));
    put(t.pods, pod('b', { ip: '10.0.0.2' }));
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions, ['create web-1 2']);
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions, ['create web-1 2']);
    put(t.pods, pod('b', { ip: '10.0.0.2', ready: false, readySince: '2026-01-01T00:02:00Z' }));
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions, ['create web-1 2', 'update web-1 2']);
    const eps = t.slices.get('ns', 'web-1')!.endpoints!;
    assert.deepEqual(
      eps.map((e) => [e.addresses[0], e.conditions?.ready]),
      [
        ['10.0.0.1', true],
        ['10.0.0.2', false],
      ],
    );
  });

  test('slices hold at most the configured number of endpoints and are refilled before new ones are made', async () => {
    const t = setup(2);
    put(t.services, WEB);
    for (let i = 1; i <= 3; i++) put(t.pods, pod(`p${i}`, { ip: `10.0.0.${i}` }));
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions, ['create web-1 2', 'create web-2 1']);
    put(t.pods, pod('p4', { ip: '10.0.0.4' }));
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions.slice(2), ['update web-2 2']);
  });

  test('a port change moves endpoints to a new slice with the new ports', async () => {
    const t = setup();
    put(t.services, WEB);
    put(t.pods, pod('a', { ip: '10.0.0.1' }));
    await t.c.sync('ns/web');
    put(t.pods, pod('a', { ip: '10.0.0.1', ports: [{ name: 'http', containerPort: 9000 }] }));
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions, ['create web-1 1', 'create web-2 1', 'delete web-1']);
    assert.equal(t.slices.get('ns', 'web-2')!.ports![0]!.port, 9000);
  });

  test('a cache that has not seen the last create makes the sync wait', async () => {
    const t = setup();
    put(t.services, WEB);
    put(t.pods, pod('a'));
    await t.c.sync('ns/web');
    const created = t.slices.get('ns', 'web-1')!;
    remove(t.slices, created);
    await assert.rejects(t.c.sync('ns/web'), StaleCacheError);
    put(t.slices, created);
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions, ['create web-1 1']);
  });

  test('terminating pods stay listed: not ready, serving as their readiness, terminating', () => {
    const ep = podToEndpoint(
      pod('a', { deleting: true, node: 'n1', hostname: 'h', subdomain: 'web' }),
      WEB,
      'IPv4',
    )!;
    assert.deepEqual(ep, {
      addresses: ['10.0.0.1'],
      conditions: { ready: false, serving: true, terminating: true },
      targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' },
      hostname: 'h',
      nodeName: 'n1',
    });
    assert.equal(podToEndpoint(pod('a'), WEB, 'IPv6'), undefined);
  });

  test('pods on unknown nodes are left out and the service retried; zones come from the node', async () => {
    const t = setup();
    put(t.services, WEB);
    put(t.pods, pod('a', { ip: '10.0.0.1' }));
    put(t.pods, pod('b', { ip: '10.0.0.2', node: 'gone' }));
    await assert.rejects(t.c.sync('ns/web'), /skipping Pod b for Service ns\/web: Node gone Not Found/);
    const s = t.slices.get('ns', 'web-1')!;
    assert.deepEqual(
      s.endpoints!.map((e) => [e.addresses[0], e.zone]),
      [['10.0.0.1', 'z1']],
    );
  });

  test('services without a selector get no slices', async () => {
    const t = setup();
    put(t.services, svc('manual', { ports: [{ port: 80 }] }));
    await t.c.sync('ns/manual');
    await t.c.sync('ns/absent');
    assert.deepEqual(t.actions, []);
  });
});
