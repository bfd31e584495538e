import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS } from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import { fakeInformer, put } from '../testing.js';
import type { PV, PVC } from './matching.js';
import {
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
  PvProtection,
  PvcProtection,
  podUsesClaim,
} from './protection.js';

type PodObj = Pod & KubeObject;

function pod(name: string, claim: string, nodeName: string | undefined, phase = 'Running'): PodObj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      containers: [{ name: 'c', image: 'busybox' }],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }],
    },
    status: { phase },
  };
}

describe('storage protection', () => {
  test('a claim is in use by scheduled pods that have not terminated', () => {
    assert.equal(podUsesClaim(pod('a', 'data', 'n1'), 'data'), true);
    assert.equal(podUsesClaim(pod('a', 'data', undefined), 'data'), false);
    assert.equal(podUsesClaim(pod('a', 'data', 'n1', 'Succeeded'), 'data'), false);
    assert.equal(podUsesClaim(pod('a', 'other', 'n1'), 'data'), false);
  });

  test('pvc-protection lets a deleted claim go only once no pod uses it (checked live too)', async () => {
    const claims = fakeInformer<PVC>(PERSISTENTVOLUMECLAIMS);
    const pods = fakeInformer<PodObj>(PODS);
    let live: Pod[] = [];
    const updated: PVC[] = [];
    const p = new PvcProtection(
      claims.getLister(),
      pods.getLister(),
      {
        updateClaim: async (c) => {
          await Promise.resolve();
          updated.push(c);
        },
        updateVolume: () => Promise.resolve(),
        listPods: () => Promise.resolve(live),
      },
      createLogger('test'),
    );
    put(claims, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: 'data',
        namespace: 'default',
        deletionTimestamp: '2026-01-01T00:00:00Z',
        finalizers: [PVC_PROTECTION_FINALIZER, 'example.com/other'],
      },
    });
    const user = put(pods, pod('user', 'data', 'n1'));
    await p.sync('default/data');
    assert.equal(updated.length, 0, 'in use by a cached pod');
    put(pods, { ...structuredClone(user), status: { phase: 'Succeeded' } });
    live = [pod('new', 'data', 'n1')];
    await p.sync('default/data');
    assert.equal(updated.length, 0, 'in use by a pod the cache has not seen yet');
    live = [];
    await p.sync('default/data');
    assert.deepEqual(updated[0]?.metadata.finalizers, ['example.com/other']);
  });

  test('pv-protection lets a deleted volume go once it is not Bound', async () => {
    const volumes = fakeInformer<PV>(PERSISTENTVOLUMES);
    const updated: PV[] = [];
    const p = new PvProtection(volumes.getLister(), {
      updateClaim: () => Promise.resolve(),
      updateVolume: async (v) => {
        await Promise.resolve();
        updated.push(v);
      },
      listPods: () => Promise.resolve([]),
    });
    const v = put(volumes, {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: 'v',
        deletionTimestamp: '2026-01-01T00:00:00Z',
        finalizers: [PV_PROTECTION_FINALIZER],
      },
      status: { phase: 'Bound' },
    });
    await p.sync('v');
    assert.equal(updated.length, 0);
    put(volumes, { ...structuredClone(v), status: { phase: 'Released' } });
    await p.sync('v');
    assert.deepEqual(updated[0]?.metadata.finalizers, []);
  });
});
