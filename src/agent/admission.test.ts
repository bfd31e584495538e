import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../api/generated/types.js';
import { admitPod, podHasStarted, podRequest, rejectedStatus } from './admission.js';

function pod(name: string, cpu?: string, extra: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: name },
    spec: {
      containers: [
        { name: 'a', image: 'x', ...(cpu ? { resources: { requests: { cpu, memory: '1Gi' } } } : {}) },
      ],
      ...extra,
    },
  };
}

describe('pod admission', () => {
  const allocatable = { cpu: '2', memory: '4Gi', pods: '3' };

  test('effective requests: containers and sidecars summed, the largest init container, overhead', () => {
    const p = pod('p', '500m', {
      initContainers: [
        { name: 'side', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '100m' } } },
        { name: 'init', image: 'x', resources: { requests: { cpu: '1500m' } } },
      ],
      overhead: { cpu: '10m' },
    });
    assert.equal(podRequest(p, 'cpu'), 1610);
    assert.equal(podRequest(p, 'memory'), 2 ** 30);
    assert.equal(podRequest(p, 'pods'), 1);
  });

  test('admits what fits and rejects the rest with upstream’s reason and message', () => {
    assert.equal(admitPod(pod('a', '1'), [pod('b', '1')], allocatable).admit, true);
    const r = admitPod(pod('c', '1500m'), [pod('a', '1')], allocatable);
    assert.equal(r.admit, false);
    assert.equal(r.reason, 'OutOfcpu');
    assert.equal(
      r.message,
      "Pod was rejected: Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000",
    );
    const full = admitPod(pod('d'), [pod('a'), pod('b'), pod('c')], allocatable);
    assert.equal(full.reason, 'OutOfpods');
    const done = pod('e');
    done.status = { phase: 'Succeeded' };
    assert.equal(admitPod(pod('d'), [pod('a'), pod('b'), done], allocatable).admit, true);
  });

  test('started pods hold their place; the rejected status is Failed with the reason', () => {
    const p = pod('p');
    assert.equal(podHasStarted(p), false);
    p.status = {
      phase: 'Pending',
      containerStatuses: [
        { name: 'a', image: 'x', imageID: '', ready: false, restartCount: 0, containerID: 'fake://1' },
      ],
    };
    assert.equal(podHasStarted(p), true);
    const st = rejectedStatus(pod('q'), 'OutOfpods', 'm', Date.parse('2026-01-01T00:00:00Z'));
    assert.deepEqual(st, {
      phase: 'Failed',
      reason: 'OutOfpods',
      message: 'm',
      startTime: '2026-01-01T00:00:00Z',
    });
  });
});
