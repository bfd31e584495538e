// The token cleaner (upstream's pkg/controller/bootstrap/tokencleaner.go): deletes bootstrap token
// Secrets in kube-system once their expiration has passed, so `k8ts token create --ttl` tokens do
// not linger. Authentication and the bootstrap signer already refuse expired tokens on their own;
// this only removes the Secrets. Keys are "kube-system/<name>"; a token not yet expired is looked
// at again when it expires.
import type { Secret } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { Lister } from '../../client/informer.js';
import { BOOTSTRAP_TOKEN_SECRET_TYPE } from '../../pki/tokens.js';
import type { Logger } from '../../util/log.js';
import { isNotFound } from '../common/errors.js';

export const TOKEN_NAMESPACE = 'kube-system';

export type SecretObj = Secret & KubeObject;

export interface TokenCleanerOptions {
  secrets: Lister<SecretObj>;
  /** Deletes the Secret, only if it still has this UID (upstream's precondition). */
  deleteSecret(namespace: string, name: string, uid: string | undefined): Promise<void>;
  /** Look at the key again after ms. */
  enqueueAfter(key: string, ms: number): void;
  log: Logger;
  now?: () => number;
}

/**
 * When a bootstrap token Secret expires, in ms since the epoch: undefined for a Secret that never
 * does (no expiration) or is not a bootstrap token; NaN for an unparseable expiration, which
 * upstream treats as expired.
 */
export function tokenExpiry(secret: SecretObj): number | undefined {
  if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return undefined;
  const raw = secret.data?.['expiration'];
  if (raw === undefined) return undefined;
  const text = Buffer.from(raw, 'base64').toString('utf8');
  return /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
}

export class TokenCleaner {
  private readonly now: () => number;

  constructor(private readonly o: TokenCleanerOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Whether a Secret event concerns this controller. */
  wants(secret: SecretObj): boolean {
    return secret.metadata.namespace === TOKEN_NAMESPACE && secret.type === BOOTSTRAP_TOKEN_SECRET_TYPE;
  }

  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const secret = this.o.secrets.get(namespace, name);
    if (!secret || secret.metadata.deletionTimestamp) return;
    const expiry = tokenExpiry(secret);
    if (expiry === undefined) return;
    const left = Number.isNaN(expiry) ? 0 : expiry - this.now();
    if (left > 0) {
      // Checked again just after it expires (plus a second, as the clock of the writer may lag).
      this.o.enqueueAfter(key, left + 1000);
      return;
    }
    this.o.log.info('deleting expired bootstrap token', { secret: key });
    try {
      await this.o.deleteSecret(namespace, name, secret.metadata.uid);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }
}
