import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../meta.js';
import { endpointSliceResource } from './endpoint-slice.js';
import { endpointsResource } from './endpoints.js';
import { ingressClassResource } from './ingress-class.js';
import { ingressResource, ingressV1ToV1beta1, ingressV1beta1ToV1 } from './ingress.js';
import { networkPolicyResource } from './network-policy.js';
import { simulateCreate } from './testing.js';

const NOW = new Date('2026-01-01T00:00:30Z');
const meta = { name: 'web', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' };

test('v1beta1 Ingress converts to v1 and back (both served groups)', () => {
  for (const apiVersion of ['extensions/v1beta1', 'networking.k8s.io/v1beta1']) {
    const old: KubeObject = {
      apiVersion,
      kind: 'Ingress',
      metadata: { ...meta },
      spec: {
        backend: { serviceName: 'default-http', servicePort: 'http' },
        tls: [{ hosts: ['a.example.com'], secretName: 'tls' }],
        rules: [
          {
            host: 'a.example.com',
            http: {
              paths: [
                { path: '/cart', pathType: 'Prefix', backend: { serviceName: 'cart', servicePort: 80 } },
                {
                  path: '/api',
                  pathType: 'ImplementationSpecific',
                  backend: { resource: { apiGroup: 'k8s.example.com', kind: 'Bucket', name: 'b' } },
                },
              ],
            },
          },
        ],
      },
    };
    const v1 = ingressV1beta1ToV1(old);
    assert.equal(v1.apiVersion, 'networking.k8s.io/v1');
    assert.deepEqual((v1.spec as Record<string, unknown>).defaultBackend, {
      service: { name: 'default-http', port: { name: 'http' } },
    });
    const paths = (
      ((v1.spec as Record<string, unknown>).rules as Record<string, unknown>[])[0]?.http as Record<
        string,
        unknown
      >
    ).paths as Record<string, unknown>[];
    assert.deepEqual(paths[0]?.backend, { service: { name: 'cart', port: { number: 80 } } });
    assert.deepEqual(ingressV1ToV1beta1(v1, apiVersion), old);
    assert.deepEqual(ingressV1beta1ToV1(ingressV1ToV1beta1(v1, apiVersion)), v1);
  }
});

test('v1beta1 Ingress defaults pathType to ImplementationSpecific; v1 requires it', () => {
  const spec = {
    rules: [{ http: { paths: [{ path: '/', backend: { serviceName: 'web', servicePort: 80 } }] } }],
  };
  const { stored, messages } = simulateCreate({
    apiVersion: 'networking.k8s.io/v1beta1',
    kind: 'Ingress',
    metadata: { ...meta },
    spec,
  });
  assert.deepEqual(messages, []);
  assert.equal(
    (
      (
        ((stored.spec as Record<string, unknown>).rules as Record<string, unknown>[])[0]?.http as Record<
          string,
          unknown
        >
      ).paths as Record<string, unknown>[]
    )[0]?.pathType,
    'ImplementationSpecific',
  );
  const v1 = simulateCreate({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { ...meta },
    spec: {
      rules: [
        { http: { paths: [{ path: '/', backend: { service: { name: 'web', port: { number: 80 } } } }] } },
      ],
    },
  });
  assert.deepEqual(v1.messages, [
    'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
  ]);
});

test('Ingress validation', () => {
  const make = (spec: Record<string, unknown>): string[] =>
    simulateCreate({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { ...meta },
      spec,
    }).messages.slice();
  const path = (p: Record<string, unknown>): Record<string, unknown> => ({
    rules: [{ host: 'foo.com', http: { paths: [p] } }],
  });
  assert.deepEqual(
    make(
      path({ path: 'cart', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }),
    ),
    ['spec.rules[0].http.paths[0].path: Invalid value: "cart": must be an absolute path'],
  );
  assert.deepEqual(
    make(path({ path: '/', pathType: 'Regex', backend: { service: { name: 'web', port: { number: 80 } } } })),
    [
      'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    ],
  );
  assert.deepEqual(
    make(path({ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: {} } } })),
    ['spec.rules[0].http.paths[0].backend.service.port: Required value: port name or number is required'],
  );
  assert.deepEqual(make({ rules: [{ host: '1.2.3.4' }] }), [
    'spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address',
  ]);
  assert.deepEqual(make({ rules: [{ host: '*.example.com' }] }), []);
});

