import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../api/errors.js';
import type { JsonObject, JsonValue, KubeObject, ManagedFieldsEntry } from '../../api/meta.js';
import { applyServerSide, updateManagedFields, LAST_APPLIED_ANNOTATION } from './index.js';
import { CONFIGMAP, CRONTAB, DEPLOYMENT, FixtureRegistry } from './test-schemas.js';

const schemas = new FixtureRegistry();
const T0 = new Date('2026-01-02T03:04:05.678Z');
const T1 = new Date('2026-01-02T03:05:00.000Z');
const T2 = new Date('2026-01-02T03:06:00.000Z');

function deployment(over: { replicas?: number; image?: string } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx', namespace: 'default', labels: { app: 'nginx' } },
    spec: {
      replicas: over.replicas ?? 2,
      selector: { matchLabels: { app: 'nginx' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: over.image ?? 'nginx:1.25',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              resources: {},
            },
          ],
          restartPolicy: 'Always',
        },
      },
    },
  };
}

/** What the API server stores after a create: uid and the like, plus managedFields. */
function created(manager: string, obj: KubeObject = deployment(), now = T0): KubeObject {
  const out = updateManagedFields({
    old: undefined,
    updated: obj,
    manager,
    operation: 'Update',
    apiVersion: 'apps/v1',
    schemaRef: DEPLOYMENT,
    schemas,
    now,
  });
  out.metadata.uid = 'u-1';
  out.metadata.resourceVersion = '1';
  out.metadata.creationTimestamp = '2026-01-02T03:04:05Z';
  return out;
}

function update(
  old: KubeObject,
  updated: KubeObject,
  manager: string,
  now: Date,
  extra: { subresource?: string; apiVersion?: string } = {},
): KubeObject {
  return updateManagedFields({
    old,
    updated,
    manager,
    operation: 'Update',
    apiVersion: extra.apiVersion ?? 'apps/v1',
    subresource: extra.subresource,
    schemaRef: DEPLOYMENT,
    schemas,
    now,
  });
}

function apply(
  liveObj: KubeObject | undefined,
  config: JsonObject,
  manager: string,
  now: Date,
  force = false,
): KubeObject {
  return applyServerSide({
    live: liveObj,
    applied: config as unknown as KubeObject,
    manager,
    force,
    schemaRef: DEPLOYMENT,
    schemas,
    apiVersion: 'apps/v1',
    now,
  }).object;
}

function config(spec: JsonObject, metadata: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx', namespace: 'default', ...metadata },
    spec,
  };
}

function entry(obj: KubeObject, manager: string): ManagedFieldsEntry {
  const e = obj.metadata.managedFields?.find((m) => m.manager === manager);
  assert.ok(e, `no managedFields entry for ${manager}: ${JSON.stringify(obj.metadata.managedFields)}`);
  return e;
}

function owns(obj: KubeObject, manager: string, ...path: string[]): boolean {
  let cur: JsonValue | undefined = entry(obj, manager).fieldsV1;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return false;
    cur = cur[p];
  }
  return cur !== undefined;
}

function spec(obj: KubeObject): JsonObject {
  return obj.spec as JsonObject;
}

