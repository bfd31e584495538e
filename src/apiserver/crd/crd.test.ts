// Unit tests of the CRD pieces: schema validation messages, defaulting, JSON paths for printer
// columns, the CRD kind's own validation, and the controller serving and unserving a CRD.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorMessage } from '../../api/errors.js';
import type { KubeObject } from '../../api/meta.js';
import { DefinitionRegistry } from '../../api/schema-registry.js';
import {
  customResourceDefinitionResource,
  validateCrd,
  defaultCrd,
} from '../../api/kinds/custom-resource-definition.js';
import { MemoryStore } from '../../storage/memory/memory-store.js';
import { ResourceRegistry } from '../resource-registry.js';
import { storageKey } from '../resource-registry.js';
import { encodeForStorage } from '../objects.js';
import { CrdController } from './controller.js';
import { evalJsonPath } from './jsonpath.js';
import { printerColumns } from './resource.js';
import { toCrdSchema, crdDefinitionName } from './schema.js';
import { applyDefaults, validateCustomResource } from './validate.js';

const schema = toCrdSchema({
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['cronSpec'],
      properties: {
        cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
        replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
        mode: { type: 'string', enum: ['Fast', 'Slow'] },
        tags: { type: 'array', maxItems: 2, items: { type: 'string', minLength: 2, maxLength: 4 } },
        when: { type: 'string', format: 'date-time' },
        nested: { type: 'object', properties: { level: { type: 'integer', default: 3 } } },
      },
    },
  },
});

function messages(obj: Record<string, unknown>): string[] {
  return validateCustomResource(obj, schema).map(fieldErrorMessage);
}

test('custom resources are validated with upstream messages', () => {
  assert.deepEqual(messages({ spec: { cronSpec: '* * * * *', replicas: 'string' } }), [
    'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
  ]);
  assert.deepEqual(messages({ spec: { cronSpec: '* * * * *', replicas: 0 } }), [
    'spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
  ]);
  assert.deepEqual(messages({ spec: { cronSpec: '* * *' } }), [
    `spec.cronSpec: Invalid value: "* * *": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'`,
  ]);
  assert.deepEqual(messages({ spec: {} }), ['spec.cronSpec: Required value']);
  assert.deepEqual(messages({ spec: { cronSpec: '* * * * *', mode: 'Medium' } }), [
    'spec.mode: Unsupported value: "Medium": supported values: "Fast", "Slow"',
  ]);
  assert.deepEqual(messages({ spec: { cronSpec: '* * * * *', tags: ['a', 'bbbbb', 'cc'] } }), [
    'spec.tags[0]: Invalid value: "a": spec.tags[0] in body should be at least 2 chars long',
    'spec.tags[1]: Too long: may not be more than 4 bytes',
    'spec.tags: Too many: 3: must have at most 2 items',
  ]);
  assert.deepEqual(messages({ spec: { cronSpec: '* * * * *', when: 'yesterday' } }), [
    'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
  ]);
  assert.deepEqual(messages({ spec: { cronSpec: '* * * * *', when: '2024-01-02T03:04:05Z' } }), []);
});

test('defaults apply to missing fields, nested ones once their parent exists', () => {
  const obj: Record<string, unknown> = { spec: { cronSpec: '* * * * *', nested: {} } };
  applyDefaults(obj, schema);
  assert.deepEqual(obj.spec, { cronSpec: '* * * * *', replicas: 1, nested: { level: 3 } });
  const without: Record<string, unknown> = { spec: { cronSpec: 'x' } };
  applyDefaults(without, schema);
  assert.deepEqual(without.spec, { cronSpec: 'x', replicas: 1 });
});

