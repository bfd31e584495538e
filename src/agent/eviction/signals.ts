// Where eviction signals come from on a real machine: memory from /proc/meminfo (MemAvailable of
// MemTotal), the node's file system (bytes and inodes) from statfs of the agent's data dir, the
// image file system from statfs of where the runtime keeps images (the same file system unless
// told otherwise). Tests hand the manager a source of their own instead.
import { readFile, statfs } from 'node:fs/promises';
import type { Observations } from './thresholds.js';

export interface SignalSource {
  observe(): Promise<Observations>;
}

export function parseMeminfo(text: string): { total: number; available: number } | undefined {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m?.[1] ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  return total !== undefined && available !== undefined ? { total, available } : undefined;
}

export function hostSignals(opts: { nodeFsPath: string; imageFsPath?: string }): SignalSource {
  const fsOf = async (path: string) => {
    const s = await statfs(path);
    return {
      available: { available: s.bavail * s.bsize, capacity: s.blocks * s.bsize },
      inodesFree: { available: s.ffree, capacity: s.files },
    };
  };
  return {
    async observe() {
      const out: Observations = {};
      const mem = parseMeminfo(await readFile('/proc/meminfo', 'utf8'));
      if (mem) out['memory.available'] = { available: mem.available, capacity: mem.total };
      const nodefs = await fsOf(opts.nodeFsPath);
      out['nodefs.available'] = nodefs.available;
      // Some file systems (btrfs, overlay on some kernels) report no inodes: no signal then.
      if (nodefs.inodesFree.capacity > 0) out['nodefs.inodesFree'] = nodefs.inodesFree;
      const imagefs =
        opts.imageFsPath && opts.imageFsPath !== opts.nodeFsPath ? await fsOf(opts.imageFsPath) : nodefs;
      out['imagefs.available'] = imagefs.available;
      if (imagefs.inodesFree.capacity > 0) out['imagefs.inodesFree'] = imagefs.inodesFree;
      return out;
    },
  };
}
