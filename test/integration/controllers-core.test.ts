// The core controllers against a real in-process API server (memory store): the garbage collector
// (background, foreground and orphan cascading), the namespace controller, the ServiceAccount
// controller and root CA publisher, the Endpoints and EndpointSlice controllers, and the CSR
// approver and signer, all run by the controller manager and talking to the server over HTTP.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { StatusError } from '../../src/api/errors.js';
import { builtinResources } from '../../src/api/kinds/index.js';
import type { KubeObject } from '../../src/api/meta.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import type { AuthorizationDecision, RequestAttributes, UserInfo } from '../../src/apiserver/request-info.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { RestClient } from '../../src/client/rest.js';
import {
  CERTIFICATESIGNINGREQUESTS,
  CONFIGMAPS,
  ENDPOINTS,
  ENDPOINTSLICES,
  NAMESPACES,
  NODES,
  PODS,
  SECRETS,
  SERVICEACCOUNTS,
  SERVICES,
} from '../../src/client/typed-refs.js';
import { csrApprovingController, csrSigningController } from '../../src/controllers/certificates/index.js';
import { csrRequesterAdmission } from '../../src/apiserver/admission/csr-requester.js';
import { endpointsController, endpointSliceController } from '../../src/controllers/endpoints/index.js';
import { garbageCollectorController } from '../../src/controllers/garbage-collector/index.js';
import { createControllerManager, type ControllerManager } from '../../src/controllers/manager.js';
import { namespaceController } from '../../src/controllers/namespace/index.js';
import {
  rootCaCertificatePublisher,
  serviceAccountController,
} from '../../src/controllers/serviceaccount/index.js';
import {
  createCertificateAuthority,
  createCertificateRequest,
  type CertificateAuthority,
} from '../../src/pki/certs.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';
import { eventually as pollUntil } from '../support/eventually.js';

const ADMIN: UserInfo = { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
const BOOTSTRAP: UserInfo = {
  name: 'system:bootstrap:abcdef',
  groups: ['system:bootstrappers', 'system:authenticated'],
};

function authenticate(req: IncomingMessage): Promise<UserInfo | undefined> {
  const auth = req.headers.authorization ?? '';
  if (auth === 'Bearer admin') return Promise.resolve(ADMIN);
  if (auth === 'Bearer bootstrap') return Promise.resolve(BOOTSTRAP);
  return Promise.resolve(undefined);
}

/** Masters may do anything; bootstrappers may create CSRs, read them, and ask for node client certificates. */
function authorize(a: RequestAttributes): Promise<AuthorizationDecision> {
  if (a.user.groups.includes('system:masters')) return Promise.resolve({ allowed: true, reason: '' });
  const bootstrapper = a.user.groups.includes('system:bootstrappers');
  const csrs = a.apiGroup === 'certificates.k8s.io' && a.resource === 'certificatesigningrequests';
  if (bootstrapper && csrs && a.subresource === '' && ['create', 'get', 'list', 'watch'].includes(a.verb))
    return Promise.resolve({ allowed: true, reason: '' });
  if (bootstrapper && csrs && a.subresource === 'nodeclient' && a.verb === 'create')
    return Promise.resolve({ allowed: true, reason: '' });
  return Promise.resolve({ allowed: false, reason: 'not allowed by the test authorizer' });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The shared poll, with this file's default timeout and pace. */
const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 25, retryErrors: true });

function isNotFound(err: unknown): boolean {
  return err instanceof StatusError && err.code === 404;
}

let server: ApiServer;
let store: MemoryStore;
let admin: RestClient;
let bootstrap: RestClient;
let manager: ControllerManager;
let ca: CertificateAuthority;

async function gone(
  ref: typeof CONFIGMAPS,
  ns: string | undefined,
  name: string,
): Promise<boolean | undefined> {
  try {
    await admin.get(ref, ns, name);
    return undefined;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

function ownerRef(o: KubeObject, block = false): Record<string, unknown> {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: o.metadata.name,
    uid: o.metadata.uid,
    blockOwnerDeletion: block,
  };
}

async function cm(
  ns: string,
  name: string,
  extra: Partial<KubeObject['metadata']> = {},
): Promise<KubeObject> {
  return admin.create(CONFIGMAPS, ns, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns, ...extra },
    data: { k: 'v' },
  });
}

