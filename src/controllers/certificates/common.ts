// What the CSR approver and signer share (upstream's pkg/controller/certificates helpers).
import type { CertificateSigningRequest } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { CertificateRequestInfo } from '../../pki/certs.js';
import { CONDITION_APPROVED, CONDITION_DENIED } from '../../api/kinds/certificate-signing-request.js';

export type CsrObj = CertificateSigningRequest & KubeObject;

export const KUBE_APISERVER_CLIENT_KUBELET_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';

/** Approved and not denied (upstream's IsCertificateRequestApproved). */
export function isApproved(csr: CsrObj): boolean {
  let approved = false;
  for (const c of csr.status?.conditions ?? []) {
    if (c.type === CONDITION_DENIED && c.status === 'True') return false;
    if (c.type === CONDITION_APPROVED && c.status === 'True') approved = true;
  }
  return approved;
}

export function approvalState(csr: CsrObj): { approved: boolean; denied: boolean } {
  const cs = csr.status?.conditions ?? [];
  return {
    approved: cs.some((c) => c.type === CONDITION_APPROVED),
    denied: cs.some((c) => c.type === CONDITION_DENIED),
  };
}

export function hasTrueCondition(csr: CsrObj, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** spec.request is base64 of a PEM block. */
export function requestPem(csr: CsrObj): string {
  return Buffer.from(csr.spec?.request ?? '', 'base64').toString('utf8');
}

export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

/**
 * Why a request is not a kubelet serving certificate request (undefined: it is); upstream's
 * ValidateKubeletServingCSR: O exactly system:nodes, CN system:node:*, a DNS or IP SAN and no email
 * or URI SANs, usages {digital signature, server auth} with or without key encipherment.
 */
export function kubeletServingValidationError(
  req: CertificateRequestInfo,
  usages: readonly string[],
): string | undefined {
  if (req.organizations.length !== 1 || req.organizations[0] !== 'system:nodes')
    return 'subject organization is not system:nodes';
  if (req.dnsNames.length === 0 && req.ipAddresses.length === 0)
    return 'DNS or IP subjectAltName is required';
  if (req.emailAddresses.length > 0) return 'Email subjectAltNames are not allowed';
  if (req.uris.length > 0) return 'URI subjectAltNames are not allowed';
  const set = new Set(usages);
  const required = ['digital signature', 'server auth'];
  const allowed = new Set([...required, 'key encipherment']);
  if (
    set.size !== usages.length ||
    !required.every((u) => set.has(u)) ||
    [...set].some((u) => !allowed.has(u))
  )
    return 'usages did not match [digital signature key encipherment server auth]';
  if (!req.commonName.startsWith('system:node:'))
    return 'subject common name does not begin with system:node:';
  return undefined;
}
