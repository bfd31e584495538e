// persistentVolumeClaim volumes on the node: a Bound claim's hostPath or local volume is used in
// place (created for DirectoryOrCreate), anything else is refused with kubelet's words, and a
// readOnly claim makes every mount of it read-only.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../api/generated/types.js';
import { containerConfig } from './container.js';
import type { PodObjectSource } from './env.js';
import { UnmountedVolumeError, VolumeError, VolumeManager, readOnlyVolumes } from './volumes.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ts-pvc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function claim(name: string, volumeName: string | undefined, phase: string): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'shop', uid: `uid-${name}` },
    spec: { volumeName },
    status: { phase },
  };
}
function volume(name: string, claimUid: string, source: Partial<NonNullable<PersistentVolume['spec']>>) {
  return { metadata: { name }, spec: { claimRef: { uid: claimUid }, ...source } } as PersistentVolume;
}

const claims = new Map<string, PersistentVolumeClaim>([
  ['bound', claim('bound', 'pv-host', 'Bound')],
  ['local', claim('local', 'pv-local', 'Bound')],
  ['nfs', claim('nfs', 'pv-nfs', 'Bound')],
  ['pending', claim('pending', undefined, 'Pending')],
]);
const volumes = new Map<string, PersistentVolume>([
  [
    'pv-host',
    volume('pv-host', 'uid-bound', {
      hostPath: { path: join(dir, 'host', 'data'), type: 'DirectoryOrCreate' },
    }),
  ],
  ['pv-local', volume('pv-local', 'uid-local', { local: { path: join(dir, 'missing') } })],
  ['pv-nfs', volume('pv-nfs', 'uid-nfs', { nfs: { server: 'nas', path: '/x' } })],
]);
const source: PodObjectSource = {
  configMap: () => Promise.resolve(undefined),
  secret: () => Promise.resolve(undefined),
  persistentVolumeClaim: (_ns, name) => Promise.resolve(claims.get(name)),
  persistentVolume: (name) => Promise.resolve(volumes.get(name)),
};

function pod(claimName: string, readOnly = false): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'shop', uid: 'pod-uid' },
    spec: {
      containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName, readOnly } }],
    },
  };
}
const facts = { hostIP: '192.0.2.2', nodeName: 'n1' };
const vm = new VolumeManager(join(dir, 'pods'), source);

describe('persistentVolumeClaim volumes', () => {
  it('mounts a bound hostPath volume in place, creating it', async () => {
    const paths = await vm.prepare(pod('bound'), facts);
    assert.equal(paths.get('d'), join(dir, 'host', 'data'));
    assert.ok(existsSync(join(dir, 'host', 'data')));
  });

  it("creates a local-path volume's directory world-writable, as the provisioner's setup does", async () => {
    const path = join(dir, 'storage', 'pvc-x_shop_lp');
    claims.set('lp', claim('lp', 'pv-lp', 'Bound'));
    const pv = volume('pv-lp', 'uid-lp', { hostPath: { path, type: 'DirectoryOrCreate' } });
    pv.metadata = {
      name: 'pv-lp',
      annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' },
    };
    volumes.set('pv-lp', pv);
    await vm.prepare(pod('lp'), facts);
    assert.equal(statSync(path).mode & 0o777, 0o777);
  });

  it('waits for an unbound or missing claim, in kubelet words', async () => {
    await assert.rejects(
      vm.prepare(pod('pending'), facts),
      (e: unknown) =>
        e instanceof UnmountedVolumeError &&
        e.message ===
          'Unable to attach or mount volumes: unmounted volumes=[d], unattached volumes=[], failed to process volumes=[d]: error processing PVC shop/pending: PVC is not bound',
    );
    await assert.rejects(vm.prepare(pod('nothere'), facts), /persistentvolumeclaims "nothere" not found/);
  });

  it('refuses a local volume whose path is missing and volume types it cannot mount', async () => {
    await assert.rejects(vm.prepare(pod('local'), facts), /path ".*missing" does not exist/);
    await assert.rejects(
      vm.prepare(pod('nfs'), facts),
      (e: unknown) =>
        e instanceof VolumeError && /"pv-nfs" is of a type this node cannot mount/.test(e.message),
    );
  });

  it('a readOnly claim is mounted read-only in every container', () => {
    const p = pod('bound', true);
    assert.deepEqual([...readOnlyVolumes(p)], ['d']);
    const cfg = containerConfig({
      pod: p,
      container: p.spec!.containers[0]!,
      type: 'app',
      attempt: 0,
      image: 'docker.io/library/busybox:latest',
      env: [],
      volumes: new Map([['d', join(dir, 'host', 'data')]]),
      podDir: join(dir, 'pods', 'pod-uid'),
      capacity: { milliCPU: 1000, memoryBytes: 2 ** 30 },
    });
    assert.equal(cfg.mounts?.find((m) => m.containerPath === '/data')?.readonly, true);
  });
});
