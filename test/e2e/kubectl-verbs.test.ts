// Every everyday kubectl verb, run by the real kubectl against a real `k8ts server` process, with
// assertions on what the user sees: the printed lines, the exit codes and the objects left behind.
import '../support/kubectl-cache.js';
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, startServer, type RunResult, type TestServer } from '../support/k8ts-server.js';
import { eventually as pollUntil } from '../support/eventually.js';

let server: TestServer;
let work: string;

before(async () => {
  server = await startServer();
  work = mkdtempSync(join(tmpdir(), 'k8ts-kubectl-verbs-'));
});
after(async () => {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});

const k = (args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<string> =>
  server.kubectlOk(args, opts);
const kr = (args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult> =>
  server.kubectl(args, opts);

function file(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}

/** Pods need their ServiceAccount; the controller that makes `default` may or may not be running. */
async function ensureDefaultServiceAccount(ns: string): Promise<void> {
  const r = await kr(['-n', ns, 'create', 'serviceaccount', 'default']);
  if (r.code !== 0) assert.match(r.stderr, /AlreadyExists|already exists/);
}

/** The shared poll, with this file's default timeout and pace. */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 150 });

/** Starts a long-running kubectl (get -w, wait …) and collects its output. */
function background(args: string[]): { done: Promise<RunResult>; output: () => string; stop: () => void } {
  const child = spawn('kubectl', ['--kubeconfig', server.kubeconfig, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<RunResult>((resolve) =>
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr })),
  );
  return { done, output: () => stdout, stop: () => child.kill('SIGTERM') };
}

const deployment = (replicas: number, image = 'nginx:1.25') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: ${image}
        ports: [{containerPort: 80}]
