import { strict as assert } from 'node:assert';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../api/meta.js';
import { generateKeyPairPem } from '../../pki/certs.js';
import { bootstrapTokenSecret, parseBootstrapToken } from '../../pki/tokens.js';
import {
  type AuthResult,
  bearerTokenOf,
  bootstrapTokenAuthenticator,
  createAuthenticator,
  parseTokenFile,
  serviceAccountTokenAuthenticator,
  staticTokenAuthenticator,
} from './authn.js';
import {
  DEFAULT_ISSUER,
  createTokenSigner,
  issueLegacyServiceAccountToken,
  issueServiceAccountToken,
  jwks,
  keyIdFromPublicKey,
} from './serviceaccount-token.js';

function fakeRequest(headers: Record<string, string>): IncomingMessage {
  return { headers, socket: new Socket() } as unknown as IncomingMessage;
}

function userOf(r: AuthResult): { name: string; groups: readonly string[]; uid?: string; extra?: unknown } {
  assert.ok(r.ok, `expected success, got ${r.ok ? '' : (r.error ?? 'no opinion')}`);
  return r.user;
}

describe('static token file', () => {
  const text = [
    'secret-token-1,alice,uid-alice,"dev,ops"',
    'secret-token-2,bob,uid-bob',
    '',
    ' secret-token-3 , carol, uid-carol, "a,b"',
  ].join('\n');

  it('parses token,user,uid,"groups" records', () => {
    const entries = parseTokenFile(text);
    assert.equal(entries.length, 3);
    assert.deepEqual(entries[0]?.user, { name: 'alice', uid: 'uid-alice', groups: ['dev', 'ops'] });
    assert.deepEqual(entries[1]?.user.groups, []);
  });

  it('rejects records with fewer than three columns', () => {
    assert.throws(() => parseTokenFile('tok,user\n', 'tokens.csv'), /must have at least 3 columns/);
  });

  it('authenticates known tokens and adds system:authenticated', async () => {
    const authn = createAuthenticator({
      tokenAuthenticators: [staticTokenAuthenticator(parseTokenFile(text))],
    });
    const user = await authn.authenticate(fakeRequest({ authorization: 'Bearer secret-token-1' }));
    assert.deepEqual(user, {
      name: 'alice',
      uid: 'uid-alice',
      groups: ['dev', 'ops', 'system:authenticated'],
    });
    assert.equal(await authn.authenticate(fakeRequest({ authorization: 'Bearer wrong' })), undefined);
  });
});

describe('request credentials', () => {
  it('reads bearer tokens from the header and from WebSocket subprotocols', () => {
    assert.equal(bearerTokenOf(fakeRequest({ authorization: 'Bearer abc' })), 'abc');
    assert.equal(bearerTokenOf(fakeRequest({ authorization: 'bearer abc' })), 'abc');
    assert.equal(bearerTokenOf(fakeRequest({ authorization: 'Basic Zm9v' })), undefined);
    assert.equal(bearerTokenOf(fakeRequest({ authorization: 'Bearer ' })), undefined);
    const encoded = Buffer.from('tok-ws').toString('base64url');
    assert.equal(
      bearerTokenOf(
        fakeRequest({
          upgrade: 'websocket',
          'sec-websocket-protocol': `v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.${encoded}`,
        }),
      ),
      'tok-ws',
    );
  });

  it('treats requests without credentials as anonymous, and bad credentials as unauthenticated', async () => {
    const authn = createAuthenticator({ tokenAuthenticators: [] });
    assert.deepEqual(await authn.authenticate(fakeRequest({})), {
      name: 'system:anonymous',
      groups: ['system:unauthenticated'],
    });
    const outcome = await authn.authenticateRequest(fakeRequest({ authorization: 'Bearer nope' }));
    assert.equal(outcome.user, undefined);
    assert.equal(outcome.error, 'invalid bearer token');
    const closed = createAuthenticator({ anonymous: false });
    assert.equal(await closed.authenticate(fakeRequest({})), undefined);
  });
});

