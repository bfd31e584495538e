// A throwaway image registry for tests: Debian's docker-registry (distribution 2.8) on a free
// loopback port, and a minimal push client for the distribution API (blob uploads, manifests).
// containerd reaches it as the docker.io mirror (see registriesFor), so pods can name
// busybox:latest or nginx:1.11 and get the local stand-ins.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistriesConfig } from '../../src/agent/containerd/registries.js';
import type { Blob, BuiltImage } from '../../src/agent/images/oci.js';
import { imageCacheDir, TEST_IMAGES, testImages } from './images.js';

export const REGISTRY_BIN = process.env.K8TS_REGISTRY_BIN ?? '/usr/bin/docker-registry';

export interface TestRegistry {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** 127.0.0.1:PORT */
  readonly host: string;
  push(repo: string, tag: string, image: BuiltImage): Promise<void>;
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

async function check(res: Response, what: string, ok: number[]): Promise<void> {
  if (!ok.includes(res.status))
    throw new Error(`registry ${what}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
}

async function pushBlob(endpoint: string, repo: string, b: Blob): Promise<void> {
  const head = await fetch(`${endpoint}/v2/${repo}/blobs/${b.digest}`, { method: 'HEAD' });
  if (head.status === 200) return;
  const start = await fetch(`${endpoint}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await check(start, `start upload for ${repo}`, [202]);
  const location = start.headers.get('location');
  if (!location) throw new Error('registry: upload has no Location');
  const url = new URL(location, endpoint);
  url.searchParams.set('digest', b.digest);
  const put = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(b.size) },
    body: b.data,
  });
  await check(put, `upload ${b.digest} to ${repo}`, [201]);
}

/** Pushes an image's blobs and manifest to a registry as repo:tag (distribution API v2). */
export async function pushImage(
  endpoint: string,
  repo: string,
  tag: string,
  image: BuiltImage,
): Promise<void> {
  for (const b of [image.config, ...image.layers]) await pushBlob(endpoint, repo, b);
  const res = await fetch(`${endpoint}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': image.manifest.mediaType },
    body: image.manifest.data,
  });
  await check(res, `put manifest ${repo}:${tag}`, [201]);
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

export interface StartRegistryOptions {
  /** Where blobs are kept; default: a folder beside the image cache (kept between runs), or a temp dir. */
  storageDir?: string;
  /** Push every test image (default true). */
  withTestImages?: boolean;
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  if (!existsSync(REGISTRY_BIN))
    throw new Error(`${REGISTRY_BIN} not found: install Debian's docker-registry (npm run setup)`);
  const work = mkdtempSync(join(tmpdir(), 'k8ts-registry-'));
  // Storage outlives the run when it holds only our deterministic test images: pushes then skip.
  const storage = opts.storageDir ?? join(imageCacheDir(), 'registry');
  mkdirSync(storage, { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(work, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  let output = '';
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer): void => {
    output = (output + b.toString()).slice(-3000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const endpoint = `http://${host}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(t);
    }
    rmSync(work, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry exited before it was ready:\n${output}`);
    }
    try {
      const res = await fetch(`${endpoint}/v2/`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry not ready on ${host} after 15 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const reg: TestRegistry = {
    endpoint,
    host,
    push: (repo, tag, image) => pushImage(endpoint, repo, tag, image),
    stop,
  };
  if (opts.withTestImages ?? true) {
    const images = testImages('docker');
    for (const [name, ref] of Object.entries(TEST_IMAGES)) {
      const img = images.get(name);
      if (!img) throw new Error(`test image ${name} was not built`);
      await reg.push(ref.repo, ref.tag, img);
    }
  }
  return reg;
}

/** registries.yaml content that makes the registry containerd's docker.io mirror. */
export function registriesFor(reg: TestRegistry): RegistriesConfig {
  return {
    mirrors: { 'docker.io': { endpoints: [reg.endpoint] } },
    configs: { [reg.host]: { tls: { insecureSkipVerify: true } } },
    // Tests must never reach for Docker Hub, not even for an image the mirror lacks.
    disableDefaultEndpoint: true,
  };
}

/**
 * Writes a k3s-format registries.yaml (what `--private-registry` and `<data-dir>/registries.yaml`
 * read) making the registry the docker.io mirror. Pair it with `--disable-default-registry-endpoint`
 * so that nothing falls back to Docker Hub.
 */
export function writeRegistriesYaml(path: string, reg: TestRegistry): void {
  writeFileSync(
    path,
    [
      'mirrors:',
      '  docker.io:',
      `    endpoint: ["${reg.endpoint}"]`,
      'configs:',
      `  "${reg.host}":`,
      '    tls:',
      '      insecure_skip_verify: true',
      '',
    ].join('\n'),
  );
}
