// Image garbage collection (pkg/kubelet/images/image_gc_manager.go): every period the manager
// looks at the image file system; when its usage reaches the high threshold it deletes unused
// images, least recently used first, until usage is back to the low threshold. An image any
// container uses (running or not) is never deleted, nor a pinned one (the pause image and images
// imported with `k8ts image import` are pinned), nor one first seen less than the minimum age ago
// (it may have been pulled for a container about to start). Not freeing enough is reported as
// upstream does: a FreeDiskSpaceFailed event on the node, and ImageGCFailed when it keeps failing.
import { statfs } from 'node:fs/promises';
import type { ObjectReference } from '../../api/generated/types.js';
import type { EventRecorder } from '../../client/events.js';
import { createLogger, type Logger } from '../../util/log.js';
import type { Container, FilesystemUsage, Image } from '../cri/types.js';

export interface ImageGCPolicy {
  /** Usage (percent of the image file system) at which collection starts (default 85). */
  highThresholdPercent: number;
  /** Usage collection brings the file system back to (default 80). */
  lowThresholdPercent: number;
  /** Images first seen less than this long ago are kept (default 2 min). */
  minAgeMs: number;
}

export const DEFAULT_IMAGE_GC_POLICY: ImageGCPolicy = {
  highThresholdPercent: 85,
  lowThresholdPercent: 80,
  minAgeMs: 2 * 60_000,
};

/** The part of the CRI the collector needs. */
export interface ImageRuntime {
  listImages(): Promise<Image[]>;
  listContainers(): Promise<Container[]>;
  removeImage(image: string): Promise<void>;
  imageFsInfo(): Promise<FilesystemUsage[]>;
}

export interface FsCapacity {
  capacityBytes: number;
  availableBytes: number;
}

export interface ImageGCOptions {
  runtime: ImageRuntime;
  policy?: Partial<ImageGCPolicy>;
  /**
   * Image names pinned beyond what the CRI reports (containerd before 1.7 does not report pins):
   * an image with any of these names is kept as if pinned.
   */
  pinnedNames?: () => Promise<ReadonlySet<string>>;
  /** The image file system's size and free space (statfs of its mount point). */
  fsCapacity(mountpoint: string | undefined): Promise<FsCapacity>;
  recorder?: EventRecorder;
  /** The node, for events. */
  nodeRef?: () => ObjectReference | undefined;
  /** Collection period (upstream's ImageGCPeriod, 5 min). */
  periodMs?: number;
  now?: () => number;
  log?: Logger;
}

interface ImageRecord {
  firstDetected: number;
  lastUsed: number;
  size: number;
  pinned: boolean;
}

export class ImageGCError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageGCError';
  }
}

/** Images in eviction order: least recently used first, ties broken by first detection. */
export function gcOrder(records: ReadonlyMap<string, { lastUsed: number; firstDetected: number }>): string[] {
  return [...records.entries()]
    .sort(([, a], [, b]) =>
      a.lastUsed === b.lastUsed ? a.firstDetected - b.firstDetected : a.lastUsed - b.lastUsed,
    )
    .map(([id]) => id);
}

/** Validates a policy as upstream's NewImageGCManager does. */
export function validatePolicy(p: ImageGCPolicy): void {
  if (p.highThresholdPercent < 0 || p.highThresholdPercent > 100)
    throw new ImageGCError(
      `invalid HighThresholdPercent ${p.highThresholdPercent}, must be in range [0-100]`,
    );
  if (p.lowThresholdPercent < 0 || p.lowThresholdPercent > 100)
    throw new ImageGCError(`invalid LowThresholdPercent ${p.lowThresholdPercent}, must be in range [0-100]`);
  if (p.lowThresholdPercent > p.highThresholdPercent)
    throw new ImageGCError(
      `LowThresholdPercent ${p.lowThresholdPercent} can not be higher than HighThresholdPercent ${p.highThresholdPercent}`,
    );
}

export class ImageGCManager {
  readonly policy: ImageGCPolicy;
  private readonly records = new Map<string, ImageRecord>();
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failedBefore = false;

