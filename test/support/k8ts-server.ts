// Starts a real `k8ts server` process in a temporary data dir on a free port, for end-to-end tests
// that drive it with the real kubectl (preinstalled on the machine) the way a user would.
import './kubectl-cache.js';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const K8TS_BIN = join(repoRoot, 'dist/src/cli/main.js');
/** The command users run (bin/k8ts, which picks V8 settings per subcommand), for measuring what they get. */
export const K8TS_COMMAND = join(repoRoot, 'bin/k8ts');

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolveRun) => {
    const child = execFile(
      cmd,
      args,
      {
        env: { ...process.env, ...opts.env },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolveRun({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

export function runK8ts(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return run(process.execPath, [K8TS_BIN, ...args], opts);
}

export interface TestServer {
  readonly dataDir: string;
  readonly port: number;
  readonly url: string;
  readonly kubeconfig: string;
  readonly output: () => string;
  kubectl(
    args: string[],
    opts?: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
  ): Promise<RunResult>;
  /** kubectl that must succeed: returns stdout, throws with stderr otherwise. */
  kubectlOk(
    args: string[],
    opts?: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
  ): Promise<string>;
  /** `kubectl apply` of an object given as data. */
  apply(obj: unknown): Promise<void>;
  stop(opts?: { keepData?: boolean; signal?: NodeJS.Signals }): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
  /** Run the server's own node agent (default: control plane only). */
  agent?: boolean;
  /** The HTTPS port (default: a free one); a restart on the same data dir passes the first run's. */
  port?: number;
  /** Extra environment for the server (K8TS_LOG_LEVEL, say). */
  env?: NodeJS.ProcessEnv;
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'k8ts-e2e-'));
  const port = opts.port ?? (await freePort());
  const args = [
    K8TS_BIN,
    'server',
    '--data-dir',
    dataDir,
    '--https-port',
    String(port),
    '--bind-address',
    '127.0.0.1',
    ...(opts.agent ? [] : ['--disable-agent']),
    ...(opts.extraArgs ?? []),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, K8TS_LOG_LEVEL: process.env.K8TS_LOG_LEVEL ?? 'info', ...opts.env },
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? 1)));
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  let ready = false;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (existsSync(kubeconfig)) {
      const r = await run(
        'kubectl',
        ['--kubeconfig', kubeconfig, '--cache-dir', join(dataDir, '.kube-cache'), 'get', '--raw', '/readyz'],
        {
          timeoutMs: 5000,
        },
      );
      if (r.code === 0 && r.stdout.trim() === 'ok') {
        ready = true;
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!ready) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`k8ts server did not become ready:\n${output}`);
  }

  const kubectl = (
    kargs: string[],
    kopts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
  ) =>
    run(
      'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', join(dataDir, '.kube-cache'), ...kargs],
      kopts,
    );
  const kubectlOk: TestServer['kubectlOk'] = async (kargs, kopts) => {
    const r = await kubectl(kargs, kopts);
    if (r.code !== 0)
      throw new Error(`kubectl ${kargs.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return {
    dataDir,
    port,
    url: `https://127.0.0.1:${port}`,
    kubeconfig,
    output: () => output,
    kubectl,
    kubectlOk,
    async apply(obj) {
      await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(obj) });
    },
    async stop(sopts = {}) {
      if (child.exitCode === null) {
        child.kill(sopts.signal ?? 'SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (!sopts.keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Removes a data dir a node agent used: containers' mounts (shm, rootfs) outlive the agent by
 * design, so they are unmounted first.
 */
export function removeDataDir(dir: string): void {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // Already gone with its parent: nothing to do.
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
