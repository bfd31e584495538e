// PersistentVolumeClaims on real containers: `k8ts server` with its containerd node and k3s's
// default local-path class. A pod (not running as root) writes into its claim, is deleted, and a
// new pod on the same claim reads the file back; kubectl shows the claim and its provisioned volume
// Bound in upstream's columns; deleting the claim deletes the volume and, through the provisioner's
// helper pod (k3s's helper image, served by the local registry's docker.io mirror), its directory
// on the node.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PersistentVolumeClaim } from '../../src/api/generated/types.js';
import { DEFAULT_HELPER_IMAGE } from '../../src/controllers/persistentvolume/local-path.js';
import { eventually as pollUntil } from '../support/eventually.js';
import { testImages } from '../support/images.js';
import { freePort, removeDataDir, startServer, type TestServer } from '../support/k8ts-server.js';
import { startRegistry, type TestRegistry, writeRegistriesYaml } from '../support/registry.js';

let registry: TestRegistry;
let server: TestServer;
const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-volumes-'));

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 250, retryErrors: true });

before(async () => {
  registry = await startRegistry();
  // k3s's helper image name, as busybox (docker.io/<repo> is what the mirror is asked for).
  const busybox = testImages('docker').get('busybox:latest');
  if (!busybox) throw new Error('busybox test image was not built');
  const [repo = '', tag = ''] = DEFAULT_HELPER_IMAGE.split(':');
  await registry.push(repo, tag, busybox);
  writeRegistriesYaml(join(dataDir, 'registries.yaml'), registry);
  server = await startServer({
    dataDir,
    agent: true,
    extraArgs: [
      '--node-name',
      'k8ts-volumes-node',
      '--node-port',
      String(await freePort()),
      '--disable-default-registry-endpoint',
    ],
    readyTimeoutMs: 60_000,
  });
});

after(async () => {
  // Pods outlive a stopped agent, so remove them through the API first (helper pods too).
  await server?.kubectl(['delete', 'pod', '--all', '-A', '--wait', '--timeout=60s', '--grace-period=1'], {
    timeoutMs: 90_000,
  });
  await server?.stop();
  await registry?.stop();
  removeDataDir(dataDir);
});

function pod(name: string, script: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      // Not root: the provisioned directory must be writable by any user, as local-path makes it.
      securityContext: { runAsUser: 65534, runAsGroup: 65534 },
      containers: [
        {
          name: 'c',
          image: 'busybox:latest',
          command: ['sh', '-c', script],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
    },
  });
}

async function running(name: string): Promise<void> {
  await waitFor(`${name} Running`, async () => {
    const phase = await server.kubectlOk(['get', 'pod', name, '-o', 'jsonpath={.status.phase}']);
    return phase === 'Running' ? true : undefined;
  });
}

test('a claim of the local-path class keeps its data from one pod to the next, and goes with the claim', async () => {
  await server.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '32Mi' } } },
    }),
  });
  await server.kubectlOk(['apply', '-f', '-'], {
    input: pod('writer', 'id -u > /data/uid && echo hello-from-writer > /data/msg && sleep 3600'),
  });
  await running('writer');
  const claim = JSON.parse(
    await server.kubectlOk(['get', 'pvc', 'data', '-o', 'json']),
  ) as PersistentVolumeClaim;
  const volume = claim.spec?.volumeName ?? '';
  assert.equal(volume, `pvc-${claim.metadata?.uid ?? ''}`);
  const dir = join(dataDir, 'storage', `${volume}_default_data`);
  await waitFor('the file on the node', () =>
    Promise.resolve(existsSync(join(dir, 'msg')) ? true : undefined),
  );
  assert.equal(readFileSync(join(dir, 'msg'), 'utf8'), 'hello-from-writer\n');
  assert.equal(readFileSync(join(dir, 'uid'), 'utf8'), '65534\n', 'written by a user other than root');

  await server.kubectlOk(['delete', 'pod', 'writer', '--wait=true', '--timeout=60s'], { timeoutMs: 90_000 });
  await server.kubectlOk(['apply', '-f', '-'], { input: pod('reader', 'cat /data/msg && sleep 3600') });
  await running('reader');
  const logs = await waitFor('reader logs', async () => {
    const out = await server.kubectlOk(['logs', 'reader']);
    return out.trim() ? out : undefined;
  });
  assert.equal(logs.trim(), 'hello-from-writer');

  const table = await server.kubectlOk(['get', 'pv,pvc']);
  assert.match(
    table,
    /NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE/,
  );
  assert.match(
    table,
    new RegExp(
      `persistentvolume/${volume}\\s+32Mi\\s+RWO\\s+Delete\\s+Bound\\s+default/data\\s+local-path\\s+<unset>`,
    ),
  );
  assert.match(
    table,
    /NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE/,
  );
  assert.match(
    table,
    new RegExp(`persistentvolumeclaim/data\\s+Bound\\s+${volume}\\s+32Mi\\s+RWO\\s+local-path\\s+<unset>`),
  );

  await server.kubectlOk(['delete', 'pod', 'reader', '--wait=true', '--timeout=60s'], { timeoutMs: 90_000 });
  await server.kubectlOk(['delete', 'pvc', 'data']);
  await waitFor('volume deleted', async () =>
    (await server.kubectl(['get', 'pv', volume])).code !== 0 ? true : undefined,
  );
  assert.equal(existsSync(dir), false, 'the helper pod removed the directory');
});
