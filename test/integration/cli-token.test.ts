// `k8ts token` against a real server: a created token joins a node as the server's own node token
// does, list shows it as `kubeadm token list` does, delete removes it, and an expired token is
// refused for joining and then deleted by the tokencleaner controller.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { K8TS_BIN, freePort, runK8ts, startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually } from '../support/eventually.js';

const TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

interface Agent {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function startAgent(
  server: TestServer,
  token: string,
  nodeName: string,
  dataDir: string,
  extra: string[] = [],
): Agent {
  const child = spawn(
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
      nodeName,
      '--data-dir',
      dataDir,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, K8TS_LOG_LEVEL: 'info' } },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

async function stopAgent(agent: Agent | undefined): Promise<void> {
  if (!agent || agent.child.exitCode !== null || agent.child.signalCode !== null) return;
  agent.child.kill('SIGKILL');
  await agent.exited;
}

describe('k8ts token', () => {
  let server: TestServer;
  let agent: Agent | undefined;
  const dirs: string[] = [];
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'k8ts-token-'));
    dirs.push(d);
    return d;
  };
  const token = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runK8ts(['token', ...args], { env: { KUBECONFIG: server.kubeconfig, ...env } });

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await stopAgent(agent);
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  let created = '';

  test('create prints a new token whose Secret has kubeadm shape, and a node joins with it', async () => {
    const r = await token(['create', '--kubeconfig', server.kubeconfig, '--description', 'joins ci nodes']);
    assert.equal(r.code, 0, r.stderr);
    created = r.stdout.trim();
    const m = TOKEN.exec(created);
    assert.ok(m, `not a bootstrap token: ${JSON.stringify(r.stdout)}`);
    const [, id, secret] = m;

    const json = await server.kubectlOk([
      'get',
      'secret',
      '-n',
      'kube-system',
      `bootstrap-token-${id}`,
      '-o',
      'json',
    ]);
    const s = JSON.parse(json) as { type: string; data: Record<string, string> };
    const data = Object.fromEntries(
      Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
    assert.equal(s.type, 'bootstrap.kubernetes.io/token');
    assert.equal(data['token-id'], id);
    assert.equal(data['token-secret'], secret);
    assert.equal(data['usage-bootstrap-authentication'], 'true');
    assert.equal(data['usage-bootstrap-signing'], 'true');
    assert.equal(data['auth-extra-groups'], 'system:bootstrappers:k8ts:default-node-token');
    assert.equal(data['description'], 'joins ci nodes');
    const ttlMs = Date.parse(data['expiration'] ?? '') - Date.now();
    assert.ok(ttlMs > 23.9 * 3600_000 && ttlMs <= 24 * 3600_000, `expiration ${data['expiration']}`);

    // No --ca-file: the agent trusts the CA through the cluster-info signature made with this token.
    agent = startAgent(server, created, 'token-joiner', tempDir());
    await eventually(
      'node token-joiner Ready',
      async () => {
        if (agent?.child.exitCode !== null) throw new Error(`agent exited:\n${agent?.output()}`);
        const r2 = await server.kubectl([
          'get',
          'node',
          'token-joiner',
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ]);
        return r2.stdout === 'True' ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await stopAgent(agent);
  });

  test('list shows the tokens as kubeadm token list does (KUBECONFIG from the environment)', async () => {
    const r = await token(['list']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION\s+EXTRA GROUPS$/);
    const mine = lines.find((l) => l.startsWith(created));
    assert.ok(mine, r.stdout);
    assert.match(
      mine,
      /^\S+\s+23h\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+authentication,signing\s+joins ci nodes\s+system:bootstrappers:k8ts:default-node-token$/,
    );
    // The server's own node token never expires.
    const nodeToken = readFileSync(join(server.dataDir, 'node-token'), 'utf8').trim();
    assert.match(lines.find((l) => l.startsWith(nodeToken)) ?? '', /\s<forever>\s+<never>\s/);
  });

  test('delete removes a token given as a whole token, and says so', async () => {
    const id = created.slice(0, 6);
    const r = await token(['delete', created]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `bootstrap token "${id}" deleted\n`);
    const list = await token(['list']);
    assert.ok(!list.stdout.includes(created), list.stdout);
    const again = await token(['delete', id]);
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      `k8ts token: failed to delete bootstrap token "${id}": secrets "bootstrap-token-${id}" not found\n`,
    );
  });

  test('an expired token is refused for joining, then its Secret is deleted', async () => {
    const r = await token(['create', '--ttl', '1s']);
    assert.equal(r.code, 0, r.stderr);
    const expired = r.stdout.trim();
    const id = expired.slice(0, 6);
    await new Promise((res) => setTimeout(res, 2000));
    // With the CA given, joining goes straight to the CSR, authenticated by the token: 401, as upstream.
    const joiner = startAgent(server, expired, 'late-joiner', tempDir(), [
      '--ca-file',
      join(server.dataDir, 'pki', 'ca.crt'),
    ]);
    const timer = setTimeout(() => joiner.child.kill('SIGKILL'), 30_000);
    const code = await joiner.exited;
    clearTimeout(timer);
    assert.equal(code, 1, joiner.output());
    assert.match(
      joiner.output(),
      /cannot join .*did not accept a certificate signing request with the token \(Unauthorized\)/s,
    );
    const nodes = await server.kubectl(['get', 'node', 'late-joiner']);
    assert.notEqual(nodes.code, 0);
    await eventually(
      'the tokencleaner deletes the expired token Secret',
      async () => {
        const g = await server.kubectl(['get', 'secret', '-n', 'kube-system', `bootstrap-token-${id}`]);
        return g.code !== 0 && /NotFound/.test(g.stderr) ? true : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
  });

  test('bad flags and an unreachable server are reported in upstream words', async () => {
    const ttl = await token(['create', '--ttl', '1d']);
    assert.equal(ttl.code, 2);
    assert.match(
      ttl.stderr,
      /^k8ts token create: invalid argument "1d" for "--ttl" flag: time: unknown unit "d" in duration "1d"\n/,
    );
    const bad = await token(['delete', 'not-a-token']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /given token didn't match pattern/);

    const port = await freePort();
    const dead = join(tempDir(), 'kubeconfig.yaml');
    writeFileSync(dead, readFileSync(server.kubeconfig, 'utf8').replace(`:${server.port}`, `:${port}`));
    const r = await token(['create', '--kubeconfig', dead]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^k8ts token: failed to create or update bootstrap token with name bootstrap-token-[a-z0-9]{6}: unable to create Secret: Post "https://127\\.0\\.0\\.1:${port}/api/v1/namespaces/kube-system/secrets": dial tcp 127\\.0\\.0\\.1:${port}: connect: connection refused\\n$`,
      ),
    );
    const missing = await token(['list', '--data-dir', join(tempDir(), 'none')]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /failed to load admin kubeconfig: open .*kubeconfig\.yaml: no such file or directory/,
    );
  });
});
