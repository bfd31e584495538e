// Authentication as kube-apiserver composes it: client certificates, then bearer tokens (static token
// file, ServiceAccount JWTs, bootstrap tokens) tried in turn; the first that recognises the credential
// wins. Every authenticated user also gets system:authenticated. A request without credentials is the
// anonymous user when anonymous access is on; a request whose credentials fail is not authenticated
// at all (401), never downgraded to anonymous.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { KubeObject } from '../../api/meta.js';
import { isPlainObject } from '../../api/meta.js';
import { createLogger } from '../../util/log.js';
import { ANONYMOUS_USER } from '../request-info.js';
import {
  type DecodedJwt,
  LEGACY_ISSUER,
  type VerificationKey,
  decodeJwt,
  verificationKeys,
  verifyJwtSignature,
} from './serviceaccount-token.js';
import {
  ALL_AUTHENTICATED,
  ALL_UNAUTHENTICATED,
  BOOTSTRAP_DEFAULT_GROUP,
  BOOTSTRAP_USER_PREFIX,
  type MaybePromise,
  SERVICE_ACCOUNTS_GROUP,
  SERVICE_ACCOUNT_GROUP_PREFIX,
  type UserInfo,
  serviceAccountUsername,
} from './types.js';

const log = createLogger('authn');

/** What one authenticator concluded. `ok: false` without an error means "not my kind of credential". */
export type AuthResult =
  | { readonly ok: true; readonly user: UserInfo; readonly audiences?: readonly string[] }
  | { readonly ok: false; readonly error?: string };

const NO_OPINION: AuthResult = { ok: false };
const fail = (error: string): AuthResult => ({ ok: false, error });

/** Authenticates a bearer token; `audiences` are the ones requested (TokenReview), else the server's. */
export type TokenAuthenticator = (token: string, audiences?: readonly string[]) => Promise<AuthResult>;

export type RequestAuthenticator = (req: IncomingMessage) => Promise<AuthResult>;

// ---------------------------------------------------------------------------------------------
// Client certificates

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const ANY_EKU_OID = '2.5.29.37.0';

/**
 * X.509 client certificates verified by the TLS layer against the cluster CA (the server listens with
 * requestCert: true, rejectUnauthorized: false): CN is the user name and each O a group.
 */
export function clientCertificateAuthenticator(): RequestAuthenticator {
  // The peer certificate and its verification are fixed at the handshake: work the answer out once
  // per connection, not per request (getPeerCertificate builds a fresh object tree on every call).
  const perSocket = new WeakMap<TLSSocket, AuthResult>();
  return (req) => {
    const socket = req.socket;
    if (!(socket instanceof TLSSocket)) return Promise.resolve(NO_OPINION);
    let result = perSocket.get(socket);
    if (!result) {
      result = certificateResult(socket);
      perSocket.set(socket, result);
    }
    return Promise.resolve(result);
  };
}

