import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultDataPath, generate, generatedDir } from '../../scripts/gen-schemas.js';
import type { DeploymentList, EventsEvent, IntOrString, Pod, Quantity } from './generated/types.js';
import type { KubeList, KubeObject } from './meta.js';
import { DefinitionRegistry, builtinSchemas, definitionsPath } from './schema-registry.js';

test('the built-in registry holds every upstream definition', () => {
  const reg = builtinSchemas();
  assert.equal([...reg.names()].length, 771);
  assert.equal(builtinSchemas(), reg, 'cached');
  const pod = reg.get('io.k8s.api.core.v1.Pod');
  assert.deepEqual(pod?.['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  assert.equal(pod?.properties?.spec?.$ref, 'io.k8s.api.core.v1.PodSpec');
});

test('schemas keep the facts kubectl and the patch machinery read', () => {
  const reg = builtinSchemas();
  const podSpec = reg.get('io.k8s.api.core.v1.PodSpec');
  const containers = podSpec?.properties?.containers;
  assert.equal(containers?.['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers?.['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(containers?.['x-kubernetes-list-type'], 'map');
  assert.deepEqual(containers?.['x-kubernetes-list-map-keys'], ['name']);
  assert.deepEqual(podSpec?.required, ['containers']);
  assert.deepEqual(
    reg.get('io.k8s.apimachinery.pkg.util.intstr.IntOrString')?.['x-kubernetes-int-or-string'],
    true,
  );
  assert.equal(reg.get('io.k8s.apimachinery.pkg.util.intstr.IntOrString')?.type, undefined);
  assert.ok(reg.get('io.k8s.api.core.v1.SeccompProfile')?.['x-kubernetes-unions']);
  assert.equal(
    reg.get('io.k8s.api.apps.v1.DeploymentSpec')?.properties?.strategy?.['x-kubernetes-patch-strategy'],
    'retainKeys',
  );
});

test('resolve follows $ref; set and delete manage run-time definitions', () => {
  const reg = new DefinitionRegistry({ A: { $ref: 'B' }, B: { type: 'string' } });
  assert.deepEqual(reg.resolve({ $ref: 'A' }), { type: 'string' });
  assert.deepEqual(reg.resolve({ type: 'integer' }), { type: 'integer' });
  reg.set('C', { type: 'boolean' });
  assert.equal(reg.get('C')?.type, 'boolean');
  reg.delete('C');
  assert.equal(reg.get('C'), undefined);
  assert.throws(() => reg.resolve({ $ref: 'missing' }), /unknown definition missing/);
  const loop = new DefinitionRegistry({ X: { $ref: 'Y' }, Y: { $ref: 'X' } });
  assert.throws(() => loop.resolve({ $ref: 'X' }), /cycle/);
});

test('descriptions are ours: real sentences for common fields, composed ones elsewhere', () => {
  const reg = builtinSchemas();
  assert.match(
    reg.get('io.k8s.api.apps.v1.RollingUpdateDeployment')?.properties?.maxSurge?.description ?? '',
    /percentage/,
  );
  assert.equal(
    reg.get('io.k8s.api.core.v1.PodSpec')?.properties?.hostIPC?.description,
    'The hostIPC field (boolean).',
  );
  assert.equal(
    reg.get('io.k8s.api.core.v1.PodSpec')?.properties?.priority?.description,
    'The priority field (integer, int32).',
  );
  for (const name of reg.names()) {
    const s = reg.get(name);
    if (s?.['x-kubernetes-group-version-kind']) assert.ok(s.description, `${name} has a description`);
  }
});

test('the registry file is found from dist/ as well as src/', () => {
  assert.ok(existsSync(definitionsPath()));
});

// The committed output must match what the generator makes of the upstream document, and must not
// contain any of upstream's description sentences. Skipped where the document is not available.
const dataPath = defaultDataPath();
test(
  "generated files are up to date and carry none of upstream's descriptions",
  { skip: !existsSync(dataPath) },
  () => {
    const out = generate(dataPath);
    const dir = generatedDir();
    assert.ok(
      out.definitionsJson === readFileSync(join(dir, 'definitions.json'), 'utf8'),
      'src/api/generated/definitions.json is stale: run npm run gen:schemas',
    );
    assert.ok(
      out.typesTs === readFileSync(join(dir, 'types.ts'), 'utf8'),
      'src/api/generated/types.ts is stale: run npm run gen:schemas',
    );

    const upstream = new Set<string>();
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (typeof v === 'object' && v !== null) {
        for (const [k, child] of Object.entries(v)) {
          if (k === 'description' && typeof child === 'string' && child.length > 40) upstream.add(child);
          else collect(child);
        }
      }
    };
    collect((JSON.parse(readFileSync(dataPath, 'utf8')) as { definitions: unknown }).definitions);
    const ours: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) {
        for (const [k, child] of Object.entries(v)) {
          if (k === 'description' && typeof child === 'string') ours.push(child);
          else walk(child);
        }
      }
    };
    walk(JSON.parse(out.definitionsJson));
    const copied = ours.filter((d) => upstream.has(d));
    assert.deepEqual(copied, []);
  },
);

test('generated kinds are assignable to KubeObject and lists to KubeList', () => {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80, protocol: 'TCP' }] }],
      restartPolicy: 'Always',
    },
  };
  const asObject: KubeObject = pod;
  const list: DeploymentList = { apiVersion: 'apps/v1', kind: 'DeploymentList', metadata: {}, items: [] };
  const asList: KubeList = list;
  const ev: EventsEvent = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: {},
    eventTime: '2024-01-01T00:00:00.000000Z',
  };
  const quantity: Quantity = '100m';
  const intOrString: IntOrString[] = [1, '25%'];
  assert.equal(asObject.kind, 'Pod');
  assert.equal(asList.items.length, 0);
  assert.equal(ev.kind, 'Event');
  assert.equal(`${quantity}${intOrString.length}`, '100m2');
});
