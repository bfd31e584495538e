import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../api/generated/types.js';
import { computePodStatus, podPhase, podStatusEqual, podStatusPatch } from './pod-status.js';
import type { RuntimeContainerStatus, RuntimePodStatus } from './runtime.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, status?: Pod['status']): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: {
      nodeName: 'n1',
      containers: [
        { name: 'a', image: 'nginx' },
        { name: 'b', image: 'redis' },
      ],
      ...spec,
    },
  };
  if (status) p.status = status;
  return p;
}

function running(name: string, ready = true): RuntimeContainerStatus {
  return {
    name,
    image: `docker.io/library/${name}:latest`,
    imageID: `docker.io/library/${name}@sha256:00`,
    containerID: `fake://${name}`,
    phase: 'running',
    startedAt: T0,
    restartCount: 0,
    ready,
    started: true,
  };
}

function exited(name: string, exitCode: number): RuntimeContainerStatus {
  return {
    ...running(name),
    phase: 'terminated',
    ready: false,
    started: false,
    termination: {
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt: T0,
      finishedAt: T0 + 5000,
      containerID: `fake://${name}`,
    },
  };
}

function rt(containers: RuntimeContainerStatus[], init: RuntimeContainerStatus[] = []): RuntimePodStatus {
  return { sandboxReady: true, podIPs: ['10.42.0.5'], initContainers: init, containers };
}

describe('pod phase', () => {
  test('running containers make Running; none yet make Pending', () => {
    assert.equal(podPhase(pod(), rt([running('a'), running('b')]), false), 'Running');
    assert.equal(podPhase(pod(), rt([running('a')]), false), 'Pending');
    assert.equal(podPhase(pod(), rt([]), false), 'Pending');
  });

  test('restart policies decide what stopped containers mean', () => {
    const allOk = rt([exited('a', 0), exited('b', 0)]);
    const oneBad = rt([exited('a', 0), exited('b', 1)]);
    assert.equal(podPhase(pod({ restartPolicy: 'Never' }), allOk, false), 'Succeeded');
    assert.equal(podPhase(pod({ restartPolicy: 'Never' }), oneBad, false), 'Failed');
    assert.equal(podPhase(pod({ restartPolicy: 'OnFailure' }), oneBad, false), 'Running');
    assert.equal(podPhase(pod({ restartPolicy: 'Always' }), allOk, false), 'Running');
    // A pod shut down for good ends terminal whatever its policy.
    assert.equal(podPhase(pod({ restartPolicy: 'Always' }), allOk, true), 'Succeeded');
    assert.equal(podPhase(pod({ restartPolicy: 'Always' }), oneBad, true), 'Failed');
  });

  test('init containers hold the pod Pending until they succeed', () => {
    const spec = { initContainers: [{ name: 'init', image: 'busybox' }] };
    const waiting: RuntimeContainerStatus = {
      ...running('init'),
      phase: 'waiting',
      waitingReason: 'PodInitializing',
      ready: false,
      started: false,
    };
    assert.equal(podPhase(pod(spec), rt([], [waiting]), false), 'Pending');
    assert.equal(
      podPhase(pod({ ...spec, restartPolicy: 'Never' }), rt([], [exited('init', 1)]), false),
      'Failed',
    );
    assert.equal(
      podPhase(pod(spec), rt([running('a'), running('b')], [exited('init', 0)]), false),
      'Running',
    );
  });
});

