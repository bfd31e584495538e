import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../../api/generated/types.js';
import type { NodeRuntimeContext } from '../runtime.js';
import { FakeNodeBackend } from './node-backend.js';
import { ANNOTATION_CPU_USAGE, ANNOTATION_MEMORY_USAGE, FakeRuntime } from './runtime.js';

const node: NodeRuntimeContext = { nodeName: 'n0', hostIP: '172.16.0.1', podCIDR: '10.64.0.0/24' };
const T0 = Date.parse('2026-01-01T00:00:00Z');

function pod(
  uid: string,
  resources?: { requests?: Record<string, string> },
  annotations?: Record<string, string>,
): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p-${uid}`, namespace: 'default', uid },
    spec: {
      nodeName: 'n0',
      containers: [{ name: 'app', image: 'nginx', ...(resources ? { resources } : {}) }],
    },
  };
  if (annotations) p.metadata.annotations = annotations;
  return p;
}

function setup(usageFraction?: number) {
  let t = T0;
  const now = (): number => t;
  const runtime = new FakeRuntime({
    startDelayMs: 1000,
    now,
    ...(usageFraction !== undefined ? { usageFraction } : {}),
  });
  const backend = new FakeNodeBackend({ nodeName: 'n0', runtime, pods: () => Promise.resolve([]), now });
  return { runtime, backend, advance: (ms: number) => (t += ms) };
}

describe('simulated usage', () => {
  test('a running container uses half its requests by default; its CPU counter grows at that rate', async () => {
    const { runtime, backend, advance } = setup();
    const p1 = pod('u1', { requests: { cpu: '200m', memory: '64Mi' } });
    runtime.syncPodNow(p1, node);
    assert.deepEqual(runtime.usage('n0'), [], 'nothing runs before the start delay');
    advance(1000);
    runtime.syncPodNow(p1, node);
    advance(10_000);
    const [p] = runtime.usage('n0');
    assert.equal(p?.containers[0]?.usageCoreNanoSeconds, 1e9, '100m for 10 s');
    assert.equal(p?.containers[0]?.workingSetBytes, 32 * 1024 * 1024);
    const summary = await backend.stats();
    assert.equal(summary.pods[0]?.podRef.name, 'p-u1');
    assert.equal(summary.pods[0]?.containers[0]?.cpu?.usageCoreNanoSeconds, 1e9);
    assert.equal(summary.pods[0]?.containers[0]?.startTime, new Date(T0 + 1000).toISOString());
    assert.equal(summary.node.memory?.workingSetBytes, 256 * 1024 * 1024 + 32 * 1024 * 1024);
    assert.equal(summary.node.cpu?.usageNanoCores, 100_000_000 + 100_000_000, 'system 100m plus the pod');
  });

  test('annotations set usage; the fraction is configurable; no requests means a small floor', () => {
    const { runtime, advance } = setup(1);
    const pods = [
      pod('fixed', undefined, { [ANNOTATION_CPU_USAGE]: '750m', [ANNOTATION_MEMORY_USAGE]: '1Gi' }),
      pod('full', { requests: { cpu: '1', memory: '100Mi' } }),
      pod('bare'),
    ];
    for (const p of pods) runtime.syncPodNow(p, node);
    advance(1000);
    for (const p of pods) runtime.syncPodNow(p, node);
    advance(2000);
    const byName = new Map(runtime.usage().map((p) => [p.name, p.containers[0]]));
    assert.equal(byName.get('p-fixed')?.nanoCores, 750_000_000);
    assert.equal(byName.get('p-fixed')?.workingSetBytes, 1024 ** 3);
    assert.equal(byName.get('p-full')?.nanoCores, 1e9);
    assert.equal(byName.get('p-full')?.workingSetBytes, 100 * 1024 * 1024);
    assert.equal(byName.get('p-bare')?.nanoCores, 1_000_000);
    assert.equal(byName.get('p-bare')?.workingSetBytes, 4 * 1024 * 1024);
  });

  test('annotating a running pod changes its usage; its CPU counter keeps growing', () => {
    const { runtime, advance } = setup();
    const p = pod('u1', undefined, { [ANNOTATION_CPU_USAGE]: '100m' });
    runtime.syncPodNow(p, node);
    advance(1000);
    runtime.syncPodNow(p, node);
    advance(10_000);
    assert.equal(runtime.usage()[0]?.containers[0]?.usageCoreNanoSeconds, 1e9);
    // Load rises (kubectl annotate --overwrite): the agent syncs the updated pod.
    runtime.syncPodNow(
      pod('u1', undefined, { [ANNOTATION_CPU_USAGE]: '900m', [ANNOTATION_MEMORY_USAGE]: '1Mi' }),
      node,
    );
    advance(10_000);
    const c = runtime.usage()[0]?.containers[0];
    assert.equal(c?.usageCoreNanoSeconds, 1e9 + 9e9);
    assert.equal(c?.nanoCores, 900_000_000);
    assert.equal(c?.workingSetBytes, 1024 * 1024);
  });

  test("the node's CPU counter never goes back when a pod ends", async () => {
    const { runtime, backend, advance } = setup();
    const p = pod('u1', { requests: { cpu: '2' } });
    runtime.syncPodNow(p, node);
    advance(1000);
    runtime.syncPodNow(p, node);
    await backend.stats();
    advance(5000);
    const before = (await backend.stats()).node.cpu?.usageCoreNanoSeconds ?? 0;
    runtime.killPodNow(p, 0, node);
    advance(5000);
    const after = (await backend.stats()).node.cpu?.usageCoreNanoSeconds ?? 0;
    assert.ok(after > before, `${after} > ${before}`);
    assert.deepEqual((await backend.stats()).pods, []);
  });

  test('logs and exec are refused: there is no process', async () => {
    const { backend } = setup();
    await assert.rejects(backend.logs(), /simulated/);
    await assert.rejects(backend.exec(), /simulated/);
  });
});
