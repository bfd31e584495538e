import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  computeNodeStatus,
  fakeNodeConfig,
  hostNodeConfig,
  initialNode,
  labelsToReconcile,
  NO_PRESSURE,
  nodeStatusChanged,
  nodeStatusPatch,
} from './node-status.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('node status', () => {
  const cfg = fakeNodeConfig('sim-3', '172.16.0.4', '10.64.3.0/24', { cpu: '8', memory: '32Gi' });

  test('a new node reports upstream conditions, in order, Ready last', () => {
    const st = computeNodeStatus(cfg, undefined, NO_PRESSURE, T0);
    assert.deepEqual(
      st.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
      [
        ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
        ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
        ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
        ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
      ],
    );
    for (const c of st.conditions ?? []) {
      assert.equal(c.lastHeartbeatTime, '2026-01-01T00:00:00Z');
      assert.equal(c.lastTransitionTime, '2026-01-01T00:00:00Z');
    }
    assert.deepEqual(st.capacity, { cpu: '8', 'ephemeral-storage': '1Ti', memory: '32Gi', pods: '110' });
    assert.deepEqual(st.addresses, [
      { type: 'InternalIP', address: '172.16.0.4' },
      { type: 'Hostname', address: 'sim-3' },
    ]);
    assert.deepEqual(st.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
    assert.equal(st.nodeInfo?.containerRuntimeVersion, 'fake://k8ts');
    assert.match(st.nodeInfo?.kubeletVersion ?? '', /^v1\.32\.0\+k8ts-/);
    assert.equal(st.nodeInfo?.operatingSystem, 'linux');
  });

  test('heartbeats alone are not a change; a pressure transition is, and moves lastTransitionTime', () => {
    const first = computeNodeStatus(cfg, undefined, NO_PRESSURE, T0);
    const later = computeNodeStatus(cfg, first, NO_PRESSURE, T0 + 10_000);
    assert.equal(nodeStatusChanged(first, later), false);
    assert.equal(later.conditions?.[0]?.lastHeartbeatTime, '2026-01-01T00:00:10Z');
    assert.equal(later.conditions?.[0]?.lastTransitionTime, '2026-01-01T00:00:00Z');
    const pressed = computeNodeStatus(cfg, later, { memory: true, disk: false, pid: false }, T0 + 20_000);
    assert.equal(nodeStatusChanged(later, pressed), true);
    const mem = pressed.conditions?.find((c) => c.type === 'MemoryPressure');
    assert.equal(mem?.status, 'True');
    assert.equal(mem?.reason, 'KubeletHasInsufficientMemory');
    assert.equal(mem?.lastTransitionTime, '2026-01-01T00:00:20Z');
    assert.equal(
      pressed.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime,
      '2026-01-01T00:00:00Z',
    );
  });

  test('conditions owned by others are kept, before ours', () => {
    const first = computeNodeStatus(cfg, undefined, NO_PRESSURE, T0);
    first.conditions?.unshift({ type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated' });
    const next = computeNodeStatus(cfg, first, NO_PRESSURE, T0 + 1000);
    assert.equal(next.conditions?.[0]?.type, 'NetworkUnavailable');
    assert.equal(next.conditions?.length, 5);
  });

  test('missing capacity makes the node NotReady with upstream’s message', () => {
    const broken = { ...cfg, capacity: { cpu: '1', memory: '1Gi' } };
    const st = computeNodeStatus(broken, undefined, NO_PRESSURE, T0);
    const ready = st.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'KubeletNotReady');
    assert.equal(ready?.message, 'Missing node capacity for resources: pods, ephemeral-storage');
  });

  test('registration object: labels, control-plane role, status included', () => {
    const node = initialNode(fakeNodeConfig('cp', '10.0.0.1', undefined, {}, true), T0);
    assert.equal(node.metadata.labels?.['kubernetes.io/hostname'], 'cp');
    assert.equal(node.metadata.labels?.['kubernetes.io/arch'], 'amd64');
    assert.equal(node.metadata.labels?.['node.kubernetes.io/instance-type'], 'k8ts-fake');
    assert.equal(node.metadata.labels?.['node-role.kubernetes.io/control-plane'], '');
    assert.ok(node.status?.conditions?.length === 4);
    assert.ok(node.status);
    const patch = nodeStatusPatch(node.status);
    assert.deepEqual(Object.keys(patch.status as object).sort(), [
      'addresses',
      'allocatable',
      'capacity',
      'conditions',
      'daemonEndpoints',
      'nodeInfo',
    ]);
  });

  test('labels the agent owns are reconciled on an existing node', () => {
    const existing = initialNode(cfg, T0);
    assert.equal(labelsToReconcile(existing, cfg), undefined);
    existing.metadata.labels = { 'kubernetes.io/hostname': 'other', team: 'x' };
    const fix = labelsToReconcile(existing, cfg);
    assert.equal(fix?.['kubernetes.io/hostname'], 'sim-3');
    assert.equal(fix?.['kubernetes.io/os'], 'linux');
    assert.equal(fix?.team, undefined);
  });

  test('a real host node is measured, with eviction reserves kept out of allocatable', () => {
    const host = hostNodeConfig({ name: 'Box-1', runtimeVersion: 'containerd://1.6.20' });
    assert.equal(host.name, 'box-1');
    assert.ok(Number(host.capacity.cpu) >= 1);
    assert.match(host.capacity.memory ?? '', /^\d+Ki$/);
    const capKi = Number(host.capacity.memory?.slice(0, -2));
    const allocKi = Number(host.allocatable.memory?.slice(0, -2));
    assert.equal(capKi - allocKi, Math.min(capKi, 100 * 1024));
    assert.equal(host.capacity.pods, '110');
    assert.equal(host.nodeInfo.containerRuntimeVersion, 'containerd://1.6.20');
  });
});
