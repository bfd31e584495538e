// Fuzzing the write path of a real in-process API server on SQLite: thousands of mutated objects
// (fields deleted, types swapped, huge strings, invalid names, unicode, nested garbage, duplicate
// keys, bodies over the 3 MiB limit, broken JSON) are posted, patched and deleted. The server must
// stay up and answer every request with a well-formed Status or object, never a 500 where
// upstream would not send one; afterwards the store must hold exactly the objects it accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResources } from '../../src/api/kinds/index.js';
import { defaultAdmissionPlugins } from '../../src/apiserver/admission/index.js';
import { startTestServer } from '../../src/apiserver/test-server.js';
import { setLogLevel } from '../../src/util/log.js';

const SEED = Number(process.env.K8TS_FUZZ_SEED ?? 20261122);
const BUDGET_MS = 14_000;
const MAX_REQUESTS = 6000;
const CONCURRENCY = 8;
const NS = 'fuzz';

/** mulberry32: small, fast, reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const chance = (p: number): boolean => rand() < p;
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Target {
  readonly path: string;
  readonly plural: string;
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespaced: boolean;
  readonly base: (name: string) => { [k: string]: Json };
}

const nsPath = (group: string, plural: string): string =>
  group === '' ? `/api/v1/namespaces/${NS}/${plural}` : `/apis/${group}/namespaces/${NS}/${plural}`;

const TARGETS: readonly Target[] = [
  {
    path: nsPath('', 'configmaps'),
    plural: 'configmaps',
    kind: 'ConfigMap',
    apiVersion: 'v1',
    namespaced: true,
    base: (name) => ({ metadata: { name, labels: { app: 'fuzz' } }, data: { key: 'value', other: 'x' } }),
  },
  {
    path: nsPath('', 'secrets'),
    plural: 'secrets',
    kind: 'Secret',
    apiVersion: 'v1',
    namespaced: true,
    base: (name) => ({
      metadata: { name },
      type: 'Opaque',
      stringData: { user: 'u' },
      data: { pass: 'cGFzcw==' },
    }),
  },
  {
    path: nsPath('', 'services'),
    plural: 'services',
    kind: 'Service',
    apiVersion: 'v1',
    namespaced: true,
    base: (name) => ({
      metadata: { name },
      spec: {
        selector: { app: 'fuzz' },
        ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
        type: 'ClusterIP',
      },
    }),
  },
  {
    path: nsPath('', 'pods'),
    plural: 'pods',
    kind: 'Pod',
    apiVersion: 'v1',
    namespaced: true,
    base: (name) => ({
      metadata: { name, labels: { app: 'fuzz' } },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'nginx:1.25',
            ports: [{ containerPort: 80 }],
            resources: { requests: { cpu: '100m', memory: '64Mi' } },
            env: [{ name: 'A', value: 'b' }],
          },
        ],
        restartPolicy: 'Always',
      },
    }),
  },
  {
    path: nsPath('apps/v1', 'deployments'),
    plural: 'deployments',
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    namespaced: true,
    base: (name) => ({
      metadata: { name },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'fuzz' } },
        template: {
          metadata: { labels: { app: 'fuzz' } },
          spec: { containers: [{ name: 'c', image: 'nginx' }] },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      },
    }),
  },
  {
    path: nsPath('rbac.authorization.k8s.io/v1', 'roles'),
    plural: 'roles',
    kind: 'Role',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    namespaced: true,
    base: (name) => ({
      metadata: { name },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
    }),
  },
  {
    path: '/api/v1/namespaces',
    plural: 'namespaces',
    kind: 'Namespace',
    apiVersion: 'v1',
    namespaced: false,
    base: (name) => ({ metadata: { name: `fz-${name}` } }),
  },
];

const UNICODE = [
  'é',
  'ß',
  '日本語',
  '🚀',
  '\u202e',
  '\u0000',
  '\u200b',
  'Ω≈ç√',
  '\ud83d\ude00',
  '\ufeff',
  'Z̴̡͈a̷',
];

function randomString(max = 40): string {
  const n = int(0, max);
  let s = '';
  for (let i = 0; i < n; i++) s += chance(0.2) ? pick(UNICODE) : String.fromCharCode(int(32, 126));
  return s;
}

function hugeString(): string {
  return 'x'.repeat(pick([10_000, 300_000, 1_100_000]));
}

function invalidName(): Json {
  return pick<Json>([
    '',
    'UPPER',
    'has space',
    'under_score',
    'a/b',
    '..',
    '.',
    '-leading',
    'trailing-',
    'x'.repeat(254),
    'x'.repeat(64),
    'ünïcode',
    '%2F',
    'a\u0000b',
    123,
    true,
    null,
    ['a'],
    { name: 'a' },
  ]);
}

function garbage(depth = 0): Json {
  const r = rand();
  if (depth > 4 || r < 0.3)
    return pick<Json>([null, true, false, 0, -1, 1e308, 3.5, randomString(), '', '0', 'null']);
  if (r < 0.6) return Array.from({ length: int(0, 4) }, () => garbage(depth + 1));
  const o: { [k: string]: Json } = {};
  for (let i = 0; i < int(0, 4); i++)
    o[chance(0.7) ? pick(['name', 'spec', 'metadata', 'items', 'value', 'kind']) : randomString(8)] = garbage(
      depth + 1,
    );
  return o;
}

function deepNest(levels: number): Json {
  let v: Json = 'bottom';
  for (let i = 0; i < levels; i++) v = chance(0.5) ? [v] : { n: v };
  return v;
}

/** Every path to a value inside the object (for deletions and swaps). */
function paths(
  v: Json,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  if (v !== null && typeof v === 'object') {
    const entries: [string | number, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, x] of entries) {
      const p = [...prefix, k];
      out.push(p);
      paths(x, p, out);
    }
  }
  return out;
}

