// Reads a kubeconfig (the file kubectl uses) into what a client needs to connect: the server URL,
// the CA to trust, and a client certificate or a bearer token. Validated, since it is a file from outside.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { isPlainObject } from '../api/meta.js';

export interface ConnectionConfig {
  server: string;
  caPem?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
  /**
   * A unix socket to reach the server through with plain HTTP instead of `server` (the API server's
   * own in-process components use it; never read from a kubeconfig).
   */
  socketPath?: string;
  /** Namespace of the current context, 'default' if none. */
  namespace: string;
}

function named(list: unknown, name: string, what: string, file: string): Record<string, unknown> {
  if (!Array.isArray(list)) throw new Error(`kubeconfig ${file}: "${what}s" must be a list`);
  for (const entry of list) {
    if (isPlainObject(entry) && entry.name === name) {
      const inner = entry[what];
      if (!isPlainObject(inner))
        throw new Error(`kubeconfig ${file}: ${what} "${name}" has no ${what} section`);
      return inner;
    }
  }
  throw new Error(`kubeconfig ${file}: no ${what} named "${name}"`);
}

function dataOrFile(section: Record<string, unknown>, dataKey: string, fileKey: string): string | undefined {
  const data = section[dataKey];
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  const file = section[fileKey];
  if (typeof file === 'string') return readFileSync(file, 'utf8');
  return undefined;
}

export function parseKubeconfig(text: string, file = '<kubeconfig>', contextName?: string): ConnectionConfig {
  const doc: unknown = parse(text);
  if (!isPlainObject(doc)) throw new Error(`kubeconfig ${file}: not a YAML mapping`);
  const ctxName = contextName ?? doc['current-context'];
  if (typeof ctxName !== 'string' || ctxName === '')
    throw new Error(`kubeconfig ${file}: no current-context`);
  const ctx = named(doc.contexts, ctxName, 'context', file);
  if (typeof ctx.cluster !== 'string')
    throw new Error(`kubeconfig ${file}: context "${ctxName}" names no cluster`);
  const cluster = named(doc.clusters, ctx.cluster, 'cluster', file);
  const user = typeof ctx.user === 'string' ? named(doc.users, ctx.user, 'user', file) : {};
  if (typeof cluster.server !== 'string')
    throw new Error(`kubeconfig ${file}: cluster "${ctx.cluster}" has no server`);
  const config: ConnectionConfig = {
    server: cluster.server.replace(/\/+$/, ''),
    namespace: typeof ctx.namespace === 'string' && ctx.namespace !== '' ? ctx.namespace : 'default',
  };
  const ca = dataOrFile(cluster, 'certificate-authority-data', 'certificate-authority');
  if (ca) config.caPem = ca;
  if (cluster['insecure-skip-tls-verify'] === true) config.insecureSkipTlsVerify = true;
  const cert = dataOrFile(user, 'client-certificate-data', 'client-certificate');
  const key = dataOrFile(user, 'client-key-data', 'client-key');
  if (cert) config.clientCertPem = cert;
  if (key) config.clientKeyPem = key;
  if (typeof user.token === 'string') config.token = user.token;
  else if (typeof user.tokenFile === 'string') config.token = readFileSync(user.tokenFile, 'utf8').trim();
  return config;
}

export function loadKubeconfig(file: string, contextName?: string): ConnectionConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseKubeconfig(text, file, contextName);
}
