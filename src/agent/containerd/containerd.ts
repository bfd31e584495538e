// The node agent's container runtime: either a containerd we run ourselves as a child process
// (config under the data dir, its own socket, the pause image imported before first use,
// restarted if it dies), or an existing CRI endpoint given by --container-runtime-endpoint.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { DEFAULT_CNI_BIN_DIR, writeCniConfig } from '../cni/cni.js';
import { CriClient, socketPath } from '../cri/client.js';
import { importArchivesIn, importImage } from '../images/import.js';
import { buildPauseImage } from '../images/pause.js';
import { overlaySupported, writeContainerdConfig, type Snapshotter } from './config.js';
import { runtimePaths, type RuntimePaths } from './paths.js';
import { loadRegistries, writeHostsDir, type RegistriesConfig } from './registries.js';

const log = createLogger('containerd');
const restarts = metrics.counter(
  'k8ts_containerd_restarts_total',
  'Times the agent restarted a containerd that had exited.',
);

export const CONTAINERD_BIN = process.env.K8TS_CONTAINERD_BIN ?? '/usr/bin/containerd';

export interface ContainerRuntimeOptions {
  /** The agent's data dir; containerd's config, root, state and socket live under it. */
  dataDir: string;
  /** Use this CRI endpoint (unix socket) instead of starting containerd. */
  endpoint?: string;
  containerdBin?: string;
  cniBinDir?: string;
  /** Registry mirrors and configs (k3s registries.yaml), given parsed or as a file. */
  registries?: RegistriesConfig;
  registriesFile?: string;
  /** Mirrors only: no fallback to a registry's own host (k3s's --disable-default-registry-endpoint). */
  disableDefaultRegistryEndpoint?: boolean;
  /** 'auto' (default) uses overlayfs when an overlay mount works under the data dir, else native. */
  snapshotter?: Snapshotter | 'auto';
  /** Writes the CNI config for this pod CIDR before containerd starts. */
  podCIDR?: string;
  bridge?: string;
  /** How long to wait for the socket and RuntimeReady. */
  readyTimeoutMs?: number;
  /** Restart containerd when it exits unexpectedly (default true). */
  restart?: boolean;
}

