// The shortcuts of the Update bookkeeping (equal subtrees left unwalked, stored FieldsV1 written
// back without decoding, the writer's own entry kept) against the long way round: every stored
// entry made non-canonical (keys reversed, plus a key of an unknown kind, which decoding skips)
// takes the decode-everything path, and the typed comparison can walk everything; both must agree,
// byte for byte, on randomized pod updates and on the cases named below.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject, JsonValue, KubeObject, ManagedFieldsEntry } from '../../api/meta.js';
import { isPlainObject } from '../../api/meta.js';
import { DefinitionRegistry } from '../../api/schema-registry.js';
import type { UpdateManagedFieldsInput } from './index.js';
import { applyServerSide, updateManagedFields } from './index.js';
import { isCanonicalFieldsV1 } from './fieldpath.js';
import { TypedContext, compareTyped } from './typed.js';

const schemas = DefinitionRegistry.loadBuiltin();
const POD = 'io.k8s.api.core.v1.Pod';
const T0 = Date.parse('2026-05-01T08:00:00Z');

function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pod(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'front' } },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'web:1',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
          resources: { requests: { cpu: '100m' }, limits: { memory: '64Mi' } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
      restartPolicy: 'Always',
    },
  };
}

type Write = Omit<UpdateManagedFieldsInput, 'old' | 'updated' | 'schemas' | 'schemaRef' | 'operation'>;

function input(old: KubeObject | undefined, updated: KubeObject, w: Write): UpdateManagedFieldsInput {
  return { ...w, old, updated, operation: 'Update', schemaRef: POD, schemas };
}

const STATUS = { subresource: 'status', resetFields: [['spec']] } as const;
const MAIN = { resetFields: [['status']] } as const;

/** The same FieldsV1 content in an order and with a key (of a kind decoding skips) never written. */
function scrambled(v: JsonObject): JsonObject {
  return { 'z:unknown-kind': {}, ...reversed(v) };
}

function reversed(v: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(v).reverse()) {
    const x = v[k];
    out[k] = isPlainObject(x) ? reversed(x) : (x as JsonValue);
  }
  return out;
}

function withScrambledFields(obj: KubeObject): KubeObject {
  const copy = structuredClone(obj);
  for (const e of copy.metadata.managedFields ?? []) if (e.fieldsV1) e.fieldsV1 = scrambled(e.fieldsV1);
  return copy;
}

/** Runs a write both ways, checks they agree exactly, and returns the stored result. */
function write(old: KubeObject | undefined, updated: KubeObject, w: Write): KubeObject {
  const fast = updateManagedFields(input(old, structuredClone(updated), w));
  const slow = updateManagedFields(input(old && withScrambledFields(old), structuredClone(updated), w));
  assert.equal(JSON.stringify(fast), JSON.stringify(slow));
  for (const e of fast.metadata.managedFields ?? []) assert.ok(isCanonicalFieldsV1(e.fieldsV1));
  fast.metadata.uid ??= 'uid-1';
  return fast;
}

/** The pod as created by `manager` at T0 (through write, so both ways agree). */
function createdBy(manager: string): KubeObject {
  return write(undefined, pod(), { manager, apiVersion: 'v1', now: new Date(T0), ...MAIN });
}

function entries(obj: KubeObject): ManagedFieldsEntry[] {
  return obj.metadata.managedFields ?? [];
}

function entry(obj: KubeObject, manager: string): ManagedFieldsEntry {
  const e = entries(obj).find((x) => x.manager === manager);
  assert.ok(e, `no entry for ${manager}`);
  return e;
}

