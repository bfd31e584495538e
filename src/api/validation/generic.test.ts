import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErr, fieldErrorMessage } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { validateForCreate, validateForStatusUpdate, validateForUpdate } from './generic.js';
import { validateObjectMeta } from './objectmeta.js';

const base: ResourceDescription = {
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  singular: 'widget',
  namespaced: true,
  schemaRef: 'x',
};

const widget = (metadata: KubeObject['metadata']): KubeObject => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata,
});

test('create: without a strategy, the generic net checks metadata with path-segment names', () => {
  assert.deepEqual(validateForCreate(base, widget({ name: 'Any:Name', namespace: 'default' })), []);
  assert.deepEqual(
    validateForCreate(base, widget({ name: 'a/b', namespace: 'default' })).map(fieldErrorMessage),
    ['metadata.name: Invalid value: "a/b": may not contain \'/\''],
  );
  assert.deepEqual(validateForCreate(base, widget({ name: 'a' })).map(fieldErrorMessage), [
    'metadata.namespace: Required value',
  ]);
});

test("create: the strategy's errors win and the net is skipped", () => {
  const desc: ResourceDescription = {
    ...base,
    strategy: {
      validate: (o) => [
        ...validateObjectMeta(o.metadata, { namespaced: true }),
        fieldErr.required('spec.size', ''),
      ],
    },
  };
  assert.deepEqual(
    validateForCreate(desc, widget({ name: 'Bad/Name', namespace: 'd' })).map((e) => e.field),
    ['metadata.name', 'spec.size'],
  );
});

test('update: generic metadata checks first, then the strategy, duplicates collapsed', () => {
  const desc: ResourceDescription = {
    ...base,
    strategy: {
      validateUpdate: (o, old) =>
        o.metadata.name !== old.metadata.name
          ? [fieldErr.invalid('metadata.name', o.metadata.name, 'field is immutable')]
          : [],
    },
  };
  const old = widget({ name: 'a', namespace: 'd', resourceVersion: '1' });
  const errs = validateForUpdate(desc, widget({ name: 'b', namespace: 'd', resourceVersion: '1' }), old);
  assert.deepEqual(errs.map(fieldErrorMessage), ['metadata.name: Invalid value: "b": field is immutable']);
  assert.deepEqual(
    validateForStatusUpdate(base, widget({ name: 'a', namespace: 'd' }), old).map(fieldErrorMessage),
    ['metadata.resourceVersion: Invalid value: "": must be specified for an update'],
  );
});
