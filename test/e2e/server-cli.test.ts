// The k8ts command as a user meets it: help and version, a server that kubectl talks to over TLS
// with the kubeconfig it writes, data that survives a restart, and a data dir that cannot be used
// stopping the server with one clear line instead of starting empty.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runK8ts, startServer, freePort } from '../support/k8ts-server.js';

describe('k8ts command', () => {
  test('--help lists the commands and version prints the versions', async () => {
    const help = await runK8ts(['--help']);
    assert.equal(help.code, 0);
    for (const cmd of ['server', 'agent', 'version'])
      assert.match(help.stdout, new RegExp(`^  ${cmd} `, 'm'));
    const version = await runK8ts(['version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^k8ts version v\d+\.\d+\.\d+ \(Kubernetes v1\.\d+\.\d+/);
  });

  test('an unknown command or flag is refused with a clear line and a non-zero exit', async () => {
    const unknown = await runK8ts(['frobnicate']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const badFlag = await runK8ts(['server', '--no-such-flag']);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /--no-such-flag/);
    const badPort = await runK8ts(['server', '--https-port', '70000']);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /--https-port: invalid port "70000"/);
  });
});

describe('k8ts server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-cli-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('serves kubectl over TLS with the admin kubeconfig it writes, and keeps data across a restart', async () => {
    const server = await startServer({ dataDir });
    try {
      const ns = await server.kubectlOk(['get', 'namespaces', '-o', 'name']);
      for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
        assert.match(ns, new RegExp(`^namespace/${n}$`, 'm'));
      await server.kubectlOk(['create', 'configmap', 'kept', '--from-literal=answer=42']);
      assert.equal(readFileSync(join(dataDir, 'node-token'), 'utf8').trim().length > 0, true);

      // A second server on the same data dir must refuse to start, naming what is locked.
      const port = await freePort();
      const second = await runK8ts(
        ['server', '--data-dir', dataDir, '--https-port', String(port), '--disable-agent'],
        { timeoutMs: 20_000 },
      );
      assert.notEqual(second.code, 0);
      assert.match(second.stderr, new RegExp(dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.equal(
        second.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('k8ts server:')).length,
        1,
      );
    } finally {
      await server.stop({ keepData: true });
    }
    const again = await startServer({ dataDir });
    try {
      const value = await again.kubectlOk(['get', 'configmap', 'kept', '-o', 'jsonpath={.data.answer}']);
      assert.equal(value, '42');
    } finally {
      await again.stop({ keepData: true });
    }
  });

  test('anonymous requests are refused except health and version', async () => {
    const server = await startServer();
    try {
      const ca = readFileSync(join(server.dataDir, 'pki', 'ca.crt'), 'utf8');
      const get = (path: string, headers: Record<string, string> = {}) =>
        new Promise<{ status: number; body: string }>((resolveGet, reject) => {
          https
            .get(`${server.url}${path}`, { ca, headers }, (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
            })
            .on('error', reject);
        });
      const denied = await get('/api/v1/secrets');
      assert.equal(denied.status, 403);
      const status = JSON.parse(denied.body) as { reason: string; message: string };
      assert.equal(status.reason, 'Forbidden');
      assert.match(
        status.message,
        /User "system:anonymous" cannot list resource "secrets" in API group "" at the cluster scope/,
      );
      assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok' });
      assert.equal((await get('/version')).status, 200);
      // A token that fails is not downgraded to anonymous: 401, as kube-apiserver answers.
      const badToken = await get('/api/v1/secrets', { Authorization: 'Bearer not-a-token' });
      assert.equal(badToken.status, 401);
      assert.deepEqual(JSON.parse(badToken.body), {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    } finally {
      await server.stop();
    }
  });

  test('a corrupt database or an unusable data dir stops the server with one line naming the file', async () => {
    const corruptDir = mkdtempSync(join(tmpdir(), 'k8ts-corrupt-'));
    const notADir = join(corruptDir, 'plain-file');
    try {
      writeFileSync(join(corruptDir, 'state.db'), Buffer.alloc(8192, 0x5a));
      const port = await freePort();
      const corrupt = await runK8ts(
        ['server', '--data-dir', corruptDir, '--https-port', String(port), '--disable-agent'],
        { timeoutMs: 20_000 },
      );
      assert.equal(corrupt.code, 1);
      assert.match(corrupt.stderr, /^k8ts server: .*state\.db/m);
      // Nothing was started over the existing file: it is still the bytes we wrote.
      assert.deepEqual(readFileSync(join(corruptDir, 'state.db')), Buffer.alloc(8192, 0x5a));

      writeFileSync(notADir, 'not a directory');
      const bad = await runK8ts(
        ['server', '--data-dir', notADir, '--https-port', String(port), '--disable-agent'],
        { timeoutMs: 20_000 },
      );
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^k8ts server: data dir .*plain-file is not usable/m);
    } finally {
      rmSync(corruptDir, { recursive: true, force: true });
    }
  });
});
