// The CSR signer (upstream's pkg/controller/certificates/signer, "csrsigning"): approved requests
// addressed to kubernetes.io/kube-apiserver-client-kubelet, kubernetes.io/kube-apiserver-client or
// kubernetes.io/kubelet-serving (nodes' serving certificates, which the API server checks against the
// cluster CA when it connects to a node) are signed with the cluster CA and the certificate written to status.certificate through the
// status subresource. A request that does not satisfy its signer's rules gets a Failed condition
// (reason SignerValidationFailure) instead. The validity is the signer's (a year by default), or
// the requested expirationSeconds when shorter (never under 10 minutes).
import type { KubeObject } from '../../api/meta.js';
import type { Lister, ResourceEventHandler } from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import {
  parseCertificateRequest,
  signCertificateRequest,
  validateKubeletClientCsr,
  type CertificateAuthority,
  type CertificateRequestInfo,
  type KeyUsage,
} from '../../pki/certs.js';
import { formatTime, realClock, type Clock } from '../common/clock.js';
import {
  hasTrueCondition,
  isApproved,
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBE_APISERVER_CLIENT_SIGNER,
  KUBELET_SERVING_SIGNER,
  kubeletServingValidationError,
  requestPem,
  type CsrObj,
} from './common.js';
import { CONDITION_FAILED } from '../../api/kinds/certificate-signing-request.js';

const signedTotal = metrics.counter(
  'k8ts_csr_signer_signed_total',
  'Certificates issued by the CSR signer, by signer name.',
);

/** Upstream's --cluster-signing-duration default (8760h). */
export const DEFAULT_CERT_TTL_SECONDS = 365 * 24 * 3600;
const MIN_DURATION_SECONDS = 600;

export const SIGNER_NAMES: readonly string[] = [
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBE_APISERVER_CLIENT_SIGNER,
  KUBELET_SERVING_SIGNER,
];

export interface SignerClient {
  updateStatus(csr: CsrObj): Promise<void>;
}

/** Why a request does not satisfy its signer (undefined: it does); upstream's isRequestForSignerFn errors. */
export function signerValidationError(
  signerName: string,
  req: CertificateRequestInfo,
  usages: readonly string[],
): string | undefined {
  if (signerName === KUBE_APISERVER_CLIENT_KUBELET_SIGNER) return validateKubeletClientCsr(req, usages)[0];
  if (signerName === KUBELET_SERVING_SIGNER) return kubeletServingValidationError(req, usages);
  if (signerName === KUBE_APISERVER_CLIENT_SIGNER) {
    let clientAuth = false;
    for (const u of usages) {
      if (u === 'digital signature' || u === 'key encipherment') continue;
      if (u === 'client auth') clientAuth = true;
      else return `invalid usage for client certificate: ${u}`;
    }
    return clientAuth ? undefined : 'missing required usage for client certificate: client auth';
  }
  return `unrecognized signerName: "${signerName}"`;
}

/** Seconds of validity: the requested duration when shorter than the TTL, at least 10 minutes. */
export function signingDurationSeconds(ttlSeconds: number, expirationSeconds: number | undefined): number {
  if (expirationSeconds === undefined) return ttlSeconds;
  if (expirationSeconds > ttlSeconds) return ttlSeconds;
  if (expirationSeconds < MIN_DURATION_SECONDS) return MIN_DURATION_SECONDS;
  return expirationSeconds;
}

export interface CsrSignerOptions {
  csrs: Lister<CsrObj>;
  client: SignerClient;
  ca: CertificateAuthority;
  log: Logger;
  /** Signer names handled (default: the two client signers and kubelet-serving). */
  signerNames?: readonly string[];
  certTtlSeconds?: number;
  clock?: Clock;
}

export class CsrSigner {
  private readonly signers: ReadonlySet<string>;
  private readonly clock: Clock;

  constructor(private readonly o: CsrSignerOptions) {
    this.signers = new Set(o.signerNames ?? SIGNER_NAMES);
    this.clock = o.clock ?? realClock;
  }

  handlers(enqueue: (name: string) => void): ResourceEventHandler<CsrObj> {
    const on = (csr: KubeObject): void => enqueue(csr.metadata.name ?? '');
    return { onAdd: on, onUpdate: (_old, csr) => on(csr) };
  }

  async sync(name: string): Promise<void> {
    const csr = this.o.csrs.get(undefined, name);
    if (!csr || csr.status?.certificate) return;
    if (!isApproved(csr) || hasTrueCondition(csr, CONDITION_FAILED)) return;
    const signerName = csr.spec?.signerName ?? '';
    if (!this.signers.has(signerName)) return;
    let req: CertificateRequestInfo;
    const pem = requestPem(csr);
    try {
      req = parseCertificateRequest(pem);
    } catch (err) {
      throw new Error(`unable to parse csr "${name}": ${err instanceof Error ? err.message : String(err)}`);
    }
    const usages = csr.spec?.usages ?? [];
    const invalid = signerValidationError(signerName, req, usages);
    if (invalid !== undefined) {
      const copy = structuredClone(csr);
      copy.status = {
        ...(copy.status ?? {}),
        conditions: [
          ...(copy.status?.conditions ?? []),
          {
            type: CONDITION_FAILED,
            status: 'True',
            reason: 'SignerValidationFailure',
            message: invalid,
            lastUpdateTime: formatTime(this.clock.now()),
          },
        ],
      };
      try {
        await this.o.client.updateStatus(copy);
      } catch (err) {
        throw new Error(
          `error adding failure condition for csr: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      return;
    }
    let certPem: string;
    try {
      const seconds = signingDurationSeconds(
        this.o.certTtlSeconds ?? DEFAULT_CERT_TTL_SECONDS,
        csr.spec?.expirationSeconds,
      );
      certPem = await signCertificateRequest(this.o.ca, pem, {
        usages: usages as KeyUsage[],
        durationDays: seconds / 86400,
      });
    } catch (err) {
      throw new Error(`error auto signing csr: ${err instanceof Error ? err.message : String(err)}`);
    }
    const copy = structuredClone(csr);
    copy.status = { ...(copy.status ?? {}), certificate: Buffer.from(certPem, 'utf8').toString('base64') };
    try {
      await this.o.client.updateStatus(copy);
    } catch (err) {
      throw new Error(
        `error updating signature for csr: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    signedTotal.inc({ signer: signerName });
    this.o.log.info('signed certificate signing request', { csr: name, signer: signerName });
  }
}
