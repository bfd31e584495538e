import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types.js';
import { EvictionManager } from './manager.js';
import { evictionMessage, isCriticalPod, rankForEviction, type PodUsage } from './rank.js';
import { parseMeminfo } from './signals.js';
import {
  DEFAULT_EVICTION_HARD,
  parseEvictionHard,
  thresholdsMet,
  ThresholdError,
  type Observations,
} from './thresholds.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

function pod(
  name: string,
  opts: { memRequest?: string; priority?: number; annotations?: Record<string, string> } = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations: opts.annotations },
    spec: {
      priority: opts.priority,
      containers: [
        {
          name: 'app',
          image: 'busybox',
          resources: opts.memRequest ? { requests: { memory: opts.memRequest } } : undefined,
        },
      ],
    },
  };
}

const usage = (name: string, memoryBytes: number): PodUsage => ({
  uid: `uid-${name}`,
  containers: [{ name: 'app', memoryBytes }],
});

describe('eviction thresholds', () => {
  it('parses kubelet --eviction-hard syntax, quantities and percentages', () => {
    assert.deepEqual(parseEvictionHard('memory.available<100Mi,nodefs.available<10%'), [
      { signal: 'memory.available', quantity: 100 * Mi },
      { signal: 'nodefs.available', percentage: 0.1 },
    ]);
    assert.equal(parseEvictionHard(DEFAULT_EVICTION_HARD).length, 4);
    assert.deepEqual(parseEvictionHard(''), []);
    // 0% and 100% mean "no threshold", as upstream.
    assert.deepEqual(parseEvictionHard('nodefs.available<0%'), []);
  });

  it('rejects what upstream rejects, in its words', () => {
    assert.throws(
      () => parseEvictionHard('memory.free<1Gi'),
      /^ThresholdError: unsupported eviction signal memory.free$/,
    );
    assert.throws(() => parseEvictionHard('memory.available=1Gi'), /malformed pair, expect string<string/);
    assert.throws(() => parseEvictionHard('nodefs.available<120%'), /must be <= 100%/);
    assert.throws(() => parseEvictionHard('memory.available<0'), /must be positive/);
    assert.throws(() => parseEvictionHard('memory.available<lots'), ThresholdError);
  });

  it('is met when what is available falls below the threshold', () => {
    const t = parseEvictionHard('memory.available<100Mi,nodefs.available<10%');
    const obs: Observations = {
      'memory.available': { available: 50 * Mi, capacity: 8 * Gi },
      'nodefs.available': { available: 20 * Gi, capacity: 100 * Gi },
    };
    assert.deepEqual(
      thresholdsMet(t, obs).map((x) => x.signal),
      ['memory.available'],
    );
    obs['nodefs.available'] = { available: 9 * Gi, capacity: 100 * Gi };
    obs['memory.available'] = { available: 100 * Mi, capacity: 8 * Gi };
    assert.deepEqual(
      thresholdsMet(t, obs).map((x) => x.signal),
      ['nodefs.available'],
    );
    assert.deepEqual(thresholdsMet(t, {}), [], 'no observation, nothing met');
  });

  it('reads /proc/meminfo', () => {
    assert.deepEqual(parseMeminfo('MemTotal:        2048 kB\nMemFree:  1 kB\nMemAvailable:     1024 kB\n'), {
      total: 2048 * 1024,
      available: 1024 * 1024,
    });
    assert.equal(parseMeminfo('nothing'), undefined);
  });
});

describe('eviction ranking', () => {
  it('ranks usage above requests first, then lower priority, then larger use above request', () => {
    const within = pod('within', { memRequest: '1Gi' }); // uses 500Mi of 1Gi
    const lowPrio = pod('low-prio', { priority: -10 }); // above request (0), small
    const big = pod('big'); // above request, large
    const highPrio = pod('high-prio', { priority: 1000 }); // above request, largest
    const use = new Map([
      ['uid-within', usage('within', 500 * Mi)],
      ['uid-low-prio', usage('low-prio', 10 * Mi)],
      ['uid-big', usage('big', 300 * Mi)],
      ['uid-high-prio', usage('high-prio', 900 * Mi)],
    ]);
    const ranked = rankForEviction([within, highPrio, big, lowPrio], 'memory', (p) =>
      use.get(p.metadata.uid!),
    );
    assert.deepEqual(
      ranked.map((p) => p.metadata.name),
      ['low-prio', 'big', 'high-prio', 'within'],
    );
  });

  it('puts pods without stats first', () => {
    const a = pod('a');
    const b = pod('b');
    const ranked = rankForEviction([a, b], 'memory', (p) => (p === a ? usage('a', Gi) : undefined));
    assert.deepEqual(
      ranked.map((p) => p.metadata.name),
      ['b', 'a'],
    );
  });

  it('knows critical pods: static, mirror, system priority', () => {
    assert.ok(isCriticalPod(pod('s', { annotations: { 'kubernetes.io/config.source': 'file' } })));
    assert.ok(isCriticalPod(pod('m', { annotations: { 'kubernetes.io/config.mirror': 'h' } })));
    assert.ok(isCriticalPod(pod('c', { priority: 2000001000 })));
    assert.ok(!isCriticalPod(pod('n', { priority: 1000 })));
  });

  it('explains the eviction as upstream does', () => {
    const t = parseEvictionHard('memory.available<100Mi');
    const obs: Observations = { 'memory.available': { available: 50 * Mi, capacity: 8 * Gi } };
    assert.equal(
      evictionMessage('memory', pod('x'), usage('x', 200 * Mi), t, obs),
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container app was using 200Mi, request is 0, has larger consumption of memory. ',
    );
    // A container within its request is not blamed.
    assert.equal(
      evictionMessage('memory', pod('y', { memRequest: '1Gi' }), usage('y', 200 * Mi), t, obs),
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. ',
    );
  });
});

