// Joining a cluster with a bootstrap token, as kubeadm's discovery and the kubelet's TLS bootstrap:
//
// 1. Trust: the server's CA comes from --ca-file, or from the cluster-info ConfigMap in kube-public,
//    read without credentials and accepted only if its kubeconfig carries a valid detached JWS
//    signature (HS256, keyed by the token's secret, "kid" its id) under jws-kubeconfig-<token id>:
//    only someone who knows the token could have signed it.
// 2. Identity: with the token as bearer, create a CertificateSigningRequest for a client
//    certificate (signer kubernetes.io/kube-apiserver-client-kubelet, CN system:node:<name>,
//    O system:nodes) and wait for it to be approved and signed.
// 3. Keep the certificate and key in a kubeconfig under the data directory, and reuse it on the
//    next start while it is valid.
import { componentUserAgent } from '../version.js';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateSigningRequest, ConfigMap } from '../api/generated/types.js';
import { parseKubeconfig, type ConnectionConfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { CONFIGMAPS, CSR } from '../client/typed-refs.js';
import { createCertificateRequest } from '../pki/csr.js';
import { verifyDetachedSignature } from '../pki/jws.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { parseBootstrapToken } from '../pki/tokens.js';
import { createLogger, type Logger } from '../util/log.js';

export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const CLUSTER_INFO_NAMESPACE = 'kube-public';
export const CLUSTER_INFO_NAME = 'cluster-info';
export const JWS_KEY_PREFIX = 'jws-kubeconfig-';

export { computeDetachedSignature, verifyDetachedSignature } from '../pki/jws.js';

export class BootstrapError extends Error {
  override readonly name = 'BootstrapError';
}

/**
 * The cluster CA from kube-public/cluster-info, checked against the token's signature. Throws a
 * BootstrapError saying what is missing when the server does not publish a signed cluster-info.
 */
export async function discoverClusterCA(server: string, token: string): Promise<string> {
  const parsed = parseBootstrapToken(token);
  if (!parsed) throw new BootstrapError('the token is not a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})');
  // Anonymous and unverified on purpose: the signature below is what makes the answer trustworthy.
  const anon = new RestClient(
    { server, namespace: 'default', insecureSkipTlsVerify: true },
    'k8ts-agent-discovery',
  );
  let cm: ConfigMap;
  try {
    cm = await anon.get<ConfigMap>(CONFIGMAPS, CLUSTER_INFO_NAMESPACE, CLUSTER_INFO_NAME);
  } catch (err) {
    throw new BootstrapError(
      `cannot read ${CLUSTER_INFO_NAMESPACE}/${CLUSTER_INFO_NAME} to learn the server's CA (${err instanceof Error ? err.message : String(err)}); pass --ca-file`,
    );
  } finally {
    anon.close();
  }
  const kubeconfig = cm.data?.kubeconfig;
  if (!kubeconfig)
    throw new BootstrapError(
      `${CLUSTER_INFO_NAMESPACE}/${CLUSTER_INFO_NAME} has no kubeconfig; pass --ca-file`,
    );
  const sig = cm.data?.[JWS_KEY_PREFIX + parsed.id];
  if (!sig)
    throw new BootstrapError(
      `the server does not publish a signature of cluster-info for token id "${parsed.id}", so its CA cannot be trusted; pass --ca-file`,
    );
  if (!verifyDetachedSignature(kubeconfig, sig, parsed.id, parsed.secret))
    throw new BootstrapError(
      'the cluster-info signature does not match the token: wrong token, or not the server you think',
    );
  const cfg = parseKubeconfig(kubeconfig, 'cluster-info');
  if (!cfg.caPem) throw new BootstrapError('cluster-info names no certificate authority');
  return cfg.caPem;
}

export interface NodeCredentialsOptions {
  server: string;
  token: string;
  nodeName: string;
  dataDir: string;
  /** The server's CA; discovered through cluster-info when absent. */
  caPem?: string;
  /** How long to wait for the CSR to be signed (default 5 min). */
  timeoutMs?: number;
  pollMs?: number;
  log?: Logger;
}

/** Where the agent keeps its own kubeconfig. */
export function nodeKubeconfigPath(dataDir: string): string {
  return join(dataDir, 'agent', 'kubelet.kubeconfig');
}

function usableKubeconfig(path: string, server: string): ConnectionConfig | undefined {
  let cfg: ConnectionConfig;
  try {
    cfg = parseKubeconfig(readFileSync(path, 'utf8'), path);
  } catch {
    return undefined;
  }
  if (cfg.server !== server.replace(/\/+$/, '') || !cfg.clientCertPem || !cfg.clientKeyPem) return undefined;
  try {
    const cert = new X509Certificate(cfg.clientCertPem);
    // Renew when less than a tenth of a day is left.
    if (new Date(cert.validTo).getTime() - Date.now() < 2.4 * 3600 * 1000) return undefined;
  } catch {
    return undefined;
  }
  return cfg;
}

/**
 * A client identity for the node: the kubeconfig kept from an earlier join, or a new client
 * certificate obtained through a CertificateSigningRequest made with the bootstrap token.
 */
export async function obtainNodeCredentials(opts: NodeCredentialsOptions): Promise<ConnectionConfig> {
  const log = opts.log ?? createLogger('agent.bootstrap');
  const path = nodeKubeconfigPath(opts.dataDir);
  const kept = usableKubeconfig(path, opts.server);
  if (kept) {
    log.info('using the node credentials kept from an earlier join', { path });
    return kept;
  }
  if (!parseBootstrapToken(opts.token))
    throw new BootstrapError('the token is not a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})');
  const caPem = opts.caPem ?? (await discoverClusterCA(opts.server, opts.token));
  const client = new RestClient(
    { server: opts.server, namespace: 'default', caPem, token: opts.token },
    componentUserAgent('kubelet'),
  );
  try {
    const { csrPem, keyPem } = await createCertificateRequest(`system:node:${opts.nodeName}`, [
      'system:nodes',
    ]);
    const csr: CertificateSigningRequest = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { generateName: 'node-csr-' },
      spec: {
        request: Buffer.from(csrPem).toString('base64'),
        signerName: KUBELET_CLIENT_SIGNER,
        usages: ['digital signature', 'client auth'],
      },
    };
    let created: CertificateSigningRequest;
    try {
      created = await client.create<CertificateSigningRequest>(CSR, undefined, csr);
    } catch (err) {
      throw new BootstrapError(
        `the server did not accept a certificate signing request with the token (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    const name = created.metadata.name ?? '';
    log.info('waiting for the node certificate to be approved and signed', { csr: name });
    const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
    for (;;) {
      const cur = await client.get<CertificateSigningRequest>(CSR, undefined, name);
      const denied = cur.status?.conditions?.find(
        (c) => (c.type === 'Denied' || c.type === 'Failed') && c.status !== 'False',
      );
      if (denied)
        throw new BootstrapError(
          `certificate signing request ${name} was ${denied.type.toLowerCase()}: ${denied.message ?? denied.reason ?? ''}`,
        );
      const certB64 = cur.status?.certificate;
      if (certB64) {
        const certPem = Buffer.from(certB64, 'base64').toString('utf8');
        await writeKubeconfig(path, {
          server: opts.server,
          caPem,
          clientCertPem: certPem,
          clientKeyPem: keyPem,
          userName: `system:node:${opts.nodeName}`,
        });
        log.info('node certificate issued', { csr: name, path });
        return {
          server: opts.server.replace(/\/+$/, ''),
          namespace: 'default',
          caPem,
          clientCertPem: certPem,
          clientKeyPem: keyPem,
        };
      }
      if (Date.now() > deadline)
        throw new BootstrapError(
          `certificate signing request ${name} was not approved and signed in time (is a CSR approver and signer running?)`,
        );
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    }
  } finally {
    client.close();
  }
}
