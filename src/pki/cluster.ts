// The cluster's PKI under <dataDir>/pki, created on first start and reused afterwards (k3s keeps the
// same set under server/tls): a CA, the API server's serving certificate, the admin client certificate
// and the service-account signing key. The serving certificate is re-issued when it no longer covers the
// names the server should answer to, when it nears expiry, or when the CA changed.
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { createLogger } from '../util/log.js';
import { writeSecretFile } from './secret-file.js';
import {
  type CertificateAuthority,
  type IssuedCertificate,
  type KeyPairPem,
  type SubjectAltNames,
  certificateIsCurrent,
  certificateSans,
  createCertificateAuthority,
  generateKeyPairPem,
  issueCertificate,
  issueClientCertificate,
  normalizeIp,
} from './certs.js';

const log = createLogger('pki');

/** Renew leaf certificates this long before they expire (k3s uses 90 days too). */
const RENEW_BEFORE_MS = 90 * 24 * 60 * 60 * 1000;

export { DEFAULT_SERVICE_CIDR } from '../api/cluster-network.js';
import { DEFAULT_SERVICE_CIDR } from '../api/cluster-network.js';
export const ADMIN_USER = 'system:admin';
export const MASTERS_GROUP = 'system:masters';

export interface ClusterPkiOptions {
  /** Extra names and addresses (--tls-san). */
  readonly sans: { readonly dns: readonly string[]; readonly ips: readonly string[] };
  /** The service CIDR; its first address (10.43.0.1 by default) is the kubernetes Service's ClusterIP. */
  readonly serviceCidr?: string;
  /** The cluster domain (cluster.local). */
  readonly clusterDomain?: string;
  /** Leave out the host's own name and addresses (tests). */
  readonly skipHostAddresses?: boolean;
}

export interface ClusterPkiPaths {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPublicKey: string;
}

export interface ClusterPki {
  readonly paths: ClusterPkiPaths;
  readonly ca: CertificateAuthority;
  /** The API server's serving certificate and key. */
  readonly serving: IssuedCertificate;
  /** The SANs the serving certificate was checked against. */
  readonly servingSans: SubjectAltNames;
  /** Client certificate for system:admin in system:masters. */
  readonly admin: IssuedCertificate;
  /** Key pair signing and verifying ServiceAccount tokens. */
  readonly serviceAccountKey: KeyPairPem;
}

export function pkiPaths(dataDir: string): ClusterPkiPaths {
  const dir = join(dataDir, 'pki');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'serving-kube-apiserver.crt'),
    servingKey: join(dir, 'serving-kube-apiserver.key'),
    adminCert: join(dir, 'client-admin.crt'),
    adminKey: join(dir, 'client-admin.key'),
    serviceAccountKey: join(dir, 'service.key'),
    serviceAccountPublicKey: join(dir, 'service.pub'),
  };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The first usable address of an IPv4 or IPv6 CIDR: 10.43.0.0/16 gives 10.43.0.1. */
export function firstIpOfCidr(cidr: string): string {
  const [base = '', bitsText = ''] = cidr.split('/');
  const kind = isIP(base);
  if (kind === 0 || !/^\d+$/.test(bitsText)) throw new Error(`invalid CIDR "${cidr}"`);
  if (kind === 4) {
    const parts = base.split('.').map(Number);
    const bits = Number(bitsText);
    let n =
      ((parts[0] ?? 0) * 2 ** 24 + (parts[1] ?? 0) * 2 ** 16 + (parts[2] ?? 0) * 2 ** 8 + (parts[3] ?? 0)) >>>
      0;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    n = ((n & mask) >>> 0) + 1;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  const groups = normalizeIp(base)
    .split(':')
    .map((g) => parseInt(g, 16));
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  const bits = BigInt(Number(bitsText));
  const mask = bits === 0n ? 0n : ((1n << bits) - 1n) << (128n - bits);
  value = (value & mask) + 1n;
  const out: string[] = [];
  for (let i = 7; i >= 0; i--) out.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return normalizeIp(out.join(':'));
}

const VIRTUAL_INTERFACE = /^(cni|flannel|veth|docker|br-|kube-|vxlan|cali|tunl|virbr|lxc)/;

/** The host's name and its non-internal addresses (leaving out pod-network and link-local ones). */
export function hostAddresses(): SubjectAltNames {
  const ips: string[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (VIRTUAL_INTERFACE.test(name)) continue;
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && /^fe80:/i.test(a.address)) continue;
      ips.push(a.address);
    }
  }
  return { dns: [hostname().toLowerCase()], ips };
}

