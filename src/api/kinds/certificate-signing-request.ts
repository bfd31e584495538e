// certificates.k8s.io/v1 CertificateSigningRequest. Cluster-scoped. Upstream's strategy:
// - create: status is cleared (nobody creates a pre-approved request) and spec.username, uid,
//   groups and extra are set from the requesting user — done by the CertificateSigningRequestRequester admission plugin,
//   because a strategy does not see the user;
// - update of the main resource: spec and status are kept (only metadata changes);
// - status: spec is kept, status.certificate may be set once (PEM certificates only);
// - approval (upstream's csrApprovalStrategy): only Approved/Denied conditions change, and never
//   both, nor Approved/Denied removed once set.
// The ResourceDescription type serves status and scale only, so `approval` is described by
// csrApprovalStrategy and CSR_APPROVAL_SUBRESOURCE for the server to wire. Until it is served,
// the status strategy accepts Approved/Denied conditions too (the approver falls back to status),
// with the same rules as approval.
import { fieldErr, type FieldError } from '../errors.js';
import { isPlainObject, type KubeObject } from '../meta.js';
import type { ResourceDescription, Strategy } from '../types.js';
import { humanDuration } from './age.js';
import { ageColumn, nameColumn, strField } from './columns.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.js';
import { parseCertificateRequest } from '../../pki/certs.js';

export const CONDITION_APPROVED = 'Approved';
export const CONDITION_DENIED = 'Denied';
export const CONDITION_FAILED = 'Failed';

const KNOWN_USAGES = new Set([
  'signing',
  'digital signature',
  'content commitment',
  'key encipherment',
  'key agreement',
  'data encipherment',
  'cert sign',
  'crl sign',
  'encipher only',
  'decipher only',
  'any',
  'server auth',
  'client auth',
  'code signing',
  'email protection',
  's/mime',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'timestamping',
  'ocsp signing',
  'microsoft sgc',
  'netscape sgc',
]);

type Obj = Record<string, unknown>;

function spec(obj: KubeObject): Obj {
  return isPlainObject(obj.spec) ? obj.spec : {};
}

function status(obj: KubeObject): Obj {
  return isPlainObject(obj.status) ? obj.status : {};
}

function conditions(obj: KubeObject): Obj[] {
  const c = status(obj).conditions;
  return Array.isArray(c) ? c.filter(isPlainObject) : [];
}

/** The CONDITION column: Approved/Denied/Pending, then Failed and Issued (upstream's printer). */
export function csrConditionText(obj: KubeObject): string {
  const types = new Set(conditions(obj).map((c) => c.type));
  let s = types.has(CONDITION_DENIED) ? 'Denied' : types.has(CONDITION_APPROVED) ? 'Approved' : 'Pending';
  if (types.has(CONDITION_FAILED)) s += ',Failed';
  if (typeof status(obj).certificate === 'string' && status(obj).certificate !== '') s += ',Issued';
  return s;
}

function decodeRequest(obj: KubeObject): string | undefined {
  const req = spec(obj).request;
  if (typeof req !== 'string' || req === '') return undefined;
  return Buffer.from(req, 'base64').toString('utf8');
}