function certificateResult(socket: TLSSocket): AuthResult {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0 || !cert.raw) return NO_OPINION;
  if (!socket.authorized) {
    const why = socket.authorizationError ? String(socket.authorizationError) : 'certificate not trusted';
    return fail(`verifying certificate ${describeCert(cert.subject)} failed: x509: ${why}`);
  }
  const eku = cert.ext_key_usage;
  if (eku && eku.length > 0 && !eku.includes(CLIENT_AUTH_OID) && !eku.includes(ANY_EKU_OID)) {
    return fail('x509: certificate specifies an incompatible key usage');
  }
  const subject = cert.subject as unknown as Record<string, string | string[] | undefined>;
  const cn = first(subject['CN']);
  if (!cn) return NO_OPINION;
  const groups = list(subject['O']);
  const fingerprint = createHash('sha256').update(cert.raw).digest('hex');
  return {
    ok: true,
    user: {
      name: cn,
      groups,
      extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${fingerprint}`] },
    },
  };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function list(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? [...v] : [v];
}

function describeCert(subject: unknown): string {
  const s = subject as Record<string, string | string[] | undefined> | undefined;
  const cn = s ? first(s['CN']) : undefined;
  return cn ? `"${cn}"` : '';
}

// ---------------------------------------------------------------------------------------------
// Static token file (--token-auth-file)

export interface StaticTokenEntry {
  readonly token: string;
  readonly user: UserInfo;
}

/** Splits one CSV record the way encoding/csv does (quoted fields, doubled quotes, leading spaces trimmed). */
function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new Error('extraneous or missing " in quoted-field');
        const c = line[i];
        if (c === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += c;
        i++;
      }
      if (i < line.length && line[i] !== ',') throw new Error('extraneous or missing " in quoted-field');
    } else {
      const end = line.indexOf(',', i);
      field = end < 0 ? line.slice(i) : line.slice(i, end);
      i = end < 0 ? line.length : end;
    }
    out.push(field);
    if (i >= line.length) break;
    i++; // the comma
    if (i === line.length) {
      out.push('');
      break;
    }
  }
  return out;
}

/** Parses token-file CSV: token,user,uid[,"group1,group2"]. Throws on malformed records, as upstream does. */
export function parseTokenFile(text: string, source = 'token file'): StaticTokenEntry[] {
  const entries = new Map<string, StaticTokenEntry>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    const record = parseCsvLine(raw);
    if (record.length < 3) {
      throw new Error(
        `token file '${source}' must have at least 3 columns (token, user name, user uid), found ${record.length}`,
      );
    }
    const token = (record[0] ?? '').trim();
    if (token === '') {
      log.warn('skipping record with an empty token', { source, record: index + 1 });
      return;
    }
    if (entries.has(token)) log.warn('duplicate token in token file', { source, record: index + 1 });
    const groups: string[] = [];
    if (record.length >= 4 && record[3]) {
      for (const g of record[3].split(',')) if (g.trim() !== '') groups.push(g.trim());
    }
    entries.set(token, { token, user: { name: record[1] ?? '', uid: record[2] ?? '', groups } });
  });
  return [...entries.values()];
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function staticTokenAuthenticator(entries: readonly StaticTokenEntry[]): TokenAuthenticator {
  const byToken = new Map(entries.map((e) => [e.token, e]));
  return (token) => {
    const entry = byToken.get(token);
    if (!entry || !safeEqual(entry.token, token)) return Promise.resolve(NO_OPINION);
    return Promise.resolve({ ok: true, user: { ...entry.user, groups: [...entry.user.groups] } });
  };
}

export async function loadTokenFile(path: string): Promise<TokenAuthenticator> {
  return staticTokenAuthenticator(parseTokenFile(await readFile(path, 'utf8'), path));
}

// ---------------------------------------------------------------------------------------------
// Secrets' data

/** One value of a Secret's data (base64) or stringData, as text; undefined if absent. */
export function secretValue(secret: KubeObject, key: string): string | undefined {
  const data = secret['data'];
  if (isPlainObject(data) && typeof data[key] === 'string') {
    return Buffer.from(data[key], 'base64').toString('utf8');
  }
  const stringData = secret['stringData'];
  if (isPlainObject(stringData) && typeof stringData[key] === 'string') return stringData[key];
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Bootstrap tokens

const BOOTSTRAP_TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const BOOTSTRAP_GROUP = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

export type SecretGetter = (namespace: string, name: string) => MaybePromise<KubeObject | undefined>;

/**
 * Bootstrap tokens "<id>.<secret>" backed by kube-system/bootstrap-token-<id> Secrets of type
 * bootstrap.kubernetes.io/token, marked usage-bootstrap-authentication=true and not expired.
 * The user is system:bootstrap:<id> in system:bootstrappers plus the secret's auth-extra-groups.
 */
export function bootstrapTokenAuthenticator(
  getSecret: SecretGetter,
  now: () => Date = () => new Date(),
): TokenAuthenticator {
  return async (token) => {
    const m = BOOTSTRAP_TOKEN.exec(token);
    if (!m?.[1] || !m[2]) return NO_OPINION;
    const [, id, tokenSecret] = m;
    const name = `bootstrap-token-${id}`;
    const secret = await getSecret('kube-system', name);
    const reject = (why: string): AuthResult => {
      log.debug(`bootstrap secret kube-system/${name} matching bearer token ${why}`);
      return NO_OPINION;
    };
    if (!secret) return reject('does not exist');
    if (secret.metadata.deletionTimestamp) return reject('is deleted and awaiting removal');
    if (secret['type'] !== 'bootstrap.kubernetes.io/token') return reject('has an invalid type');
    if (!safeEqual(secretValue(secret, 'token-secret') ?? '', tokenSecret))
      return reject('has an invalid token-secret');
    if (secretValue(secret, 'token-id') !== id) return reject('has an invalid token-id');
    const expiration = secretValue(secret, 'expiration');
    if (expiration !== undefined) {
      const at = Date.parse(expiration);
      if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}T/.test(expiration) || at < now().getTime()) {
        return reject('has expired');
      }
    }
    if (secretValue(secret, 'usage-bootstrap-authentication') !== 'true') {
      return reject('is not marked usage-bootstrap-authentication=true');
    }
    const groups = new Set([BOOTSTRAP_DEFAULT_GROUP]);
    const extra = secretValue(secret, 'auth-extra-groups');
    if (extra) {
      for (const g of extra.split(',')) {
        const group = g.trim();
        if (group === '') continue;
        if (!BOOTSTRAP_GROUP.test(group)) return reject(`has an invalid auth-extra-groups entry "${group}"`);
        groups.add(group);
      }
    }
    return { ok: true, user: { name: BOOTSTRAP_USER_PREFIX + id, groups: [...groups].sort() } };
  };
}

// ---------------------------------------------------------------------------------------------
// ServiceAccount tokens

export interface ServiceAccountTokenGetters {
  getServiceAccount(namespace: string, name: string): MaybePromise<KubeObject | undefined>;
  getSecret?(namespace: string, name: string): MaybePromise<KubeObject | undefined>;
  getPod?(namespace: string, name: string): MaybePromise<KubeObject | undefined>;
  getNode?(name: string): MaybePromise<KubeObject | undefined>;
}

export interface ServiceAccountAuthenticatorOptions {
  /** Accepted issuers; the legacy "kubernetes/serviceaccount" is accepted too. */
  readonly issuers: readonly string[];
  /** Public keys that may have signed tokens (PEM). */
  readonly publicKeys: readonly string[];
  /** The API server's audiences (--api-audiences, default the issuer). */
  readonly audiences: readonly string[];
  readonly getters: ServiceAccountTokenGetters;
  readonly now?: () => Date;
}

/** go-jose's default leeway for exp, nbf and iat. */
const LEEWAY_SECONDS = 60;

interface Ref {
  name: string;
  uid: string;
}

function refOf(v: unknown): Ref | undefined {
  if (!isPlainObject(v)) return undefined;
  return {
    name: typeof v['name'] === 'string' ? v['name'] : '',
    uid: typeof v['uid'] === 'string' ? v['uid'] : '',
  };
}

function numericClaim(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function audiencesOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((a): a is string => typeof a === 'string');
  return [];
}

function deletedBefore(obj: KubeObject, cutoffMs: number): boolean {
  const ts = obj.metadata.deletionTimestamp;
  return ts !== undefined && Date.parse(ts) < cutoffMs;
}

function uidOf(obj: KubeObject): string {
  return obj.metadata.uid ?? '';
}

/** Bound and legacy ServiceAccount JWTs, validated against the live ServiceAccount (and bound object). */
export function serviceAccountTokenAuthenticator(
  opts: ServiceAccountAuthenticatorOptions,
): TokenAuthenticator {
  const issuers = new Set([...opts.issuers, LEGACY_ISSUER]);
  const keys = verificationKeys(opts.publicKeys);
  const now = opts.now ?? (() => new Date());
  const g = opts.getters;

  return async (token, requestedAudiences) => {
    const jwt = decodeJwt(token);
    if (!jwt || typeof jwt.payload['iss'] !== 'string' || !issuers.has(jwt.payload['iss'])) return NO_OPINION;

    const kid = typeof jwt.header['kid'] === 'string' ? jwt.header['kid'] : '';
    const candidates: VerificationKey[] = kid ? keys.filter((k) => k.keyId === kid) : keys;
    if (candidates.length === 0) return fail('invalid signature, no keys found');
    if (!candidates.some((k) => verifyJwtSignature(jwt, k)))
      return fail('square/go-jose: error in cryptographic primitive');

    const claims = jwt.payload;
    const nowMs = now().getTime();
    const nowS = Math.floor(nowMs / 1000);
    const tokenAudiences = audiencesOf(claims['aud']);
    const implicit = opts.audiences;
    const effective = tokenAudiences.length > 0 ? tokenAudiences : implicit;
    const requested = requestedAudiences && requestedAudiences.length > 0 ? requestedAudiences : implicit;
    const audiences = effective.filter((a) => requested.includes(a));
    if (audiences.length === 0 && implicit.length > 0) {
      return fail(
        `token audiences ${goQuoted(effective)} is invalid for the target audiences ${goQuoted(requested)}`,
      );
    }

    if (claims['iss'] === LEGACY_ISSUER) return validateLegacy(jwt, token, g, audiences);

    const exp = numericClaim(claims['exp']);
    const nbf = numericClaim(claims['nbf']);
    const iat = numericClaim(claims['iat']);
    if (exp !== undefined && nowS - LEEWAY_SECONDS > exp) return fail('service account token has expired');
    if (nbf !== undefined && nowS + LEEWAY_SECONDS < nbf)
      return fail('service account token is not valid yet');
    if (iat !== undefined && nowS + LEEWAY_SECONDS < iat)
      return fail('service account token is issued in the future');

    const k8s = claims['kubernetes.io'];
    if (!isPlainObject(k8s)) return fail('service account token claims could not be validated');
    const namespace = typeof k8s['namespace'] === 'string' ? k8s['namespace'] : '';
    const saRef = refOf(k8s['serviceaccount']);
    if (!namespace || !saRef?.name) return fail('service account token claims could not be validated');
    const cutoff = nowMs - LEEWAY_SECONDS * 1000;

    const sa = await g.getServiceAccount(namespace, saRef.name);
    if (!sa) return fail(`serviceaccounts "${saRef.name}" not found`);
    if (deletedBefore(sa, cutoff)) return fail(`service account ${namespace}/${saRef.name} has been deleted`);
    if (uidOf(sa) !== saRef.uid) {
      return fail(`service account UID (${uidOf(sa)}) does not match claim (${saRef.uid})`);
    }

    const invalidated = fail('service account token has been invalidated');
    const secretRef = refOf(k8s['secret']);
    if (secretRef) {
      const secret = g.getSecret ? await g.getSecret(namespace, secretRef.name) : undefined;
      if (!secret || deletedBefore(secret, cutoff)) return invalidated;
      if (uidOf(secret) !== secretRef.uid) {
        return fail(
          `secret UID (${uidOf(secret)}) does not match service account secret ref claim (${secretRef.uid})`,
        );
      }
    }
    const podRef = refOf(k8s['pod']);
    if (podRef) {
      const pod = g.getPod ? await g.getPod(namespace, podRef.name) : undefined;
      if (!pod || deletedBefore(pod, cutoff)) return invalidated;
      if (uidOf(pod) !== podRef.uid) {
        return fail(`pod UID (${uidOf(pod)}) does not match service account pod ref claim (${podRef.uid})`);
      }
    }
    const nodeRef = refOf(k8s['node']);
    // A node named alongside a pod is informational; a token bound to a node is checked against it.
    if (nodeRef && !podRef) {
      const node = g.getNode ? await g.getNode(nodeRef.name) : undefined;
      if (!node || deletedBefore(node, cutoff)) return invalidated;
      if (uidOf(node) !== nodeRef.uid) {
        return fail(
          `node UID (${uidOf(node)}) does not match service account node ref claim (${nodeRef.uid})`,
        );
      }
    }

    const extra: Record<string, string[]> = {};
    if (podRef) {
      extra['authentication.kubernetes.io/pod-name'] = [podRef.name];
      extra['authentication.kubernetes.io/pod-uid'] = [podRef.uid];
    }
    if (nodeRef) {
      extra['authentication.kubernetes.io/node-name'] = [nodeRef.name];
      if (nodeRef.uid) extra['authentication.kubernetes.io/node-uid'] = [nodeRef.uid];
    }
    if (typeof claims['jti'] === 'string' && claims['jti'] !== '') {
      extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims['jti']}`];
    }
    return { ok: true, user: serviceAccountUser(namespace, saRef.name, saRef.uid, extra), audiences };
  };
}

