import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../api/errors.js';
import type { JsonObject, JsonValue } from '../../api/meta.js';
import { applyJsonPatch, applyMergePatch } from './index.js';

function deployment(): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      template: {
        spec: {
          containers: [
            { name: 'web', image: 'nginx:1.25', args: ['a', 'b'] },
            { name: 'log', image: 'busybox' },
          ],
        },
      },
    },
  };
}

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, `expected a StatusError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

function at(doc: JsonValue, ...path: Array<string | number>): JsonValue | undefined {
  let cur: JsonValue | undefined = doc;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[p as number] : cur[p as string];
  }
  return cur;
}

describe('applyJsonPatch', () => {
  it('replaces, adds and removes values, leaving the input alone', () => {
    const doc = deployment();
    const before = structuredClone(doc);
    const out = applyJsonPatch(doc, [
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      { op: 'remove', path: '/metadata/labels/app' },
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:1.26' },
    ]);
    assert.deepEqual(doc, before);
    assert.equal(at(out, 'spec', 'replicas'), 5);
    assert.deepEqual(at(out, 'metadata', 'labels'), { tier: 'front' });
    assert.equal(at(out, 'spec', 'template', 'spec', 'containers', 0, 'image'), 'nginx:1.26');
  });

  it('decodes ~1 and ~0 in pointer tokens', () => {
    const out = applyJsonPatch(deployment(), [
      { op: 'add', path: '/metadata/annotations', value: {} },
      { op: 'add', path: '/metadata/annotations/example.com~1owner', value: 'me' },
      { op: 'add', path: '/metadata/annotations/a~0b', value: 'tilde' },
    ]);
    assert.deepEqual(at(out, 'metadata', 'annotations'), { 'example.com/owner': 'me', 'a~b': 'tilde' });
  });

  it('appends with "-", inserts at an index and counts negative indices from the end', () => {
    const out = applyJsonPatch(deployment(), [
      { op: 'add', path: '/spec/template/spec/containers/0/args/-', value: 'c' },
      { op: 'add', path: '/spec/template/spec/containers/0/args/0', value: 'first' },
      { op: 'remove', path: '/spec/template/spec/containers/-1' },
    ]);
    assert.deepEqual(at(out, 'spec', 'template', 'spec', 'containers', 0, 'args'), ['first', 'a', 'b', 'c']);
    assert.equal((at(out, 'spec', 'template', 'spec', 'containers') as JsonValue[]).length, 1);
  });

  it('moves and copies values', () => {
    const out = applyJsonPatch(deployment(), [
      { op: 'copy', from: '/metadata/labels', path: '/spec/template/metadata' },
      { op: 'move', from: '/spec/template/spec/containers/1', path: '/spec/template/spec/containers/0' },
    ]);
    assert.deepEqual(at(out, 'spec', 'template', 'metadata'), { app: 'web' });
    assert.equal(at(out, 'spec', 'template', 'spec', 'containers', 0, 'name'), 'log');
    assert.equal(at(out, 'spec', 'template', 'spec', 'containers', 1, 'name'), 'web');
  });

  it('passes a test op that matches, including a missing key tested against null', () => {
    const out = applyJsonPatch(deployment(), [
      { op: 'test', path: '/spec/replicas', value: 2 },
      {
        op: 'test',
        path: '/spec/template/spec/containers/0',
        value: { name: 'web', image: 'nginx:1.25', args: ['a', 'b'] },
      },
      { op: 'test', path: '/spec/paused', value: null },
      { op: 'replace', path: '/spec/replicas', value: 3 },
    ]);
    assert.equal(at(out, 'spec', 'replicas'), 3);
  });

  it('answers a failing test op with upstream 422 and an empty details', () => {
    const err = statusOf(() =>
      applyJsonPatch(deployment(), [
        { op: 'test', path: '/spec/replicas', value: 3 },
        { op: 'replace', path: '/spec/replicas', value: 4 },
      ]),
    );
    assert.equal(err.code, 422);
    assert.deepEqual(err.status, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server rejected our request due to an error in our request',
      reason: 'Invalid',
      details: {},
      code: 422,
    });
    assert.equal((err.cause as Error).message, 'testing value /spec/replicas failed: test failed');
  });

  it('answers 422 for paths that do not exist', () => {
    const cases: Array<[JsonValue, string]> = [
      [
        { op: 'remove', path: '/metadata/labels/missing' },
        "error in remove for path: '/metadata/labels/missing': Unable to remove nonexistent key: missing: missing value",
      ],
      [
        { op: 'add', path: '/spec/nothing/here', value: 1 },
        'add operation does not apply: doc is missing path: "/spec/nothing/here": missing value',
      ],
      [
        { op: 'replace', path: '/spec/template/spec/containers/7', value: {} },
        'replace operation does not apply: doc is missing key: /spec/template/spec/containers/7: missing value',
      ],
      [
        { op: 'add', path: '/spec/template/spec/containers/9', value: {} },
        "error in add for path: '/spec/template/spec/containers/9': Unable to access invalid index: 9: invalid index referenced",
      ],
      [{ op: 'frob', path: '/spec' }, 'Unexpected kind: frob'],
      [{ op: 'test', path: '/spec/replicas' }, 'testing value /spec/replicas failed: test failed'],
    ];
    for (const [op, detail] of cases) {
      const err = statusOf(() => applyJsonPatch(deployment(), [op]));
      assert.equal(err.code, 422, JSON.stringify(op));
      assert.equal(err.reason, 'Invalid');
      assert.equal((err.cause as Error).message, detail);
    }
  });

  it('adds a missing object key on replace, as the library upstream uses does', () => {
    const out = applyJsonPatch(deployment(), [{ op: 'replace', path: '/spec/paused', value: true }]);
    assert.equal(at(out, 'spec', 'paused'), true);
  });

  it('replaces the whole document with an empty path', () => {
    const out = applyJsonPatch(deployment(), [{ op: 'replace', path: '', value: { a: 1 } }]);
    assert.deepEqual(out, { a: 1 });
  });

  it('answers 400 when the body is not a list of operations', () => {
    let err = statusOf(() => applyJsonPatch(deployment(), { op: 'add' }));
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(err.message, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    err = statusOf(() => applyJsonPatch(deployment(), ['add']));
    assert.equal(err.message, 'json: cannot unmarshal string into Go value of type jsonpatch.Operation');
  });

  it('treats a null patch as no operations', () => {
    assert.deepEqual(applyJsonPatch(deployment(), null), deployment());
  });

  it('answers 413 beyond 10000 operations', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/kind', value: 'Deployment' }));
    const err = statusOf(() => applyJsonPatch(deployment(), ops));
    assert.equal(err.code, 413);
    assert.equal(err.reason, 'RequestEntityTooLarge');
    assert.equal(
      err.message,
      'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001',
    );
  });
});

describe('applyMergePatch', () => {
  it('merges maps, deletes keys set to null and replaces lists', () => {
    const out = applyMergePatch(deployment(), {
      metadata: { labels: { app: null, tier: 'front' } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'only', image: 'x' }] } } },
    });
    assert.deepEqual(at(out, 'metadata'), { name: 'web', namespace: 'default', labels: { tier: 'front' } });
    assert.equal(at(out, 'spec', 'replicas'), 3);
    assert.deepEqual(at(out, 'spec', 'template', 'spec', 'containers'), [{ name: 'only', image: 'x' }]);
  });

  it('drops nulls inside values it puts in place, list items included', () => {
    const out = applyMergePatch({ a: 1 }, { b: { c: null, d: [1, null, { e: null, f: 2 }] } });
    assert.deepEqual(out, { a: 1, b: { d: [1, { f: 2 }] } });
  });

  it('keeps nulls when the patch replaces an object with a list', () => {
    assert.deepEqual(applyMergePatch({ a: { x: 1 } }, { a: [null, 1] }), { a: [null, 1] });
  });

  it('answers 400 for a null or scalar patch and returns a list patch as it is', () => {
    assert.equal(statusOf(() => applyMergePatch({ a: 1 }, null)).message, 'Invalid JSON Patch');
    assert.equal(statusOf(() => applyMergePatch({ a: 1 }, 'x')).code, 400);
    assert.deepEqual(applyMergePatch({ a: 1 }, [1, null, 2]), [1, 2]);
  });

  it('leaves the input alone', () => {
    const doc = deployment();
    const before = structuredClone(doc);
    applyMergePatch(doc, { metadata: { labels: { app: 'x' } } });
    assert.deepEqual(doc, before);
  });
});