test('JSON paths of printer columns', () => {
  const obj = {
    metadata: { labels: { 'app.kubernetes.io/name': 'x' } },
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'Synced', status: 'False' },
      ],
    },
  };
  assert.deepEqual(evalJsonPath(obj, ".metadata.labels['app.kubernetes.io/name']"), ['x']);
  assert.deepEqual(evalJsonPath(obj, '.status.conditions[1].type'), ['Synced']);
  assert.deepEqual(evalJsonPath(obj, '.status.conditions[?(@.type=="Ready")].status'), ['True']);
  assert.deepEqual(evalJsonPath(obj, '.status.conditions[*].type'), ['Ready', 'Synced']);
  assert.deepEqual(evalJsonPath(obj, '.spec.missing'), []);
  const cols = printerColumns([
    { name: 'Ready', type: 'string', priority: 0, jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Count', type: 'integer', priority: 1, jsonPath: '.spec.count' },
  ]);
  const now = new Date();
  const cr = {
    apiVersion: 'x/v1',
    kind: 'X',
    ...obj,
    metadata: { ...obj.metadata, name: 'a' },
  } as unknown as KubeObject;
  assert.deepEqual(
    cols.map((c) => [c.name, c.priority, c.cell(cr, now)]),
    [
      ['Name', 0, 'a'],
      ['Ready', 0, 'True'],
      ['Count', 1, null],
    ],
  );
  assert.deepEqual(
    printerColumns([]).map((c) => c.name),
    ['Name', 'Age'],
  );
});

const crd = (over: Record<string, unknown> = {}): KubeObject => {
  const obj = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', kind: 'CronTab', shortNames: ['ct'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object' } } } },
        },
      ],
      ...over,
    },
  } as unknown as KubeObject;
  defaultCrd(obj);
  return obj;
};

test('CRD defaults and validation', () => {
  const ok = crd();
  assert.deepEqual(validateCrd(ok).map(fieldErrorMessage), []);
  const spec = ok.spec as Record<string, Record<string, unknown>>;
  assert.equal(spec.names!.singular, 'crontab');
  assert.equal(spec.names!.listKind, 'CronTabList');
  assert.deepEqual(spec.conversion, { strategy: 'None' });
  const bad = crd({
    versions: [{ name: 'v1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'string' } } }],
  });
  assert.deepEqual(validateCrd(bad).map(fieldErrorMessage), [
    'spec.versions[0].schema.openAPIV3Schema.type: Invalid value: "string": must be object at the root',
    `spec.versions: Invalid value: ${JSON.stringify((bad.spec as Record<string, unknown>).versions)}: must have exactly one version marked as storage version`,
  ]);
});

test('the controller serves an established CRD, sets its conditions, and cleans up on deletion', async () => {
  const store = new MemoryStore();
  const registry = new ResourceRegistry([customResourceDefinitionResource]);
  const schemas = new DefinitionRegistry();
  const controller = new CrdController({ store, registry, schemas });
  await controller.start();
  try {
    const obj = crd();
    const key = storageKey(customResourceDefinitionResource, '', obj.metadata.name!);
    obj.status = { storedVersions: ['v1'] };
    await store.create(key, encodeForStorage(obj));
    await new Promise((r) => setTimeout(r, 50));
    await controller.idle();
    const served = registry.lookup('stable.example.com', 'v1', 'crontabs');
    assert.ok(served);
    assert.equal(served.kind, 'CronTab');
    assert.deepEqual(served.shortNames, ['ct']);
    assert.equal(served.schemaRef, crdDefinitionName('stable.example.com', 'v1', 'CronTab'));
    assert.ok(schemas.get('com.example.stable.v1.CronTab'));
    assert.ok(schemas.get('com.example.stable.v1.CronTabList'));
    const stored = JSON.parse((await store.get(key))!.value) as KubeObject;
    const conditions = (stored.status as { conditions: { type: string; status: string }[] }).conditions;
    assert.deepEqual(
      conditions.map((c) => [c.type, c.status]),
      [
        ['NamesAccepted', 'True'],
        ['Established', 'True'],
      ],
    );

    // An object of the kind, then the deletion: finalizer present, deletionTimestamp set.
    await store.create(
      '/registry/stable.example.com/crontabs/default/a',
      '{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"a","namespace":"default"}}',
    );
    const kv = (await store.get(key))!;
    const deleting = JSON.parse(kv.value) as KubeObject;
    customResourceDefinitionResource.strategy!.prepareForDelete!(deleting);
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    await store.update(key, encodeForStorage(deleting), kv.modRevision);
    await new Promise((r) => setTimeout(r, 50));
    await controller.idle();
    assert.equal(registry.lookup('stable.example.com', 'v1', 'crontabs'), undefined);
    assert.equal(schemas.get('com.example.stable.v1.CronTab'), undefined);
    assert.equal(await store.get('/registry/stable.example.com/crontabs/default/a'), undefined);
    assert.equal(await store.get(key), undefined);
  } finally {
    controller.stop();
    await store.close();
  }
});
