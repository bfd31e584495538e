import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createCertificateAuthority,
  parseCertificateRequest,
  signCertificateRequest,
  validateKubeletClientCsr,
  type CertificateAuthority,
} from '../pki/certs.js';
import { renderKubeconfig } from '../pki/kubeconfig.js';
import {
  BootstrapError,
  computeDetachedSignature,
  discoverClusterCA,
  nodeKubeconfigPath,
  obtainNodeCredentials,
  verifyDetachedSignature,
} from './bootstrap.js';

describe('cluster-info signatures', () => {
  const content = 'apiVersion: v1\nkind: Config\nclusters: []\n';

  test('a detached HS256 JWS made with the token verifies; header names the token id', () => {
    const sig = computeDetachedSignature(content, 'abcdef', '0123456789abcdef');
    const [header, payload] = sig.split('.');
    assert.equal(payload, '');
    assert.deepEqual(JSON.parse(Buffer.from(header ?? '', 'base64url').toString()), {
      alg: 'HS256',
      kid: 'abcdef',
    });
    assert.equal(verifyDetachedSignature(content, sig, 'abcdef', '0123456789abcdef'), true);
  });

  test('another secret, another id, or changed content do not verify', () => {
    const sig = computeDetachedSignature(content, 'abcdef', '0123456789abcdef');
    assert.equal(verifyDetachedSignature(content, sig, 'abcdef', '0123456789abcdeX'), false);
    assert.equal(verifyDetachedSignature(content, sig, 'zzzzzz', '0123456789abcdef'), false);
    assert.equal(verifyDetachedSignature(content + ' ', sig, 'abcdef', '0123456789abcdef'), false);
    assert.equal(verifyDetachedSignature(content, 'garbage', 'abcdef', '0123456789abcdef'), false);
  });
});

/** A stand-in API server with just what TLS bootstrap touches: cluster-info and CSRs (approved and signed on the second read). */
describe('TLS bootstrap against a stand-in server', () => {
  const TOKEN = 'abcdef.0123456789abcdef';
  let ca: CertificateAuthority;
  let server: Server;
  let url = '';
  let signCluster = true;
  let requests = 0;
  const csrs = new Map<string, { body: Record<string, unknown>; reads: number }>();
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bootstrap-'));

  const send = (res: ServerResponse, code: number, body: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const status = (code: number, reason: string): Record<string, unknown> => ({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    code,
    reason,
    message: reason,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests++;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path === '/api/v1/namespaces/kube-public/configmaps/cluster-info') {
      const kubeconfig = renderKubeconfig({ server: url, caPem: ca.certPem });
      const data: Record<string, string> = { kubeconfig };
      if (signCluster)
        data['jws-kubeconfig-abcdef'] = computeDetachedSignature(kubeconfig, 'abcdef', '0123456789abcdef');
      return send(res, 200, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cluster-info', namespace: 'kube-public' },
        data,
      });
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, status(401, 'Unauthorized'));
    const base = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
    if (req.method === 'POST' && path === base) {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
      const name = `node-csr-${csrs.size}`;
      body.metadata = { name };
      csrs.set(name, { body, reads: 0 });
      return send(res, 201, body);
    }
    const name = path.startsWith(`${base}/`) ? path.slice(base.length + 1) : '';
    const csr = csrs.get(name);
    if (req.method === 'GET' && csr) {
      csr.reads++;
      if (csr.reads >= 2) {
        const spec = csr.body.spec as { request: string; usages: string[] };
        const pem = Buffer.from(spec.request, 'base64').toString();
        const problems = validateKubeletClientCsr(parseCertificateRequest(pem), spec.usages);
        if (problems.length > 0)
          return send(res, 200, {
            ...csr.body,
            status: { conditions: [{ type: 'Denied', status: 'True', message: problems.join('; ') }] },
          });
        const cert = await signCertificateRequest(ca, pem, { usages: ['digital signature', 'client auth'] });
        return send(res, 200, { ...csr.body, status: { certificate: Buffer.from(cert).toString('base64') } });
      }
      return send(res, 200, csr.body);
    }
    return send(res, 404, status(404, 'NotFound'));
  }

  before(async () => {
    ca = await createCertificateAuthority('k8ts-test-ca');
    server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });

  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('the CA is learned from a signed cluster-info, and refused when unsigned or signed with another token', async () => {
    assert.equal(await discoverClusterCA(url, TOKEN), ca.certPem);
    await assert.rejects(discoverClusterCA(url, 'abcdef.xxxxxxxxxxxxxxxx'), BootstrapError);
    signCluster = false;
    await assert.rejects(discoverClusterCA(url, TOKEN), /does not publish a signature.*--ca-file/);
    signCluster = true;
  });

  test('a node certificate comes from an approved CSR, is kept, and reused on the next start', async () => {
    const conn = await obtainNodeCredentials({
      server: url,
      token: TOKEN,
      nodeName: 'worker-1',
      dataDir: dir,
      pollMs: 20,
    });
    assert.ok(conn.clientCertPem?.includes('BEGIN CERTIFICATE'));
    assert.ok(conn.clientKeyPem?.includes('PRIVATE KEY'));
    assert.equal(conn.caPem, ca.certPem);
    const submitted = [...csrs.values()][0]?.body.spec as { signerName: string; usages: string[] };
    assert.equal(submitted.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
    assert.deepEqual(submitted.usages, ['digital signature', 'client auth']);
    assert.equal(statSync(nodeKubeconfigPath(dir)).mode & 0o777, 0o600);
    const before = requests;
    const again = await obtainNodeCredentials({
      server: url,
      token: TOKEN,
      nodeName: 'worker-1',
      dataDir: dir,
    });
    assert.equal(again.clientCertPem, conn.clientCertPem);
    assert.equal(requests, before, 'the kept certificate is used without asking the server');
  });
});
