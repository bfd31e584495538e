import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodDisruptionBudget } from '../../../api/generated/types.js';
import { CycleState } from '../../framework/cycle-state.js';
import { PodInfo } from '../../framework/node-info.js';
import { Code } from '../../framework/status.js';
import { makeNode, makePod } from '../../testing/builders.js';
import { testCluster } from '../../testing/framework.js';
import {
  DefaultPreemptionPlugin,
  filterPodsWithPDBViolation,
  pickOneNodeForPreemption,
  type Candidate,
} from './index.js';

const pi = (name: string, priority: number, labels: Record<string, string> = {}) =>
  new PodInfo(makePod(name, { priority, labels }));

describe('DefaultPreemption', () => {
  it('picks the candidate with fewer PDB violations, then lower highest priority, then fewer victims', () => {
    const c = (nodeName: string, victims: PodInfo[], numPDBViolations = 0): Candidate => ({
      nodeName,
      victims,
      numPDBViolations,
    });
    assert.equal(pickOneNodeForPreemption([c('a', [pi('x', 1)], 1), c('b', [pi('y', 5)], 0)])?.nodeName, 'b');
    assert.equal(
      pickOneNodeForPreemption([c('a', [pi('x', 5)]), c('b', [pi('y', 3), pi('z', 3)])])?.nodeName,
      'b',
    );
    assert.equal(
      pickOneNodeForPreemption([c('a', [pi('x', 3), pi('w', 1)]), c('b', [pi('y', 3)])])?.nodeName,
      'b',
    );
  });

  it('splits victims by PodDisruptionBudget violation', () => {
    const pdb: PodDisruptionBudget = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'web' } } },
      status: { disruptionsAllowed: 1 },
    };
    const pods = [pi('w1', 1, { app: 'web' }), pi('w2', 1, { app: 'web' }), pi('o', 1, { app: 'other' })];
    const { violating, nonViolating } = filterPodsWithPDBViolation(pods, [pdb]);
    assert.deepEqual(
      violating.map((p) => p.pod.metadata.name),
      ['w2'],
    );
    assert.deepEqual(
      nonViolating.map((p) => p.pod.metadata.name),
      ['w1', 'o'],
    );
  });

  it('selects the fewest lowest-priority victims on a node and reprieves the rest', () => {
    const c = testCluster(
      [makeNode('n', { cpu: '3' })],
      [
        makePod('low', { nodeName: 'n', cpu: '1', priority: 1 }),
        makePod('mid', { nodeName: 'n', cpu: '1', priority: 5 }),
        makePod('high', { nodeName: 'n', cpu: '1', priority: 50 }),
      ],
    );
    const plugin = c.fwk.plugin('DefaultPreemption') as DefaultPreemptionPlugin;
    const pod = new PodInfo(makePod('p', { cpu: '1', priority: 10 }));
    const state = new CycleState();
    c.fwk.runPreFilterPlugins(state, pod, c.cache.list());
    const r = plugin.selectVictimsOnNode(state, pod, c.cache.list()[0]!.clone(), []);
    assert.equal(r.status.isSuccess(), true);
    assert.deepEqual(
      r.victims.map((v) => v.pod.metadata.name),
      ['low'],
    );
    // The cache's own node is untouched.
    assert.equal(c.cache.list()[0]!.pods.length, 3);
  });

  it('reports why preemption cannot help on each node', () => {
    const c = testCluster(
      [makeNode('full', { cpu: '1' }), makeNode('cp', { taints: [{ key: 'k', effect: 'NoSchedule' }] })],
      [makePod('same', { nodeName: 'full', cpu: '1', priority: 10 })],
    );
    const pod = new PodInfo(makePod('p', { cpu: '1', priority: 10 }));
    const state = new CycleState();
    c.fwk.runPreFilterPlugins(state, pod, c.cache.list());
    const statuses = new Map(c.cache.list().map((ni) => [ni.name, c.fwk.runFilterPlugins(state, pod, ni)]));
    const r = c.fwk.runPostFilterPlugins(state, pod, statuses);
    assert.equal(r.status.code, Code.Unschedulable);
    assert.equal(
      r.status.message(),
      'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    );
  });

  it('does not preempt for a pod with preemptionPolicy Never', () => {
    const c = testCluster(
      [makeNode('n', { cpu: '1' })],
      [makePod('low', { nodeName: 'n', cpu: '1', priority: 1 })],
    );
    const pod = new PodInfo(makePod('p', { cpu: '1', priority: 10, preemptionPolicy: 'Never' }));
    const r = c.fwk.runPostFilterPlugins(new CycleState(), pod, new Map());
    assert.equal(r.status.message(), 'preemption: not eligible due to preemptionPolicy=Never.');
  });
});
