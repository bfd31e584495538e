// The CRI runtime against a real containerd: the test starts containerd in a temp data dir (with
// our pause image, CNI bridge and a local registry as the docker.io mirror) and runs pods through
// the CriRuntime the node agent uses. Nothing here is skipped: the project setup installs
// containerd, runc, the CNI plugins, busybox-static and docker-registry, and the test fails
// loudly if any of them cannot start.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConfigMap, Pod, PodSpec, Secret } from '../../src/api/generated/types.js';
import { ensureServiceRoute, removeBridge, removeServiceRoute } from '../../src/agent/cni/cni.js';
import { waitRuntimeReady, type ContainerRuntime } from '../../src/agent/containerd/containerd.js';
import { readCriLog } from '../../src/agent/kuberuntime/logs.js';
import { CriRuntime } from '../../src/agent/kuberuntime/runtime.js';
import { startNodeRuntime } from '../../src/agent/kuberuntime/setup.js';
import type {
  NodeRuntimeContext,
  PodSyncResult,
  RuntimeContainerStatus,
  RuntimePodStatus,
} from '../../src/agent/runtime.js';
import { testImageArchive } from '../support/images.js';
import { registriesFor, startRegistry, type TestRegistry } from '../support/registry.js';

const octet = 100 + ((randomBytes(1)[0] ?? 0) % 150);
const POD_CIDR = `10.42.${octet}.0/24`;
const BRIDGE = `k8te${randomBytes(3).toString('hex')}`;
const node: NodeRuntimeContext = { nodeName: 'cri-e2e', hostIP: '127.0.0.1', podCIDR: POD_CIDR };

const configMaps = new Map<string, ConfigMap>();
const secrets = new Map<string, Secret>();

function makePod(name: string, spec: Partial<PodSpec>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: randomUUID(), labels: { app: name } },
    spec: {
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 5,
      ...spec,
      containers: spec.containers ?? [],
    },
  };
}

function netnsCount(): number {
  return existsSync('/var/run/netns') ? readdirSync('/var/run/netns').length : 0;
}

