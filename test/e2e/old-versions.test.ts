// The seeds' old apiVersions through the real kubectl: extensions/v1beta1 Deployment and Ingress
// (serviceName/servicePort backends), networking.k8s.io/v1beta1 Ingress and batch/v1beta1 CronJob
// are accepted with upstream's deprecation warnings, stored in today's versions, readable in both,
// updatable with kubectl apply, explainable, and strictly validated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { startServer, type TestServer } from '../support/k8ts-server.js';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

type Json = Record<string, unknown>;

function at(obj: unknown, ...path: (string | number)[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

const DEPLOYMENT_WARNING =
  'Warning: extensions/v1beta1 Deployment is deprecated in v1.9+, unavailable in v1.16+; use apps/v1 Deployment';
const INGRESS_WARNING =
  'Warning: extensions/v1beta1 Ingress is deprecated in v1.14+, unavailable in v1.22+; use networking.k8s.io/v1 Ingress';

const deployment = (replicas: number, image: string): string => `
apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: nginx
spec:
  replicas: ${replicas}
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: ${image}
        ports:
        - containerPort: 80
`;

const ingress = (port: number | string): string => `
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: web
spec:
  backend:
    serviceName: default-svc
    servicePort: 8080
  rules:
  - host: www.example.com
    http:
      paths:
      - path: /
        backend:
          serviceName: nginx-svc
          servicePort: ${typeof port === 'number' ? port : JSON.stringify(port)}
`;

test('extensions/v1beta1 Deployment: created with the warning, read as apps/v1 and back, updated by apply', async () => {
  const created = await server.kubectl(['apply', '-f', '-'], { input: deployment(2, 'nginx:1.11') });
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout.trim(), 'deployment.extensions/nginx created');
  assert.ok(created.stderr.includes(DEPLOYMENT_WARNING), created.stderr);

  // Stored and served as apps/v1, with the old version's defaults (selector from the template
  // labels, 1/1 rolling update, unlimited history and deadline).
  const v1 = parseYaml(await server.kubectlOk(['get', 'deployments.v1.apps', 'nginx', '-o', 'yaml'])) as Json;
  assert.equal(v1.apiVersion, 'apps/v1');
  assert.deepEqual(at(v1, 'spec', 'selector'), { matchLabels: { app: 'nginx' } });
  assert.deepEqual(at(v1, 'metadata', 'labels'), { app: 'nginx' });
  assert.deepEqual(at(v1, 'spec', 'strategy'), {
    type: 'RollingUpdate',
    rollingUpdate: { maxSurge: 1, maxUnavailable: 1 },
  });
  assert.equal(at(v1, 'spec', 'revisionHistoryLimit'), 2147483647);
  assert.equal(at(v1, 'spec', 'progressDeadlineSeconds'), 2147483647);

  const old = await server.kubectl(['get', 'deployments.v1beta1.extensions', 'nginx', '-o', 'yaml']);
  assert.equal(old.code, 0, old.stderr);
  assert.ok(old.stderr.includes(DEPLOYMENT_WARNING), old.stderr);
  const oldObj = parseYaml(old.stdout) as Json;
  assert.equal(oldObj.apiVersion, 'extensions/v1beta1');
  assert.equal(oldObj.kind, 'Deployment');
  assert.equal(at(oldObj, 'spec', 'replicas'), 2);
  assert.equal(at(oldObj, 'metadata', 'uid'), at(v1, 'metadata', 'uid'));

  // The plain name resolves to the preferred version, apps/v1, without a warning.
  const plain = await server.kubectl(['get', 'deployment', 'nginx', '-o', 'jsonpath={.apiVersion}']);
  assert.equal(plain.stdout, 'apps/v1');
  assert.ok(!plain.stderr.includes('deprecated'), plain.stderr);

  // Applying the changed manifest in the old version patches the stored object.
  const configured = await server.kubectl(['apply', '-f', '-'], { input: deployment(3, 'nginx:1.12') });
  assert.equal(configured.code, 0, configured.stderr);
  assert.equal(configured.stdout.trim(), 'deployment.extensions/nginx configured');
  const after = JSON.parse(
    await server.kubectlOk(['get', 'deployments.v1.apps', 'nginx', '-o', 'json']),
  ) as Json;
  assert.equal(at(after, 'spec', 'replicas'), 3);
  assert.equal(at(after, 'spec', 'template', 'spec', 'containers', 0, 'image'), 'nginx:1.12');
  assert.equal(at(after, 'metadata', 'generation'), 2);
  const unchanged = await server.kubectlOk(['apply', '-f', '-'], { input: deployment(3, 'nginx:1.12') });
  assert.equal(unchanged.trim(), 'deployment.extensions/nginx unchanged');

  // Listing in the old version shows the same objects.
  const list = await server.kubectl(['get', 'deployments.v1beta1.extensions']);
  assert.match(list.stdout, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nnginx\s+0\/3/);
});

test('extensions/v1beta1 Ingress with serviceName/servicePort: read as networking.k8s.io/v1 and back', async () => {
  const created = await server.kubectl(['apply', '-f', '-'], { input: ingress(80) });
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout.trim(), 'ingress.extensions/web created');
  assert.ok(created.stderr.includes(INGRESS_WARNING), created.stderr);

  const v1 = JSON.parse(
    await server.kubectlOk(['get', 'ingresses.v1.networking.k8s.io', 'web', '-o', 'json']),
  ) as Json;
  assert.equal(v1.apiVersion, 'networking.k8s.io/v1');
  assert.deepEqual(at(v1, 'spec', 'defaultBackend'), {
    service: { name: 'default-svc', port: { number: 8080 } },
  });
  assert.deepEqual(at(v1, 'spec', 'rules', 0), {
    host: 'www.example.com',
    http: {
      paths: [
        {
          path: '/',
          pathType: 'ImplementationSpecific',
          backend: { service: { name: 'nginx-svc', port: { number: 80 } } },
        },
      ],
    },
  });
  const table = await server.kubectlOk(['get', 'ingress', 'web']);
  assert.match(
    table,
    /^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\nweb\s+<none>\s+www.example.com\s+80\s+\d+s\n$/,
  );

  const old = await server.kubectl(['get', 'ingresses.v1beta1.extensions', 'web', '-o', 'yaml']);
  assert.ok(old.stderr.includes(INGRESS_WARNING), old.stderr);
  const oldObj = parseYaml(old.stdout) as Json;
  assert.equal(oldObj.apiVersion, 'extensions/v1beta1');
  assert.deepEqual(at(oldObj, 'spec', 'backend'), { serviceName: 'default-svc', servicePort: 8080 });
  assert.deepEqual(at(oldObj, 'spec', 'rules', 0, 'http', 'paths', 0, 'backend'), {
    serviceName: 'nginx-svc',
    servicePort: 80,
  });

  // A named port round-trips too.
  const named = await server.kubectl(['apply', '-f', '-'], { input: ingress('http') });
  assert.equal(named.code, 0, named.stderr);
  assert.equal(named.stdout.trim(), 'ingress.extensions/web configured');
  assert.deepEqual(
    at(
      JSON.parse(await server.kubectlOk(['get', 'ingresses.v1.networking.k8s.io', 'web', '-o', 'json'])),
      'spec',
      'rules',
      0,
      'http',
      'paths',
      0,
      'backend',
    ),
    { service: { name: 'nginx-svc', port: { name: 'http' } } },
  );
  const backAgain = parseYaml(
    (await server.kubectl(['get', 'ingresses.v1beta1.networking.k8s.io', 'web', '-o', 'yaml'])).stdout,
  ) as Json;
  assert.equal(backAgain.apiVersion, 'networking.k8s.io/v1beta1');
  assert.deepEqual(at(backAgain, 'spec', 'rules', 0, 'http', 'paths', 0, 'backend'), {
    serviceName: 'nginx-svc',
    servicePort: 'http',
  });
});

