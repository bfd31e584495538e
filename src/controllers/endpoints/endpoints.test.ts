import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENDPOINTS, PODS, SERVICES } from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import { fakeInformer, put } from '../testing.js';
import { desiredSubsets, EndpointsController, type EndpointsObj } from './endpoints.js';
import {
  findPort,
  podEndpointsChanged,
  servicesForPod,
  type PodObj,
  type ServiceObj,
} from './pod-endpoints.js';
import { pod, svc } from './testutil.js';

const WEB = svc('web', {
  selector: { app: 'web' },
  ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
});

function setup() {
  const services = fakeInformer<ServiceObj>(SERVICES);
  const pods = fakeInformer<PodObj>(PODS);
  const endpoints = fakeInformer<EndpointsObj>(ENDPOINTS);
  const actions: string[] = [];
  const writes: EndpointsObj[] = [];
  const c = new EndpointsController({
    services: services.getLister(),
    pods: pods.getLister(),
    endpoints: endpoints.getLister(),
    client: {
      async create(_ns, ep) {
        await Promise.resolve();
        actions.push(`create ${ep.metadata.name ?? ''}`);
        writes.push(ep);
      },
      async update(ep) {
        await Promise.resolve();
        actions.push(`update ${ep.metadata.name ?? ''}`);
        writes.push(ep);
      },
      async delete(_ns, name) {
        await Promise.resolve();
        actions.push(`delete ${name}`);
      },
    },
    log: createLogger('test'),
  });
  return { services, pods, endpoints, actions, writes, c };
}

describe('endpoints subsets', () => {
  test('ready and not-ready pods, named and numeric target ports, pods without an IP or terminal left out', () => {
    const s = svc('web', {
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'metrics', port: 9090, targetPort: 9100, protocol: 'TCP' },
      ],
    });
    const subsets = desiredSubsets(s, [
      pod('a', { ip: '10.0.0.2', node: 'n1' }),
      pod('b', { ip: '10.0.0.1', ready: false }),
      pod('c', { ip: '' }),
      pod('d', { ip: '10.0.0.9', phase: 'Succeeded' }),
      pod('e', { ip: '10.0.0.8', deleting: true }),
    ]);
    assert.deepEqual(subsets, [
      {
        addresses: [
          {
            ip: '10.0.0.2',
            nodeName: 'n1',
            targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' },
          },
        ],
        notReadyAddresses: [
          {
            ip: '10.0.0.1',
            nodeName: 'n1',
            targetRef: { kind: 'Pod', namespace: 'ns', name: 'b', uid: 'uid-b' },
          },
        ],
        ports: [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: 'metrics', port: 9100, protocol: 'TCP' },
        ],
      },
    ]);
  });

  test('pods offering different ports land in different subsets', () => {
    const subsets = desiredSubsets(WEB, [
      pod('a', { ip: '10.0.0.1' }),
      pod('b', { ip: '10.0.0.2', ports: [{ name: 'http', containerPort: 9000 }] }),
    ]);
    assert.equal(subsets.length, 2);
    assert.deepEqual(subsets.map((s) => s.ports?.[0]?.port).sort(), [8080, 9000]);
  });

  test('a pod without the named port contributes nothing for it', () => {
    assert.deepEqual(desiredSubsets(WEB, [pod('a', { ports: [{ name: 'other', containerPort: 1 }] })]), []);
    assert.equal(findPort(pod('a'), { port: 80, targetPort: 'http', protocol: 'UDP' }), undefined);
    assert.equal(findPort(pod('a'), { port: 80 }), 80);
  });

  test('publishNotReadyAddresses lists every pod as ready, terminating ones included', () => {
    const s = svc('web', {
      selector: { app: 'web' },
      publishNotReadyAddresses: true,
      ports: [{ port: 80, targetPort: 8080 }],
    });
    const subsets = desiredSubsets(s, [
      pod('a', { ip: '10.0.0.1', ready: false }),
      pod('b', { ip: '10.0.0.2', deleting: true }),
    ]);
    assert.deepEqual(
      subsets[0]!.addresses!.map((a) => a.ip),
      ['10.0.0.1', '10.0.0.2'],
    );
    assert.equal(subsets[0]!.notReadyAddresses, undefined);
  });

  test('headless services without ports list addresses, with hostnames for pods of their subdomain', () => {
    const s = svc('db', { selector: { app: 'web' }, clusterIP: 'None' });
    const subsets = desiredSubsets(s, [
      pod('a', { ip: '10.0.0.1', hostname: 'db-0', subdomain: 'db' }),
      pod('b', { ip: '10.0.0.2', hostname: 'x', subdomain: 'other' }),
    ]);
    assert.deepEqual(
      subsets[0]!.addresses!.map((a) => [a.ip, a.hostname]),
      [
        ['10.0.0.1', 'db-0'],
        ['10.0.0.2', undefined],
      ],
    );
    assert.equal(subsets[0]!.ports, undefined);
  });
});

