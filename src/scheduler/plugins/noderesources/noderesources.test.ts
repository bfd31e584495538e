import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PodInfo } from '../../framework/node-info.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { onlyPlugin, testCluster } from '../../testing/framework.js';

describe('NodeResourcesFit', () => {
  it('reports each insufficient resource and too many pods', () => {
    const c = testCluster(
      [
        makeNode('small', { cpu: '1', memory: '1Gi', pods: 1 }),
        makeNode('big', { cpu: '8', memory: '16Gi' }),
      ],
      [makePod('x', { nodeName: 'small', cpu: '500m', memory: '512Mi' })],
      onlyPlugin('NodeResourcesFit'),
    );
    const r = c.filterAll(makePod('p', { cpu: '1', memory: '1Gi' }));
    assert.equal(r.get('small'), 'Too many pods, Insufficient cpu, Insufficient memory');
    assert.equal(r.get('big'), '');
  });

  it('counts extended resources against allocatable', () => {
    const c = testCluster(
      [makeNode('gpu', { extended: { 'nvidia.com/gpu': '1' } }), makeNode('cpu')],
      [],
      onlyPlugin('NodeResourcesFit'),
    );
    const r = c.filterAll(makePod('p', { extended: { 'nvidia.com/gpu': '1' } }));
    assert.equal(r.get('gpu'), '');
    assert.equal(r.get('cpu'), 'Insufficient nvidia.com/gpu');
  });

  it('computes requests as max(sum of app containers, largest init container) plus overhead', () => {
    const pod = makePod('p', { cpu: '500m', initCpu: '2' });
    assert.equal(new PodInfo(pod).requests.milliCPU, 2000);
    const small = makePod('q', { cpu: '500m', initCpu: '100m' });
    assert.equal(new PodInfo(small).requests.milliCPU, 500);
    small.spec!.overhead = { cpu: '250m' };
    assert.equal(new PodInfo(small).requests.milliCPU, 750);
    // Scoring counts 100m cpu / 200Mi memory for containers that request nothing.
    const empty = new PodInfo(makePod('e'));
    assert.equal(empty.requests.milliCPU, 0);
    assert.equal(empty.nonZeroRequests.milliCPU, 100);
    assert.equal(empty.nonZeroRequests.memory, 200 * 1024 * 1024);
  });

  it('is unresolvable when the request exceeds the whole node', () => {
    const c = testCluster([makeNode('n', { cpu: '2' })], [], onlyPlugin('NodeResourcesFit'));
    const pi = new PodInfo(makePod('p', { cpu: '4' }));
    const fit = c.fwk.filterPlugins[0]!;
    const s = fit.filter(c.fwk.newCycleState(), pi, c.cache.list()[0]!);
    assert.equal(s.code, 3);
    assert.equal(s.message(), 'Insufficient cpu');
  });

  it('scores with LeastAllocated: (allocatable − requested) / allocatable, averaged over cpu and memory', () => {
    const c = testCluster(
      [makeNode('empty', { cpu: '4', memory: '8Gi' }), makeNode('half', { cpu: '4', memory: '8Gi' })],
      [makePod('x', { nodeName: 'half', cpu: '2', memory: '4Gi' })],
      onlyPlugin('NodeResourcesFit'),
    );
    const s = c.scoreAll(makePod('p', { cpu: '1', memory: '2Gi' }));
    assert.equal(s.get('empty'), 75);
    assert.equal(s.get('half'), 25);
  });

  it('scores with MostAllocated when configured', () => {
    const profile = onlyPlugin('NodeResourcesFit');
    profile.pluginConfig = [
      { name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } },
    ];
    const c = testCluster(
      [makeNode('empty', { cpu: '4', memory: '8Gi' }), makeNode('half', { cpu: '4', memory: '8Gi' })],
      [makePod('x', { nodeName: 'half', cpu: '2', memory: '4Gi' })],
      profile,
    );
    const s = c.scoreAll(makePod('p', { cpu: '1', memory: '2Gi' }));
    assert.equal(s.get('empty'), 25);
    assert.equal(s.get('half'), 75);
  });
});

describe('NodeResourcesBalancedAllocation', () => {
  it('prefers the node where cpu and memory fractions stay close', () => {
    const c = testCluster(
      [makeNode('cpu-heavy', { cpu: '4', memory: '8Gi' }), makeNode('balanced', { cpu: '4', memory: '8Gi' })],
      [makePod('x', { nodeName: 'cpu-heavy', cpu: '3', memory: '1Gi' })],
      onlyPlugin('NodeResourcesBalancedAllocation'),
    );
    const s = c.scoreAll(makePod('p', { cpu: '1', memory: '2Gi' }));
    // balanced: 1/4 cpu, 2/8 mem → std 0 → 100; cpu-heavy: 4/4 and 3/8 → std 0.3125 → 68.
    assert.equal(s.get('balanced'), 100);
    assert.equal(s.get('cpu-heavy'), 68);
  });
});