test('batch/v1beta1 CronJob round-trips and is listed as batch/v1', async () => {
  const created = await server.kubectl(['apply', '-f', '-'], {
    input: `
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox
            args: [/bin/sh, -c, date; echo Hello from the Kubernetes cluster]
          restartPolicy: OnFailure
`,
  });
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout.trim(), 'cronjob.batch/hello created');
  assert.match(
    created.stderr,
    /Warning: batch\/v1beta1 CronJob is deprecated in v1.21\+, unavailable in v1.25\+; use batch\/v1 CronJob/,
  );
  assert.equal(
    await server.kubectlOk(['get', 'cronjob', 'hello', '-o', 'jsonpath={.apiVersion}']),
    'batch/v1',
  );
  const old = await server.kubectl([
    'get',
    'cronjobs.v1beta1.batch',
    'hello',
    '-o',
    'jsonpath={.apiVersion} {.spec.concurrencyPolicy}',
  ]);
  assert.equal(old.stdout, 'batch/v1beta1 Allow');
});

test('old versions are explained and strictly validated with their own fields', async () => {
  const spec = await server.kubectlOk(['explain', 'deployments.extensions.spec']);
  assert.match(spec, /GROUP:\s+extensions/);
  assert.match(spec, /VERSION:\s+v1beta1/);
  assert.match(spec, /rollbackTo\s+<RollbackConfig>/);
  assert.match(spec, /template\s+<PodTemplateSpec> -required-/);
  const backend = await server.kubectlOk(['explain', 'ingresses.extensions.spec.rules.http.paths.backend']);
  assert.match(backend, /serviceName\s+<string>/);
  assert.match(backend, /servicePort\s+<IntOrString>/);

  // A field the old version does not have is refused with strict validation, as upstream does.
  const bad = await server.kubectl(['apply', '-f', '-'], {
    input: ingress(80).replace(
      '  backend:\n    serviceName: default-svc',
      '  defaultBackend:\n    serviceName: default-svc',
    ),
  });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /strict decoding error: unknown field "spec.defaultBackend"/);
});
