// DefaultStorageClass on a real in-process server: a claim without a class gets the default one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResources } from '../../api/kinds/index.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { defaultAdmissionPlugins } from './index.js';

let t: TestServer;
before(async () => {
  t = await startTestServer({
    resources: builtinResources,
    admission: (ctx) => defaultAdmissionPlugins(ctx),
  });
});
after(() => t.close());

const claim = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
});

async function createClaim(name: string, spec: Record<string, unknown> = {}): Promise<unknown> {
  const r = await t.request('POST', '/api/v1/namespaces/default/persistentvolumeclaims', claim(name, spec));
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return (r.json.spec as Record<string, unknown>).storageClassName;
}

describe('DefaultStorageClass', () => {
  test('no default class: the claim keeps no class', async () => {
    assert.equal(await createClaim('before'), undefined);
  });

  test('the default class is filled in, but an explicit "" or a named class is kept', async () => {
    for (const [name, isDefault] of [
      ['slow', false],
      ['local-path', true],
    ] as const) {
      const r = await t.request('POST', '/apis/storage.k8s.io/v1/storageclasses', {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: {
          name,
          annotations: isDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : {},
        },
        provisioner: 'rancher.io/local-path',
        volumeBindingMode: 'WaitForFirstConsumer',
      });
      assert.equal(r.status, 201);
    }
    assert.equal(await createClaim('unset'), 'local-path');
    assert.equal(await createClaim('empty', { storageClassName: '' }), '');
    assert.equal(await createClaim('named', { storageClassName: 'slow' }), 'slow');
  });
});
