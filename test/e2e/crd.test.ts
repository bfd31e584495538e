// CustomResourceDefinitions through the real kubectl: upstream's CronTab example with printer
// columns and the status and scale subresources, served as soon as it is established; objects
// defaulted, pruned and validated against the schema with upstream's messages; explain; scale;
// status; strategic merge patch refused; deleting the CRD removes its objects and its endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startServer, type TestServer } from '../support/k8ts-server.js';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              description: What to run and when.
              properties:
                cronSpec:
                  type: string
                  description: The schedule, in cron syntax.
                  pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'
                image:
                  type: string
                  description: The container image to run.
                replicas:
                  type: integer
                  minimum: 1
                  maximum: 10
                  default: 1
                mode:
                  type: string
                  enum: [Fast, Slow]
              required: [cronSpec]
            status:
              type: object
              properties:
                replicas:
                  type: integer
                labelSelector:
                  type: string
      subresources:
        status: {}
        scale:
          specReplicasPath: .spec.replicas
          statusReplicasPath: .status.replicas
          labelSelectorPath: .status.labelSelector
      additionalPrinterColumns:
        - name: Spec
          type: string
          description: The cron spec defining the interval a CronJob is run
          jsonPath: .spec.cronSpec
        - name: Replicas
          type: integer
          description: The number of jobs launched by the CronJob
          jsonPath: .spec.replicas
        - name: Age
          type: date
          jsonPath: .metadata.creationTimestamp
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
`;

const cronTab = (name: string, spec: string): string => `
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: ${name}
spec:
${spec}
`;

test('a CRD is established and its kind served: apply, get with printer columns, explain', async () => {
  await server.kubectlOk(['apply', '-f', '-'], { input: CRD });
  const waited = await server.kubectlOk([
    'wait',
    '--for',
    'condition=established',
    '--timeout=30s',
    'crd/crontabs.stable.example.com',
  ]);
  assert.match(waited, /condition met/);

  const crd = JSON.parse(
    await server.kubectlOk(['get', 'crd', 'crontabs.stable.example.com', '-o', 'json']),
  ) as {
    spec: { names: { listKind: string }; conversion: { strategy: string } };
    status: {
      acceptedNames: { kind: string; shortNames: string[] };
      storedVersions: string[];
      conditions: { type: string; status: string }[];
    };
  };
  assert.equal(crd.spec.names.listKind, 'CronTabList');
  assert.equal(crd.spec.conversion.strategy, 'None');
  assert.equal(crd.status.acceptedNames.kind, 'CronTab');
  assert.deepEqual(crd.status.acceptedNames.shortNames, ['ct']);
  assert.deepEqual(crd.status.storedVersions, ['v1']);
  const cond = Object.fromEntries(crd.status.conditions.map((c) => [c.type, c.status]));
  assert.equal(cond.NamesAccepted, 'True');
  assert.equal(cond.Established, 'True');

  const created = await server.kubectlOk(['apply', '-f', '-'], {
    input: cronTab('my-new-cron-object', '  cronSpec: "* * * * */5"\n  image: my-awesome-cron-image'),
  });
  assert.match(created, /crontab.stable.example.com\/my-new-cron-object created/);

  const table = await server.kubectlOk(['get', 'crontabs']);
  const lines = table.trim().split('\n');
  assert.match(lines[0]!, /^NAME\s+SPEC\s+REPLICAS\s+AGE$/);
  assert.match(lines[1]!, /^my-new-cron-object\s+\* \* \* \* \*\/5\s+1\s+\d+s$/);
  // Short name and category-less kinds resolve too.
  assert.match(await server.kubectlOk(['get', 'ct']), /my-new-cron-object/);

  const obj = JSON.parse(await server.kubectlOk(['get', 'ct', 'my-new-cron-object', '-o', 'json'])) as {
    apiVersion: string;
    metadata: { generation: number };
    spec: Record<string, unknown>;
  };
  assert.equal(obj.apiVersion, 'stable.example.com/v1');
  assert.equal(obj.metadata.generation, 1);
  assert.deepEqual(obj.spec, { cronSpec: '* * * * */5', image: 'my-awesome-cron-image', replicas: 1 });

  const explain = await server.kubectlOk(['explain', 'crontab.spec']);
  assert.match(explain, /KIND:\s+CronTab/);
  assert.match(explain, /VERSION:\s+v1/);
  assert.match(explain, /What to run and when\./);
  assert.match(explain, /cronSpec\s+<string> -required-/);
  assert.match(explain, /The schedule, in cron syntax\./);
  const recursive = await server.kubectlOk(['explain', 'crontabs', '--recursive']);
  assert.match(recursive, /spec\s+<Object>\n\s+cronSpec\s+<string> -required-/);

  const resources = await server.kubectlOk(['api-resources', '--api-group=stable.example.com']);
  assert.match(resources, /crontabs\s+ct\s+stable.example.com\/v1\s+true\s+CronTab/);
});

test('no PATCH path of a custom kind advertises strategic merge (kubectl picks any of them)', async () => {
  await server.kubectlOk(['apply', '-f', '-'], { input: CRD });
  await server.kubectlOk(['wait', '--for', 'condition=established', 'crd/crontabs.stable.example.com']);
  const doc = JSON.parse(
    await server.kubectlOk(['get', '--raw', '/openapi/v3/apis/stable.example.com/v1']),
  ) as {
    paths: Record<string, { patch?: { requestBody?: { content?: Record<string, unknown> } } }>;
  };
  const patchPaths = Object.entries(doc.paths).filter(([, v]) => v.patch);
  assert.ok(patchPaths.length >= 2, 'the object and its subresources have PATCH operations');
  for (const [path, v] of patchPaths)
    assert.ok(!('application/strategic-merge-patch+json' in (v.patch?.requestBody?.content ?? {})), path);
});

test('invalid custom resources are refused with upstream messages; unknown fields with strict validation', async () => {
  const bad = await server.kubectl(['apply', '-f', '-'], {
    input: cronTab('bad', '  cronSpec: "* * * *"\n  replicas: "three"\n  mode: Medium'),
  });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /The CronTab "bad" is invalid: /);
  assert.ok(
    bad.stderr.includes(
      `spec.cronSpec: Invalid value: "* * * *": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'`,
    ),
    bad.stderr,
  );
  assert.ok(
    bad.stderr.includes(
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
    ),
    bad.stderr,
  );
  assert.ok(
    bad.stderr.includes('spec.mode: Unsupported value: "Medium": supported values: "Fast", "Slow"'),
    bad.stderr,
  );

  const tooMany = await server.kubectl(['create', '-f', '-'], {
    input: cronTab('big', '  cronSpec: "* * * * *"\n  replicas: 20'),
  });
  assert.match(
    tooMany.stderr,
    /The CronTab "big" is invalid: spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10/,
  );

  const missing = await server.kubectl(['create', '-f', '-'], { input: cronTab('nospec', '  image: x') });
  assert.match(missing.stderr, /The CronTab "nospec" is invalid: spec.cronSpec: Required value/);

  const unknown = await server.kubectl(['apply', '-f', '-'], {
    input: cronTab('extra', '  cronSpec: "* * * * *"\n  colour: blue'),
  });
  assert.match(
    unknown.stderr,
    /CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: unknown field "spec.colour"/,
  );
  // Without strict validation the unknown field is pruned and the object accepted.
  await server.kubectlOk(['apply', '--validate=false', '-f', '-'], {
    input: cronTab('extra', '  cronSpec: "* * * * *"\n  colour: blue'),
  });
  const pruned = await server.kubectlOk(['get', 'ct', 'extra', '-o', 'jsonpath={.spec}']);
  assert.deepEqual(JSON.parse(pruned), { cronSpec: '* * * * *', replicas: 1 });
});

