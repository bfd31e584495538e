import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Node } from '../../api/generated/types.js';
import { NODES } from '../../client/typed-refs.js';
import type { SharedInformer } from '../../client/informer.js';
import { createLogger } from '../../util/log.js';
import { FakeRecorder, fakeInformer, put, remove } from '../testing.js';
import { CidrSet } from './cidrset.js';
import { RangeAllocator, type RangeAllocatorClient } from './range-allocator.js';

describe('CidrSet', () => {
  test('splits 10.42.0.0/16 into 256 /24s, first 10.42.0.0/24, and runs out after them', () => {
    const set = new CidrSet('10.42.0.0/16', 24);
    assert.equal(set.size, 256);
    assert.equal(set.allocateNext(), '10.42.0.0/24');
    assert.equal(set.allocateNext(), '10.42.1.0/24');
    const seen = new Set(['10.42.0.0/24', '10.42.1.0/24']);
    for (let i = 2; i < 256; i++) seen.add(set.allocateNext());
    assert.equal(seen.size, 256);
    assert.ok(seen.has('10.42.255.0/24'));
    assert.throws(
      () => set.allocateNext(),
      /no remaining CIDRs left to allocate in the accepted range 10.42.0.0\/16/,
    );
  });

  test('a released subnet is handed out again only after the others', () => {
    const set = new CidrSet('10.0.0.0/22', 24);
    const a = set.allocateNext();
    set.allocateNext();
    set.release(a);
    assert.equal(set.allocateNext(), '10.0.2.0/24');
    assert.equal(set.allocateNext(), '10.0.3.0/24');
    assert.equal(set.allocateNext(), a);
  });

  test('occupy marks existing subnets; foreign CIDRs are not ours', () => {
    const set = new CidrSet('10.42.0.0/16', 24);
    assert.equal(set.occupy('10.42.0.0/24'), true);
    assert.equal(set.occupy('10.43.0.0/24'), false);
    assert.equal(set.occupy('10.42.0.0/25'), false);
    assert.equal(set.overlapsCluster('10.42.0.0/25'), true);
    assert.equal(set.overlapsCluster('10.64.0.0/24'), false);
    assert.equal(set.allocateNext(), '10.42.1.0/24');
  });

  test('rejects masks that do not fit or make too many subnets', () => {
    assert.throws(() => new CidrSet('10.42.0.0/16', 8), /does not fit/);
    assert.throws(() => new CidrSet('10.0.0.0/8', 26), /more than 2\^16/);
    assert.throws(() => new CidrSet('10.42.0.0/33', 24), /invalid CIDR/);
  });
});

class FakeClient implements RangeAllocatorClient {
  readonly patches: string[] = [];
  fail = false;
  constructor(private readonly nodes: SharedInformer<Node>) {}
  async setNodePodCidr(name: string, cidr: string): Promise<void> {
    await Promise.resolve();
    if (this.fail) throw new Error('boom');
    this.patches.push(`${name}=${cidr}`);
    const cur = structuredClone(this.nodes.get(undefined, name)!);
    cur.spec = { ...(cur.spec ?? {}), podCIDR: cidr, podCIDRs: [cidr] };
    put(this.nodes, cur);
  }
}

function node(name: string, podCIDR?: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
  };
}

function setup(clusterCidr = '10.42.0.0/16') {
  const nodes = fakeInformer<Node>(NODES);
  const client = new FakeClient(nodes);
  const recorder = new FakeRecorder();
  const enqueued: string[] = [];
  const allocator = new RangeAllocator({
    clusterCidr,
    nodeCidrMaskSize: 24,
    nodes: nodes.getLister(),
    client,
    recorder,
    log: createLogger('test'),
    enqueue: (n) => enqueued.push(n),
  });
  return { nodes, client, recorder, allocator, enqueued };
}

describe('RangeAllocator', () => {
  test('gives each node its own subnet, the first node 10.42.0.0/24', async () => {
    const { nodes, client, allocator } = setup();
    put(nodes, node('server'));
    put(nodes, node('worker'));
    allocator.occupyExisting();
    await allocator.sync('server');
    await allocator.sync('worker');
    assert.deepEqual(client.patches, ['server=10.42.0.0/24', 'worker=10.42.1.0/24']);
    assert.deepEqual(nodes.get(undefined, 'worker')?.spec?.podCIDRs, ['10.42.1.0/24']);
    // Synced again (its own update through the watch): nothing more.
    await allocator.sync('worker');
    assert.equal(client.patches.length, 2);
  });

  test('after a restart, subnets existing nodes hold are never handed out again', async () => {
    const { nodes, client, allocator } = setup();
    put(nodes, node('a', '10.42.0.0/24'));
    put(nodes, node('b', '10.42.1.0/24'));
    put(nodes, node('c'));
    allocator.occupyExisting();
    await allocator.sync('c');
    assert.deepEqual(client.patches, ['c=10.42.2.0/24']);
  });

  test('a deleted node releases its subnet', async () => {
    const { nodes, allocator } = setup();
    const a = put(nodes, node('a'));
    allocator.occupyExisting();
    await allocator.sync('a');
    assert.equal(allocator.set.free, 255);
    remove(nodes, a);
    await allocator.sync('a');
    assert.equal(allocator.set.free, 256);
    assert.equal(allocator.set.isAllocated('10.42.0.0/24'), false);
  });

  test('when the range is full: CIDRNotAvailable once, retried when a subnet is released', async () => {
    const { nodes, client, recorder, allocator, enqueued } = setup('10.42.0.0/23');
    for (const n of ['a', 'b', 'c']) put(nodes, node(n));
    allocator.occupyExisting();
    for (const n of ['a', 'b', 'c']) await allocator.sync(n);
    await allocator.sync('c');
    assert.deepEqual(client.patches, ['a=10.42.0.0/24', 'b=10.42.1.0/24']);
    assert.equal(nodes.get(undefined, 'c')?.spec?.podCIDR, undefined);
    const full = recorder.events.filter((e) => e.reason === 'CIDRNotAvailable');
    assert.deepEqual(full, [
      {
        object: 'c',
        type: 'Normal',
        reason: 'CIDRNotAvailable',
        message: 'Node c status is now: CIDRNotAvailable',
      },
    ]);
    remove(nodes, nodes.get(undefined, 'a')!);
    await allocator.sync('a');
    assert.deepEqual(enqueued, ['c']);
    await allocator.sync('c');
    assert.deepEqual(client.patches.at(-1), 'c=10.42.0.0/24');
  });

  test('a failed patch releases the subnet and reports CIDRAssignmentFailed', async () => {
    const { nodes, client, recorder, allocator } = setup();
    put(nodes, node('a'));
    allocator.occupyExisting();
    client.fail = true;
    await assert.rejects(allocator.sync('a'), /boom/);
    assert.equal(allocator.set.free, 256);
    assert.ok(recorder.events.some((e) => e.reason === 'CIDRAssignmentFailed'));
    client.fail = false;
    await allocator.sync('a');
    assert.equal(nodes.get(undefined, 'a')?.spec?.podCIDR, '10.42.1.0/24');
  });
});
