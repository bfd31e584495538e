// PersistentVolumes on a real `k8ts server` whose own node runs the fake runtime: static volumes
// bind to claims (smallest fit, selector, class), a deleted claim releases a Retain volume, the
// default local-path class provisions a volume on the node the scheduler picked for the first
// consumer and deletes it (through its helper pod) with the claim, and a StatefulSet's
// volumeClaimTemplates get one bound claim per pod. Everything is driven and read with kubectl.
import '../support/kubectl-cache.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  Event,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
} from '../../src/api/generated/types.js';
import { eventually as pollUntil } from '../support/eventually.js';
import { startServer, type TestServer } from '../support/k8ts-server.js';

const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 200, retryErrors: true });

let server: TestServer;

before(async () => {
  server = await startServer({ agent: true, extraArgs: ['--runtime', 'fake'] });
});
after(async () => {
  await server?.stop();
});

async function getJson<T>(...args: string[]): Promise<T> {
  return JSON.parse(await server.kubectlOk(['get', ...args, '-o', 'json'])) as T;
}
const pvc = (name: string, ns = 'default') => getJson<PersistentVolumeClaim>('pvc', name, '-n', ns);
const pv = (name: string) => getJson<PersistentVolume>('pv', name);

async function eventsFor(name: string): Promise<Event[]> {
  const list = await getJson<{ items: Event[] }>('events', '--field-selector', `involvedObject.name=${name}`);
  return list.items;
}

function apply(...docs: object[]): Promise<string> {
  return server.kubectlOk(['apply', '-f', '-'], { input: docs.map((d) => JSON.stringify(d)).join('\n') });
}

function staticPv(name: string, size: string, extra: Record<string, unknown> = {}, labels = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels },
    spec: {
      capacity: { storage: size },
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'manual',
      hostPath: { path: `/tmp/k8ts-pv-test/${name}` },
      ...extra,
    },
  };
}

function claim(name: string, size: string, extra: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...extra },
  };
}

async function boundClaim(name: string): Promise<PersistentVolumeClaim> {
  return eventually(`claim ${name} Bound`, async () => {
    const c = await pvc(name);
    return c.status?.phase === 'Bound' ? c : undefined;
  });
}

