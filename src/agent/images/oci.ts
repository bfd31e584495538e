// Building container images without a registry or a build tool: a ustar writer for layers, the
// image config and manifest with sha256 digests, and an OCI image layout packed in a tar that
// containerd imports. Output is deterministic (fixed mtimes, ordered entries), so the same
// inputs give the same digests and callers can cache by content.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export type TarEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; mode?: number; content: Buffer | string }
  | { type: 'symlink'; path: string; target: string };

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, mode: number, size: number, typeflag: string, linkname: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100)
      throw new Error(`tar: path too long: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  if (Buffer.byteLength(linkname) > 100) throw new Error(`tar: link target too long: ${linkname}`);
  h.write(base, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii'); // mtime: fixed for reproducible digests
  h.write('        ', 148, 'ascii'); // checksum placeholder
  h.write(typeflag, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** A ustar archive of the entries, in the order given (parents should precede children). */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '');
    if (e.type === 'dir') {
      parts.push(header(path.endsWith('/') ? path : `${path}/`, e.mode ?? 0o755, 0, '5', ''));
    } else if (e.type === 'symlink') {
      parts.push(header(path, 0o777, 0, '2', e.target));
    } else {
      const body = typeof e.content === 'string' ? Buffer.from(e.content) : e.content;
      parts.push(header(path, e.mode ?? 0o644, body.length, '0', ''), body);
      const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export type ManifestFormat = 'oci' | 'docker';

export const MEDIA_TYPES = {
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
    index: 'application/vnd.oci.image.index.v1+json',
  },
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
  },
} as const;

/** The runtime part of an image config (what a container starts with). */
export interface ImageRunConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export interface Blob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly data: Buffer;
}

export interface BuiltImage {
  readonly format: ManifestFormat;
  readonly config: Blob;
  readonly layers: readonly Blob[];
  readonly manifest: Blob;
}

function blob(data: Buffer, mediaType: string): Blob {
  return { digest: sha256(data), size: data.length, mediaType, data };
}

function descriptor(b: Blob, annotations?: Record<string, string>): Record<string, unknown> {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size, ...(annotations ? { annotations } : {}) };
}

/** Builds an image (linux/amd64 unless told) from layer archives (uncompressed tars). */
export function buildImage(opts: {
  layers: readonly Buffer[];
  config: ImageRunConfig;
  format?: ManifestFormat;
  architecture?: string;
}): BuiltImage {
  const format = opts.format ?? 'oci';
  const mt = MEDIA_TYPES[format];
  const layers = opts.layers.map((tar) => ({
    diffId: sha256(tar),
    blob: blob(gzipSync(tar, { level: 6 }), mt.layer),
  }));
  const arch = opts.architecture ?? (process.arch === 'arm64' ? 'arm64' : 'amd64');
  const configJson = {
    created: '1970-01-01T00:00:00Z',
    architecture: arch,
    os: 'linux',
    config: opts.config,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created: '1970-01-01T00:00:00Z', created_by: 'k8ts image builder' })),
  };
  const config = blob(Buffer.from(JSON.stringify(configJson)), mt.config);
  const manifestJson = {
    schemaVersion: 2,
    mediaType: mt.manifest,
    config: descriptor(config),
    layers: layers.map((l) => descriptor(l.blob)),
  };
  const manifest = blob(Buffer.from(JSON.stringify(manifestJson)), mt.manifest);
  return { format, config, layers: layers.map((l) => l.blob), manifest };
}

/**
 * An OCI image layout (oci-layout, index.json, blobs/sha256/…) in a tar, naming the image `ref`
 * (a full reference such as docker.io/library/pause:3.10) so `ctr images import` tags it.
 */
export function ociArchive(image: BuiltImage, ref: string): Buffer {
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.oci.index,
    manifests: [
      descriptor(image.manifest, {
        'io.containerd.image.name': ref,
        'org.opencontainers.image.ref.name': ref,
      }),
    ],
  };
  const entries: TarEntry[] = [
    { type: 'file', path: 'oci-layout', content: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { type: 'file', path: 'index.json', content: JSON.stringify(index) },
    { type: 'dir', path: 'blobs' },
    { type: 'dir', path: 'blobs/sha256' },
  ];
  const seen = new Set<string>();
  for (const b of [image.config, ...image.layers, image.manifest]) {
    if (seen.has(b.digest)) continue;
    seen.add(b.digest);
    entries.push({ type: 'file', path: `blobs/sha256/${b.digest.slice('sha256:'.length)}`, content: b.data });
  }
  return tarArchive(entries);
}

/** Normalises an image reference the way containerd's CRI does: docker.io/library/NAME:latest. */
export function normalizeImageRef(ref: string): string {
  let name = ref;
  let suffix = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    suffix = name.slice(at);
    name = name.slice(0, at);
  } else {
    const colon = name.lastIndexOf(':');
    if (colon > name.lastIndexOf('/')) {
      suffix = name.slice(colon);
      name = name.slice(0, colon);
    } else suffix = ':latest';
  }
  const first = name.split('/')[0] ?? '';
  const hasHost = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasHost) name = name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
  return name + suffix;
}
