import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorMessage } from '../errors.js';
import { builtinSchemas } from '../schema-registry.js';
import {
  base64ErrorOffset,
  checkAgainstSchema,
  crdTypeFieldError,
  decodeErrorMessage,
  findTypeErrors,
  findUnknownFields,
  strictDecodingMessage,
  unknownFieldMessage,
} from './schema-walk.js';

const reg = builtinSchemas();
const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';

function deployment(
  extra: Record<string, unknown> = {},
  container: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, creationTimestamp: null },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx',
              ports: [{ containerPort: 80 }],
              resources: { limits: { cpu: 1, memory: '128Mi' } },
              ...container,
            },
          ],
        },
      },
      ...extra,
    },
  };
}

test('a valid deployment has no unknown fields and no type errors', () => {
  assert.deepEqual(checkAgainstSchema(deployment(), DEPLOYMENT, reg), { unknownFields: [], typeErrors: [] });
});

test("unknown fields are reported with upstream's paths, list indices included", () => {
  const obj = deployment({ foo: 1 }, { imagePullPolice: 'Always' });
  (obj.metadata as Record<string, unknown>).bogus = true;
  assert.deepEqual(findUnknownFields(obj, DEPLOYMENT, reg), [
    'metadata.bogus',
    'spec.template.spec.containers[0].imagePullPolice',
    'spec.foo',
  ]);
  assert.equal(unknownFieldMessage('spec.foo'), 'unknown field "spec.foo"');
  assert.equal(
    strictDecodingMessage(['spec.foo', 'spec.bar']),
    'strict decoding error: unknown field "spec.foo", unknown field "spec.bar"',
  );
});

test('maps (labels, resource limits) accept any key', () => {
  const obj = deployment();
  (obj.metadata as Record<string, unknown>).annotations = { 'anything/goes': 'x' };
  assert.deepEqual(findUnknownFields(obj, DEPLOYMENT, reg), []);
});

test("wrong types are worded like Go's JSON decoder", () => {
  assert.deepEqual(
    findTypeErrors(deployment({ replicas: '3' }), DEPLOYMENT, reg).map(({ path, message }) => ({
      path,
      message,
    })),
    [
      {
        path: 'spec.replicas',
        message:
          'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
      },
    ],
  );
  assert.deepEqual(
    findTypeErrors(deployment({}, { args: [1] }), DEPLOYMENT, reg).map((e) => e.message),
    [
      'json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.args of type string',
    ],
  );
  assert.deepEqual(
    findTypeErrors(deployment({ template: 'x' }), DEPLOYMENT, reg).map((e) => e.message),
    [
      'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.template of type v1.PodTemplateSpec',
    ],
  );
  assert.deepEqual(
    findTypeErrors(deployment({ replicas: 1.5 }), DEPLOYMENT, reg).map((e) => e.message),
    ['json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32'],
  );
  const labels = deployment();
  (labels.metadata as Record<string, unknown>).labels = { a: 1 };
  assert.deepEqual(
    findTypeErrors(labels, DEPLOYMENT, reg).map((e) => e.message),
    ['json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string'],
  );
  assert.equal(
    decodeErrorMessage('Deployment', 'v1', 'x'),
    'Deployment in version "v1" cannot be handled as a Deployment: x',
  );
});

test('int-or-string and quantities accept both forms', () => {
  assert.deepEqual(
    findTypeErrors(deployment({ strategy: { rollingUpdate: { maxSurge: true } } }), DEPLOYMENT, reg).map(
      (e) => e.path,
    ),
    ['spec.strategy.rollingUpdate.maxSurge'],
  );
  assert.deepEqual(
    findTypeErrors(deployment({}, { resources: { limits: { cpu: 'lots' } } }), DEPLOYMENT, reg).map(
      (e) => e.message,
    ),
    ["quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
  );
});

test('null is accepted anywhere (it decodes to the zero value)', () => {
  assert.deepEqual(findTypeErrors(deployment({ replicas: null, strategy: null }), DEPLOYMENT, reg), []);
});

test("base64 fields are checked like Go's decoder", () => {
  assert.equal(base64ErrorOffset('aGVsbG8='), -1);
  assert.equal(base64ErrorOffset('aGVsbG8'), 4);
  assert.equal(base64ErrorOffset('aGV*bG8='), 3);
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    data: { a: 'aGVsbG8=', b: 'not base64!' },
  };
  assert.deepEqual(findTypeErrors(secret, 'io.k8s.api.core.v1.Secret', reg), [
    { path: 'data.b', message: 'illegal base64 data at input byte 3' },
  ]);
});

test('RawExtension and free-form objects take anything', () => {
  const ev = {
    type: 'ADDED',
    object: { apiVersion: 'v1', kind: 'Pod', anything: { nested: [1, 2] } },
  };
  assert.deepEqual(checkAgainstSchema(ev, 'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent', reg), {
    unknownFields: [],
    typeErrors: [],
  });
});

test('preserve-unknown-fields and embedded resources (as CRD schemas use them)', () => {
  reg.set('test.Widget', {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { $ref: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
      spec: {
        type: 'object',
        properties: {
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          inner: {
            type: 'object',
            'x-kubernetes-embedded-resource': true,
            properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
          },
        },
      },
    },
  });
  try {
    const obj = {
      apiVersion: 'x/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
      spec: {
        free: { anything: { goes: true } },
        inner: {
          apiVersion: 'v1',
          kind: 'Thing',
          metadata: { name: 'i', bogus: 1 },
          spec: { size: 'big', other: 1 },
        },
      },
    };
    const result = checkAgainstSchema(obj, 'test.Widget', reg);
    assert.deepEqual(result.unknownFields, ['spec.inner.metadata.bogus', 'spec.inner.spec.other']);
    assert.deepEqual(
      result.typeErrors.map((e) => e.path),
      ['spec.inner.spec.size'],
    );
  } finally {
    reg.delete('test.Widget');
  }
});

test('an unknown definition yields no findings; a non-object body is a type error', () => {
  assert.deepEqual(checkAgainstSchema({ a: 1 }, 'no.such.Kind', reg), { unknownFields: [], typeErrors: [] });
  assert.deepEqual(
    findTypeErrors([1], DEPLOYMENT, reg).map((e) => e.message),
    ['json: cannot unmarshal array into Go value of type v1.Deployment'],
  );
});

test('type findings carry the schema and JSON types, for CRD-style 422 messages', () => {
  const [e] = findTypeErrors(deployment({ replicas: '3' }), DEPLOYMENT, reg);
  assert.equal(e?.expectedType, 'integer');
  assert.equal(e?.actualType, 'string');
  const fe = e ? crdTypeFieldError(e) : undefined;
  assert.ok(fe);
  assert.equal(
    fieldErrorMessage(fe),
    'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
  );
});
