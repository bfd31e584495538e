import { strict as assert } from 'node:assert';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { StatusError } from '../../api/errors.js';
import type { KubeObject } from '../../api/meta.js';
import { generateKeyPairPem } from '../../pki/certs.js';
import { bootstrapPolicy } from './bootstrap-policy.js';
import { createClusterAuth } from './index.js';
import { aggregateClusterRoles } from './rbac.js';
import type { ClusterRole } from './types.js';

const obj = (
  kind: string,
  namespace: string | undefined,
  name: string,
  uid: string,
  rest: object = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind,
  metadata: namespace ? { namespace, name, uid } : { name, uid },
  ...rest,
});

describe('TokenRequest and the assembled cluster auth', async () => {
  const keys = await generateKeyPairPem();
  const store = new Map<string, KubeObject>();
  const put = (o: KubeObject): void => {
    store.set(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`, o);
  };
  put(obj('ServiceAccount', 'default', 'app', 'uid-sa'));
  put(obj('Pod', 'default', 'web', 'uid-pod', { spec: { serviceAccountName: 'app', nodeName: 'n1' } }));
  put(obj('Pod', 'default', 'other', 'uid-other', { spec: { serviceAccountName: 'default' } }));
  put(obj('Node', undefined, 'n1', 'uid-node'));
  const policy = bootstrapPolicy();
  const roles = new Map<string, ClusterRole>(policy.clusterRoles.map((r) => [r.metadata.name ?? '', r]));
  for (const r of aggregateClusterRoles([...roles.values()])) roles.set(r.metadata.name ?? '', r);
  const auth = await createClusterAuth({
    serviceAccountKey: keys,
    getSecret: (ns, name) => store.get(`Secret/${ns}/${name}`),
    getServiceAccount: (ns, name) => store.get(`ServiceAccount/${ns}/${name}`),
    getPod: (ns, name) => store.get(`Pod/${ns}/${name}`),
    getNode: (name) => store.get(`Node//${name}`),
    rbac: {
      listClusterRoleBindings: () => policy.clusterRoleBindings,
      listRoleBindings: () => [],
      getClusterRole: (name) => roles.get(name),
      getRole: () => undefined,
    },
  });
  const sa = store.get('ServiceAccount/default/app') as KubeObject;
  const request = (spec: object): KubeObject => ({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: {},
    spec,
  });

  it('issues a token for the API audiences that authenticates as the service account', async () => {
    const out = await auth.tokenRequest(sa, request({}));
    const status = out['status'] as { token: string; expirationTimestamp: string };
    assert.deepEqual((out['spec'] as { audiences: string[] }).audiences, [
      'https://kubernetes.default.svc.cluster.local',
    ]);
    const ttl = Date.parse(status.expirationTimestamp) - Date.now();
    assert.ok(ttl > 3590_000 && ttl <= 3600_000, `ttl ${ttl}`);
    const req = {
      headers: { authorization: `Bearer ${status.token}` },
      socket: new Socket(),
    } as unknown as IncomingMessage;
    const user = await auth.authenticate(req);
    assert.equal(user?.name, 'system:serviceaccount:default:app');
    assert.ok(user);
    const decision = await auth.authorize({
      user,
      verb: 'get',
      isResourceRequest: false,
      path: '/version',
      apiGroup: '',
      apiVersion: '',
      resource: '',
      subresource: '',
      namespace: '',
      name: '',
    });
    assert.equal(decision.allowed, true);
  });

  it('binds tokens to pods (recording their node) and validates the reference', async () => {
    const out = await auth.tokenRequest(
      sa,
      request({
        audiences: ['api'],
        expirationSeconds: 600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'web' },
      }),
    );
    const token = (out['status'] as { token: string }).token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    assert.deepEqual(claims['aud'], ['api']);
    assert.deepEqual(claims['kubernetes.io'], {
      namespace: 'default',
      serviceaccount: { name: 'app', uid: 'uid-sa' },
      pod: { name: 'web', uid: 'uid-pod' },
      node: { name: 'n1', uid: 'uid-node' },
    });
    const r = await auth.authenticator.authenticateToken(token, ['api']);
    assert.ok(r.ok);
    assert.deepEqual(r.user.extra?.['authentication.kubernetes.io/node-name'], ['n1']);

    await assert.rejects(
      auth.tokenRequest(sa, request({ boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'other' } })),
      (e: unknown) =>
        e instanceof StatusError &&
        e.code === 400 &&
        /pod running with serviceaccount "default"/.test(e.message),
    );
    await assert.rejects(
      auth.tokenRequest(
        sa,
        request({ boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'stale' } }),
      ),
      (e: unknown) => e instanceof StatusError && e.code === 409,
    );
    await assert.rejects(
      auth.tokenRequest(
        sa,
        request({ boundObjectRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'x' } }),
      ),
      (e: unknown) =>
        e instanceof StatusError &&
        e.message === 'cannot bind token to object of type apps/v1, Kind=Deployment',
    );
    await assert.rejects(
      auth.tokenRequest(sa, request({ expirationSeconds: 60 })),
      (e: unknown) =>
        e instanceof StatusError &&
        e.code === 422 &&
        e.message ===
          'TokenRequest.authentication.k8s.io "app" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    );
  });

  it('publishes the signing key for issuer discovery', () => {
    const set = auth.jwks();
    assert.equal(set.keys.length, 1);
    assert.equal(set.keys[0]?.['kid'], auth.signer.keyId);
    const conf = auth.openIdConfiguration('https://127.0.0.1:6443/openid/v1/jwks');
    assert.equal(conf['issuer'], 'https://kubernetes.default.svc.cluster.local');
    assert.deepEqual(conf['id_token_signing_alg_values_supported'], ['ES256']);
  });
});
