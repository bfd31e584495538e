// Keys and X.509 certificates for the cluster: a CA, leaf certificates it issues, and the CSR signer
// (certificates.k8s.io) used when a node joins. ECDSA P-256 keys throughout, PEM on disk (PKCS#8 keys).
import { X509Certificate as NodeX509Certificate, createHash, randomBytes, webcrypto } from 'node:crypto';
// @peculiar/x509's dependency injection needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

const subtle = webcrypto.subtle;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Upstream's signer backdates certificates so that small clock skews do not reject them. */
const BACKDATE_MS = 5 * 60 * 1000;

/** A certificate authority as kept on disk: both halves in PEM. */
export interface CertificateAuthority {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

export interface IssuedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface SubjectAltNames {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

/** Key usages as certificates.k8s.io/v1 spells them. */
export type KeyUsage =
  | 'signing'
  | 'digital signature'
  | 'content commitment'
  | 'key encipherment'
  | 'key agreement'
  | 'data encipherment'
  | 'cert sign'
  | 'crl sign'
  | 'encipher only'
  | 'decipher only'
  | 'any'
  | 'server auth'
  | 'client auth'
  | 'code signing'
  | 'email protection'
  | 's/mime'
  | 'ipsec end system'
  | 'ipsec tunnel'
  | 'ipsec user'
  | 'timestamping'
  | 'ocsp signing'
  | 'microsoft sgc'
  | 'netscape sgc';

const KEY_USAGE_FLAGS: Partial<Record<KeyUsage, x509.KeyUsageFlags>> = {
  signing: x509.KeyUsageFlags.digitalSignature,
  'digital signature': x509.KeyUsageFlags.digitalSignature,
  'content commitment': x509.KeyUsageFlags.nonRepudiation,
  'key encipherment': x509.KeyUsageFlags.keyEncipherment,
  'key agreement': x509.KeyUsageFlags.keyAgreement,
  'data encipherment': x509.KeyUsageFlags.dataEncipherment,
  'cert sign': x509.KeyUsageFlags.keyCertSign,
  'crl sign': x509.KeyUsageFlags.cRLSign,
  'encipher only': x509.KeyUsageFlags.encipherOnly,
  'decipher only': x509.KeyUsageFlags.decipherOnly,
};

const EXT_KEY_USAGE_OIDS: Partial<Record<KeyUsage, string>> = {
  any: '2.5.29.37.0',
  'server auth': x509.ExtendedKeyUsage.serverAuth,
  'client auth': x509.ExtendedKeyUsage.clientAuth,
  'code signing': x509.ExtendedKeyUsage.codeSigning,
  'email protection': x509.ExtendedKeyUsage.emailProtection,
  's/mime': x509.ExtendedKeyUsage.emailProtection,
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: x509.ExtendedKeyUsage.timeStamping,
  'ocsp signing': x509.ExtendedKeyUsage.ocspSigning,
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};

export const SUPPORTED_KEY_USAGES: readonly KeyUsage[] = [
  ...(Object.keys(KEY_USAGE_FLAGS) as KeyUsage[]),
  ...(Object.keys(EXT_KEY_USAGE_OIDS) as KeyUsage[]),
];

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function fromPem(pem: string, label: string): Buffer {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`);
  const m = re.exec(pem);
  if (!m?.[1]) throw new Error(`no ${label} block in PEM data`);
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify']);
}

async function exportPrivatePem(key: CryptoKey): Promise<string> {
  return toPem(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function exportPublicPem(key: CryptoKey): Promise<string> {
  return toPem(await subtle.exportKey('spki', key), 'PUBLIC KEY');
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  return subtle.importKey('pkcs8', fromPem(pem, 'PRIVATE KEY'), EC_ALGORITHM, true, ['sign']);
}

/** A fresh ECDSA P-256 key pair in PEM (PKCS#8 private, SPKI public). */
export async function generateKeyPairPem(): Promise<KeyPairPem> {
  const keys = await generateKeyPair();
  return {
    privateKeyPem: await exportPrivatePem(keys.privateKey),
    publicKeyPem: await exportPublicPem(keys.publicKey),
  };
}

/** 128 random bits as a positive hexadecimal serial number. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01;
  return bytes.toString('hex');
}

type JsonName = Array<Record<string, string[]>>;

function subjectName(commonName: string, organizations: readonly string[] = []): JsonName {
  const name: JsonName = [];
  for (const o of organizations) name.push({ O: [o] });
  name.push({ CN: [commonName] });
  return name;
}

function sanExtension(sans: SubjectAltNames): x509.SubjectAlternativeNameExtension {
  const names: x509.JsonGeneralNames = [
    ...sans.dns.map((value) => ({ type: 'dns' as const, value })),
    ...sans.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  return new x509.SubjectAlternativeNameExtension(names, false);
}

function usageExtensions(usages: readonly KeyUsage[]): x509.Extension[] {
  let flags = 0;
  const oids: string[] = [];
  for (const u of usages) {
    const flag = KEY_USAGE_FLAGS[u];
    const oid = EXT_KEY_USAGE_OIDS[u];
    if (flag !== undefined) flags |= flag;
    else if (oid !== undefined) {
      if (!oids.includes(oid)) oids.push(oid);
    } else throw new Error(`unsupported key usage "${String(u)}"`);
  }
  const out: x509.Extension[] = [];
  if (flags !== 0) out.push(new x509.KeyUsagesExtension(flags, true));
  if (oids.length > 0) out.push(new x509.ExtendedKeyUsageExtension(oids, false));
  return out;
}

/** Creates a self-signed CA (10 years by default), as k3s does for its server and client CAs. */
export async function createCertificateAuthority(
  commonName: string,
  durationDays = 3650,
): Promise<CertificateAuthority> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subjectName(commonName),
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + durationDays * DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPrivatePem(keys.privateKey) };
}

export interface IssueOptions {
  readonly commonName: string;
  readonly organizations?: readonly string[];
  readonly usages: readonly KeyUsage[];
  readonly sans?: SubjectAltNames;
  readonly durationDays?: number;
}

async function signLeaf(
  ca: CertificateAuthority,
  publicKey: CryptoKey | x509.PublicKey,
  subject: string | JsonName | x509.Name,
  usages: readonly KeyUsage[],
  sanExt: x509.Extension | undefined,
  durationDays: number,
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importPrivateKey(ca.keyPem);
  const now = Date.now();
  // Never outlive the CA (upstream's signer caps the same way).
  const notAfter = Math.min(now + durationDays * DAY_MS, caCert.notAfter.getTime());
  let pub: CryptoKey;
  if (publicKey instanceof x509.PublicKey) {
    // The library's declarations name the DOM CryptoKey, which this build does not include.
    const exported: unknown = await publicKey.export();
    pub = exported as CryptoKey;
  } else {
    pub = publicKey;
  }
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    ...usageExtensions(usages),
    await x509.SubjectKeyIdentifierExtension.create(pub),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (sanExt) extensions.push(sanExt);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: caCert.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    publicKey: pub,
    signingKey: caKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return cert.toString('pem') + '\n';
}

/** Issues a leaf certificate with a fresh key, signed by the CA. */
export async function issueCertificate(
  ca: CertificateAuthority,
  opts: IssueOptions,
): Promise<IssuedCertificate> {
  const keys = await generateKeyPair();
  const sans =
    opts.sans && (opts.sans.dns.length > 0 || opts.sans.ips.length > 0) ? sanExtension(opts.sans) : undefined;
  const certPem = await signLeaf(
    ca,
    keys.publicKey,
    subjectName(opts.commonName, opts.organizations),
    opts.usages,
    sans,
    opts.durationDays ?? 365,
  );
  return { certPem, keyPem: await exportPrivatePem(keys.privateKey) };
}

/** A client certificate: CN becomes the user name and O entries the groups. */
export function issueClientCertificate(
  ca: CertificateAuthority,
  commonName: string,
  organizations: readonly string[] = [],
  durationDays = 365,
): Promise<IssuedCertificate> {
  return issueCertificate(ca, {
    commonName,
    organizations,
    usages: ['digital signature', 'key encipherment', 'client auth'],
    durationDays,
  });
}

export interface CsrSignOptions {
  readonly usages: readonly KeyUsage[];
  readonly durationDays?: number;
}

/** What a CSR asks for, read before deciding whether to approve it. */
export interface CertificateRequestInfo {
  readonly commonName: string;
  readonly organizations: string[];
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
  readonly emailAddresses: string[];
  readonly uris: string[];
}

function csrFromPem(csrPem: string): x509.Pkcs10CertificateRequest {
  return new x509.Pkcs10CertificateRequest(fromPem(csrPem, 'CERTIFICATE REQUEST'));
}

const SAN_OID = '2.5.29.17';

function csrSans(csr: x509.Pkcs10CertificateRequest): x509.SubjectAlternativeNameExtension | undefined {
  const ext = csr.getExtension(SAN_OID);
  return ext ? new x509.SubjectAlternativeNameExtension(ext.rawData) : undefined;
}

function nameValues(name: x509.Name, type: string): string[] {
  return name.getField(type);
}

/** Parses a PEM CSR (spec.request of a CertificateSigningRequest, once base64-decoded). */
export function parseCertificateRequest(csrPem: string): CertificateRequestInfo {
  const csr = csrFromPem(csrPem);
  const san = csrSans(csr);
  const items = san?.names.items ?? [];
  return {
    commonName: nameValues(csr.subjectName, 'CN')[0] ?? '',
    organizations: nameValues(csr.subjectName, 'O'),
    dnsNames: items.filter((i) => i.type === 'dns').map((i) => i.value),
    ipAddresses: items.filter((i) => i.type === 'ip').map((i) => i.value),
    emailAddresses: items.filter((i) => i.type === 'email').map((i) => i.value),
    uris: items.filter((i) => i.type === 'url').map((i) => i.value),
  };
}

/**
 * Whether a CSR is a kubelet client certificate request (signer kubernetes.io/kube-apiserver-client-kubelet):
 * O=system:nodes only, CN=system:node:<name>, no subject alternative names, and the usages
 * digital signature + client auth (key encipherment allowed too). Returns the problems found, as
 * upstream's ValidateKubeletClientCSR words them; an empty list means it is one.
 */
export function validateKubeletClientCsr(info: CertificateRequestInfo, usages: readonly string[]): string[] {
  const errs: string[] = [];
  if (info.organizations.length !== 1 || info.organizations[0] !== 'system:nodes') {
    errs.push('subject organization is not system:nodes');
  }
  if (!info.commonName.startsWith('system:node:'))
    errs.push('subject common name does not begin with system:node:');
  if (info.dnsNames.length > 0) errs.push('DNS subjectAltNames are not allowed');
  if (info.emailAddresses.length > 0) errs.push('Email subjectAltNames are not allowed');
  if (info.ipAddresses.length > 0) errs.push('IP subjectAltNames are not allowed');
  if (info.uris.length > 0) errs.push('URI subjectAltNames are not allowed');
  const set = new Set(usages);
  const required = ['digital signature', 'client auth'];
  const allowed = new Set([...required, 'key encipherment']);
  if (!required.every((u) => set.has(u)) || [...set].some((u) => !allowed.has(u))) {
    errs.push(`usages did not match [${[...allowed].join(' ')}]`);
  }
  return errs;
}

/**
 * Signs a PKCS#10 request with the CA, keeping the requested subject and subject alternative names,
 * with the key usages the CertificateSigningRequest asked for. The CSR's own signature is checked first.
 */
export async function signCertificateRequest(
  ca: CertificateAuthority,
  csrPem: string,
  opts: CsrSignOptions,
): Promise<string> {
  const csr = csrFromPem(csrPem);
  if (!(await csr.verify())) throw new Error('the certificate request signature is invalid');
  const san = csrSans(csr);
  const sanExt = san ? new x509.SubjectAlternativeNameExtension(san.names.toJSON(), false) : undefined;
  return signLeaf(ca, csr.publicKey, csr.subjectName, opts.usages, sanExt, opts.durationDays ?? 365);
}

// What a joining node sends; built without the X.509 library so the agent need not load it.
export { createCertificateRequest } from './csr.js';

export { normalizeIp } from './ip.js';
import { normalizeIp } from './ip.js';

/** The subject alternative names of a PEM certificate, IPs normalised. */
export function certificateSans(certPem: string): { dns: string[]; ips: string[] } {
  const cert = new x509.X509Certificate(certPem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const items = san?.names.items ?? [];
  return {
    dns: items.filter((i) => i.type === 'dns').map((i) => i.value),
    ips: items.filter((i) => i.type === 'ip').map((i) => normalizeIp(i.value)),
  };
}

/** True if the certificate was issued by the CA (signature checked) and is valid for at least `minRemainingMs`. */
export function certificateIsCurrent(
  certPem: string,
  ca: CertificateAuthority,
  minRemainingMs: number,
): boolean {
  try {
    const cert = new NodeX509Certificate(certPem);
    const caCert = new NodeX509Certificate(ca.certPem);
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return false;
    return new Date(cert.validTo).getTime() - Date.now() > minRemainingMs;
  } catch {
    return false;
  }
}

/** Hex SHA-256 of a certificate's DER bytes. */
export function certificateFingerprint(certPem: string): string {
  return createHash('sha256').update(new NodeX509Certificate(certPem).raw).digest('hex');
}