/** Every name and address the API server's certificate must cover. */
export function servingSans(opts: ClusterPkiOptions): SubjectAltNames {
  const domain = opts.clusterDomain ?? 'cluster.local';
  const host = opts.skipHostAddresses ? { dns: [], ips: [] } : hostAddresses();
  const dns = [
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${domain}`,
    ...host.dns,
    ...opts.sans.dns,
  ];
  const ips = [
    '127.0.0.1',
    '::1',
    firstIpOfCidr(opts.serviceCidr ?? DEFAULT_SERVICE_CIDR),
    ...host.ips,
    ...opts.sans.ips,
  ];
  const dnsOut = [...new Set(dns.filter((d) => d !== '').map((d) => d.toLowerCase()))];
  const ipOut = [...new Set(ips.filter((i) => isIP(i.replace(/%.*$/, '')) !== 0).map(normalizeIp))];
  return { dns: dnsOut, ips: ipOut };
}

function covers(have: { dns: string[]; ips: string[] }, want: SubjectAltNames): boolean {
  const dns = new Set(have.dns.map((d) => d.toLowerCase()));
  const ips = new Set(have.ips);
  return want.dns.every((d) => dns.has(d)) && want.ips.every((i) => ips.has(i));
}

/**
 * Loads the cluster PKI from <dataDir>/pki, creating whatever is missing (directory 0700, files 0600).
 * Existing material is reused; leaf certificates are re-issued when stale.
 */
export async function ensureClusterPki(dataDir: string, opts: ClusterPkiOptions): Promise<ClusterPki> {
  const paths = pkiPaths(dataDir);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await chmod(paths.dir, 0o700);

  // The CA: reused if both halves exist; replacing it invalidates every issued certificate.
  const caCert = await readIfExists(paths.caCert);
  const caKey = await readIfExists(paths.caKey);
  let ca: CertificateAuthority;
  if (caCert && caKey) {
    ca = { certPem: caCert, keyPem: caKey };
  } else {
    ca = await createCertificateAuthority(`k8ts-ca@${Math.floor(Date.now() / 1000)}`);
    await writeSecretFile(paths.caKey, ca.keyPem);
    await writeSecretFile(paths.caCert, ca.certPem);
    log.info('created cluster certificate authority', { path: paths.caCert });
  }

  // The serving certificate.
  const sans = servingSans(opts);
  const oldServingCert = await readIfExists(paths.servingCert);
  const oldServingKey = await readIfExists(paths.servingKey);
  let serving: IssuedCertificate;
  if (
    oldServingCert &&
    oldServingKey &&
    certificateIsCurrent(oldServingCert, ca, RENEW_BEFORE_MS) &&
    covers(certificateSans(oldServingCert), sans)
  ) {
    serving = { certPem: oldServingCert, keyPem: oldServingKey };
  } else {
    serving = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      usages: ['digital signature', 'key encipherment', 'server auth'],
      sans,
      durationDays: 365,
    });
    await writeSecretFile(paths.servingKey, serving.keyPem);
    await writeSecretFile(paths.servingCert, serving.certPem);
    log.info(
      oldServingCert ? 're-issued API server serving certificate' : 'issued API server serving certificate',
      {
        dns: sans.dns,
        ips: sans.ips,
      },
    );
  }

  // The admin client certificate (CN=system:admin, O=system:masters).
  const oldAdminCert = await readIfExists(paths.adminCert);
  const oldAdminKey = await readIfExists(paths.adminKey);
  let admin: IssuedCertificate;
  if (oldAdminCert && oldAdminKey && certificateIsCurrent(oldAdminCert, ca, RENEW_BEFORE_MS)) {
    admin = { certPem: oldAdminCert, keyPem: oldAdminKey };
  } else {
    admin = await issueClientCertificate(ca, ADMIN_USER, [MASTERS_GROUP]);
    await writeSecretFile(paths.adminKey, admin.keyPem);
    await writeSecretFile(paths.adminCert, admin.certPem);
    log.info('issued admin client certificate', { user: ADMIN_USER, group: MASTERS_GROUP });
  }

  // The service-account signing key.
  const saKey = await readIfExists(paths.serviceAccountKey);
  const saPub = await readIfExists(paths.serviceAccountPublicKey);
  let serviceAccountKey: KeyPairPem;
  if (saKey && saPub) {
    serviceAccountKey = { privateKeyPem: saKey, publicKeyPem: saPub };
  } else {
    serviceAccountKey = await generateKeyPairPem();
    await writeSecretFile(paths.serviceAccountKey, serviceAccountKey.privateKeyPem);
    await writeSecretFile(paths.serviceAccountPublicKey, serviceAccountKey.publicKeyPem);
    log.info('created service-account signing key', { path: paths.serviceAccountKey });
  }

  return { paths, ca, serving, servingSans: sans, admin, serviceAccountKey };
}