describe('bootstrap tokens', () => {
  const token = parseBootstrapToken('abcdef.0123456789abcdef');
  assert.ok(token);
  const secrets = new Map<string, KubeObject>();
  const getSecret = (ns: string, name: string): KubeObject | undefined => secrets.get(`${ns}/${name}`);
  const put = (s: KubeObject): void => {
    secrets.set(`${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`, s);
  };
  const authn = bootstrapTokenAuthenticator(getSecret);

  it('accepts a valid token with its extra groups', async () => {
    put(
      bootstrapTokenSecret(token, {
        extraGroups: ['system:bootstrappers:k8ts:default-node-token'],
        expiration: new Date(Date.now() + 3600_000),
      }),
    );
    const user = userOf(await authn(token.token));
    assert.equal(user.name, 'system:bootstrap:abcdef');
    assert.deepEqual(user.groups, ['system:bootstrappers', 'system:bootstrappers:k8ts:default-node-token']);
    const full = createAuthenticator({ tokenAuthenticators: [authn], tokenCacheTtlMs: 0 });
    const u = await full.authenticate(fakeRequest({ authorization: `Bearer ${token.token}` }));
    assert.deepEqual(u?.groups, [
      'system:bootstrappers',
      'system:bootstrappers:k8ts:default-node-token',
      'system:authenticated',
    ]);
  });

  it('rejects a wrong secret', async () => {
    const r = await authn('abcdef.0000000000000000');
    assert.equal(r.ok, false);
  });

  it('rejects an expired token', async () => {
    put(bootstrapTokenSecret(token, { expiration: new Date(Date.now() - 1000) }));
    assert.equal((await authn(token.token)).ok, false);
  });

  it('rejects tokens not marked for authentication, deleted ones and bad extra groups', async () => {
    put(bootstrapTokenSecret(token, { usageAuthentication: false }));
    assert.equal((await authn(token.token)).ok, false);
    const deleting = bootstrapTokenSecret(token);
    deleting.metadata.deletionTimestamp = new Date().toISOString();
    put(deleting);
    assert.equal((await authn(token.token)).ok, false);
    put(bootstrapTokenSecret(token, { extraGroups: ['system:masters'] }));
    assert.equal((await authn(token.token)).ok, false);
    secrets.clear();
    assert.equal((await authn(token.token)).ok, false);
  });

  it('has no opinion on tokens of another form', async () => {
    assert.deepEqual(await authn('not-a-bootstrap-token'), { ok: false });
  });
});

