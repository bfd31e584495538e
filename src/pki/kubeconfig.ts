// Kubeconfig files as kubectl and client-go read them (clientcmd/api/v1): one cluster, one user,
// one context, credentials inlined as base64 *-data fields.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { writeSecretFile } from './secret-file.js';

export interface KubeconfigOptions {
  readonly server: string;
  readonly caPem: string;
  /** Client certificate credentials... */
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  /** ...or a bearer token (bootstrap or ServiceAccount token). */
  readonly token?: string;
  readonly userName?: string;
  readonly clusterName?: string;
  readonly contextName?: string;
  /** Default namespace of the context. */
  readonly namespace?: string;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** The kubeconfig document as YAML text. */
export function renderKubeconfig(opts: KubeconfigOptions): string {
  const clusterName = opts.clusterName ?? 'default';
  const userName = opts.userName ?? 'default';
  const contextName = opts.contextName ?? 'default';
  const user: Record<string, string> = {};
  if (opts.clientCertPem !== undefined || opts.clientKeyPem !== undefined) {
    if (opts.clientCertPem === undefined || opts.clientKeyPem === undefined) {
      throw new Error('a kubeconfig with a client certificate needs both the certificate and its key');
    }
    user['client-certificate-data'] = b64(opts.clientCertPem);
    user['client-key-data'] = b64(opts.clientKeyPem);
  }
  if (opts.token !== undefined) user['token'] = opts.token;
  const context: Record<string, string> = { cluster: clusterName, user: userName };
  if (opts.namespace) context['namespace'] = opts.namespace;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: clusterName, cluster: { 'certificate-authority-data': b64(opts.caPem), server: opts.server } },
    ],
    contexts: [{ name: contextName, context }],
    'current-context': contextName,
    preferences: {},
    users: [{ name: userName, user }],
  };
  return stringify(doc);
}

/** Writes a kubeconfig with mode 0600, creating its directory. */
export async function writeKubeconfig(path: string, opts: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeSecretFile(path, renderKubeconfig(opts));
}