function setAt(root: Json, path: (string | number)[], value: Json | undefined): void {
  let cur: Json = root;
  for (const k of path.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return;
    cur = Array.isArray(cur) ? (cur[k as number] ?? null) : (cur[k as string] ?? null);
  }
  const last = path[path.length - 1]!;
  if (cur === null || typeof cur !== 'object') return;
  if (Array.isArray(cur)) {
    if (value === undefined) cur.splice(last as number, 1);
    else cur[last as number] = value;
  } else if (value === undefined) delete cur[last as string];
  else cur[last as string] = value;
}

function swapType(v: Json): Json {
  if (typeof v === 'string') return pick<Json>([Number(v.length), [v], { v }, null, true]);
  if (typeof v === 'number') return pick<Json>([String(v), [v], null, v > 0 ? -v : 1e21, 0.5]);
  if (typeof v === 'boolean') return pick<Json>(['true', 1, null]);
  if (Array.isArray(v)) return pick<Json>([{ '0': v[0] ?? null }, 'list', v.length]);
  if (v === null) return pick<Json>(['', 0, [], {}]);
  return pick<Json>([[v], JSON.stringify(v), 7]);
}

interface Mutated {
  readonly body: string | Buffer;
  readonly contentType: string;
}

function mutate(t: Target, name: string): Mutated {
  const obj: { [k: string]: Json } = { apiVersion: t.apiVersion, kind: t.kind, ...t.base(name) };
  const rounds = int(0, 3);
  for (let i = 0; i < rounds; i++) {
    const all = paths(obj);
    const p = all.length ? pick(all) : ['metadata'];
    const r = rand();
    if (r < 0.25) setAt(obj, p, undefined);
    else if (r < 0.45) {
      let cur: Json = obj;
      for (const k of p)
        cur = cur !== null && typeof cur === 'object' ? ((cur as Record<string, Json>)[k] ?? null) : null;
      setAt(obj, p, swapType(cur));
    } else if (r < 0.55) setAt(obj, p, hugeString());
    else if (r < 0.65) setAt(obj, ['metadata', 'name'], invalidName());
    else if (r < 0.75) setAt(obj, p, randomString());
    else if (r < 0.85) setAt(obj, p, garbage());
    else if (r < 0.9) setAt(obj, [pick(['spec', 'data', 'metadata', 'status', randomString(6)])], garbage());
    else if (r < 0.93) setAt(obj, ['metadata', 'labels'], { [randomString(10)]: randomString(10) });
    else if (r < 0.95) setAt(obj, ['metadata', 'resourceVersion'], pick<Json>(['1', '999999999', 'abc']));
    else if (r < 0.97) setAt(obj, ['spec'], deepNest(int(50, 3000)));
    else setAt(obj, ['kind'], pick<Json>(['Pod', 'Nope', '', 5]));
  }
  let text = JSON.stringify(obj);
  const r = rand();
  if (r < 0.04) {
    // A duplicated key, which JSON.stringify can never produce.
    text = text.replace(/^\{/, `{"metadata":{"name":"dup-${name}"},`);
  } else if (r < 0.06) text = text.slice(0, int(0, text.length));
  else if (r < 0.07) text = `${text}${text}`;
  else if (r < 0.075)
    return { body: Buffer.alloc(3 * 1024 * 1024 + int(1, 4096), 0x20), contentType: 'application/json' };
  else if (r < 0.077) {
    // Nesting far deeper than any decoder should follow.
    const depth = int(5_000, 200_000);
    return {
      body: `{"metadata":{"name":"deep-${name}"},"data":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      contentType: 'application/json',
    };
  } else if (r < 0.08)
    return {
      body: Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
      contentType: 'application/json',
    };
  else if (r < 0.09)
    return { body: text, contentType: pick(['text/plain', 'application/xml', 'application/yaml', '']) };
  else if (r < 0.095)
    return {
      body: `kind: ${t.kind}\napiVersion: ${t.apiVersion}\nmetadata: {name: y-${name}}\n: : :\n`,
      contentType: 'application/yaml',
    };
  return { body: text, contentType: 'application/json' };
}

interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown> | undefined;
  readonly text: string;
}

test('fuzzed writes get well-formed answers and the store holds exactly what was accepted', async (t) => {
  // Thousands of refusals are the point here; only unexpected failures (logged as errors) matter.
  if (!process.env.K8TS_LOG_LEVEL) setLogLevel('error');
  const server = await startTestServer({
    backend: 'sqlite',
    resources: builtinResources,
    admission: (ctx) => defaultAdmissionPlugins(ctx, { serviceAccount: { defaultAttempts: 1 } }),
  });
  const problems: string[] = [];
  /** key: path/name → the uid and resourceVersion of the accepted object. */
  const accepted = new Map<string, { uid: string; rv: string; target: Target; name: string }>();
  const statusCounts = new Map<number, number>();
  try {
    const setup = [
      ['POST', '/api/v1/namespaces', { metadata: { name: NS } }],
      ['POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name: 'default' } }],
    ] as const;
    for (const [method, path, body] of setup)
      assert.equal((await server.request(method, path, body)).status, 201);
    const baseline = new Map<string, Set<string>>();
    for (const t of TARGETS) {
      const list = await server.request('GET', t.path);
      baseline.set(
        t.path,
        new Set((list.json.items ?? []).map((i) => String((i.metadata as { name: string }).name))),
      );
    }

    const send = async (method: string, path: string, m: Mutated): Promise<Answer> => {
      const headers: Record<string, string> = {};
      if (m.contentType) headers['Content-Type'] = m.contentType;
      try {
        const res = await fetch(`${server.url}${path}`, { method, headers, body: m.body });
        const text = await res.text();
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        return { status: res.status, json, text };
      } catch (err) {
        // A client may see the connection cut when it keeps sending past the size limit.
        if (Buffer.isBuffer(m.body) && m.body.length > 3 * 1024 * 1024)
          return { status: 413, json: undefined, text: '' };
        throw err;
      }
    };

    const check = (what: string, a: Answer, t: Target | undefined): void => {
      statusCounts.set(a.status, (statusCounts.get(a.status) ?? 0) + 1);
      if (a.status >= 500) {
        const msg = typeof a.json?.message === 'string' ? a.json.message : a.text;
        // Upstream answers a create that carries a resourceVersion with exactly this 500.
        if (!(a.status === 500 && msg === 'resourceVersion should not be set on objects to be created'))
          problems.push(`${what}: ${a.status} ${msg.slice(0, 300)}`);
      }
      if (a.json === undefined) {
        if (!(a.status === 413 && a.text === ''))
          problems.push(`${what}: ${a.status} body is not JSON: ${a.text.slice(0, 200)}`);
        return;
      }
      if (a.status >= 400) {
        const s = a.json;
        if (
          s.kind !== 'Status' ||
          s.apiVersion !== 'v1' ||
          s.status !== 'Failure' ||
          s.code !== a.status ||
          typeof s.message !== 'string' ||
          typeof s.reason !== 'string'
        )
          problems.push(`${what}: malformed Status ${a.text.slice(0, 300)}`);
        return;
      }
      if (t && (a.json.kind === 'Status' ? a.json.status !== 'Success' : a.json.kind !== t.kind))
        problems.push(`${what}: ${a.status} with kind ${String(a.json.kind)}`);
    };

    let n = 0;
    const started = Date.now();
    const worker = async (): Promise<void> => {
      while (n < MAX_REQUESTS && Date.now() - started < BUDGET_MS) {
        const i = n++;
        const t = pick(TARGETS);
        const name = `o${i}-${Math.floor(rand() * 1e6).toString(36)}`;
        const r = rand();
        const existing = [...accepted.entries()].filter(
          ([, v]) => v.target === t && t.plural !== 'namespaces',
        );
        if (r < 0.15 && existing.length > 0) {
          // A merge patch of garbage onto an accepted object.
          const [key, rec] = pick(existing);
          const patch: { [k: string]: Json } = {};
          setAt(
            patch,
            [pick(['metadata', 'spec', 'data', 'rules', 'type'])],
            chance(0.5) ? garbage() : { labels: { [randomString(6)]: 'v' } },
          );
          const a = await send('PATCH', `${t.path}/${rec.name}`, {
            body: chance(0.9) ? JSON.stringify(patch) : '{"metadata":',
            contentType: 'application/merge-patch+json',
          });
          check(`PATCH ${key}`, a, t);
          const meta = a.json?.metadata as { resourceVersion?: string } | undefined;
          if (a.status === 200 && meta?.resourceVersion)
            accepted.set(key, { ...rec, rv: meta.resourceVersion });
          continue;
        }
        if (
          r < 0.2 &&
          existing.length > 0 &&
          (t.plural === 'configmaps' || t.plural === 'secrets' || t.plural === 'roles')
        ) {
          const [key, rec] = pick(existing);
          const a = await send('DELETE', `${t.path}/${rec.name}`, { body: '', contentType: '' });
          check(`DELETE ${key}`, a, t);
          if (a.status === 200) accepted.delete(key);
          continue;
        }
        const m = mutate(t, name);
        const a = await send('POST', t.path, m);
        check(`POST ${t.path} #${i}`, a, t);
        if (a.status === 201 && a.json) {
          const meta = a.json.metadata as { name: string; uid: string; resourceVersion: string };
          const key = `${t.path}/${meta.name}`;
          if (accepted.has(key)) problems.push(`${key} accepted twice`);
          accepted.set(key, { uid: meta.uid, rv: meta.resourceVersion, target: t, name: meta.name });
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.ok(n >= 500, `only ${n} requests in the time budget`);

    // Still up and answering.
    assert.equal((await server.request('GET', '/readyz')).status, 200);

    // The store holds exactly the accepted objects (plus what was there before), at their last versions.
    for (const t of TARGETS) {
      const list = await server.request('GET', t.path);
      assert.equal(list.status, 200);
      const before = baseline.get(t.path)!;
      const got = new Map<string, { uid: string; rv: string }>();
      for (const item of list.json.items ?? []) {
        const meta = item.metadata as { name: string; uid: string; resourceVersion: string };
        if (before.has(meta.name)) continue;
        if (t.plural === 'namespaces' && meta.name === NS) continue;
        got.set(meta.name, { uid: meta.uid, rv: meta.resourceVersion });
      }
      const want = new Map<string, { uid: string; rv: string }>();
      for (const [key, v] of accepted)
        if (key.startsWith(`${t.path}/`) && v.target === t) want.set(v.name, { uid: v.uid, rv: v.rv });
      assert.deepEqual(
        [...got.entries()].sort(([a], [b]) => a.localeCompare(b)),
        [...want.entries()].sort(([a], [b]) => a.localeCompare(b)),
        `${t.path}: the stored objects differ from the accepted ones`,
      );
    }
    assert.deepEqual(problems.slice(0, 20), [], `seed ${SEED}: ${problems.length} bad answers`);
    const summary = [...statusCounts.entries()].sort(([a], [b]) => a - b);
    t.diagnostic(
      `seed ${SEED}: ${n} requests, ${accepted.size} objects kept; answers ${JSON.stringify(summary)}`,
    );
    assert.ok(
      summary.some(([s]) => s === 201) &&
        summary.some(([s]) => s === 422) &&
        summary.some(([s]) => s === 400),
      JSON.stringify(summary),
    );
  } finally {
    await server.close();
  }
});
