import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ObjectReference } from '../../api/generated/types.js';
import type { EventRecorder } from '../../client/events.js';
import type { Container, Image } from '../cri/types.js';
import { gcOrder, ImageGCError, ImageGCManager, validatePolicy, type ImageRuntime } from './gc.js';

const MB = 1_000_000;

function image(id: string, size: number, pinned = false): Image {
  return { id, repoTags: [`example/${id}:1`], repoDigests: [], size, uid: undefined, username: '', pinned };
}

function container(imageRef: string): Container {
  return {
    id: `c-${imageRef}`,
    podSandboxId: 's',
    metadata: { name: 'c', attempt: 0 },
    image: imageRef,
    imageRef,
    state: 'CONTAINER_EXITED',
    createdAt: 0n,
    labels: {},
    annotations: {},
  };
}

function setup(
  images: Image[],
  containers: Container[],
  fs: { capacityBytes: number; availableBytes: number },
) {
  let clock = 1_000_000_000;
  const removed: string[] = [];
  const events: { reason: string; message: string }[] = [];
  const runtime: ImageRuntime = {
    listImages: () => Promise.resolve(images.filter((i) => !removed.includes(i.id))),
    listContainers: () => Promise.resolve(containers),
    removeImage: (id) => {
      removed.push(id);
      fs.availableBytes += images.find((i) => i.id === id)?.size ?? 0;
      return Promise.resolve();
    },
    imageFsInfo: () =>
      Promise.resolve([{ timestamp: 0n, mountpoint: '/images', usedBytes: 0, inodesUsed: 0 }]),
  };
  const recorder = {
    event: (_o: unknown, _t: string, reason: string, message: string) => events.push({ reason, message }),
  } as unknown as EventRecorder;
  const gc = new ImageGCManager({
    runtime,
    fsCapacity: () => Promise.resolve({ ...fs }),
    recorder,
    nodeRef: (): ObjectReference => ({ kind: 'Node', name: 'n', uid: 'n' }),
    now: () => clock,
  });
  return { gc, removed, events, advance: (ms: number) => (clock += ms) };
}

