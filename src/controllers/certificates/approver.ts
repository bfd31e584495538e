// The CSR approver (upstream's pkg/controller/certificates/approver, "csrapproving"): kubelet
// client certificate requests (signer kubernetes.io/kube-apiserver-client-kubelet, O=system:nodes,
// CN=system:node:<name>, no SANs, client usages) are approved when a SubjectAccessReview says the
// requester may create certificatesigningrequests/selfnodeclient (a node renewing its own
// certificate: CN equals the requesting user) or certificatesigningrequests/nodeclient (a
// bootstrap user, system:bootstrap:<token id>, asking for a node's first certificate — the RBAC
// bootstrap policy grants that to system:bootstrappers). Anything else is left for someone else.
//
// Kubelet serving certificates (signer kubernetes.io/kubelet-serving) upstream leaves to an
// administrator; k3s signs its agents' serving certificates itself, and so do we, but only for a
// request a node makes for itself: requester system:node:<name> with CN system:node:<name>, O
// system:nodes, and every SAN one of that Node's own names or addresses as its status reports them.
// A node can thus get a certificate for nothing but itself: it cannot pose as another node or claim
// an address the cluster does not already route to it.
import type { KubeObject } from '../../api/meta.js';
import type { ResourceEventHandler } from '../../client/informer.js';
import type { Lister } from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { formatTime, realClock, type Clock } from '../common/clock.js';
import {
  parseCertificateRequest,
  validateKubeletClientCsr,
  type CertificateRequestInfo,
} from '../../pki/certs.js';
import type { Node } from '../../api/generated/types.js';
import { normalizeIp } from '../../pki/certs.js';
import {
  approvalState,
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBELET_SERVING_SIGNER,
  kubeletServingValidationError,
  requestPem,
  type CsrObj,
} from './common.js';
import { CONDITION_APPROVED } from '../../api/kinds/certificate-signing-request.js';

const approvedTotal = metrics.counter(
  'k8ts_csr_approver_approved_total',
  'CSRs the approver approved, by recognizer.',
);

/** What a SubjectAccessReview asks about. */
export interface AccessQuestion {
  user: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
  group: string;
  resource: string;
  subresource: string;
  verb: string;
  version: string;
}

export interface ApproverClient {
  /** Creates a SubjectAccessReview; resolves with status.allowed. */
  subjectAccessReview(q: AccessQuestion): Promise<boolean>;
  /** Writes the approval (through certificatesigningrequests/approval). */
  updateApproval(csr: CsrObj): Promise<void>;
}

interface Recognizer {
  readonly subresource: string;
  readonly successMessage: string;
  recognize(csr: CsrObj, req: CertificateRequestInfo): boolean;
}

function isNodeClientCert(csr: CsrObj, req: CertificateRequestInfo): boolean {
  if (csr.spec?.signerName !== KUBE_APISERVER_CLIENT_KUBELET_SIGNER) return false;
  return validateKubeletClientCsr(req, csr.spec?.usages ?? []).length === 0;
}

/** Upstream's recognizers, most specific first. */
const RECOGNIZERS: readonly Recognizer[] = [
  {
    subresource: 'selfnodeclient',
    successMessage: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
    recognize: (csr, req) => isNodeClientCert(csr, req) && csr.spec?.username === req.commonName,
  },
  {
    subresource: 'nodeclient',
    successMessage: 'Auto approving kubelet client certificate after SubjectAccessReview.',
    recognize: (csr, req) => isNodeClientCert(csr, req),
  },
];

/** Retried with back-off but not worth a warning (upstream's IgnorableError). */
export class IgnorableError extends Error {}

export interface CsrApproverOptions {
  csrs: Lister<CsrObj>;
  /** Nodes, to check a serving certificate request against its node (absent: none is approved). */
  nodes?: Lister<Node>;
  client: ApproverClient;
  log: Logger;
  clock?: Clock;
}

export class CsrApprover {
  private readonly clock: Clock;

  constructor(private readonly o: CsrApproverOptions) {
    this.clock = o.clock ?? realClock;
  }

  handlers(enqueue: (name: string) => void): ResourceEventHandler<CsrObj> {
    const on = (csr: KubeObject): void => enqueue(csr.metadata.name ?? '');
    return { onAdd: on, onUpdate: (_old, csr) => on(csr) };
  }