`;

describe('kubectl verbs against k8ts server', () => {
  test('apply (client-side) records last-applied-configuration and patches on re-apply', async () => {
    const path = file('web.yaml', deployment(2));
    assert.equal((await k(['apply', '-f', path])).trim(), 'deployment.apps/web created');
    const lastApplied = await k([
      'get',
      'deployment',
      'web',
      '-o',
      'jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}',
    ]);
    const recorded = JSON.parse(lastApplied) as { spec: { replicas: number }; metadata: { name: string } };
    assert.equal(recorded.metadata.name, 'web');
    assert.equal(recorded.spec.replicas, 2);
    assert.equal((await k(['apply', '-f', path])).trim(), 'deployment.apps/web unchanged');
    writeFileSync(path, deployment(3));
    assert.equal((await k(['apply', '-f', path])).trim(), 'deployment.apps/web configured');
    assert.equal(await k(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']), '3');
    assert.equal(await k(['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.generation}']), '2');
  });

  test('a kind: List file is validated (through the protobuf OpenAPI v2), applied and deleted', async () => {
    const list = (dataField: string): string =>
      [
        'apiVersion: v1',
        'kind: List',
        'items:',
        '- apiVersion: v1',
        '  kind: ConfigMap',
        '  metadata: {name: listed-a}',
        `  ${dataField}: {x: "1"}`,
        '- apiVersion: v1',
        '  kind: ConfigMap',
        '  metadata: {name: listed-b}',
        '',
      ].join('\n');
    const bad = await kr(['apply', '-f', file('bad-list.yaml', list('datax'))]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /ValidationError\(ConfigMap\): unknown field "datax" in io\.k8s\.api\.core\.v1\.ConfigMap/,
    );
    const path = file('list.yaml', list('data'));
    assert.equal(
      (await k(['apply', '-f', path])).trim(),
      'configmap/listed-a created\nconfigmap/listed-b created',
    );
    assert.equal(await k(['get', 'configmap', 'listed-a', '-o', 'jsonpath={.data.x}']), '1');
    assert.match(await k(['delete', '-f', path]), /configmap "listed-b" deleted/);
  });

  test('get: table, wide, yaml, json, jsonpath, custom columns, labels, selectors, all namespaces', async () => {
    const table = await k(['get', 'deployments']);
    const [header, row] = table.trim().split('\n');
    assert.match(header!, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    assert.match(row!, /^web\s+\d+\/3\s+\d+\s+\d+\s+\d+[smh]$/);

    const wide = await k(['get', 'deployment', 'web', '-o', 'wide']);
    assert.match(wide.split('\n')[0]!, /CONTAINERS\s+IMAGES\s+SELECTOR$/);
    assert.match(wide.split('\n')[1]!, /nginx\s+nginx:1\.25\s+app=web$/);

    const yaml = await k(['get', 'deployment', 'web', '-o', 'yaml']);
    assert.match(yaml, /^apiVersion: apps\/v1$/m);
    assert.match(yaml, /^kind: Deployment$/m);
    assert.match(yaml, /^ {2}replicas: 3$/m);

    const json = JSON.parse(await k(['get', 'deployment', 'web', '-o', 'json'])) as {
      kind: string;
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    assert.equal(json.kind, 'Deployment');
    assert.equal(json.spec.template.spec.containers[0]?.image, 'nginx:1.25');

    assert.equal(
      await k([
        'get',
        'deployment',
        'web',
        '-o',
        'jsonpath={.metadata.labels.tier}/{.spec.selector.matchLabels.app}',
      ]),
      'front/web',
    );
    const custom = await k([
      'get',
      'deployments',
      '-o',
      'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas,IMAGE:.spec.template.spec.containers[0].image',
    ]);
    assert.deepEqual(
      custom
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/)),
      [
        ['NAME', 'REPLICAS', 'IMAGE'],
        ['web', '3', 'nginx:1.25'],
      ],
    );
    const labels = await k(['get', 'deployment', 'web', '--show-labels']);
    assert.match(labels.split('\n')[0]!, /\sLABELS$/);
    assert.match(labels.split('\n')[1]!, /\sapp=web,tier=front$/);

    assert.match(
      await k(['get', 'deployments', '-l', 'tier=front', '-o', 'name']),
      /^deployment\.apps\/web$/m,
    );
    const none = await kr(['get', 'deployments', '-l', 'tier=back']);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
    assert.equal(none.stderr.trim(), 'No resources found in default namespace.');

    const all = await k(['get', 'namespaces', '-A']);
    assert.match(all, /^kube-system\s+Active\s/m);
    const everywhere = await k(['get', 'deployments', '-A']);
    assert.match(everywhere.split('\n')[0]!, /^NAMESPACE\s+NAME\s+READY/);
    assert.match(everywhere, /^default\s+web\s/m);
  });

  test('get -w prints the change made while it watches', async () => {
    await k(['create', 'configmap', 'watched', '--from-literal=a=1']);
    const watch = background(['get', 'configmap', 'watched', '-w', '--output-watch-events']);
    try {
      await waitFor('the watch to list', () =>
        Promise.resolve(watch.output().includes('ADDED') ? true : undefined),
      );
      await k(['label', 'configmap', 'watched', 'seen=yes']);
      await waitFor('the MODIFIED event', () =>
        Promise.resolve(watch.output().includes('MODIFIED') ? true : undefined),
      );
    } finally {
      watch.stop();
      await watch.done;
    }
    const lines = watch.output().trim().split('\n');
    assert.match(lines[0]!, /^EVENT\s+NAME\s+DATA\s+AGE$/);
    assert.match(lines[1]!, /^ADDED\s+watched\s+1\s/);
    assert.match(lines[2]!, /^MODIFIED\s+watched\s+1\s/);
  });

  test('describe and explain', async () => {
    const d = await k(['describe', 'deployment', 'web']);
    assert.match(d, /^Name:\s+web$/m);
    assert.match(d, /^Namespace:\s+default$/m);
    assert.match(d, /^Selector:\s+app=web$/m);
    assert.match(d, /^Replicas:\s+3 desired \|/m);
    assert.match(d, /^StrategyType:\s+RollingUpdate$/m);
    assert.match(d, /^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$/m);
    assert.match(d, /^ {4}Image:\s+nginx:1\.25$/m);

    const e = await k(['explain', 'deployment.spec.strategy.rollingUpdate']);
    assert.match(e, /^GROUP:\s+apps$/m);
    assert.match(e, /^KIND:\s+Deployment$/m);
    assert.match(e, /^VERSION:\s+v1$/m);
    assert.match(e, /^FIELD: rollingUpdate <RollingUpdateDeployment>$/m);
    assert.match(e, /^ {2}maxSurge\t<IntOrString>$/m);
    assert.match(e, /^ {2}maxUnavailable\t<IntOrString>$/m);
    const pods = await k(['explain', 'pods.spec.containers']);
    assert.match(pods, /^FIELD: containers <\[\]Container>$/m);
    assert.match(pods, /^ {2}image\t<string>$/m);
  });

  test('diff exits 1 with a diff when the manifest differs and 0 when it does not', async () => {
    const path = join(work, 'web.yaml');
    const same = await kr(['diff', '-f', path]);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout, '');
    writeFileSync(path, deployment(4));
    const changed = await kr(['diff', '-f', path]);
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stdout, /^-\s+replicas: 3$/m);
    assert.match(changed.stdout, /^\+\s+replicas: 4$/m);
    assert.match(changed.stdout, /^-\s+generation: 2$/m);
    assert.match(changed.stdout, /^\+\s+generation: 3$/m);
    // Nothing was written.
    assert.equal(await k(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']), '3');
  });

  test('edit runs KUBE_EDITOR and saves the change', async () => {
    const editor = file('editor.sh', '#!/bin/sh\nsed -i \'s/replicas: 3/replicas: 5/\' "$1"\n');
    chmodSync(editor, 0o755);
    const out = await k(['edit', 'deployment', 'web'], { env: { KUBE_EDITOR: editor, EDITOR: editor } });
    assert.equal(out.trim(), 'deployment.apps/web edited');
    assert.equal(await k(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']), '5');
    const noop = file('noop.sh', '#!/bin/sh\ntrue\n');
    chmodSync(noop, 0o755);
    const cancelled = await kr(['edit', 'deployment', 'web'], { env: { KUBE_EDITOR: noop, EDITOR: noop } });
    assert.equal(cancelled.code, 0);
    assert.match(cancelled.stderr + cancelled.stdout, /Edit cancelled, no changes made\./);
  });

  test('patch: strategic, merge and json', async () => {
    assert.equal(
      (
        await k([
          'patch',
          'deployment',
          'web',
          '-p',
          '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}',
        ])
      ).trim(),
      'deployment.apps/web patched',
    );
    // Strategic merge merges the container list by name.
    assert.equal(
      await k(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[*].name}']),
      'sidecar nginx',
    );
    await k([
      'patch',
      'deployment',
      'web',
      '--type',
      'merge',
      '-p',
      '{"metadata":{"labels":{"patched":"merge"}}}',
    ]);
    await k([
      'patch',
      'deployment',
      'web',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/replicas","value":1}]',
    ]);
    assert.equal(
      await k(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas} {.metadata.labels.patched}']),
      '1 merge',
    );
    // A merge patch replaces lists wholesale.
    await k([
      'patch',
      'deployment',
      'web',
      '--type',
      'merge',
      '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}',
    ]);
    assert.equal(
      await k(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[*].image}']),
      'nginx:1.26',
    );
    const failed = await kr([
      'patch',
      'deployment',
      'web',
      '--type',
      'json',
      '-p',
      '[{"op":"test","path":"/spec/replicas","value":9}]',
    ]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /The request is invalid/);
    const unchanged = await k([
      'patch',
      'deployment',
      'web',
      '--type',
      'merge',
      '-p',
      '{"spec":{"replicas":1}}',
    ]);
    assert.equal(unchanged.trim(), 'deployment.apps/web patched (no change)');
  });

  test('apply --server-side: conflicts with another manager, then --force-conflicts', async () => {
    const mine = file(
      'ssa.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {color: blue, size: big}\n',
    );
    assert.equal(
      (await k(['apply', '--server-side', '-f', mine])).trim(),
      'configmap/ssa serverside-applied',
    );
    const theirs = file(
      'ssa-other.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {color: red}\n',
    );
    const conflict = await kr(['apply', '--server-side', '--field-manager=other', '-f', theirs]);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.data\.color/);
    assert.match(conflict.stderr, /--force-conflicts/);
    assert.equal(await k(['get', 'configmap', 'ssa', '-o', 'jsonpath={.data.color}']), 'blue');
    await k(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', theirs]);
    assert.equal(
      await k(['get', 'configmap', 'ssa', '-o', 'jsonpath={.data.color}/{.data.size}']),
      'red/big',
    );
    const managers = JSON.parse(
      await k(['get', 'configmap', 'ssa', '-o', 'json', '--show-managed-fields']),
    ) as { metadata: { managedFields: { manager: string; operation: string }[] } };
    assert.deepEqual(managers.metadata.managedFields.map((m) => `${m.manager}/${m.operation}`).sort(), [
      'kubectl/Apply',
      'other/Apply',
    ]);
  });

  test('label and annotate, with --overwrite', async () => {
    await k(['create', 'configmap', 'tags']);
    assert.equal((await k(['label', 'configmap', 'tags', 'env=prod'])).trim(), 'configmap/tags labeled');
    const clash = await kr(['label', 'configmap', 'tags', 'env=dev']);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /'env' already has a value \(prod\), and --overwrite is false/);
    await k(['label', 'configmap', 'tags', 'env=dev', '--overwrite']);
    assert.equal(await k(['get', 'configmap', 'tags', '-o', 'jsonpath={.metadata.labels.env}']), 'dev');
    assert.equal((await k(['label', 'configmap', 'tags', 'env-'])).trim(), 'configmap/tags unlabeled');
    // An emptied label map is dropped, as upstream's omitempty does.
    assert.equal(await k(['get', 'configmap', 'tags', '-o', 'jsonpath={.metadata.labels}']), '');

    assert.equal(
      (await k(['annotate', 'configmap', 'tags', 'note=hello'])).trim(),
      'configmap/tags annotated',
    );
    const again = await kr(['annotate', 'configmap', 'tags', 'note=bye']);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /--overwrite is false but found the following declared annotation\(s\): 'note' already has a value \(hello\)/,
    );
    await k(['annotate', 'configmap', 'tags', 'note=bye', '--overwrite']);
    assert.equal(await k(['get', 'configmap', 'tags', '-o', 'jsonpath={.metadata.annotations.note}']), 'bye');
    await k(['label', 'configmaps', '--all', 'bulk=yes']);
    assert.match(await k(['get', 'configmaps', '-l', 'bulk=yes', '-o', 'name']), /^configmap\/tags$/m);
  });

  test('create namespace, configmaps from a directory and literals, generic secrets', async () => {
    assert.equal((await k(['create', 'namespace', 'team-a'])).trim(), 'namespace/team-a created');
    const dup = await kr(['create', 'namespace', 'team-a']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /namespaces "team-a" already exists/);
    const dir = join(work, 'configure-pod-container');
    mkdirSync(dir);
    writeFileSync(join(dir, 'game.file'), 'enemies=aliens\nlives=3\nsecret.code.allowed=true\n');
    writeFileSync(join(dir, 'ui.properties'), 'color.good=purple\ncolor.bad=yellow\nallow.textmode=true\n');
    assert.equal(
      (await k(['-n', 'team-a', 'create', 'configmap', 'game-config', `--from-file=${dir}`])).trim(),
      'configmap/game-config created',
    );
    const cm = JSON.parse(await k(['-n', 'team-a', 'get', 'configmap', 'game-config', '-o', 'json'])) as {
      data: Record<string, string>;
    };
    assert.deepEqual(Object.keys(cm.data).sort(), ['game.file', 'ui.properties']);
    assert.equal(cm.data['game.file'], 'enemies=aliens\nlives=3\nsecret.code.allowed=true\n');
    const described = await k(['-n', 'team-a', 'describe', 'configmap', 'game-config']);
    assert.match(described, /^game\.file:\n----\nenemies=aliens$/m);
    assert.match(described, /^BinaryData\n====$/m);

    await k([
      '-n',
      'team-a',
      'create',
      'configmap',
      'literal',
      '--from-literal=a=1',
      '--from-literal=b=two words',
    ]);
    assert.equal(
      await k(['-n', 'team-a', 'get', 'cm', 'literal', '-o', 'jsonpath={.data.a}|{.data.b}']),
      '1|two words',
    );
    const table = await k(['-n', 'team-a', 'get', 'configmaps']);
    assert.match(table, /^game-config\s+2\s/m);
    assert.match(table, /^literal\s+2\s/m);

    assert.equal(
      (
        await k([
          '-n',
          'team-a',
          'create',
          'secret',
          'generic',
          'creds',
          '--from-literal=user=admin',
          '--from-literal=pass=s3cr=t',
        ])
      ).trim(),
      'secret/creds created',
    );
    const secret = JSON.parse(await k(['-n', 'team-a', 'get', 'secret', 'creds', '-o', 'json'])) as {
      type: string;
      data: Record<string, string>;
    };
    assert.equal(secret.type, 'Opaque');
    assert.equal(Buffer.from(secret.data.pass!, 'base64').toString(), 's3cr=t');
    const ds = await k(['-n', 'team-a', 'describe', 'secret', 'creds']);
    assert.match(ds, /^Type:\s+Opaque$/m);
    assert.match(ds, /^pass:\s+6 bytes$/m);
    assert.match(ds, /^user:\s+5 bytes$/m);
    assert.match(await k(['-n', 'team-a', 'get', 'secrets']), /^creds\s+Opaque\s+2\s/m);
  });

  test('api-resources and api-versions', async () => {
    const resources = await k(['api-resources', '-o', 'wide']);
    const header = resources.split('\n')[0]!;
    assert.match(header, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\s+VERBS\s+CATEGORIES$/);
    assert.match(
      resources,
      /^pods\s+po\s+v1\s+true\s+Pod\s+create,delete,deletecollection,get,list,patch,update,watch\s+all$/m,
    );
    assert.match(resources, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment\s+\S+\s+all$/m);
    assert.match(resources, /^configmaps\s+cm\s+v1\s+true\s+ConfigMap\s/m);
    assert.match(
      resources,
      /^tokenreviews\s+authentication\.k8s\.io\/v1\s+false\s+TokenReview\s+create\s*$/m,
    );
    const namespaced = await k(['api-resources', '--namespaced=false', '-o', 'name']);
    assert.match(namespaced, /^nodes$/m);
    assert.doesNotMatch(namespaced, /^pods$/m);
    const versions = (await k(['api-versions'])).trim().split('\n');
    for (const v of ['v1', 'apps/v1', 'batch/v1', 'rbac.authorization.k8s.io/v1', 'authentication.k8s.io/v1'])
      assert.ok(versions.includes(v), `${v} in ${versions.join(' ')}`);
    assert.deepEqual([...versions].sort(), versions);
  });

  test('auth can-i and whoami: admin, a ServiceAccount token, impersonation', async () => {
    assert.equal((await kr(['auth', 'can-i', '*', '*'])).stdout.trim(), 'yes');
    await k(['create', 'namespace', 'limited']);
    await k(['-n', 'limited', 'create', 'serviceaccount', 'reader']);
    await k([
      '-n',
      'limited',
      'create',
      'rolebinding',
      'reader-view',
      '--clusterrole=view',
      '--serviceaccount=limited:reader',
    ]);
    const as = ['--as=system:serviceaccount:limited:reader'];
    const canI = async (args: string[]): Promise<string> =>
      (await kr(['auth', 'can-i', ...args, ...as])).stdout.trim();
    assert.equal(await canI(['list', 'pods', '-n', 'limited']), 'yes');
    assert.equal(await canI(['get', 'configmaps', '-n', 'limited']), 'yes');
    assert.equal(await canI(['create', 'pods', '-n', 'limited']), 'no');
    assert.equal(await canI(['list', 'secrets', '-n', 'limited']), 'no');
    assert.equal(await canI(['list', 'pods', '-n', 'default']), 'no');
    const list = await k(['auth', 'can-i', '--list', '-n', 'limited', ...as]);
    assert.match(list.split('\n')[0]!, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/);
    assert.match(list, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    assert.match(list, /^deployments\.apps\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    assert.doesNotMatch(list, /^secrets\s/m);
    const forbidden = await kr(['-n', 'default', 'get', 'pods', ...as]);
    assert.equal(forbidden.code, 1);
    assert.equal(
      forbidden.stderr.trim(),
      'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:limited:reader" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    const node = await kr(['get', 'nodes', 'nope', ...as]);
    assert.match(
      node.stderr,
      /nodes "nope" is forbidden: User "system:serviceaccount:limited:reader" cannot get resource "nodes" in API group "" at the cluster scope/,
    );

    // The ServiceAccount's own token, through a kubeconfig without the admin certificate.
    const token = (await k(['-n', 'limited', 'create', 'token', 'reader', '--duration=10m'])).trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      sub: string;
      exp: number;
      iat: number;
    };
    assert.equal(payload.sub, 'system:serviceaccount:limited:reader');
    assert.equal(payload.exp - payload.iat, 600);
    const saKubeconfig = file(
      'sa.kubeconfig',
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: k8ts, cluster: {server: "${server.url}", certificate-authority: "${join(server.dataDir, 'pki', 'ca.crt')}"}}]`,
        `users: [{name: reader, user: {token: "${token}"}}]`,
        'contexts: [{name: reader, context: {cluster: k8ts, user: reader, namespace: limited}}]',
        'current-context: reader',
        '',
      ].join('\n'),
    );
    const asReader = (args: string[]) => run('kubectl', ['--kubeconfig', saKubeconfig, ...args]);
    const whoami = await asReader(['auth', 'whoami']);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(whoami.stdout, /^Username\s+system:serviceaccount:limited:reader$/m);
    assert.match(
      whoami.stdout,
      /^Groups\s+\[system:serviceaccounts system:serviceaccounts:limited system:authenticated\]$/m,
    );
    assert.equal((await asReader(['auth', 'can-i', 'list', 'pods'])).stdout.trim(), 'yes');
    assert.equal((await asReader(['auth', 'can-i', 'delete', 'pods'])).stdout.trim(), 'no');
    const listed = await asReader(['get', 'pods']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stderr.trim(), 'No resources found in limited namespace.');
    const denied = await asReader(['get', 'secrets']);
    assert.match(
      denied.stderr,
      /secrets is forbidden: User "system:serviceaccount:limited:reader" cannot list resource "secrets"/,
    );
    // A TokenReview says who the token belongs to.
    const review = JSON.parse(
      await k(['create', '--raw', '/apis/authentication.k8s.io/v1/tokenreviews', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token },
        }),
      }),
    ) as { status: { authenticated: boolean; user: { username: string } } };
    assert.equal(review.status.authenticated, true);
    assert.equal(review.status.user.username, 'system:serviceaccount:limited:reader');
    // Impersonating needs the impersonate verb.
    const escalate = await asReader(['get', 'pods', '--as=system:admin']);
    assert.equal(escalate.code, 1);
    assert.match(
      escalate.stderr,
      /users "system:admin" is forbidden: User "system:serviceaccount:limited:reader" cannot impersonate resource "users" in API group "" at the cluster scope/,
    );
    const missing = await kr(['-n', 'limited', 'create', 'token', 'nobody']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /serviceaccounts "nobody" not found/);
  });

  test('wait for a condition set through the status subresource, and for deletion', async () => {
    await ensureDefaultServiceAccount('default');
    await k(['run', 'waiter', '--image=nginx']);
    const waiting = background(['wait', 'pod/waiter', '--for=condition=Ready', '--timeout=30s']);
    await new Promise((r) => setTimeout(r, 500));
    await k([
      'patch',
      'pod',
      'waiter',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}',
    ]);
    const met = await waiting.done;
    assert.equal(met.code, 0, met.stderr);
    assert.equal(met.stdout.trim(), 'pod/waiter condition met');

    const gone = background(['wait', 'pod/waiter', '--for=delete', '--timeout=30s']);
    await new Promise((r) => setTimeout(r, 500));
    // Not on a node: deleted at once, whatever the grace period.
    await k(['delete', 'pod', 'waiter', '--wait=false']);
    const deleted = await gone.done;
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout.trim(), 'pod/waiter condition met');
    const timeout = await kr(['wait', 'configmap/ssa', '--for=delete', '--timeout=1s']);
    assert.equal(timeout.code, 1);
    assert.match(timeout.stderr, /timed out waiting for the condition on configmaps\/ssa/);
  });

  test('admission: the pod gets its ServiceAccount token volume; a missing account is refused', async () => {
    await ensureDefaultServiceAccount('default');
    await k(['run', 'mounted', '--image=nginx']);
    const pod = JSON.parse(await k(['get', 'pod', 'mounted', '-o', 'json'])) as {
      spec: {
        serviceAccountName: string;
        volumes: { name: string; projected?: { sources: Record<string, unknown>[] } }[];
        containers: { volumeMounts: { name: string; mountPath: string; readOnly: boolean }[] }[];
      };
    };
    assert.equal(pod.spec.serviceAccountName, 'default');
    const volume = pod.spec.volumes.find((v) => v.name.startsWith('kube-api-access-'));
    assert.ok(volume?.projected, 'projected token volume');
    assert.deepEqual(
      volume.projected.sources.map((s) => Object.keys(s)[0]),
      ['serviceAccountToken', 'configMap', 'downwardAPI'],
    );
    assert.deepEqual(pod.spec.containers[0]?.volumeMounts, [
      { name: volume.name, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ]);
    const refused = await kr([
      'run',
      'orphan',
      '--image=nginx',
      '--overrides={"spec":{"serviceAccountName":"foo"}}',
    ]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr.trim(),
      'Error from server (Forbidden): pods "orphan" is forbidden: error looking up service account default/foo: serviceaccount "foo" not found',
    );
  });

  test('admission: LimitRange defaults and bounds, ResourceQuota refuses and counts', async () => {
    await k(['create', 'namespace', 'bounded']);
    await ensureDefaultServiceAccount('bounded');
    await k(['-n', 'bounded', 'apply', '-f', '-'], {
      input: `apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 250m, memory: 128Mi}
    max: {cpu: "1"}
`,
    });
    // The root CA publisher gives every namespace its kube-root-ca.crt, which counts as a ConfigMap.
    await waitFor('kube-root-ca.crt', async () =>
      (await kr(['-n', 'bounded', 'get', 'configmap', 'kube-root-ca.crt'])).code === 0 ? true : undefined,
    );
    await k([
      '-n',
      'bounded',
      'create',
      'quota',
      'compute-quota',
      '--hard=requests.cpu=600m,pods=5,configmaps=2',
    ]);
    await k(['-n', 'bounded', 'run', 'small', '--image=nginx']);
    assert.equal(
      await k([
        '-n',
        'bounded',
        'get',
        'pod',
        'small',
        '-o',
        'jsonpath={.spec.containers[0].resources.requests.cpu}/{.spec.containers[0].resources.limits.memory}',
      ]),
      '250m/256Mi',
    );
    assert.equal(
      await k([
        '-n',
        'bounded',
        'get',
        'pod',
        'small',
        '-o',
        'jsonpath={.metadata.annotations.kubernetes\\.io/limit-ranger}',
      ]),
      'LimitRanger plugin set: cpu, memory request for container small; cpu, memory limit for container small',
    );
    const big = await kr([
      '-n',
      'bounded',
      'run',
      'big',
      '--image=nginx',
      '--overrides={"spec":{"containers":[{"name":"big","image":"nginx","resources":{"limits":{"cpu":"2"}}}]}}',
    ]);
    assert.equal(
      big.stderr.trim(),
      'Error from server (Forbidden): pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2',
    );
    const over = await kr([
      '-n',
      'bounded',
      'run',
      'second',
      '--image=nginx',
      '--overrides={"spec":{"containers":[{"name":"second","image":"nginx","resources":{"requests":{"cpu":"500m"}}}]}}',
    ]);
    assert.equal(
      over.stderr.trim(),
      'Error from server (Forbidden): pods "second" is forbidden: exceeded quota: compute-quota, requested: requests.cpu=500m, used: requests.cpu=250m, limited: requests.cpu=600m',
    );
    const quota = await k(['-n', 'bounded', 'describe', 'quota', 'compute-quota']);
    assert.match(quota, /^pods\s+1\s+5$/m);
    assert.match(quota, /^requests\.cpu\s+250m\s+600m$/m);
    assert.match(quota, /^configmaps\s+1\s+2$/m);
    await k(['-n', 'bounded', 'create', 'configmap', 'one']);
    const two = await kr(['-n', 'bounded', 'create', 'configmap', 'two']);
    assert.match(
      two.stderr,
      /configmaps "two" is forbidden: exceeded quota: compute-quota, requested: configmaps=1, used: configmaps=2, limited: configmaps=2/,
    );
    await k(['-n', 'bounded', 'delete', 'configmap', 'one']);
    await waitFor('the quota to be released', async () =>
      (await k([
        '-n',
        'bounded',
        'get',
        'quota',
        'compute-quota',
        '-o',
        'jsonpath={.status.used.configmaps}',
      ])) === '1'
        ? true
        : undefined,
    );
    await k(['-n', 'bounded', 'create', 'configmap', 'two']);
    const immortal = await kr(['delete', 'namespace', 'kube-system']);
    assert.equal(
      immortal.stderr.trim(),
      'Error from server (Forbidden): namespaces "kube-system" is forbidden: this namespace may not be deleted',
    );
  });

  test('delete with each cascade mode', async () => {
    const owned = async (suffix: string): Promise<void> => {
      await k(['create', 'configmap', `owner-${suffix}`]);
      const uid = await k(['get', 'configmap', `owner-${suffix}`, '-o', 'jsonpath={.metadata.uid}']);
      await k(['apply', '-f', '-'], {
        input: `apiVersion: v1
kind: ConfigMap
metadata:
  name: dependent-${suffix}
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner-${suffix}, uid: ${uid}}]
`,
      });
    };
    const state = (name: string) =>
      kr(['get', 'configmap', name, '-o', 'jsonpath={.metadata.finalizers}|{.metadata.deletionTimestamp}']);

    await owned('bg');
    assert.equal(
      (await k(['delete', 'configmap', 'owner-bg', '--cascade=background'])).trim(),
      'configmap "owner-bg" deleted',
    );
    assert.match((await state('owner-bg')).stderr, /configmaps "owner-bg" not found/);

    // Foreground and orphan leave the owner in place with a finalizer for the garbage collector.
    for (const [mode, finalizer] of [
      ['foreground', 'foregroundDeletion'],
      ['orphan', 'orphan'],
    ] as const) {
      await owned(mode);
      const out = await k(['delete', 'configmap', `owner-${mode}`, `--cascade=${mode}`, '--wait=false']);
      assert.equal(out.trim(), `configmap "owner-${mode}" deleted`);
      const s = await state(`owner-${mode}`);
      if (s.code === 0) {
        const [finalizers, deletionTimestamp] = s.stdout.split('|');
        assert.deepEqual(JSON.parse(finalizers!), [finalizer]);
        assert.match(deletionTimestamp!, /^\d{4}-\d\d-\d\dT/);
        // Whoever removes the finalizer (the garbage collector, or we here) completes the deletion.
        await kr([
          'patch',
          'configmap',
          `owner-${mode}`,
          '--type=merge',
          '-p',
          '{"metadata":{"finalizers":null}}',
        ]);
      }
      await waitFor(`owner-${mode} to go`, async () =>
        (await state(`owner-${mode}`)).code === 1 ? true : undefined,
      );
    }
    // The orphaned dependent stays.
    assert.equal((await state('dependent-orphan')).code, 0);

    // A Deployment: background deletion removes it at once (its ReplicaSets are the GC's to remove).
    const d = await kr(['delete', 'deployment', 'web', '--cascade=background']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout.trim(), 'deployment.apps "web" deleted');
  });

  test('deployments deleted in the foreground take their ReplicaSets; orphaned ones leave them', async () => {
    const replicaSets = async (app: string): Promise<string[]> =>
      (await k(['get', 'replicasets', '-l', `app=${app}`, '-o', 'jsonpath={.items[*].metadata.name}']))
        .split(' ')
        .filter((n) => n !== '');
    for (const app of ['fg', 'orphaned']) {
      await k(['create', 'deployment', app, '--image=nginx', '--replicas=1']);
      await waitFor(`the ReplicaSet of ${app}`, async () =>
        (await replicaSets(app)).length > 0 ? true : undefined,
      );
    }
    // kubectl waits for the foreground deletion to finish: by then the ReplicaSet is gone.
    const fg = await kr(['delete', 'deployment', 'fg', '--cascade=foreground', '--timeout=30s']);
    assert.equal(fg.code, 0, fg.stderr);
    assert.equal(fg.stdout.trim(), 'deployment.apps "fg" deleted');
    assert.deepEqual(await replicaSets('fg'), []);

    const [rs] = await replicaSets('orphaned');
    const or = await kr(['delete', 'deployment', 'orphaned', '--cascade=orphan', '--timeout=30s']);
    assert.equal(or.code, 0, or.stderr);
    assert.equal((await kr(['get', 'deployment', 'orphaned'])).code, 1);
    assert.deepEqual(await replicaSets('orphaned'), [rs]);
    assert.equal(await k(['get', 'replicaset', rs!, '-o', 'jsonpath={.metadata.ownerReferences}']), '');
  });
});
