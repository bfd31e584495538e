import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LoopbackIdentities, loopbackSocketPath } from './loopback.js';

/** Serves `authenticate`'s verdict as the body, over a unix socket or TCP. */
async function verdicts(ids: LoopbackIdentities, listenOn: string | 0): Promise<http.Server> {
  const srv = http.createServer((req, res) => res.end(ids.authenticate(req)?.name ?? '-'));
  await new Promise<void>((resolve) => srv.listen(listenOn, resolve));
  return srv;
}

function ask(target: { socketPath: string } | { port: number }, token?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { ...target, path: '/', headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('a loopback token is its component on the unix socket, and nothing over TCP or when unknown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-loopback-'));
  const ids = new LoopbackIdentities();
  const token = ids.tokenFor({ name: 'system:kube-scheduler', groups: [] });
  const socketPath = join(dir, 'apiserver.sock');
  const onSocket = await verdicts(ids, socketPath);
  const onTcp = await verdicts(ids, 0);
  try {
    assert.equal(await ask({ socketPath }, token), 'system:kube-scheduler');
    assert.equal(await ask({ socketPath }, `${token}x`), '-');
    assert.equal(await ask({ socketPath }), '-');
    assert.equal(await ask({ port: (onTcp.address() as AddressInfo).port }, token), '-');
  } finally {
    onSocket.close();
    onTcp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the socket path falls back to none when it is too long to bind', () => {
  assert.equal(loopbackSocketPath('/var/lib/k8ts'), '/var/lib/k8ts/apiserver.sock');
  assert.equal(loopbackSocketPath(`/tmp/${'d'.repeat(120)}`), undefined);
});
