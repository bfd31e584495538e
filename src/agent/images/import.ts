// Importing image archives (OCI layout or docker save tars) into containerd's k8s.io namespace,
// where the CRI plugin sees them, with Debian's `ctr`. Imported images are pinned so image
// garbage collection leaves them alone: nothing could pull them back.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../../util/log.js';

const run = promisify(execFile);
const log = createLogger('images.import');

export const CTR_BIN = process.env.K8TS_CTR_BIN ?? '/usr/bin/ctr';
/** The containerd namespace the CRI plugin works in. */
export const CRI_NAMESPACE = 'k8s.io';
export const PINNED_LABEL = 'io.cri-containerd.pinned';

export interface ImportOptions {
  /** The snapshotter to unpack into; must be the CRI plugin's. */
  snapshotter?: string;
  /** Pin the imported images against garbage collection (default true). */
  pin?: boolean;
  timeoutMs?: number;
}

async function ctr(socket: string, args: string[], timeoutMs: number): Promise<string> {
  try {
    const { stdout, stderr } = await run(
      CTR_BIN,
      ['--address', socket, '--namespace', CRI_NAMESPACE, ...args],
      {
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return `${stdout}\n${stderr}`;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ctr ${args.slice(0, 2).join(' ')} failed: ${(err.stderr ?? '').trim() || err.message}`);
  }
}

/**
 * Imports an image archive into the containerd listening on `socket` and returns the image names
 * it created (as containerd reports them: docker.io/library/busybox:latest).
 */
export async function importImage(socket: string, file: string, opts: ImportOptions = {}): Promise<string[]> {
  if (!existsSync(file)) throw new Error(`image archive ${file} does not exist`);
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  const args = ['images', 'import', '--digests=false'];
  if (opts.snapshotter) args.push('--snapshotter', opts.snapshotter);
  args.push(file);
  const out = await ctr(socket, args, timeoutMs);
  // ctr reports each image as "unpacking NAME (sha256:…)...done".
  const names = [...out.matchAll(/unpacking (\S+) \(sha256:[0-9a-f]+\)/g)]
    .map((m) => m[1] ?? '')
    .filter(Boolean);
  if (names.length === 0) {
    const listed = await ctr(socket, ['images', 'list', '--quiet'], timeoutMs);
    log.warn('import reported no image names', {
      file,
      output: out.trim().slice(0, 500),
      images: listed.split('\n').length,
    });
  }
  if (opts.pin ?? true)
    for (const name of names)
      await ctr(socket, ['images', 'label', name, `${PINNED_LABEL}=pinned`], timeoutMs);
  log.info('imported images', { file, names });
  return names;
}

/** Whether containerd's k8s.io namespace has an image of that exact name. */
export async function hasImage(socket: string, name: string): Promise<boolean> {
  const out = await ctr(socket, ['images', 'list', '--quiet', `name==${name}`], 30_000);
  return out.split('\n').some((l) => l.trim() === name);
}

/**
 * Names of the images labelled pinned in containerd's k8s.io namespace. containerd before 1.7
 * does not report the label through the CRI (Image.pinned), so image garbage collection asks here.
 */
export async function pinnedImageNames(socket: string): Promise<Set<string>> {
  const out = await ctr(socket, ['images', 'list', `labels."${PINNED_LABEL}"==pinned`], 30_000);
  const names = new Set<string>();
  for (const line of out.split('\n').slice(1)) {
    const name = line.trim().split(/\s+/)[0];
    if (name) names.add(name);
  }
  return names;
}

/** Whether a file name is the agent's own pause image archive (imported on its own, first). */
const isPauseArchive = (file: string): boolean => /^pause-.*\.oci\.tar$/.test(file);

/**
 * Imports every *.tar in `dir` (k3s's agent/images/ preloading for air-gapped nodes), except the
 * agent's own pause archive that lives there too. One bad archive does not stop the others; each
 * failure is logged and counted in the result.
 */
export async function importArchivesIn(
  socket: string,
  dir: string,
  opts: ImportOptions = {},
): Promise<{ imported: string[]; failed: string[] }> {
  const imported: string[] = [];
  const failed: string[] = [];
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.tar') && !isPauseArchive(f)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { imported, failed };
    throw err;
  }
  for (const f of files) {
    const file = join(dir, f);
    try {
      imported.push(...(await importImage(socket, file, opts)));
    } catch (err) {
      failed.push(file);
      log.error('cannot import image archive', {
        file,
        err: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return { imported, failed };
}