test('scale and status subresources; status is not written through the main resource', async () => {
  await server.kubectlOk(['scale', 'crontab', 'my-new-cron-object', '--replicas=3']);
  const afterScale = JSON.parse(
    await server.kubectlOk(['get', 'ct', 'my-new-cron-object', '-o', 'json']),
  ) as {
    metadata: { generation: number };
    spec: { replicas: number };
  };
  assert.equal(afterScale.spec.replicas, 3);
  assert.equal(afterScale.metadata.generation, 2);

  await server.kubectlOk([
    'patch',
    'crontab',
    'my-new-cron-object',
    '--subresource=status',
    '--type=merge',
    '-p',
    '{"status":{"replicas":3,"labelSelector":"app=cron"}}',
  ]);
  const scale = JSON.parse(
    await server.kubectlOk([
      'get',
      '--raw',
      '/apis/stable.example.com/v1/namespaces/default/crontabs/my-new-cron-object/scale',
    ]),
  ) as { kind: string; spec: { replicas: number }; status: { replicas: number; selector: string } };
  assert.equal(scale.kind, 'Scale');
  assert.deepEqual(scale.spec, { replicas: 3 });
  assert.deepEqual(scale.status, { replicas: 3, selector: 'app=cron' });

  // Status through the main resource is ignored, as upstream resets it.
  await server.kubectlOk([
    'patch',
    'crontab',
    'my-new-cron-object',
    '--type=merge',
    '-p',
    '{"status":{"replicas":9}}',
  ]);
  assert.equal(
    await server.kubectlOk(['get', 'ct', 'my-new-cron-object', '-o', 'jsonpath={.status.replicas}']),
    '3',
  );
  // Status written on create is dropped.
  await server.kubectlOk(['create', '-f', '-'], {
    input: `${cronTab('with-status', '  cronSpec: "* * * * *"')}status:\n  replicas: 7\n`,
  });
  assert.equal(await server.kubectlOk(['get', 'ct', 'with-status', '-o', 'jsonpath={.status}']), '');

  // A merge patch of the spec bumps the generation; a strategic merge patch is refused (415).
  await server.kubectlOk([
    'patch',
    'crontab',
    'my-new-cron-object',
    '--type=merge',
    '-p',
    '{"spec":{"image":"v2"}}',
  ]);
  const smp = await server.kubectl([
    'patch',
    'crontab',
    'my-new-cron-object',
    '-p',
    '{"spec":{"image":"v3"}}',
  ]);
  assert.notEqual(smp.code, 0);
  assert.match(
    smp.stderr,
    /application\/strategic-merge-patch\+json is not supported by stable.example.com\/v1, Kind=CronTab: the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/,
  );
  // Client-side apply of a change works (kubectl picks a JSON merge patch from the OpenAPI).
  const applied = await server.kubectlOk(['apply', '-f', '-'], {
    input: cronTab('my-new-cron-object', '  cronSpec: "*/2 * * * *"\n  image: my-awesome-cron-image'),
  });
  assert.match(applied, /configured/);
  assert.equal(
    await server.kubectlOk([
      'get',
      'ct',
      'my-new-cron-object',
      '-o',
      'jsonpath={.spec.cronSpec} {.spec.image}',
    ]),
    '*/2 * * * * my-awesome-cron-image',
  );
  const serverSide = await server.kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
    input: cronTab('ssa', '  cronSpec: "* * * * *"\n  replicas: 2'),
  });
  assert.match(serverSide, /serverside-applied/);
});

