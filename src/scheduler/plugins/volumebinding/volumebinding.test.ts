import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../api/generated/types.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { onlyPlugin, testCluster } from '../../testing/framework.js';
import { ERR_REASON_BIND_CONFLICT, ERR_REASON_NODE_CONFLICT, ERR_REASON_UNBOUND_IMMEDIATE } from './index.js';

function pvc(name: string, sc: string, volumeName?: string): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default' },
    spec: {
      storageClassName: sc,
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
      ...(volumeName ? { volumeName } : {}),
    },
  };
}

function localPv(name: string, node: string, size = '5Gi'): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: {
      storageClassName: 'local',
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: size },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
          ],
        },
      },
    },
    status: { phase: 'Available' },
  };
}

function setup() {
  const c = testCluster([makeNode('n1'), makeNode('n2')], [], onlyPlugin('VolumeBinding'));
  c.client.add('storageclasses', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'local' },
    provisioner: 'kubernetes.io/no-provisioner',
    volumeBindingMode: 'WaitForFirstConsumer',
  });
  c.client.add('storageclasses', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'fast' },
    provisioner: 'example.com/csi',
    volumeBindingMode: 'Immediate',
  });
  c.client.add('storageclasses', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'wffc' },
    provisioner: 'example.com/csi',
    volumeBindingMode: 'WaitForFirstConsumer',
  });
  return c;
}

const withClaim = (claim: string) => makePod('p', { volumes: [{ name: 'data', claimName: claim }] });

describe('VolumeBinding', () => {
  it('fails when the claim does not exist or an immediate claim is unbound', () => {
    const c = setup();
    assert.equal(c.filterAll(withClaim('missing')).get('n1'), 'persistentvolumeclaim "missing" not found');
    c.client.add('persistentvolumeclaims', pvc('imm', 'fast'));
    assert.equal(c.filterAll(withClaim('imm')).get('n1'), ERR_REASON_UNBOUND_IMMEDIATE);
  });

  it('pins pods with a bound local volume to its node', () => {
    const c = setup();
    c.client.add('persistentvolumes', localPv('pv-n2', 'n2'));
    c.client.add('persistentvolumeclaims', pvc('bound', 'local', 'pv-n2'));
    const r = c.filterAll(withClaim('bound'));
    assert.equal(r.get('n1'), ERR_REASON_NODE_CONFLICT);
    assert.equal(r.get('n2'), '');
  });

  it('matches WaitForFirstConsumer claims to available local volumes per node', () => {
    const c = setup();
    c.client.add('persistentvolumes', localPv('pv-n1', 'n1'));
    c.client.add('persistentvolumes', localPv('pv-n2-small', 'n2', '500Mi'));
    c.client.add('persistentvolumeclaims', pvc('wait', 'local'));
    const r = c.filterAll(withClaim('wait'));
    assert.equal(r.get('n1'), '');
    assert.equal(r.get('n2'), ERR_REASON_BIND_CONFLICT);
  });

  it('leaves WaitForFirstConsumer claims with a provisioner to dynamic provisioning', () => {
    const c = setup();
    c.client.add('persistentvolumeclaims', pvc('dyn', 'wffc'));
    assert.deepEqual([...c.filterAll(withClaim('dyn')).values()], ['', '']);
  });
});
