// Small container images for tests, built from Debian's busybox-static (no registry on the
// internet is reachable here): busybox itself, and stand-ins for nginx and wangyanglinux/myapp
// that serve a page naming their version on port 80 with busybox httpd. The built blobs are
// cached under a stable temp folder keyed by their inputs, so later runs reuse them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildImage,
  ociArchive,
  tarArchive,
  type BuiltImage,
  type ManifestFormat,
  type TarEntry,
} from '../../src/agent/images/oci.js';

export const BUSYBOX_BIN = process.env.K8TS_BUSYBOX_BIN ?? '/bin/busybox';
const BUILDER_VERSION = '2';

/** Repository (as a registry stores it) and tag of each test image. */
export interface TestImageName {
  readonly repo: string;
  readonly tag: string;
}

/** The images tests may use, named as users write them. */
export const TEST_IMAGES: Readonly<Record<string, TestImageName>> = {
  'busybox:latest': { repo: 'library/busybox', tag: 'latest' },
  'nginx:1.11': { repo: 'library/nginx', tag: '1.11' },
  'nginx:latest': { repo: 'library/nginx', tag: 'latest' },
  'wangyanglinux/myapp:v1': { repo: 'wangyanglinux/myapp', tag: 'v1' },
  'wangyanglinux/myapp:v2': { repo: 'wangyanglinux/myapp', tag: 'v2' },
};

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function busyboxLayer(): Buffer {
  if (!existsSync(BUSYBOX_BIN))
    throw new Error(`${BUSYBOX_BIN} not found: install Debian's busybox-static (npm run setup)`);
  const applets = execFileSync(BUSYBOX_BIN, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'busybox' && /^[a-z0-9_.[-]+$/.test(s));
  const entries: TarEntry[] = [
    ...[
      'bin',
      'dev',
      'etc',
      'home',
      'proc',
      'root',
      'sys',
      'usr',
      'usr/bin',
      'usr/sbin',
      'sbin',
      'var',
      'var/run',
      'var/www',
    ].map((path): TarEntry => ({ type: 'dir', path })),
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: 'bin/busybox', mode: 0o755, content: readFileSync(BUSYBOX_BIN) },
    ...[...new Set(applets)]
      .sort()
      .map((a): TarEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
    {
      type: 'file',
      path: 'etc/passwd',
      content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n',
    },
    { type: 'file', path: 'etc/group', content: 'root:x:0:\nnobody:x:65534:\n' },
  ];
  return tarArchive(entries);
}

function webLayer(page: string): Buffer {
  return tarArchive([
    { type: 'dir', path: 'usr/share' },
    { type: 'dir', path: 'usr/share/nginx' },
    { type: 'dir', path: 'usr/share/nginx/html' },
    { type: 'file', path: 'usr/share/nginx/html/index.html', content: page },
  ]);
}

// httpd runs as a child of a shell that traps SIGTERM (a PID 1 without a handler would ignore
// it), so the stand-ins stop at once and exit 0 on SIGTERM, as nginx does.
const WEB_CMD = (extra: string): string[] => [
  'sh',
  '-c',
  `${extra}httpd -f -p 80 -h /usr/share/nginx/html & pid=$!; trap 'kill $pid; exit 0' TERM INT; wait $pid`,
];

function build(format: ManifestFormat): Map<string, BuiltImage> {
  const base = busyboxLayer();
  const out = new Map<string, BuiltImage>();
  out.set('busybox:latest', buildImage({ format, layers: [base], config: { Cmd: ['sh'], Env: [PATH_ENV] } }));
  for (const version of ['1.11', 'latest']) {
    const page = `<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>\n<body><h1>Welcome to nginx!</h1><p>k8ts stand-in for nginx:${version}</p></body></html>\n`;
    out.set(
      `nginx:${version}`,
      buildImage({
        format,
        layers: [base, webLayer(page)],
        config: { Cmd: WEB_CMD(''), Env: [PATH_ENV], ExposedPorts: { '80/tcp': {} }, StopSignal: 'SIGTERM' },
      }),
    );
  }
  for (const version of ['v1', 'v2']) {
    const page = `Hello MyApp | Version: ${version} | <a href="hostname.html">Pod Name</a>\n`;
    out.set(
      `wangyanglinux/myapp:${version}`,
      buildImage({
        format,
        layers: [base, webLayer(page)],
        config: {
          Cmd: WEB_CMD('hostname > /usr/share/nginx/html/hostname.html; '),
          Env: [PATH_ENV],
          ExposedPorts: { '80/tcp': {} },
        },
      }),
    );
  }
  return out;
}

/** The cache folder for this busybox binary and builder version. */
export function imageCacheDir(): string {
  const key = createHash('sha256')
    .update(BUILDER_VERSION)
    .update(readFileSync(BUSYBOX_BIN))
    .digest('hex')
    .slice(0, 16);
  return join(tmpdir(), 'k8ts-test-images', key);
}

interface CachedImage {
  format: ManifestFormat;
  config: { digest: string; mediaType: string };
  layers: { digest: string; mediaType: string }[];
  manifest: { digest: string; mediaType: string };
}

function writeAtomic(file: string, data: Buffer | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

const memo = new Map<ManifestFormat, Map<string, BuiltImage>>();

/** All test images in the given manifest format (docker schema2 for registries, oci for archives). */
export function testImages(format: ManifestFormat = 'docker'): Map<string, BuiltImage> {
  const hit = memo.get(format);
  if (hit) return hit;
  const dir = join(imageCacheDir(), format);
  const index = join(dir, 'images.json');
  const blobDir = join(dir, 'blobs');
  const load = (d: { digest: string; mediaType: string }): BuiltImage['config'] => {
    const data = readFileSync(join(blobDir, d.digest.replace(':', '-')));
    return { digest: d.digest, mediaType: d.mediaType, size: data.length, data };
  };
  let images: Map<string, BuiltImage> | undefined;
  if (existsSync(index)) {
    try {
      const cached = JSON.parse(readFileSync(index, 'utf8')) as Record<string, CachedImage>;
      images = new Map(
        Object.entries(cached).map(([name, c]) => [
          name,
          {
            format: c.format,
            config: load(c.config),
            layers: c.layers.map(load),
            manifest: load(c.manifest),
          },
        ]),
      );
    } catch {
      images = undefined;
    }
  }
  if (!images) {
    images = build(format);
    mkdirSync(blobDir, { recursive: true });
    const record: Record<string, CachedImage> = {};
    for (const [name, img] of images) {
      for (const b of [img.config, ...img.layers, img.manifest]) {
        const f = join(blobDir, b.digest.replace(':', '-'));
        if (!existsSync(f)) writeAtomic(f, b.data);
      }
      const d = (b: BuiltImage['config']): { digest: string; mediaType: string } => ({
        digest: b.digest,
        mediaType: b.mediaType,
      });
      record[name] = { format, config: d(img.config), layers: img.layers.map(d), manifest: d(img.manifest) };
    }
    writeAtomic(index, JSON.stringify(record));
  }
  memo.set(format, images);
  return images;
}

/** An OCI archive of one test image (for `k8ts image import` style tests), cached on disk. */
export function testImageArchive(
  name: string,
  ref = `docker.io/${TEST_IMAGES[name]?.repo}:${TEST_IMAGES[name]?.tag}`,
): string {
  const img = testImages('oci').get(name);
  if (!img) throw new Error(`no test image ${name}; known: ${Object.keys(TEST_IMAGES).join(', ')}`);
  const file = join(
    imageCacheDir(),
    'archives',
    `${createHash('sha256').update(ref).update(img.manifest.digest).digest('hex').slice(0, 16)}.tar`,
  );
  if (!existsSync(file)) {
    mkdirSync(join(file, '..'), { recursive: true });
    writeAtomic(file, ociArchive(img, ref));
  }
  return file;
}
