// Records who asks for a certificate: on create of a CertificateSigningRequest, spec.username, uid,
// groups and extra come from the requesting user, as upstream's strategy does from the request context.
import { isPlainObject, type KubeObject } from '../../api/meta.js';

type Obj = Record<string, unknown>;

/** The parts of an admission request csrRequesterAdmission reads (structurally the server's AdmissionRequest). */
export interface CsrAdmissionRequest {
  readonly operation: string;
  readonly resource: { readonly group: string; readonly kind: string };
  readonly subresource: string;
  readonly object?: KubeObject;
  readonly user: {
    readonly name: string;
    readonly uid?: string;
    readonly groups: readonly string[];
    readonly extra?: Readonly<Record<string, readonly string[]>>;
  };
}

/**
 * A mutating admission plugin for the server's admission chain: on create of a
 * CertificateSigningRequest, records who asks (spec.username, uid, groups, extra), as upstream's
 * strategy does from the request context.
 */
export const csrRequesterAdmission = {
  name: 'CertificateSigningRequestRequester',
  admit(req: CsrAdmissionRequest): void {
    if (req.operation !== 'CREATE' || req.subresource !== '' || !req.object) return;
    if (req.resource.group !== 'certificates.k8s.io' || req.resource.kind !== 'CertificateSigningRequest')
      return;
    const s: Obj = isPlainObject(req.object.spec) ? req.object.spec : {};
    s.username = req.user.name;
    if (req.user.uid) s.uid = req.user.uid;
    else delete s.uid;
    s.groups = [...req.user.groups];
    if (req.user.extra && Object.keys(req.user.extra).length > 0)
      s.extra = Object.fromEntries(Object.entries(req.user.extra).map(([k, v]) => [k, [...v]]));
    else delete s.extra;
    req.object.spec = s;
  },
};
