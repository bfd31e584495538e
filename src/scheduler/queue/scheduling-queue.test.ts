import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types.js';
import { ActionType, QueueingHint, type ClusterEventWithHint } from '../framework/interfaces.js';
import { Status } from '../framework/status.js';
import { PrioritySortPlugin } from '../plugins/prioritysort/index.js';
import { SchedulingGatesPlugin } from '../plugins/schedulinggates/index.js';
import { makePod } from '../testing/builders.js';
import { SchedulingQueue } from './scheduling-queue.js';

function queue(hints: Map<string, ClusterEventWithHint[]> = new Map()) {
  let t = 1_000_000;
  const sort = new PrioritySortPlugin();
  const gates = new SchedulingGatesPlugin();
  const q = new SchedulingQueue({
    less: (a, b) => sort.less(a, b),
    preEnqueue: (pod) => gates.preEnqueue(pod).withPlugin(gates.name),
    hintsFor: () => hints,
    now: () => t,
  });
  return { q, advance: (ms: number) => (t += ms) };
}

function pod(name: string, priority = 0): Pod {
  const p = makePod(name, { priority });
  p.metadata.uid = `uid-${name}`;
  return p;
}

describe('SchedulingQueue', () => {
  it('pops by priority, then by time of arrival', async () => {
    const { q, advance } = queue();
    q.add(pod('low-early', 1));
    advance(1);
    q.add(pod('high', 10));
    advance(1);
    q.add(pod('low-late', 1));
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push((await q.pop())!.podInfo.pod.metadata.name!);
    assert.deepEqual(order, ['high', 'low-early', 'low-late']);
    q.close();
  });

  it('backs off 1 s doubling up to 10 s', () => {
    const { q } = queue();
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => q.backoffDuration(n)),
      [1000, 2000, 4000, 8000, 10000, 10000],
    );
    q.close();
  });

  it('sends errors to backoffQ and moves them to activeQ when the back-off expires', () => {
    const { q, advance } = queue();
    q.add(pod('p'));
    const qp = q.tryPop()!;
    q.addUnschedulableIfNotPresent(qp, true);
    assert.equal(q.where(qp.podInfo.pod), 'backoff');
    advance(500);
    q.flushBackoffCompleted();
    assert.equal(q.where(qp.podInfo.pod), 'backoff');
    advance(600);
    q.flushBackoffCompleted();
    assert.equal(q.where(qp.podInfo.pod), 'active');
    q.close();
  });

  it('moves unschedulable pods only on events that the rejecting plugin’s hints accept', () => {
    const hints = new Map<string, ClusterEventWithHint[]>([
      [
        'NodeResourcesFit',
        [
          {
            event: { resource: 'Node', actionType: ActionType.Add },
            hint: (_pod, _old, next) =>
              next?.metadata.name === 'big' ? QueueingHint.Queue : QueueingHint.QueueSkip,
          },
        ],
      ],
    ]);
    const { q, advance } = queue(hints);
    q.add(pod('p'));
    const qp = q.tryPop()!;
    qp.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulableIfNotPresent(qp, false);
    assert.equal(q.where(qp.podInfo.pod), 'unschedulable');
    const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
    assert.equal(
      q.moveAllToActiveOrBackoffQueue(
        { resource: 'Node', actionType: ActionType.UpdateNodeLabel, label: 'x' },
        undefined,
        node('big'),
      ),
      0,
    );
    assert.equal(
      q.moveAllToActiveOrBackoffQueue(
        { resource: 'Node', actionType: ActionType.Add, label: 'NodeAdd' },
        undefined,
        node('small'),
      ),
      0,
    );
    assert.equal(
      q.moveAllToActiveOrBackoffQueue({ resource: 'AssignedPod', actionType: ActionType.Delete, label: 'x' }),
      0,
    );
    assert.equal(
      q.moveAllToActiveOrBackoffQueue(
        { resource: 'Node', actionType: ActionType.Add, label: 'NodeAdd' },
        undefined,
        node('big'),
      ),
      1,
    );
    // Still inside its back-off: it waits in backoffQ first.
    assert.equal(q.where(qp.podInfo.pod), 'backoff');
    advance(1001);
    q.flushBackoffCompleted();
    assert.equal(q.where(qp.podInfo.pod), 'active');
    q.close();
  });

  it('flushes pods unschedulable for more than 5 minutes', () => {
    const { q, advance } = queue();
    q.add(pod('p'));
    const qp = q.tryPop()!;
    qp.unschedulablePlugins = new Set(['X']);
    q.addUnschedulableIfNotPresent(qp, false);
    advance(4 * 60_000);
    q.flushUnschedulableLeftover();
    assert.equal(q.where(qp.podInfo.pod), 'unschedulable');
    advance(61_000);
    q.flushUnschedulableLeftover();
    assert.equal(q.where(qp.podInfo.pod), 'active');
    q.close();
  });

  it('holds pods with scheduling gates until the gates are removed', () => {
    const { q } = queue();
    const gated = pod('g');
    gated.spec!.schedulingGates = [{ name: 'example.com/wait' }];
    q.add(gated);
    assert.equal(q.where(gated), 'gated');
    assert.equal(q.tryPop(), undefined);
    const open = { ...gated, spec: { ...gated.spec!, schedulingGates: [] } };
    q.update(gated, open);
    assert.equal(q.where(open), 'active');
    q.close();
  });

  it('re-activates an unschedulable pod whose spec changes, and forgets deleted pods', () => {
    const { q, advance } = queue();
    const p = pod('p');
    q.add(p);
    const qp = q.tryPop()!;
    qp.unschedulablePlugins = new Set(['X']);
    q.addUnschedulableIfNotPresent(qp, false);
    advance(2000);
    q.update(p, { ...p, spec: { ...p.spec!, nodeSelector: { a: 'b' } } });
    assert.equal(q.where(p), 'active');
    q.delete(p);
    assert.equal(q.where(p), undefined);
    q.close();
  });

  it('keeps nominated pods per node', () => {
    const { q } = queue();
    const p = pod('p', 5);
    q.add({ ...p, status: { nominatedNodeName: 'n1' } });
    assert.equal(q.nominatedPodsForNode('n1').length, 1);
    q.delete(p);
    assert.equal(q.nominatedPodsForNode('n1').length, 0);
    assert.equal(Status.SUCCESS.isSuccess(), true);
    q.close();
  });

  it('resolves a waiting pop when a pod arrives, and undefined when closed', async () => {
    const { q } = queue();
    const waiting = q.pop();
    q.add(pod('late'));
    assert.equal((await waiting)?.podInfo.pod.metadata.name, 'late');
    const never = q.pop();
    q.close();
    assert.equal(await never, undefined);
  });
});