describe('persistent volumes', () => {
  test('k8ts server creates the default local-path StorageClass', async () => {
    const out = await server.kubectlOk(['get', 'storageclass']);
    assert.match(out, /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE/);
    assert.match(
      out,
      /local-path \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false/,
    );
  });

  test('a static claim binds to the smallest fitting volume; deleting it releases a Retain volume', async () => {
    await apply(staticPv('small', '1Gi'), staticPv('large', '5Gi'));
    await apply(claim('claim-a', '500Mi', { storageClassName: 'manual' }));
    const c = await boundClaim('claim-a');
    assert.equal(c.spec?.volumeName, 'small');
    assert.deepEqual(c.status?.capacity, { storage: '1Gi' });
    assert.deepEqual(c.status?.accessModes, ['ReadWriteOnce']);
    assert.equal(c.metadata?.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
    assert.equal(c.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    const v = await pv('small');
    assert.equal(v.status?.phase, 'Bound');
    assert.equal(v.spec?.claimRef?.name, 'claim-a');
    assert.equal(v.spec?.claimRef?.uid, c.metadata?.uid);
    assert.equal((await pv('large')).status?.phase, 'Available');

    const table = await server.kubectlOk(['get', 'pv', 'small']);
    assert.match(
      table,
      /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE/,
    );
    assert.match(table, /small\s+1Gi\s+RWO\s+Retain\s+Bound\s+default\/claim-a\s+manual\s+<unset>/);

    await server.kubectlOk(['delete', 'pvc', 'claim-a']);
    await eventually('volume small Released', async () =>
      (await pv('small')).status?.phase === 'Released' ? true : undefined,
    );
    assert.match(await server.kubectlOk(['get', 'pv', 'small']), /Released\s+default\/claim-a/);
  });

  test('a claim with a selector binds only to a volume with those labels', async () => {
    await apply(staticPv('gold', '2Gi', {}, { tier: 'gold' }));
    await apply(
      claim('claim-gold', '1Gi', { storageClassName: 'manual', selector: { matchLabels: { tier: 'gold' } } }),
    );
    assert.equal((await boundClaim('claim-gold')).spec?.volumeName, 'gold');
  });

  test('a claim without a class and without a fitting volume stays Pending with FailedBinding', async () => {
    await apply(claim('too-big', '100Gi', { storageClassName: '' }));
    const ev = await eventually('FailedBinding event', async () =>
      (await eventsFor('too-big')).find((e) => e.reason === 'FailedBinding'),
    );
    assert.equal(ev.message, 'no persistent volumes available for this claim and no storage class is set');
    assert.equal((await pvc('too-big')).status?.phase, 'Pending');
  });

  test('local-path: the first consumer gets a provisioned volume on its node; deleting the claim deletes it', async () => {
    await apply(claim('data', '64Mi'));
    const pending = await pvc('data');
    assert.equal(pending.spec?.storageClassName, 'local-path', 'the default class is filled in');
    const waiting = await eventually('WaitForFirstConsumer event', async () =>
      (await eventsFor('data')).find((e) => e.reason === 'WaitForFirstConsumer'),
    );
    assert.equal(waiting.message, 'waiting for first consumer to be created before binding');
    assert.equal((await pvc('data')).status?.phase, 'Pending');

    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'writer' },
      spec: {
        containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
      },
    });
    const bound = await boundClaim('data');
    const node = bound.metadata?.annotations?.['volume.kubernetes.io/selected-node'];
    assert.ok(node, 'the scheduler recorded the selected node');
    const volumeName = `pvc-${bound.metadata?.uid ?? ''}`;
    assert.equal(bound.spec?.volumeName, volumeName);
    const v = await pv(volumeName);
    assert.equal(v.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'], 'rancher.io/local-path');
    assert.equal(v.spec?.hostPath?.path, `${server.dataDir}/storage/${volumeName}_default_data`);
    assert.equal(v.spec?.persistentVolumeReclaimPolicy, 'Delete');
    assert.deepEqual(v.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values, [
      node,
    ]);
    const reasons = (await eventsFor('data')).map((e) => e.reason);
    for (const r of ['ExternalProvisioning', 'Provisioning', 'ProvisioningSucceeded'])
      assert.ok(reasons.includes(r), `event ${r} in ${reasons.join(',')}`);
    await eventually('writer Running', async () =>
      (await getJson<Pod>('pod', 'writer')).status?.phase === 'Running' ? true : undefined,
    );
    assert.match(
      await server.kubectlOk(['get', 'pvc', 'data']),
      new RegExp(`data\\s+Bound\\s+${volumeName}\\s+64Mi\\s+RWO\\s+local-path`),
    );

    // A claim deleted while a pod uses it waits (Terminating), its volume stays Bound.
    await server.kubectlOk(['delete', 'pvc', 'data', '--wait=false']);
    const terminating = await pvc('data');
    assert.ok(terminating.metadata?.deletionTimestamp);
    assert.deepEqual(terminating.metadata?.finalizers, ['kubernetes.io/pvc-protection']);
    assert.match(await server.kubectlOk(['get', 'pvc', 'data']), /data\s+Terminating\s+/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await pv(volumeName)).status?.phase, 'Bound');
    await server.kubectlOk(['delete', 'pod', 'writer', '--wait=true']);
    await eventually(
      'provisioned volume deleted',
      async () => ((await server.kubectl(['get', 'pv', volumeName])).code !== 0 ? true : undefined),
      45_000,
    );
  });

  test('WaitForFirstConsumer with a static local volume: the scheduler picks it on the node, the binder completes it', async () => {
    const nodeName = (await getJson<{ items: Node[] }>('nodes')).items[0]?.metadata?.name ?? '';
    await apply(
      {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'local-static' },
        provisioner: 'kubernetes.io/no-provisioner',
        volumeBindingMode: 'WaitForFirstConsumer',
      },
      staticPv('local-1', '1Gi', {
        storageClassName: 'local-static',
        hostPath: undefined,
        local: { path: '/tmp' },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] },
            ],
          },
        },
      }),
      claim('local-claim', '1Gi', { storageClassName: 'local-static' }),
    );
    await eventually('WaitForFirstConsumer event', async () =>
      (await eventsFor('local-claim')).find((e) => e.reason === 'WaitForFirstConsumer'),
    );
    assert.equal((await pv('local-1')).status?.phase, 'Available');
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'local-user' },
      spec: {
        containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'local-claim' } }],
      },
    });
    const c = await boundClaim('local-claim');
    assert.equal(c.spec?.volumeName, 'local-1');
    const chosen = await pv('local-1');
    assert.equal(chosen.status?.phase, 'Bound');
    assert.equal(chosen.metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    await eventually('local-user Running', async () =>
      (await getJson<Pod>('pod', 'local-user')).status?.phase === 'Running' ? true : undefined,
    );
    assert.equal((await getJson<Pod>('pod', 'local-user')).spec?.nodeName, nodeName);
  });

  test('a pod whose claim is not bound stays ContainerCreating', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stuck' },
      spec: {
        nodeName: (await getJson<{ items: Node[] }>('nodes')).items[0]?.metadata?.name,
        containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'too-big' } }],
      },
    });
    const expected =
      'Unable to attach or mount volumes: unmounted volumes=[d], unattached volumes=[], failed to process volumes=[d]: error processing PVC default/too-big: PVC is not bound';
    const pod = await eventually('stuck reported', async () => {
      const p = await getJson<Pod>('pod', 'stuck');
      return p.status?.containerStatuses?.[0]?.state?.waiting?.message === expected ? p : undefined;
    });
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
    // Still waiting well after the fake runtime would have started it (1 s).
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await getJson<Pod>('pod', 'stuck')).status?.phase, 'Pending');
    await server.kubectlOk(['delete', 'pod', 'stuck', '--wait=false']);
  });

  test('a StatefulSet gets one bound claim per pod from its volumeClaimTemplates', async () => {
    await apply({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        serviceName: 'web',
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'www', mountPath: '/www' }] }],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'www' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } },
          },
        ],
      },
    });
    for (const name of ['www-web-0', 'www-web-1']) {
      const c = await eventually(`${name} Bound`, async () => {
        const r = await server.kubectl(['get', 'pvc', name, '-o', 'json']);
        if (r.code !== 0) return undefined;
        const got = JSON.parse(r.stdout) as PersistentVolumeClaim;
        return got.status?.phase === 'Bound' ? got : undefined;
      });
      assert.equal(c.spec?.storageClassName, 'local-path');
    }
    await eventually('web pods Running', async () => {
      const pods = await getJson<{ items: Pod[] }>('pods', '-l', 'app=web');
      return pods.items.length === 2 && pods.items.every((p) => p.status?.phase === 'Running')
        ? true
        : undefined;
    });
  });
});
