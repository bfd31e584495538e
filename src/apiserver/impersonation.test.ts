// Impersonation headers, the serviceaccounts/token subresource and TokenReview on an in-process server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResources } from '../api/kinds/index.js';
import type { AuthorizationDecision, RequestAttributes, UserInfo } from './request-info.js';
import { startTestServer, type TestServer } from './test-server.js';
import { TOKEN_SUBRESOURCE, tokenReviewHandler, tokenSubresourceHandler } from './token-subresource.js';
import { warningHeader } from './server.js';

const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'] };
const asked: RequestAttributes[] = [];
const tokens = new Map<string, UserInfo>();

let t: TestServer;
before(async () => {
  t = await startTestServer({
    resources: builtinResources,
    authenticate: (req) => {
      const auth = req.headers.authorization;
      if (auth?.startsWith('Bearer ')) return Promise.resolve(tokens.get(auth.slice(7)));
      return Promise.resolve(alice);
    },
    authorize: (attrs): Promise<AuthorizationDecision> => {
      if (attrs.verb === 'impersonate') asked.push(attrs);
      // alice may impersonate users and groups, but not the ServiceAccount "secret-keeper".
      if (attrs.verb === 'impersonate' && attrs.name === 'secret-keeper')
        return Promise.resolve({ allowed: false });
      if (attrs.user.name === 'bob' && attrs.resource === 'secrets')
        return Promise.resolve({ allowed: false });
      return Promise.resolve({ allowed: true });
    },
    createHandlers: {
      'authentication.k8s.io/TokenReview': tokenReviewHandler(
        {
          authenticateToken: (token) => {
            const user = tokens.get(token);
            return Promise.resolve(
              user ? { ok: true as const, user } : { ok: false as const, error: 'invalid token' },
            );
          },
        },
        ['https://kubernetes.default.svc.cluster.local'],
      ),
    },
    subresourceHandler: (info, desc, req, res, user) =>
      tokenSubresourceHandler({
        store: t.store,
        tokenRequest: (sa, request) => {
          const token = `tok-${sa.metadata.name}-${tokens.size}`;
          tokens.set(token, {
            name: `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`,
            groups: [],
          });
          return Promise.resolve({
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            metadata: { ...request.metadata, name: sa.metadata.name },
            spec: { audiences: ['x'], expirationSeconds: 3600 },
            status: { token, expirationTimestamp: '2030-01-01T00:00:00Z' },
          });
        },
      })(info, desc, req, res, user),
    extraSubresources: [TOKEN_SUBRESOURCE],
  });
});
after(() => t.close());

const review = () => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });

test('impersonating a user, groups and extras checks each with the impersonate verb', async () => {
  asked.length = 0;
  const r = await t.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', review(), {
    'Impersonate-User': 'bob',
    'Impersonate-Group': 'devs',
    'Impersonate-Extra-Scopes': 'view',
  });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual((r.json.status as { userInfo: unknown }).userInfo, {
    username: 'bob',
    groups: ['devs', 'system:authenticated'],
    extra: { scopes: ['view'] },
  });
  assert.deepEqual(
    asked.map((a) => `${a.apiGroup}/${a.resource}/${a.subresource}/${a.name}`),
    ['/users//bob', '/groups//devs', 'authentication.k8s.io/userextras/scopes/view'],
  );
  // The impersonated user is the one authorized for the request itself.
  const denied = await t.request('GET', '/api/v1/namespaces/default/secrets', undefined, {
    'Impersonate-User': 'bob',
  });
  assert.equal(denied.status, 403);
});

test('a ServiceAccount gets its groups; a denied impersonation is 403 with upstream message', async () => {
  const r = await t.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', review(), {
    'Impersonate-User': 'system:serviceaccount:ns1:robot',
  });
  assert.deepEqual((r.json.status as { userInfo: { groups: string[] } }).userInfo.groups, [
    'system:serviceaccounts',
    'system:serviceaccounts:ns1',
    'system:authenticated',
  ]);
  const no = await t.request('GET', '/api/v1/pods', undefined, {
    'Impersonate-User': 'system:serviceaccount:ns1:secret-keeper',
  });
  assert.equal(no.status, 403);
  assert.equal(
    no.json.message,
    'serviceaccounts "secret-keeper" is forbidden: User "alice" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "ns1"',
  );
  const groupOnly = await t.request('GET', '/api/v1/pods', undefined, { 'Impersonate-Group': 'devs' });
  assert.equal(groupOnly.status, 500);
});

test('serviceaccounts/token issues a token that TokenReview recognises', async () => {
  const missing = await t.request('POST', '/api/v1/namespaces/default/serviceaccounts/nobody/token', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {},
  });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.message, 'serviceaccounts "nobody" not found');
  assert.equal(
    (await t.request('POST', '/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'bot' } }))
      .status,
    201,
  );
  const issued = await t.request('POST', '/api/v1/namespaces/default/serviceaccounts/bot/token', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  assert.equal(issued.status, 201, issued.text);
  const token = (issued.json.status as { token: string }).token;
  const wrongName = await t.request('POST', '/api/v1/namespaces/default/serviceaccounts/bot/token', {
    metadata: { name: 'other' },
    spec: {},
  });
  assert.equal(wrongName.status, 422);
  const ok = await t.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token },
  });
  assert.equal(ok.status, 201);
  assert.deepEqual(ok.json.status, {
    authenticated: true,
    user: { username: 'system:serviceaccount:default:bot' },
    audiences: ['https://kubernetes.default.svc.cluster.local'],
  });
  const bad = await t.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
    spec: { token: 'nope' },
  });
  assert.deepEqual(bad.json.status, { user: {}, error: 'invalid token' });
  const empty = await t.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: {} });
  assert.equal(empty.status, 400);
  // Discovery lists the subresource.
  const disc = await t.request('GET', '/api/v1');
  const res = (disc.json.resources as { name: string; kind: string; group?: string }[]).find(
    (r) => r.name === 'serviceaccounts/token',
  );
  assert.deepEqual([res?.kind, res?.group], ['TokenRequest', 'authentication.k8s.io']);
});

test('warning headers are Go-quoted UTF-8', () => {
  assert.equal(warningHeader('unknown field "x"'), '299 - "unknown field \\"x\\""');
  assert.equal(
    Buffer.from(warningHeader('é\u0000\u202e'), 'latin1').toString('utf8'),
    '299 - "é\\x00\\u202e"',
  );
});