async function validateLegacy(
  jwt: DecodedJwt,
  token: string,
  g: ServiceAccountTokenGetters,
  audiences: readonly string[],
): Promise<AuthResult> {
  const c = jwt.payload;
  const str = (k: string): string => (typeof c[k] === 'string' ? c[k] : '');
  const namespace = str('kubernetes.io/serviceaccount/namespace');
  const secretName = str('kubernetes.io/serviceaccount/secret.name');
  const saName = str('kubernetes.io/serviceaccount/service-account.name');
  const saUid = str('kubernetes.io/serviceaccount/service-account.uid');
  if (!namespace || !secretName || !saName || !saUid)
    return fail('service account token claims could not be validated');
  if (c['sub'] !== serviceAccountUsername(namespace, saName))
    return fail('sub claim does not match the service account');

  const sa = await g.getServiceAccount(namespace, saName);
  if (!sa) return fail(`serviceaccounts "${saName}" not found`);
  if (sa.metadata.deletionTimestamp) return fail(`service account ${namespace}/${saName} has been deleted`);
  if (uidOf(sa) !== saUid) return fail(`service account UID (${uidOf(sa)}) does not match claim (${saUid})`);

  const secret = g.getSecret ? await g.getSecret(namespace, secretName) : undefined;
  if (!secret) return fail('service account token has been invalidated');
  if (secret.metadata.deletionTimestamp) return fail('service account token has been invalidated');
  if (secret.metadata.labels?.['kubernetes.io/legacy-token-invalid-since']) {
    return fail('service account token has been invalidated');
  }
  if (!safeEqual(secretValue(secret, 'token') ?? '', token))
    return fail('service account token has been invalidated');
  const extra: Record<string, string[]> = {
    'authentication.kubernetes.io/credential-id': [`SecretUID=${uidOf(secret)}`],
  };
  return { ok: true, user: serviceAccountUser(namespace, saName, saUid, extra), audiences };
}

