import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../api/generated/types.js';
import { PodWorkers } from './pod-workers.js';
import type { PodRuntime, RuntimePodStatus } from './runtime.js';
import type { StatusManager } from './status-manager.js';

const idle: RuntimePodStatus = { sandboxReady: false, podIPs: [], initContainers: [], containers: [] };

/** A runtime that records what the workers asked of it. */
function recordingRuntime(withStopPod: boolean): { runtime: PodRuntime; calls: string[] } {
  const calls: string[] = [];
  const runtime: PodRuntime = {
    type: 'test',
    version: () => 'test://1',
    syncPod: () => Promise.resolve({ status: idle }),
    killPod: () => Promise.resolve({ status: idle, done: true }),
    listRunning: () => Promise.resolve([]),
    removePod: (uid) => {
      calls.push(`remove ${uid}`);
      return Promise.resolve();
    },
  };
  if (withStopPod)
    runtime.stopPod = (uid) => {
      calls.push(`stop ${uid}`);
      return Promise.resolve();
    };
  return { runtime, calls };
}

const statusManager = {
  setPodStatus: () => undefined,
  forget: () => undefined,
  requestDelete: () => undefined,
} as unknown as StatusManager;

function finishedPod(uid: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'job-pod', namespace: 'default', uid },
    spec: { nodeName: 'n1', restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase: 'Succeeded' },
  };
}

async function syncOnce(runtime: PodRuntime, pods: Map<string, Pod>, uid: string): Promise<void> {
  const workers = new PodWorkers({
    runtime,
    statusManager,
    getPod: (u) => pods.get(u),
    nodeContext: (name) => (name === 'n1' ? { nodeName: 'n1', hostIP: '10.0.0.1' } : undefined),
    podsOnNode: () => [...pods.values()],
    allocatable: () => undefined,
    workers: 1,
  });
  workers.start();
  workers.enqueue(uid);
  await workers.stop();
}

describe('PodWorkers and finished pods', () => {
  it("keeps a Succeeded pod's containers (and so its logs) until the pod is deleted", async () => {
    const { runtime, calls } = recordingRuntime(true);
    const pods = new Map([['u1', finishedPod('u1')]]);
    await syncOnce(runtime, pods, 'u1');
    assert.deepEqual(calls, ['stop u1']);
    pods.delete('u1');
    await syncOnce(runtime, pods, 'u1');
    assert.deepEqual(calls, ['stop u1', 'remove u1']);
  });

  it('removes a finished pod at once from a runtime that cannot keep it stopped', async () => {
    const { runtime, calls } = recordingRuntime(false);
    await syncOnce(runtime, new Map([['u2', finishedPod('u2')]]), 'u2');
    assert.deepEqual(calls, ['remove u2']);
  });
});