describe('service account tokens', async () => {
  const keys = await generateKeyPairPem();
  const other = await generateKeyPairPem();
  const signer = createTokenSigner(keys.privateKeyPem);
  const accounts = new Map<string, KubeObject>();
  const pods = new Map<string, KubeObject>();
  const secrets = new Map<string, KubeObject>();
  const sa = (ns: string, name: string, uid: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { namespace: ns, name, uid },
  });
  accounts.set('default/builder', sa('default', 'builder', 'uid-builder'));
  pods.set('default/web-1', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'default', name: 'web-1', uid: 'uid-pod' },
  });
  let now = new Date();
  const authn = serviceAccountTokenAuthenticator({
    issuers: [DEFAULT_ISSUER],
    publicKeys: [keys.publicKeyPem],
    audiences: [DEFAULT_ISSUER],
    now: () => now,
    getters: {
      getServiceAccount: (ns, name) => accounts.get(`${ns}/${name}`),
      getPod: (ns, name) => pods.get(`${ns}/${name}`),
      getSecret: (ns, name) => secrets.get(`${ns}/${name}`),
    },
  });
  const ref = { namespace: 'default', name: 'builder', uid: 'uid-builder' };

  it('signs ES256 tokens with upstream-style key ids', () => {
    assert.equal(signer.algorithm, 'ES256');
    assert.equal(signer.keyId, keyIdFromPublicKey(keys.publicKeyPem));
    const set = jwks([keys.publicKeyPem]);
    assert.equal(set.keys[0]?.['kid'], signer.keyId);
    assert.equal(set.keys[0]?.['alg'], 'ES256');
  });

  it('accepts a bound token and maps it to the service account user', async () => {
    const issued = issueServiceAccountToken(signer, {
      issuer: DEFAULT_ISSUER,
      serviceAccount: ref,
      audiences: [DEFAULT_ISSUER],
      expirationSeconds: 3600,
      boundObject: { kind: 'Pod', name: 'web-1', uid: 'uid-pod' },
    });
    const payload = JSON.parse(
      Buffer.from(issued.token.split('.')[1] ?? '', 'base64url').toString(),
    ) as Record<string, unknown>;
    assert.equal(payload['sub'], 'system:serviceaccount:default:builder');
    assert.deepEqual(payload['kubernetes.io'], {
      namespace: 'default',
      serviceaccount: { name: 'builder', uid: 'uid-builder' },
      pod: { name: 'web-1', uid: 'uid-pod' },
    });
    const r = await authn(issued.token);
    const user = userOf(r);
    assert.equal(user.name, 'system:serviceaccount:default:builder');
    assert.equal(user.uid, 'uid-builder');
    assert.deepEqual(user.groups, ['system:serviceaccounts', 'system:serviceaccounts:default']);
    const extra = user.extra as Record<string, string[]>;
    assert.deepEqual(extra['authentication.kubernetes.io/pod-name'], ['web-1']);
    assert.deepEqual(extra['authentication.kubernetes.io/credential-id'], [`JTI=${issued.id}`]);
    const full = createAuthenticator({ tokenAuthenticators: [authn], tokenCacheTtlMs: 0 });
    const u = await full.authenticate(fakeRequest({ authorization: `Bearer ${issued.token}` }));
    assert.deepEqual(u?.groups, [
      'system:serviceaccounts',
      'system:serviceaccounts:default',
      'system:authenticated',
    ]);
  });

  it('rejects tokens of deleted or re-created service accounts and deleted pods', async () => {
    const issued = issueServiceAccountToken(signer, {
      issuer: DEFAULT_ISSUER,
      serviceAccount: ref,
      audiences: [],
    });
    assert.ok((await authn(issued.token)).ok);
    accounts.delete('default/builder');
    const gone = await authn(issued.token);
    assert.equal(gone.ok, false);
    assert.match(gone.ok ? '' : (gone.error ?? ''), /not found/);
    accounts.set('default/builder', sa('default', 'builder', 'uid-new'));
    const recreated = await authn(issued.token);
    assert.match(recreated.ok ? '' : (recreated.error ?? ''), /does not match claim/);
    accounts.set('default/builder', sa('default', 'builder', 'uid-builder'));
    const podBound = issueServiceAccountToken(signer, {
      issuer: DEFAULT_ISSUER,
      serviceAccount: ref,
      audiences: [DEFAULT_ISSUER],
      boundObject: { kind: 'Pod', name: 'web-1', uid: 'uid-pod' },
    });
    pods.delete('default/web-1');
    assert.equal((await authn(podBound.token)).ok, false);
  });

  it('rejects expired tokens, foreign audiences and foreign signatures', async () => {
    const issued = issueServiceAccountToken(signer, {
      issuer: DEFAULT_ISSUER,
      serviceAccount: ref,
      audiences: [DEFAULT_ISSUER],
      expirationSeconds: 600,
    });
    now = new Date(Date.now() + 600_000 + 61_000);
    const expired = await authn(issued.token);
    assert.match(expired.ok ? '' : (expired.error ?? ''), /has expired/);
    now = new Date();
    const foreign = issueServiceAccountToken(signer, {
      issuer: DEFAULT_ISSUER,
      serviceAccount: ref,
      audiences: ['vault'],
    });
    const aud = await authn(foreign.token);
    assert.match(aud.ok ? '' : (aud.error ?? ''), /token audiences \["vault"\] is invalid/);
    assert.ok((await authn(foreign.token, ['vault'])).ok, 'TokenReview with the requested audience');
    const forged = issueServiceAccountToken(createTokenSigner(other.privateKeyPem), {
      issuer: DEFAULT_ISSUER,
      serviceAccount: ref,
      audiences: [DEFAULT_ISSUER],
    });
    assert.equal((await authn(forged.token)).ok, false);
    const tampered = issued.token.replace(
      /\.[^.]+\./,
      `.${Buffer.from('{"iss":"x"}').toString('base64url')}.`,
    );
    assert.deepEqual(await authn(tampered), { ok: false });
  });

  it('accepts legacy secret tokens only while the secret holds them', async () => {
    const token = issueLegacyServiceAccountToken(signer, ref, 'builder-token');
    secrets.set('default/builder-token', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { namespace: 'default', name: 'builder-token', uid: 'uid-secret' },
      type: 'kubernetes.io/service-account-token',
      data: { token: Buffer.from(token).toString('base64') },
    });
    const user = userOf(await authn(token));
    assert.equal(user.name, 'system:serviceaccount:default:builder');
    secrets.delete('default/builder-token');
    assert.equal((await authn(token)).ok, false);
  });
});
