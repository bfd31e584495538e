// The resource quota controller against a real in-process API server (memory store) with the
// built-in admission chain: creates are charged to status.used by admission and refused past the
// hard limits; the controller keeps status.hard and status.used right afterwards (deletions, pods
// that finish, limits that change, a used figure that drifted) on its short resync period here.
import '../support/kubectl-cache.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Pod, ResourceQuota } from '../../src/api/generated/types.js';
import { StatusError } from '../../src/api/errors.js';
import { defaultAdmissionPlugins } from '../../src/apiserver/admission/index.js';
import type { ApiServer } from '../../src/apiserver/server.js';
import type { RestClient } from '../../src/client/rest.js';
import { PODS, RESOURCEQUOTAS } from '../../src/client/typed-refs.js';
import { resourceQuotaControllerDescriptor } from '../../src/controllers/resourcequota/index.js';
import { startControllerHarness, type ControllerHarness } from '../support/controller-harness.js';
import { eventually as pollUntil } from '../support/eventually.js';

const NS = 'quota';

const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 50, retryErrors: true });

let harness: ControllerHarness;
let server: ApiServer;
let client: RestClient;

function kubectl(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--server', server.url, '--request-timeout=20s', '-n', NS, ...args],
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

function pod(name: string, cpu: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { cpu, memory: '32Mi' } } }],
    },
  };
}

const quotaNow = (): Promise<ResourceQuota> => client.get<ResourceQuota>(RESOURCEQUOTAS, NS, 'compute');
const usedNow = async (): Promise<Record<string, string>> => (await quotaNow()).status?.used ?? {};
const usedIs = (want: Record<string, string>) => async (): Promise<true | undefined> =>
  JSON.stringify(await usedNow()) === JSON.stringify(want) ? true : undefined;

before(async () => {
  harness = await startControllerHarness({
    enable: ['resourcequota'],
    controllers: [resourceQuotaControllerDescriptor({ resyncPeriodMs: 300 })],
    admission: (ctx) => defaultAdmissionPlugins(ctx, { disable: ['ServiceAccount'] }),
    namespace: NS,
  });
  ({ server, client } = harness);
});

after(() => harness.stop());

describe('resource quota against a real API server', { timeout: 60_000 }, () => {
  test('pods: 2 and requests.cpu: used follows creates and deletes, the third pod is refused, describe shows Used/Hard', async () => {
    await client.create<ResourceQuota>(RESOURCEQUOTAS, NS, {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'compute', namespace: NS },
      spec: { hard: { pods: '2', 'requests.cpu': '1' } },
    });
    await eventually('status of the new quota', usedIs({ pods: '0', 'requests.cpu': '0' }));
    assert.deepEqual((await quotaNow()).status?.hard, { pods: '2', 'requests.cpu': '1' });

    await client.create(PODS, NS, pod('a', '300m'));
    await client.create(PODS, NS, pod('b', '200m'));
    await eventually('used after two pods', usedIs({ pods: '2', 'requests.cpu': '500m' }));
    await assert.rejects(client.create(PODS, NS, pod('c', '100m')), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.code, 403);
      assert.equal(
        err.message,
        'pods "c" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2',
      );
      return true;
    });

    const described = await kubectl('describe', 'quota', 'compute');
    assert.equal(described.code, 0, described.out);
    assert.match(described.out, /Resource\s+Used\s+Hard/);
    assert.match(described.out, /pods\s+2\s+2/);
    assert.match(described.out, /requests\.cpu\s+500m\s+1/);

    await client.delete(PODS, NS, 'a', { gracePeriodSeconds: 0 });
    await eventually('used after a delete', usedIs({ pods: '1', 'requests.cpu': '200m' }));
    await client.create(PODS, NS, pod('c', '100m'));
    await eventually('used after the third pod', usedIs({ pods: '2', 'requests.cpu': '300m' }));
  });

  test('a pod that finishes stops counting; new limits are picked up', async () => {
    const b = await client.get<Pod>(PODS, NS, 'b');
    await client.update<Pod>(PODS, { ...b, status: { phase: 'Succeeded' } }, 'status');
    await eventually('used without the finished pod', usedIs({ pods: '1', 'requests.cpu': '100m' }));
    const q = await quotaNow();
    await client.update<ResourceQuota>(RESOURCEQUOTAS, {
      ...q,
      spec: { hard: { pods: '5', 'requests.memory': '1Gi', 'count/configmaps': '3' } },
    });
    await eventually('status for the new limits', async () => {
      const cur = await quotaNow();
      return JSON.stringify(cur.status?.hard) ===
        JSON.stringify({ 'count/configmaps': '3', pods: '5', 'requests.memory': '1Gi' }) &&
        cur.status?.used?.pods === '1' &&
        cur.status.used['requests.memory'] === '32Mi' &&
        cur.status.used['requests.cpu'] === undefined
        ? true
        : undefined;
    });
  });

  test('a drifted used figure is corrected by the controller', async () => {
    const q = await quotaNow();
    const want = { ...(q.status?.used ?? {}) };
    // Admission charged something that never got stored (or a writer got it wrong): the
    // controller recounts on its resync and puts it right.
    await client.update<ResourceQuota>(
      RESOURCEQUOTAS,
      { ...q, status: { hard: q.status?.hard, used: { ...want, pods: '4' } } },
      'status',
    );
    assert.equal((await usedNow()).pods, '4');
    await eventually('used corrected', usedIs(want));
  });
});
