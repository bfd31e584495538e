// Streaming through the API server to a node agent, with the real kubectl: logs (-f, --tail,
// --timestamps, --previous, -c), exec (plain, exit codes, stdin, a terminal through script(1)),
// attach, port-forward to a pod and a service, cp out of a pod, and the pod/service/node proxies.
// Containers run on a real containerd started in a temp dir (as cri-runtime.test.ts does); the
// test plays the agent's pod worker itself (syncing pods through CriRuntime and writing their
// status) and registers a Node whose daemon endpoint is the node API server under test.
import '../support/kubectl-cache.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { parse as parseYaml } from 'yaml';
import type { Pod } from '../../src/api/generated/types.js';
import { builtinResources } from '../../src/api/kinds/index.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { computePodStatus } from '../../src/agent/pod-status.js';
import { removeBridge } from '../../src/agent/cni/cni.js';
import type { ContainerRuntime } from '../../src/agent/containerd/containerd.js';
import type { CriRuntime } from '../../src/agent/kuberuntime/runtime.js';
import { startNodeRuntime } from '../../src/agent/kuberuntime/setup.js';
import type { NodeRuntimeContext } from '../../src/agent/runtime.js';
import { CriStreamingBackend, startNodeServer, type NodeServer } from '../../src/agent/server/index.js';
import { createApiServer, type ApiServer } from '../../src/apiserver/server.js';
import { storageKey, storagePrefix } from '../../src/apiserver/resource-registry.js';
import {
  createStreamingHandler,
  routeUpgradesAsRequests,
  storeLookup,
  STREAMING_SUBRESOURCES,
} from '../../src/apiserver/streaming/index.js';
import {
  createCertificateAuthority,
  issueCertificate,
  issueClientCertificate,
  writeKubeconfig,
} from '../../src/pki/index.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';
import { freePort, run, type RunResult } from '../support/k8ts-server.js';
import { registriesFor, startRegistry, type TestRegistry } from '../support/registry.js';

