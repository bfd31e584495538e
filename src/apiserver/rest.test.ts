import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, TEST_BACKENDS, type TestServer } from './test-server.js';

const CM = '/api/v1/namespaces/default/configmaps';
const DEP = '/apis/apps/v1/namespaces/default/deployments';

function deployment(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
    ...extra,
  };
}

for (const backend of TEST_BACKENDS)
  describe(`generic REST (${backend})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ backend });
    });
    after(async () => {
      await t.close();
    });

    test('create fills metadata; get and list return it', async () => {
      const res = await t.request('POST', CM, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'one' },
        data: { a: '1' },
      });
      assert.equal(res.status, 201);
      const meta = res.json.metadata!;
      assert.equal(meta.namespace, 'default');
      assert.match(String(meta.uid), /^[0-9a-f-]{36}$/);
      assert.match(String(meta.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(String(meta.resourceVersion), /^\d+$/);
      assert.equal(meta.generation, undefined);
      const got = await t.request('GET', `${CM}/one`);
      assert.deepEqual(got.json, res.json);
      const list = await t.request('GET', CM);
      assert.equal(list.json.kind, 'ConfigMapList');
      assert.equal(list.json.apiVersion, 'v1');
      assert.match(String(list.json.metadata!.resourceVersion), /^\d+$/);
      const item = list.json.items!.find((i) => (i.metadata as { name: string }).name === 'one')!;
      assert.equal(item.kind, 'ConfigMap');
      const all = await t.request('GET', '/api/v1/configmaps');
      assert.ok(all.json.items!.length >= 1);
      const again = await t.request('POST', CM, { metadata: { name: 'one' } });
      assert.equal(again.status, 409);
      assert.equal(again.json.reason, 'AlreadyExists');
      assert.equal(again.json.message, 'configmaps "one" already exists');
    });

    test('generateName, missing apiVersion/kind defaulted, and create refusals', async () => {
      const gen = await t.request('POST', CM, { metadata: { generateName: 'gen-' } });
      assert.equal(gen.status, 201);
      assert.match(String(gen.json.metadata!.name), /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.equal(gen.json.kind, 'ConfigMap');
      const mismatch = await t.request('POST', CM, { metadata: { name: 'x', namespace: 'other' } });
      assert.equal(mismatch.status, 400);
      assert.equal(
        mismatch.json.message,
        'the namespace of the provided object does not match the namespace sent on the request',
      );
      const rv = await t.request('POST', CM, { metadata: { name: 'x', resourceVersion: '5' } });
      assert.equal(rv.status, 500);
      assert.equal(rv.json.message, 'resourceVersion should not be set on objects to be created');
      const noName = await t.request('POST', CM, { metadata: {} });
      assert.equal(noName.status, 422);
      assert.equal(
        noName.json.message,
        'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
      );
      const noNs = await t.request('POST', '/api/v1/namespaces/missing/configmaps', {
        metadata: { name: 'x' },
      });
      assert.equal(noNs.status, 404);
      assert.equal(noNs.json.message, 'namespaces "missing" not found');
      const wrongGv = await t.request('POST', CM, {
        apiVersion: 'apps/v1',
        kind: 'ConfigMap',
        metadata: { name: 'x' },
      });
      assert.equal(wrongGv.status, 400);
      assert.equal(
        wrongGv.json.message,
        'the API version in the data (apps/v1) does not match the expected API version (v1)',
      );
      const wrongKind = await t.request('POST', CM, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'x' },
      });
      assert.equal(wrongKind.status, 400);
      const malformed = await t.request('POST', CM, '{"metadata":');
      assert.equal(malformed.status, 400);
      assert.match(String(malformed.json.message), /json parse error/);
      const big = await t.request('POST', CM, {
        metadata: { name: 'big' },
        data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) },
      });
      assert.equal(big.status, 413);
      assert.equal(big.json.reason, 'RequestEntityTooLarge');
      const yaml = await t.request(
        'POST',
        CM,
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n',
        {
          'Content-Type': 'application/yaml',
        },
      );
      assert.equal(yaml.status, 201);
      assert.deepEqual(yaml.json.data, { k: 'v' });
    });

    test('fieldValidation Strict, Warn and Ignore, duplicates included', async () => {
      const body = '{"metadata":{"name":"fv1"},"data":{"a":"1"},"spec":{"foo":1}}';
      const strict = await t.request('POST', `${CM}?fieldValidation=Strict`, body);
      assert.equal(strict.status, 400);
      assert.equal(
        strict.json.message,
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec"',
      );
      const warn = await t.request('POST', `${CM}?fieldValidation=Warn`, body);
      assert.equal(warn.status, 201);
      assert.equal(warn.headers.get('warning'), '299 - "unknown field \\"spec\\""');
      assert.equal(warn.json.spec, undefined);
      const dup = await t.request(
        'POST',
        `${CM}?fieldValidation=Strict`,
        '{"metadata":{"name":"fv2","name":"fv2"}}',
      );
      assert.equal(dup.status, 400);
      assert.match(String(dup.json.message), /strict decoding error: duplicate field "metadata.name"/);
      const ignore = await t.request(
        'POST',
        `${CM}?fieldValidation=Ignore`,
        '{"metadata":{"name":"fv3"},"bogus":1}',
      );
      assert.equal(ignore.status, 201);
      assert.equal(ignore.headers.get('warning'), null);
      const nested = await t.request('POST', `${DEP}?fieldValidation=Strict`, {
        ...deployment('fv4'),
        spec: {
          ...(deployment('fv4').spec as object),
          template: { spec: { containers: [{ name: 'c', image: 'x', bogus: 1 }] } },
        },
      });
      assert.equal(nested.status, 400);
      assert.match(
        String(nested.json.message),
        /unknown field "spec\.template\.spec\.containers\[0\]\.bogus"/,
      );
      const bad = await t.request('POST', `${CM}?fieldValidation=Loud`, '{"metadata":{"name":"fv5"}}');
      assert.equal(bad.status, 422);
    });

    test('update: conflicts, unconditional updates, no-op updates, immutable metadata', async () => {
      const created = await t.request('POST', CM, { metadata: { name: 'upd' }, data: { a: '1' } });
      const rv = String(created.json.metadata!.resourceVersion);
      const ok = await t.request('PUT', `${CM}/upd`, {
        metadata: { name: 'upd', resourceVersion: rv },
        data: { a: '2' },
      });
      assert.equal(ok.status, 200);
      assert.notEqual(ok.json.metadata!.resourceVersion, rv);
      assert.equal(ok.json.metadata!.uid, created.json.metadata!.uid);
      assert.equal(ok.json.metadata!.creationTimestamp, created.json.metadata!.creationTimestamp);
      const stale = await t.request('PUT', `${CM}/upd`, {
        metadata: { name: 'upd', resourceVersion: rv },
        data: { a: '3' },
      });
      assert.equal(stale.status, 409);
      assert.equal(stale.json.reason, 'Conflict');
      assert.equal(
        stale.json.message,
        'Operation cannot be fulfilled on configmaps "upd": the object has been modified; please apply your changes to the latest version and try again',
      );
      const blind = await t.request('PUT', `${CM}/upd`, { metadata: { name: 'upd' }, data: { a: '4' } });
      assert.equal(blind.status, 200);
      assert.deepEqual(blind.json.data, { a: '4' });
      const noop = await t.request('PUT', `${CM}/upd`, { metadata: { name: 'upd' }, data: { a: '4' } });
      assert.equal(noop.json.metadata!.resourceVersion, blind.json.metadata!.resourceVersion);
      const renamed = await t.request('PUT', `${CM}/upd`, { metadata: { name: 'other' } });
      assert.equal(renamed.status, 400);
      const missing = await t.request('PUT', `${CM}/absent`, { metadata: { name: 'absent' } });
      assert.equal(missing.status, 404);
    });

    test('generation and the status subresource', async () => {
      const created = await t.request('POST', DEP, deployment('gen'));
      assert.equal(created.status, 201);
      assert.equal(created.json.metadata!.generation, 1);
      const withStatus = await t.request('POST', DEP, { ...deployment('gen2'), status: { replicas: 5 } });
      assert.equal(withStatus.json.status, undefined);
      const labelled = await t.request(
        'PATCH',
        `${DEP}/gen`,
        { metadata: { labels: { x: 'y' } } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      assert.equal(labelled.status, 200);
      assert.equal(labelled.json.metadata!.generation, 1);
      const scaled = await t.request(
        'PATCH',
        `${DEP}/gen`,
        { spec: { replicas: 3 } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      assert.equal(scaled.json.metadata!.generation, 2);
      const ignoredStatus = await t.request(
        'PATCH',
        `${DEP}/gen`,
        { status: { replicas: 9 } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      assert.equal(ignoredStatus.json.status, undefined);
      const status = await t.request('PUT', `${DEP}/gen/status`, {
        ...deployment('gen'),
        spec: { replicas: 100 },
        status: { replicas: 3 },
      });
      assert.equal(status.status, 200);
      assert.deepEqual(status.json.status, { replicas: 3 });
      assert.equal((status.json.spec as { replicas: number }).replicas, 3);
      assert.equal(status.json.metadata!.generation, 2);
      const statusPatch = await t.request(
        'PATCH',
        `${DEP}/gen/status`,
        { status: { readyReplicas: 1 } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      assert.deepEqual(statusPatch.json.status, { replicas: 3, readyReplicas: 1 });
      const getStatus = await t.request('GET', `${DEP}/gen/status`);
      assert.equal(getStatus.json.kind, 'Deployment');
    });

    test('scale subresource', async () => {
      await t.request('POST', DEP, deployment('sc'));
      const scale = await t.request('GET', `${DEP}/sc/scale`);
      assert.equal(scale.json.kind, 'Scale');
      assert.equal(scale.json.apiVersion, 'autoscaling/v1');
      assert.deepEqual(scale.json.spec, { replicas: 2 });
      assert.equal((scale.json.status as { selector: string }).selector, 'app=sc');
      const put = await t.request('PUT', `${DEP}/sc/scale`, {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name: 'sc' },
        spec: { replicas: 5 },
      });
      assert.equal(put.status, 200);
      assert.deepEqual(put.json.spec, { replicas: 5 });
      const patched = await t.request(
        'PATCH',
        `${DEP}/sc/scale`,
        { spec: { replicas: 7 } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      assert.deepEqual(patched.json.spec, { replicas: 7 });
      assert.equal(patched.json.kind, 'Scale');
      const dep = await t.request('GET', `${DEP}/sc`);
      assert.equal((dep.json.spec as { replicas: number }).replicas, 7);
      const negative = await t.request('PUT', `${DEP}/sc/scale`, {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name: 'sc' },
        spec: { replicas: -1 },
      });
      assert.equal(negative.status, 422);
      assert.equal((await t.request('GET', `${CM}/one/scale`)).status, 404);
    });

    test('patch types', async () => {
      await t.request('POST', CM, { metadata: { name: 'p', labels: { a: '1' } }, data: { x: '1' } });
      const merge = await t.request(
        'PATCH',
        `${CM}/p`,
        { data: { y: '2', x: null } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      assert.deepEqual(merge.json.data, { y: '2' });
      const json = await t.request(
        'PATCH',
        `${CM}/p`,
        [
          { op: 'add', path: '/data/z', value: '3' },
          { op: 'remove', path: '/metadata/labels/a' },
        ],
        {
          'Content-Type': 'application/json-patch+json',
        },
      );
      assert.deepEqual(json.json.data, { y: '2', z: '3' });
      // The emptied label map is dropped, as Go's omitempty does upstream.
      assert.equal(json.json.metadata!.labels, undefined);
      const failing = await t.request('PATCH', `${CM}/p`, [{ op: 'remove', path: '/data/nope' }], {
        'Content-Type': 'application/json-patch+json',
      });
      assert.equal(failing.status, 422);
      const strategic = await t.request(
        'PATCH',
        `${CM}/p`,
        { data: { w: '4' } },
        { 'Content-Type': 'application/strategic-merge-patch+json' },
      );
      assert.equal((strategic.json.data as Record<string, string>).w, '4');
      const stale = await t.request(
        'PATCH',
        `${CM}/p`,
        { metadata: { resourceVersion: '1' }, data: { q: '1' } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      assert.equal(stale.status, 409);
      const unknown = await t.request(
        'PATCH',
        `${CM}/p?fieldValidation=Strict`,
        { bogus: 1 },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      assert.equal(unknown.status, 400);
      assert.equal(unknown.json.message, 'strict decoding error: unknown field "bogus"');
      const missing = await t.request(
        'PATCH',
        `${CM}/nope`,
        { data: {} },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      assert.equal(missing.status, 404);
      const badType = await t.request('PATCH', `${CM}/p`, { data: {} }, { 'Content-Type': 'text/plain' });
      assert.equal(badType.status, 415);
      const apply = await t.request(
        'PATCH',
        `${CM}/applied?fieldManager=test`,
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n',
        {
          'Content-Type': 'application/apply-patch+yaml',
        },
      );
      assert.equal(apply.status, 201);
      const reapply = await t.request(
        'PATCH',
        `${CM}/applied?fieldManager=test`,
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v2\n',
        {
          'Content-Type': 'application/apply-patch+yaml',
        },
      );
      assert.equal(reapply.status, 200);
      assert.deepEqual(reapply.json.data, { k: 'v2' });
      const noManager = await t.request('PATCH', `${CM}/applied`, 'metadata:\n  name: applied\n', {
        'Content-Type': 'application/apply-patch+yaml',
      });
      assert.equal(noManager.status, 422);
      assert.match(String(noManager.json.message), /fieldManager: Required value/);
      const managers = (reapply.json.metadata!.managedFields as { manager: string; operation: string }[]).map(
        (m) => `${m.manager}/${m.operation}`,
      );
      assert.deepEqual(managers, ['test/Apply']);
      const updated = await t.request(
        'PATCH',
        `${CM}/applied?fieldManager=editor`,
        { data: { other: '1' } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      const after = (updated.json.metadata!.managedFields as { manager: string; operation: string }[]).map(
        (m) => `${m.manager}/${m.operation}`,
      );
      assert.deepEqual(after.sort(), ['editor/Update', 'test/Apply']);
      const conflict = await t.request(
        'PATCH',
        `${CM}/applied?fieldManager=other`,
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: mine\n',
        {
          'Content-Type': 'application/apply-patch+yaml',
        },
      );
      assert.equal(conflict.status, 409);
      const forced = await t.request(
        'PATCH',
        `${CM}/applied?fieldManager=other&force=true`,
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: mine\n',
        {
          'Content-Type': 'application/apply-patch+yaml',
        },
      );
      assert.equal(forced.status, 200);
      assert.equal((forced.json.data as Record<string, string>).k, 'mine');
    });

    test('delete: Status for immediate deletes, finalizers, propagation, preconditions', async () => {
      const c = await t.request('POST', CM, { metadata: { name: 'd1' } });
      const del = await t.request('DELETE', `${CM}/d1`);
      assert.equal(del.status, 200);
      assert.deepEqual(del.json, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: 'd1', kind: 'configmaps', uid: c.json.metadata!.uid },
        code: 200,
      });
      assert.equal((await t.request('GET', `${CM}/d1`)).status, 404);
      assert.equal((await t.request('DELETE', `${CM}/d1`)).status, 404);

      await t.request('POST', CM, { metadata: { name: 'd2', finalizers: ['example.com/keep'] } });
      const pending = await t.request('DELETE', `${CM}/d2`);
      assert.equal(pending.status, 200);
      assert.equal(pending.json.kind, 'ConfigMap');
      assert.ok(pending.json.metadata!.deletionTimestamp);
      assert.equal(pending.json.metadata!.deletionGracePeriodSeconds, 0);
      const still = await t.request('GET', `${CM}/d2`);
      assert.equal(still.status, 200);
      const cleared = await t.request(
        'PATCH',
        `${CM}/d2`,
        { metadata: { finalizers: null } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      assert.equal(cleared.status, 200);
      assert.equal((await t.request('GET', `${CM}/d2`)).status, 404);

      await t.request('POST', CM, { metadata: { name: 'd3' } });
      const fg = await t.request('DELETE', `${CM}/d3`, {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        propagationPolicy: 'Foreground',
      });
      assert.deepEqual(fg.json.metadata!.finalizers, ['foregroundDeletion']);
      await t.request('POST', CM, { metadata: { name: 'd4' } });
      const orphan = await t.request('DELETE', `${CM}/d4?propagationPolicy=Orphan`);
      assert.deepEqual(orphan.json.metadata!.finalizers, ['orphan']);

      await t.request('POST', CM, { metadata: { name: 'd5' } });
      const wrongUid = await t.request('DELETE', `${CM}/d5`, { preconditions: { uid: 'nope' } });
      assert.equal(wrongUid.status, 409);
      assert.match(
        String(wrongUid.json.message),
        /Precondition failed: UID in precondition: nope, UID in object meta: /,
      );
      const badPolicy = await t.request('DELETE', `${CM}/d5?propagationPolicy=Sideways`);
      assert.equal(badPolicy.status, 422);
      const dry = await t.request('DELETE', `${CM}/d5?dryRun=All`);
      assert.equal(dry.status, 200);
      assert.equal((await t.request('GET', `${CM}/d5`)).status, 200);
    });

    test('deletecollection with a label selector', async () => {
      for (const n of ['dc1', 'dc2', 'dc3'])
        await t.request('POST', CM, { metadata: { name: n, labels: { batch: n === 'dc3' ? 'no' : 'yes' } } });
      const res = await t.request('DELETE', `${CM}?labelSelector=batch%3Dyes`);
      assert.equal(res.status, 200);
      assert.equal(res.json.kind, 'ConfigMapList');
      assert.deepEqual(res.json.items!.map((i) => (i.metadata as { name: string }).name).sort(), [
        'dc1',
        'dc2',
      ]);
      assert.equal((await t.request('GET', `${CM}/dc3`)).status, 200);
      assert.equal((await t.request('GET', `${CM}/dc1`)).status, 404);
    });

    test('dryRun stores nothing', async () => {
      const res = await t.request('POST', `${CM}?dryRun=All`, { metadata: { name: 'dry' } });
      assert.equal(res.status, 201);
      assert.equal((await t.request('GET', `${CM}/dry`)).status, 404);
      await t.request('POST', CM, { metadata: { name: 'dry2' }, data: { a: '1' } });
      const upd = await t.request('PUT', `${CM}/dry2?dryRun=All`, {
        metadata: { name: 'dry2' },
        data: { a: '2' },
      });
      assert.deepEqual(upd.json.data, { a: '2' });
      assert.deepEqual((await t.request('GET', `${CM}/dry2`)).json.data, { a: '1' });
      const bad = await t.request('POST', `${CM}?dryRun=Some`, { metadata: { name: 'dry3' } });
      assert.equal(bad.status, 422);
    });

    test('terminating namespaces refuse new content', async () => {
      const ns = await t.request('POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
      assert.equal(ns.status, 201);
      assert.deepEqual(ns.json.spec, { finalizers: ['kubernetes'] });
      const del = await t.request('DELETE', '/api/v1/namespaces/doomed');
      assert.equal(del.status, 200);
      assert.equal((del.json.status as { phase: string }).phase, 'Terminating');
      const create = await t.request('POST', '/api/v1/namespaces/doomed/configmaps', {
        metadata: { name: 'x' },
      });
      assert.equal(create.status, 403);
      assert.equal(
        create.json.message,
        'configmaps "x" is forbidden: unable to create new content in namespace doomed because it is being terminated',
      );
      const fin = await t.request('PUT', '/api/v1/namespaces/doomed/finalize', {
        metadata: { name: 'doomed' },
        spec: { finalizers: [] },
      });
      assert.equal(fin.status, 200);
      assert.equal((await t.request('GET', '/api/v1/namespaces/doomed')).status, 404);
    });

    test('list options: selectors, paging, resourceVersion', async () => {
      const ns = await t.request('POST', '/api/v1/namespaces', { metadata: { name: 'paging' } });
      assert.equal(ns.status, 201);
      const base = '/api/v1/namespaces/paging/configmaps';
      for (let i = 0; i < 7; i++)
        await t.request('POST', base, { metadata: { name: `p${i}`, labels: { even: String(i % 2 === 0) } } });
      const even = await t.request('GET', `${base}?labelSelector=even%3Dtrue`);
      assert.equal(even.json.items!.length, 4);
      const notIn = await t.request('GET', `${base}?labelSelector=even%20notin%20(true)`);
      assert.equal(notIn.json.items!.length, 3);
      const byName = await t.request('GET', `${base}?fieldSelector=metadata.name%3Dp3`);
      assert.deepEqual(
        byName.json.items!.map((i) => (i.metadata as { name: string }).name),
        ['p3'],
      );
      const unsupported = await t.request('GET', `${base}?fieldSelector=spec.foo%3Dbar`);
      assert.equal(unsupported.status, 400);
      assert.equal(unsupported.json.message, 'field label not supported: spec.foo');
      const badLabel = await t.request('GET', `${base}?labelSelector=a%3D%3D%3Db`);
      assert.equal(badLabel.status, 400);

      const names: string[] = [];
      let cont = '';
      let pages = 0;
      let firstRemaining: unknown;
      do {
        const page = await t.request(
          'GET',
          `${base}?limit=3${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
        );
        assert.equal(page.status, 200);
        if (pages === 0) firstRemaining = page.json.metadata!.remainingItemCount;
        names.push(...page.json.items!.map((i) => (i.metadata as { name: string }).name));
        cont = (page.json.metadata!.continue as string | undefined) ?? '';
        pages++;
      } while (cont);
      assert.equal(pages, 3);
      assert.equal(firstRemaining, 4);
      assert.deepEqual(names, ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);

      const filteredPage = await t.request('GET', `${base}?limit=2&labelSelector=even%3Dtrue`);
      assert.equal(filteredPage.json.items!.length, 2);
      assert.ok(filteredPage.json.metadata!.continue);
      assert.equal(filteredPage.json.metadata!.remainingItemCount, undefined);

      const first = await t.request('GET', `${base}?limit=2`);
      const rv = Number(first.json.metadata!.resourceVersion);
      await t.request('POST', base, { metadata: { name: 'p7' } });
      await t.store.compact(await t.store.currentRevision());
      const expired = await t.request(
        'GET',
        `${base}?limit=2&continue=${encodeURIComponent(String(first.json.metadata!.continue))}`,
      );
      assert.equal(expired.status, 410);
      assert.equal(expired.json.reason, 'Expired');
      assert.match(String(expired.json.message), /^The provided continue parameter is too old/);
      const exactOld = await t.request('GET', `${base}?resourceVersion=${rv}&resourceVersionMatch=Exact`);
      assert.equal(exactOld.status, 410);
      const future = await t.request('GET', `${base}?resourceVersion=99999999`);
      assert.equal(future.status, 504);
      const badCont = await t.request('GET', `${base}?continue=garbage`);
      assert.equal(badCont.status, 400);
      const matchNoRv = await t.request('GET', `${base}?resourceVersionMatch=Exact`);
      assert.equal(matchNoRv.status, 422);
    });

    test('tables and partial object metadata', async () => {
      const table = await t.request('GET', CM, undefined, {
        Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      });
      assert.equal(table.json.kind, 'Table');
      assert.equal(table.json.apiVersion, 'meta.k8s.io/v1');
      const cols = table.json.columnDefinitions as { name: string }[];
      assert.deepEqual(
        cols.map((c) => c.name),
        ['Name', 'Data', 'Age'],
      );
      const rows = table.json.rows as { cells: unknown[]; object: { kind: string } }[];
      assert.ok(rows.length > 0);
      assert.equal(rows[0]!.object.kind, 'PartialObjectMetadata');
      const full = await t.request('GET', `${CM}/one?includeObject=Object`, undefined, {
        Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      });
      const row = (full.json.rows as { cells: unknown[]; object: { kind: string } }[])[0]!;
      assert.equal(row.object.kind, 'ConfigMap');
      assert.equal(row.cells[0], 'one');
      const generic = await t.request('GET', DEP, undefined, {
        Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      });
      assert.deepEqual(
        (generic.json.columnDefinitions as { name: string }[]).map((c) => c.name),
        ['Name', 'Age'],
      );
      const pom = await t.request('GET', CM, undefined, {
        Accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io',
      });
      assert.equal(pom.json.kind, 'PartialObjectMetadataList');
      assert.equal((pom.json.items![0] as { kind: string }).kind, 'PartialObjectMetadata');
      const yaml = await t.request('GET', `${CM}/one`, undefined, { Accept: 'application/yaml' });
      assert.match(yaml.text, /^apiVersion: v1\nkind: ConfigMap/);
      const none = await t.request('GET', `${CM}/one`, undefined, {
        Accept: 'application/vnd.kubernetes.protobuf',
      });
      assert.equal(none.status, 406);
    });

    test('a deprecated version is converted and warned about', async () => {
      const res = await t.request('POST', '/apis/apps/v1beta2/namespaces/default/deployments', {
        ...deployment('old'),
        apiVersion: 'apps/v1beta2',
      });
      assert.equal(res.status, 201);
      assert.equal(res.json.apiVersion, 'apps/v1beta2');
      assert.equal(
        res.headers.get('warning'),
        '299 - "apps/v1beta2 Deployment is deprecated; use apps/v1 Deployment"',
      );
      const v1 = await t.request('GET', `${DEP}/old`);
      assert.equal(v1.json.apiVersion, 'apps/v1');
      assert.equal(v1.headers.get('warning'), null);
      const list = await t.request('GET', '/apis/apps/v1beta2/namespaces/default/deployments');
      assert.ok(list.json.items!.every((i) => i.apiVersion === 'apps/v1beta2'));
    });
  });