test('Ingress table', () => {
  const ing: KubeObject = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { ...meta },
    spec: {
      ingressClassName: 'nginx',
      rules: [{ host: 'a.com' }, { host: 'b.com' }],
      tls: [{ hosts: ['a.com'] }],
    },
    status: { loadBalancer: { ingress: [{ ip: '192.168.49.2' }] } },
  };
  assert.deepEqual(
    (ingressResource.tableColumns ?? []).map((c) => c.cell(ing, NOW)),
    ['web', 'nginx', 'a.com,b.com', '192.168.49.2', '80, 443', '30s'],
  );
  const bare: KubeObject = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { ...meta },
    spec: { rules: [{}] },
  };
  assert.deepEqual(
    (ingressResource.tableColumns ?? []).map((c) => c.cell(bare, NOW)),
    ['web', '<none>', '*', '', '80', '30s'],
  );
});

test('IngressClass validation and table', () => {
  const ic: KubeObject = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'nginx', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { controller: 'k8s.io/ingress-nginx' },
  };
  assert.deepEqual(simulateCreate(ic).messages, []);
  assert.deepEqual(
    (ingressClassResource.tableColumns ?? []).map((c) => c.cell(ic, NOW)),
    ['nginx', 'k8s.io/ingress-nginx', '<none>', '30s'],
  );
  assert.deepEqual(simulateCreate({ ...ic, spec: {} }).messages, ['spec.controller: Required value']);
});

test('NetworkPolicy defaults, validation and table', () => {
  const np: KubeObject = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { ...meta },
    spec: {
      podSelector: { matchLabels: { role: 'db' } },
      ingress: [{ ports: [{ port: 6379 }] }],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }] }],
    },
  };
  const { stored, messages } = simulateCreate(np);
  assert.deepEqual(messages, []);
  assert.deepEqual((stored.spec as Record<string, unknown>).policyTypes, ['Ingress', 'Egress']);
  assert.deepEqual(
    (networkPolicyResource.tableColumns ?? []).map((c) => c.cell(stored, NOW)),
    ['web', 'role=db', '30s'],
  );
  const bad = structuredClone(np);
  (bad.spec as Record<string, unknown>).ingress = [{ ports: [{ port: 70000 }] }];
  assert.deepEqual(simulateCreate(bad).messages, [
    'spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
  ]);
  const all = { ...np, spec: { podSelector: {} } };
  assert.equal(networkPolicyResource.tableColumns?.[1]?.cell(all, NOW), '<none>');
});

test('Endpoints and EndpointSlice tables', () => {
  const ep: KubeObject = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { ...meta },
    subsets: [
      {
        addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }, { ip: '10.0.0.4' }],
        ports: [{ port: 80 }],
      },
    ],
  };
  assert.deepEqual(simulateCreate(ep).messages, []);
  assert.equal(
    endpointsResource.tableColumns?.[1]?.cell(ep, NOW),
    '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...',
  );
  assert.equal(endpointsResource.tableColumns?.[1]?.cell({ ...ep, subsets: [] }, NOW), '<none>');
  const slice: KubeObject = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { ...meta },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }],
    ports: [{ port: 80 }],
  };
  const { stored, messages } = simulateCreate(slice);
  assert.deepEqual(messages, []);
  assert.deepEqual(stored.ports, [{ port: 80, protocol: 'TCP', name: '' }]);
  assert.deepEqual(
    (endpointSliceResource.tableColumns ?? []).map((c) => c.cell(stored, NOW)),
    ['web', 'IPv4', '80', '10.0.0.1,10.0.0.2', '30s'],
  );
  assert.deepEqual(simulateCreate({ ...slice, addressType: 'IPX' }).messages, [
    'addressType: Unsupported value: "IPX": supported values: "IPv4", "IPv6", "FQDN"',
  ]);
});

test('a v1beta1 Ingress is validated as the storage version sees it', () => {
  const { messages } = simulateCreate({
    apiVersion: 'extensions/v1beta1',
    kind: 'Ingress',
    metadata: { ...meta },
    spec: {
      rules: [{ http: { paths: [{ path: '/', backend: { serviceName: 'Bad_Name', servicePort: 80 } }] } }],
    },
  });
  assert.deepEqual(messages, [
    `spec.rules[0].http.paths[0].backend.service.name: Invalid value: "Bad_Name": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
  ]);
});
