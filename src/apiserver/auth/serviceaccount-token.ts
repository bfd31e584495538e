// ServiceAccount tokens: compact JWS (ES256/ES384/ES512 or RS256) signed with the service-account key.
// Bound tokens (TokenRequest, projected volumes) carry iss/sub/aud/exp/iat/nbf/jti and a kubernetes.io
// claim naming the namespace, the service account and the object the token is bound to; legacy
// Secret-based tokens carry the kubernetes.io/serviceaccount/* claims and never expire.
// The key ID is the unpadded base64url SHA-256 of the public key's DER (SPKI), as upstream derives it.
import {
  type KeyObject,
  createHash,
  createPrivateKey,
  createPublicKey,
  randomUUID,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import type { JsonObject } from '../../api/meta.js';
import { serviceAccountUsername } from './types.js';

export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** k3s' default --service-account-issuer. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** TokenRequest's default and minimum lifetimes (upstream validation). */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
export const MIN_EXPIRATION_SECONDS = 600;

export type JwtAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'RS256';

export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface ObjectRef {
  readonly name: string;
  readonly uid: string;
}

export type BoundObjectRef = (
  { readonly kind: 'Pod' } | { readonly kind: 'Secret' } | { readonly kind: 'Node' }
) &
  ObjectRef;

/** Signs tokens with the service-account private key. */
export interface TokenSigner {
  readonly algorithm: JwtAlgorithm;
  readonly keyId: string;
  sign(claims: JsonObject): string;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function algorithmFor(key: KeyObject): JwtAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return 'ES256';
    if (curve === 'secp384r1' || curve === 'P-384') return 'ES384';
    if (curve === 'secp521r1' || curve === 'P-521') return 'ES512';
    throw new Error(`unsupported ECDSA curve ${String(curve)}; must be P-256, P-384 or P-521`);
  }
  throw new Error(`unsupported service-account key type ${String(key.asymmetricKeyType)}`);
}

function hashFor(alg: JwtAlgorithm): string {
  switch (alg) {
    case 'ES256':
    case 'RS256':
      return 'sha256';
    case 'ES384':
      return 'sha384';
    case 'ES512':
      return 'sha512';
  }
}

/** Upstream's key ID: base64url(SHA-256(DER SubjectPublicKeyInfo)). */
export function keyIdFromPublicKey(publicKey: string | KeyObject): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const der = key.export({ type: 'spki', format: 'der' });
  return b64url(createHash('sha256').update(der).digest());
}

