// The built-in admission chain on a real in-process server: upstream's messages and effects.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResources } from '../../api/kinds/index.js';
import { startTestServer, type TestServer, type TestResponse } from '../test-server.js';
import { defaultAdmissionPlugins, systemPriorityClasses } from './index.js';
import { aggregateMessages } from './limitranger.js';

let t: TestServer;
before(async () => {
  t = await startTestServer({
    resources: builtinResources,
    admission: (ctx) => defaultAdmissionPlugins(ctx, { serviceAccount: { defaultAttempts: 2 } }),
  });
  for (const pc of systemPriorityClasses())
    assert.equal((await t.request('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', pc)).status, 201);
});
after(() => t.close());

const pod = (name: string, extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'nginx', ...container }], ...extra },
});

async function ns(name: string, withDefaultSa = true): Promise<void> {
  assert.equal((await t.request('POST', '/api/v1/namespaces', { metadata: { name } })).status, 201);
  if (withDefaultSa)
    assert.equal(
      (
        await t.request('POST', `/api/v1/namespaces/${name}/serviceaccounts`, {
          metadata: { name: 'default' },
        })
      ).status,
      201,
    );
}

function message(r: TestResponse): string {
  return String(r.json.message);
}

describe('ServiceAccount', () => {
  test('defaults the account and mounts the projected token volume in every container', async () => {
    await ns('sa1');
    const r = await t.request('POST', '/api/v1/namespaces/sa1/pods', {
      ...pod('p'),
      spec: {
        initContainers: [{ name: 'init', image: 'busybox' }],
        containers: [
          { name: 'a', image: 'nginx' },
          {
            name: 'b',
            image: 'nginx',
            volumeMounts: [{ name: 'own', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
          },
        ],
        volumes: [{ name: 'own', emptyDir: {} }],
      },
    });
    assert.equal(r.status, 201, r.text);
    const spec = r.json.spec as {
      serviceAccountName: string;
      serviceAccount: string;
      volumes: { name: string; projected?: { defaultMode: number; sources: Record<string, unknown>[] } }[];
      containers: { volumeMounts: { name: string; mountPath: string }[] }[];
      initContainers: { volumeMounts: { name: string }[] }[];
    };
    assert.equal(spec.serviceAccountName, 'default');
    assert.equal(spec.serviceAccount, 'default');
    const vol = spec.volumes.find((v) => v.projected);
    assert.match(vol!.name, /^kube-api-access-[a-z0-9]{5}$/);
    assert.equal(vol!.projected!.defaultMode, 420);
    assert.deepEqual(vol!.projected!.sources, [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ]);
    assert.deepEqual(spec.containers[0]!.volumeMounts, [
      { name: vol!.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
    ]);
    // A container with its own mount at the path keeps it.
    assert.deepEqual(
      spec.containers[1]!.volumeMounts.map((m) => m.name),
      ['own'],
    );
    assert.deepEqual(
      spec.initContainers[0]!.volumeMounts.map((m) => m.name),
      [vol!.name],
    );
  });

  test('automountServiceAccountToken: false on the account or the pod', async () => {
    await ns('sa2');
    await t.request('POST', '/api/v1/namespaces/sa2/serviceaccounts', {
      metadata: { name: 'quiet' },
      automountServiceAccountToken: false,
      imagePullSecrets: [{ name: 'pull' }],
    });
    const quiet = await t.request(
      'POST',
      '/api/v1/namespaces/sa2/pods',
      pod('q', { serviceAccountName: 'quiet' }),
    );
    assert.equal(quiet.status, 201, quiet.text);
    const qs = quiet.json.spec as { volumes?: unknown[]; imagePullSecrets: unknown[] };
    assert.equal(qs.volumes, undefined);
    assert.deepEqual(qs.imagePullSecrets, [{ name: 'pull' }]);
    const podSays = await t.request(
      'POST',
      '/api/v1/namespaces/sa2/pods',
      pod('r', { automountServiceAccountToken: false }),
    );
    assert.equal((podSays.json.spec as { volumes?: unknown[] }).volumes, undefined);
  });

  test('refuses pods whose account does not exist, with upstream message', async () => {
    await ns('sa3', false);
    const missingDefault = await t.request('POST', '/api/v1/namespaces/sa3/pods', pod('x'));
    assert.equal(missingDefault.status, 403);
    assert.equal(
      message(missingDefault),
      'pods "x" is forbidden: error looking up service account sa3/default: serviceaccount "default" not found',
    );
    const named = await t.request(
      'POST',
      '/api/v1/namespaces/sa3/pods',
      pod('y', { serviceAccountName: 'foo' }),
    );
    assert.equal(
      message(named),
      'pods "y" is forbidden: error looking up service account sa3/foo: serviceaccount "foo" not found',
    );
    assert.equal(named.json.reason, 'Forbidden');
  });

  test('enforces mountable secrets when the account asks for it', async () => {
    await ns('sa4', false);
    await t.request('POST', '/api/v1/namespaces/sa4/serviceaccounts', {
      metadata: { name: 'default', annotations: { 'kubernetes.io/enforce-mountable-secrets': 'true' } },
      secrets: [{ name: 'ok' }],
    });
    const ok = await t.request('POST', '/api/v1/namespaces/sa4/pods', {
      ...pod('fine'),
      spec: {
        containers: [{ name: 'c', image: 'i' }],
        volumes: [{ name: 's', secret: { secretName: 'ok' } }],
      },
    });
    assert.equal(ok.status, 201, ok.text);
    const bad = await t.request('POST', '/api/v1/namespaces/sa4/pods', {
      ...pod('bad'),
      spec: {
        containers: [{ name: 'c', image: 'i' }],
        volumes: [{ name: 's', secret: { secretName: 'other' } }],
      },
    });
    assert.equal(
      message(bad),
      'pods "bad" is forbidden: volume with secret.secretName="other" is not allowed because service account default does not reference that secret',
    );
  });
});

describe('LimitRanger', () => {
  test('defaults requests and limits, annotates, and enforces min, max and ratio', async () => {
    await ns('lr');
    const lr = await t.request('POST', '/api/v1/namespaces/lr/limitranges', {
      metadata: { name: 'l' },
      spec: {
        limits: [
          {
            type: 'Container',
            default: { cpu: '500m', memory: '256Mi' },
            defaultRequest: { cpu: '100m' },
            max: { cpu: '1' },
            min: { cpu: '50m' },
            maxLimitRequestRatio: { memory: '2' },
          },
          { type: 'Pod', max: { cpu: '1500m' } },
        ],
      },
    });
    assert.equal(lr.status, 201, lr.text);
    const p = await t.request(
      'POST',
      '/api/v1/namespaces/lr/pods',
      pod('d', {}, { resources: { requests: { memory: '200Mi' } } }),
    );
    assert.equal(p.status, 201, p.text);
    const c = (p.json.spec as { containers: { resources: unknown }[] }).containers[0]!;
    assert.deepEqual(c.resources, {
      limits: { cpu: '500m', memory: '256Mi' },
      requests: { memory: '200Mi', cpu: '100m' },
    });
    assert.equal(
      (p.json.metadata as { annotations: Record<string, string> }).annotations['kubernetes.io/limit-ranger'],
      'LimitRanger plugin set: cpu request for container c; cpu, memory limit for container c',
    );
    const big = await t.request(
      'POST',
      '/api/v1/namespaces/lr/pods',
      pod('big', {}, { resources: { limits: { cpu: '2' } } }),
    );
    assert.equal(big.status, 403);
    assert.equal(
      message(big),
      'pods "big" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, maximum cpu usage per Pod is 1500m, but limit is 2]',
    );
    const several = await t.request(
      'POST',
      '/api/v1/namespaces/lr/pods',
      pod(
        'sev',
        {},
        { resources: { requests: { cpu: '10m', memory: '10Mi' }, limits: { cpu: '2', memory: '100Mi' } } },
      ),
    );
    assert.equal(
      message(several),
      'pods "sev" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, maximum cpu usage per Container is 1, but limit is 2, memory max limit to request ratio per Container is 2, but provided ratio is 10.000000, maximum cpu usage per Pod is 1500m, but limit is 2]',
    );
    const podMax = await t.request('POST', '/api/v1/namespaces/lr/pods', {
      ...pod('pm'),
      spec: {
        containers: [
          { name: 'a', image: 'i', resources: { limits: { cpu: '1' } } },
          { name: 'b', image: 'i', resources: { limits: { cpu: '1' } } },
        ],
      },
    });
    assert.equal(
      message(podMax),
      'pods "pm" is forbidden: maximum cpu usage per Pod is 1500m, but limit is 2',
    );
  });

  test('bounds claims by storage request', async () => {
    await ns('lrpvc');
    await t.request('POST', '/api/v1/namespaces/lrpvc/limitranges', {
      metadata: { name: 'l' },
      spec: {
        limits: [{ type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '10Gi' } }],
      },
    });
    const claim = (name: string, storage: string) => ({
      metadata: { name },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } },
    });
    assert.equal(
      (await t.request('POST', '/api/v1/namespaces/lrpvc/persistentvolumeclaims', claim('ok', '5Gi'))).status,
      201,
    );
    const big = await t.request(
      'POST',
      '/api/v1/namespaces/lrpvc/persistentvolumeclaims',
      claim('big', '20Gi'),
    );
    assert.equal(
      message(big),
      'persistentvolumeclaims "big" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi',
    );
  });

  test('aggregates like utilerrors', () => {
    assert.equal(aggregateMessages(['a']), 'a');
    assert.equal(aggregateMessages(['a', 'b']), '[a, b]');
  });
});

