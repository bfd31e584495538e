import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import type { Pod, ResourceQuota, Service } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { QuotaKind } from '../../api/quota-usage.js';
import { metaNamespaceKey, type SharedInformer } from '../../client/informer.js';
import { CONFIGMAPS, PODS, RESOURCEQUOTAS, SERVICES } from '../../client/typed-refs.js';
import { createLogger } from '../../util/log.js';
import { fakeInformer, put } from '../testing.js';
import { countedKind, ResourceQuotaController } from './resource-quota.js';

const NS = 'ns';
let quotas: SharedInformer<ResourceQuota>;
let pods: SharedInformer<KubeObject>;
let services: SharedInformer<KubeObject>;
let written: ResourceQuota[];
let listed: QuotaKind[];
let controller: ResourceQuotaController;

beforeEach(() => {
  quotas = fakeInformer(RESOURCEQUOTAS);
  pods = fakeInformer(PODS);
  services = fakeInformer(SERVICES);
  written = [];
  listed = [];
  controller = new ResourceQuotaController({
    quotas,
    tracked: [
      { kind: { group: '', plural: 'pods' }, informer: pods },
      { kind: { group: '', plural: 'services' }, informer: services },
      { kind: { group: '', plural: 'configmaps' }, informer: fakeInformer(CONFIGMAPS) },
    ],
    listOther: async (kind) => {
      await Promise.resolve();
      listed.push(kind);
      return kind.plural === 'deployments'
        ? [
            { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a', namespace: NS } },
            { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'b', namespace: NS } },
          ]
        : [];
    },
    updateStatus: async (q) => {
      await Promise.resolve();
      written.push(structuredClone(q));
      return put(quotas, q);
    },
    log: createLogger('test'),
  });
});

function pod(name: string, cpu: string, phase = 'Running', limitsCpu?: string): void {
  put<KubeObject, Pod>(pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'i',
          resources: {
            requests: { cpu, memory: '64Mi' },
            ...(limitsCpu ? { limits: { cpu: limitsCpu } } : {}),
          },
        },
      ],
    },
    status: { phase },
  });
}

function quota(hard: Record<string, string>, status?: ResourceQuota['status']): ResourceQuota {
  return put(quotas, {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'q', namespace: NS },
    spec: { hard },
    ...(status ? { status } : {}),
  });
}

async function syncOnce(q: ResourceQuota): Promise<ResourceQuota['status']> {
  await controller.sync(metaNamespaceKey(q));
  return written.at(-1)?.status;
}

describe('resource quota controller', () => {
  test('counts pods and their requests and limits; terminal pods do not count; cpu aliases requests.cpu', async () => {
    pod('a', '250m', 'Running', '1');
    pod('b', '500m', 'Pending');
    pod('done', '2', 'Succeeded');
    pod('failed', '2', 'Failed');
    const st = await syncOnce(
      quota({ pods: '10', 'requests.cpu': '2', cpu: '4', 'limits.cpu': '4', 'requests.memory': '1Gi' }),
    );
    assert.deepEqual(st?.hard, {
      cpu: '4',
      'limits.cpu': '4',
      pods: '10',
      'requests.cpu': '2',
      'requests.memory': '1Gi',
    });
    assert.deepEqual(st?.used, {
      cpu: '750m',
      'limits.cpu': '1',
      pods: '2',
      'requests.cpu': '750m',
      'requests.memory': '128Mi',
    });
  });

  test('services, node ports, load balancers; count/<resource>.<group> of an unwatched kind is listed', async () => {
    put<KubeObject, Service>(services, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'lb', namespace: NS },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }, { port: 443 }] },
    });
    put<KubeObject, Service>(services, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'plain', namespace: NS },
      spec: { ports: [{ port: 80 }] },
    });
    const st = await syncOnce(
      quota({
        services: '5',
        'services.nodeports': '5',
        'services.loadbalancers': '1',
        'count/deployments.apps': '3',
        configmaps: '2',
      }),
    );
    assert.deepEqual(st?.used, {
      configmaps: '0',
      'count/deployments.apps': '2',
      services: '2',
      'services.loadbalancers': '1',
      'services.nodeports': '2',
    });
    assert.deepEqual(listed, [{ group: 'apps', plural: 'deployments' }]);
  });

  test('corrects a used figure that drifted (e.g. charged by admission for a pod since deleted), and drops names no longer limited', async () => {
    pod('a', '100m');
    const st = await syncOnce(
      quota({ pods: '2' }, { hard: { pods: '2', secrets: '1' }, used: { pods: '2', secrets: '1' } }),
    );
    assert.deepEqual(st, { hard: { pods: '2' }, used: { pods: '1' } });
    const before = written.length;
    await controller.sync('ns/q');
    assert.equal(written.length, before, 'nothing to write when status is current');
  });

  test('count names map to kinds', () => {
    assert.deepEqual(countedKind('count/deployments.apps'), { group: 'apps', plural: 'deployments' });
    assert.deepEqual(countedKind('count/pods'), { group: '', plural: 'pods' });
    assert.deepEqual(countedKind('count/widgets.example.com'), { group: 'example.com', plural: 'widgets' });
    assert.equal(countedKind('pods'), undefined);
  });
});