before(async () => {
  ca = await createCertificateAuthority('k8ts-test-ca');
  store = new MemoryStore();
  server = await createApiServer({
    store,
    resources: builtinResources,
    schemas: builtinSchemas(),
    authenticate,
    authorize,
    admission: [csrRequesterAdmission],
  });
  admin = new RestClient({ server: server.url, token: 'admin', namespace: 'default' });
  bootstrap = new RestClient({ server: server.url, token: 'bootstrap', namespace: 'default' });
  const controllers = [
    garbageCollectorController,
    namespaceController,
    serviceAccountController,
    rootCaCertificatePublisher(ca.certPem),
    endpointsController,
    endpointSliceController,
    csrApprovingController,
    csrSigningController({ ca }),
  ];
  manager = createControllerManager({ client: admin, enable: controllers.map((c) => c.name), controllers });
  await manager.start();
  assert.equal(await manager.whenRunning(), true);
  await admin.create(NAMESPACES, undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'gc' },
  });
});

after(async () => {
  await manager.stop();
  admin.close();
  bootstrap.close();
  await server.close();
  await store.close();
});

describe('garbage collector', () => {
  test('background: dependents of a deleted owner are deleted, and so are dependents of an owner that never existed', async () => {
    const owner = await cm('gc', 'bg-owner');
    await cm('gc', 'bg-dep1', { ownerReferences: [ownerRef(owner)] as never });
    await admin.create(SECRETS, 'gc', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bg-dep2', namespace: 'gc', ownerReferences: [ownerRef(owner)] as never },
      data: {},
    });
    const keeper = await cm('gc', 'bg-keeper');
    // Two owners, one gone: only the reference to the gone one is removed.
    await cm('gc', 'bg-two-owners', { ownerReferences: [ownerRef(owner), ownerRef(keeper)] as never });
    await cm('gc', 'bg-phantom', {
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: 'never-was',
          uid: '00000000-0000-0000-0000-00000000dead',
        },
      ] as never,
    });
    await eventually('the dependent of a missing owner to go', () => gone(CONFIGMAPS, 'gc', 'bg-phantom'));
    await admin.delete(CONFIGMAPS, 'gc', 'bg-owner');
    await eventually('dependent configmap to go', () => gone(CONFIGMAPS, 'gc', 'bg-dep1'));
    await eventually('dependent secret to go', () => gone(SECRETS, 'gc', 'bg-dep2'));
    const two = await eventually('the reference to the deleted owner to be removed', async () => {
      const o = await admin.get(CONFIGMAPS, 'gc', 'bg-two-owners');
      return o.metadata.ownerReferences?.length === 1 ? o : undefined;
    });
    assert.equal(two.metadata.ownerReferences?.[0]?.uid, keeper.metadata.uid);
  });

  test('foreground: the owner stays until its blocking dependents are gone', async () => {
    const owner = await cm('gc', 'fg-owner');
    await cm('gc', 'fg-dep', {
      ownerReferences: [ownerRef(owner, true)] as never,
      finalizers: ['example.com/hold'],
    });
    await cm('gc', 'fg-dep-nonblocking', { ownerReferences: [ownerRef(owner, false)] as never });
    await admin.delete(CONFIGMAPS, 'gc', 'fg-owner', { propagationPolicy: 'Foreground' });
    const dep = await eventually('the blocking dependent to be deleted', async () => {
      const d = await admin.get(CONFIGMAPS, 'gc', 'fg-dep');
      return d.metadata.deletionTimestamp ? d : undefined;
    });
    await eventually('the non-blocking dependent to go', () => gone(CONFIGMAPS, 'gc', 'fg-dep-nonblocking'));
    await sleep(300);
    const stillThere = await admin.get(CONFIGMAPS, 'gc', 'fg-owner');
    assert.ok(stillThere.metadata.deletionTimestamp);
    assert.deepEqual(stillThere.metadata.finalizers, ['foregroundDeletion']);
    await admin.patch(CONFIGMAPS, 'gc', dep.metadata.name ?? '', 'merge', { metadata: { finalizers: null } });
    await eventually('the blocking dependent to go', () => gone(CONFIGMAPS, 'gc', 'fg-dep'));
    await eventually('the owner to go once its dependents are gone', () =>
      gone(CONFIGMAPS, 'gc', 'fg-owner'),
    );
  });

  test('orphan: dependents lose the reference and stay, the owner goes', async () => {
    const owner = await cm('gc', 'or-owner');
    await cm('gc', 'or-dep', { ownerReferences: [ownerRef(owner, true)] as never });
    await admin.delete(CONFIGMAPS, 'gc', 'or-owner', { propagationPolicy: 'Orphan' });
    await eventually('the owner to go', () => gone(CONFIGMAPS, 'gc', 'or-owner'));
    const dep = await admin.get(CONFIGMAPS, 'gc', 'or-dep');
    assert.equal(dep.metadata.ownerReferences, undefined);
    assert.equal(dep.metadata.deletionTimestamp, undefined);
  });
});