test('CRD validation refuses bad definitions with upstream messages', async () => {
  const noDot = await server.kubectl(['apply', '-f', '-'], {
    input: `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example
spec:
  group: example
  scope: Regional
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: false
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              properties:
                size: {type: integer}
`,
  });
  assert.notEqual(noDot.code, 0);
  const err = noDot.stderr;
  assert.match(err, /The CustomResourceDefinition "widgets.example" is invalid/);
  assert.ok(
    err.includes('spec.group: Invalid value: "example": should be a domain with at least one dot'),
    err,
  );
  assert.ok(
    err.includes('spec.scope: Unsupported value: "Regional": supported values: "Cluster", "Namespaced"'),
    err,
  );
  assert.ok(err.includes('must have exactly one version marked as storage version'), err);
  assert.ok(
    err.includes(
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
    ),
    err,
  );

  const wrongName = await server.kubectl(['apply', '-f', '-'], {
    input: `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Cluster
  names: {plural: Gadgets, kind: Gadget}
  versions:
    - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}
`,
  });
  assert.ok(
    wrongName.stderr.includes(
      'metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group',
    ),
    wrongName.stderr,
  );
  assert.ok(wrongName.stderr.includes('spec.names.plural: Invalid value: "Gadgets"'), wrongName.stderr);
});

test('a cluster-scoped CRD without columns gets the Age column; preserve-unknown-fields keeps fields', async () => {
  await server.kubectlOk(['apply', '-f', '-'], {
    input: `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.tools.example.org
spec:
  group: tools.example.org
  scope: Cluster
  names: {plural: gizmos, singular: gizmo, kind: Gizmo, categories: [all]}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-preserve-unknown-fields: true
`,
  });
  await server.kubectlOk([
    'wait',
    '--for',
    'condition=established',
    '--timeout=30s',
    'crd/gizmos.tools.example.org',
  ]);
  await server.kubectlOk(['apply', '-f', '-'], {
    input:
      'apiVersion: tools.example.org/v1alpha1\nkind: Gizmo\nmetadata:\n  name: g1\nspec:\n  anything: {goes: [1, 2]}\n',
  });
  const table = await server.kubectlOk(['get', 'gizmos']);
  assert.match(table.split('\n')[0]!, /^NAME\s+AGE$/);
  assert.deepEqual(JSON.parse(await server.kubectlOk(['get', 'gizmo', 'g1', '-o', 'jsonpath={.spec}'])), {
    anything: { goes: [1, 2] },
  });
  // In the "all" category, so `kubectl get all` lists it.
  assert.match(await server.kubectlOk(['get', 'all']), /gizmo.tools.example.org\/g1/);
});