function status(rnd: () => number): JsonObject {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const conditions = ['Ready', 'Initialized', 'ContainersReady', 'PodScheduled']
    .filter(() => rnd() < 0.7)
    .map((type) => ({
      type,
      status: pick(['True', 'False']),
      lastTransitionTime: pick(['2026-05-01T08:00:01Z', null]),
    }));
  const s: JsonObject = { phase: pick(['Pending', 'Running', 'Succeeded']), conditions };
  if (rnd() < 0.6) {
    const ip = pick(['10.0.0.1', '10.0.0.2']);
    s.podIP = ip;
    s.podIPs = [{ ip }];
  }
  if (rnd() < 0.5) s.startTime = '2026-05-01T08:00:00Z';
  if (rnd() < 0.5)
    s.containerStatuses = [
      { name: 'web', ready: rnd() < 0.5, restartCount: Math.floor(rnd() * 2), image: 'web:1' },
    ];
  return s;
}

function mutateSpec(obj: KubeObject, rnd: () => number): void {
  const spec = obj.spec as JsonObject;
  const c = (spec.containers as JsonObject[])[0]!;
  const meta = obj.metadata;
  switch (Math.floor(rnd() * 8)) {
    case 0:
      c.image = rnd() < 0.5 ? 'web:1' : 'web:2';
      break;
    case 1: {
      const env = (c.env as JsonObject[] | undefined) ?? [];
      if (env.length > 0 && rnd() < 0.5) env.pop();
      else env.push({ name: `E${Math.floor(rnd() * 3)}`, value: 'x' });
      const seen = new Set<JsonValue>();
      c.env = env.filter((e) => !seen.has(e.name!) && seen.add(e.name!));
      if ((c.env as JsonObject[]).length === 0) delete c.env;
      break;
    }
    case 2:
      if (meta.labels?.tier) delete meta.labels.tier;
      else meta.labels = { ...meta.labels, tier: 'front' };
      break;
    case 3:
      meta.annotations = rnd() < 0.5 ? { note: String(Math.floor(rnd() * 3)) } : undefined;
      if (!meta.annotations) delete meta.annotations;
      break;
    case 4:
      if (spec.activeDeadlineSeconds === undefined) spec.activeDeadlineSeconds = 30;
      else delete spec.activeDeadlineSeconds;
      break;
    case 5:
      c.resources =
        rnd() < 0.5
          ? { requests: { cpu: '200m' } }
          : { requests: { cpu: '100m' }, limits: { memory: '64Mi' } };
      break;
    case 6:
      spec.nodeSelector = rnd() < 0.5 ? { disk: 'ssd' } : { zone: 'a' };
      break;
    default:
      break; // an unchanged write
  }
}

