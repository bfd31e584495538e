import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  createCertificateAuthority,
  createCertificateRequest,
  parseCertificateRequest,
  signCertificateRequest,
  validateKubeletClientCsr,
} from './certs.js';
import { ensureClusterPki, firstIpOfCidr } from './cluster.js';
import { renderKubeconfig, writeKubeconfig } from './kubeconfig.js';
import { BOOTSTRAP_TOKEN_PATTERN, bootstrapTokenSecret, ensureNodeToken, randomToken } from './tokens.js';

describe('cluster PKI', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8ts-pki-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a CA whose serving and admin certificates chain to it', async () => {
    const pki = await ensureClusterPki(dir, { sans: { dns: ['api.example.com'], ips: ['192.0.2.10'] } });
    const ca = new X509Certificate(pki.ca.certPem);
    assert.ok(ca.ca, 'CA certificate has basicConstraints CA:TRUE');
    const serving = new X509Certificate(pki.serving.certPem);
    assert.ok(serving.checkIssued(ca));
    assert.ok(serving.verify(ca.publicKey));
    const san = serving.subjectAltName ?? '';
    for (const name of [
      'DNS:localhost',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      'DNS:kubernetes.default.svc.cluster.local',
      'DNS:api.example.com',
      'IP Address:127.0.0.1',
      'IP Address:10.43.0.1',
      'IP Address:192.0.2.10',
    ]) {
      assert.ok(san.includes(name), `SAN ${name} in ${san}`);
    }
    assert.ok(serving.checkHost('kubernetes.default.svc'));
    assert.ok(serving.checkIP('::1'));
    assert.equal(serving.checkIP('198.51.100.1'), undefined);
    const admin = new X509Certificate(pki.admin.certPem);
    assert.ok(admin.verify(ca.publicKey));
    assert.match(admin.subject, /CN=system:admin/);
    assert.match(admin.subject, /O=system:masters/);
    assert.deepEqual(admin.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.deepEqual(serving.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  });

  it('writes private files 0600 in a 0700 directory', async () => {
    const d = await stat(join(dir, 'pki'));
    assert.equal(d.mode & 0o777, 0o700);
    for (const f of ['ca.key', 'ca.crt', 'serving-kube-apiserver.key', 'client-admin.key', 'service.key']) {
      const s = await stat(join(dir, 'pki', f));
      assert.equal(s.mode & 0o777, 0o600, f);
    }
  });

  it('reuses material on a later start and re-issues the serving certificate when SANs grow', async () => {
    const first = await ensureClusterPki(dir, { sans: { dns: ['api.example.com'], ips: ['192.0.2.10'] } });
    const second = await ensureClusterPki(dir, { sans: { dns: ['api.example.com'], ips: ['192.0.2.10'] } });
    assert.equal(second.ca.certPem, first.ca.certPem);
    assert.equal(second.serving.certPem, first.serving.certPem);
    assert.equal(second.admin.certPem, first.admin.certPem);
    assert.equal(second.serviceAccountKey.privateKeyPem, first.serviceAccountKey.privateKeyPem);
    const third = await ensureClusterPki(dir, { sans: { dns: ['other.example.com'], ips: ['2001:db8::5'] } });
    assert.equal(third.ca.certPem, first.ca.certPem);
    assert.notEqual(third.serving.certPem, first.serving.certPem);
    const san = new X509Certificate(third.serving.certPem).subjectAltName ?? '';
    assert.ok(san.includes('DNS:other.example.com'));
    assert.ok(new X509Certificate(third.serving.certPem).checkIP('2001:db8::5'));
    assert.equal(
      await readFile(join(dir, 'pki', 'serving-kube-apiserver.crt'), 'utf8'),
      third.serving.certPem,
    );
  });

  it('computes the first address of the service CIDR', () => {
    assert.equal(firstIpOfCidr('10.43.0.0/16'), '10.43.0.1');
    assert.equal(firstIpOfCidr('10.96.12.0/12'), '10.96.0.1');
    assert.equal(firstIpOfCidr('fd00:10:96::/112'), 'fd00:0010:0096:0000:0000:0000:0000:0001');
  });
});

