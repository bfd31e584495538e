// The scheduler outside `k8ts server` (`k8ts scheduler`, as kube-scheduler), and the server's own
// scheduler configured with --scheduler-config: profiles are chosen by each pod's schedulerName.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { K8TS_BIN, freePort, runK8ts, startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ts-sched-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, profiles: string[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    [
      'apiVersion: kubescheduler.config.k8s.io/v1',
      'kind: KubeSchedulerConfiguration',
      'profiles:',
      ...profiles.flatMap((p) => [`- schedulerName: ${p}`]),
      '',
    ].join('\n'),
  );
  return file;
}

function podManifest(name: string, schedulerName: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { schedulerName, containers: [{ name: 'c', image: 'busybox' }] },
  });
}

async function nodeOf(server: TestServer, pod: string): Promise<string> {
  return (await server.kubectlOk(['get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}'])).trim();
}

function get(port: number, path: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('k8ts scheduler, standalone', () => {
  let server: TestServer;
  let scheduler: ChildProcess;
  let port: number;
  let output = '';
  before(async () => {
    // The server's own scheduler is off: only the standalone one can bind pods.
    server = await startServer({
      agent: true,
      extraArgs: ['--runtime', 'fake', '--node-name', 'n1', '--disable', 'scheduler'],
    });
    port = await freePort();
    const cfg = config('standalone.yaml', ['default-scheduler', 'batch-scheduler']);
    scheduler = spawn(
      process.execPath,
      [K8TS_BIN, 'scheduler', '--kubeconfig', server.kubeconfig, '--config', cfg, '--port', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, K8TS_LOG_LEVEL: 'info' } },
    );
    scheduler.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    scheduler.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  });
  after(async () => {
    scheduler.kill('SIGTERM');
    await new Promise((r) => scheduler.once('exit', r));
    await server.stop();
  });

  test('it schedules pods of each of its profiles, and leaves other schedulers’ pods alone', async () => {
    await server.kubectlOk(['apply', '-f', '-'], { input: podManifest('by-default', 'default-scheduler') });
    await server.kubectlOk(['apply', '-f', '-'], { input: podManifest('by-batch', 'batch-scheduler') });
    await server.kubectlOk(['apply', '-f', '-'], { input: podManifest('by-other', 'other-scheduler') });
    await eventually('both of its pods are bound to n1', async () =>
      (await nodeOf(server, 'by-default')) === 'n1' && (await nodeOf(server, 'by-batch')) === 'n1'
        ? true
        : undefined,
    );
    assert.equal(await nodeOf(server, 'by-other'), '');
  });

  test('it holds the kube-scheduler lease and serves health and metrics', async () => {
    const holder = await server.kubectlOk([
      'get',
      'lease',
      '-n',
      'kube-system',
      'kube-scheduler',
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ]);
    assert.notEqual(holder.trim(), '');
    assert.deepEqual(await get(port, '/healthz'), { code: 200, body: 'ok' });
    const metrics = await get(port, '/metrics');
    assert.equal(metrics.code, 200);
    assert.match(metrics.body, /^# TYPE scheduler_\w+ /m);
    assert.match(output, /"msg":"scheduler running".*"profiles":\["default-scheduler","batch-scheduler"\]/);
  });
});

describe('k8ts server --scheduler-config', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      agent: true,
      extraArgs: [
        '--runtime',
        'fake',
        '--node-name',
        'n1',
        '--scheduler-config',
        config('server.yaml', ['default-scheduler', 'gpu-scheduler']),
      ],
    });
  });
  after(async () => {
    await server.stop();
  });

  test('the server’s scheduler runs the configured profiles', async () => {
    await server.kubectlOk(['apply', '-f', '-'], { input: podManifest('gpu-job', 'gpu-scheduler') });
    await eventually('the pod of the second profile is bound', async () =>
      (await nodeOf(server, 'gpu-job')) === 'n1' ? true : undefined,
    );
  });
});

test('a configuration that is not valid stops the command with one clear line', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles: 3\n',
  );
  const r = await runK8ts(['scheduler', '--config', bad, '--port', '0']);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    new RegExp(`^k8ts scheduler: --config: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `),
  );
  const missing = await runK8ts(['server', '--scheduler-config', join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--scheduler-config: ENOENT: .*nope\.yaml/);
});
