// k8ts server's own components reach the API server over <data-dir>/apiserver.sock (plain HTTP,
// loopback tokens); the socket is the owner's alone and asks for credentials like the TLS port.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually } from '../support/eventually.js';

let server: TestServer;
before(async () => {
  // At info, so that the components' lines (logged in their own thread) can be looked for.
  server = await startServer({ env: { K8TS_LOG_LEVEL: 'info' } });
});
after(async () => {
  await server.stop();
});

function get(socketPath: string, path: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('the loopback socket is mode 0600 and refuses requests without a component token', async () => {
  const socketPath = join(server.dataDir, 'apiserver.sock');
  assert.equal(statSync(socketPath).mode & 0o777, 0o600);
  assert.equal(await get(socketPath, '/readyz'), 200);
  // Refused as on the TLS port: no token, or one that is no component's.
  for (const token of [undefined, 'not-a-token', 'abcdef.0123456789abcdef'])
    assert.ok([401, 403].includes(await get(socketPath, '/api/v1/namespaces/kube-system/secrets', token)));
});

test('the scheduler and controller manager work through it: they hold their leader leases', async () => {
  await eventually('both leader leases are held', async () => {
    const out = await server.kubectl([
      'get',
      'lease',
      '-n',
      'kube-system',
      'kube-scheduler',
      'kube-controller-manager',
      '-o',
      'jsonpath={.items[*].spec.holderIdentity}',
    ]);
    const holders = out.stdout.trim().split(/\s+/).filter(Boolean);
    return holders.length === 2 ? holders : undefined;
  });
});

test('the components run in their own thread: their logs and metrics are the server’s', async () => {
  // Their lines reach the server's log, each whole.
  await eventually('the controller manager logs that it runs', () =>
    Promise.resolve(/"msg":"caches synced, controllers running"/.test(server.output()) || undefined),
  );
  await eventually('the scheduler logs that it leads', () =>
    Promise.resolve(
      /"component":"scheduler[^"]*".*"msg":"started leading"/.test(server.output()) || undefined,
    ),
  );
  // /metrics shows the controllers' work queues next to the API server's own metrics, and a metric
  // both threads have (the REST client's) is one family.
  const text = await server.kubectlOk(['get', '--raw', '/metrics']);
  assert.match(text, /^workqueue_depth\{name="endpoint"\} \d+$/m);
  assert.match(text, /^apiserver_request_total\{/m);
  const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
  assert.equal(new Set(types).size, types.length, 'each metric family appears once');
});

test('their writes are recorded under upstream’s manager names', async () => {
  await server.kubectlOk(['create', 'deployment', 'managers', '--image=busybox']);
  await eventually('the deployment controller has written its status', async () => {
    const out = await server.kubectlOk([
      'get',
      'deployment',
      'managers',
      '--show-managed-fields',
      '-o',
      'jsonpath={range .metadata.managedFields[*]}{.manager}/{.subresource};{end}',
    ]);
    return out.includes('kube-controller-manager/status;') ? out : undefined;
  });
});