function containersOf(obj: KubeObject): JsonObject[] {
  return ((spec(obj).template as JsonObject).spec as JsonObject).containers as JsonObject[];
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

const NGINX = 'k:{"name":"nginx"}';
const PORT80 = 'k:{"containerPort":80,"protocol":"TCP"}';

describe('updateManagedFields', () => {
  it('records a create like upstream: owned nodes marked "." where the empty object has no value', () => {
    const obj = created('kubectl-create');
    assert.deepEqual(obj.metadata.managedFields, [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: '2026-01-02T03:04:05Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:strategy': {
              'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} },
              'f:type': {},
            },
            'f:template': {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  [NGINX]: {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { '.': {}, [PORT80]: { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
                    'f:resources': {},
                  },
                },
                'f:restartPolicy': {},
              },
            },
          },
        },
      },
    ]);
  });

  it('merges later updates by the same manager into its entry and moves changed fields between managers', () => {
    const obj = created('kubectl-client-side-apply');
    const scaled = structuredClone(obj);
    spec(scaled).replicas = 5;
    const after = update(obj, scaled, 'kubectl-scale', T1);
    assert.equal(owns(after, 'kubectl-scale', 'f:spec', 'f:replicas'), true);
    assert.equal(owns(after, 'kubectl-client-side-apply', 'f:spec', 'f:replicas'), false);
    assert.equal(entry(after, 'kubectl-scale').time, '2026-01-02T03:05:00Z');
    assert.equal(entry(after, 'kubectl-client-side-apply').time, '2026-01-02T03:04:05Z');

    const again = structuredClone(after);
    containersOf(again)[0]!.image = 'nginx:1.26';
    const last = update(after, again, 'kubectl-client-side-apply', T2);
    const mine = last.metadata.managedFields!.filter((m) => m.manager === 'kubectl-client-side-apply');
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.time, '2026-01-02T03:06:00Z');
    assert.equal(
      owns(
        last,
        'kubectl-client-side-apply',
        'f:spec',
        'f:template',
        'f:spec',
        'f:containers',
        NGINX,
        'f:image',
      ),
      true,
    );
    assert.equal(owns(last, 'kubectl-client-side-apply', 'f:metadata', 'f:labels', 'f:app'), true);
    assert.deepEqual(
      last.metadata.managedFields!.map((m) => m.manager),
      ['kubectl-scale', 'kubectl-client-side-apply'],
      'sorted by time',
    );
  });

  it('leaves managedFields alone when nothing changed', () => {
    const obj = created('kubectl-create');
    const same = update(obj, structuredClone(obj), 'kubectl-edit', T1);
    assert.deepEqual(same.metadata.managedFields, obj.metadata.managedFields);
  });

  it('keeps separate entries per version and per subresource', () => {
    const obj = created('kubectl-create');
    obj.status = {};
    const withStatus = structuredClone(obj);
    withStatus.status = { replicas: 1 };
    const afterStatus = update(obj, withStatus, 'kube-controller-manager', T1, { subresource: 'status' });
    const st = entry(afterStatus, 'kube-controller-manager');
    assert.equal(st.subresource, 'status');
    assert.deepEqual(st.fieldsV1, { 'f:status': { 'f:replicas': {} } });
    const v2 = structuredClone(afterStatus);
    spec(v2).paused = true;
    const afterV2 = update(afterStatus, v2, 'kube-controller-manager', T2, { apiVersion: 'apps/v1beta2' });
    const kcm = afterV2.metadata.managedFields!.filter((m) => m.manager === 'kube-controller-manager');
    assert.equal(kcm.length, 2);
    assert.deepEqual(kcm.map((m) => [m.apiVersion, m.subresource]).sort(), [
      ['apps/v1', 'status'],
      ['apps/v1beta2', undefined],
    ]);
  });

  it('ignores managedFields sent to a subresource and uses the ones sent to the main resource', () => {
    const obj = created('kubectl-create');
    const sent = structuredClone(obj);
    sent.metadata.managedFields = [{}];
    const reset = update(obj, sent, 'kubectl-edit', T1);
    assert.equal(reset.metadata.managedFields, undefined, 'a single empty entry clears managedFields');
    const sub = update(obj, structuredClone(sent), 'x', T1, { subresource: 'status' });
    assert.deepEqual(sub.metadata.managedFields, obj.metadata.managedFields);
  });

  it('does not start tracking an existing object that has no managedFields', () => {
    const obj = created('kubectl-create');
    delete obj.metadata.managedFields;
    const next = structuredClone(obj);
    spec(next).replicas = 9;
    assert.equal(update(obj, next, 'kubectl-edit', T1).metadata.managedFields, undefined);
  });

  it('folds the oldest of more than ten updaters into ancient-changes', () => {
    let obj = created('m0');
    for (let i = 1; i <= 11; i++) {
      const next = structuredClone(obj);
      (next.metadata.labels as Record<string, string>)[`l${i}`] = 'x';
      obj = update(obj, next, `m${i}`, new Date(T0.getTime() + i * 60_000));
    }
    const updaters = obj.metadata.managedFields!.filter((m) => m.operation === 'Update');
    assert.equal(updaters.length, 10);
    const ancient = entry(obj, 'ancient-changes');
    assert.equal(ancient.apiVersion, 'apps/v1');
    assert.equal(owns(obj, 'ancient-changes', 'f:metadata', 'f:labels', 'f:l1'), true);
    assert.equal(owns(obj, 'ancient-changes', 'f:spec', 'f:replicas'), true);
  });
});

