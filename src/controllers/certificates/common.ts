// What the CSR approver and signer share (upstream's pkg/controller/certificates helpers).
import type { CertificateSigningRequest } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
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
