import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { KubeObject } from '../../api/meta.js';
import { CERTIFICATESIGNINGREQUESTS } from '../../client/typed-refs.js';
import {
  createCertificateAuthority,
  createCertificateRequest,
  type CertificateAuthority,
} from '../../pki/certs.js';
import { createLogger } from '../../util/log.js';
import { fakeInformer, put } from '../testing.js';
import { CsrApprover, IgnorableError, type AccessQuestion } from './approver.js';
import type { CsrObj } from './common.js';
import {
  certificateSigningRequestResource,
  csrApprovalStrategy,
  csrConditionText,
} from '../../api/kinds/certificate-signing-request.js';
import { CsrSigner, signerValidationError, signingDurationSeconds } from './signer.js';

const log = createLogger('test');
const KUBELET_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';

async function csrFor(
  name: string,
  cn: string,
  orgs: string[],
  spec: Partial<NonNullable<CsrObj['spec']>> = {},
  status?: CsrObj['status'],
): Promise<CsrObj> {
  const { csrPem } = await createCertificateRequest(cn, orgs);
  const obj: CsrObj = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: KUBELET_SIGNER,
      usages: ['digital signature', 'client auth'],
      username: 'system:bootstrap:abcdef',
      groups: ['system:bootstrappers', 'system:authenticated'],
      ...spec,
    },
  };
  if (status) obj.status = status;
  return obj;
}

const APPROVED: CsrObj['status'] = {
  conditions: [{ type: 'Approved', status: 'True', reason: 'AutoApproved', message: 'ok' }],
};

describe('CSR approver', () => {
  function setup(allow: (q: AccessQuestion) => boolean) {
    const csrs = fakeInformer<CsrObj>(CERTIFICATESIGNINGREQUESTS);
    const asked: AccessQuestion[] = [];
    const approved: CsrObj[] = [];
    const a = new CsrApprover({
      csrs: csrs.getLister(),
      client: {
        async subjectAccessReview(q) {
          await Promise.resolve();
          asked.push(q);
          return allow(q);
        },
        async updateApproval(csr) {
          await Promise.resolve();
          approved.push(csr);
        },
      },
      log,
    });
    return { csrs, asked, approved, a };
  }

  test('a bootstrap user asking for a node client certificate is approved after a nodeclient review', async () => {
    const t = setup((q) => q.subresource === 'nodeclient');
    put(t.csrs, await csrFor('c1', 'system:node:n1', ['system:nodes']));
    await t.a.sync('c1');
    assert.deepEqual(
      t.asked.map((q) => q.subresource),
      ['nodeclient'],
    );
    assert.deepEqual(t.asked[0], {
      user: 'system:bootstrap:abcdef',
      uid: undefined,
      groups: ['system:bootstrappers', 'system:authenticated'],
      extra: undefined,
      group: 'certificates.k8s.io',
      resource: 'certificatesigningrequests',
      subresource: 'nodeclient',
      verb: 'create',
      version: '*',
    });
    const cond = t.approved[0]!.status!.conditions![0]!;
    assert.equal(cond.type, 'Approved');
    assert.equal(cond.reason, 'AutoApproved');
    assert.equal(cond.message, 'Auto approving kubelet client certificate after SubjectAccessReview.');
  });

  test('a node renewing its own certificate is checked for selfnodeclient first', async () => {
    const t = setup((q) => q.subresource === 'selfnodeclient');
    put(
      t.csrs,
      await csrFor('c1', 'system:node:n1', ['system:nodes'], {
        username: 'system:node:n1',
        groups: ['system:nodes'],
      }),
    );
    await t.a.sync('c1');
    assert.deepEqual(
      t.asked.map((q) => q.subresource),
      ['selfnodeclient'],
    );
    assert.equal(
      t.approved[0]!.status!.conditions![0]!.message,
      'Auto approving self kubelet client certificate after SubjectAccessReview.',
    );
  });

  test('a recognized request the review refuses is an ignorable error', async () => {
    const t = setup(() => false);
    put(t.csrs, await csrFor('c1', 'system:node:n1', ['system:nodes']));
    await assert.rejects(
      t.a.sync('c1'),
      (err: unknown) =>
        err instanceof IgnorableError && /recognized csr "c1" as \[nodeclient\]/.test(err.message),
    );
    assert.equal(t.approved.length, 0);
  });

  test('requests that are not node client certificates, or already decided, are left alone', async () => {
    const t = setup(() => true);
    put(t.csrs, await csrFor('wrong-org', 'system:node:n1', ['developers']));
    put(t.csrs, await csrFor('wrong-cn', 'alice', ['system:nodes']));
    put(
      t.csrs,
      await csrFor('wrong-signer', 'system:node:n1', ['system:nodes'], {
        signerName: 'kubernetes.io/kube-apiserver-client',
      }),
    );
    put(
      t.csrs,
      await csrFor('wrong-usage', 'system:node:n1', ['system:nodes'], {
        usages: ['digital signature', 'server auth'],
      }),
    );
    put(
      t.csrs,
      await csrFor(
        'decided',
        'system:node:n1',
        ['system:nodes'],
        {},
        { conditions: [{ type: 'Denied', status: 'True' }] },
      ),
    );
    for (const n of ['wrong-org', 'wrong-cn', 'wrong-signer', 'wrong-usage', 'decided', 'absent'])
      await t.a.sync(n);
    assert.deepEqual(t.asked, []);
    assert.deepEqual(t.approved, []);
  });
});

