import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorMessage, invalid } from '../errors.js';
import type { KubeObject } from '../meta.js';
import {
  checkNoResourceVersionOnCreate,
  ensureNamespaceMatchesRequest,
  uniqueFieldErrors,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './objectmeta.js';

const msgs = (errs: readonly Parameters<typeof fieldErrorMessage>[0][]): string[] =>
  errs.map(fieldErrorMessage);

test("an invalid name is refused with upstream's path and sentence", () => {
  const errs = validateObjectMeta({ name: 'Foo_bar', namespace: 'default' }, { namespaced: true });
  assert.deepEqual(msgs(errs), [
    "metadata.name: Invalid value: \"Foo_bar\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ]);
  assert.equal(
    invalid('ConfigMap', '', 'Foo_bar', errs).status.message?.startsWith(
      'ConfigMap "Foo_bar" is invalid: metadata.name: Invalid value: "Foo_bar": a lowercase',
    ),
    true,
  );
});

test('name or generateName is required', () => {
  assert.deepEqual(msgs(validateObjectMeta({ namespace: 'default' }, { namespaced: true })), [
    'metadata.name: Required value: name or generateName is required',
  ]);
});

test('a bad generateName is reported on generateName', () => {
  const errs = validateObjectMeta(
    { generateName: 'Bad-', name: 'Bad-x1y2z', namespace: 'ns' },
    { namespaced: true },
  );
  assert.equal(errs[0]?.field, 'metadata.generateName');
  assert.equal(errs[1]?.field, 'metadata.name');
});

test('namespace is required for namespaced kinds and forbidden for cluster-scoped ones', () => {
  assert.deepEqual(msgs(validateObjectMeta({ name: 'a' }, { namespaced: true })), [
    'metadata.namespace: Required value',
  ]);
  assert.deepEqual(msgs(validateObjectMeta({ name: 'a', namespace: 'x' }, { namespaced: false })), [
    'metadata.namespace: Forbidden: not allowed on this type',
  ]);
  assert.deepEqual(msgs(validateObjectMeta({ name: 'a', namespace: 'a.b' }, { namespaced: true })), [
    'metadata.namespace: Invalid value: "a.b": must not contain dots',
  ]);
});

test('per-kind name rules', () => {
  assert.deepEqual(
    validateObjectMeta({ name: 'a.b' }, { namespaced: false, nameRule: 'dns-label' }).length,
    1,
  );
  assert.deepEqual(
    validateObjectMeta({ name: 'system:node' }, { namespaced: false, nameRule: 'path-segment' }),
    [],
  );
  assert.deepEqual(
    msgs(validateObjectMeta({ name: 'a/b' }, { namespaced: false, nameRule: 'path-segment' })),
    ['metadata.name: Invalid value: "a/b": may not contain \'/\''],
  );
  assert.deepEqual(
    validateObjectMeta({ name: '1abc' }, { namespaced: false, nameRule: 'dns-1035-label' }).length,
    1,
  );
});

test('labels: keys and values, reported on metadata.labels', () => {
  const errs = validateObjectMeta(
    { name: 'a', labels: { 'bad key!': 'ok', good: 'bad value!' } },
    { namespaced: false },
  );
  assert.equal(errs.length, 2);
  assert.equal(errs[0]?.field, 'metadata.labels');
  assert.equal(errs[0]?.badValue, 'bad key!');
  assert.equal(errs[1]?.badValue, 'bad value!');
  assert.match(
    fieldErrorMessage(errs[1] ?? { type: 'InternalError', field: '' }),
    /^metadata\.labels: Invalid value: "bad value!": a valid label must be an empty string/,
  );
});

test('annotations: keys checked case-insensitively, total size at most 256 KiB', () => {
  assert.deepEqual(
    validateObjectMeta({ name: 'a', annotations: { 'Example.COM/Key': 'v' } }, { namespaced: false }),
    [],
  );
  const big = { k: 'x'.repeat(256 * 1024) };
  assert.deepEqual(msgs(validateObjectMeta({ name: 'a', annotations: big }, { namespaced: false })), [
    'metadata.annotations: Too long: may not be more than 262144 bytes',
  ]);
});

test('owner references', () => {
  const errs = validateObjectMeta(
    {
      name: 'a',
      namespace: 'n',
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r1', uid: 'u1', controller: true },
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r2', uid: 'u2', controller: true },
        { apiVersion: '', kind: '', name: '', uid: '' },
      ],
    },
    { namespaced: true },
  );
  const m = msgs(errs);
  assert.ok(
    m.some((x) =>
      x.includes(
        'Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/r1 and ReplicaSet/r2',
      ),
    ),
  );
  assert.ok(m.includes('metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty'));
  assert.ok(m.includes('metadata.ownerReferences.kind: Invalid value: "": must not be empty'));
  assert.ok(m.includes('metadata.ownerReferences.uid: Invalid value: "": must not be empty'));
  const banned = validateObjectMeta(
    { name: 'a', ownerReferences: [{ apiVersion: 'v1', kind: 'Event', name: 'e', uid: 'u' }] },
    { namespaced: false },
  );
  assert.match(fieldErrorMessage(banned[0]!), /\/v1, Kind=Event is disallowed from being an owner$/);
});

test('finalizers and generation', () => {
  const m = msgs(
    validateObjectMeta(
      { name: 'a', generation: -1, finalizers: ['orphan', 'foregroundDeletion', 'bad/na me'] },
      { namespaced: false },
    ),
  );
  assert.ok(m.includes('metadata.generation: Invalid value: -1: must be greater than or equal to 0'));
  assert.ok(
    m.some((x) => x.startsWith('metadata.finalizers: Invalid value: "bad/na me": name part must consist')),
  );
  assert.ok(m.some((x) => x.endsWith('finalizer orphan and foregroundDeletion cannot be both set')));
});

test('managed fields need a known operation and fieldsType', () => {
  const m = msgs(
    validateObjectMeta(
      {
        name: 'a',
        managedFields: [
          { manager: 'x', operation: 'Bogus' as 'Apply', fieldsType: 'FieldsV2' as 'FieldsV1' },
        ],
      },
      { namespaced: false },
    ),
  );
  assert.deepEqual(m, [
    'metadata.managedFields[0].operation: Invalid value: "Bogus": must be `Apply` or `Update`',
    'metadata.managedFields[0].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
  ]);
});

test('updates: resourceVersion required, identity immutable, generation monotonic', () => {
  const old = {
    name: 'a',
    namespace: 'n',
    uid: 'u1',
    resourceVersion: '5',
    generation: 3,
    creationTimestamp: '2024-01-01T00:00:00Z',
  };
  assert.deepEqual(validateObjectMetaUpdate({ ...old }, old), []);
  const m = msgs(
    validateObjectMetaUpdate({ ...old, name: 'b', uid: 'u2', resourceVersion: '', generation: 2 }, old),
  );
  assert.deepEqual(m, [
    'metadata.resourceVersion: Invalid value: "": must be specified for an update',
    'metadata.generation: Invalid value: 2: must not be decremented',
    'metadata.name: Invalid value: "b": field is immutable',
    'metadata.uid: Invalid value: "u2": field is immutable',
  ]);
});

test('no new finalizers while the object is being deleted', () => {
  const old = {
    name: 'a',
    resourceVersion: '1',
    deletionTimestamp: '2024-01-01T00:00:00Z',
    finalizers: ['a.io/x'],
  };
  assert.deepEqual(msgs(validateObjectMetaUpdate({ ...old, finalizers: ['a.io/x', 'b.io/y'] }, old)), [
    'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b.io/y"}',
  ]);
  assert.deepEqual(validateObjectMetaUpdate({ ...old, finalizers: [] }, old), []);
});

test('the request namespace fills in, clears, or conflicts', () => {
  const obj = (ns?: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: ns === undefined ? { name: 'a' } : { name: 'a', namespace: ns },
  });
  const a = obj();
  assert.equal(ensureNamespaceMatchesRequest(a, 'default', true), undefined);
  assert.equal(a.metadata.namespace, 'default');
  const b = obj('x');
  assert.equal(ensureNamespaceMatchesRequest(b, '', false), undefined);
  assert.equal(b.metadata.namespace, undefined);
  const err = ensureNamespaceMatchesRequest(obj('x'), 'y', true);
  assert.equal(err?.code, 400);
  assert.equal(
    err?.message,
    'the namespace of the provided object does not match the namespace sent on the request',
  );
});

test('identical messages collapse', () => {
  const errs = validateObjectMeta({ name: 'a', labels: { 'x!': 'y' } }, { namespaced: false });
  assert.equal(uniqueFieldErrors([...errs, ...errs]).length, 1);
});

test('built-in kinds require standard or qualified finalizer names in metadata', () => {
  const meta = { name: 'a', finalizers: ['kubernetes', 'example.com/x', 'custom'] };
  assert.deepEqual(validateObjectMeta(meta, { namespaced: false }), []);
  assert.deepEqual(msgs(validateObjectMeta(meta, { namespaced: false, standardFinalizers: true })), [
    'metadata.finalizers[2]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
  ]);
  const old = { ...meta, resourceVersion: '1' };
  assert.equal(validateObjectMetaUpdate(old, old, 'metadata', { standardFinalizers: true }).length, 1);
});

test("a create carrying resourceVersion gets upstream's 500 with the bare sentence", () => {
  assert.equal(checkNoResourceVersionOnCreate({ name: 'a' }), undefined);
  const err = checkNoResourceVersionOnCreate({ name: 'a', resourceVersion: '12' });
  assert.equal(err?.code, 500);
  assert.equal(err?.status.reason, '');
  assert.equal(err?.status.message, 'resourceVersion should not be set on objects to be created');
});
