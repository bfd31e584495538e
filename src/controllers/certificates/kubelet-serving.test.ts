import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { Node } from '../../api/generated/types.js';
import { CERTIFICATESIGNINGREQUESTS, NODES } from '../../client/typed-refs.js';
import {
  certificateSans,
  createCertificateAuthority,
  createCertificateRequest,
  type CertificateAuthority,
  type SubjectAltNames,
} from '../../pki/certs.js';
import { createLogger } from '../../util/log.js';
import { fakeInformer, put } from '../testing.js';
import { CsrApprover, IgnorableError } from './approver.js';
import { KUBELET_SERVING_SIGNER, type CsrObj } from './common.js';
import { CsrSigner } from './signer.js';

const log = createLogger('test');
const SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];

async function servingCsr(
  name: string,
  nodeName: string,
  sans: SubjectAltNames,
  spec: Partial<NonNullable<CsrObj['spec']>> = {},
  subject: { cn?: string; orgs?: string[] } = {},
): Promise<CsrObj> {
  const { csrPem } = await createCertificateRequest(
    subject.cn ?? `system:node:${nodeName}`,
    subject.orgs ?? ['system:nodes'],
    sans,
  );
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: KUBELET_SERVING_SIGNER,
      usages: SERVING_USAGES,
      username: `system:node:${nodeName}`,
      groups: ['system:nodes', 'system:authenticated'],
      ...spec,
    },
  };
}

function node(name: string, ip: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: {
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
    },
  };
}

describe('kubelet serving certificates', () => {
  let ca: CertificateAuthority;
  before(async () => {
    ca = await createCertificateAuthority('test-ca');
  });

  function setup() {
    const csrs = fakeInformer<CsrObj>(CERTIFICATESIGNINGREQUESTS);
    const nodes = fakeInformer<Node>(NODES);
    put(nodes, node('worker', '192.168.5.7'));
    const approved: CsrObj[] = [];
    const approver = new CsrApprover({
      csrs: csrs.getLister(),
      nodes: nodes.getLister(),
      client: {
        subjectAccessReview: () => Promise.reject(new Error('no review expected')),
        async updateApproval(csr) {
          await Promise.resolve();
          approved.push(csr);
        },
      },
      log,
    });
    return { csrs, approved, approver };
  }

  test("a node's request for its own names and addresses is approved and then signed with them", async () => {
    const t = setup();
    put(t.csrs, await servingCsr('s1', 'worker', { dns: ['worker'], ips: ['192.168.5.7'] }));
    await t.approver.sync('s1');
    const cond = t.approved[0]?.status?.conditions?.[0];
    assert.equal(cond?.type, 'Approved');
    assert.equal(cond?.reason, 'AutoApproved');

    const signed: CsrObj[] = [];
    const csrs = fakeInformer<CsrObj>(CERTIFICATESIGNINGREQUESTS);
    put(csrs, t.approved[0]!);
    const signer = new CsrSigner({
      csrs: csrs.getLister(),
      client: {
        async updateStatus(csr) {
          await Promise.resolve();
          signed.push(csr);
        },
      },
      ca,
      log,
    });
    await signer.sync('s1');
    const pem = Buffer.from(signed[0]!.status!.certificate!, 'base64').toString('utf8');
    const cert = new X509Certificate(pem);
    assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
    assert.match(cert.subject, /CN=system:node:worker/);
    assert.deepEqual(certificateSans(pem), { dns: ['worker'], ips: ['192.168.5.7'] });
    assert.ok(cert.checkIP('192.168.5.7'));
  });

  const refused: Array<[string, () => Promise<CsrObj>, RegExp]> = [
    [
      'an address the node does not have',
      () => servingCsr('x', 'worker', { dns: ['worker'], ips: ['10.0.0.1'] }),
      /IP address 10.0.0.1 is not one of node worker's addresses/,
    ],
    [
      'a name the node does not have',
      () => servingCsr('x', 'worker', { dns: ['kubernetes.default'], ips: [] }),
      /DNS name kubernetes.default is not one of node worker's names/,
    ],
    [
      'another node asking for it',
      () => servingCsr('x', 'worker', { dns: ['worker'], ips: [] }, { username: 'system:node:other' }),
      /requester system:node:other is not the subject system:node:worker/,
    ],
    [
      'a node that does not exist',
      () => servingCsr('x', 'ghost', { dns: ['ghost'], ips: [] }),
      /node ghost not found/,
    ],
    [
      'client usages',
      () =>
        servingCsr(
          'x',
          'worker',
          { dns: ['worker'], ips: [] },
          { usages: ['digital signature', 'client auth'] },
        ),
      /usages did not match/,
    ],
    [
      'another organization',
      () => servingCsr('x', 'worker', { dns: ['worker'], ips: [] }, {}, { orgs: ['system:masters'] }),
      /subject organization is not system:nodes/,
    ],
  ];
  for (const [what, make, message] of refused) {
    test(`not approved: ${what}`, async () => {
      const t = setup();
      put(t.csrs, await make());
      await assert.rejects(t.approver.sync('x'), (err: unknown) => {
        assert.ok(err instanceof IgnorableError);
        assert.match(err.message, message);
        return true;
      });
      assert.equal(t.approved.length, 0);
    });
  }
});