describe('CRI runtime on containerd', { timeout: 240_000 }, () => {
  let dataDir = '';
  let registry: TestRegistry | undefined;
  let runtime: ContainerRuntime | undefined;
  let cri: CriRuntime;
  const pods: Pod[] = [];

  const sync = async (
    pod: Pod,
    until: (s: RuntimePodStatus) => boolean,
    timeoutMs = 20_000,
  ): Promise<RuntimePodStatus> => {
    const deadline = Date.now() + timeoutMs;
    let last: PodSyncResult | undefined;
    for (;;) {
      last = await cri.syncPod(pod, node);
      if (until(last.status)) return last.status;
      if (Date.now() > deadline)
        assert.fail(
          `pod ${pod.metadata.name} did not reach the expected state; last status: ${JSON.stringify(last.status)}`,
        );
      await new Promise((r) => setTimeout(r, Math.min(last?.requeueAfterMs ?? 200, 250)));
    }
  };
  const app = (s: RuntimePodStatus, i = 0): RuntimeContainerStatus => {
    const c = s.containers[i];
    assert.ok(c, 'container status missing');
    return c;
  };
  const idOf = (c: RuntimeContainerStatus): string => (c.containerID ?? '').replace(/^containerd:\/\//, '');
  const run = (pod: Pod): Pod => {
    pods.push(pod);
    return pod;
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'k8ts-cri-e2e-'));
    registry = await startRegistry();
    // As the agent does it: no pod CIDR yet; the first sync of a pod on the node writes the CNI config.
    const started = await startNodeRuntime({
      dataDir,
      bridge: BRIDGE,
      registries: registriesFor(registry),
      serviceCIDR: false,
      source: {
        configMap: (ns, name) => Promise.resolve(configMaps.get(`${ns}/${name}`)),
        secret: (ns, name) => Promise.resolve(secrets.get(`${ns}/${name}`)),
      },
    });
    runtime = started.containerRuntime;
    cri = started.pods;
  });

  after(async () => {
    try {
      if (runtime) for (const p of pods) await cri.removePod(p.metadata.uid ?? '').catch(() => undefined);
    } finally {
      await runtime?.stop();
      await registry?.stop();
      await removeBridge(BRIDGE);
      try {
        rmSync(dataDir, { recursive: true, force: true });
      } catch {
        // a mount left behind is reported by the cleanup test
      }
    }
  });

  it('reports the runtime and its version', async () => {
    assert.match(cri.version(), /^containerd:\/\/1\./);
    const st = await runtime!.client.status();
    assert.ok(st.conditions.find((c) => c.type === 'RuntimeReady')?.status);
    assert.equal(
      st.conditions.find((c) => c.type === 'NetworkReady')?.status,
      false,
      'no CNI config before the node has a pod CIDR',
    );
  });

  it('runs a busybox container in a sandbox and execs in it', async () => {
    const pod = run(
      makePod('sleeper', {
        containers: [{ name: 'main', image: 'busybox:latest', command: ['sleep', '3600'] }],
      }),
    );
    const s = await sync(pod, (x) => app(x).phase === 'running');
    assert.equal(s.sandboxReady, true);
    assert.equal(
      (await runtime!.client.status()).conditions.find((c) => c.type === 'NetworkReady')?.status,
      true,
    );
    assert.equal(s.podIPs.length, 1);
    assert.ok(
      s.podIPs[0]?.startsWith(POD_CIDR.split('.').slice(0, 3).join('.')),
      `pod IP ${s.podIPs[0]} in ${POD_CIDR}`,
    );
    const c = app(s);
    assert.equal(c.image, 'docker.io/library/busybox:latest');
    assert.match(c.imageID, /^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/);
    assert.equal(c.restartCount, 0);
    const out = await runtime!.client.execSync(idOf(c), ['sh', '-c', 'echo hello; hostname; exit 3'], 10);
    assert.equal(out.exitCode, 3);
    assert.equal(out.stdout.toString(), 'hello\nsleeper\n');
    const hosts = await runtime!.client.execSync(idOf(c), ['cat', '/etc/hosts'], 10);
    assert.match(
      hosts.stdout.toString(),
      new RegExp(`^${s.podIPs[0]?.replace(/\./g, '\\.')}\tsleeper$`, 'm'),
    );
    const sandboxes = await runtime!.client.listPodSandbox({
      labelSelector: { 'io.kubernetes.pod.uid': pod.metadata.uid ?? '' },
    });
    assert.equal(sandboxes.length, 1);
    assert.equal(sandboxes[0]?.labels['io.kubernetes.pod.name'], 'sleeper');
    assert.equal(sandboxes[0]?.labels.app, 'sleeper');
    const containers = await runtime!.client.listContainers({ podSandboxId: sandboxes[0]?.id });
    assert.equal(containers[0]?.labels['io.kubernetes.container.name'], 'main');
  });

  it('serves HTTP from a web container on its pod IP, and stops it within the grace period', async () => {
    const pod = run(
      makePod('web', {
        containers: [{ name: 'myapp', image: 'wangyanglinux/myapp:v1', ports: [{ containerPort: 80 }] }],
      }),
    );
    const s = await sync(pod, (x) => app(x).phase === 'running');
    const ip = s.podIPs[0];
    let body = '';
    for (let i = 0; i < 40 && !body; i++) {
      try {
        body = await (await fetch(`http://${ip}/`, { signal: AbortSignal.timeout(1000) })).text();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.match(body, /Hello MyApp \| Version: v1/);
    const started = Date.now();
    const killed = await cri.killPod(pod, 5, node);
    assert.equal(killed.done, true);
    assert.ok(Date.now() - started < 4000, 'httpd exits on SIGTERM well within the grace period');
    const t = killed.status.containers[0];
    assert.equal(t?.phase, 'terminated');
    assert.equal(t?.termination?.exitCode, 0);
    assert.equal(t?.termination?.reason, 'Completed');
    assert.equal(
      (
        await runtime!.client.listPodSandbox({
          labelSelector: { 'io.kubernetes.pod.uid': pod.metadata.uid ?? '' },
        })
      ).length,
      0,
    );
  });

  it('maps a hostPort to the pod, and runs host-network pods with the node address', async () => {
    const hostPort = 20000 + ((randomBytes(2).readUInt16BE(0) % 10000) | 0);
    const pod = run(
      makePod('porter', {
        containers: [{ name: 'web', image: 'nginx:1.11', ports: [{ containerPort: 80, hostPort }] }],
      }),
    );
    await sync(pod, (x) => app(x).phase === 'running');
    let body = '';
    for (let i = 0; i < 40 && !body; i++) {
      try {
        body = await (
          await fetch(`http://127.0.0.1:${hostPort}/`, { signal: AbortSignal.timeout(1000) })
        ).text();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.match(body, /Welcome to nginx!/);
    const host = run(
      makePod('hostnet', {
        hostNetwork: true,
        containers: [{ name: 'main', image: 'busybox:latest', command: ['sleep', '3600'] }],
      }),
    );
    const h = await sync(host, (x) => app(x).phase === 'running');
    assert.deepEqual(h.podIPs, [node.hostIP]);
    const out = await runtime!.client.execSync(idOf(app(h)), ['hostname'], 10);
    assert.equal(out.stdout.toString().trim(), execFileSync('hostname', { encoding: 'utf8' }).trim());
  });

  it('builds the environment from values, the downward API, ConfigMaps and Secrets, and mounts a ConfigMap', async () => {
    configMaps.set('default/settings', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings' },
      data: { color: 'blue', 'app.conf': 'x=1\n' },
    });
    secrets.set('default/creds', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds' },
      data: { password: Buffer.from('s3cret').toString('base64') },
    });
    const pod = run(
      makePod('envy', {
        volumes: [{ name: 'conf', configMap: { name: 'settings' } }],
        containers: [
          {
            name: 'main',
            image: 'busybox:latest',
            command: ['sleep', '$(NAP)'],
            env: [
              { name: 'NAP', value: '3600' },
              { name: 'GREETING', value: 'hello $(NAP)' },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'settings', key: 'color' } } },
              { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
              { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
            ],
            resources: { limits: { memory: '64Mi', cpu: '500m' }, requests: { memory: '64Mi', cpu: '500m' } },
            volumeMounts: [{ name: 'conf', mountPath: '/etc/app' }],
          },
        ],
      }),
    );
    const s = await sync(pod, (x) => app(x).phase === 'running');
    const out = await runtime!.client.execSync(
      idOf(app(s)),
      ['sh', '-c', 'echo "$GREETING|$POD_NAME|$POD_IP|$COLOR|$PASSWORD|$MEM"; cat /etc/app/app.conf'],
      10,
    );
    assert.equal(out.stdout.toString(), `hello 3600|envy|${s.podIPs[0]}|blue|s3cret|64\nx=1\n`);
    const limit = await runtime!.client.execSync(
      idOf(app(s)),
      ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'],
      10,
    );
    if (limit.exitCode === 0) assert.equal(limit.stdout.toString().trim(), String(64 * 1024 * 1024));
  });

  it('runs an init container to completion before the app container', async () => {
    const pod = run(
      makePod('initialized', {
        volumes: [{ name: 'work', emptyDir: {} }],
        initContainers: [
          {
            name: 'prepare',
            image: 'busybox:latest',
            command: ['sh', '-c', 'sleep 1; echo ready > /work/flag'],
            volumeMounts: [{ name: 'work', mountPath: '/work' }],
          },
        ],
        containers: [
          {
            name: 'main',
            image: 'busybox:latest',
            command: ['sh', '-c', 'cat /work/flag && exec sleep 3600'],
            volumeMounts: [{ name: 'work', mountPath: '/work' }],
          },
        ],
      }),
    );
    const early = await cri.syncPod(pod, node);
    assert.equal(early.status.containers[0]?.phase, 'waiting');
    assert.equal(early.status.containers[0]?.waitingReason, 'PodInitializing');
    const s = await sync(pod, (x) => app(x).phase === 'running');
    const init = s.initContainers[0];
    assert.equal(init?.phase, 'terminated');
    assert.equal(init?.termination?.reason, 'Completed');
    assert.equal(init?.termination?.exitCode, 0);
    assert.ok(
      (app(s).startedAt ?? 0) >= (init?.termination?.finishedAt ?? Infinity),
      'app started after init finished',
    );
    const out = await runtime!.client.execSync(idOf(app(s)), ['cat', '/work/flag'], 10);
    assert.equal(out.stdout.toString(), 'ready\n');
  });

  it('reports a container that exits 1 as Error with exit code 1, and restarts it under Always', async () => {
    const never = run(
      makePod('fails', {
        restartPolicy: 'Never',
        containers: [
          { name: 'main', image: 'busybox:latest', command: ['sh', '-c', 'echo oops >&2; exit 1'] },
        ],
      }),
    );
    const s = await sync(never, (x) => app(x).phase === 'terminated');
    assert.equal(app(s).termination?.exitCode, 1);
    assert.equal(app(s).termination?.reason, 'Error');
    assert.equal(app(s).restartCount, 0);

    const always = run(
      makePod('crashes', {
        containers: [{ name: 'main', image: 'busybox:latest', command: ['sh', '-c', 'exit 2'] }],
      }),
    );
    const r = await sync(
      always,
      (x) =>
        app(x).restartCount >= 1 && app(x).phase === 'waiting' && app(x).waitingReason === 'CrashLoopBackOff',
      20_000,
    );
    assert.equal(app(r).lastTermination?.exitCode, 2);
    assert.match(app(r).waitingMessage ?? '', /back-off 10s restarting failed container=main/);
  });

  it('reports ErrImagePull, then ImagePullBackOff, for an image that does not exist', async () => {
    const pod = run(
      makePod('ghost', { containers: [{ name: 'main', image: 'k8ts-test/does-not-exist:v0' }] }),
    );
    const first = await cri.syncPod(pod, node);
    assert.equal(app(first.status).phase, 'waiting');
    assert.equal(app(first.status).waitingReason, 'ErrImagePull');
    assert.match(app(first.status).waitingMessage ?? '', /does-not-exist/);
    assert.ok((first.requeueAfterMs ?? 0) >= 5000, 'retries after a back-off');
    const second = await cri.syncPod(pod, node);
    assert.equal(app(second.status).waitingReason, 'ImagePullBackOff');
  });

  it('imports an image archive (pinned) and runs it with imagePullPolicy Never', async () => {
    const names = await runtime!.importImage(
      testImageArchive('nginx:1.11', 'docker.io/k8ts-test/imported:v1'),
    );
    assert.deepEqual(names, ['docker.io/k8ts-test/imported:v1']);
    const img = await runtime!.client.imageStatus('docker.io/k8ts-test/imported:v1');
    assert.ok(img, 'the CRI plugin sees the imported image');
    const pod = run(
      makePod('imported', {
        containers: [{ name: 'web', image: 'k8ts-test/imported:v1', imagePullPolicy: 'Never' }],
      }),
    );
    const s = await sync(pod, (x) => app(x).phase === 'running');
    assert.equal(app(s).image, 'docker.io/k8ts-test/imported:v1');
    const never = run(
      makePod('never', {
        containers: [{ name: 'web', image: 'k8ts-test/not-imported:v1', imagePullPolicy: 'Never' }],
      }),
    );
    const n = await cri.syncPod(never, node);
    assert.equal(app(n.status).waitingReason, 'ErrImageNeverPull');
  });

  it('runs postStart and preStop hooks', async () => {
    const hooks = join(dataDir, 'hooks-check');
    const pod = makePod('hooked', {
      volumes: [{ name: 'hooks', hostPath: { path: hooks, type: 'DirectoryOrCreate' } }],
      containers: [
        {
          name: 'main',
          image: 'busybox:latest',
          command: ['sleep', '3600'],
          volumeMounts: [{ name: 'hooks', mountPath: '/hooks' }],
          lifecycle: {
            postStart: { exec: { command: ['sh', '-c', 'echo started > /hooks/post'] } },
            preStop: { exec: { command: ['sh', '-c', 'echo stopping > /hooks/pre'] } },
          },
        },
      ],
    });
    await sync(pod, (x) => app(x).phase === 'running');
    assert.equal(readFileSync(join(hooks, 'post'), 'utf8'), 'started\n');
    const k = await cri.killPod(pod, 2, node);
    assert.equal(k.done, true);
    assert.equal(readFileSync(join(hooks, 'pre'), 'utf8'), 'stopping\n');
    await cri.removePod(pod.metadata.uid ?? '');
  });

  it('writes container logs that read back as kubectl logs shows them', async () => {
    const pod = run(
      makePod('talker', {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'main',
            image: 'busybox:latest',
            command: ['sh', '-c', 'echo one; echo two >&2; echo three'],
          },
        ],
      }),
    );
    await sync(pod, (x) => app(x).phase === 'terminated');
    // A finished pod's sandbox is stopped (its IP released) but its logs stay readable.
    await cri.stopPod(pod.metadata.uid ?? '');
    assert.equal(await cri.sandboxId(pod.metadata.uid ?? ''), undefined);
    const file = await cri.containerLogFile(pod.metadata.uid ?? '', 'main');
    assert.ok(
      file?.startsWith(join(dataDir, 'agent', 'logs', 'pods', `default_talker_${pod.metadata.uid}`)),
      file,
    );
    // containerd reports the exit as soon as the process is reaped; its log copier may still be
    // writing the last lines for a moment.
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = await readCriLog(file ?? '');
      if (text.split('\n').length === 4) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(text.split('\n').sort(), ['', 'one', 'three', 'two']);
    assert.equal(await readCriLog(file ?? '', { tailLines: 1 }), `${text.split('\n').at(-2)}\n`);
    assert.match(
      await readCriLog(file ?? '', { timestamps: true, tailLines: 1 }),
      /^\d{4}-\d\d-\d\dT[\d:.]+Z (one|two|three)\n$/,
    );
  });

  it('replaces a sandbox that died and restarts its containers', async () => {
    const pod = run(
      makePod('phoenix', {
        containers: [{ name: 'main', image: 'busybox:latest', command: ['sleep', '3600'] }],
      }),
    );
    const s = await sync(pod, (x) => app(x).phase === 'running');
    const sandboxId = (await cri.sandboxId(pod.metadata.uid ?? '')) ?? '';
    const info = JSON.parse((await runtime!.client.podSandboxStatus(sandboxId, true)).info.info ?? '{}') as {
      pid?: number;
    };
    assert.ok(info.pid && info.pid > 1, 'the sandbox reports its pause pid');
    process.kill(info.pid, 'SIGKILL');
    const r = await sync(pod, (x) => app(x).phase === 'running' && app(x).restartCount === 1, 20_000);
    assert.notEqual(await cri.sandboxId(pod.metadata.uid ?? ''), sandboxId);
    assert.notEqual(app(r).containerID, app(s).containerID);
    assert.ok(app(r).lastTermination, 'the killed attempt is reported as the last state');
  });

  it('makes a service CIDR with no rule behind it fail fast', async () => {
    const cidr = `10.99.${octet}.0/24`;
    const tryConnect = (): Promise<string> =>
      new Promise((resolve) => {
        const sock = connect({ host: `10.99.${octet}.7`, port: 80, timeout: 3000 });
        sock.once('connect', () => {
          sock.destroy();
          resolve('connected');
        });
        sock.once('timeout', () => {
          sock.destroy();
          resolve('timeout');
        });
        sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
    await ensureServiceRoute(cidr);
    try {
      const started = Date.now();
      assert.equal(await tryConnect(), 'ECONNREFUSED');
      assert.ok(Date.now() - started < 1000);
      assert.match(
        execFileSync('ip', ['route', 'show', 'table', 'local', cidr], { encoding: 'utf8' }),
        /local 10\.99\./,
      );
    } finally {
      await removeServiceRoute(cidr);
    }
    assert.equal(
      execFileSync('ip', ['route', 'show', 'table', 'local', cidr], { encoding: 'utf8' }).trim(),
      '',
    );
  });

  it('finds its pods again after a restart of the agent (adoption)', async () => {
    const listed = await cri.listRunning();
    const sleeper = pods.find((p) => p.metadata.name === 'sleeper');
    assert.ok(
      listed.some((p) => p.uid === sleeper?.metadata.uid && p.name === 'sleeper' && p.nodeName === 'cri-e2e'),
    );
    const fresh = await CriRuntime.create({
      client: runtime!.client,
      dataDir,
      source: { configMap: () => Promise.resolve(undefined), secret: () => Promise.resolve(undefined) },
    });
    const s = await fresh.syncPod(sleeper!, node);
    assert.equal(app(s.status).phase, 'running');
    assert.equal(app(s.status).restartCount, 0);
  });

  it('restarts containerd when it dies, and the pods keep running', async () => {
    const sleeper = pods.find((p) => p.metadata.name === 'sleeper');
    const before = app((await cri.syncPod(sleeper!, node)).status);
    const pid = runtime!.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 15_000;
    while (runtime!.pid === pid || runtime!.pid === undefined) {
      assert.ok(Date.now() < deadline, 'containerd was not restarted');
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitRuntimeReady(runtime!.client, 15_000);
    const after = app((await cri.syncPod(sleeper!, node)).status);
    assert.equal(after.phase, 'running');
    assert.equal(after.containerID, before.containerID);
  });

  it('leaves no sandboxes, containers or network namespaces behind after 20 create/delete cycles', async () => {
    for (const p of pods.splice(0)) await cri.removePod(p.metadata.uid ?? '');
    const client = runtime!.client;
    assert.equal((await client.listPodSandbox()).length, 0);
    assert.equal((await client.listContainers()).length, 0);
    const netnsBefore = netnsCount();
    for (let i = 0; i < 20; i++) {
      const pod = makePod(`cycle-${i}`, {
        containers: [{ name: 'main', image: 'busybox:latest', command: ['sleep', '3600'] }],
      });
      await sync(pod, (x) => app(x).phase === 'running');
      const k = await cri.killPod(pod, 0, node);
      assert.equal(k.done, true);
      await cri.removePod(pod.metadata.uid ?? '');
      assert.equal(existsSync(cri.podDir(pod.metadata.uid ?? '')), false);
    }
    assert.equal((await client.listPodSandbox()).length, 0);
    assert.equal((await client.listContainers()).length, 0);
    assert.equal(netnsCount(), netnsBefore);
    assert.deepEqual(
      readdirSync(join(dataDir, 'agent', 'logs', 'pods')),
      [],
      'pod log folders are removed with their pods',
    );
    assert.deepEqual(
      readdirSync(join(dataDir, 'agent', 'pods')),
      [],
      'pod folders are removed with their pods',
    );
    const ipamDir = join(dataDir, 'agent', 'cni', 'k8ts');
    const leases = existsSync(ipamDir)
      ? readdirSync(ipamDir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))
      : [];
    assert.deepEqual(leases, [], 'every pod IP was released');
    const vethOnBridge = execFileSync('ip', ['-o', 'link', 'show', 'master', BRIDGE], {
      encoding: 'utf8',
    }).trim();
    assert.equal(vethOnBridge, '', 'no veth left on the bridge');
  });
});
