// Joining a node as `kubeadm join` does: `k8ts agent` with only the server URL and the node token
// (no --ca-file) learns the CA from the signed kube-public/cluster-info, gets a client certificate
// through an auto-approved CSR, and registers a node that becomes Ready.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { K8TS_BIN, startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually as pollUntil } from '../support/eventually.js';

/** The shared poll, with this file's default timeout and pace. */
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 250 });

/** The status of a GET without credentials (the server's certificate is not checked, as the agent's discovery). */
function anonymousStatus(url: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(new URL(path, url), { rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

describe('k8ts agent joins with a bootstrap token only', () => {
  let server: TestServer;
  let agent: ChildProcess | undefined;
  let agentOutput = '';
  const agentDir = mkdtempSync(join(tmpdir(), 'k8ts-join-'));

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent?.once('exit', r));
      agent.kill('SIGKILL');
      await exited;
    }
    await server?.stop();
    rmSync(agentDir, { recursive: true, force: true });
  });

  test('anyone can read cluster-info, signed with the node token', async () => {
    const token = readFileSync(join(server.dataDir, 'node-token'), 'utf8').trim();
    const id = token.split('.')[0] ?? '';
    const cm = await until('cluster-info', async () => {
      const r = await server.kubectl(['get', 'configmap', '-n', 'kube-public', 'cluster-info', '-o', 'json']);
      if (r.code !== 0) return undefined;
      const parsed = JSON.parse(r.stdout) as { data?: Record<string, string> };
      return parsed.data?.[`jws-kubeconfig-${id}`] ? parsed : undefined;
    });
    assert.match(cm.data?.['kubeconfig'] ?? '', /certificate-authority-data: /);
    // Without credentials: cluster-info can be read, nothing else in kube-public.
    assert.equal(
      await anonymousStatus(server.url, '/api/v1/namespaces/kube-public/configmaps/cluster-info'),
      200,
    );
    assert.equal(await anonymousStatus(server.url, '/api/v1/namespaces/kube-public/configmaps'), 403);
    assert.equal(await anonymousStatus(server.url, '/api/v1/namespaces/kube-system/secrets'), 403);
  });

  test('a node joined without --ca-file registers, becomes Ready, with its CSR approved and issued', async () => {
    const token = readFileSync(join(server.dataDir, 'node-token'), 'utf8').trim();
    agent = spawn(
      process.execPath,
      [
        K8TS_BIN,
        'agent',
        '--server',
        server.url,
        '--token',
        token,
        '--runtime',
        'fake',
        '--node-name',
        'joiner',
        '--data-dir',
        agentDir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, K8TS_LOG_LEVEL: 'info' } },
    );
    agent.stdout?.on('data', (c: Buffer) => (agentOutput += c.toString()));
    agent.stderr?.on('data', (c: Buffer) => (agentOutput += c.toString()));
    const exitedEarly = (): undefined => {
      if (agent?.exitCode !== null) throw new Error(`agent exited (${agent?.exitCode}):\n${agentOutput}`);
      return undefined;
    };

    await until('node joiner Ready', async () => {
      exitedEarly();
      const r = await server.kubectl([
        'get',
        'node',
        'joiner',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return r.code === 0 && r.stdout.trim() === 'True' ? true : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\nagent output:\n${agentOutput}`);
    });

    const csrs = await server.kubectlOk(['get', 'csr', '--no-headers']);
    const line = csrs.split('\n').find((l) => l.includes('kubernetes.io/kube-apiserver-client-kubelet'));
    assert.ok(line, csrs);
    assert.match(line, /\bApproved,Issued\b/);
    assert.match(agentOutput, /node certificate issued/);
    assert.doesNotMatch(agentOutput, /pass --ca-file/);

    const exited = new Promise<number | null>((r) => agent?.once('exit', (code) => r(code)));
    agent.kill('SIGTERM');
    const timer = setTimeout(() => agent?.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0, agentOutput);
  });
});