describe('namespace controller', () => {
  test('deleting a namespace deletes its content and then the namespace', async () => {
    await admin.create(NAMESPACES, undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'doomed' },
    });
    await cm('doomed', 'a');
    await cm('doomed', 'b');
    await admin.create(SECRETS, 'doomed', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'doomed' },
      data: {},
    });
    for (const name of ['p1', 'p2'])
      await admin.create(PODS, 'doomed', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'doomed' },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
    await admin.delete(NAMESPACES, undefined, 'doomed');
    await eventually('the namespace to go', () => gone(NAMESPACES, undefined, 'doomed'));
    for (const [ref, name] of [
      [CONFIGMAPS, 'a'],
      [CONFIGMAPS, 'b'],
      [SECRETS, 's'],
      [PODS, 'p1'],
      [PODS, 'p2'],
    ] as const)
      assert.equal(await gone(ref, 'doomed', name), true, `${ref.plural}/${name} should be gone`);
  });

  test('content held by a finalizer is reported in the conditions and keeps the namespace', async () => {
    await admin.create(NAMESPACES, undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'held' },
    });
    await cm('held', 'kept', { finalizers: ['example.com/hold'] });
    await admin.delete(NAMESPACES, undefined, 'held');
    const ns = await eventually('the remaining-content conditions', async () => {
      const n = await admin.get(NAMESPACES, undefined, 'held');
      const conds =
        (n.status as { conditions?: Array<Record<string, string>> } | undefined)?.conditions ?? [];
      return conds.some((c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True')
        ? n
        : undefined;
    });
    const status = ns.status as { phase: string; conditions: Array<Record<string, string>> };
    assert.equal(status.phase, 'Terminating');
    const byType = new Map(status.conditions.map((c) => [c.type, c]));
    assert.equal(byType.get('NamespaceFinalizersRemaining')?.reason, 'SomeFinalizersRemain');
    assert.equal(
      byType.get('NamespaceFinalizersRemaining')?.message,
      'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
    );
    assert.equal(byType.get('NamespaceContentRemaining')?.reason, 'SomeResourcesRemain');
    assert.match(
      byType.get('NamespaceContentRemaining')?.message ?? '',
      /^Some resources are remaining: configmaps\. has 1 resource instances/,
    );
    assert.equal(byType.get('NamespaceDeletionDiscoveryFailure')?.reason, 'ResourcesDiscovered');
    assert.equal(byType.get('NamespaceDeletionContentFailure')?.reason, 'ContentDeleted');
    assert.deepEqual((ns.spec as { finalizers: string[] }).finalizers, ['kubernetes']);
    await admin.patch(CONFIGMAPS, 'held', 'kept', 'merge', { metadata: { finalizers: null } });
  });
});

describe('service accounts and the root CA', () => {
  test('a new namespace gets the default ServiceAccount and kube-root-ca.crt, kept as they should be', async () => {
    await admin.create(NAMESPACES, undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'fresh' },
    });
    await eventually('the default service account', () => admin.get(SERVICEACCOUNTS, 'fresh', 'default'));
    const root = await eventually('kube-root-ca.crt', () =>
      admin.get(CONFIGMAPS, 'fresh', 'kube-root-ca.crt'),
    );
    assert.equal((root.data as Record<string, string>)['ca.crt'], ca.certPem);
    assert.ok(root.metadata.annotations?.['kubernetes.io/description']);
    await admin.delete(SERVICEACCOUNTS, 'fresh', 'default');
    await eventually('the default service account to come back', () =>
      admin.get(SERVICEACCOUNTS, 'fresh', 'default'),
    );
    await admin.patch(CONFIGMAPS, 'fresh', 'kube-root-ca.crt', 'merge', { data: { 'ca.crt': 'tampered' } });
    await eventually('ca.crt to be restored', async () => {
      const c = await admin.get(CONFIGMAPS, 'fresh', 'kube-root-ca.crt');
      return (c.data as Record<string, string>)['ca.crt'] === ca.certPem ? c : undefined;
    });
  });
});