export function serviceAccountUser(
  namespace: string,
  name: string,
  uid: string,
  extra: Record<string, string[]> = {},
): UserInfo {
  const user: UserInfo = {
    name: serviceAccountUsername(namespace, name),
    uid,
    groups: [SERVICE_ACCOUNTS_GROUP, SERVICE_ACCOUNT_GROUP_PREFIX + namespace],
  };
  return Object.keys(extra).length > 0 ? { ...user, extra } : user;
}

/** Go's %q of a []string: ["a" "b"]. */
export function goQuoted(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Composition

/** Tries each token authenticator in order; the first success wins, failures are collected. */
export function unionTokenAuthenticator(authenticators: readonly TokenAuthenticator[]): TokenAuthenticator {
  return async (token, audiences) => {
    const errors: string[] = [];
    for (const a of authenticators) {
      let r: AuthResult;
      try {
        r = await a(token, audiences);
      } catch (err) {
        r = fail(err instanceof Error ? err.message : String(err));
      }
      if (r.ok) return r;
      if (r.error) errors.push(r.error);
    }
    return errors.length > 0 ? fail(aggregate(errors)) : NO_OPINION;
  };
}

/** utilerrors.NewAggregate's text: the message alone, or [a, b] for several (duplicates removed). */
export function aggregate(errors: readonly string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? (unique[0] ?? '') : `[${unique.join(', ')}]`;
}

interface CacheEntry {
  readonly result: AuthResult;
  readonly expires: number;
}

/** Caches successful token authentications (upstream: 10 s for successes, failures not cached). */
export function cachedTokenAuthenticator(
  inner: TokenAuthenticator,
  ttlMs: number,
  maxEntries = 4096,
): TokenAuthenticator {
  if (ttlMs <= 0) return inner;
  const cache = new Map<string, CacheEntry>();
  return async (token, audiences) => {
    const key = createHash('sha256')
      .update(token)
      .update('\0')
      .update((audiences ?? []).join(','))
      .digest('hex');
    const hit = cache.get(key);
    const now = Date.now();
    if (hit && hit.expires > now) return hit.result;
    if (hit) cache.delete(key);
    const result = await inner(token, audiences);
    if (result.ok) {
      if (cache.size >= maxEntries) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      cache.set(key, { result, expires: now + ttlMs });
    }
    return result;
  };
}

const WEBSOCKET_TOKEN_PREFIX = 'base64url.bearer.authorization.k8s.io.';

/**
 * The bearer token of a request: "Authorization: Bearer <token>", or for WebSocket upgrades the
 * subprotocol base64url.bearer.authorization.k8s.io.<token>. Undefined when none is presented.
 */
export function bearerTokenOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const parts = auth.split(' ');
    if (parts.length >= 2 && parts[0]?.toLowerCase() === 'bearer' && parts[1]) return parts[1];
    return undefined;
  }
  const upgrade = req.headers.upgrade;
  const protocols = req.headers['sec-websocket-protocol'];
  if (upgrade && upgrade.toLowerCase() === 'websocket' && protocols) {
    for (const p of protocols.split(',')) {
      const proto = p.trim();
      if (proto.startsWith(WEBSOCKET_TOKEN_PREFIX)) {
        const encoded = proto.slice(WEBSOCKET_TOKEN_PREFIX.length);
        const token = Buffer.from(encoded, 'base64url').toString('utf8');
        return token === '' ? undefined : token;
      }
    }
  }
  return undefined;
}