test('deleting the CRD deletes its objects and stops serving the resource', async () => {
  const deleted = await server.kubectlOk(['delete', 'crd', 'crontabs.stable.example.com', '--timeout=60s']);
  assert.match(
    deleted,
    /customresourcedefinition.apiextensions.k8s.io "crontabs.stable.example.com" deleted/,
  );
  const gone = await server.kubectl(['get', 'crd', 'crontabs.stable.example.com']);
  assert.match(gone.stderr, /NotFound/);
  const raw = await server.kubectl([
    'get',
    '--raw',
    '/apis/stable.example.com/v1/namespaces/default/crontabs',
  ]);
  assert.notEqual(raw.code, 0);
  assert.match(raw.stderr, /NotFound|could not find the requested resource/);
  const groups = await server.kubectlOk(['get', '--raw', '/apis']);
  assert.ok(!groups.includes('stable.example.com'));

  // Re-created, the kind starts empty: the objects were deleted with the definition.
  await server.kubectlOk(['apply', '-f', '-'], { input: CRD });
  await server.kubectlOk([
    'wait',
    '--for',
    'condition=established',
    '--timeout=30s',
    'crd/crontabs.stable.example.com',
  ]);
  const list = JSON.parse(
    await server.kubectlOk(['get', '--raw', '/apis/stable.example.com/v1/namespaces/default/crontabs']),
  ) as { items: unknown[] };
  assert.deepEqual(list.items, []);
});

const WIDGETS = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.shop.example.com
spec:
  group: shop.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
    - name: v1beta1
      served: true
      storage: false
      deprecated: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: integer}}}
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
                color: {type: string, default: red}
`;

test('several versions: the deprecated one warns, reads get their version and its defaults', async () => {
  await server.kubectlOk(['apply', '-f', '-'], { input: WIDGETS });
  await server.kubectlOk([
    'wait',
    '--for',
    'condition=established',
    '--timeout=30s',
    'crd/widgets.shop.example.com',
  ]);
  const created = await server.kubectl(['apply', '-f', '-'], {
    input: 'apiVersion: shop.example.com/v1beta1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n',
  });
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stderr, /Warning: shop.example.com\/v1beta1 Widget is deprecated/);
  const v1 = JSON.parse(await server.kubectlOk(['get', 'widgets', 'w1', '-o', 'json'])) as Record<
    string,
    unknown
  >;
  assert.equal(v1.apiVersion, 'shop.example.com/v1');
  assert.deepEqual(v1.spec, { size: 3, color: 'red' });
  const old = await server.kubectl([
    'get',
    'widgets.v1beta1.shop.example.com',
    'w1',
    '-o',
    'jsonpath={.apiVersion}',
  ]);
  assert.equal(old.stdout, 'shop.example.com/v1beta1');
  const group = JSON.parse(await server.kubectlOk(['get', '--raw', '/apis/shop.example.com'])) as {
    preferredVersion: { version: string };
  };
  assert.equal(group.preferredVersion.version, 'v1');
});

test('a CRD whose kind is taken in its group is not established until the name is free', async () => {
  await server.kubectlOk(['apply', '-f', '-'], {
    input: WIDGETS.replace('widgets.shop', 'gadgets.shop').replace(
      'plural: widgets, singular: widget, kind: Widget, shortNames: [wd]',
      'plural: gadgets, singular: gadget, kind: Widget',
    ),
  });
  const waited = await server.kubectl([
    'wait',
    '--for',
    'condition=established',
    '--timeout=2s',
    'crd/gadgets.shop.example.com',
  ]);
  assert.notEqual(waited.code, 0);
  const conditions = JSON.parse(
    await server.kubectlOk(['get', 'crd', 'gadgets.shop.example.com', '-o', 'jsonpath={.status.conditions}']),
  ) as { type: string; status: string; reason: string; message: string }[];
  assert.deepEqual(
    conditions.map((c) => [c.type, c.status, c.reason, c.message]),
    [
      ['NamesAccepted', 'False', 'NameConflict', '"Widget" is already in use'],
      ['Established', 'False', 'NotAccepted', 'not all names are accepted'],
    ],
  );
  await server.kubectlOk(['delete', 'crd', 'widgets.shop.example.com']);
  await server.kubectlOk([
    'wait',
    '--for',
    'condition=established',
    '--timeout=30s',
    'crd/gadgets.shop.example.com',
  ]);
  assert.match(
    await server.kubectlOk(['api-resources', '--api-group=shop.example.com']),
    /gadgets\s+shop.example.com\/v1\s+true\s+Widget/,
  );
});

test('custom resources are served again after a restart', async () => {
  await server.kubectlOk(['apply', '-f', '-'], {
    input: cronTab('survivor', '  cronSpec: "* * * * *"'),
  });
  const dataDir = server.dataDir;
  await server.stop({ keepData: true });
  server = await startServer({ dataDir });
  try {
    const table = await server.kubectlOk(['get', 'crontabs']);
    assert.match(table, /^NAME\s+SPEC\s+REPLICAS\s+AGE\n/);
    assert.match(table, /survivor\s+\* \* \* \* \*\s+1\s+\d+s/);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
