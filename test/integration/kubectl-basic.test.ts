// The real kubectl 1.32 against an in-process API server (plain HTTP, no auth): discovery,
// OpenAPI-backed validation and explain, CRUD, patches, tables, watch and waits.
import '../support/kubectl-cache.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { builtinResources } from '../../src/api/kinds/index.js';
import type { ResourceDescription } from '../../src/api/types.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { deployments } from '../../src/apiserver/test-fixtures.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';
import { run, type RunResult } from '../support/k8ts-server.js';

function withFixtures(resources: readonly ResourceDescription[]): ResourceDescription[] {
  const out = [...resources];
  if (!out.some((d) => d.group === 'apps' && d.kind === 'Deployment')) out.push(deployments);
  return out;
}

describe('kubectl against the API server', () => {
  let server: ApiServer;
  let store: MemoryStore;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  const kubectl = (args: string[], input?: string): Promise<RunResult> =>
    run('kubectl', args, { env, input, timeoutMs: 30_000 });
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    store = new MemoryStore();
    server = await createApiServer({
      store,
      resources: withFixtures(builtinResources),
      schemas: builtinSchemas(),
    });
    dir = mkdtempSync(join(tmpdir(), 'k8ts-kubectl-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- cluster: {server: "${server.url}"}`,
        '  name: local',
        'contexts:',
        '- context: {cluster: local, user: local, namespace: default}',
        '  name: local',
        'current-context: local',
        'users:',
        '- name: local',
        '  user: {}',
        '',
      ].join('\n'),
    );
    env = { KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'cache'), HOME: dir };
  });

  after(async () => {
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('api-versions, api-resources and explain', async () => {
    const versions = await ok(['api-versions']);
    assert.match(versions, /^v1$/m);
    assert.match(versions, /^apps\/v1$/m);
    const resources = await ok(['api-resources']);
    assert.match(resources, /^configmaps\s+cm\s+v1\s+true\s+ConfigMap$/m);
    assert.match(resources, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    const explain = await ok(['explain', 'configmap']);
    assert.match(explain, /KIND:\s+ConfigMap/);
    assert.match(explain, /data\s+<map\[string\]string>/);
    const field = await ok(['explain', 'configmap.metadata.name']);
    assert.match(field, /FIELD:\s+name <string>/);
  });

  test('apply, get in every output, label, annotate, patch, describe', async () => {
    const manifest =
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  labels:\n    app: web\ndata:\n  color: blue\n';
    assert.match(await ok(['apply', '-f', '-'], manifest), /configmap\/web-config created/);
    assert.match(await ok(['apply', '-f', '-'], manifest), /configmap\/web-config unchanged/);
    assert.match(
      await ok(['apply', '-f', '-'], manifest.replace('blue', 'green')),
      /configmap\/web-config configured/,
    );

    const table = await ok(['get', 'configmaps']);
    assert.match(table, /^NAME\s+DATA\s+AGE/m);
    assert.match(table, /^web-config\s+1\s+\d+s/m);
    assert.match(await ok(['get', 'cm', '-o', 'wide']), /web-config/);
    const yaml = await ok(['get', 'cm', 'web-config', '-o', 'yaml']);
    assert.match(yaml, /color: green/);
    assert.match(yaml, /kubectl.kubernetes.io\/last-applied-configuration/);
    const json = JSON.parse(await ok(['get', 'cm', 'web-config', '-o', 'json'])) as {
      metadata: { uid: string };
    };
    assert.match(json.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.equal(await ok(['get', 'cm', 'web-config', '-o', 'jsonpath={.data.color}']), 'green');
    assert.match(await ok(['get', 'cm', '-l', 'app=web', '-o', 'name']), /^configmap\/web-config$/m);

    assert.match(await ok(['label', 'cm', 'web-config', 'tier=front']), /labeled/);
    assert.match(await ok(['annotate', 'cm', 'web-config', 'note=hello']), /annotated/);
    assert.match(
      await ok(['patch', 'cm', 'web-config', '--type', 'merge', '-p', '{"data":{"size":"L"}}']),
      /patched/,
    );
    assert.match(
      await ok([
        'patch',
        'cm',
        'web-config',
        '--type',
        'json',
        '-p',
        '[{"op":"add","path":"/data/shape","value":"round"}]',
      ]),
      /patched/,
    );
    assert.match(
      await ok(['patch', 'cm', 'web-config', '--type', 'strategic', '-p', '{"data":{"weight":"1kg"}}']),
      /patched/,
    );
    const data = JSON.parse(await ok(['get', 'cm', 'web-config', '-o', 'jsonpath={.data}'])) as Record<
      string,
      string
    >;
    assert.deepEqual(data, { color: 'green', size: 'L', shape: 'round', weight: '1kg' });
    assert.equal(await ok(['get', 'cm', 'web-config', '-o', 'jsonpath={.metadata.labels.tier}']), 'front');

    const described = await ok(['describe', 'cm', 'web-config']);
    assert.match(described, /Name:\s+web-config/);
    assert.match(described, /note: hello|note=hello/);
  });

  test('strict server-side field validation reaches kubectl', async () => {
    const bad = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: "1"\nbogus: 1\n';
    const r = await kubectl(['apply', '-f', '-'], bad);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /strict decoding error: unknown field "bogus"/);
    const warned = await kubectl(['apply', '--validate=warn', '-f', '-'], bad);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /unknown field "bogus"/);
  });

  test('create subcommands (protobuf bodies), errors, delete and wait', async () => {
    assert.match(
      await ok(['create', 'configmap', 'literal', '--from-literal=k=v']),
      /configmap\/literal created/,
    );
    assert.equal(await ok(['get', 'cm', 'literal', '-o', 'jsonpath={.data.k}']), 'v');
    assert.match(await ok(['create', 'namespace', 'team-a']), /namespace\/team-a created/);
    assert.match(await ok(['get', 'ns', 'team-a']), /team-a\s+Active/);
    assert.match(await ok(['-n', 'team-a', 'create', 'configmap', 'inner', '--from-literal=a=b']), /created/);

    const missing = await kubectl(['get', 'cm', 'nope']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Error from server \(NotFound\): configmaps "nope" not found/);
    const dup = await kubectl(['create', 'configmap', 'literal', '--from-literal=k=v']);
    assert.match(dup.stderr, /configmaps "literal" already exists/);
    const unknown = await kubectl(['get', 'widgets']);
    assert.match(unknown.stderr, /the server doesn't have a resource type "widgets"/);

    const waiter = kubectl(['wait', '--for=delete', 'cm/literal', '--timeout=20s']);
    await new Promise((r) => setTimeout(r, 300));
    assert.match(await ok(['delete', 'cm', 'literal']), /configmap "literal" deleted/);
    const waited = await waiter;
    assert.equal(waited.code, 0, waited.stderr);
  });

  test('get -w streams changes', async () => {
    const child = spawn('kubectl', ['get', 'cm', '-w', '--output-watch-events'], {
      env: { ...process.env, ...env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 800));
    await ok(['create', 'configmap', 'watched', '--from-literal=x=y']);
    await ok(['delete', 'cm', 'watched']);
    const deadline = Date.now() + 10_000;
    while (!/DELETED\s+watched/.test(out) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    child.kill();
    assert.match(out, /ADDED\s+watched/);
    assert.match(out, /DELETED\s+watched/);
  });
});
