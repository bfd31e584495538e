// A real TLS handshake against a server built as the API server builds it (requestCert: true,
// rejectUnauthorized: false, the cluster CA as client CA): certificates from the cluster CA
// authenticate, others do not, and no certificate means anonymous. kubectl, when installed, must
// accept the generated kubeconfig and the serving certificate.
import '../../../test/support/kubectl-cache.js';
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Server, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createCertificateAuthority, issueClientCertificate } from '../../pki/certs.js';
import { type ClusterPki, ensureClusterPki } from '../../pki/cluster.js';
import { writeKubeconfig } from '../../pki/kubeconfig.js';
import { createAuthenticator } from './authn.js';

interface Reply {
  status: number;
  body: string;
}

function get(port: number, ca: string, cert?: { certPem: string; keyPem: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/whoami',
        ca,
        cert: cert?.certPem,
        key: cert?.keyPem,
        servername: 'localhost',
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('client certificate authentication over TLS', () => {
  let dir = '';
  let pki: ClusterPki;
  let server: Server;
  let port = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8ts-tls-'));
    pki = await ensureClusterPki(dir, { sans: { dns: [], ips: [] }, skipHostAddresses: true });
    const authn = createAuthenticator({ tokenAuthenticators: [] });
    server = createServer(
      {
        cert: pki.serving.certPem,
        key: pki.serving.keyPem,
        ca: [pki.ca.certPem],
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req: IncomingMessage, res: ServerResponse) => {
        void authn.authenticateRequest(req).then((outcome) => {
          res.setHeader('content-type', 'application/json');
          if (!outcome.user) {
            res.statusCode = 401;
            res.end(JSON.stringify({ error: outcome.error }));
            return;
          }
          res.end(JSON.stringify(outcome.user));
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a certificate issued by the cluster CA: CN is the user, O the groups', async () => {
    const r = await get(port, pki.ca.certPem, pki.admin);
    assert.equal(r.status, 200, r.body);
    const user = JSON.parse(r.body) as { name: string; groups: string[]; extra: Record<string, string[]> };
    assert.equal(user.name, 'system:admin');
    assert.deepEqual(user.groups, ['system:masters', 'system:authenticated']);
    assert.match(
      user.extra['authentication.kubernetes.io/credential-id']?.[0] ?? '',
      /^X509SHA256=[0-9a-f]{64}$/,
    );
    const node = await issueClientCertificate(pki.ca, 'system:node:worker-1', ['system:nodes']);
    const r2 = await get(port, pki.ca.certPem, node);
    const u2 = JSON.parse(r2.body) as { name: string; groups: string[] };
    assert.equal(u2.name, 'system:node:worker-1');
    assert.deepEqual(u2.groups, ['system:nodes', 'system:authenticated']);
  });

  it('refuses a certificate from an unknown CA', async () => {
    const rogue = await createCertificateAuthority('rogue-ca');
    const cert = await issueClientCertificate(rogue, 'system:admin', ['system:masters']);
    const r = await get(port, pki.ca.certPem, cert);
    assert.equal(r.status, 401);
    assert.match(r.body, /x509/);
  });

  it('treats a connection without a certificate as anonymous', async () => {
    const r = await get(port, pki.ca.certPem);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { name: 'system:anonymous', groups: ['system:unauthenticated'] });
  });

  it('gives kubectl a kubeconfig it accepts', { skip: !existsSync('/usr/bin/kubectl') }, async () => {
    const path = join(dir, 'admin.kubeconfig');
    await writeKubeconfig(path, {
      server: `https://127.0.0.1:${port}`,
      caPem: pki.ca.certPem,
      clientCertPem: pki.admin.certPem,
      clientKeyPem: pki.admin.keyPem,
      userName: 'admin',
      clusterName: 'k8ts',
      contextName: 'k8ts',
    });
    const { stdout } = await promisify(execFile)(
      'kubectl',
      ['--kubeconfig', path, 'get', '--raw', '/whoami'],
      {
        timeout: 20_000,
      },
    );
    assert.equal((JSON.parse(stdout) as { name: string }).name, 'system:admin');
  });
});
