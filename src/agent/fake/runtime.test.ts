import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../../api/generated/types.js';
import { computePodStatus } from '../pod-status.js';
import type { NodeRuntimeContext } from '../runtime.js';
import { NodeIpam, fakeNodeIp, fakePodCidr } from './ipam.js';
import { FakeRuntime, normalizeImage } from './runtime.js';

const node: NodeRuntimeContext = { nodeName: 'n0', hostIP: '172.16.0.1', podCIDR: '10.64.0.0/24' };

function pod(
  uid: string,
  spec: Partial<NonNullable<Pod['spec']>> = {},
  annotations?: Record<string, string>,
): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p-${uid}`, namespace: 'default', uid },
    spec: { nodeName: 'n0', containers: [{ name: 'app', image: 'nginx' }], ...spec },
  };
  if (annotations) p.metadata.annotations = annotations;
  return p;
}

function clock(start = Date.parse('2026-01-01T00:00:00Z')): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('fake runtime', () => {
  test('containers come up after the start delay, with an address from the node CIDR', () => {
    const c = clock();
    const rt = new FakeRuntime({ startDelayMs: 1000, now: c.now });
    const p = pod('u1');
    const r1 = rt.syncPodNow(p, node);
    assert.equal(r1.requeueAfterMs, 1000);
    assert.equal(r1.status.containers[0]?.phase, 'waiting');
    assert.deepEqual(r1.status.podIPs, []);
    c.advance(1000);
    const r2 = rt.syncPodNow(p, node);
    assert.equal(r2.requeueAfterMs, undefined);
    assert.equal(r2.status.containers[0]?.phase, 'running');
    assert.equal(r2.status.containers[0]?.ready, true);
    assert.match(r2.status.containers[0]?.containerID ?? '', /^fake:\/\/[0-9a-f]{64}$/);
    assert.deepEqual(r2.status.podIPs, ['10.64.0.2']);
    assert.equal(
      computePodStatus({ pod: p, runtime: r2.status, hostIP: node.hostIP, now: c.now() }).phase,
      'Running',
    );
  });

  test('run-to-completion pods exit after the run duration with the chosen code', () => {
    const c = clock();
    const rt = new FakeRuntime({ startDelayMs: 0, runDurationMs: 5000, exitCode: 0, now: c.now });
    const ok = pod('ok', { restartPolicy: 'Never' });
    const bad = pod(
      'bad',
      { restartPolicy: 'Never' },
      { 'fake.k8ts.io/exit-code': '2', 'fake.k8ts.io/run-duration-seconds': '1' },
    );
    assert.equal(rt.syncPodNow(ok, node).requeueAfterMs, 5000);
    assert.equal(rt.syncPodNow(bad, node).requeueAfterMs, 1000);
    c.advance(5000);
    const okStatus = rt.syncPodNow(ok, node).status;
    assert.equal(okStatus.containers[0]?.termination?.reason, 'Completed');
    assert.equal(computePodStatus({ pod: ok, runtime: okStatus, hostIP: 'h' }).phase, 'Succeeded');
    const badStatus = rt.syncPodNow(bad, node).status;
    assert.equal(badStatus.containers[0]?.termination?.exitCode, 2);
    assert.equal(badStatus.containers[0]?.termination?.reason, 'Error');
    assert.equal(computePodStatus({ pod: bad, runtime: badStatus, hostIP: 'h' }).phase, 'Failed');
  });

  test('OnFailure restarts a failed container after the back-off', () => {
    const c = clock();
    const rt = new FakeRuntime({ startDelayMs: 0, runDurationMs: 1000, exitCode: 1, now: c.now });
    const p = pod('r', { restartPolicy: 'OnFailure' });
    rt.syncPodNow(p, node);
    c.advance(1000);
    const crashed = rt.syncPodNow(p, node);
    assert.equal(crashed.status.containers[0]?.waitingReason, 'CrashLoopBackOff');
    assert.equal(crashed.requeueAfterMs, 10_000);
    assert.equal(computePodStatus({ pod: p, runtime: crashed.status, hostIP: 'h' }).phase, 'Running');
    c.advance(10_000);
    const again = rt.syncPodNow(p, node).status.containers[0];
    assert.equal(again?.phase, 'running');
    assert.equal(again?.restartCount, 1);
    assert.equal(again?.lastTermination?.exitCode, 1);
  });

  test('stopping takes the stop delay within the grace period; outliving it means SIGKILL', () => {
    const c = clock();
    const rt = new FakeRuntime({ startDelayMs: 0, stopDelayMs: 3000, now: c.now });
    const slow = pod('slow');
    const quick = pod('quick');
    rt.syncPodNow(slow, node);
    rt.syncPodNow(quick, node);
    const k1 = rt.killPodNow(slow, 30, node);
    assert.equal(k1.done, false);
    assert.equal(k1.requeueAfterMs, 3000);
    const q1 = rt.killPodNow(quick, 1, node);
    assert.equal(q1.requeueAfterMs, 1000);
    c.advance(3000);
    const k2 = rt.killPodNow(slow, 30, node);
    assert.equal(k2.done, true);
    assert.equal(k2.status.containers[0]?.termination?.exitCode, 0);
    const q2 = rt.killPodNow(quick, 1, node);
    assert.equal(q2.status.containers[0]?.termination?.exitCode, 137);
    assert.equal(
      computePodStatus({ pod: quick, runtime: q2.status, hostIP: 'h', podIsTerminal: true }).phase,
      'Failed',
    );
  });

  test('a new runtime adopts a pod from its status: same IDs, times and address', async () => {
    const c = clock();
    const rt1 = new FakeRuntime({ startDelayMs: 0, now: c.now });
    const p = pod('adopt');
    const r = rt1.syncPodNow(p, node);
    p.status = computePodStatus({ pod: p, runtime: r.status, hostIP: node.hostIP, now: c.now() });
    c.advance(60_000);
    const rt2 = new FakeRuntime({ startDelayMs: 5000, now: c.now });
    const r2 = rt2.syncPodNow(p, node);
    const again = computePodStatus({ pod: p, runtime: r2.status, hostIP: node.hostIP, now: c.now() });
    assert.deepEqual(again, p.status);
    // The adopted address is taken: the next pod gets another.
    const other = rt2.syncPodNow(pod('next', {}), node);
    assert.equal(other.status.podIPs.length, 0);
    c.advance(5000);
    assert.notEqual(rt2.syncPodNow(pod('next'), node).status.podIPs[0], p.status.podIP);
    assert.equal((await rt2.listRunning()).length, 2);
    await rt2.removePod('next');
    assert.equal((await rt2.listRunning()).length, 1);
  });

  test('image references are normalized as containerd reports them', () => {
    assert.equal(normalizeImage('nginx'), 'docker.io/library/nginx:latest');
    assert.equal(normalizeImage('nginx:1.27'), 'docker.io/library/nginx:1.27');
    assert.equal(normalizeImage('bitnami/redis'), 'docker.io/bitnami/redis:latest');
    assert.equal(normalizeImage('registry.k8s.io/pause:3.10'), 'registry.k8s.io/pause:3.10');
    assert.equal(normalizeImage('localhost:5000/x'), 'localhost:5000/x:latest');
  });
});

describe('fake node addressing', () => {
  test('per-node CIDRs and node IPs', () => {
    assert.equal(fakePodCidr(0), '10.64.0.0/24');
    assert.equal(fakePodCidr(300), '10.65.44.0/24');
    assert.equal(fakeNodeIp(0), '172.16.0.1');
    assert.equal(fakeNodeIp(255), '172.16.1.0');
  });

  test('IPAM hands out each address once and reuses freed ones later', () => {
    const ipam = new NodeIpam('10.0.0.0/29'); // .2 to .6 usable
    const got = [ipam.allocate(), ipam.allocate(), ipam.allocate(), ipam.allocate(), ipam.allocate()];
    assert.deepEqual(got, ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    assert.throws(() => ipam.allocate(), /no free pod address/);
    ipam.release('10.0.0.4');
    assert.equal(ipam.allocate(), '10.0.0.4');
    assert.equal(ipam.reserve('192.168.0.1'), false);
  });
});