describe('ResourceQuota', () => {
  test('fills in status, charges, refuses with upstream message and releases on delete', async () => {
    await ns('rq');
    const q = await t.request('POST', '/api/v1/namespaces/rq/resourcequotas', {
      metadata: { name: 'compute-quota' },
      spec: { hard: { 'requests.cpu': '2', pods: '10', configmaps: '2', 'count/deployments.apps': '1' } },
    });
    assert.equal(q.status, 201, q.text);
    assert.deepEqual(q.json.status, {
      hard: { configmaps: '2', 'count/deployments.apps': '1', pods: '10', 'requests.cpu': '2' },
      used: { configmaps: '0', 'count/deployments.apps': '0', pods: '0', 'requests.cpu': '0' },
    });
    const unspecified = await t.request('POST', '/api/v1/namespaces/rq/pods', pod('none'));
    assert.equal(
      message(unspecified),
      'pods "none" is forbidden: failed quota: compute-quota: must specify requests.cpu for: c',
    );
    const one = await t.request(
      'POST',
      '/api/v1/namespaces/rq/pods',
      pod('one', {}, { resources: { requests: { cpu: '1' } } }),
    );
    assert.equal(one.status, 201, one.text);
    const two = await t.request(
      'POST',
      '/api/v1/namespaces/rq/pods',
      pod('two', {}, { resources: { requests: { cpu: '2' } } }),
    );
    assert.equal(two.status, 403);
    assert.equal(
      message(two),
      'pods "two" is forbidden: exceeded quota: compute-quota, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=2',
    );
    const used = async (): Promise<Record<string, string>> =>
      (
        (await t.request('GET', '/api/v1/namespaces/rq/resourcequotas/compute-quota')).json.status as {
          used: Record<string, string>;
        }
      ).used;
    assert.deepEqual(await used(), {
      configmaps: '0',
      'count/deployments.apps': '0',
      pods: '1',
      'requests.cpu': '1',
    });
    // A dry run is checked but not charged.
    const dry = await t.request('POST', '/api/v1/namespaces/rq/configmaps?dryRun=All', {
      metadata: { name: 'dry' },
    });
    assert.equal(dry.status, 201);
    assert.equal((await used()).configmaps, '0');
    for (const name of ['a', 'b'])
      assert.equal(
        (await t.request('POST', '/api/v1/namespaces/rq/configmaps', { metadata: { name } })).status,
        201,
      );
    const c = await t.request('POST', '/api/v1/namespaces/rq/configmaps', { metadata: { name: 'c' } });
    assert.equal(
      message(c),
      'configmaps "c" is forbidden: exceeded quota: compute-quota, requested: configmaps=1, used: configmaps=2, limited: configmaps=2',
    );
    // Creating an existing name is not charged.
    assert.equal(
      (await t.request('POST', '/api/v1/namespaces/rq/configmaps', { metadata: { name: 'a' } })).status,
      409,
    );
    assert.equal((await t.request('DELETE', '/api/v1/namespaces/rq/configmaps/a')).status, 200);
    assert.equal((await t.request('DELETE', '/api/v1/namespaces/rq/pods/one')).status, 200);
    const deadline = Date.now() + 5000;
    while ((await used()).configmaps !== '1' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await used(), {
      configmaps: '1',
      'count/deployments.apps': '0',
      pods: '0',
      'requests.cpu': '0',
    });
    const deploy = (name: string) => ({
      metadata: { name },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      },
    });
    assert.equal(
      (await t.request('POST', '/apis/apps/v1/namespaces/rq/deployments', deploy('d1'))).status,
      201,
    );
    const d2 = await t.request('POST', '/apis/apps/v1/namespaces/rq/deployments', deploy('d2'));
    assert.equal(
      message(d2),
      'deployments.apps "d2" is forbidden: exceeded quota: compute-quota, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1',
    );
  });

  test('concurrent creates never pass the hard limit', async () => {
    await ns('rqc');
    await t.request('POST', '/api/v1/namespaces/rqc/resourcequotas', {
      metadata: { name: 'q' },
      spec: { hard: { configmaps: '7' } },
    });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.request('POST', '/api/v1/namespaces/rqc/configmaps', { metadata: { name: `c${i}` } }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 7);
    assert.equal(results.filter((r) => r.status === 403).length, 13);
    const q = await t.request('GET', '/api/v1/namespaces/rqc/resourcequotas/q');
    assert.deepEqual((q.json.status as { used: unknown }).used, { configmaps: '7' });
  });

  test('scoped quotas only count matching pods', async () => {
    await ns('rqs');
    await t.request('POST', '/api/v1/namespaces/rqs/resourcequotas', {
      metadata: { name: 'besteffort' },
      spec: { hard: { pods: '1' }, scopes: ['BestEffort'] },
    });
    assert.equal((await t.request('POST', '/api/v1/namespaces/rqs/pods', pod('be1'))).status, 201);
    assert.equal((await t.request('POST', '/api/v1/namespaces/rqs/pods', pod('be2'))).status, 403);
    const burstable = await t.request(
      'POST',
      '/api/v1/namespaces/rqs/pods',
      pod('bu', {}, { resources: { requests: { cpu: '1m' } } }),
    );
    assert.equal(burstable.status, 201, burstable.text);
    assert.equal(
      (await t.request('POST', '/api/v1/namespaces/rqs/configmaps', { metadata: { name: 'x' } })).status,
      201,
    );
  });
});