/** Removes the credential so that it is not passed on (proxy subresources, WebSocket subprotocols). */
export function stripBearerToken(req: IncomingMessage): void {
  if (req.headers.authorization !== undefined) {
    delete req.headers.authorization;
    return;
  }
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols) {
    const kept = protocols
      .split(',')
      .map((p) => p.trim())
      .filter((p) => !p.startsWith(WEBSOCKET_TOKEN_PREFIX));
    if (kept.length > 0) req.headers['sec-websocket-protocol'] = kept.join(', ');
    else delete req.headers['sec-websocket-protocol'];
  }
}

/** Adds system:authenticated unless the user already has it or is unauthenticated. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(ALL_AUTHENTICATED) || user.groups.includes(ALL_UNAUTHENTICATED)) return user;
  return { ...user, groups: [...user.groups, ALL_AUTHENTICATED] };
}

export interface AuthenticatorOptions {
  /** Accept client certificates verified by the TLS layer (default true). */
  readonly clientCertificates?: boolean;
  /** Token authenticators in upstream's order: token file, ServiceAccount tokens, bootstrap tokens. */
  readonly tokenAuthenticators?: readonly TokenAuthenticator[];
  /** Requests without credentials become system:anonymous (default true, as --anonymous-auth). */
  readonly anonymous?: boolean;
  /** How long successful token authentications are cached (default 10 s; 0 disables). */
  readonly tokenCacheTtlMs?: number;
}

