import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { createCertificateAuthority, parseCertificateRequest, signCertificateRequest } from './certs.js';
import { createCertificateRequest } from './csr.js';

describe('createCertificateRequest (node:crypto DER)', () => {
  it('carries the subject groups, common name and alternative names', async () => {
    const { csrPem } = await createCertificateRequest('system:node:worker-1', ['system:nodes'], {
      dns: ['worker-1', 'worker-1.example'],
      ips: ['10.0.0.7', '::1', 'fd00::1:2', '::ffff:1.2.3.4'],
    });
    const info = parseCertificateRequest(csrPem);
    assert.equal(info.commonName, 'system:node:worker-1');
    assert.deepEqual(info.organizations, ['system:nodes']);
    assert.deepEqual(info.dnsNames, ['worker-1', 'worker-1.example']);
    assert.deepEqual(info.ipAddresses, ['10.0.0.7', '::1', 'fd00::1:2', '::ffff:102:304']);
  });

  it('is signed by its own key, as openssl verifies', async () => {
    const { csrPem } = await createCertificateRequest('system:node:n', ['system:nodes']);
    const out = execFileSync('openssl', ['req', '-verify', '-noout', '-text'], {
      input: csrPem,
      stdio: ['pipe', 'pipe', 'pipe'],
    }).toString();
    assert.match(out, /Subject: O\s*=\s*system:nodes, CN\s*=\s*system:node:n/);
    assert.match(out, /ecdsa-with-SHA256/);
  });

  it('is signed by the CA into a certificate for the request key', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const { csrPem, keyPem } = await createCertificateRequest('system:node:n', ['system:nodes'], {
      dns: ['n'],
      ips: ['127.0.0.1'],
    });
    const certPem = await signCertificateRequest(ca, csrPem, {
      usages: ['digital signature', 'server auth'],
    });
    const cert = new X509Certificate(certPem);
    assert.equal(cert.subject, 'O=system:nodes\nCN=system:node:n');
    assert.match(cert.subjectAltName ?? '', /DNS:n, IP Address:127.0.0.1/);
    const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    assert.deepEqual(cert.publicKey.export({ type: 'spki', format: 'der' }), fromKey);
  });

  it('refuses an address that is not an IP', async () => {
    await assert.rejects(
      createCertificateRequest('x', [], { dns: [], ips: ['not-an-ip'] }),
      /not an IP address/,
    );
  });
});