describe('endpoints', () => {
  const ns = 'web';

  async function setPodStatus(name: string, ip: string, ready: boolean): Promise<void> {
    await admin.patch(
      PODS,
      ns,
      name,
      'merge',
      {
        status: {
          phase: 'Running',
          podIP: ip,
          podIPs: [{ ip }],
          conditions: [
            {
              type: 'Ready',
              status: ready ? 'True' : 'False',
              lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
            },
          ],
        },
      },
      { subresource: 'status' },
    );
  }

  test('Endpoints and EndpointSlices follow pods becoming ready and not ready', async () => {
    await admin.create(NAMESPACES, undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    await admin.create(NODES, undefined, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-1' } },
    });
    await admin.create(SERVICES, ns, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns, labels: { tier: 'front' } },
      spec: {
        selector: { app: 'web' },
        ports: [
          { name: 'http', port: 80, targetPort: 'http' },
          { name: 'metrics', port: 9090, targetPort: 9100 },
        ],
      },
    });
    await admin.create(SERVICES, ns, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'manual', namespace: ns },
      spec: { ports: [{ port: 80 }] },
    });
    for (const name of ['w1', 'w2'])
      await admin.create(PODS, ns, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns, labels: { app: 'web' } },
        spec: {
          nodeName: 'node-a',
          containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }],
        },
      });
    await setPodStatus('w1', '10.0.0.1', true);
    await setPodStatus('w2', '10.0.0.2', false);

    const ep = await eventually('endpoints with one ready and one not-ready address', async () => {
      const e = await admin.get(ENDPOINTS, ns, 'web');
      const s = (
        e.subsets as Array<{ addresses?: unknown[]; notReadyAddresses?: unknown[] }> | undefined
      )?.[0];
      return s?.addresses?.length === 1 && s.notReadyAddresses?.length === 1 ? e : undefined;
    });
    const subset = (ep.subsets as Array<Record<string, Array<Record<string, unknown>>>>)[0]!;
    assert.equal(subset.addresses![0]!.ip, '10.0.0.1');
    assert.equal(subset.addresses![0]!.nodeName, 'node-a');
    assert.equal((subset.addresses![0]!.targetRef as Record<string, string>).name, 'w1');
    assert.equal(subset.notReadyAddresses![0]!.ip, '10.0.0.2');
    assert.deepEqual(subset.ports!.map((p) => [p.name, p.port]).sort(), [
      ['http', 8080],
      ['metrics', 9100],
    ]);
    assert.equal(ep.metadata.labels?.tier, 'front');

    const slice = await eventually('an endpoint slice with both pods', async () => {
      const list = await admin.list(ENDPOINTSLICES, ns, { labelSelector: 'kubernetes.io/service-name=web' });
      const s = list.items[0];
      return s && (s.endpoints as unknown[] | undefined)?.length === 2 ? s : undefined;
    });
    assert.equal(
      slice.metadata.labels?.['endpointslice.kubernetes.io/managed-by'],
      'endpointslice-controller.k8s.io',
    );
    assert.match(slice.metadata.name ?? '', /^web-/);
    assert.equal(slice.addressType, 'IPv4');
    assert.equal((slice.endpoints as Array<{ zone?: string }>)[0]!.zone, 'zone-1');
    const eps = (slice.endpoints as Array<{ addresses: string[]; conditions: { ready: boolean } }>).sort(
      (a, b) => a.addresses[0]!.localeCompare(b.addresses[0]!),
    );
    assert.deepEqual(
      eps.map((e) => [e.addresses[0], e.conditions.ready]),
      [
        ['10.0.0.1', true],
        ['10.0.0.2', false],
      ],
    );

    // w1 stops being ready, w2 becomes ready.
    await setPodStatus('w1', '10.0.0.1', false);
    await setPodStatus('w2', '10.0.0.2', true);
    await eventually('the addresses to swap', async () => {
      const e = await admin.get(ENDPOINTS, ns, 'web');
      const s = (
        e.subsets as Array<{ addresses?: Array<{ ip: string }>; notReadyAddresses?: Array<{ ip: string }> }>
      )[0];
      return s?.addresses?.[0]?.ip === '10.0.0.2' && s.notReadyAddresses?.[0]?.ip === '10.0.0.1'
        ? e
        : undefined;
    });
    await eventually('the slice conditions to swap', async () => {
      const list = await admin.list(ENDPOINTSLICES, ns, { labelSelector: 'kubernetes.io/service-name=web' });
      if (list.items.length !== 1) return undefined;
      const ready = (
        list.items[0]!.endpoints as Array<{ addresses: string[]; conditions: { ready: boolean } }>
      ).filter((e) => e.conditions.ready);
      return ready.length === 1 && ready[0]!.addresses[0] === '10.0.0.2' ? true : undefined;
    });

    // Nothing changes: neither the Endpoints nor the slice is rewritten.
    const sliceRv = async (): Promise<string | undefined> =>
      (await admin.list(ENDPOINTSLICES, ns, { labelSelector: 'kubernetes.io/service-name=web' })).items[0]
        ?.metadata.resourceVersion;
    const before = await admin.get(ENDPOINTS, ns, 'web');
    const sliceBefore = await sliceRv();
    await admin.patch(PODS, ns, 'w1', 'merge', { metadata: { annotations: { note: 'irrelevant' } } });
    await admin.patch(SERVICES, ns, 'web', 'merge', { metadata: { annotations: { note: 'irrelevant' } } });
    await sleep(300);
    const after = await admin.get(ENDPOINTS, ns, 'web');
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.equal(await sliceRv(), sliceBefore);

    // A new service's Endpoints carry its creation as the last change trigger time.
    const lonely = await admin.create<KubeObject>(SERVICES, ns, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'lonely', namespace: ns },
      spec: { selector: { app: 'nobody' }, ports: [{ port: 80 }] },
    });
    const lonelyEp = await eventually('endpoints of a service without pods', () =>
      admin.get(ENDPOINTS, ns, 'lonely'),
    );
    assert.equal(lonelyEp.subsets, undefined);
    assert.equal(
      lonelyEp.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'],
      lonely.metadata.creationTimestamp,
    );
    const placeholder = await eventually(
      'a placeholder slice',
      async () =>
        (await admin.list(ENDPOINTSLICES, ns, { labelSelector: 'kubernetes.io/service-name=lonely' }))
          .items[0],
    );
    assert.deepEqual(placeholder.endpoints ?? [], []);

    // A service without a selector is left alone.
    assert.equal(await gone(ENDPOINTS, ns, 'manual'), true);

    // Deleting a pod removes it.
    await admin.delete(PODS, ns, 'w1', { gracePeriodSeconds: 0 });
    await eventually('w1 to leave the endpoints', async () => {
      const e = await admin.get(ENDPOINTS, ns, 'web');
      const s = (e.subsets as Array<{ addresses?: unknown[]; notReadyAddresses?: unknown[] }>)[0];
      return s?.addresses?.length === 1 && !s.notReadyAddresses ? e : undefined;
    });
  });
});

