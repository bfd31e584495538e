import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { verifyDetachedSignature } from '../../pki/jws.js';
import { parseKubeconfig } from '../../client/kubeconfig.js';
import { bootstrapTokenSecret, type BootstrapToken } from '../../pki/tokens.js';
import { CONFIGMAPS, SECRETS } from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import { fakeInformer, put, remove } from '../testing.js';
import {
  BootstrapSigner,
  CLUSTER_INFO_NAME,
  CLUSTER_INFO_NAMESPACE,
  JWS_KEY_PREFIX,
  signingToken,
  type ConfigMapObj,
  type SecretObj,
} from './signer.js';

const log = createLogger('test');
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const SERVER = 'https://10.0.0.1:6443';
const NOW = Date.parse('2026-06-01T00:00:00Z');

const tok = (id: string): BootstrapToken => ({
  id,
  secret: 'abcdef0123456789',
  token: `${id}.abcdef0123456789`,
});

function secret(id: string, opts: Parameters<typeof bootstrapTokenSecret>[1] = {}): SecretObj {
  return bootstrapTokenSecret(tok(id), { usageSigning: true, ...opts });
}

function setup() {
  const configMaps = fakeInformer<ConfigMapObj>(CONFIGMAPS);
  const secrets = fakeInformer<SecretObj>(SECRETS);
  const writes: Array<{ verb: string; cm: ConfigMapObj }> = [];
  const delays: number[] = [];
  let enqueued = 0;
  const signer = new BootstrapSigner({
    configMaps: configMaps.getLister(),
    secrets: secrets.getLister(),
    client: {
      async create(cm) {
        await Promise.resolve();
        writes.push({ verb: 'create', cm });
        put(configMaps, cm);
      },
      async update(cm) {
        await Promise.resolve();
        writes.push({ verb: 'update', cm });
        put(configMaps, cm);
      },
    },
    enqueue: () => enqueued++,
    enqueueAfter: (ms) => delays.push(ms),
    log,
    server: SERVER,
    caPem: CA,
    now: () => NOW,
  });
  return { configMaps, secrets, writes, delays, signer, enqueued: () => enqueued };
}

describe('bootstrap signer', () => {
  test('creates cluster-info with the server and CA, signed by every signing token', async () => {
    const s = setup();
    put(s.secrets, secret('aaaaaa'));
    put(s.secrets, secret('bbbbbb', { usageSigning: false }));
    await s.signer.sync();
    assert.equal(s.writes.length, 1);
    const cm = s.writes[0]!.cm;
    assert.equal(s.writes[0]!.verb, 'create');
    assert.equal(cm.metadata.namespace, CLUSTER_INFO_NAMESPACE);
    assert.equal(cm.metadata.name, CLUSTER_INFO_NAME);
    const kubeconfig = cm.data?.['kubeconfig'] ?? '';
    const cfg = parseKubeconfig(kubeconfig);
    assert.equal(cfg.server, SERVER);
    assert.equal(cfg.caPem, CA);
    assert.equal(cfg.clientCertPem, undefined);
    assert.equal(cfg.token, undefined);
    assert.doesNotMatch(kubeconfig, /users/);
    const sig = cm.data?.[JWS_KEY_PREFIX + 'aaaaaa'] ?? '';
    assert.ok(verifyDetachedSignature(kubeconfig, sig, 'aaaaaa', 'abcdef0123456789'));
    assert.equal(cm.data?.[JWS_KEY_PREFIX + 'bbbbbb'], undefined);
    // Nothing changed: no write.
    await s.signer.sync();
    assert.equal(s.writes.length, 1);
  });

  test('drops signatures of deleted or expired tokens, keeps other keys, resyncs at the next expiry', async () => {
    const s = setup();
    const a = put(s.secrets, secret('aaaaaa'));
    put(s.secrets, secret('cccccc', { expiration: new Date(NOW + 60_000) }));
    put(s.secrets, secret('dddddd', { expiration: new Date(NOW - 1000) }));
    put(s.configMaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: CLUSTER_INFO_NAME, namespace: CLUSTER_INFO_NAMESPACE },
      data: { kubeconfig: 'old', other: 'kept', [JWS_KEY_PREFIX + 'zzzzzz']: 'stale' },
    });
    await s.signer.sync();
    const cm = s.writes.at(-1)!.cm;
    assert.equal(s.writes.at(-1)!.verb, 'update');
    assert.deepEqual(Object.keys(cm.data ?? {}).sort(), [
      JWS_KEY_PREFIX + 'aaaaaa',
      JWS_KEY_PREFIX + 'cccccc',
      'kubeconfig',
      'other',
    ]);
    assert.deepEqual(s.delays, [61_000]);
    remove(s.secrets, a);
    await s.signer.sync();
    assert.equal(s.writes.at(-1)!.cm.data?.[JWS_KEY_PREFIX + 'aaaaaa'], undefined);
  });

  test('only well-formed bootstrap token Secrets sign', () => {
    assert.ok(signingToken(secret('aaaaaa'), NOW));
    const misnamed = structuredClone(secret('aaaaaa'));
    misnamed.metadata.name = 'bootstrap-token-bbbbbb';
    assert.equal(signingToken(misnamed, NOW), undefined);
    const opaque = structuredClone(secret('aaaaaa'));
    opaque.type = 'Opaque';
    assert.equal(signingToken(opaque, NOW), undefined);
  });

  test('events on cluster-info and on token Secrets enqueue, others do not', () => {
    const s = setup();
    const cmh = s.signer.configMapHandlers();
    cmh.onAdd?.(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'kube-public' } },
      false,
    );
    assert.equal(s.enqueued(), 0);
    cmh.onAdd?.(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: CLUSTER_INFO_NAME, namespace: CLUSTER_INFO_NAMESPACE },
      },
      false,
    );
    assert.equal(s.enqueued(), 1);
    s.signer.secretHandlers().onAdd?.(secret('aaaaaa'), false);
    assert.equal(s.enqueued(), 2);
  });
});