describe('managedFields Update shortcuts', () => {
  it('agree with the full decode and walk on randomized pod writes', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rnd = random(seed);
      let stored = write(undefined, pod(), {
        manager: 'kubectl-create',
        apiVersion: 'v1',
        now: new Date(T0),
        ...MAIN,
      });
      for (let step = 1; step <= 40; step++) {
        const now = new Date(T0 + step * 1000);
        const next = structuredClone(stored);
        delete next.metadata.managedFields;
        if (rnd() < 0.5) {
          next.status = status(rnd);
          stored = write(stored, next, { manager: 'k8ts-agent', apiVersion: 'v1', now, ...STATUS });
        } else {
          mutateSpec(next, rnd);
          const manager = ['kubectl-create', 'kubectl-edit', 'k8ts-controller'][Math.floor(rnd() * 3)]!;
          stored = write(stored, next, { manager, apiVersion: 'v1', now, ...MAIN });
        }
      }
      assert.ok(entries(stored).length >= 2, `seed ${seed}: ${JSON.stringify(entries(stored))}`);
    }
  });

  it('typed comparison gives the same answer with and without skipping equal values', () => {
    const ctx = new TypedContext(schemas);
    const root = schemas.get(POD)!;
    const rnd = random(9);
    let a = pod() as unknown as JsonObject;
    for (let i = 0; i < 200; i++) {
      const b = structuredClone(a) as unknown as KubeObject;
      mutateSpec(b, rnd);
      if (rnd() < 0.5) b.status = status(rnd);
      const fast = compareTyped(ctx, a, b as unknown as JsonObject, root);
      const full = compareTyped(ctx, a, b as unknown as JsonObject, root, false);
      for (const k of ['added', 'removed', 'modified'] as const)
        assert.deepEqual(fast[k].toFieldsV1(), full[k].toFieldsV1(), k);
      a = b as unknown as JsonObject;
    }
  });

  it('moves a field another manager owned to the writer, and leaves the rest of that entry as it was', () => {
    const created = createdBy('kubectl-create');
    const withStatus = structuredClone(created);
    withStatus.status = { phase: 'Running' };
    const running = write(created, withStatus, {
      manager: 'k8ts-agent',
      apiVersion: 'v1',
      now: new Date(T0 + 1000),
      ...STATUS,
    });
    const next = structuredClone(running);
    delete next.metadata.managedFields;
    ((next.spec as JsonObject).containers as JsonObject[])[0]!.image = 'web:2';
    const out = write(running, next, {
      manager: 'kubectl-set',
      apiVersion: 'v1',
      now: new Date(T0 + 2000),
      ...MAIN,
    });
    const container = (e: ManagedFieldsEntry): JsonObject =>
      ((e.fieldsV1!['f:spec'] as JsonObject)['f:containers'] as JsonObject)['k:{"name":"web"}'] as JsonObject;
    assert.equal(container(entry(out, 'kubectl-create'))['f:image'], undefined);
    assert.ok(container(entry(out, 'kubectl-create'))['f:env']);
    assert.deepEqual(entry(out, 'kubectl-set').fieldsV1, {
      'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } },
    });
    // The agent's entry had nothing to do with it: the stored object is written back.
    const fast = updateManagedFields(
      input(running, next, { manager: 'kubectl-set', apiVersion: 'v1', now: new Date(T0 + 2000), ...MAIN }),
    );
    assert.equal(entry(fast, 'k8ts-agent').fieldsV1, entry(running, 'k8ts-agent').fieldsV1);
    assert.deepEqual(
      entries(out).map((e) => e.manager),
      ['kubectl-create', 'k8ts-agent', 'kubectl-set'],
    );
  });

  it('takes a removed field from everyone who owned it', () => {
    const created = createdBy('kubectl-create');
    const next = structuredClone(created);
    delete next.metadata.managedFields;
    delete next.metadata.labels!.tier;
    const out = write(created, next, {
      manager: 'kubectl-edit',
      apiVersion: 'v1',
      now: new Date(T0 + 1000),
      ...MAIN,
    });
    const meta = entry(out, 'kubectl-create').fieldsV1!['f:metadata'] as JsonObject;
    assert.deepEqual(meta['f:labels'], { '.': {}, 'f:app': {} });
    // Removing alone gives the remover nothing to own.
    assert.deepEqual(
      entries(out).map((e) => e.manager),
      ['kubectl-create'],
    );
  });

  it('takes changed status fields from a creator that owns them, and keeps its other ones', () => {
    const created = structuredClone(pod());
    created.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] };
    created.metadata.managedFields = [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2026-05-01T08:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:tier': {} } },
          'f:status': {
            'f:conditions': {
              '.': {},
              'k:{"type":"PodScheduled"}': { '.': {}, 'f:status': {}, 'f:type': {} },
            },
            'f:phase': {},
          },
        },
      },
    ];
    created.metadata.uid = 'uid-1';
    const next = structuredClone(created);
    delete next.metadata.managedFields;
    next.status = { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }] };
    const out = write(created, next, {
      manager: 'k8ts-agent',
      apiVersion: 'v1',
      now: new Date(T0 + 1000),
      ...STATUS,
    });
    assert.deepEqual(entry(out, 'kubectl-create').fieldsV1!['f:status'], {
      'f:conditions': { '.': {}, 'k:{"type":"PodScheduled"}': { '.': {}, 'f:status': {}, 'f:type': {} } },
    });
    assert.deepEqual(entry(out, 'k8ts-agent').fieldsV1, { 'f:status': { 'f:phase': {} } });
    assert.equal(entry(out, 'k8ts-agent').subresource, 'status');
  });

  it('keeps the writer entry as it was, but for its time, when the write changes only fields it owns', () => {
    const created = createdBy('k8ts-agent');
    const next = structuredClone(created);
    delete next.metadata.managedFields;
    ((next.spec as JsonObject).containers as JsonObject[])[0]!.image = 'web:2';
    next.metadata.generation = 2;
    const w = { manager: 'k8ts-agent', apiVersion: 'v1', now: new Date(T0 + 5000), ...MAIN };
    const out = write(created, next, w);
    assert.deepEqual(
      entries(out).map((e) => [e.manager, e.time]),
      [['k8ts-agent', '2026-05-01T08:00:05Z']],
    );
    assert.equal(
      updateManagedFields(input(created, next, w)).metadata.managedFields![0]!.fieldsV1,
      entry(created, 'k8ts-agent').fieldsV1,
    );
  });

  it('takes system metadata the writer was recorded as owning from it, even when it owns the rest', () => {
    const created = structuredClone(pod());
    created.metadata.uid = 'uid-1';
    created.metadata.generation = 1;
    created.metadata.managedFields = [
      {
        manager: 'k8ts-agent',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2026-05-01T08:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:generation': {} }, 'f:spec': { 'f:restartPolicy': {} } },
      },
    ];
    const next = structuredClone(created);
    delete next.metadata.managedFields;
    next.metadata.generation = 2;
    (next.spec as JsonObject).restartPolicy = 'Never';
    const out = write(created, next, {
      manager: 'k8ts-agent',
      apiVersion: 'v1',
      now: new Date(T0 + 1000),
      ...MAIN,
    });
    assert.deepEqual(entry(out, 'k8ts-agent').fieldsV1, { 'f:spec': { 'f:restartPolicy': {} } });
  });

  it('changes nothing on a write that changes nothing', () => {
    const created = createdBy('kubectl-create');
    const next = structuredClone(created);
    delete next.metadata.managedFields;
    for (const manager of ['kubectl-create', 'someone-else']) {
      const out = write(created, next, { manager, apiVersion: 'v1', now: new Date(T0 + 9000), ...MAIN });
      assert.deepEqual(out.metadata.managedFields, created.metadata.managedFields);
    }
  });

  it('writes back canonically what was stored otherwise, as decoding and encoding it does', () => {
    const created = createdBy('kubectl-create');
    const odd = withScrambledFields(created);
    const next = structuredClone(created);
    delete next.metadata.managedFields;
    next.status = { phase: 'Running' };
    const out = updateManagedFields(
      input(odd, next, { manager: 'k8ts-agent', apiVersion: 'v1', now: new Date(T0 + 1000), ...STATUS }),
    );
    assert.equal(
      JSON.stringify(entry(out, 'kubectl-create').fieldsV1),
      JSON.stringify(entry(created, 'kubectl-create').fieldsV1),
    );
  });

  it('leaves an untracked object untracked until the first apply, which gives its fields to before-first-apply', () => {
    const existing = structuredClone(pod());
    existing.metadata.uid = 'uid-1';
    const next = structuredClone(existing);
    next.status = { phase: 'Running' };
    const out = write(existing, next, {
      manager: 'k8ts-agent',
      apiVersion: 'v1',
      now: new Date(T0),
      ...STATUS,
    });
    assert.equal(out.metadata.managedFields, undefined);
    const applied = applyServerSide({
      live: out,
      applied: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } } },
      manager: 'kubectl',
      force: false,
      schemaRef: POD,
      schemas,
      apiVersion: 'v1',
      now: new Date(T0 + 1000),
    }).object;
    assert.deepEqual(
      entries(applied).map((e) => [e.manager, e.operation]),
      [
        ['kubectl', 'Apply'],
        ['before-first-apply', 'Update'],
      ],
    );
    assert.ok((entry(applied, 'before-first-apply').fieldsV1!['f:spec'] as JsonObject)['f:containers']);
  });
});