export interface AuthenticationOutcome {
  /** The authenticated (or anonymous) user; absent means respond 401 Unauthorized. */
  readonly user?: UserInfo;
  /** Why credentials were rejected, for logs (never sent to the client). */
  readonly error?: string;
  /** Whether a bearer token was used (the server may strip it before proxying). */
  readonly usedToken?: boolean;
}

export interface Authenticator {
  /** The API server's hook: the user, or undefined when the request must get 401. */
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined>;
  /** Same decision with the reason for a rejection. */
  authenticateRequest(req: IncomingMessage): Promise<AuthenticationOutcome>;
  /** For TokenReview: a token alone, against the requested audiences. */
  authenticateToken(token: string, audiences?: readonly string[]): Promise<AuthResult>;
}

export function createAuthenticator(opts: AuthenticatorOptions = {}): Authenticator {
  const certs = opts.clientCertificates === false ? undefined : clientCertificateAuthenticator();
  const tokens = cachedTokenAuthenticator(
    unionTokenAuthenticator(opts.tokenAuthenticators ?? []),
    opts.tokenCacheTtlMs ?? 10_000,
  );
  const anonymous = opts.anonymous ?? true;

  const authenticateToken = async (token: string, audiences?: readonly string[]): Promise<AuthResult> => {
    const r = await tokens(token, audiences);
    return r.ok ? { ...r, user: withAuthenticatedGroup(r.user) } : r;
  };

  const authenticateRequest = async (req: IncomingMessage): Promise<AuthenticationOutcome> => {
    const errors: string[] = [];
    if (certs) {
      const r = await certs(req);
      if (r.ok) return { user: withAuthenticatedGroup(r.user) };
      if (r.error) errors.push(r.error);
    }
    const token = bearerTokenOf(req);
    if (token !== undefined) {
      const r = await authenticateToken(token);
      if (r.ok) return { user: r.user, usedToken: true };
      errors.push(r.error ?? 'invalid bearer token');
    }
    if (errors.length > 0) {
      const error = aggregate(errors);
      log.debug('unable to authenticate the request', { error });
      return { error };
    }
    return anonymous ? { user: ANONYMOUS_USER } : {};
  };

  return {
    authenticate: async (req) => (await authenticateRequest(req)).user,
    authenticateRequest,
    authenticateToken,
  };
}
