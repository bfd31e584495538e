import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types.js';
import { CriError, type CriClient } from '../cri/client.js';
import type { Image } from '../cri/types.js';
import type { PodObjectSource } from './env.js';
import { goDuration, imageNameError, ImageManager } from './images.js';

const source: PodObjectSource = {
  configMap: () => Promise.resolve(undefined),
  secret: () => Promise.resolve(undefined),
};
const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' } };

/** The two image calls the manager makes, against a set of present images and a set that pull. */
function fakeClient(present: Set<string>, pullable: Set<string>): CriClient {
  const image = (id: string): Image => ({
    id,
    repoTags: [],
    repoDigests: [],
    size: 4242,
    uid: undefined,
    username: '',
    pinned: false,
  });
  const fake = {
    imageStatus: (ref: string) => Promise.resolve(present.has(ref) ? image(ref) : undefined),
    pullImage: (ref: string) => {
      if (!pullable.has(ref))
        return Promise.reject(
          new CriError(
            'PullImage',
            5,
            `failed to pull and unpack image "${ref}"`,
            `CRI PullImage: NOT_FOUND: failed to pull and unpack image "${ref}"`,
          ),
        );
      present.add(ref);
      return Promise.resolve(ref);
    },
  };
  return fake as unknown as CriClient;
}

describe('imageNameError (distribution reference parsing, as kubelet applies it)', () => {
  it('accepts what docker accepts', () => {
    for (const ok of [
      'busybox',
      'busybox:1.34.1',
      'wangyanglinux/myapp:v1',
      'localhost:5000/a/b:UPPER_tag',
      'registry.example.com/team/app@sha256:' + 'a'.repeat(64),
      'Registry.Example.com/app',
    ])
      assert.equal(imageNameError(ok), undefined, ok);
  });
  it("says why with upstream's words", () => {
    assert.equal(
      imageNameError('Busybox:UPPER'),
      'invalid reference format: repository name (library/Busybox) must be lowercase',
    );
    assert.equal(
      imageNameError('team/MyApp'),
      'invalid reference format: repository name (team/MyApp) must be lowercase',
    );
    assert.equal(imageNameError('bad image'), 'invalid reference format');
    assert.equal(imageNameError('busybox:'), 'invalid reference format');
    assert.equal(
      imageNameError('a'.repeat(64)),
      `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`,
    );
  });
});

describe('goDuration', () => {
  it("prints durations as Go's time.Duration does", () => {
    assert.equal(goDuration(523), '523ms');
    assert.equal(goDuration(1234), '1.234s');
    assert.equal(goDuration(2000), '2s');
    assert.equal(goDuration(62_500), '1m2.5s');
  });
});

describe('ImageManager events', () => {
  it('an invalid name: InspectFailed with the reason, and no pull', async () => {
    const events: string[] = [];
    const m = new ImageManager(fakeClient(new Set(), new Set()), source);
    const r = await m.ensure(pod, 'Busybox:UPPER', undefined, undefined, (t, reason, msg) =>
      events.push(`${t} ${reason} ${msg}`),
    );
    const message =
      'Failed to apply default image tag "Busybox:UPPER": couldn\'t parse image name "Busybox:UPPER": ' +
      'invalid reference format: repository name (library/Busybox) must be lowercase';
    assert.deepEqual(r.ok ? undefined : [r.reason, r.message], ['InvalidImageName', message]);
    assert.deepEqual(events, [`Warning InspectFailed ${message}`]);
  });

  it('a present image: Pulled, already present on machine', async () => {
    const events: string[] = [];
    const m = new ImageManager(fakeClient(new Set(['docker.io/library/busybox:1.36']), new Set()), source);
    const r = await m.ensure(pod, 'busybox:1.36', undefined, undefined, (t, reason, msg) =>
      events.push(`${t} ${reason} ${msg}`),
    );
    assert.equal(r.ok, true);
    assert.deepEqual(events, ['Normal Pulled Container image "busybox:1.36" already present on machine']);
  });

  it('a pull: Pulling, then Pulled with the time it took and the size', async () => {
    const events: string[] = [];
    const m = new ImageManager(fakeClient(new Set(), new Set(['docker.io/library/busybox:latest'])), source);
    await m.ensure(pod, 'busybox', undefined, undefined, (t, reason, msg) =>
      events.push(`${t} ${reason} ${msg}`),
    );
    assert.equal(events[0], 'Normal Pulling Pulling image "busybox"');
    assert.match(
      events[1] ?? '',
      /^Normal Pulled Successfully pulled image "busybox" in \d+ms \(\d+ms including waiting\)\. Image size: 4242 bytes\.$/,
    );
  });

  it('a failed pull: Failed with the error as grpc-go prints it, then BackOff while the back-off lasts', async () => {
    const events: string[] = [];
    let now = 1_000_000;
    const m = new ImageManager(fakeClient(new Set(), new Set()), source, () => now);
    const sink = (t: string, reason: string, msg: string): number => events.push(`${t} ${reason} ${msg}`);
    const first = await m.ensure(pod, 'no-such/image:v9', undefined, undefined, sink);
    assert.equal(first.ok ? '' : first.reason, 'ErrImagePull');
    now += 1000;
    const second = await m.ensure(pod, 'no-such/image:v9', undefined, undefined, sink);
    assert.equal(second.ok ? '' : second.reason, 'ImagePullBackOff');
    assert.equal(
      second.ok ? '' : second.message,
      'Back-off pulling image "no-such/image:v9": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/no-such/image:v9"',
    );
    assert.deepEqual(events, [
      'Normal Pulling Pulling image "no-such/image:v9"',
      'Warning Failed Failed to pull image "no-such/image:v9": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/no-such/image:v9"',
      'Normal BackOff Back-off pulling image "no-such/image:v9"',
    ]);
  });

  it('policy Never and no image: ErrImageNeverPull', async () => {
    const events: string[] = [];
    const m = new ImageManager(fakeClient(new Set(), new Set()), source);
    const r = await m.ensure(pod, 'busybox:1.36', 'Never', undefined, (t, reason, msg) =>
      events.push(`${t} ${reason} ${msg}`),
    );
    assert.equal(r.ok ? '' : r.reason, 'ErrImageNeverPull');
    assert.deepEqual(events, [
      'Warning ErrImageNeverPull Container image "busybox:1.36" is not present with pull policy of Never',
    ]);
  });
});