describe('Priority', () => {
  test('resolves class names, applies the global default and refuses unknown classes', async () => {
    await ns('prio');
    const critical = await t.request(
      'POST',
      '/api/v1/namespaces/prio/pods',
      pod('crit', { priorityClassName: 'system-node-critical' }),
    );
    assert.equal(critical.status, 201, critical.text);
    assert.equal((critical.json.spec as { priority: number }).priority, 2000001000);
    const unknown = await t.request(
      'POST',
      '/api/v1/namespaces/prio/pods',
      pod('u', { priorityClassName: 'nope' }),
    );
    assert.equal(message(unknown), 'pods "u" is forbidden: no PriorityClass with name nope was found');
    const wrong = await t.request(
      'POST',
      '/api/v1/namespaces/prio/pods',
      pod('w', { priorityClassName: 'system-node-critical', priority: 5 }),
    );
    assert.equal(
      message(wrong),
      'pods "w" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 2000001000 from the given PriorityClass name',
    );
    const pc = (name: string, value: number) => ({
      metadata: { name },
      value,
      globalDefault: true,
      preemptionPolicy: 'Never',
    });
    assert.equal(
      (await t.request('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', pc('low', 10))).status,
      201,
    );
    const second = await t.request('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', pc('other', 20));
    assert.equal(second.status, 403);
    assert.equal(
      message(second),
      'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass low is already marked as default. Only one default can exist',
    );
    const plain = await t.request('POST', '/api/v1/namespaces/prio/pods', pod('plain'));
    const spec = plain.json.spec as { priority: number; priorityClassName: string; preemptionPolicy: string };
    assert.deepEqual([spec.priority, spec.priorityClassName, spec.preemptionPolicy], [10, 'low', 'Never']);
    assert.equal((await t.request('DELETE', '/apis/scheduling.k8s.io/v1/priorityclasses/low')).status, 200);
    const after = (await t.request('POST', '/api/v1/namespaces/prio/pods', pod('after'))).json.spec as {
      priority: number;
      priorityClassName?: string;
    };
    assert.deepEqual([after.priority, after.priorityClassName], [0, undefined]);
  });
});

describe('NamespaceLifecycle', () => {
  test('the system namespaces may not be deleted', async () => {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      const r = await t.request('DELETE', `/api/v1/namespaces/${name}`);
      assert.equal(r.status, 403);
      assert.equal(message(r), `namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
  });
});
