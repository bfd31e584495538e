// Air-gapped images on a real node: `k8ts image import FILE.tar` loads an archive into the node's
// containerd, an archive dropped in <data-dir>/agent/images/ before the start is imported by the
// agent (as k3s preloads them), and pods run both with imagePullPolicy Never. The node runs with
// aggressive image garbage collection (thresholds 0/0, 5 s minimum age, 1 s period): an unpinned
// image goes, while the imported images (pinned; containerd 1.6 reports pins only through ctr) stay.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, removeDataDir, runK8ts, startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually } from '../support/eventually.js';
import { testImageArchive } from '../support/images.js';
import { waitForNodeReady } from '../support/containerd-node.js';

const NODE = 'k8ts-e2e-import';
const IMPORTED = 'docker.io/k8ts-e2e/imported:v1';
const PRELOADED = 'docker.io/k8ts-e2e/preloaded:v1';
const UNPINNED = 'docker.io/k8ts-e2e/unpinned:v1';
let server: TestServer;
const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-import-'));
const socket = join(dataDir, 'run', 'containerd', 'containerd.sock');

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  eventually(what, probe, { timeoutMs, intervalMs: 250 });

function ctr(args: string[]): string {
  return execFileSync('ctr', ['-a', socket, '-n', 'k8s.io', ...args], { encoding: 'utf8', timeout: 30_000 });
}
const imageNames = (): string[] =>
  ctr(['images', 'ls', '-q'])
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: airgapped
spec:
  containers:
  - name: imported
    image: ${IMPORTED}
    imagePullPolicy: Never
    command: ["sh", "-c", "while true; do sleep 1; done"]
  - name: preloaded
    image: ${PRELOADED}
    imagePullPolicy: Never
    command: ["sh", "-c", "while true; do sleep 1; done"]
`;

before(async () => {
  // Preloaded: in the agent's images folder before it starts.
  const images = join(dataDir, 'agent', 'images');
  mkdirSync(images, { recursive: true });
  copyFileSync(testImageArchive('wangyanglinux/myapp:v1', PRELOADED), join(images, 'preloaded.tar'));
  server = await startServer({
    dataDir,
    agent: true,
    extraArgs: [
      '--node-name',
      NODE,
      '--node-port',
      String(await freePort()),
      '--disable-default-registry-endpoint',
      '--kubelet-arg=image-gc-high-threshold=0',
      '--kubelet-arg=image-gc-low-threshold=0',
      '--kubelet-arg=minimum-image-ttl-duration=5s',
      '--kubelet-arg=image-gc-period=1s',
    ],
    readyTimeoutMs: 90_000,
  });
  await waitForNodeReady(server, NODE, 90_000);
});

after(async () => {
  await server?.kubectl(['delete', 'pod', '--all', '--wait', '--timeout=60s'], { timeoutMs: 90_000 });
  await server?.stop();
  removeDataDir(dataDir);
});

test('k8ts image import prints the names it imported, pinned in the k8s.io namespace', async () => {
  const r = await runK8ts(
    ['image', 'import', '--data-dir', dataDir, testImageArchive('busybox:latest', IMPORTED)],
    {
      timeoutMs: 120_000,
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${IMPORTED}\n`);
  const pinned = ctr(['images', 'ls', 'labels."io.cri-containerd.pinned"==pinned']);
  assert.match(pinned, new RegExp(IMPORTED.replace(/[.:/]/g, '\\$&')));
  assert.match(
    pinned,
    new RegExp(PRELOADED.replace(/[.:/]/g, '\\$&')),
    'the preloaded archive was imported and pinned',
  );
});

test('a pod runs the imported and preloaded images with imagePullPolicy Never', async () => {
  await server.kubectlOk(['apply', '-f', '-'], { input: POD });
  await waitFor('pod airgapped Running', async () => {
    const r = await server.kubectl(['get', 'pod', 'airgapped', '--no-headers']);
    return /\s2\/2\s+Running\s/.test(r.stdout) ? r.stdout : undefined;
  });
  const events = await server.kubectlOk([
    'get',
    'events',
    '--field-selector',
    'involvedObject.name=airgapped,reason=Pulled',
    '-o',
    'jsonpath={range .items[*]}{.message}{"\\n"}{end}',
  ]);
  assert.match(events, /Container image "docker\.io\/k8ts-e2e\/imported:v1" already present on machine/);
});

test('image garbage collection removes an unpinned image but keeps the imported ones', async () => {
  await server.kubectlOk(['delete', 'pod', 'airgapped', '--wait', '--timeout=60s'], { timeoutMs: 90_000 });
  // The same import, then its pin taken away: an image GC may delete.
  const r = await runK8ts(
    ['image', 'import', '--data-dir', dataDir, testImageArchive('nginx:1.11', UNPINNED)],
    {
      timeoutMs: 120_000,
    },
  );
  assert.equal(r.code, 0, r.stderr);
  ctr(['images', 'label', UNPINNED, 'io.cri-containerd.pinned=']);
  const left = await waitFor('the unpinned image collected', () => {
    const names = imageNames();
    return Promise.resolve(names.includes(UNPINNED) ? undefined : names);
  });
  assert.ok(left.includes(IMPORTED), left.join('\n'));
  assert.ok(left.includes(PRELOADED), left.join('\n'));
});

test('without a running containerd the command says so', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'k8ts-import-none-'));
  try {
    const r = await runK8ts([
      'image',
      'import',
      '--data-dir',
      empty,
      testImageArchive('busybox:latest', IMPORTED),
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^k8ts image: containerd is not running at ${empty}/run/containerd/containerd\\.sock \\(.*ENOENT`,
      ),
    );
  } finally {
    removeDataDir(empty);
  }
});
