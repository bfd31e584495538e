import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/meta.js';
import { csrRequesterAdmission } from './csr-requester.js';

test('the requester admission records who asks', () => {
  const obj: KubeObject = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'x' },
    spec: { username: 'forged' },
  };
  csrRequesterAdmission.admit({
    operation: 'CREATE',
    resource: { group: 'certificates.k8s.io', kind: 'CertificateSigningRequest' },
    subresource: '',
    object: obj,
    user: { name: 'system:bootstrap:abc', groups: ['system:bootstrappers'] },
  });
  assert.deepEqual(obj.spec, { username: 'system:bootstrap:abc', groups: ['system:bootstrappers'] });
});