describe('applyServerSide', () => {
  it('creates an object and records the applier', () => {
    const obj = apply(
      undefined,
      config(
        {
          replicas: 3,
          selector: { matchLabels: { app: 'nginx' } },
          template: {
            metadata: { labels: { app: 'nginx' } },
            spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] },
          },
        },
        { labels: { app: 'nginx' } },
      ),
      'fleet',
      T0,
    );
    assert.equal(spec(obj).replicas, 3);
    assert.equal(containersOf(obj)[0]!.image, 'nginx');
    assert.equal((obj.spec as JsonObject).selector !== null, true);
    assert.deepEqual(obj.metadata.managedFields, [
      {
        manager: 'fleet',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: '2026-01-02T03:04:05Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  [NGINX]: {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { [PORT80]: { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it('refuses to change a field another manager set, with upstream message and causes', () => {
    const obj = created('kubectl-client-side-apply');
    const err = statusOf(() => apply(obj, config({ replicas: 3 }), 'fleet', T1));
    assert.equal(err.code, 409);
    assert.deepEqual(err.status, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
      reason: 'Conflict',
      details: {
        causes: [
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "kubectl-client-side-apply" using apps/v1',
            field: '.spec.replicas',
          },
        ],
      },
      code: 409,
    });
  });

  it('shares fields applied with the value they already have', () => {
    const obj = created('kubectl-client-side-apply');
    const out = apply(obj, config({ replicas: 2 }), 'fleet', T1);
    assert.equal(owns(out, 'fleet', 'f:spec', 'f:replicas'), true);
    assert.equal(owns(out, 'kubectl-client-side-apply', 'f:spec', 'f:replicas'), true);
  });

  it('lists several conflicts per manager, and force takes the fields over', () => {
    const base = apply(
      undefined,
      config({ replicas: 3, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1' }] } } }),
      'alice',
      T0,
    );
    const mine = config({
      replicas: 4,
      template: { spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } },
    });
    const err = statusOf(() => apply(base, mine, 'bob', T1));
    assert.equal(
      err.message,
      'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
    );
    assert.deepEqual(
      err.status.details?.causes?.map((c) => c.field),
      ['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image'],
    );

    const forced = apply(base, mine, 'bob', T1, true);
    assert.equal(spec(forced).replicas, 4);
    assert.equal(containersOf(forced)[0]!.image, 'nginx:2');
    assert.equal(owns(forced, 'bob', 'f:spec', 'f:replicas'), true);
    assert.equal(owns(forced, 'alice', 'f:spec', 'f:replicas'), false);
    assert.equal(
      owns(forced, 'alice', 'f:spec', 'f:template', 'f:spec', 'f:containers', NGINX, 'f:name'),
      true,
    );
  });

  it('removes a field the applier stops applying when nobody else owns it', () => {
    const first = apply(
      undefined,
      config({ replicas: 3 }, { labels: { app: 'nginx', tier: 'web' } }),
      'alice',
      T0,
    );
    const second = apply(first, config({ replicas: 3 }, { labels: { app: 'nginx' } }), 'alice', T1);
    assert.deepEqual(second.metadata.labels, { app: 'nginx' });
    assert.equal(second.metadata.name, 'nginx');
  });

  it('keeps system metadata and fields nobody owns when pruning', () => {
    const first = apply(
      undefined,
      config({ replicas: 3 }, { labels: { app: 'nginx', tier: 'web' } }),
      'alice',
      T0,
    );
    first.metadata.uid = 'u-1';
    first.metadata.resourceVersion = '7';
    first.metadata.generation = 2;
    first.metadata.creationTimestamp = '2026-01-02T03:04:05Z';
    first.status = { replicas: 3, conditions: [{ type: 'Available', status: 'True' }] };
    const second = apply(first, config({ replicas: 3 }, { labels: { app: 'nginx' } }), 'alice', T1);
    assert.deepEqual(second.metadata.labels, { app: 'nginx' });
    assert.equal(second.metadata.uid, 'u-1');
    assert.equal(second.metadata.resourceVersion, '7');
    assert.equal(second.metadata.generation, 2);
    assert.equal(second.metadata.creationTimestamp, '2026-01-02T03:04:05Z');
    assert.deepEqual(second.status, first.status);
  });

  it('keeps a field the applier drops when an updater also set it', () => {
    const first = apply(undefined, config({ replicas: 3, paused: false }), 'alice', T0);
    const edited = structuredClone(first);
    spec(edited).paused = true;
    const afterEdit = update(first, edited, 'kubectl-edit', T1);
    const dropped = apply(afterEdit, config({ replicas: 3 }), 'alice', T2);
    assert.equal(spec(dropped).paused, true);
    assert.equal(owns(dropped, 'kubectl-edit', 'f:spec', 'f:paused'), true);
  });

  it('keeps a field the applier drops when another manager owns it too', () => {
    const first = apply(
      undefined,
      config({ replicas: 3 }, { labels: { app: 'nginx', tier: 'web' } }),
      'alice',
      T0,
    );
    const shared = apply(first, config({}, { labels: { tier: 'web' } }), 'bob', T1);
    const dropped = apply(shared, config({ replicas: 3 }, { labels: { app: 'nginx' } }), 'alice', T2);
    assert.deepEqual(dropped.metadata.labels, { app: 'nginx', tier: 'web' });
    assert.equal(owns(dropped, 'alice', 'f:metadata', 'f:labels', 'f:tier'), false);
    assert.equal(owns(dropped, 'bob', 'f:metadata', 'f:labels', 'f:tier'), true);
  });

  it('removes a container dropped from the configuration', () => {
    const two = config({
      template: {
        spec: {
          containers: [
            { name: 'nginx', image: 'nginx' },
            { name: 'sidecar', image: 'busybox' },
          ],
        },
      },
    });
    const one = config({ template: { spec: { containers: [{ name: 'nginx', image: 'nginx' }] } } });
    const first = apply(undefined, two, 'alice', T0);
    assert.deepEqual(
      containersOf(first).map((c) => c.name),
      ['nginx', 'sidecar'],
    );
    const second = apply(first, one, 'alice', T1);
    assert.deepEqual(
      containersOf(second).map((c) => c.name),
      ['nginx'],
    );
    assert.equal(
      owns(second, 'alice', 'f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"sidecar"}'),
      false,
    );
  });

  it('leaves a field that was forced away from the applier when the applier drops it', () => {
    const first = apply(undefined, config({ replicas: 3 }), 'alice', T0);
    const taken = apply(first, config({ replicas: 4 }), 'bob', T1, true);
    const after = apply(taken, config({}), 'alice', T2);
    assert.equal(spec(after).replicas, 4);
    assert.equal(owns(after, 'bob', 'f:spec', 'f:replicas'), true);
  });

  it('does not conflict with its own earlier apply and keeps the time of a no-op', () => {
    const first = apply(undefined, config({ replicas: 3 }), 'alice', T0);
    const again = apply(first, config({ replicas: 3 }), 'alice', T1);
    assert.deepEqual(again.metadata.managedFields, first.metadata.managedFields);
    const changed = apply(first, config({ replicas: 5 }), 'alice', T1);
    assert.equal(spec(changed).replicas, 5);
    assert.equal(entry(changed, 'alice').time, '2026-01-02T03:05:00Z');
  });

  it('gives existing fields to before-first-apply on an untracked object', () => {
    const obj = created('x');
    delete obj.metadata.managedFields;
    const err = statusOf(() => apply(obj, config({ replicas: 7 }), 'alice', T1));
    assert.equal(
      err.message,
      'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas',
    );
    const ok = apply(obj, config({ replicas: 2 }), 'alice', T1);
    assert.deepEqual(
      ok.metadata.managedFields!.map((m) => [m.manager, m.operation]),
      [
        ['alice', 'Apply'],
        ['before-first-apply', 'Update'],
      ],
    );
  });

  it('lets kubectl take over fields client-side apply recorded in last-applied-configuration', () => {
    const withAnnotation = deployment();
    (withAnnotation.metadata as JsonObject).annotations = {
      [LAST_APPLIED_ANNOTATION]: JSON.stringify(deployment()),
    };
    const obj = created('kubectl-client-side-apply', withAnnotation);
    const cfg = config({ replicas: 3 });
    const out = apply(obj, cfg, 'kubectl', T1);
    assert.equal(spec(out).replicas, 3);
    assert.equal(owns(out, 'kubectl', 'f:spec', 'f:replicas'), true);
    assert.equal(
      out.metadata.annotations?.[LAST_APPLIED_ANNOTATION],
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'nginx', namespace: 'default' },
        spec: { replicas: 3 },
      }),
    );
    // Another manager still conflicts.
    assert.equal(statusOf(() => apply(obj, cfg, 'other', T1)).code, 409);
  });

  it('merges sets and keyed lists of several appliers and treats atomic maps as one field', () => {
    const fin = (f: string[]): JsonObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'nginx', namespace: 'default', finalizers: f },
    });
    const a = apply(undefined, fin(['a']), 'alice', T0);
    const b = apply(a, fin(['b']), 'bob', T1);
    assert.deepEqual(b.metadata.finalizers, ['a', 'b']);
    assert.deepEqual(entry(b, 'bob').fieldsV1, { 'f:metadata': { 'f:finalizers': { 'v:"b"': {} } } });
    const c = apply(b, fin([]), 'alice', T2);
    assert.deepEqual(c.metadata.finalizers, ['b']);

    const ns1 = apply(
      undefined,
      config({ template: { spec: { nodeSelector: { disk: 'ssd' } } } }),
      'alice',
      T0,
    );
    const err = statusOf(() =>
      apply(ns1, config({ template: { spec: { nodeSelector: { zone: 'a' } } } }), 'bob', T1),
    );
    assert.equal(
      err.message,
      'Apply failed with 1 conflict: conflict with "alice": .spec.template.spec.nodeSelector',
    );
  });

  it('rejects a configuration of another kind, with managedFields, or with fields the schema lacks', () => {
    let err = statusOf(() => apply(undefined, { ...config({}), kind: 'ReplicaSet' }, 'a', T0));
    assert.equal(err.code, 400);
    assert.equal(err.message, 'invalid object type: apps/v1, Kind=ReplicaSet');
    err = statusOf(() =>
      apply(undefined, { ...config({}), metadata: { name: 'nginx', managedFields: [] } }, 'a', T0),
    );
    assert.equal(err.message, 'metadata.managedFields must be nil');
    err = statusOf(() => apply(undefined, config({ bogus: 1 }), 'a', T0));
    assert.equal(err.code, 500);
    assert.equal(
      err.message,
      'failed to create typed patch object (default/nginx; apps/v1, Kind=Deployment): .spec.bogus: field not declared in schema',
    );
    err = statusOf(() =>
      apply(undefined, config({ template: { spec: { containers: [{ image: 'x' }] } } }), 'a', T0),
    );
    assert.match(
      err.message,
      /\.spec\.template\.spec\.containers: element 0: associative list with keys has an element that omits key field "name" \(and doesn't have default value\)$/,
    );
  });

  it('applies kinds without lists too', () => {
    const out = applyServerSide({
      live: undefined,
      applied: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } },
      manager: 'm',
      force: false,
      schemaRef: CONFIGMAP,
      schemas,
      apiVersion: 'v1',
      now: T0,
    }).object;
    assert.deepEqual(out.data, { a: '1' });
    assert.deepEqual(entry(out, 'm').fieldsV1, { 'f:data': { 'f:a': {} } });
  });

  it('applies custom resources with untyped (preserve-unknown-fields) parts', () => {
    const cr = (spec: JsonObject): KubeObject => ({
      apiVersion: 'stable.example.com/v1',
      kind: 'CronTab',
      metadata: { name: 'c', namespace: 'default' },
      spec,
    });
    const run = (
      live: KubeObject | undefined,
      spec: JsonObject,
      manager: string,
      force = false,
    ): KubeObject =>
      applyServerSide({
        live,
        applied: cr(spec),
        manager,
        force,
        schemaRef: CRONTAB,
        schemas,
        apiVersion: 'stable.example.com/v1',
        now: T0,
      }).object;
    const a = run(undefined, { cronSpec: '* * * * */5', image: 'img:1', args: ['x'] }, 'alice');
    assert.deepEqual(entry(a, 'alice').fieldsV1, {
      'f:spec': { 'f:args': {}, 'f:cronSpec': {}, 'f:image': {} },
    });
    const err = statusOf(() => run(a, { image: 'img:2' }, 'bob'));
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "alice": .spec.image');
    const b = run(a, { image: 'img:2', extra: { deep: 1 } }, 'bob', true);
    assert.deepEqual(b.spec, { cronSpec: '* * * * */5', image: 'img:2', args: ['x'], extra: { deep: 1 } });
    const c = run(b, { cronSpec: '* * * * */5' }, 'alice');
    assert.deepEqual(c.spec, { cronSpec: '* * * * */5', image: 'img:2', extra: { deep: 1 } });
  });
});
