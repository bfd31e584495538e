import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchedulerCache } from '../cache/cache.js';
import { makeNode, makePod } from '../testing/builders.js';
import { numFeasibleNodesToFind } from './feasible.js';
import { fitErrorMessage } from './fit-error.js';
import { PodInfo } from './node-info.js';
import { Status } from './status.js';

describe('framework helpers', () => {
  it('numFeasibleNodesToFind follows the adaptive percentage with a floor of 100 nodes', () => {
    assert.equal(numFeasibleNodesToFind(0, 50), 50);
    assert.equal(numFeasibleNodesToFind(0, 100), 100);
    assert.equal(numFeasibleNodesToFind(0, 1000), 420);
    assert.equal(numFeasibleNodesToFind(0, 5000), 500);
    assert.equal(numFeasibleNodesToFind(0, 10000), 500);
    assert.equal(numFeasibleNodesToFind(10, 500), 100);
    assert.equal(numFeasibleNodesToFind(50, 5000), 2500);
    assert.equal(numFeasibleNodesToFind(100, 5000), 5000);
  });

  it('formats the FitError message with reasons counted and sorted as strings', () => {
    const statuses = new Map([
      ['a', Status.unschedulable('Insufficient cpu', 'Insufficient memory')],
      ['b', Status.unschedulable('Insufficient cpu')],
      ['c', Status.unresolvable('node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }')],
    ]);
    assert.equal(
      fitErrorMessage(3, statuses, ''),
      '0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.',
    );
    assert.equal(
      fitErrorMessage(
        3,
        statuses,
        'persistentvolumeclaim "x" not found',
        'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
      ),
      '0/3 nodes are available: persistentvolumeclaim "x" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
  });
});

describe('SchedulerCache', () => {
  it('adds, confirms and removes pods with their resources, and forgets failed assumptions', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('n1', { cpu: '2' }));
    const pod = makePod('p', { cpu: '500m', nodeName: 'n1' });
    pod.metadata.uid = 'u1';
    cache.assumePod(new PodInfo(pod));
    assert.equal(cache.isAssumed(pod), true);
    assert.equal(cache.get('n1')!.requested.milliCPU, 500);
    cache.addPod(pod); // the watch confirms the bind
    assert.equal(cache.isAssumed(pod), false);
    assert.equal(cache.get('n1')!.requested.milliCPU, 500);
    cache.removePod(pod);
    assert.equal(cache.get('n1')!.requested.milliCPU, 0);
    const other = makePod('q', { cpu: '1', nodeName: 'n1' });
    other.metadata.uid = 'u2';
    cache.assumePod(new PodInfo(other));
    cache.forgetPod(other);
    assert.equal(cache.get('n1')!.pods.length, 0);
  });

  it('lists nodes round-robin across zones and tracks image spread', () => {
    const cache = new SchedulerCache();
    const img = [{ names: ['app:1'], sizeBytes: 100 }];
    cache.addNode(makeNode('a1', { labels: { 'topology.kubernetes.io/zone': 'a' }, images: img }));
    cache.addNode(makeNode('a2', { labels: { 'topology.kubernetes.io/zone': 'a' }, images: img }));
    cache.addNode(makeNode('b1', { labels: { 'topology.kubernetes.io/zone': 'b' } }));
    assert.deepEqual(
      cache.list().map((n) => n.name),
      ['a1', 'b1', 'a2'],
    );
    assert.equal(cache.get('a1')!.imageStates.get('app:1')?.numNodes, 2);
    cache.removeNode(makeNode('a2'));
    assert.equal(cache.get('a1')!.imageStates.get('app:1')?.numNodes, 1);
    assert.deepEqual(
      cache.list().map((n) => n.name),
      ['a1', 'b1'],
    );
  });

  it('keeps the affinity node lists current', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('n1'));
    cache.addNode(makeNode('n2'));
    const anti = makePod('x', {
      nodeName: 'n2',
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: {}, topologyKey: 'kubernetes.io/hostname' },
          ],
        },
      },
    });
    anti.metadata.uid = 'x';
    cache.addPod(anti);
    assert.deepEqual(
      cache.havePodsWithRequiredAntiAffinity().map((n) => n.name),
      ['n2'],
    );
    assert.deepEqual(
      cache.havePodsWithAffinity().map((n) => n.name),
      ['n2'],
    );
    cache.removePod(anti);
    assert.deepEqual(
      cache.havePodsWithRequiredAntiAffinity().map((n) => n.name),
      [],
    );
  });
});
