// The node API's serving certificate for a joined node, as the kubelet's serverTLSBootstrap gets
// it: a CertificateSigningRequest to signer kubernetes.io/kubelet-serving (CN system:node:<name>,
// O system:nodes, usages digital signature and server auth) whose SANs are the
// node's own names and addresses as its Node status reports them. The cluster's CSR approver signs
// off such a request only when it matches the node (src/controllers/certificates/approver.ts), and
// the API server, which dials the node by its InternalIP and checks the certificate against the
// cluster CA, then trusts it. The certificate and key are kept under the data dir and reused while
// valid, issued by the current CA and covering the same names.
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { CertificateSigningRequest, Node } from '../api/generated/types.js';
import type { RestClient } from '../client/rest.js';
import { CSR, NODES } from '../client/typed-refs.js';
import { createCertificateRequest, type RequestAltNames } from '../pki/csr.js';
import { createLogger, type Logger } from '../util/log.js';

export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

export interface ServingCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ServingCertificateOptions {
  /** The node's own identity (system:node:<name>). */
  readonly client: RestClient;
  readonly nodeName: string;
  readonly dataDir: string;
  /** The cluster CA; a kept certificate another CA issued is replaced. */
  readonly caPem: string;
  /** After this long without a signature, say so in the log (default 2 min); the wait goes on. */
  readonly warnAfterMs?: number;
  /** Gives up waiting (the node stops). */
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
  readonly log?: Logger;
}

export function servingCertificatePaths(dataDir: string): { cert: string; key: string } {
  const dir = join(dataDir, 'agent', 'pki');
  return { cert: join(dir, 'kubelet-server.crt'), key: join(dir, 'kubelet-server.key') };
}

/** The names and addresses a node's serving certificate covers: its name and its status addresses. */
export function nodeServingNames(node: Node): RequestAltNames {
  const name = node.metadata.name ?? '';
  const dns = new Set<string>(name ? [name] : []);
  const ips = new Set<string>();
  for (const a of node.status?.addresses ?? []) {
    if (a.type === 'InternalIP' || a.type === 'ExternalIP') {
      if (isIP(a.address)) ips.add(a.address);
    } else if (a.type === 'Hostname' || a.type.endsWith('DNS')) dns.add(a.address);
  }
  return { dns: [...dns].sort(), ips: [...ips].sort() };
}

/** "DNS:a, IP Address:1.2.3.4" (node:crypto's subjectAltName) as sorted lists. */
function sansOf(cert: X509Certificate): RequestAltNames {
  const dns: string[] = [];
  const ips: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) dns.push(part.slice(4));
    else if (part.startsWith('IP Address:')) ips.push(part.slice(11));
  }
  return { dns: dns.sort(), ips: ips.sort() };
}

function keptCertificate(
  paths: { cert: string; key: string },
  caPem: string,
  want: RequestAltNames,
): ServingCertificate | undefined {
  let certPem: string;
  let keyPem: string;
  try {
    certPem = readFileSync(paths.cert, 'utf8');
    keyPem = readFileSync(paths.key, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return undefined;
    // Renew with a tenth of a day left, as the client certificate.
    if (new Date(cert.validTo).getTime() - Date.now() < 2.4 * 3600 * 1000) return undefined;
    if (JSON.stringify(sansOf(cert)) !== JSON.stringify(want)) return undefined;
  } catch {
    return undefined;
  }
  return { certPem, keyPem };
}

/** A serving certificate for the registered node: kept from an earlier start, or through a CSR. */
export async function obtainServingCertificate(opts: ServingCertificateOptions): Promise<ServingCertificate> {
  const log = opts.log ?? createLogger('agent.serving-cert');
  const node = await opts.client.get<Node>(NODES, undefined, opts.nodeName);
  const sans = nodeServingNames(node);
  const paths = servingCertificatePaths(opts.dataDir);
  const kept = keptCertificate(paths, opts.caPem, sans);
  if (kept) {
    log.info('using the serving certificate kept from an earlier start', { path: paths.cert });
    return kept;
  }
  const { csrPem, keyPem } = await createCertificateRequest(
    `system:node:${opts.nodeName}`,
    ['system:nodes'],
    sans,
  );
  const csr: CertificateSigningRequest = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { generateName: 'csr-' },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: KUBELET_SERVING_SIGNER,
      // The key is ECDSA: as the kubelet, no key encipherment (that usage is for RSA keys).
      usages: ['digital signature', 'server auth'],
    },
  };
  const created = await opts.client.create<CertificateSigningRequest>(CSR, undefined, csr);
  const name = created.metadata.name ?? '';
  log.info('waiting for the serving certificate to be approved and signed', { csr: name, ...sans });
  const warnAt = Date.now() + (opts.warnAfterMs ?? 120_000);
  let warned = false;
  for (;;) {
    opts.signal?.throwIfAborted();
    const cur = await opts.client.get<CertificateSigningRequest>(CSR, undefined, name);
    const refused = cur.status?.conditions?.find(
      (c) => (c.type === 'Denied' || c.type === 'Failed') && c.status !== 'False',
    );
    if (refused)
      throw new Error(
        `serving certificate request ${name} was ${refused.type.toLowerCase()}: ${refused.message ?? refused.reason ?? ''}`,
      );
    const certB64 = cur.status?.certificate;
    if (certB64) {
      const certPem = Buffer.from(certB64, 'base64').toString('utf8');
      mkdirSync(join(opts.dataDir, 'agent', 'pki'), { recursive: true, mode: 0o700 });
      writeFileSync(`${paths.key}.tmp`, keyPem, { mode: 0o600 });
      renameSync(`${paths.key}.tmp`, paths.key);
      writeFileSync(`${paths.cert}.tmp`, certPem);
      renameSync(`${paths.cert}.tmp`, paths.cert);
      log.info('serving certificate issued', { csr: name, path: paths.cert });
      return { certPem, keyPem };
    }
    if (!warned && Date.now() > warnAt) {
      warned = true;
      log.warn('the serving certificate request is not approved yet; the node API waits for it', {
        csr: name,
        hint: `kubectl certificate approve ${name}`,
      });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, opts.pollMs ?? 500);
      function done(): void {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      }
      opts.signal?.addEventListener('abort', done, { once: true });
    });
  }
}
