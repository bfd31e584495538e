import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, STORAGECLASSES } from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import { FakeRecorder, fakeInformer, put, remove } from '../testing.js';
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_PROVISIONED_BY,
  ANN_STORAGE_PROVISIONER,
  MSG_NO_VOLUMES_NO_CLASS,
  MSG_WAIT_FOR_FIRST_CONSUMER,
  PersistentVolumeBinder,
} from './binder.js';
import {
  ANN_SELECTED_NODE,
  findBestMatch,
  volumeUnsatisfiedReason,
  type PV,
  type PVC,
  type SC,
} from './matching.js';

function pv(
  name: string,
  size: string,
  extra: Partial<NonNullable<PV['spec']>> = {},
  labels?: Record<string, string>,
): PV {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: {
      capacity: { storage: size },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      volumeMode: 'Filesystem',
      hostPath: { path: `/data/${name}` },
      ...extra,
    },
    status: { phase: 'Available' },
  };
}

function pvc(name: string, size: string, extra: Partial<NonNullable<PVC['spec']>> = {}): PVC {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...extra },
    status: { phase: 'Pending' },
  };
}

describe('volume matching', () => {
  test('picks the smallest volume that is big enough', () => {
    const claim = pvc('c', '2Gi', { storageClassName: '' });
    const got = findBestMatch(claim, [pv('big', '10Gi'), pv('small', '1Gi'), pv('fits', '3Gi')], false);
    assert.equal(got?.metadata.name, 'fits');
  });

  test('needs every requested access mode, and prefers volumes offering fewer modes', () => {
    const claim = pvc('c', '1Gi', { accessModes: ['ReadWriteMany'] });
    assert.equal(findBestMatch(claim, [pv('rwo', '1Gi')], false), undefined);
    const many = pv('many', '1Gi', { accessModes: ['ReadWriteOnce', 'ReadWriteMany', 'ReadOnlyMany'] });
    const two = pv('two', '5Gi', { accessModes: ['ReadWriteMany', 'ReadOnlyMany'] });
    assert.equal(findBestMatch(claim, [many, two], false)?.metadata.name, 'two');
  });

  test('class, volume mode and selector must match', () => {
    const fast = pv('fast', '1Gi', { storageClassName: 'fast' }, { tier: 'gold' });
    const plain = pv('plain', '1Gi', {}, { tier: 'bronze' });
    assert.equal(findBestMatch(pvc('c', '1Gi', { storageClassName: 'fast' }), [plain, fast], false), fast);
    assert.equal(findBestMatch(pvc('c', '1Gi'), [fast, plain], false), plain);
    const sel = pvc('c', '1Gi', { selector: { matchLabels: { tier: 'gold' } }, storageClassName: 'fast' });
    assert.equal(findBestMatch(sel, [plain, fast], false), fast);
    const selNone = pvc('c', '1Gi', { selector: { matchLabels: { tier: 'silver' } } });
    assert.equal(findBestMatch(selNone, [plain, fast], false), undefined);
    assert.equal(findBestMatch(pvc('c', '1Gi', { volumeMode: 'Block' }), [plain], false), undefined);
  });

  test('a volume pre-bound to the claim wins, even with delayed binding; others are skipped then', () => {
    const claim = pvc('c', '1Gi');
    claim.metadata.uid = 'u1';
    const pre = pv('pre', '5Gi', { claimRef: { namespace: 'default', name: 'c' } });
    const other = pv('other', '5Gi', { claimRef: { namespace: 'default', name: 'x' } });
    assert.equal(findBestMatch(claim, [pv('free', '1Gi'), pre, other], false), pre);
    assert.equal(findBestMatch(claim, [pv('free', '1Gi'), pre], true), pre);
    assert.equal(findBestMatch(claim, [pv('free', '1Gi'), other], true), undefined);
  });

  test('a volume named by the claim explains a mismatch', () => {
    assert.equal(volumeUnsatisfiedReason(pv('v', '1Gi'), pvc('c', '2Gi')), 'requested PV is too small');
    assert.equal(
      volumeUnsatisfiedReason(pv('v', '1Gi'), pvc('c', '1Gi', { storageClassName: 'x' })),
      'storageClassName does not match',
    );
    assert.equal(volumeUnsatisfiedReason(pv('v', '1Gi'), pvc('c', '1Gi')), undefined);
  });
});

