// Static pods on a real node: `k8ts server` runs containerd; a manifest dropped in
// <data-dir>/agent/pod-manifests runs a real busybox container, which kubectl shows as
// <name>-<node> Running through its mirror pod; removing the file stops and removes the container.
// The node runs with aggressive image garbage collection (--kubelet-arg thresholds 0/0, a 5 s
// minimum age, a 1 s period): once the pod is gone its unused busybox image is deleted while the
// pinned pause image stays, and the node reports FreeDiskSpaceFailed (it cannot get to 0 % used).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type TestRegistry, writeRegistriesYaml } from '../support/registry.js';
import { freePort, removeDataDir, startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually as pollUntil } from '../support/eventually.js';

const NODE = 'k8ts-e2e-static';
const POD = `web-${NODE}`;
let registry: TestRegistry;
let server: TestServer;
const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-static-'));
const manifests = join(dataDir, 'agent', 'pod-manifests');
const socket = join(dataDir, 'run', 'containerd', 'containerd.sock');

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 250 });

/** containerd's own view (namespace k8s.io, where the CRI keeps pods). */
function ctr(args: string[]): string {
  return execFileSync('ctr', ['-a', socket, '-n', 'k8s.io', ...args], { encoding: 'utf8', timeout: 15_000 });
}
const podContainers = (): string[] =>
  ctr(['containers', 'ls', '-q', `labels."io.kubernetes.pod.name"==${POD}`])
    .split('\n')
    .filter((l) => l.trim() !== '');

const MANIFEST = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: beat
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo static pod up; while true; do sleep 1; done"]
`;

before(async () => {
  registry = await startRegistry();
  writeRegistriesYaml(join(dataDir, 'registries.yaml'), registry);
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
    readyTimeoutMs: 60_000,
  });
});

after(async () => {
  // The static pod goes with its manifest; wait for its containers before stopping the server.
  rmSync(join(manifests, 'web.yaml'), { force: true });
  if (existsSync(socket))
    await waitFor('static pod containers gone', () =>
      Promise.resolve(podContainers().length === 0 ? true : undefined),
    ).catch(() => undefined);
  await server?.kubectl(['delete', 'pod', '--all', '--wait', '--timeout=60s'], { timeoutMs: 90_000 });
  await server?.stop();
  await registry?.stop();
  removeDataDir(dataDir);
});

test('a manifest in the folder runs as <name>-<node>, Running in kubectl', async () => {
  mkdirSync(manifests, { recursive: true });
  writeFileSync(join(manifests, 'web.yaml'), MANIFEST);
  const row = await waitFor('the mirror pod Running', async () => {
    const r = await server.kubectl(['get', 'pods', '--no-headers']);
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${POD} `));
    return line && /\s1\/1\s+Running\s/.test(line) ? line : undefined;
  });
  assert.match(row, new RegExp(`^${POD}\\s+1/1\\s+Running\\s+0\\s`));
  const ann = await server.kubectlOk(['get', 'pod', POD, '-o', 'jsonpath={.metadata.annotations}']);
  assert.match(ann, /"kubernetes.io\/config.source":"file"/);
  assert.match(ann, /"kubernetes.io\/config.mirror":"[0-9a-f]{32}"/);
  const owner = await server.kubectlOk([
    'get',
    'pod',
    POD,
    '-o',
    'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}',
  ]);
  assert.equal(owner, `Node/${NODE}`);
  // A real container runs on containerd, and its log reaches kubectl.
  assert.ok(podContainers().length >= 2, 'the sandbox and the container exist');
  const logs = await waitFor('the container log', async () => {
    const r = await server.kubectl(['logs', POD]);
    return r.stdout.includes('static pod up') ? r.stdout : undefined;
  });
  assert.match(logs, /static pod up/);
});

test('deleting the mirror pod through the API brings it back; the container keeps running', async () => {
  const before = podContainers().sort();
  const oldUid = await server.kubectlOk(['get', 'pod', POD, '-o', 'jsonpath={.metadata.uid}']);
  await server.kubectlOk(['delete', 'pod', POD, '--wait=false']);
  await waitFor('a new mirror pod Running', async () => {
    const r = await server.kubectl(['get', 'pod', POD, '-o', 'jsonpath={.metadata.uid} {.status.phase}']);
    const [uid, phase] = r.stdout.split(' ');
    return r.code === 0 && uid !== oldUid && phase === 'Running' ? true : undefined;
  });
  assert.deepEqual(podContainers().sort(), before, 'same sandbox and container');
});

test('removing the manifest stops the container and deletes the mirror pod', async () => {
  rmSync(join(manifests, 'web.yaml'));
  await waitFor('the mirror pod gone', async () => {
    const r = await server.kubectl(['get', 'pod', POD]);
    return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
  });
  await waitFor('no container left', () => Promise.resolve(podContainers().length === 0 ? true : undefined));
});

test('image garbage collection deletes the unused busybox image, keeps the pinned pause image', async () => {
  const images = await waitFor('busybox image collected', () => {
    const list = ctr(['images', 'ls', '-q']);
    return Promise.resolve(/busybox/.test(list) ? undefined : list);
  });
  assert.match(images, /pause/, 'the pinned pause image stays');
  const events = await waitFor('FreeDiskSpaceFailed on the node', async () => {
    const out = await server.kubectlOk([
      'get',
      'events',
      '-A',
      '--field-selector',
      `reason=FreeDiskSpaceFailed,involvedObject.name=${NODE}`,
      '-o',
      'jsonpath={range .items[*]}{.type} {.message}{"\\n"}{end}',
    ]);
    return out.trim() !== '' ? out : undefined;
  });
  assert.match(
    events,
    /^Warning Failed to garbage collect required amount of images\. Attempted to free \d+ bytes, but only found \d+ bytes eligible to free\./m,
  );
});
