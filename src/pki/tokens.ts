// Random tokens and bootstrap tokens (k8s.io/cluster-bootstrap): "<id>.<secret>" with a 6-character id
// and a 16-character secret from [a-z0-9], stored server-side as a Secret of type
// bootstrap.kubernetes.io/token named bootstrap-token-<id> in kube-system.
import { randomInt } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../api/meta.js';
import { writeSecretFile } from './secret-file.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
/** The extra group joining agents get, after kubeadm's system:bootstrappers:kubeadm:default-node-token. */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:k8ts:default-node-token';

/** A random string of `length` characters from [a-z0-9], uniformly distributed. */
export function randomToken(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export interface BootstrapToken {
  readonly id: string;
  readonly secret: string;
  /** "<id>.<secret>", what a client sends as its bearer token. */
  readonly token: string;
}

export function generateBootstrapToken(): BootstrapToken {
  const id = randomToken(6);
  const secret = randomToken(16);
  return { id, secret, token: `${id}.${secret}` };
}

export function parseBootstrapToken(token: string): BootstrapToken | undefined {
  const m = BOOTSTRAP_TOKEN_PATTERN.exec(token);
  if (!m?.[1] || !m[2]) return undefined;
  return { id: m[1], secret: m[2], token };
}

export interface BootstrapTokenSecretOptions {
  readonly description?: string;
  /** Absolute expiry; absent means the token never expires. */
  readonly expiration?: Date;
  readonly extraGroups?: readonly string[];
  readonly usageAuthentication?: boolean;
  readonly usageSigning?: boolean;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** The kube-system Secret that makes a bootstrap token valid (what `kubeadm token create` writes). */
export function bootstrapTokenSecret(
  token: BootstrapToken,
  opts: BootstrapTokenSecretOptions = {},
): KubeObject {
  const data: Record<string, string> = {
    'token-id': b64(token.id),
    'token-secret': b64(token.secret),
  };
  if (opts.description) data['description'] = b64(opts.description);
  if (opts.expiration) data['expiration'] = b64(opts.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  if (opts.usageAuthentication ?? true) data['usage-bootstrap-authentication'] = b64('true');
  if (opts.usageSigning) data['usage-bootstrap-signing'] = b64('true');
  if (opts.extraGroups && opts.extraGroups.length > 0)
    data['auth-extra-groups'] = b64(opts.extraGroups.join(','));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: BOOTSTRAP_TOKEN_SECRET_PREFIX + token.id, namespace: 'kube-system' },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    data,
  };
}

/**
 * Reads <dataDir>/node-token, creating it (mode 0600) with a new bootstrap token on first start.
 * The server must also keep bootstrapTokenSecret(token, { extraGroups: [DEFAULT_NODE_TOKEN_GROUP] })
 * in kube-system so that agents can authenticate with it.
 */
export async function ensureNodeToken(dataDir: string): Promise<BootstrapToken> {
  const path = join(dataDir, 'node-token');
  try {
    const existing = parseBootstrapToken((await readFile(path, 'utf8')).trim());
    if (existing) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = generateBootstrapToken();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeSecretFile(path, token.token + '\n');
  return token;
}
