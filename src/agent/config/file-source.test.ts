import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types.js';
import { StaticPodFileSource } from './file-source.js';

const pod = (name: string, image = 'busybox') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n  containers:\n  - name: c\n    image: ${image}\n`;

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('static pod folder', () => {
  const root = mkdtempSync(join(tmpdir(), 'k8ts-file-source-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('reads the folder at start, then follows additions, edits and deletions', async () => {
    const dir = join(root, 'watch');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.yaml'), pod('a'));
    writeFileSync(join(dir, '.hidden.yaml'), pod('hidden'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'nested.yaml'), pod('nested'));
    const changes: ReadonlyMap<string, Pod>[] = [];
    const source = new StaticPodFileSource({
      path: dir,
      nodeName: 'n',
      onChange: (pods) => changes.push(pods),
      settleMs: 10,
      resyncMs: 60_000,
    });
    await source.start();
    try {
      const names = () => [...source.pods().values()].map((p) => p.metadata.name).sort();
      assert.deepEqual(names(), ['a-n'], 'hidden files and subfolders are not manifests');
      const firstUid = source.pods().get(join(dir, 'a.yaml'))?.metadata.uid;

      writeFileSync(
        join(dir, 'b.json'),
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'b' },
          spec: { containers: [{ name: 'c', image: 'x' }] },
        }),
      );
      await until('b added', () => (names().includes('b-n') ? true : undefined));

      writeFileSync(join(dir, 'a.yaml'), pod('a', 'busybox:2'));
      await until('a replaced', () =>
        source.pods().get(join(dir, 'a.yaml'))?.metadata.uid !== firstUid ? true : undefined,
      );

      // A broken edit takes the pod away (the file no longer describes one); fixing it brings it back.
      writeFileSync(join(dir, 'a.yaml'), 'kind: Pod\nmetadata: {name: a}\n');
      await until('a gone while broken', () => (names().includes('a-n') ? undefined : true));
      writeFileSync(join(dir, 'a.yaml'), pod('a'));
      await until('a back', () => (names().includes('a-n') ? true : undefined));
      assert.equal(source.pods().get(join(dir, 'a.yaml'))?.metadata.uid, firstUid, 'same content, same UID');

      unlinkSync(join(dir, 'b.json'));
      await until('b removed', () => (names().includes('b-n') ? undefined : true));
      assert.ok(changes.length >= 5);
    } finally {
      source.stop();
    }
  });

  it('creates a missing folder at start and watches it, and finds it again if it is recreated', async () => {
    const dir = join(root, 'later');
    const source = new StaticPodFileSource({
      path: dir,
      nodeName: 'n',
      onChange: () => undefined,
      resyncMs: 50,
    });
    await source.start();
    try {
      assert.equal(source.pods().size, 0);
      assert.ok(statSync(dir).isDirectory(), 'the folder exists once the source started');
      writeFileSync(join(dir, 'p.yaml'), pod('p'));
      await until('p found', () => (source.pods().size === 1 ? true : undefined));
      rmSync(dir, { recursive: true });
      await until('p gone with its folder', () => (source.pods().size === 0 ? true : undefined));
      mkdirSync(dir);
      writeFileSync(join(dir, 'q.yaml'), pod('q'));
      await until('q found by the resync', () => (source.pods().size === 1 ? true : undefined));
    } finally {
      source.stop();
    }
  });
});
