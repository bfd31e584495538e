// `kubectl explain` against the server's OpenAPI v3: every built-in resource kubectl can list is
// explained with our own descriptions, nested fields resolve through references, and --recursive
// prints the whole tree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/k8ts-server.js';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

test('every built-in resource is explained, with a description', async () => {
  const names = (await server.kubectlOk(['api-resources', '-o', 'name'])).trim().split('\n');
  for (const expected of [
    'pods',
    'deployments.apps',
    'services',
    'configmaps',
    'customresourcedefinitions.apiextensions.k8s.io',
  ])
    assert.ok(names.includes(expected), `${expected} missing from api-resources`);
  assert.ok(names.length >= 40, `only ${names.length} resources`);
  // Each resource with its group version: kubectl's dotted form is ambiguous when a plural exists in
  // two groups (events and events.events.k8s.io), so explain is asked with --api-version.
  const rows = (await server.kubectlOk(['api-resources', '--no-headers']))
    .trim()
    .split('\n')
    .map((line) => {
      const cols = line.trim().split(/\s+/);
      const apiVersion = cols.find((c) => /^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(c)) ?? '';
      return { plural: cols[0]!, apiVersion };
    });
  assert.equal(rows.length, names.length);
  const failures: string[] = [];
  const batch = 8;
  for (let i = 0; i < rows.length; i += batch) {
    await Promise.all(
      rows.slice(i, i + batch).map(async ({ plural, apiVersion }) => {
        const name = `${plural} (${apiVersion})`;
        const r = await server.kubectl(['explain', plural, `--api-version=${apiVersion}`]);
        if (r.code !== 0) failures.push(`${name}: ${r.stderr.trim()}`);
        else if (!/^KIND:\s+\S+/m.test(r.stdout) || !/^VERSION:\s+\S+/m.test(r.stdout))
          failures.push(`${name}: no KIND/VERSION header`);
        else if (/DESCRIPTION:\n\s+<empty>/.test(r.stdout)) failures.push(`${name}: empty description`);
        else if (!/^FIELDS:/m.test(r.stdout)) failures.push(`${name}: no fields`);
      }),
    );
  }
  assert.deepEqual(failures, []);
});

test('kinds are explained with our own descriptions and their fields', async () => {
  const pods = await server.kubectlOk(['explain', 'pods']);
  assert.match(pods, /^KIND:\s+Pod\nVERSION:\s+v1\n/);
  assert.match(pods, /The smallest deployable unit/);
  assert.match(pods, /^\s+spec\s+<PodSpec>$/m);
  assert.match(pods, /^\s+status\s+<PodStatus>$/m);

  const deploy = await server.kubectlOk(['explain', 'deployment']);
  assert.match(deploy, /^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n/);

  const svcPorts = await server.kubectlOk(['explain', 'svc.spec.ports']);
  assert.match(svcPorts, /FIELD: ports <\[\]ServicePort>/);
  assert.match(svcPorts, /^\s+port\s+<integer> -required-$/m);
  assert.match(svcPorts, /^\s+targetPort\s+<IntOrString>$/m);
});

test('nested fields: deployment.spec.strategy.rollingUpdate and pod.spec.containers.livenessProbe.httpGet', async () => {
  const ru = await server.kubectlOk(['explain', 'deployment.spec.strategy.rollingUpdate']);
  assert.match(ru, /^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n/);
  assert.match(ru, /FIELD: rollingUpdate <RollingUpdateDeployment>/);
  assert.match(ru, /^\s+maxSurge\s+<IntOrString>\n\s+\S/m);
  assert.match(ru, /^\s+maxUnavailable\s+<IntOrString>\n\s+\S/m);
  assert.match(ru, /Defaults to 25%/);

  const httpGet = await server.kubectlOk(['explain', 'pod.spec.containers.livenessProbe.httpGet']);
  assert.match(httpGet, /FIELD: httpGet <HTTPGetAction>/);
  for (const f of [
    /^\s+host\s+<string>$/m,
    /^\s+httpHeaders\s+<\[\]HTTPHeader>$/m,
    /^\s+path\s+<string>$/m,
    /^\s+port\s+<IntOrString> -required-$/m,
    /^\s+scheme\s+<string>$/m,
  ])
    assert.match(httpGet, f);

  const missing = await server.kubectl(['explain', 'pod.spec.nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /field "nope" does not exist/);
});

test('--recursive prints the whole field tree', async () => {
  const out = await server.kubectlOk(['explain', 'deployment', '--recursive']);
  assert.match(out, /^FIELDS:$/m);
  assert.match(out, /^\s{2}spec\s+<DeploymentSpec>$/m);
  assert.match(out, /^\s{4}strategy\s+<DeploymentStrategy>$/m);
  assert.match(out, /^\s{6}rollingUpdate\s+<RollingUpdateDeployment>$/m);
  assert.match(out, /^\s{8}maxSurge\s+<IntOrString>$/m);
  assert.match(out, /^\s{8}containers\s+<\[\]Container> -required-$/m);
  // No descriptions in recursive mode, only the tree.
  assert.ok(!out.includes('Defaults to 25%'));
  const nested = await server.kubectlOk(['explain', 'pod.spec.containers', '--recursive']);
  assert.match(nested, /^\s{2}livenessProbe\s+<Probe>\n\s{4}exec\s+<ExecAction>$/m);
});
