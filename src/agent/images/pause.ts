// The pod sandbox's "pause" image, made here instead of pulled: a tiny static C program that
// holds the pod's namespaces open, reaps orphaned children (it is PID 1 when the pod shares a
// PID namespace) and exits on SIGTERM or SIGINT. It is compiled once per data dir and packed
// into an OCI archive; both are reused while the source does not change.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../util/log.js';
import { buildImage, ociArchive, sha256, tarArchive } from './oci.js';

const log = createLogger('images.pause');

/** The reference containerd's sandbox_image names; the tag tracks the program's source. */
export const PAUSE_IMAGE_REPO = 'docker.io/k8ts/pause';

export const PAUSE_SOURCE = `/* k8ts pause: keeps a pod's namespaces alive; reaps children; exits on SIGTERM/SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    printf("k8ts-pause\\n");
    return 0;
  }
  if (getpid() != 1) fprintf(stderr, "k8ts-pause: not running as PID 1\\n");
  struct sigaction stop;
  memset(&stop, 0, sizeof stop);
  stop.sa_handler = on_stop;
  sigaction(SIGINT, &stop, NULL);
  sigaction(SIGTERM, &stop, NULL);
  struct sigaction child;
  memset(&child, 0, sizeof child);
  child.sa_handler = on_child;
  child.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction(SIGCHLD, &child, NULL);
  for (;;) pause();
  return 1;
}
`;

export interface PauseImage {
  /** Full reference, e.g. docker.io/k8ts/pause:1-abcdef012345. */
  readonly ref: string;
  /** The OCI archive to import. */
  readonly archive: string;
}

function sourceTag(): string {
  return `1-${sha256(PAUSE_SOURCE).slice('sha256:'.length, 'sha256:'.length + 12)}`;
}

export function pauseImageRef(): string {
  return `${PAUSE_IMAGE_REPO}:${sourceTag()}`;
}

/** Compiles the pause program (static) into `dir`, unless it is already there. */
export function buildPauseBinary(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `pause-${sourceTag()}`);
  if (existsSync(bin)) return bin;
  const src = join(dir, 'pause.c');
  writeFileSync(src, PAUSE_SOURCE);
  const tmp = `${bin}.tmp-${process.pid}`;
  const compilers = ['gcc', 'cc', 'g++'];
  let lastErr = '';
  for (const cc of compilers) {
    try {
      const lang = cc === 'g++' ? ['-x', 'c'] : [];
      execFileSync(cc, [...lang, '-static', '-Os', '-s', '-o', tmp, src], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      renameSync(tmp, bin);
      log.info('compiled pause program', { compiler: cc, path: bin });
      return bin;
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      lastErr = err.stderr?.toString().trim() || err.message;
    }
  }
  throw new Error(`cannot compile the pause program (needs gcc and libc6-dev for -static): ${lastErr}`);
}

/** Builds the pause image archive under `dir` (cached by the program's source). */
export function buildPauseImage(dir: string): PauseImage {
  const ref = pauseImageRef();
  const archive = join(dir, `pause-${sourceTag()}.oci.tar`);
  if (existsSync(archive)) return { ref, archive };
  const bin = buildPauseBinary(dir);
  const layer = tarArchive([{ type: 'file', path: 'pause', mode: 0o755, content: readFileSync(bin) }]);
  const image = buildImage({ layers: [layer], config: { Entrypoint: ['/pause'], StopSignal: 'SIGTERM' } });
  const tmp = `${archive}.tmp-${process.pid}`;
  writeFileSync(tmp, ociArchive(image, ref));
  renameSync(tmp, archive);
  return { ref, archive };
}
