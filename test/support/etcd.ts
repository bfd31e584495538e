// A throwaway etcd for tests and benchmarks: Debian's etcd-server on loopback, free ports, a temp
// data dir, stopped and removed by stop(). The project setup installs the binary.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BIN = process.env.K8TS_ETCD_BIN ?? '/usr/bin/etcd';

export interface TestEtcd {
  /** The client URL, http://127.0.0.1:PORT. */
  readonly endpoint: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

export async function startEtcd(opts: { timeoutMs?: number } = {}): Promise<TestEtcd> {
  if (!existsSync(ETCD_BIN))
    throw new Error(
      `etcd binary ${ETCD_BIN} not found: install it with "npm run setup" (Debian package etcd-server)`,
    );
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let output = '';
  const child = spawn(
    ETCD_BIN,
    [
      '--name=k8ts-test',
      `--data-dir=${join(dataDir, 'data')}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=k8ts-test=${peer}`,
      // A single member: short timers make it elect itself at once and let 1-second leases be 1 second.
      '--heartbeat-interval=10',
      '--election-timeout=100',
      // The storage contract allows 3 MiB values.
      '--max-request-bytes=4194304',
      '--logger=zap',
      '--log-level=error',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      // etcd 3.4 refuses to start on architectures other than amd64 unless told this.
      env: process.arch === 'x64' ? process.env : { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch },
    },
  );
  const keep = (b: Buffer): void => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  while (!(await healthy(endpoint))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(
        `etcd did not become healthy on ${endpoint}: ${output.trim().split('\n').slice(-5).join(' | ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { endpoint, dataDir, stop };
}