describe('endpoints controller', () => {
  test('creates the Endpoints with labels and the trigger time, then writes only on change', async () => {
    const t = setup();
    put(t.services, { ...WEB, metadata: { ...WEB.metadata, labels: { tier: 'front' } } });
    put(t.pods, pod('a'));
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions, ['create web']);
    const ep = t.writes[0]!;
    assert.deepEqual(ep.metadata.labels, {
      tier: 'front',
      'endpoints.kubernetes.io/managed-by': 'endpoint-controller',
    });
    assert.equal(
      ep.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'],
      '2026-01-01T00:00:00Z',
    );
    put(t.endpoints, ep);
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions, ['create web']);
    put(t.pods, pod('a', { ready: false, readySince: '2026-01-01T00:09:00Z' }));
    await t.c.sync('ns/web');
    assert.deepEqual(t.actions, ['create web', 'update web']);
    assert.equal(t.writes[1]!.subsets?.[0]?.notReadyAddresses?.length, 1);
    assert.equal(
      t.writes[1]!.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'],
      '2026-01-01T00:09:00Z',
    );
  });

  test('services without a selector and ExternalName services are left alone; a deleted service loses its Endpoints', async () => {
    const t = setup();
    put(t.services, svc('manual', { ports: [{ port: 80 }] }));
    put(
      t.services,
      svc('ext', { type: 'ExternalName', externalName: 'example.com', selector: { app: 'web' } }),
    );
    await t.c.sync('ns/manual');
    await t.c.sync('ns/ext');
    assert.deepEqual(t.actions, []);
    await t.c.sync('ns/gone');
    assert.deepEqual(t.actions, ['delete gone']);
  });

  test('headless services are labelled', async () => {
    const t = setup();
    put(t.services, svc('db', { selector: { app: 'web' }, clusterIP: 'None' }));
    await t.c.sync('ns/db');
    assert.equal(t.writes[0]!.metadata.labels?.['service.kubernetes.io/headless'], '');
    assert.equal(t.writes[0]!.subsets, undefined);
  });
});

describe('pod events', () => {
  test('find the services whose selector matches old or new labels', () => {
    const services = fakeInformer<ServiceObj>(SERVICES);
    put(services, WEB);
    put(services, svc('api', { selector: { app: 'api' } }));
    put(services, svc('manual', {}));
    assert.deepEqual(servicesForPod(services.getLister(), 'ns', { app: 'web' }), ['ns/web']);
    assert.deepEqual(servicesForPod(services.getLister(), 'ns', { app: 'web' }, { app: 'api' }).sort(), [
      'ns/api',
      'ns/web',
    ]);
  });

  test('only relevant pod changes count', () => {
    const a = pod('a');
    assert.equal(
      podEndpointsChanged(a, { ...a, metadata: { ...a.metadata, annotations: { x: 'y' } } }).changed,
      false,
    );
    assert.equal(podEndpointsChanged(a, pod('a', { ready: false })).changed, true);
    assert.equal(podEndpointsChanged(a, pod('a', { ip: '10.9.9.9' })).changed, true);
    assert.deepEqual(podEndpointsChanged(a, pod('a', { labels: { app: 'x' } })), {
      labelsChanged: true,
      changed: true,
    });
  });
});
