// Detached JSON Web Signatures as k8s.io/cluster-bootstrap's jws package makes them for
// kube-public/cluster-info: HS256 keyed by a bootstrap token's secret, "kid" the token id, the
// payload left out ("<header>..<signature>").
import { createHmac, timingSafeEqual } from 'node:crypto';

function b64url(buf: Buffer | string): string {
  return Buffer.from(buf).toString('base64url');
}

/** The detached JWS (header..signature) the bootstrap signer puts next to cluster-info's kubeconfig. */
export function computeDetachedSignature(content: string, tokenId: string, tokenSecret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: tokenId }));
  const sig = createHmac('sha256', tokenSecret)
    .update(`${header}.${b64url(content)}`)
    .digest();
  return `${header}..${b64url(sig)}`;
}

/** Whether a detached JWS over content was made with this token (HS256, kid = token id). */
export function verifyDetachedSignature(
  content: string,
  detached: string,
  tokenId: string,
  tokenSecret: string,
): boolean {
  const parts = detached.split('.');
  if (parts.length !== 3 || parts[1] !== '') return false;
  const [header = '', , sig = ''] = parts;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null) return false;
  const h = parsed as Record<string, unknown>;
  if (h.alg !== 'HS256' || h.kid !== tokenId) return false;
  const expected = createHmac('sha256', tokenSecret)
    .update(`${header}.${b64url(content)}`)
    .digest();
  const given = Buffer.from(sig, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
