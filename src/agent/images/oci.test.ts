import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { buildImage, normalizeImageRef, ociArchive, sha256, tarArchive } from './oci.js';

describe('OCI image builder', () => {
  it('writes tars that tar(1) reads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-oci-'));
    try {
      const long = `${'d'.repeat(90)}/${'f'.repeat(60)}`;
      const tar = tarArchive([
        { type: 'dir', path: 'bin' },
        { type: 'file', path: 'bin/hello', mode: 0o755, content: 'hi\n' },
        { type: 'symlink', path: 'bin/sh', target: 'hello' },
        { type: 'dir', path: long.split('/')[0] ?? '' },
        { type: 'file', path: long, content: Buffer.alloc(1000, 1) },
      ]);
      assert.equal(tar.length % 512, 0);
      const file = join(dir, 'a.tar');
      writeFileSync(file, tar);
      const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
      assert.match(listing, /-rwxr-xr-x root\/root\s+3 .* bin\/hello/);
      assert.match(listing, /bin\/sh -> hello/);
      assert.ok(listing.includes(long));
      execFileSync('tar', ['-xf', file, '-C', dir]);
      assert.equal(readFileSync(join(dir, 'bin', 'hello'), 'utf8'), 'hi\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds a manifest whose digests match its blobs, deterministically', () => {
    const layer = tarArchive([{ type: 'file', path: 'x', content: 'x' }]);
    const a = buildImage({ layers: [layer], config: { Cmd: ['sh'] } });
    const b = buildImage({ layers: [layer], config: { Cmd: ['sh'] } });
    assert.equal(a.manifest.digest, b.manifest.digest);
    const manifest = JSON.parse(a.manifest.data.toString()) as {
      config: { digest: string; size: number };
      layers: Array<{ digest: string; mediaType: string }>;
    };
    assert.equal(manifest.config.digest, sha256(a.config.data));
    assert.equal(manifest.config.size, a.config.size);
    assert.equal(manifest.layers[0]?.digest, sha256(a.layers[0]?.data ?? Buffer.alloc(0)));
    assert.equal(manifest.layers[0]?.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    const config = JSON.parse(a.config.data.toString()) as { rootfs: { diff_ids: string[] }; os: string };
    assert.equal(config.rootfs.diff_ids[0], sha256(gunzipSync(a.layers[0]?.data ?? Buffer.alloc(0))));
    assert.equal(config.os, 'linux');
    const docker = buildImage({ format: 'docker', layers: [layer], config: {} });
    assert.equal(docker.manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  });

  it('packs an OCI layout naming the image', () => {
    const img = buildImage({ layers: [tarArchive([{ type: 'file', path: 'x', content: 'x' }])], config: {} });
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-oci-'));
    try {
      writeFileSync(join(dir, 'img.tar'), ociArchive(img, 'docker.io/k8ts/x:1'));
      execFileSync('tar', ['-xf', join(dir, 'img.tar'), '-C', dir]);
      const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
        manifests: Array<{ digest: string; annotations: Record<string, string> }>;
      };
      assert.equal(index.manifests[0]?.annotations['io.containerd.image.name'], 'docker.io/k8ts/x:1');
      const digest = index.manifests[0]?.digest ?? '';
      assert.equal(sha256(readFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)))), digest);
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8')), {
        imageLayoutVersion: '1.0.0',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('normalizes references as containerd does', () => {
    assert.equal(normalizeImageRef('busybox'), 'docker.io/library/busybox:latest');
    assert.equal(normalizeImageRef('nginx:1.11'), 'docker.io/library/nginx:1.11');
    assert.equal(normalizeImageRef('wangyanglinux/myapp:v1'), 'docker.io/wangyanglinux/myapp:v1');
    assert.equal(normalizeImageRef('localhost:5000/app'), 'localhost:5000/app:latest');
    assert.equal(normalizeImageRef('quay.io/x/y@sha256:abc'), 'quay.io/x/y@sha256:abc');
  });
});