describe('persistentvolume binder', () => {
  function setup() {
    const claims = fakeInformer<PVC>(PERSISTENTVOLUMECLAIMS);
    const volumes = fakeInformer<PV>(PERSISTENTVOLUMES);
    const classes = fakeInformer<SC>(STORAGECLASSES);
    const recorder = new FakeRecorder();
    const writes: string[] = [];
    const binder = new PersistentVolumeBinder({
      claims: claims.getLister(),
      volumes: volumes.getLister(),
      classes: classes.getLister(),
      recorder,
      log: createLogger('test'),
      client: {
        async updateVolume(v) {
          await Promise.resolve();
          writes.push(`pv ${v.metadata.name ?? ''}`);
          return put(volumes, v);
        },
        async updateVolumeStatus(v) {
          await Promise.resolve();
          writes.push(`pv/status ${v.metadata.name ?? ''} ${v.status?.phase ?? ''}`);
          return put(volumes, v);
        },
        async updateClaim(c) {
          await Promise.resolve();
          writes.push(`pvc ${c.metadata.name ?? ''}`);
          return put(claims, c);
        },
        async updateClaimStatus(c) {
          await Promise.resolve();
          writes.push(`pvc/status ${c.metadata.name ?? ''} ${c.status?.phase ?? ''}`);
          return put(claims, c);
        },
      },
    });
    return { claims, volumes, classes, recorder, writes, binder };
  }

  test('binds a claim to the matching volume: claimRef, phases, volumeName, capacity and annotations', async () => {
    const s = setup();
    put(s.volumes, pv('small', '1Gi'));
    put(s.volumes, pv('right', '5Gi'));
    const claim = put(s.claims, pvc('data', '2Gi'));
    await s.binder.syncClaim('default/data');
    const v = s.volumes.getLister().get(undefined, 'right');
    assert.equal(v?.spec?.claimRef?.uid, claim.metadata.uid);
    assert.equal(v?.spec?.claimRef?.name, 'data');
    assert.equal(v?.status?.phase, 'Bound');
    assert.equal(v?.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER], 'yes');
    const c = s.claims.getLister().get('default', 'data');
    assert.equal(c?.spec?.volumeName, 'right');
    assert.equal(c?.status?.phase, 'Bound');
    assert.deepEqual(c?.status?.capacity, { storage: '5Gi' });
    assert.deepEqual(c?.status?.accessModes, ['ReadWriteOnce']);
    assert.equal(c?.metadata.annotations?.[ANN_BIND_COMPLETED], 'yes');
    assert.equal(c?.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER], 'yes');
    assert.equal(s.volumes.getLister().get(undefined, 'small')?.spec?.claimRef, undefined);
    // Syncing again writes nothing.
    const n = s.writes.length;
    await s.binder.syncClaim('default/data');
    assert.equal(s.writes.length, n);
  });

  test('a claim without a match and without a class stays Pending with FailedBinding', async () => {
    const s = setup();
    put(s.volumes, pv('tiny', '1Mi'));
    put(s.claims, pvc('data', '1Gi'));
    await s.binder.syncClaim('default/data');
    assert.deepEqual(s.recorder.messages('FailedBinding'), [MSG_NO_VOLUMES_NO_CLASS]);
    assert.equal(s.claims.getLister().get('default', 'data')?.status?.phase, 'Pending');
  });

  test('WaitForFirstConsumer: waits for a node, then hands the claim to the provisioner', async () => {
    const s = setup();
    put(s.classes, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'local-path' },
      provisioner: 'rancher.io/local-path',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
    put(s.volumes, pv('free', '5Gi', { storageClassName: 'local-path' }));
    const claim = put(s.claims, pvc('data', '1Gi', { storageClassName: 'local-path' }));
    await s.binder.syncClaim('default/data');
    assert.deepEqual(s.recorder.messages('WaitForFirstConsumer'), [MSG_WAIT_FOR_FIRST_CONSUMER]);
    assert.equal(s.volumes.getLister().get(undefined, 'free')?.spec?.claimRef, undefined);
    claim.metadata.annotations = { [ANN_SELECTED_NODE]: 'node-1' };
    put(s.claims, claim);
    await s.binder.syncClaim('default/data');
    const c = s.claims.getLister().get('default', 'data');
    assert.equal(c?.metadata.annotations?.[ANN_STORAGE_PROVISIONER], 'rancher.io/local-path');
    assert.match(
      s.recorder.messages('ExternalProvisioning')[0] ?? '',
      /external provisioner 'rancher.io\/local-path'/,
    );
  });

  test('a volume the scheduler pre-bound (claimRef only) completes the binding', async () => {
    const s = setup();
    const claim = put(s.claims, pvc('data', '1Gi', { storageClassName: 'wffc' }));
    put(
      s.volumes,
      pv('chosen', '1Gi', {
        storageClassName: 'wffc',
        claimRef: { namespace: 'default', name: 'data', uid: claim.metadata.uid },
      }),
    );
    await s.binder.syncVolume('chosen');
    assert.equal(s.claims.getLister().get('default', 'data')?.spec?.volumeName, 'chosen');
    assert.equal(s.volumes.getLister().get(undefined, 'chosen')?.status?.phase, 'Bound');
  });

  test('a claim naming a volume binds to it, or reports why not', async () => {
    const s = setup();
    put(s.volumes, pv('named', '1Gi'));
    put(s.claims, pvc('big', '2Gi', { volumeName: 'named' }));
    await s.binder.syncClaim('default/big');
    assert.deepEqual(s.recorder.messages('VolumeMismatch'), [
      'Cannot bind to requested volume "named": requested PV is too small',
    ]);
    put(s.claims, pvc('ok', '1Gi', { volumeName: 'named' }));
    await s.binder.syncClaim('default/ok');
    const c = s.claims.getLister().get('default', 'ok');
    assert.equal(c?.status?.phase, 'Bound');
    assert.equal(c?.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER], undefined);
  });

  test('a deleted claim releases its volume: Retain stays Released, unknown Delete fails', async () => {
    const s = setup();
    put(s.volumes, pv('keep', '1Gi', { claimRef: { namespace: 'default', name: 'gone', uid: 'old' } }));
    await s.binder.syncVolume('keep');
    assert.equal(s.volumes.getLister().get(undefined, 'keep')?.status?.phase, 'Released');
    put(
      s.volumes,
      pv('del', '1Gi', {
        persistentVolumeReclaimPolicy: 'Delete',
        claimRef: { namespace: 'default', name: 'gone', uid: 'old' },
      }),
    );
    await s.binder.syncVolume('del');
    assert.equal(s.volumes.getLister().get(undefined, 'del')?.status?.phase, 'Failed');
    assert.match(s.recorder.messages('VolumeFailedDelete')[0] ?? '', /no deletable volume plugin matched/);
    // One a provisioner made is left Released for it.
    const prov = pv('prov', '1Gi', {
      persistentVolumeReclaimPolicy: 'Delete',
      claimRef: { namespace: 'default', name: 'gone', uid: 'old' },
    });
    prov.metadata.annotations = { [ANN_PROVISIONED_BY]: 'rancher.io/local-path' };
    put(s.volumes, prov);
    await s.binder.syncVolume('prov');
    assert.equal(s.volumes.getLister().get(undefined, 'prov')?.status?.phase, 'Released');
  });

  test('a bound claim whose volume is deleted is Lost', async () => {
    const s = setup();
    const v = put(s.volumes, pv('v', '1Gi'));
    put(s.claims, pvc('data', '1Gi'));
    await s.binder.syncClaim('default/data');
    remove(s.volumes, v);
    await s.binder.syncClaim('default/data');
    assert.equal(s.claims.getLister().get('default', 'data')?.status?.phase, 'Lost');
    assert.equal(s.recorder.messages('ClaimLost').length, 1);
  });

  test('a new volume is made Available', async () => {
    const s = setup();
    const v = pv('new', '1Gi');
    v.status = { phase: 'Pending' };
    put(s.volumes, v);
    await s.binder.syncVolume('new');
    assert.equal(s.volumes.getLister().get(undefined, 'new')?.status?.phase, 'Available');
  });
});