export class ContainerRuntimeError extends Error {
  override readonly name = 'ContainerRuntimeError';
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function logTail(file: string, from: number, bytes = 3000): string {
  try {
    const text = readFileSync(file).subarray(from).toString('utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the CRI endpoint answers Status with RuntimeReady=true. */
export async function waitRuntimeReady(
  client: CriClient,
  timeoutMs: number,
  abort?: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'socket not created yet';
  for (;;) {
    const why = abort?.();
    if (why) throw new ContainerRuntimeError(why);
    if (existsSync(client.socket)) {
      try {
        const st = await client.status();
        const ready = st.conditions.find((c) => c.type === 'RuntimeReady');
        if (ready?.status) return;
        last = `RuntimeReady is ${ready ? `false (${ready.reason}: ${ready.message})` : 'missing'}`;
      } catch (e) {
        last = (e as Error).message;
      }
    }
    if (Date.now() > deadline)
      throw new ContainerRuntimeError(
        `container runtime at ${client.socket} not ready after ${timeoutMs} ms: ${last}`,
      );
    await delay(50);
  }
}

/** A running container runtime the agent talks CRI to. */
export class ContainerRuntime {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartBackoffMs = 500;

  private constructor(
    readonly endpoint: string,
    readonly client: CriClient,
    readonly paths: RuntimePaths,
    /** The sandbox image containerd uses ('' when the runtime is external and we do not know it). */
    readonly sandboxImage: string,
    readonly snapshotter: Snapshotter | undefined,
    private readonly opts: ContainerRuntimeOptions,
  ) {}

  /** Whether we run containerd ourselves (false for an external endpoint). */
  get managed(): boolean {
    return this.opts.endpoint === undefined;
  }

  /** The containerd child's pid, when managed and running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(opts: ContainerRuntimeOptions): Promise<ContainerRuntime> {
    const paths = runtimePaths(opts.dataDir);
    const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
    if (opts.podCIDR)
      writeCniConfig({
        confDir: paths.cniConfDir,
        podCIDR: opts.podCIDR,
        ipamDataDir: paths.cniDataDir,
        bridge: opts.bridge,
        binDir: opts.cniBinDir,
      });
    if (opts.endpoint !== undefined) {
      const endpoint = socketPath(opts.endpoint);
      const client = new CriClient({ endpoint });
      await waitRuntimeReady(client, readyTimeoutMs);
      const v = await client.version();
      log.info('using existing container runtime', {
        endpoint,
        runtime: v.runtimeName,
        version: v.runtimeVersion,
      });
      return new ContainerRuntime(endpoint, client, paths, '', undefined, opts);
    }

    const bin = opts.containerdBin ?? CONTAINERD_BIN;
    if (!existsSync(bin))
      throw new ContainerRuntimeError(
        `containerd binary ${bin} not found (install Debian's containerd: npm run setup)`,
      );
    for (const d of [paths.root, paths.state, paths.imagesDir, paths.cniConfDir])
      mkdirSync(d, { recursive: true });
    const pause = buildPauseImage(paths.imagesDir);
    let snapshotter: Snapshotter;
    if (opts.snapshotter === 'overlayfs' || opts.snapshotter === 'native') snapshotter = opts.snapshotter;
    else {
      snapshotter = overlaySupported(paths.root) ? 'overlayfs' : 'native';
      if (snapshotter === 'native')
        log.warn('overlay mounts do not work here: using the native snapshotter (slower, more disk)', {
          root: paths.root,
        });
    }
    const registries =
      opts.registries ??
      (opts.registriesFile && existsSync(opts.registriesFile)
        ? loadRegistries(opts.registriesFile)
        : undefined);
    writeHostsDir(paths.hostsDir, {
      ...(registries ?? { mirrors: {}, configs: {} }),
      ...(opts.disableDefaultRegistryEndpoint ? { disableDefaultEndpoint: true } : {}),
    });
    writeContainerdConfig({
      paths,
      sandboxImage: pause.ref,
      snapshotter,
      cniBinDir: opts.cniBinDir ?? DEFAULT_CNI_BIN_DIR,
      registries,
    });

    const client = new CriClient({ endpoint: paths.socket });
    const rt = new ContainerRuntime(paths.socket, client, paths, pause.ref, snapshotter, opts);
    try {
      await rt.spawnAndWait(readyTimeoutMs);
      // The pause image must be there before the first RunPodSandbox: nothing could pull it.
      if (!(await client.imageStatus(pause.ref)))
        await importImage(paths.socket, pause.archive, { snapshotter });
      // Air-gapped images dropped into <data-dir>/agent/images/, as k3s preloads them (pinned).
      await importArchivesIn(paths.socket, paths.imagesDir, { snapshotter });
    } catch (e) {
      await rt.stop();
      throw e;
    }
    return rt;
  }

  private pidFile(): string {
    return join(this.paths.state, 'k8ts-containerd.pid');
  }

  /** Stops a containerd an earlier agent left behind on this data dir (it would hold the root's lock). */
  private async reapStale(): Promise<void> {
    const file = this.pidFile();
    if (!existsSync(file)) return;
    const pid = Number(readFileSync(file, 'utf8').trim());
    rmSync(file, { force: true });
    if (!Number.isInteger(pid) || pid <= 1 || !processAlive(pid)) return;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return;
    }
    if (!cmdline.includes('containerd') || !cmdline.includes(this.paths.configFile)) return;
    log.warn('stopping a containerd left by an earlier agent', { pid });
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && processAlive(pid); i++) await delay(100);
    if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  }

  private async spawnAndWait(readyTimeoutMs: number): Promise<void> {
    await this.reapStale();
    const bin = this.opts.containerdBin ?? CONTAINERD_BIN;
    mkdirSync(join(this.paths.logFile, '..'), { recursive: true });
    const fd = openSync(this.paths.logFile, 'a');
    const logStart = statSync(this.paths.logFile).size;
    let child: ChildProcess;
    try {
      child = spawn(bin, ['--config', this.paths.configFile], {
        stdio: ['ignore', fd, fd],
        env: { ...process.env },
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    let exitInfo: string | undefined;
    let spawnError: string | undefined;
    child.once('error', (e) => {
      spawnError = e.message;
    });
    child.once('exit', (code, signal) => {
      exitInfo = `containerd exited (${signal ?? `code ${code}`})`;
      if (this.child === child) this.child = undefined;
      if (!this.stopping) this.onUnexpectedExit(exitInfo);
    });
    if (child.pid) writeFileSync(this.pidFile(), String(child.pid));
    log.info('started containerd', {
      pid: child.pid,
      config: this.paths.configFile,
      log: this.paths.logFile,
    });
    const started = Date.now();
    await waitRuntimeReady(this.client, readyTimeoutMs, () => {
      const why = spawnError ?? exitInfo;
      if (!why) return undefined;
      const tail = logTail(this.paths.logFile, logStart);
      return `${why} before it was ready; its log (${this.paths.logFile}) ends with:\n${tail}`;
    });
    log.info('containerd ready', { ms: Date.now() - started });
    this.restartBackoffMs = 500;
  }

  private onUnexpectedExit(why: string): void {
    if (this.opts.restart === false) {
      log.error('containerd exited', { why, log: this.paths.logFile });
      return;
    }
    const wait = this.restartBackoffMs;
    this.restartBackoffMs = Math.min(this.restartBackoffMs * 2, 30_000);
    log.error('containerd exited; restarting it', { why, inMs: wait, log: this.paths.logFile });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      restarts.inc();
      this.spawnAndWait(this.opts.readyTimeoutMs ?? 30_000).catch((e: unknown) => {
        log.error('containerd restart failed', { err: e as Error });
      });
    }, wait);
    this.restartTimer.unref();
  }

  /** Imports an image archive (OCI layout or docker save tar) and pins it. */
  importImage(file: string): Promise<string[]> {
    return importImage(this.endpoint, file, { snapshotter: this.snapshotter });
  }

  /** Writes (or rewrites) the CNI config for the node's pod CIDR. */
  configureNetwork(podCIDR: string, bridge?: string): string {
    return writeCniConfig({
      confDir: this.paths.cniConfDir,
      podCIDR,
      ipamDataDir: this.paths.cniDataDir,
      bridge,
      binDir: this.opts.cniBinDir,
    });
  }

  /**
   * Closes the client and, when managed, stops containerd (SIGTERM, then SIGKILL after
   * `graceMs`). Running containers are left to their shims, as with kubelet and containerd.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.client.close();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    rmSync(this.pidFile(), { force: true });
    log.info('stopped containerd');
  }
}