  constructor(private readonly opts: ImageGCOptions) {
    this.policy = { ...DEFAULT_IMAGE_GC_POLICY, ...opts.policy };
    validatePolicy(this.policy);
    this.log = opts.log ?? createLogger('agent.image-gc');
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    const period = this.opts.periodMs ?? 5 * 60_000;
    const tick = (): void => {
      this.running = this.garbageCollect()
        .then(() => {
          this.failedBefore = false;
        })
        .catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          if (this.failedBefore) {
            this.log.error('image garbage collection failed multiple times in a row', { error: message });
            this.event('ImageGCFailed', message);
          } else
            this.log.warn(
              'image garbage collection failed once; stats initialization may not have completed yet',
              { error: message },
            );
          this.failedBefore = true;
        })
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, period);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One collection pass against the thresholds. */
  async garbageCollect(): Promise<void> {
    const startedAt = this.now();
    const fs = (await this.opts.runtime.imageFsInfo())[0];
    const { capacityBytes, availableBytes } = await this.opts.fsCapacity(fs?.mountpoint);
    if (capacityBytes <= 0) throw new ImageGCError(`invalid capacity ${capacityBytes} on image filesystem`);
    const usagePercent = 100 - Math.floor((availableBytes * 100) / capacityBytes);
    if (usagePercent < this.policy.highThresholdPercent) {
      await this.detectImages(startedAt);
      return;
    }
    const amountToFree =
      Math.floor((capacityBytes * (100 - this.policy.lowThresholdPercent)) / 100) - availableBytes;
    this.log.info(
      'disk usage on image filesystem is over the high threshold, trying to free bytes down to the low threshold',
      {
        usage: usagePercent,
        highThreshold: this.policy.highThresholdPercent,
        amountToFree,
        lowThreshold: this.policy.lowThresholdPercent,
      },
    );
    const freed = await this.freeSpace(amountToFree, startedAt);
    if (freed < amountToFree) {
      const message = `Failed to garbage collect required amount of images. Attempted to free ${amountToFree} bytes, but only found ${freed} bytes eligible to free.`;
      this.event('FreeDiskSpaceFailed', message);
      throw new ImageGCError(message);
    }
  }

  /** Deletes every unused image that may go (the eviction manager's reclaim under disk pressure). */
  async deleteUnusedImages(): Promise<number> {
    this.log.info('attempting to delete unused images');
    return this.freeSpace(Number.MAX_SAFE_INTEGER, this.now());
  }

  /** Images known, with when they were first seen and last used (for tests). */
  snapshot(): ReadonlyMap<string, Readonly<ImageRecord>> {
    return this.records;
  }

  private async detectImages(now: number): Promise<Set<string>> {
    const [images, containers, pinnedNames] = await Promise.all([
      this.opts.runtime.listImages(),
      this.opts.runtime.listContainers(),
      this.opts.pinnedNames?.() ?? Promise.resolve(new Set<string>()),
    ]);
    const inUse = new Set<string>();
    for (const c of containers) {
      if (c.imageRef) inUse.add(c.imageRef);
      if (c.image) inUse.add(c.image);
    }
    const present = new Set<string>();
    for (const image of images) {
      present.add(image.id);
      let r = this.records.get(image.id);
      if (!r) {
        r = { firstDetected: now, lastUsed: 0, size: image.size, pinned: false };
        this.records.set(image.id, r);
      }
      r.size = image.size;
      r.pinned = image.pinned || image.repoTags.some((t) => pinnedNames.has(t));
      const used =
        inUse.has(image.id) ||
        image.repoTags.some((t) => inUse.has(t)) ||
        image.repoDigests.some((d) => inUse.has(d));
      if (used) r.lastUsed = now;
    }
    for (const id of this.records.keys()) if (!present.has(id)) this.records.delete(id);
    return present;
  }

  private async freeSpace(bytesToFree: number, freeTime: number): Promise<number> {
    await this.detectImages(freeTime);
    let freed = 0;
    const errors: string[] = [];
    for (const id of gcOrder(this.records)) {
      const r = this.records.get(id)!;
      // Images in use were just given lastUsed = freeTime.
      if (r.lastUsed >= freeTime) continue;
      if (r.pinned) {
        this.log.debug('image is pinned, skipping garbage collection', { image: id });
        continue;
      }
      if (freeTime - r.firstDetected < this.policy.minAgeMs) {
        this.log.debug('image is younger than the minimum age, skipping', { image: id });
        continue;
      }
      this.log.info('removing image to free bytes', { image: id, size: r.size });
      try {
        await this.opts.runtime.removeImage(id);
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
        continue;
      }
      this.records.delete(id);
      freed += r.size;
      if (freed >= bytesToFree) break;
    }
    if (errors.length > 0)
      throw new ImageGCError(
        `wanted to free ${bytesToFree} bytes, but freed ${freed} bytes space with errors in image deletion: [${errors.join(', ')}]`,
      );
    return freed;
  }

  private event(reason: string, message: string): void {
    const ref = this.opts.nodeRef?.();
    if (ref) this.opts.recorder?.event(ref, 'Warning', reason, message);
  }
}

/** The image file system's size from statfs of its mount point (or of fallback when the CRI names none). */
export function statfsCapacity(fallback: string): (mountpoint: string | undefined) => Promise<FsCapacity> {
  return async (mountpoint) => {
    const s = await statfs(mountpoint && mountpoint !== '' ? mountpoint : fallback);
    return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
  };
}
