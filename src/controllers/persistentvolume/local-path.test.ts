import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Node, Pod } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import {
  NODES,
  PERSISTENTVOLUMECLAIMS,
  PERSISTENTVOLUMES,
  PODS,
  STORAGECLASSES,
} from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import { FakeRecorder, fakeInformer, put, remove } from '../testing.js';
import { ANN_PROVISIONED_BY, ANN_STORAGE_PROVISIONER } from './binder.js';
import { HELPER_POD_PREFIX, LocalPathProvisioner } from './local-path.js';
import { ANN_SELECTED_NODE, type PV, type PVC, type SC } from './matching.js';
import { localPathStorageClass } from './storage-class.js';

type PodObj = Pod & KubeObject;

function setup() {
  const claims = fakeInformer<PVC>(PERSISTENTVOLUMECLAIMS);
  const volumes = fakeInformer<PV>(PERSISTENTVOLUMES);
  const classes = fakeInformer<SC>(STORAGECLASSES);
  const nodes = fakeInformer<Node & KubeObject>(NODES);
  const pods = fakeInformer<PodObj>(PODS);
  const recorder = new FakeRecorder();
  const deleted: string[] = [];
  const retries: string[] = [];
  put(classes, localPathStorageClass() as SC);
  put(nodes, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } },
  });
  const p = new LocalPathProvisioner(
    { storagePath: '/srv/k8ts/storage/' },
    {
      claims: claims.getLister(),
      volumes: volumes.getLister(),
      classes: classes.getLister(),
      nodes: nodes.getLister(),
      pods: pods.getLister(),
      recorder,
      log: createLogger('test'),
      retryVolume: (name) => retries.push(name),
      client: {
        async createVolume(v) {
          await Promise.resolve();
          return put(volumes, v);
        },
        async deleteVolume(name) {
          await Promise.resolve();
          deleted.push(`pv/${name}`);
          const v = volumes.getLister().get(undefined, name);
          if (v) remove(volumes, v);
        },
        async createPod(pod) {
          await Promise.resolve();
          put(pods, pod);
        },
        async deletePod(ns, name) {
          await Promise.resolve();
          deleted.push(`pod/${ns}/${name}`);
          const pod = pods.getLister().get(ns, name);
          if (pod) remove(pods, pod);
        },
      },
    },
  );
  return { claims, volumes, pods, recorder, deleted, retries, p };
}

function claim(annotations: Record<string, string>): PVC {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'apps', uid: 'abc-123', annotations },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'local-path',
      resources: { requests: { storage: '128Mi' } },
    },
    status: { phase: 'Pending' },
  };
}

describe('local-path provisioner', () => {
  test('provisions a hostPath volume on the selected node, pre-bound to the claim', async () => {
    const s = setup();
    put(
      s.claims,
      claim({ [ANN_STORAGE_PROVISIONER]: 'rancher.io/local-path', [ANN_SELECTED_NODE]: 'node-1' }),
    );
    await s.p.syncClaim('apps/data');
    const v = s.volumes.getLister().get(undefined, 'pvc-abc-123');
    assert.ok(v, 'volume created');
    assert.deepEqual(v.spec?.hostPath, {
      path: '/srv/k8ts/storage/pvc-abc-123_apps_data',
      type: 'DirectoryOrCreate',
    });
    assert.deepEqual(v.spec?.capacity, { storage: '128Mi' });
    assert.equal(v.spec?.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(v.spec?.storageClassName, 'local-path');
    assert.equal(v.spec?.claimRef?.uid, 'abc-123');
    assert.equal(v.metadata.annotations?.[ANN_PROVISIONED_BY], 'rancher.io/local-path');
    assert.deepEqual(v.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values, [
      'node-1',
    ]);
    assert.deepEqual(s.recorder.messages('ProvisioningSucceeded'), [
      'Successfully provisioned volume pvc-abc-123',
    ]);
  });

  test('does nothing before the binder hands the claim over, and fails without a node', async () => {
    const s = setup();
    put(s.claims, claim({ [ANN_SELECTED_NODE]: 'node-1' }));
    await s.p.syncClaim('apps/data');
    assert.equal(s.volumes.getLister().list().length, 0);
    put(s.claims, claim({ [ANN_STORAGE_PROVISIONER]: 'rancher.io/local-path' }));
    await s.p.syncClaim('apps/data');
    assert.equal(s.volumes.getLister().list().length, 0);
    assert.deepEqual(s.recorder.messages('ProvisioningFailed'), [
      'failed to provision volume with StorageClass "local-path": configuration error, no node was specified',
    ]);
  });

  test('a Released volume is cleaned by a helper pod on its node, then deleted', async () => {
    const s = setup();
    put(
      s.claims,
      claim({ [ANN_STORAGE_PROVISIONER]: 'rancher.io/local-path', [ANN_SELECTED_NODE]: 'node-1' }),
    );
    await s.p.syncClaim('apps/data');
    const v = structuredClone(s.volumes.getLister().get(undefined, 'pvc-abc-123')!);
    v.status = { phase: 'Released' };
    put(s.volumes, v);
    await s.p.syncVolume('pvc-abc-123');
    const helper = s.pods.getLister().get('kube-system', HELPER_POD_PREFIX + 'pvc-abc-123');
    assert.ok(helper, 'helper pod created');
    assert.equal(helper.spec?.nodeName, 'node-1');
    const env = helper.spec?.containers[0]?.env ?? [];
    assert.equal(env.find((e) => e.name === 'VOL_DIR')?.value, '/srv/k8ts/storage/pvc-abc-123_apps_data');
    assert.equal(helper.spec?.volumes?.[0]?.hostPath?.path, '/srv/k8ts/storage');
    // Still running: nothing deleted.
    await s.p.syncVolume('pvc-abc-123');
    assert.deepEqual(s.deleted, []);
    // A failure is reported and retried.
    put(s.pods, { ...structuredClone(helper), status: { phase: 'Failed' } });
    await s.p.syncVolume('pvc-abc-123');
    assert.equal(s.recorder.messages('VolumeFailedDelete').length, 1);
    assert.deepEqual(s.retries, ['pvc-abc-123']);
    await s.p.syncVolume('pvc-abc-123');
    const again = s.pods.getLister().get('kube-system', HELPER_POD_PREFIX + 'pvc-abc-123')!;
    put(s.pods, { ...structuredClone(again), status: { phase: 'Succeeded' } });
    await s.p.syncVolume('pvc-abc-123');
    assert.deepEqual(s.deleted.slice(-2), [
      `pod/kube-system/${HELPER_POD_PREFIX}pvc-abc-123`,
      'pv/pvc-abc-123',
    ]);
  });

  test('never removes a directory outside its storage path', async () => {
    const s = setup();
    put(s.volumes, {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'evil', annotations: { [ANN_PROVISIONED_BY]: 'rancher.io/local-path' } },
      spec: {
        persistentVolumeReclaimPolicy: 'Delete',
        hostPath: { path: '/srv/k8ts/storage/../../../etc' },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] },
            ],
          },
        },
      },
      status: { phase: 'Released' },
    });
    await s.p.syncVolume('evil');
    assert.equal(s.pods.getLister().list().length, 0, 'no helper pod');
    assert.deepEqual(s.deleted, []);
    assert.match(s.recorder.messages('VolumeFailedDelete')[0] ?? '', /outside the local-path storage path/);
  });
});
