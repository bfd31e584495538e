import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../api/errors.js';
import { CONFIGMAPS, NAMESPACES, SERVICEACCOUNTS } from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import { fakeInformer, put } from '../testing.js';
import {
  DESCRIPTION_ANNOTATION,
  ROOT_CA_CONFIGMAP,
  ROOT_CA_DESCRIPTION,
  RootCaPublisher,
  type ConfigMapObj,
} from './root-ca-publisher.js';
import { ServiceAccountsController, type NamespaceObj, type ServiceAccountObj } from './serviceaccounts.js';

const log = createLogger('test');

function ns(name: string, terminating = false): NamespaceObj {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: terminating ? { name, deletionTimestamp: '2026-01-01T00:00:00Z' } : { name },
    status: { phase: terminating ? 'Terminating' : 'Active' },
  };
}

function alreadyExists(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 409,
    reason: 'AlreadyExists',
    message: 'exists',
  });
}

describe('serviceaccounts controller', () => {
  function setup() {
    const namespaces = fakeInformer<NamespaceObj>(NAMESPACES);
    const sas = fakeInformer<ServiceAccountObj>(SERVICEACCOUNTS);
    const created: string[] = [];
    const enqueued: string[] = [];
    let fail: Error | undefined;
    const c = new ServiceAccountsController({
      namespaces: namespaces.getLister(),
      serviceAccounts: sas.getLister(),
      client: {
        async create(n, sa) {
          await Promise.resolve();
          if (fail) throw fail;
          created.push(`${n}/${sa.metadata.name ?? ''}`);
        },
      },
      enqueue: (n) => enqueued.push(n),
      log,
    });
    return { namespaces, sas, created, enqueued, c, failWith: (e: Error) => (fail = e) };
  }

  test('creates the default service account in an active namespace that lacks it', async () => {
    const t = setup();
    put(t.namespaces, ns('a'));
    await t.c.sync('a');
    assert.deepEqual(t.created, ['a/default']);
  });

  test('does nothing when it exists, when the namespace is terminating or gone', async () => {
    const t = setup();
    put(t.namespaces, ns('a'));
    put(t.sas, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'a' } });
    put(t.namespaces, ns('b', true));
    await t.c.sync('a');
    await t.c.sync('b');
    await t.c.sync('missing');
    assert.deepEqual(t.created, []);
  });

  test('an AlreadyExists answer is not an error', async () => {
    const t = setup();
    put(t.namespaces, ns('a'));
    t.failWith(alreadyExists());
    await t.c.sync('a');
  });

  test('the deletion of a default service account enqueues its namespace', () => {
    const t = setup();
    const h = t.c.serviceAccountHandlers();
    h.onDelete?.({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'x' } });
    h.onDelete?.({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder', namespace: 'y' } });
    assert.deepEqual(t.enqueued, ['x']);
  });
});

describe('root CA publisher', () => {
  const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  function setup() {
    const namespaces = fakeInformer<NamespaceObj>(NAMESPACES);
    const cms = fakeInformer<ConfigMapObj>(CONFIGMAPS);
    const writes: ConfigMapObj[] = [];
    const verbs: string[] = [];
    const enqueued: string[] = [];
    const p = new RootCaPublisher({
      namespaces: namespaces.getLister(),
      configMaps: cms.getLister(),
      client: {
        async create(_n, cm) {
          await Promise.resolve();
          verbs.push('create');
          writes.push(cm);
        },
        async update(cm) {
          await Promise.resolve();
          verbs.push('update');
          writes.push(cm);
        },
      },
      enqueue: (n) => enqueued.push(n),
      log,
      rootCa: CA,
    });
    return { namespaces, cms, writes, verbs, enqueued, p };
  }

  test('creates kube-root-ca.crt with the CA and the description annotation', async () => {
    const t = setup();
    put(t.namespaces, ns('a'));
    await t.p.sync('a');
    assert.deepEqual(t.verbs, ['create']);
    assert.equal(t.writes[0]!.metadata.name, ROOT_CA_CONFIGMAP);
    assert.deepEqual(t.writes[0]!.data, { 'ca.crt': CA });
    assert.equal(t.writes[0]!.metadata.annotations?.[DESCRIPTION_ANNOTATION], ROOT_CA_DESCRIPTION);
  });

  test('rewrites a ConfigMap whose data differs or lacks the annotation, leaves a correct one alone', async () => {
    const t = setup();
    put(t.namespaces, ns('a'));
    put(t.cms, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: ROOT_CA_CONFIGMAP, namespace: 'a', labels: { keep: 'me' } },
      data: { 'ca.crt': 'old', extra: 'x' },
    });
    await t.p.sync('a');
    assert.deepEqual(t.verbs, ['update']);
    assert.deepEqual(t.writes[0]!.data, { 'ca.crt': CA });
    assert.equal(t.writes[0]!.metadata.labels?.keep, 'me');
    put(t.cms, t.writes[0]!);
    await t.p.sync('a');
    assert.deepEqual(t.verbs, ['update']);
  });

  test('leaves terminating namespaces alone and only watches its own ConfigMap', async () => {
    const t = setup();
    put(t.namespaces, ns('b', true));
    await t.p.sync('b');
    assert.deepEqual(t.verbs, []);
    const h = t.p.configMapHandlers();
    h.onDelete?.({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', namespace: 'x' } });
    h.onDelete?.({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: ROOT_CA_CONFIGMAP, namespace: 'y' },
    });
    assert.deepEqual(t.enqueued, ['y']);
  });
});