describe('image garbage collection', () => {
  it('orders images least recently used first, ties by first detection', () => {
    const order = gcOrder(
      new Map([
        ['new-unused', { lastUsed: 0, firstDetected: 20 }],
        ['used', { lastUsed: 50, firstDetected: 1 }],
        ['old-unused', { lastUsed: 0, firstDetected: 10 }],
      ]),
    );
    assert.deepEqual(order, ['old-unused', 'new-unused', 'used']);
  });

  it('validates thresholds as upstream', () => {
    assert.throws(
      () => validatePolicy({ highThresholdPercent: 101, lowThresholdPercent: 80, minAgeMs: 0 }),
      /invalid HighThresholdPercent 101, must be in range \[0-100\]/,
    );
    assert.throws(
      () => validatePolicy({ highThresholdPercent: 70, lowThresholdPercent: 80, minAgeMs: 0 }),
      /LowThresholdPercent 80 can not be higher than HighThresholdPercent 70/,
    );
  });

  it('does nothing below the high threshold', async () => {
    const s = setup([image('a', 10 * MB)], [], { capacityBytes: 100 * MB, availableBytes: 20 * MB });
    s.advance(10 * 60_000);
    await s.gc.garbageCollect();
    assert.deepEqual(s.removed, []);
  });

  it('frees unused, unpinned, old enough images down to the low threshold, least recently used first', async () => {
    // 90% used; 80% wanted: 10 MB to free.
    const fs = { capacityBytes: 100 * MB, availableBytes: 10 * MB };
    const images = [
      image('pause', 1 * MB, true),
      image('in-use', 30 * MB),
      image('old-1', 6 * MB),
      image('old-2', 6 * MB),
      image('old-3', 6 * MB),
    ];
    const s = setup(images, [container('in-use')], fs);
    // First sight of every image: all too young to go.
    await assert.rejects(s.gc.garbageCollect(), /only found 0 bytes eligible to free/);
    assert.deepEqual(s.removed, []);
    s.advance(3 * 60_000);
    await s.gc.garbageCollect();
    assert.deepEqual(s.removed, ['old-1', 'old-2'], 'stops once 10 MB are free');
    assert.deepEqual(
      s.events.map((e) => e.reason),
      ['FreeDiskSpaceFailed'],
      'only the first pass failed',
    );
  });

  it('respects the minimum age', async () => {
    const s = setup([image('young', 50 * MB)], [], { capacityBytes: 100 * MB, availableBytes: 5 * MB });
    s.advance(60_000);
    await assert.rejects(s.gc.garbageCollect(), ImageGCError);
    assert.deepEqual(s.removed, []);
  });

  it('reports FreeDiskSpaceFailed when it cannot free enough', async () => {
    const s = setup([image('pinned', 50 * MB, true), image('in-use', 40 * MB)], [container('in-use')], {
      capacityBytes: 100 * MB,
      availableBytes: 5 * MB,
    });
    s.advance(10 * 60_000);
    await assert.rejects(
      s.gc.garbageCollect(),
      /^ImageGCError: Failed to garbage collect required amount of images\. Attempted to free 15000000 bytes, but only found 0 bytes eligible to free\.$/,
    );
    assert.deepEqual(
      s.events.map((e) => e.reason),
      ['FreeDiskSpaceFailed'],
    );
    assert.deepEqual(s.removed, []);
  });

  it('deletes every unused image for the eviction manager, whatever the thresholds', async () => {
    const s = setup([image('a', MB), image('b', MB), image('c', MB, true)], [container('b')], {
      capacityBytes: 100 * MB,
      availableBytes: 90 * MB,
    });
    await s.gc.garbageCollect();
    s.advance(5 * 60_000);
    assert.equal(await s.gc.deleteUnusedImages(), MB);
    assert.deepEqual(s.removed, ['a']);
  });

  it('keeps images pinned by name when the CRI does not report the pin (containerd 1.6)', async () => {
    const images = [image('pause', MB), image('other', MB)];
    const runtime: ImageRuntime = {
      listImages: () => Promise.resolve(images),
      listContainers: () => Promise.resolve([]),
      removeImage: (id) => {
        removed.push(id);
        return Promise.resolve();
      },
      imageFsInfo: () => Promise.resolve([]),
    };
    const removed: string[] = [];
    let clock = 0;
    const gc = new ImageGCManager({
      runtime,
      pinnedNames: () => Promise.resolve(new Set(['example/pause:1'])),
      fsCapacity: () => Promise.resolve({ capacityBytes: 100 * MB, availableBytes: 50 * MB }),
      now: () => clock,
    });
    await gc.garbageCollect();
    clock += 10 * 60_000;
    await gc.deleteUnusedImages();
    assert.deepEqual(removed, ['other']);
  });

  it('reports ImageGCFailed when collection fails twice in a row', async () => {
    const events: string[] = [];
    const gc = new ImageGCManager({
      runtime: {
        listImages: () => Promise.resolve([]),
        listContainers: () => Promise.resolve([]),
        removeImage: () => Promise.resolve(),
        imageFsInfo: () => Promise.resolve([]),
      },
      fsCapacity: () => Promise.resolve({ capacityBytes: 0, availableBytes: 0 }),
      recorder: {
        event: (_o: unknown, _t: string, reason: string, message: string) =>
          events.push(`${reason}: ${message}`),
      } as unknown as EventRecorder,
      nodeRef: () => ({ kind: 'Node', name: 'n', uid: 'n' }),
      periodMs: 10,
    });
    gc.start();
    const deadline = Date.now() + 5000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await gc.stop();
    assert.equal(events[0], 'ImageGCFailed: invalid capacity 0 on image filesystem');
  });
});