describe('eviction manager', () => {
  function setup(podsList: Pod[], use: Map<string, PodUsage>) {
    let obs: Observations = { 'memory.available': { available: 4 * Gi, capacity: 8 * Gi } };
    const evicted: { pod: string; message: string }[] = [];
    const pressures: boolean[] = [];
    let clock = 1_000_000;
    const m = new EvictionManager({
      thresholds: parseEvictionHard(DEFAULT_EVICTION_HARD),
      signals: { observe: () => Promise.resolve(obs) },
      activePods: () => podsList.filter((p) => !evicted.some((e) => e.pod === p.metadata.name)),
      podUsage: () => Promise.resolve(use),
      evictPod: (p, message) => {
        evicted.push({ pod: p.metadata.name!, message });
        return true;
      },
      onPressureChange: (p) => pressures.push(p.memory),
      pressureTransitionMs: 60_000,
      now: () => clock,
    });
    return {
      m,
      evicted,
      pressures,
      set: (o: Observations) => (obs = o),
      advance: (ms: number) => (clock += ms),
    };
  }

  it('evicts one pod per pass while under pressure, never a critical one, and holds the condition', async () => {
    const critical = pod('critical', { priority: 2000001000 });
    const staticPod = pod('static', { annotations: { 'kubernetes.io/config.source': 'file' } });
    const a = pod('a');
    const b = pod('b');
    const use = new Map([
      ['uid-critical', usage('critical', 4 * Gi)],
      ['uid-static', usage('static', 3 * Gi)],
      ['uid-a', usage('a', 100 * Mi)],
      ['uid-b', usage('b', 200 * Mi)],
    ]);
    const s = setup([critical, staticPod, a, b], use);
    assert.equal(await s.m.synchronize(), undefined, 'no pressure, no eviction');
    assert.equal(s.m.pressure().memory, false);

    s.set({ 'memory.available': { available: 50 * Mi, capacity: 8 * Gi } });
    assert.equal((await s.m.synchronize())?.metadata.name, 'b');
    assert.equal(s.m.pressure().memory, true);
    assert.match(
      s.evicted[0]!.message,
      /^The node was low on resource: memory\. Threshold quantity: 100Mi, available: 50Mi\. Container app was using 200Mi, request is 0/,
    );
    assert.equal((await s.m.synchronize())?.metadata.name, 'a');
    assert.equal(await s.m.synchronize(), undefined, 'only critical pods left');
    assert.deepEqual(
      s.evicted.map((e) => e.pod),
      ['b', 'a'],
    );

    // Recovered: the condition stays for the transition period, then goes.
    s.set({ 'memory.available': { available: 4 * Gi, capacity: 8 * Gi } });
    s.advance(30_000);
    await s.m.synchronize();
    assert.equal(s.m.pressure().memory, true);
    s.advance(31_000);
    await s.m.synchronize();
    assert.equal(s.m.pressure().memory, false);
    assert.deepEqual(s.pressures, [true, false]);
  });

  it('reclaims node-level resources before evicting for disk', async () => {
    let reclaimed = 0;
    let obs: Observations = { 'imagefs.available': { available: 1 * Gi, capacity: 100 * Gi } };
    const evicted: string[] = [];
    const m = new EvictionManager({
      thresholds: parseEvictionHard(DEFAULT_EVICTION_HARD),
      signals: { observe: () => Promise.resolve(obs) },
      activePods: () => [pod('a')],
      podUsage: () => Promise.resolve(new Map()),
      evictPod: (p) => {
        evicted.push(p.metadata.name!);
        return true;
      },
      reclaim: () => {
        reclaimed++;
        obs = { 'imagefs.available': { available: 50 * Gi, capacity: 100 * Gi } };
        return Promise.resolve();
      },
    });
    assert.equal(await m.synchronize(), undefined);
    assert.equal(reclaimed, 1);
    assert.deepEqual(evicted, []);
    assert.equal(m.pressure().disk, true, 'the condition was observed this pass');
  });

  it('admits new pods under pressure as upstream: BestEffort refused for memory, everything for disk', async () => {
    const bestEffort = pod('be');
    const burstable = pod('burst', { memRequest: '64Mi' });
    const tolerant = pod('tolerant');
    tolerant.spec!.tolerations = [
      { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    ];
    const critical = pod('critical', { priority: 2000001000 });
    let obs: Observations = { 'memory.available': { available: 4 * Gi, capacity: 8 * Gi } };
    const m = new EvictionManager({
      thresholds: parseEvictionHard(DEFAULT_EVICTION_HARD),
      signals: { observe: () => Promise.resolve(obs) },
      activePods: () => [],
      podUsage: () => Promise.resolve(new Map()),
      evictPod: () => false,
    });
    await m.synchronize();
    assert.equal(m.admit(bestEffort), undefined, 'no pressure, everything admitted');

    obs = { 'memory.available': { available: 10 * Mi, capacity: 8 * Gi } };
    await m.synchronize();
    assert.deepEqual(m.admit(bestEffort), {
      reason: 'Evicted',
      message: 'The node had condition: [MemoryPressure]. ',
    });
    assert.equal(m.admit(burstable), undefined);
    assert.equal(m.admit(tolerant), undefined);
    assert.equal(m.admit(critical), undefined);

    obs = {
      'memory.available': { available: 10 * Mi, capacity: 8 * Gi },
      'nodefs.available': { available: 1 * Gi, capacity: 100 * Gi },
    };
    await m.synchronize();
    assert.deepEqual(m.admit(burstable), {
      reason: 'Evicted',
      message: 'The node had condition: [MemoryPressure DiskPressure]. ',
    });
    assert.equal(m.admit(critical), undefined);
  });
});