describe('CSR signer', () => {
  it('signs a node client CSR with the requested usages and keeps subject and SANs', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const { csrPem } = await createCertificateRequest('system:node:worker-1', ['system:nodes'], {
      dns: ['worker-1'],
      ips: ['192.0.2.20'],
    });
    const info = parseCertificateRequest(csrPem);
    assert.equal(info.commonName, 'system:node:worker-1');
    assert.deepEqual(info.organizations, ['system:nodes']);
    assert.deepEqual(info.dnsNames, ['worker-1']);
    const certPem = await signCertificateRequest(ca, csrPem, {
      usages: ['digital signature', 'key encipherment', 'client auth'],
      durationDays: 30,
    });
    const cert = new X509Certificate(certPem);
    const caCert = new X509Certificate(ca.certPem);
    assert.ok(cert.checkIssued(caCert) && cert.verify(caCert.publicKey));
    assert.match(cert.subject, /CN=system:node:worker-1/);
    assert.match(cert.subject, /O=system:nodes/);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.ok(cert.checkIP('192.0.2.20'));
    const days = (new Date(cert.validTo).getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 29 && days <= 30.01, `validity ${days} days`);
  });

  it('recognises kubelet client CSRs', async () => {
    const good = parseCertificateRequest(
      (await createCertificateRequest('system:node:w1', ['system:nodes'])).csrPem,
    );
    assert.deepEqual(
      validateKubeletClientCsr(good, ['digital signature', 'key encipherment', 'client auth']),
      [],
    );
    assert.deepEqual(validateKubeletClientCsr(good, ['digital signature', 'server auth']), [
      'usages did not match [digital signature client auth key encipherment]',
    ]);
    const bad = parseCertificateRequest(
      (await createCertificateRequest('alice', ['system:masters'], { dns: ['x'], ips: [] })).csrPem,
    );
    assert.deepEqual(validateKubeletClientCsr(bad, ['digital signature', 'client auth']), [
      'subject organization is not system:nodes',
      'subject common name does not begin with system:node:',
      'DNS subjectAltNames are not allowed',
    ]);
  });

  it('rejects a CSR whose signature does not match', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const { csrPem } = await createCertificateRequest('x');
    const body = csrPem
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'))
      .join('');
    const der = Buffer.from(body, 'base64');
    const last = der.length - 1;
    der[last] = (der[last] ?? 0) ^ 0xff;
    const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(signCertificateRequest(ca, tampered, { usages: ['client auth'] }));
  });
});

describe('kubeconfig', () => {
  it('renders a document kubectl understands', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'k8ts-kc-'));
    try {
      const path = join(dir, 'sub', 'admin.yaml');
      await writeKubeconfig(path, {
        server: 'https://127.0.0.1:6443',
        caPem: 'CA',
        clientCertPem: 'CERT',
        clientKeyPem: 'KEY',
        userName: 'admin',
        clusterName: 'k8ts',
        contextName: 'k8ts',
      });
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      const doc = parse(await readFile(path, 'utf8')) as {
        apiVersion: string;
        kind: string;
        'current-context': string;
        clusters: { name: string; cluster: Record<string, string> }[];
        users: { name: string; user: Record<string, string> }[];
        contexts: { name: string; context: Record<string, string> }[];
      };
      assert.equal(doc.apiVersion, 'v1');
      assert.equal(doc.kind, 'Config');
      assert.equal(doc['current-context'], 'k8ts');
      assert.equal(doc.clusters[0]?.cluster['server'], 'https://127.0.0.1:6443');
      assert.equal(
        Buffer.from(doc.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(),
        'CA',
      );
      assert.equal(Buffer.from(doc.users[0]?.user['client-key-data'] ?? '', 'base64').toString(), 'KEY');
      assert.deepEqual(doc.contexts[0]?.context, { cluster: 'k8ts', user: 'admin' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('supports token users', () => {
    const doc = parse(
      renderKubeconfig({ server: 'https://h:6443', caPem: 'CA', token: 'abcdef.0123456789abcdef' }),
    ) as {
      users: { user: Record<string, string> }[];
    };
    assert.deepEqual(doc.users[0]?.user, { token: 'abcdef.0123456789abcdef' });
  });
});

describe('tokens', () => {
  it('generates random tokens from [a-z0-9]', () => {
    const t = randomToken(64);
    assert.match(t, /^[a-z0-9]{64}$/);
    assert.notEqual(randomToken(16), randomToken(16));
  });

  it('creates the node token once and reuses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'k8ts-tok-'));
    try {
      const a = await ensureNodeToken(join(dir, 'data'));
      assert.match(a.token, BOOTSTRAP_TOKEN_PATTERN);
      const b = await ensureNodeToken(join(dir, 'data'));
      assert.equal(b.token, a.token);
      assert.equal((await stat(join(dir, 'data', 'node-token'))).mode & 0o777, 0o600);
      const secret = bootstrapTokenSecret(a, {
        extraGroups: ['system:bootstrappers:k8ts:default-node-token'],
      });
      assert.equal(secret.metadata.name, `bootstrap-token-${a.id}`);
      assert.equal(secret['type'], 'bootstrap.kubernetes.io/token');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
