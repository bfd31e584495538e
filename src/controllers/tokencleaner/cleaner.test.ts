import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SECRETS } from '../../client/typed-refs.js';
import { bootstrapTokenSecret } from '../../pki/tokens.js';
import { createLogger } from '../../util/log.js';
import { fakeInformer, put } from '../testing.js';
import { TokenCleaner, tokenExpiry, type SecretObj } from './cleaner.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const tok = (id: string) => ({ id, secret: '0123456789abcdef', token: `${id}.0123456789abcdef` });

function setup() {
  const secrets = fakeInformer<SecretObj>(SECRETS);
  const deleted: string[] = [];
  const later: Array<{ key: string; ms: number }> = [];
  const cleaner = new TokenCleaner({
    secrets: secrets.getLister(),
    deleteSecret: (ns, name, uid) => {
      deleted.push(`${ns}/${name}@${uid ?? ''}`);
      return Promise.resolve();
    },
    enqueueAfter: (key, ms) => later.push({ key, ms }),
    log: createLogger('test'),
    now: () => NOW,
  });
  const add = (s: SecretObj): SecretObj => put(secrets, { ...s, metadata: { ...s.metadata, uid: 'u-1' } });
  return { cleaner, deleted, later, add };
}

describe('token cleaner', () => {
  test('deletes an expired bootstrap token Secret, with its UID as precondition', async () => {
    const { cleaner, deleted, add } = setup();
    add(bootstrapTokenSecret(tok('aaaaaa'), { expiration: new Date(NOW - 1000) }));
    await cleaner.sync('kube-system/bootstrap-token-aaaaaa');
    assert.deepEqual(deleted, ['kube-system/bootstrap-token-aaaaaa@u-1']);
  });

  test('looks again at a token that expires later, just after it expires', async () => {
    const { cleaner, deleted, later, add } = setup();
    add(bootstrapTokenSecret(tok('bbbbbb'), { expiration: new Date(NOW + 60_000) }));
    await cleaner.sync('kube-system/bootstrap-token-bbbbbb');
    assert.deepEqual(deleted, []);
    assert.deepEqual(later, [{ key: 'kube-system/bootstrap-token-bbbbbb', ms: 61_000 }]);
  });

  test('keeps tokens without expiration (the node token) and other Secrets', async () => {
    const { cleaner, deleted, later, add } = setup();
    add(bootstrapTokenSecret(tok('cccccc')));
    await cleaner.sync('kube-system/bootstrap-token-cccccc');
    const opaque = bootstrapTokenSecret(tok('dddddd'), { expiration: new Date(NOW - 1000) }) as SecretObj;
    add({ ...opaque, type: 'Opaque' });
    await cleaner.sync('kube-system/bootstrap-token-dddddd');
    await cleaner.sync('kube-system/gone');
    assert.deepEqual(deleted, []);
    assert.deepEqual(later, []);
  });

  test('an unparseable expiration counts as expired, as upstream', () => {
    const s = bootstrapTokenSecret(tok('eeeeee')) as SecretObj;
    s.data = { ...s.data, expiration: Buffer.from('tomorrow').toString('base64') };
    assert.ok(Number.isNaN(tokenExpiry(s)));
  });
});