  async sync(name: string): Promise<void> {
    const csr = this.o.csrs.get(undefined, name);
    if (!csr) return;
    if (csr.status?.certificate) return;
    const { approved, denied } = approvalState(csr);
    if (approved || denied) return;
    let req: CertificateRequestInfo;
    try {
      req = parseCertificateRequest(requestPem(csr));
    } catch (err) {
      throw new Error(`unable to parse csr "${name}": ${err instanceof Error ? err.message : String(err)}`);
    }
    if (csr.spec?.signerName === KUBELET_SERVING_SIGNER) {
      await this.approveKubeletServing(csr, req);
      return;
    }
    const tried: string[] = [];
    for (const r of RECOGNIZERS) {
      if (!r.recognize(csr, req)) continue;
      tried.push(r.subresource);
      const allowed = await this.o.client.subjectAccessReview({
        user: csr.spec?.username ?? '',
        uid: csr.spec?.uid,
        groups: csr.spec?.groups ?? [],
        extra: csr.spec?.extra,
        group: 'certificates.k8s.io',
        resource: 'certificatesigningrequests',
        subresource: r.subresource,
        verb: 'create',
        version: '*',
      });
      if (!allowed) continue;
      await this.approve(csr, r.subresource, r.successMessage);
      return;
    }
    if (tried.length > 0)
      throw new IgnorableError(
        `recognized csr "${name}" as [${tried.join(' ')}] but subject access review was not approved`,
      );
  }

  private async approve(csr: CsrObj, recognizer: string, message: string): Promise<void> {
    const copy = structuredClone(csr);
    const now = formatTime(this.clock.now());
    copy.status = {
      ...(copy.status ?? {}),
      conditions: [
        ...(copy.status?.conditions ?? []),
        {
          type: CONDITION_APPROVED,
          status: 'True',
          reason: 'AutoApproved',
          message,
          lastUpdateTime: now,
          lastTransitionTime: now,
        },
      ],
    };
    try {
      await this.o.client.updateApproval(copy);
    } catch (err) {
      throw new Error(`error updating approval for csr: ${err instanceof Error ? err.message : String(err)}`);
    }
    approvedTotal.inc({ recognizer });
    this.o.log.info('approved certificate signing request', {
      csr: csr.metadata.name,
      as: recognizer,
      requestor: csr.spec?.username,
    });
  }

  /** Why a serving request is not one a node makes for itself (undefined: it is); see the file comment. */
  kubeletServingMismatch(csr: CsrObj, req: CertificateRequestInfo): string | undefined {
    const invalid = kubeletServingValidationError(req, csr.spec?.usages ?? []);
    if (invalid !== undefined) return invalid;
    const user = csr.spec?.username ?? '';
    if (user !== req.commonName) return `requester ${user} is not the subject ${req.commonName}`;
    if (!(csr.spec?.groups ?? []).includes('system:nodes')) return `requester ${user} is not in system:nodes`;
    const nodeName = req.commonName.slice('system:node:'.length);
    const node = this.o.nodes?.get(undefined, nodeName);
    if (!node) return `node ${nodeName} not found`;
    const addresses = node.status?.addresses ?? [];
    const names = new Set([
      nodeName,
      ...addresses.filter((a) => a.type.endsWith('DNS') || a.type === 'Hostname').map((a) => a.address),
    ]);
    const ips = new Set(
      addresses
        .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
        .map((a) => normalizeIp(a.address)),
    );
    const strayName = req.dnsNames.find((d) => !names.has(d));
    if (strayName !== undefined) return `DNS name ${strayName} is not one of node ${nodeName}'s names`;
    const strayIp = req.ipAddresses.find((ip) => !ips.has(normalizeIp(ip)));
    if (strayIp !== undefined) return `IP address ${strayIp} is not one of node ${nodeName}'s addresses`;
    return undefined;
  }

  private async approveKubeletServing(csr: CsrObj, req: CertificateRequestInfo): Promise<void> {
    const mismatch = this.kubeletServingMismatch(csr, req);
    if (mismatch === undefined) {
      await this.approve(
        csr,
        'kubelet-serving',
        "Auto approving kubelet serving certificate: the node's own name and addresses.",
      );
      return;
    }
    // The node may not have reported its addresses yet: look again with back-off; an administrator
    // can still approve or deny it by hand.
    throw new IgnorableError(`csr "${csr.metadata.name ?? ''}" not auto-approved: ${mismatch}`);
  }
}