describe('CSR signer', () => {
  let ca: CertificateAuthority;
  before(async () => {
    ca = await createCertificateAuthority('test-ca');
  });

  function setup() {
    const csrs = fakeInformer<CsrObj>(CERTIFICATESIGNINGREQUESTS);
    const written: CsrObj[] = [];
    const s = new CsrSigner({
      csrs: csrs.getLister(),
      client: {
        async updateStatus(csr) {
          await Promise.resolve();
          written.push(csr);
        },
      },
      ca,
      log,
      certTtlSeconds: 3600,
    });
    return { csrs, written, s };
  }

  test('signs an approved kubelet client request with the CA', async () => {
    const t = setup();
    put(t.csrs, await csrFor('c1', 'system:node:n1', ['system:nodes'], {}, APPROVED));
    await t.s.sync('c1');
    const cert = new X509Certificate(Buffer.from(t.written[0]!.status!.certificate!, 'base64'));
    assert.match(cert.subject, /CN=system:node:n1/);
    assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
    const hours = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 3_600_000;
    assert.ok(hours > 1 && hours < 1.2, `validity ${hours} h`);
    assert.equal(t.written[0]!.status!.conditions![0]!.type, 'Approved');
  });

  test('signs kube-apiserver-client requests, fails invalid ones with SignerValidationFailure', async () => {
    const t = setup();
    put(
      t.csrs,
      await csrFor('ok', 'alice', ['devs'], { signerName: 'kubernetes.io/kube-apiserver-client' }, APPROVED),
    );
    put(
      t.csrs,
      await csrFor(
        'bad',
        'alice',
        ['devs'],
        { signerName: 'kubernetes.io/kube-apiserver-client', usages: ['server auth'] },
        APPROVED,
      ),
    );
    await t.s.sync('ok');
    await t.s.sync('bad');
    assert.ok(t.written[0]!.status!.certificate);
    const failed = t.written[1]!.status!.conditions!.find((c) => c.type === 'Failed')!;
    assert.equal(failed.reason, 'SignerValidationFailure');
    assert.equal(failed.message, 'invalid usage for client certificate: server auth');
    assert.equal(t.written[1]!.status!.certificate, undefined);
  });

  test("ignores pending, denied, failed, issued and other signers' requests", async () => {
    const t = setup();
    put(t.csrs, await csrFor('pending', 'system:node:n1', ['system:nodes']));
    put(
      t.csrs,
      await csrFor(
        'denied',
        'system:node:n1',
        ['system:nodes'],
        {},
        {
          conditions: [
            { type: 'Approved', status: 'True' },
            { type: 'Denied', status: 'True' },
          ],
        },
      ),
    );
    put(
      t.csrs,
      await csrFor(
        'failed',
        'system:node:n1',
        ['system:nodes'],
        {},
        {
          conditions: [
            { type: 'Approved', status: 'True' },
            { type: 'Failed', status: 'True' },
          ],
        },
      ),
    );
    put(
      t.csrs,
      await csrFor('issued', 'system:node:n1', ['system:nodes'], {}, { ...APPROVED, certificate: 'eA==' }),
    );
    put(
      t.csrs,
      await csrFor('other', 'system:node:n1', ['system:nodes'], { signerName: 'example.com/x' }, APPROVED),
    );
    for (const n of ['pending', 'denied', 'failed', 'issued', 'other']) await t.s.sync(n);
    assert.deepEqual(t.written, []);
  });

  test('validity and validation rules', () => {
    assert.equal(signingDurationSeconds(3600, undefined), 3600);
    assert.equal(signingDurationSeconds(3600, 7200), 3600);
    assert.equal(signingDurationSeconds(3600, 60), 600);
    assert.equal(signingDurationSeconds(3600, 1800), 1800);
    const info = {
      commonName: 'x',
      organizations: [],
      dnsNames: [],
      ipAddresses: [],
      emailAddresses: [],
      uris: [],
    };
    assert.equal(
      signerValidationError('kubernetes.io/kube-apiserver-client', info, ['digital signature']),
      'missing required usage for client certificate: client auth',
    );
    assert.equal(
      signerValidationError('kubernetes.io/kube-apiserver-client-kubelet', info, ['client auth']),
      'subject organization is not system:nodes',
    );
  });
});

describe('CertificateSigningRequest kind', () => {
  test('status updates keep the spec; approval may not both approve and deny', () => {
    const st = certificateSigningRequestResource.strategy!;
    const old: KubeObject = {
      apiVersion: 'v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'x' },
      spec: { request: 'a' },
      status: {},
    };
    const next: KubeObject = {
      ...structuredClone(old),
      spec: { request: 'changed' },
      status: {
        conditions: [
          { type: 'Approved', status: 'True' },
          { type: 'Denied', status: 'True' },
        ],
      },
    };
    st.prepareForStatusUpdate!(next, old);
    assert.deepEqual(next.spec, { request: 'a' });
    assert.ok(st.validateStatusUpdate!(next, old).some((e) => /mutually exclusive/.test(e.detail ?? '')));
    const appr: KubeObject = {
      ...structuredClone(old),
      status: { certificate: 'c', conditions: [{ type: 'Approved', status: 'True' }] },
    };
    csrApprovalStrategy.prepareForUpdate(appr, old);
    assert.equal((appr.status as { certificate?: string }).certificate, undefined);
    assert.equal(csrConditionText(appr), 'Approved');
    assert.equal(
      csrConditionText({ ...appr, status: { ...(appr.status as object), certificate: 'x' } }),
      'Approved,Issued',
    );
    assert.equal(csrConditionText(old), 'Pending');
  });
});