const NODE = 'stream-node';
const octet = 100 + ((randomBytes(1)[0] ?? 0) % 150);
const POD_CIDR = `10.44.${octet}.0/24`;
const BRIDGE = `k8ts${randomBytes(3).toString('hex')}`;
const nodeCtx: NodeRuntimeContext = { nodeName: NODE, hostIP: '127.0.0.1', podCIDR: POD_CIDR };
const podDesc = builtinResources.find((r) => r.group === '' && r.kind === 'Pod' && !r.conversion)!;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a command, gathering its output for a while, then stops it. */
function runFor(
  cmd: string,
  args: string[],
  ms: number,
  opts: { env?: NodeJS.ProcessEnv; until?: (out: string) => boolean } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const stop = (): void => {
      clearTimeout(timer);
      child.kill('SIGTERM');
    };
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (opts.until?.(stdout)) stop();
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(stop, ms);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
  });
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('streaming through the API server and the node agent', { timeout: 300_000 }, () => {
  let dataDir = '';
  let work = '';
  let registry: TestRegistry | undefined;
  let runtime: ContainerRuntime | undefined;
  let cri: CriRuntime;
  let store: MemoryStore;
  let api: ApiServer | undefined;
  let agent: NodeServer | undefined;
  let kubeconfig = '';
  let syncing = true;
  let syncLoop: Promise<void> = Promise.resolve();
  const known = new Set<string>();

  const kubectl = (args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> =>
    run('kubectl', ['--kubeconfig', kubeconfig, ...args], opts);
  const kubectlOk = async (
    args: string[],
    opts: { input?: string; timeoutMs?: number } = {},
  ): Promise<string> => {
    const r = await kubectl(args, opts);
    if (r.code !== 0)
      throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  const podsOnNode = async (): Promise<Pod[]> => {
    const list = await store.list(storagePrefix(podDesc));
    return list.items.map((kv) => JSON.parse(kv.value) as Pod).filter((p) => p.spec?.nodeName === NODE);
  };

  /** The pod worker's part: run the node's pods and write their status, until the test ends. */
  const syncOnce = async (): Promise<void> => {
    for (const pod of await podsOnNode()) {
      const uid = pod.metadata.uid ?? '';
      known.add(uid);
      const result = await cri.syncPod(pod, nodeCtx);
      const key = storageKey(podDesc, pod.metadata.namespace ?? 'default', pod.metadata.name ?? '');
      const kv = await store.get(key);
      if (!kv) continue;
      const current = JSON.parse(kv.value) as Pod;
      current.status = computePodStatus({ pod: current, runtime: result.status, hostIP: '127.0.0.1' });
      await store.update(key, JSON.stringify(current), kv.modRevision).catch(() => undefined);
    }
  };

  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await sleep(250);
    }
    assert.fail(`timed out waiting for ${what}`);
  };

  const podReady = (name: string): Promise<void> =>
    waitFor(`pod ${name} to be ready`, async () => {
      const kv = await store.get(storageKey(podDesc, 'default', name));
      const pod = kv ? (JSON.parse(kv.value) as Pod) : undefined;
      return pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'k8ts-stream-e2e-'));
    work = mkdtempSync(join(tmpdir(), 'k8ts-stream-work-'));
    registry = await startRegistry();
    const started = await startNodeRuntime({
      dataDir,
      bridge: BRIDGE,
      registries: registriesFor(registry),
      serviceCIDR: false,
      source: { configMap: () => Promise.resolve(undefined), secret: () => Promise.resolve(undefined) },
    });
    runtime = started.containerRuntime;
    cri = started.pods;

    const ca = await createCertificateAuthority('k8ts-streaming-e2e-ca');
    const serving = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      usages: ['digital signature', 'key encipherment', 'server auth'],
      sans: { dns: ['localhost'], ips: ['127.0.0.1'] },
    });
    const nodeServing = await issueCertificate(ca, {
      commonName: NODE,
      usages: ['digital signature', 'key encipherment', 'server auth'],
      sans: { dns: [NODE], ips: ['127.0.0.1'] },
    });
    const admin = await issueClientCertificate(ca, 'system:admin', ['system:masters']);
    const nodeClient = await issueClientCertificate(ca, 'kube-apiserver-kubelet-client', [
      'kubeadm:cluster-admins',
    ]);

    store = new MemoryStore();
    const backend = new CriStreamingBackend({
      nodeName: NODE,
      runtime: cri,
      client: runtime.client,
      pods: podsOnNode,
    });
    agent = await startNodeServer({
      backend,
      tls: { cert: nodeServing.certPem, key: nodeServing.keyPem, ca: ca.certPem },
      host: '127.0.0.1',
      port: 0,
      allowClient: (cn) => cn === 'kube-apiserver-kubelet-client',
    });
    const apiPort = await freePort();
    api = await createApiServer({
      store,
      resources: builtinResources,
      schemas: builtinSchemas(),
      port: apiPort,
      tls: { key: serving.keyPem, cert: serving.certPem, ca: ca.certPem, requestCert: true },
      authenticate: (req) => {
        const sock = req.socket as import('node:tls').TLSSocket;
        return Promise.resolve(
          sock.authorized
            ? { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] }
            : undefined,
        );
      },
      subresourceHandler: createStreamingHandler({
        lookup: storeLookup(store, builtinResources),
        nodeClient: { cert: nodeClient.certPem, key: nodeClient.keyPem, ca: ca.certPem },
      }),
      extraSubresources: STREAMING_SUBRESOURCES,
    });
    routeUpgradesAsRequests(api.httpServer);
    kubeconfig = join(work, 'kubeconfig.yaml');
    await writeKubeconfig(kubeconfig, {
      server: api.url,
      caPem: ca.certPem,
      clientCertPem: admin.certPem,
      clientKeyPem: admin.keyPem,
    });

    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } },
      spec: { podCIDR: POD_CIDR },
      status: {
        addresses: [
          { type: 'InternalIP', address: '127.0.0.1' },
          { type: 'Hostname', address: NODE },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: agent.port } },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }],
      },
    };
    writeFileSync(join(work, 'node.json'), JSON.stringify(node));
    await kubectlOk(['create', '-f', join(work, 'node.json')]);

    const manifests = `
apiVersion: v1
kind: Pod
metadata: { name: logger, namespace: default }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:latest
    command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line-$i; done; while true; do echo tick; sleep 0.5; done"]
---
apiVersion: v1
kind: Pod
metadata: { name: two, namespace: default }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: busybox:latest
    command: ["sh", "-c", "echo from-a; exec sleep 3600"]
  - name: b
    image: busybox:latest
    command: ["sh", "-c", "echo from-b; exec sleep 3600"]
---
apiVersion: v1
kind: Pod
metadata: { name: crasher, namespace: default }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:latest
    command: ["sh", "-c", "echo attempt-$(cat /proc/sys/kernel/random/uuid); sleep 1; exit 1"]
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: default, labels: { app: web } }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: wangyanglinux/myapp:v1
    ports: [{ containerPort: 80, name: http }]
---
apiVersion: v1
kind: Pod
metadata: { name: reader, namespace: default }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:latest
    stdin: true
    command: ["sh", "-c", "while read l; do echo got-$l; done"]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`;
    writeFileSync(join(work, 'pods.yaml'), manifests);
    await kubectlOk(['apply', '-f', join(work, 'pods.yaml')]);
    syncLoop = (async () => {
      while (syncing) {
        try {
          await syncOnce();
        } catch {
          // the next round tries again (image pulls, sandbox start)
        }
        await sleep(300);
      }
    })();
    await Promise.all(['logger', 'two', 'web', 'reader'].map((p) => podReady(p)));
  });

  after(async () => {
    syncing = false;
    await syncLoop;
    try {
      await agent?.close();
      await api?.close();
      if (runtime) for (const uid of known) await cri.removePod(uid).catch(() => undefined);
    } finally {
      await runtime?.stop();
      await registry?.stop();
      await removeBridge(BRIDGE);
      rmSync(work, { recursive: true, force: true });
      try {
        rmSync(dataDir, { recursive: true, force: true });
      } catch {
        // a mount left behind is reported by the CRI test's cleanup check
      }
    }
  });

  it('kubectl logs: whole, --tail, --timestamps, -c, -f', async () => {
    const all = await kubectlOk(['logs', 'logger']);
    assert.match(all, /^line-1\nline-2\nline-3\nline-4\nline-5\n/);
    const tail = await kubectlOk(['logs', 'logger', '--tail=2']);
    assert.equal(tail.trim().split('\n').length, 2);
    const stamped = await kubectlOk(['logs', 'logger', '--tail=1', '--timestamps']);
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z tick\n$/);
    assert.equal(await kubectlOk(['logs', 'two', '-c', 'b']), 'from-b\n');
    const limited = await kubectlOk(['logs', 'logger', '--limit-bytes=4']);
    assert.equal(limited, 'line');
    const since = await kubectlOk(['logs', 'logger', '--since=1h']);
    assert.match(since, /^line-1\n/);
    const followed = await runFor(
      'kubectl',
      ['--kubeconfig', kubeconfig, 'logs', '-f', 'logger', '--tail=1'],
      15_000,
      {
        until: (out) => out.split('\n').filter((l) => l === 'tick').length >= 4,
      },
    );
    assert.ok(
      followed.stdout.split('\n').filter((l) => l === 'tick').length >= 4,
      `follow: ${followed.stdout} ${followed.stderr}`,
    );
  });

  it('pods/log errors read as upstream writes them', async () => {
    const noName = await kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/two/log']);
    assert.notEqual(noName.code, 0);
    assert.match(noName.stderr, /a container name must be specified for pod two, choose one of: \[a b\]/);
    const bad = await kubectl(['logs', 'two', '-c', 'zzz']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /container zzz is not valid for pod two/);
    const missing = await kubectl(['logs', 'nosuchpod']);
    assert.match(missing.stderr, /pods "nosuchpod" not found/);
    // kubectl defaults to the first container of a multi-container pod, and says so.
    const defaulted = await kubectl(['logs', 'two']);
    assert.equal(defaulted.stdout, 'from-a\n');
  });

  it('kubectl logs --previous shows the attempt before the restart', async () => {
    await waitFor(
      'crasher to restart',
      async () => (await kubectl(['logs', 'crasher', '--previous'])).code === 0,
      60_000,
    );
    const previous = await kubectlOk(['logs', 'crasher', '--previous']);
    assert.match(previous, /^attempt-[0-9a-f-]+\n$/);
    await waitFor('the current attempt to log', async () =>
      (await kubectl(['logs', 'crasher'])).stdout.startsWith('attempt-'),
    );
    const current = await kubectlOk(['logs', 'crasher']);
    assert.notEqual(current, previous);
  });

  it('kubectl exec: output, stderr, exit codes, stdin', async () => {
    assert.equal(await kubectlOk(['exec', 'logger', '--', 'echo', 'hello', 'world']), 'hello world\n');
    const err = await kubectl(['exec', 'logger', '--', 'sh', '-c', 'echo out; echo oops >&2; exit 3']);
    assert.equal(err.code, 3);
    assert.equal(err.stdout, 'out\n');
    assert.match(err.stderr, /oops/);
    assert.equal(
      await kubectlOk(['exec', 'two', '-c', 'b', '--', 'cat', '/proc/1/cmdline']),
      'sleep\u00003600\u0000',
    );
    // stdin reaches the process, and its end too (cat and wc finish only at end of input).
    const piped = await kubectl(['exec', '-i', 'logger', '--', 'cat'], {
      input: 'hello there\n',
      timeoutMs: 20_000,
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, 'hello there\n');
    const big = 'x'.repeat(300_000);
    const counted = await kubectl(['exec', '-i', 'logger', '--', 'wc', '-c'], {
      input: big,
      timeoutMs: 30_000,
    });
    assert.equal(counted.stdout.trim(), String(big.length));
    const unknown = await kubectl(['exec', 'two', '-c', 'zzz', '--', 'true']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /container zzz is not valid for pod two/);
  });

  it('kubectl exec -it drives a shell through a terminal', async () => {
    // The terminal gets a size first, which kubectl sends over the resize channel.
    const cmd = `stty rows 33 cols 101; kubectl --kubeconfig ${kubeconfig} exec -it logger -- sh`;
    const out = await new Promise<string>((resolve) => {
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.stderr.on('data', (c: Buffer) => (text += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
      setTimeout(() => child.stdin.write('echo tty-$((40+2)); tty; stty size\r'), 1500);
      setTimeout(() => child.stdin.write('exit\r'), 3000);
    });
    assert.match(out, /tty-42/);
    assert.match(out, /\/dev\/pts\/\d+/);
    assert.match(out, /^33 101\r?$/m);
  });

  it('kubectl attach streams the main process output', async () => {
    const attached = await runFor('kubectl', ['--kubeconfig', kubeconfig, 'attach', 'logger'], 15_000, {
      until: (o) => o.split('\n').filter((l) => l === 'tick').length >= 3,
    });
    assert.ok(
      attached.stdout.split('\n').filter((l) => l === 'tick').length >= 3,
      `attach: ${attached.stdout} ${attached.stderr}`,
    );
  });

  it('kubectl attach -i feeds the main process stdin', async () => {
    const got = await new Promise<string>((resolve) => {
      const child = spawn('kubectl', ['--kubeconfig', kubeconfig, 'attach', '-i', 'reader'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      const timer = setTimeout(() => child.kill('SIGTERM'), 15_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('got-second')) child.kill('SIGTERM');
      });
      child.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
      setTimeout(() => child.stdin.write('first\n'), 1000);
      setTimeout(() => child.stdin.write('second\n'), 1500);
    });
    assert.match(got, /got-first\ngot-second/);
  });

  it('kubectl port-forward carries HTTP to a pod and to a service', async () => {
    for (const target of ['pod/web', 'svc/web']) {
      const local = await freePort();
      const child = spawn('kubectl', ['--kubeconfig', kubeconfig, 'port-forward', target, `${local}:80`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      try {
        await waitFor(
          `port-forward ${target} to listen`,
          () => Promise.resolve(out.includes('Forwarding from')),
          20_000,
        );
        for (let i = 0; i < 3; i++) {
          const body = await httpGet(`http://127.0.0.1:${local}/`);
          assert.match(body, /Hello MyApp \| Version: v1/, `${target}: ${out}`);
        }
        assert.match(await httpGet(`http://127.0.0.1:${local}/hostname.html`), /\S/);
      } finally {
        child.kill('SIGTERM');
      }
    }
  });

  it('port-forward over the WebSocket channel protocol (client libraries)', async () => {
    const conf = parseYaml(readFileSync(kubeconfig, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
    };
    const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
    const ws = new WebSocket(
      `${conf.clusters[0]!.cluster.server.replace('https', 'wss')}/api/v1/namespaces/default/pods/web/portforward?ports=80`,
      ['v4.channel.k8s.io'],
      {
        ca: b64(conf.clusters[0]!.cluster['certificate-authority-data']),
        cert: b64(conf.users[0]!.user['client-certificate-data']),
        key: b64(conf.users[0]!.user['client-key-data']),
      },
    );
    const body = await new Promise<string>((resolve, reject) => {
      let text = '';
      const seen = new Set<number>();
      ws.on('message', (data: Buffer) => {
        const channel = data[0]!;
        let payload = data.subarray(1);
        if (!seen.has(channel)) {
          // Each channel starts with the port it is for.
          seen.add(channel);
          assert.equal(payload.readUInt16LE(0), 80);
          payload = payload.subarray(2);
          if (channel === 0 && seen.size === 1)
            ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('GET / HTTP/1.0\r\n\r\n')]));
        }
        if (channel === 0) text += payload.toString();
        if (text.includes('Hello MyApp')) {
          ws.close();
          resolve(text);
        }
      });
      ws.on('error', reject);
      setTimeout(() => reject(new Error(`no answer through the tunnel: ${text}`)), 10_000);
    });
    assert.match(body, /^HTTP\/1\.[01] 200/);
  });

  it('kubectl falls back to SPDY when told to: exec and port-forward', async () => {
    const env = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };
    const out = await run(
      'kubectl',
      ['--kubeconfig', kubeconfig, 'exec', '-i', 'logger', '--', 'sh', '-c', 'cat; exit 4'],
      {
        env,
        input: 'over spdy\n',
        timeoutMs: 20_000,
      },
    );
    assert.equal(out.stdout, 'over spdy\n');
    assert.equal(out.code, 4, out.stderr);
    const local = await freePort();
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, 'port-forward', 'pod/web', `${local}:80`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    try {
      await waitFor(
        'port-forward over SPDY to listen',
        () => Promise.resolve(log.includes('Forwarding from')),
        20_000,
      );
      assert.match(await httpGet(`http://127.0.0.1:${local}/`), /Hello MyApp/, log);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('kubectl cp copies a folder into a pod', async () => {
    const src = join(work, 'upload');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    writeFileSync(join(src, 'b.bin'), randomBytes(200_000));
    await kubectlOk(['cp', src, 'default/logger:/tmp/upload'], { timeoutMs: 30_000 });
    assert.equal(await kubectlOk(['exec', 'logger', '--', 'cat', '/tmp/upload/a.txt']), 'alpha\n');
    assert.equal(
      (await kubectlOk(['exec', 'logger', '--', 'wc', '-c', '/tmp/upload/b.bin'])).trim().split(/\s+/)[0],
      '200000',
    );
  });

  it('kubectl cp copies a file out of a pod', async () => {
    await kubectlOk([
      'exec',
      'logger',
      '--',
      'sh',
      '-c',
      'mkdir -p /tmp/d && echo payload-$((6*7)) > /tmp/d/f.txt',
    ]);
    const dest = join(work, 'copied.txt');
    await kubectlOk(['cp', 'default/logger:/tmp/d/f.txt', dest]);
    assert.equal(readFileSync(dest, 'utf8'), 'payload-42\n');
  });

  it('pods/proxy, services/proxy and nodes/proxy', async () => {
    assert.match(
      await kubectlOk(['get', '--raw', '/api/v1/namespaces/default/pods/web:80/proxy/']),
      /Hello MyApp/,
    );
    assert.match(
      await kubectlOk(['get', '--raw', '/api/v1/namespaces/default/services/web:http/proxy/']),
      /Hello MyApp/,
    );
    const pods = JSON.parse(await kubectlOk(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/pods`])) as {
      kind: string;
      items: Pod[];
    };
    assert.equal(pods.kind, 'PodList');
    assert.deepEqual(pods.items.map((p) => p.metadata.name).sort(), [
      'crasher',
      'logger',
      'reader',
      'two',
      'web',
    ]);
    const summary = JSON.parse(
      await kubectlOk(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/stats/summary`]),
    ) as {
      node: { nodeName: string };
      pods: {
        podRef: { name: string };
        containers: { name: string; memory?: { workingSetBytes?: number } }[];
      }[];
    };
    assert.equal(summary.node.nodeName, NODE);
    const web = summary.pods.find((p) => p.podRef.name === 'web');
    assert.ok(web && web.containers[0]?.name === 'app', JSON.stringify(summary.pods));
    const spec = JSON.parse(await kubectlOk(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/spec`])) as {
      num_cores: number;
    };
    assert.ok(spec.num_cores > 0);
    assert.match(
      await kubectlOk(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics/resource`]),
      /container_memory_working_set_bytes\{container="app",namespace="default",pod="web"\}/,
    );
    assert.equal((await kubectlOk(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`])).trim(), 'ok');
  });

  it('discovery lists the streaming subresources', async () => {
    const list = JSON.parse(await kubectlOk(['get', '--raw', '/api/v1'])) as {
      resources: { name: string }[];
    };
    const names = new Set(list.resources.map((r) => r.name));
    for (const n of [
      'pods/log',
      'pods/exec',
      'pods/attach',
      'pods/portforward',
      'pods/proxy',
      'services/proxy',
      'nodes/proxy',
    ])
      assert.ok(names.has(n), n);
  });
});