describe('certificates', () => {
  test('a node client CSR from a bootstrap user is approved and signed', async () => {
    const { csrPem } = await createCertificateRequest('system:node:node-1', ['system:nodes']);
    await bootstrap.create(CERTIFICATESIGNINGREQUESTS, undefined, {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'node-csr-1' },
      spec: {
        request: Buffer.from(csrPem).toString('base64'),
        signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
        usages: ['digital signature', 'client auth'],
      },
    });
    const csr = await eventually('the certificate', async () => {
      const c = await bootstrap.get(CERTIFICATESIGNINGREQUESTS, undefined, 'node-csr-1');
      return (c.status as { certificate?: string } | undefined)?.certificate ? c : undefined;
    });
    const status = csr.status as { certificate: string; conditions: Array<Record<string, string>> };
    assert.equal((csr.spec as { username: string }).username, 'system:bootstrap:abcdef');
    const approved = status.conditions.find((c) => c.type === 'Approved');
    assert.equal(approved?.reason, 'AutoApproved');
    assert.equal(approved?.message, 'Auto approving kubelet client certificate after SubjectAccessReview.');
    const cert = new X509Certificate(Buffer.from(status.certificate, 'base64'));
    assert.match(cert.subject, /CN=system:node:node-1/);
    assert.match(cert.subject, /O=system:nodes/);
    assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
  });

  test('a CSR that is not a node client certificate is left pending', async () => {
    const { csrPem: other } = await createCertificateRequest('someone', ['developers']);
    await admin.create(CERTIFICATESIGNINGREQUESTS, undefined, {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'not-a-node' },
      spec: {
        request: Buffer.from(other).toString('base64'),
        signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
        usages: ['digital signature', 'client auth'],
      },
    });
    await sleep(500);
    const c = await admin.get(CERTIFICATESIGNINGREQUESTS, undefined, 'not-a-node');
    assert.equal((c.status as { conditions?: unknown[] } | undefined)?.conditions, undefined);
  });
});