function validateCsr(obj: KubeObject): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, { namespaced: false, standardFinalizers: true });
  const s = spec(obj);
  const pem = decodeRequest(obj);
  if (pem === undefined) errs.push(fieldErr.required('spec.request'));
  else {
    try {
      parseCertificateRequest(pem);
    } catch (err) {
      errs.push(
        fieldErr.invalid(
          'spec.request',
          '<request>',
          `could not parse the certificate request: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    }
  }
  const signer = s.signerName;
  if (typeof signer !== 'string' || signer === '') errs.push(fieldErr.required('spec.signerName'));
  else if (!/^[a-z0-9.-]+\/[A-Za-z0-9._-]+$/.test(signer))
    errs.push(
      fieldErr.invalid(
        'spec.signerName',
        signer,
        "must be a fully qualified domain and path of the form 'example.com/signer-name'",
      ),
    );
  const usages = Array.isArray(s.usages) ? s.usages : [];
  usages.forEach((u, i) => {
    if (typeof u !== 'string' || !KNOWN_USAGES.has(u))
      errs.push(fieldErr.notSupported(`spec.usages[${i}]`, u, [...KNOWN_USAGES]));
  });
  if (
    s.expirationSeconds !== undefined &&
    (typeof s.expirationSeconds !== 'number' || s.expirationSeconds < 600)
  )
    errs.push(
      fieldErr.invalid(
        'spec.expirationSeconds',
        s.expirationSeconds,
        'may not specify a duration less than 600 seconds (10 minutes)',
      ),
    );
  return errs;
}

function keepOnly(newObj: KubeObject, oldObj: KubeObject, approvalTypes: boolean): void {
  // Conditions of the approval kind come from one side, all the others from the other.
  const isApproval = (c: Obj): boolean => c.type === CONDITION_APPROVED || c.type === CONDITION_DENIED;
  const fromNew = conditions(newObj).filter((c) => isApproval(c) === approvalTypes);
  const fromOld = conditions(oldObj).filter((c) => isApproval(c) !== approvalTypes);
  newObj.status = { ...status(oldObj), conditions: [...fromOld, ...fromNew] };
}

function stampConditions(obj: KubeObject, old: KubeObject): void {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const c of conditions(obj)) {
    const prev = conditions(old).find((o) => o.type === c.type);
    if (c.lastUpdateTime === undefined) c.lastUpdateTime = now;
    if (c.lastTransitionTime === undefined)
      c.lastTransitionTime =
        prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
  }
}

function validateApprovalConditions(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const cs = conditions(obj);
  const approved = cs.some((c) => c.type === CONDITION_APPROVED && c.status === 'True');
  const denied = cs.some((c) => c.type === CONDITION_DENIED && c.status === 'True');
  if (approved && denied)
    errs.push(
      fieldErr.invalid(
        'status.conditions',
        CONDITION_APPROVED,
        'Approved and Denied conditions are mutually exclusive',
      ),
    );
  for (const t of [CONDITION_APPROVED, CONDITION_DENIED]) {
    if (cs.filter((c) => c.type === t).length > 1) errs.push(fieldErr.duplicate('status.conditions', t));
    const had = conditions(old).some((c) => c.type === t && c.status === 'True');
    if (had && !cs.some((c) => c.type === t && c.status === 'True'))
      errs.push(fieldErr.forbidden('status.conditions', `updates may not remove a condition of type "${t}"`));
  }
  for (const c of cs) {
    if (typeof c.type !== 'string' || c.type === '') errs.push(fieldErr.required('status.conditions[].type'));
    if (c.status !== 'True' && c.status !== 'False' && c.status !== 'Unknown')
      errs.push(fieldErr.notSupported('status.conditions[].status', c.status, ['False', 'True', 'Unknown']));
  }
  return errs;
}

function validateCertificate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const cert = status(obj).certificate;
  const oldCert = status(old).certificate;
  if (typeof oldCert === 'string' && oldCert !== '' && cert !== oldCert)
    errs.push(
      fieldErr.forbidden('status.certificate', 'updates may not modify existing certificate content'),
    );
  if (typeof cert === 'string' && cert !== '') {
    const pem = Buffer.from(cert, 'base64').toString('utf8');
    if (!/-----BEGIN CERTIFICATE-----/.test(pem))
      errs.push(
        fieldErr.invalid(
          'status.certificate',
          '<certificate data>',
          'must contain at least one CERTIFICATE PEM block',
        ),
      );
  }
  return errs;
}

/** The approval subresource's strategy (for the server to serve certificatesigningrequests/approval with). */
export const csrApprovalStrategy: Required<Pick<Strategy, 'prepareForUpdate' | 'validateUpdate'>> = {
  prepareForUpdate(obj, old) {
    obj.spec = structuredClone(old.spec);
    keepOnly(obj, old, true);
    stampConditions(obj, old);
  },
  validateUpdate(obj, old) {
    return [
      ...validateObjectMetaUpdate(obj.metadata, old.metadata, 'metadata', { standardFinalizers: true }),
      ...validateApprovalConditions(obj, old),
    ];
  },
};

/** Discovery entry the server needs for the approval subresource (shape of apiserver's ExtraSubresource). */
export const CSR_APPROVAL_SUBRESOURCE = {
  group: 'certificates.k8s.io',
  version: 'v1',
  resource: 'certificatesigningrequests',
  subresource: 'approval',
  kind: 'CertificateSigningRequest',
  verbs: ['get', 'patch', 'update'],
} as const;

export const certificateSigningRequestResource: ResourceDescription = {
  group: 'certificates.k8s.io',
  version: 'v1',
  kind: 'CertificateSigningRequest',
  plural: 'certificatesigningrequests',
  singular: 'certificatesigningrequest',
  shortNames: ['csr'],
  namespaced: false,
  nameRule: 'path-segment',
  schemaRef: 'io.k8s.api.certificates.v1.CertificateSigningRequest',
  subresources: { status: true },
  tableColumns: [
    nameColumn,
    ageColumn,
    {
      name: 'SignerName',
      type: 'string',
      description: 'The signer the request is addressed to.',
      priority: 0,
      cell: (obj) => strField(obj, 'spec', 'signerName'),
    },
    {
      name: 'Requestor',
      type: 'string',
      description: 'The user who created the request.',
      priority: 0,
      cell: (obj) => strField(obj, 'spec', 'username'),
    },
    {
      name: 'RequestedDuration',
      type: 'string',
      description: 'The validity the request asks for.',
      priority: 0,
      cell: (obj) => {
        const s = spec(obj).expirationSeconds;
        return typeof s === 'number' ? humanDuration(s * 1000) : '<none>';
      },
    },
    {
      name: 'Condition',
      type: 'string',
      description: 'Approved, Denied or Pending, then Failed and Issued.',
      priority: 0,
      cell: csrConditionText,
    },
  ],
  fieldSelectors: { 'spec.signerName': (obj) => strField(obj, 'spec', 'signerName') },
  strategy: {
    prepareForCreate(obj) {
      obj.status = {};
    },
    prepareForUpdate(obj, old) {
      obj.spec = structuredClone(old.spec);
      if (old.status === undefined) delete obj.status;
      else obj.status = structuredClone(old.status);
    },
    validate: validateCsr,
    validateUpdate: (obj, old) =>
      validateObjectMetaUpdate(obj.metadata, old.metadata, 'metadata', { standardFinalizers: true }),
    prepareForStatusUpdate(obj, old) {
      obj.spec = structuredClone(old.spec);
      stampConditions(obj, old);
    },
    validateStatusUpdate(obj, old) {
      return [
        ...validateObjectMetaUpdate(obj.metadata, old.metadata, 'metadata', { standardFinalizers: true }),
        ...validateApprovalConditions(obj, old),
        ...validateCertificate(obj, old),
      ];
    },
  },
};