describe('pod status', () => {
  test('a running pod: conditions, IPs, container statuses', () => {
    const p = pod(
      {},
      {
        phase: 'Pending',
        qosClass: 'BestEffort',
        conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-12-31T23:59:00Z' }],
      },
    );
    const st = computePodStatus({
      pod: p,
      runtime: rt([running('a'), running('b')]),
      hostIP: '172.16.0.2',
      now: T0,
    });
    assert.equal(st.phase, 'Running');
    assert.deepEqual(
      st.conditions?.map((c) => [c.type, c.status, c.lastTransitionTime]),
      [
        ['PodReadyToStartContainers', 'True', '2026-01-01T00:00:00Z'],
        ['Initialized', 'True', '2026-01-01T00:00:00Z'],
        ['Ready', 'True', '2026-01-01T00:00:00Z'],
        ['ContainersReady', 'True', '2026-01-01T00:00:00Z'],
        ['PodScheduled', 'True', '2025-12-31T23:59:00Z'],
      ],
    );
    assert.equal(st.podIP, '10.42.0.5');
    assert.deepEqual(st.podIPs, [{ ip: '10.42.0.5' }]);
    assert.equal(st.hostIP, '172.16.0.2');
    assert.deepEqual(st.hostIPs, [{ ip: '172.16.0.2' }]);
    assert.equal(st.startTime, '2026-01-01T00:00:00Z');
    assert.equal(st.qosClass, 'BestEffort');
    assert.deepEqual(st.containerStatuses?.[0], {
      name: 'a',
      state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
      lastState: {},
      ready: true,
      restartCount: 0,
      image: 'docker.io/library/a:latest',
      imageID: 'docker.io/library/a@sha256:00',
      started: true,
      containerID: 'fake://a',
    });
  });

  test('unready containers are named in Ready and ContainersReady', () => {
    const st = computePodStatus({
      pod: pod(),
      runtime: rt([running('a'), running('b', false)]),
      hostIP: '1.2.3.4',
      now: T0,
    });
    const ready = st.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'ContainersNotReady');
    assert.equal(ready?.message, 'containers with unready status: [b]');
  });

  test('containers not created yet wait in ContainerCreating; the pod has no IP yet', () => {
    const st = computePodStatus({
      pod: pod(),
      runtime: { sandboxReady: false, podIPs: [], initContainers: [], containers: [] },
      hostIP: '1.2.3.4',
      now: T0,
    });
    assert.equal(st.phase, 'Pending');
    assert.equal(st.podIP, undefined);
    assert.deepEqual(st.containerStatuses?.[1]?.state, { waiting: { reason: 'ContainerCreating' } });
    assert.equal(st.conditions?.[0]?.status, 'False');
  });

  test('a completed pod reports PodCompleted and keeps unchanged transition times', () => {
    const p = pod({ restartPolicy: 'Never' });
    const first = computePodStatus({
      pod: p,
      runtime: rt([running('a'), running('b')]),
      hostIP: 'h',
      now: T0,
    });
    p.status = first;
    const done = computePodStatus({
      pod: p,
      runtime: rt([exited('a', 0), exited('b', 0)]),
      hostIP: 'h',
      now: T0 + 60_000,
    });
    assert.equal(done.phase, 'Succeeded');
    const ready = done.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.reason, 'PodCompleted');
    assert.equal(ready?.lastTransitionTime, '2026-01-01T00:01:00Z');
    assert.equal(
      done.conditions?.find((c) => c.type === 'Initialized')?.lastTransitionTime,
      '2026-01-01T00:00:00Z',
    );
    assert.equal(done.startTime, '2026-01-01T00:00:00Z');
    assert.deepEqual(done.containerStatuses?.[0]?.state?.terminated, {
      exitCode: 0,
      reason: 'Completed',
      startedAt: '2026-01-01T00:00:00Z',
      finishedAt: '2026-01-01T00:00:05Z',
      containerID: 'fake://a',
    });
  });

  test('readiness gates hold Ready until their condition is True', () => {
    const gated = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] });
    const st = computePodStatus({
      pod: gated,
      runtime: rt([running('a'), running('b')]),
      hostIP: 'h',
      now: T0,
    });
    const ready = st.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'ReadinessGatesNotReady');
    gated.status = { conditions: [{ type: 'example.com/lb', status: 'True' }] };
    const st2 = computePodStatus({
      pod: gated,
      runtime: rt([running('a'), running('b')]),
      hostIP: 'h',
      now: T0,
    });
    assert.equal(st2.conditions?.[0]?.type, 'example.com/lb');
    assert.equal(st2.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });

  test('equality ignores fields the agent does not write, and null vs absent', () => {
    const st = computePodStatus({
      pod: pod(),
      runtime: rt([running('a'), running('b')]),
      hostIP: 'h',
      now: T0,
    });
    const server = { ...structuredClone(st), qosClass: 'Burstable', resize: 'InProgress' };
    assert.equal(podStatusEqual(st, server), true);
    server.phase = 'Pending';
    assert.equal(podStatusEqual(st, server), false);
    const patch = podStatusPatch('u1', { phase: 'Running' }) as {
      metadata: { uid: string };
      status: Record<string, unknown>;
    };
    assert.equal(patch.metadata.uid, 'u1');
    assert.equal(patch.status.phase, 'Running');
    assert.equal(patch.status.podIP, null);
  });
});

describe('init container readiness', () => {
  test("an init container that exited with success is ready, a failed one is not (kubelet's prober)", () => {
    const p = pod({
      initContainers: [
        { name: 'init-ok', image: 'busybox' },
        { name: 'init-bad', image: 'busybox' },
      ],
    });
    const st = computePodStatus({
      pod: p,
      runtime: rt([], [exited('init-ok', 0), exited('init-bad', 1)]),
      hostIP: '192.0.2.1',
      now: T0,
    });
    assert.deepEqual(
      st.initContainerStatuses?.map((c) => [c.name, c.ready, c.started]),
      [
        ['init-ok', true, false],
        ['init-bad', false, false],
      ],
    );
  });
});
