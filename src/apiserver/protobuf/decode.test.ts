import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtobuf, goDuration, PROTOBUF_MAGIC } from './decode.js';

// A tiny encoder for the test: proto2 fields as Kubernetes' generated code writes them.
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const bytesField = (field: number, data: number[] | Uint8Array): number[] => [
  ...varint(field * 8 + 2),
  ...varint(data.length),
  ...data,
];
const strField = (field: number, s: string): number[] => bytesField(field, [...Buffer.from(s)]);
const intField = (field: number, n: number): number[] => [...varint(field * 8), ...varint(n)];

function envelope(apiVersion: string, kind: string, raw: number[]): Buffer {
  const typeMeta = [...strField(1, apiVersion), ...strField(2, kind)];
  return Buffer.concat([PROTOBUF_MAGIC, Buffer.from([...bytesField(1, typeMeta), ...bytesField(2, raw)])]);
}

const MESSAGES: Readonly<Record<string, string>> = {
  'v1/ConfigMap': 'k8s.io.api.core.v1.ConfigMap',
  'apps/v1/Deployment': 'k8s.io.api.apps.v1.Deployment',
  'networking.k8s.io/v1/Ingress': 'k8s.io.api.networking.v1.Ingress',
};
const messageFor = (apiVersion: string, kind: string): string | undefined =>
  MESSAGES[`${apiVersion}/${kind}`];

test('decodes a ConfigMap: metadata, maps, empty strings and zero times dropped', () => {
  const meta = [
    ...strField(1, 'cm'),
    ...strField(2, ''),
    ...strField(3, 'default'),
    ...bytesField(8, []),
    ...bytesField(11, [...strField(1, 'app'), ...strField(2, 'web')]),
  ];
  const raw = [
    ...bytesField(1, meta),
    ...bytesField(2, [...strField(1, 'k'), ...strField(2, 'v')]),
    ...bytesField(3, [...strField(1, 'b'), ...bytesField(2, [1, 2, 3])]),
  ];
  const { object } = decodeProtobuf(envelope('v1', 'ConfigMap', raw), messageFor);
  assert.deepEqual(object, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm', namespace: 'default', labels: { app: 'web' } },
    data: { k: 'v' },
    binaryData: { b: 'AQID' },
  });
});

test('keeps explicit zero replicas and decodes times and int-or-string', () => {
  const time = [...intField(1, 1_700_000_000)];
  const meta = [...strField(1, 'd'), ...bytesField(8, time)];
  // RollingUpdateDeployment: maxUnavailable (1) IntOrString {type 1, strVal "25%"}, maxSurge (2) {type 0, intVal 1}
  const rolling = [
    ...bytesField(1, [...intField(1, 1), ...strField(3, '25%')]),
    ...bytesField(2, [...intField(1, 0), ...intField(2, 1)]),
  ];
  const strategy = [...strField(1, 'RollingUpdate'), ...bytesField(2, rolling)];
  const spec = [...intField(1, 0), ...bytesField(4, strategy)];
  const { object } = decodeProtobuf(
    envelope('apps/v1', 'Deployment', [...bytesField(1, meta), ...bytesField(2, spec)]),
    messageFor,
  );
  assert.deepEqual(object.metadata, { name: 'd', creationTimestamp: '2023-11-14T22:13:20Z' });
  assert.deepEqual(object.spec, {
    replicas: 0,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
  });
});

test('zeros of non-pointer omitempty fields are dropped as Go would, as from kubectl create deployment --port', () => {
  // Container: name (1), image (2), ports (6: hostPort 2, containerPort 3, protocol 4), stdin (16), stdinOnce (17), tty (18).
  const port = [...intField(2, 0), ...intField(3, 80), ...strField(4, 'TCP')];
  const container = [
    ...strField(1, 'nginx'),
    ...strField(2, 'nginx:1.7.9'),
    ...bytesField(6, port),
    ...intField(16, 0),
    ...intField(17, 0),
    ...intField(18, 0),
  ];
  // PodSpec: containers (2), hostNetwork (11); PodTemplateSpec: spec (2).
  const template = [...bytesField(2, [...bytesField(2, container), ...intField(11, 0)])];
  // DeploymentSpec: replicas (1) 0 on purpose, template (3), minReadySeconds (5), paused (7).
  const spec = [...intField(1, 0), ...bytesField(3, template), ...intField(5, 0), ...intField(7, 0)];
  const { object } = decodeProtobuf(envelope('apps/v1', 'Deployment', [...bytesField(2, spec)]), messageFor);
  assert.deepEqual(object.spec, {
    replicas: 0,
    template: {
      spec: {
        containers: [
          { name: 'nginx', image: 'nginx:1.7.9', ports: [{ containerPort: 80, protocol: 'TCP' }] },
        ],
      },
    },
  });
});

test('members embedded inline in the Go types are flattened: an IngressRule from kubectl create ingress', () => {
  // IngressServiceBackend: name (1), port (2: name 1, number 2); a named port sends number 0.
  const service = [...strField(1, 'svc'), ...bytesField(2, [...strField(1, 'http'), ...intField(2, 0)])];
  const path = [...strField(1, '/'), ...bytesField(2, bytesField(4, service)), ...strField(3, 'Exact')];
  // IngressRule: host (1), ingressRuleValue (2) → IngressRuleValue: http (1) → paths (1).
  const rule = [...strField(1, 'foo.com'), ...bytesField(2, bytesField(1, bytesField(1, path)))];
  const { object } = decodeProtobuf(
    envelope('networking.k8s.io/v1', 'Ingress', [...bytesField(2, bytesField(3, rule))]),
    messageFor,
  );
  assert.deepEqual(object.spec, {
    rules: [
      {
        host: 'foo.com',
        http: {
          paths: [
            { path: '/', pathType: 'Exact', backend: { service: { name: 'svc', port: { name: 'http' } } } },
          ],
        },
      },
    ],
  });
});

test('refuses bodies without the magic prefix or of unknown kinds', () => {
  assert.throws(() => decodeProtobuf(Buffer.from('{}'), messageFor), /missing the "k8s\\x00" prefix/);
  assert.throws(
    () => decodeProtobuf(envelope('v1', 'Widget', []), messageFor),
    /no kind "Widget" is registered/,
  );
});

test('Go duration strings', () => {
  assert.equal(goDuration(0), '0s');
  assert.equal(goDuration(90e9), '1m30s');
  assert.equal(goDuration(3600e9), '1h0m0s');
  assert.equal(goDuration(1.5e6), '1.5ms');
});
