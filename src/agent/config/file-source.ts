// The static pod folder (kubelet's --pod-manifest-path, k3s's agent/pod-manifests): every file in
// it that is not hidden is one pod. The folder is watched, and read again every resync period in
// case a change was missed (upstream's file check frequency, 20 s); a file that cannot be read or
// is not a valid pod is logged with its name and left out, never fatal. Whoever listens gets the
// whole set of static pods whenever it changes.
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../../api/generated/types.js';
import { createLogger, type Logger } from '../../util/log.js';
import { parseManifest, staticPodFromManifest } from './static-pod.js';

export interface FileSourceOptions {
  /** The folder of manifests. */
  path: string;
  nodeName: string;
  /** Called with every static pod (by file) whenever the set changes. */
  onChange(pods: ReadonlyMap<string, Pod>): void;
  /** Read the folder again this often even without a change noticed (default 20 s). */
  resyncMs?: number;
  /** Wait this long after a change before reading, so a file being written settles (default 100 ms). */
  settleMs?: number;
  log?: Logger;
}

export class StaticPodFileSource {
  private readonly log: Logger;
  /** The pod each file gives, by full path. */
  private current = new Map<string, Pod>();
  /** What was logged for a bad file, so a broken file is reported once per change, not every resync. */
  private readonly reported = new Map<string, string>();
  private watcher: FSWatcher | undefined;
  private resync: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private stopped = false;
  private missingReported = false;

  constructor(private readonly opts: FileSourceOptions) {
    this.log = opts.log ?? createLogger('agent.static-pods');
  }

  /**
   * Creates the folder if it is missing (as k3s creates agent/pod-manifests, so that it can be
   * watched from the start rather than found at a later resync), reads it once (so static pods are
   * known before anything else starts), then watches it.
   */
  async start(): Promise<void> {
    await mkdir(this.opts.path, { recursive: true, mode: 0o755 }).catch((err: unknown) => {
      this.log.warn('cannot create the static pod folder', { path: this.opts.path, error: err });
    });
    await this.scan();
    this.startWatching();
    this.resync = setInterval(() => {
      if (!this.watcher) this.startWatching();
      this.schedule(0);
    }, this.opts.resyncMs ?? 20_000);
    this.resync.unref();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.resync) clearInterval(this.resync);
    if (this.settle) clearTimeout(this.settle);
  }

  pods(): ReadonlyMap<string, Pod> {
    return this.current;
  }

  private startWatching(): void {
    if (this.stopped || this.watcher) return;
    try {
      this.watcher = watch(this.opts.path, { persistent: false }, () =>
        this.schedule(this.opts.settleMs ?? 100),
      );
      this.watcher.on('error', (err) => {
        this.log.warn('watching the static pod folder failed; reading it every resync', {
          path: this.opts.path,
          error: err,
        });
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      // Most often the folder does not exist yet: the resync keeps looking.
      if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT'))
        this.log.warn('cannot watch the static pod folder', { path: this.opts.path, error: err });
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.settle) clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      this.settle = undefined;
      void this.scan();
    }, delayMs);
  }

  /** Reads the folder; one read at a time, and another right after if a change came meanwhile. */
  private scan(): Promise<void> {
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescan = false;
        try {
          await this.readFolder();
        } catch (err) {
          this.log.error('reading the static pod folder failed', { path: this.opts.path, error: err });
        }
      } while (this.rescan && !this.stopped);
    })().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private async readFolder(): Promise<void> {
    let names: string[];
    try {
      const entries = await readdir(this.opts.path, { withFileTypes: true });
      names = entries.filter((e) => !e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
      this.missingReported = false;
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
      if (!this.missingReported)
        this.log.info('static pod folder does not exist (yet)', { path: this.opts.path });
      this.missingReported = true;
      names = [];
    }
    const next = new Map<string, Pod>();
    for (const name of names.sort()) {
      const file = join(this.opts.path, name);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        // Deleted between the listing and the read, or not a regular file.
        this.reportBad(file, err instanceof Error ? err.message : String(err));
        continue;
      }
      try {
        const pod = staticPodFromManifest(parseManifest(text, file), this.opts.nodeName, file);
        const previous = this.current.get(file);
        // Unchanged content keeps the pod as first seen (its config.seen time).
        next.set(file, previous && previous.metadata.uid === pod.metadata.uid ? previous : pod);
        this.reported.delete(file);
      } catch (err) {
        this.reportBad(file, err instanceof Error ? err.message : String(err));
      }
    }
    for (const file of this.reported.keys())
      if (!names.some((n) => join(this.opts.path, n) === file)) this.reported.delete(file);
    if (this.stopped || sameUids(this.current, next)) return;
    this.current = next;
    this.opts.onChange(next);
  }

  private reportBad(file: string, message: string): void {
    if (this.reported.get(file) === message) return;
    this.reported.set(file, message);
    this.log.warn('ignoring static pod manifest', { file, error: message });
  }
}

function sameUids(a: ReadonlyMap<string, Pod>, b: ReadonlyMap<string, Pod>): boolean {
  if (a.size !== b.size) return false;
  for (const [file, pod] of a) if (b.get(file)?.metadata.uid !== pod.metadata.uid) return false;
  return true;
}