export function createTokenSigner(privateKeyPem: string): TokenSigner {
  const key = createPrivateKey(privateKeyPem);
  const algorithm = algorithmFor(key);
  const keyId = keyIdFromPublicKey(createPublicKey(key));
  const header = b64url(JSON.stringify({ alg: algorithm, kid: keyId }));
  return {
    algorithm,
    keyId,
    sign(claims: JsonObject): string {
      const input = `${header}.${b64url(JSON.stringify(claims))}`;
      const sig =
        algorithm === 'RS256'
          ? cryptoSign('sha256', Buffer.from(input), key)
          : cryptoSign(hashFor(algorithm), Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
      return `${input}.${b64url(sig)}`;
    },
  };
}

export interface VerificationKey {
  readonly keyId: string;
  readonly key: KeyObject;
  readonly algorithm: JwtAlgorithm;
}

export function verificationKeys(publicKeyPems: readonly string[]): VerificationKey[] {
  return publicKeyPems.map((pem) => {
    const key = createPublicKey(pem);
    return { keyId: keyIdFromPublicKey(key), key, algorithm: algorithmFor(key) };
  });
}

export interface DecodedJwt {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  readonly signingInput: string;
  readonly signature: Buffer;
}

/** Splits and decodes a compact JWS without verifying it; undefined if it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  if (token.trimStart().startsWith('{')) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h = '', p = '', s = ''] = parts;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
    return {
      header: header as Record<string, unknown>,
      payload: payload as Record<string, unknown>,
      signingInput: `${h}.${p}`,
      signature: Buffer.from(s, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/** Checks the signature with one key; the algorithm in the header must be the key's. */
export function verifyJwtSignature(jwt: DecodedJwt, key: VerificationKey): boolean {
  if (jwt.header['alg'] !== key.algorithm) return false;
  const data = Buffer.from(jwt.signingInput);
  try {
    return key.algorithm === 'RS256'
      ? cryptoVerify('sha256', data, key.key, jwt.signature)
      : cryptoVerify(
          hashFor(key.algorithm),
          data,
          { key: key.key, dsaEncoding: 'ieee-p1363' },
          jwt.signature,
        );
  } catch {
    return false;
  }
}

export interface IssueTokenOptions {
  readonly issuer: string;
  readonly serviceAccount: ServiceAccountRef;
  /** Empty means the API server's own audiences, which the caller passes here. */
  readonly audiences: readonly string[];
  readonly expirationSeconds?: number;
  /** A Pod, Secret or Node the token is bound to: deleting it invalidates the token. */
  readonly boundObject?: BoundObjectRef;
  /** For pod-bound tokens, the node the pod runs on (recorded as upstream does since 1.30). */
  readonly node?: ObjectRef;
  readonly now?: Date;
}

export interface IssuedToken {
  readonly token: string;
  /** RFC 3339, for TokenRequest's status.expirationTimestamp. */
  readonly expirationTimestamp: string;
  /** The jti claim. */
  readonly id: string;
}

function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A bound token, as the serviceaccounts/token subresource (TokenRequest) returns it. */
export function issueServiceAccountToken(signer: TokenSigner, opts: IssueTokenOptions): IssuedToken {
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const exp = now + (opts.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS);
  const id = randomUUID();
  const k8s: JsonObject = {
    namespace: opts.serviceAccount.namespace,
    serviceaccount: { name: opts.serviceAccount.name, uid: opts.serviceAccount.uid },
  };
  const bound = opts.boundObject;
  if (bound) {
    const ref: JsonObject = { name: bound.name, uid: bound.uid };
    if (bound.kind === 'Pod') k8s['pod'] = ref;
    else if (bound.kind === 'Secret') k8s['secret'] = ref;
    else k8s['node'] = ref;
  }
  if (opts.node && bound?.kind === 'Pod') k8s['node'] = { name: opts.node.name, uid: opts.node.uid };
  const claims: JsonObject = {
    aud: [...opts.audiences],
    exp,
    iat: now,
    iss: opts.issuer,
    jti: id,
    'kubernetes.io': k8s,
    nbf: now,
    sub: serviceAccountUsername(opts.serviceAccount.namespace, opts.serviceAccount.name),
  };
  return { token: signer.sign(claims), expirationTimestamp: rfc3339(exp), id };
}

/** A legacy token as the tokens controller writes into a kubernetes.io/service-account-token Secret. */
export function issueLegacyServiceAccountToken(
  signer: TokenSigner,
  serviceAccount: ServiceAccountRef,
  secretName: string,
): string {
  return signer.sign({
    iss: LEGACY_ISSUER,
    'kubernetes.io/serviceaccount/namespace': serviceAccount.namespace,
    'kubernetes.io/serviceaccount/secret.name': secretName,
    'kubernetes.io/serviceaccount/service-account.name': serviceAccount.name,
    'kubernetes.io/serviceaccount/service-account.uid': serviceAccount.uid,
    sub: serviceAccountUsername(serviceAccount.namespace, serviceAccount.name),
  });
}

/** The JSON Web Key Set served at /openid/v1/jwks. */
export function jwks(publicKeyPems: readonly string[]): { keys: JsonObject[] } {
  return {
    keys: verificationKeys(publicKeyPems).map((k) => {
      const jwk = k.key.export({ format: 'jwk' });
      const out: JsonObject = { use: 'sig', kty: String(jwk.kty), kid: k.keyId, alg: k.algorithm };
      if (jwk.kty === 'EC') {
        out['crv'] = String(jwk.crv);
        out['x'] = String(jwk.x);
        out['y'] = String(jwk.y);
      } else {
        out['n'] = String(jwk.n);
        out['e'] = String(jwk.e);
      }
      return out;
    }),
  };
}

/** The document served at /.well-known/openid-configuration. */
export function openIdConfiguration(
  issuer: string,
  jwksUri: string,
  publicKeyPems: readonly string[],
): JsonObject {
  const algs = [...new Set(verificationKeys(publicKeyPems).map((k) => k.algorithm))];
  return {
    issuer,
    jwks_uri: jwksUri,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: algs,
  };
}
