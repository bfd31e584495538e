// The pod lifecycle on a real node, as `kubectl get pods` and `kubectl describe` show it: the
// seeds' init-container pod (Init:0/2, Init:1/2, then Running), env from the seeds' ConfigMap and
// Secret, a missing ConfigMap (CreateContainerConfigError until it exists), CrashLoopBackOff with a
// growing back-off, a Job's pod Completed, bad input (an invalid image name, a probe on a closed
// port, a container that exits at once, an unknown volume type), and an agent killed with SIGKILL
// and restarted adopting its running pod. node-pod-churn.test.ts counts what pods leave behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startContainerdNode, type ContainerdNode } from '../support/containerd-node.js';
import { removeDataDir, type TestServer } from '../support/k8ts-server.js';
import { eventually as pollUntil } from '../support/eventually.js';

let node: ContainerdNode;
let server: TestServer;
const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-lifecycle-'));
const gates = join(dataDir, 'gates');

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 250 });

/** What `kubectl get pod crasher` showed while it crashed (watched while the other tests run). */
interface CrashWatch {
  statuses: Set<string>;
  /** Milliseconds from creation to the first sight of each RESTARTS count. */
  restartAt: Map<number, number>;
  restartsText: string;
}
let crashWatch: Promise<CrashWatch | Error>;

before(async () => {
  mkdirSync(gates, { recursive: true });
  node = await startContainerdNode(dataDir, 'k8ts-lifecycle-node');
  server = node.server;
  // The crash loop needs ~35 s of back-off: it runs beside the tests that follow.
  await server.kubectlOk([
    'run',
    'crasher',
    '--image=busybox:latest',
    '--',
    'sh',
    '-c',
    'echo crashing; exit 1',
  ]);
  const watch: CrashWatch = { statuses: new Set(), restartAt: new Map(), restartsText: '' };
  const started = Date.now();
  crashWatch = waitFor(
    'three restarts of crasher',
    async () => {
      const r = await row('crasher');
      if (!r) return undefined;
      watch.statuses.add(r.status);
      const count = Number(r.restarts.split(' ')[0]);
      if (!watch.restartAt.has(count)) watch.restartAt.set(count, Date.now() - started);
      if (count >= 1) watch.restartsText = r.restarts;
      return count >= 3 ? watch : undefined;
    },
    90_000,
  ).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
});

after(async () => {
  await node?.stop('job,pod');
  removeDataDir(dataDir);
});

interface Row {
  ready: string;
  status: string;
  restarts: string;
}

/** One pod's row of `kubectl get pods` (NAME READY STATUS RESTARTS AGE). */
async function row(name: string): Promise<Row | undefined> {
  const r = await server.kubectl(['get', 'pod', name, '--no-headers']);
  if (r.code !== 0) return undefined;
  const cols = r.stdout.trim().split(/\s{2,}/);
  return { ready: cols[1] ?? '', status: cols[2] ?? '', restarts: cols[3] ?? '' };
}

async function waitStatus(name: string, status: string, timeoutMs = 60_000): Promise<Row> {
  return waitFor(
    `pod ${name} ${status}`,
    async () => {
      const r = await row(name);
      return r?.status === status ? r : undefined;
    },
    timeoutMs,
  );
}

async function jsonpath(name: string, path: string): Promise<string> {
  return server.kubectlOk(['get', 'pod', name, '-o', `jsonpath=${path}`]);
}

/** The pod's events as "Type Reason Message" lines, oldest first. */
async function events(name: string): Promise<string> {
  return server.kubectlOk([
    'get',
    'events',
    '--field-selector',
    `involvedObject.name=${name}`,
    '--sort-by=.lastTimestamp',
    '-o',
    'jsonpath={range .items[*]}{.type} {.reason} {.message}{"\\n"}{end}',
  ]);
}

/** One container's section of `kubectl describe pod` (from "  name:" to the next container or heading). */
function section(described: string, container: string): string {
  const start = described.indexOf(`\n  ${container}:\n`);
  assert.ok(start >= 0, `no section for ${container} in:\n${described}`);
  const rest = described.slice(start + 1);
  const end = rest.slice(1).search(/\n(  \S|\S)/);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

async function waitEvent(name: string, re: RegExp, timeoutMs = 30_000): Promise<string> {
  return waitFor(
    `event ${re} for ${name}`,
    async () => {
      const out = await events(name);
      return re.test(out) ? out : undefined;
    },
    timeoutMs,
  );
}

test("the seeds' init-container pod shows Init:0/2, Init:1/2, then Running", async () => {
  const waitFile = (svc: string): string[] => [
    'sh',
    '-c',
    `until [ -f /gate/${svc} ]; do echo waiting for ${svc}; sleep 0.5; done;`,
  ];
  await server.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'myapp-pod', labels: { app: 'myapp' } },
    spec: {
      terminationGracePeriodSeconds: 1,
      volumes: [{ name: 'gate', hostPath: { path: gates, type: 'DirectoryOrCreate' } }],
      containers: [
        {
          name: 'myapp-container',
          image: 'busybox:latest',
          command: ['sh', '-c', 'echo The app is running! && sleep 3600'],
        },
      ],
      initContainers: [
        {
          name: 'init-myservice',
          image: 'busybox:latest',
          command: waitFile('myservice'),
          volumeMounts: [{ name: 'gate', mountPath: '/gate' }],
        },
        {
          name: 'init-mydb',
          image: 'busybox:latest',
          command: waitFile('mydb'),
          volumeMounts: [{ name: 'gate', mountPath: '/gate' }],
        },
      ],
    },
  });
  const first = await waitFor('init-myservice running', async () => {
    const r = await row('myapp-pod');
    const state = await jsonpath('myapp-pod', '{.status.initContainerStatuses[0].state.running.startedAt}');
    return r && state ? r : undefined;
  });
  assert.deepEqual(first, { ready: '0/1', status: 'Init:0/2', restarts: '0' });
  let described = await server.kubectlOk(['describe', 'pod', 'myapp-pod']);
  assert.match(described, /Init Containers:\n\s+init-myservice:/);
  assert.match(section(described, 'init-myservice'), /State:\s+Running/);
  assert.match(section(described, 'init-mydb'), /State:\s+Waiting\n\s+Reason:\s+PodInitializing/);
  assert.match(section(described, 'myapp-container'), /State:\s+Waiting\n\s+Reason:\s+PodInitializing/);
  assert.match(described, /Status:\s+Pending/);
  assert.match(described, /Initialized\s+False/);

  writeFileSync(join(gates, 'myservice'), '');
  const second = await waitStatus('myapp-pod', 'Init:1/2');
  assert.equal(second.ready, '0/1');
  described = await server.kubectlOk(['describe', 'pod', 'myapp-pod']);
  assert.match(
    section(described, 'init-myservice'),
    /State:\s+Terminated\n\s+Reason:\s+Completed\n\s+Exit Code:\s+0/,
  );
  // As kubelet: an init container that finished with success is Ready.
  assert.match(section(described, 'init-myservice'), /Ready:\s+True/);
  assert.match(section(described, 'init-mydb'), /State:\s+Running/);

  writeFileSync(join(gates, 'mydb'), '');
  const running = await waitStatus('myapp-pod', 'Running');
  assert.equal(running.ready, '1/1');
  described = await server.kubectlOk(['describe', 'pod', 'myapp-pod']);
  assert.match(section(described, 'init-mydb'), /State:\s+Terminated\n\s+Reason:\s+Completed/);
  assert.match(section(described, 'myapp-container'), /State:\s+Running/);
  assert.match(described, /Initialized\s+True/);
  // The seeds' describe: every container pulled (or found), created and started, in order.
  const ev = await waitEvent('myapp-pod', /Started container myapp-container/);
  const order = ['init-myservice', 'init-mydb', 'myapp-container'].map((c) =>
    ev.indexOf(`Normal Started Started container ${c}`),
  );
  assert.ok(
    order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)),
    ev,
  );
  assert.match(ev, /Normal Created Created container init-myservice/);
  assert.match(
    ev,
    /Normal (Pulling Pulling image "busybox:latest"|Pulled Container image "busybox:latest" already present on machine)/,
  );
  const log = await server.kubectlOk(['logs', 'myapp-pod', '-c', 'init-myservice']);
  assert.match(log, /waiting for myservice/);
});

test("env from the seeds' ConfigMap and Secret; a missing ConfigMap holds the container in CreateContainerConfigError", async () => {
  await server.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'mongodb-secret' },
    type: 'Opaque',
    data: { 'mongo-root-username': 'bWF0aHho', 'mongo-root-password': 'bWF0aHhoMTIzNA==' },
  });
  await server.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'mongodb-configmap' },
    data: { database_url: 'mongodb-service' },
  });
  await server.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'mongo-express' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'mongo-express',
          image: 'busybox:latest',
          command: ['sleep', '3600'],
          env: [
            {
              name: 'ME_CONFIG_MONGODB_ADMINUSERNAME',
              valueFrom: { secretKeyRef: { name: 'mongodb-secret', key: 'mongo-root-username' } },
            },
            {
              name: 'ME_CONFIG_MONGODB_ADMINPASSWORD',
              valueFrom: { secretKeyRef: { name: 'mongodb-secret', key: 'mongo-root-password' } },
            },
            {
              name: 'ME_CONFIG_MONGODB_SERVER',
              valueFrom: { configMapKeyRef: { name: 'mongodb-configmap', key: 'database_url' } },
            },
          ],
          envFrom: [
            { configMapRef: { name: 'mongodb-configmap' }, prefix: 'CM_' },
            { secretRef: { name: 'mongodb-secret' } },
          ],
        },
      ],
    },
  });
  await waitStatus('mongo-express', 'Running');
  const env = await server.kubectlOk(['exec', 'mongo-express', '--', 'env']);
  assert.match(env, /^ME_CONFIG_MONGODB_ADMINUSERNAME=mathxh$/m);
  assert.match(env, /^ME_CONFIG_MONGODB_ADMINPASSWORD=mathxh1234$/m);
  assert.match(env, /^ME_CONFIG_MONGODB_SERVER=mongodb-service$/m);
  assert.match(env, /^CM_database_url=mongodb-service$/m);
  assert.match(env, /^mongo-root-password=mathxh1234$/m);

  await server.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'needs-config' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'app',
          image: 'busybox:latest',
          command: ['sleep', '3600'],
          env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'mode' } } }],
        },
      ],
    },
  });
  const held = await waitStatus('needs-config', 'CreateContainerConfigError');
  assert.equal(held.ready, '0/1');
  assert.equal(
    await jsonpath('needs-config', '{.status.containerStatuses[0].state.waiting.message}'),
    'configmap "app-config" not found',
  );
  assert.equal(await jsonpath('needs-config', '{.status.phase}'), 'Pending');
  await waitEvent('needs-config', /Warning Failed Error: configmap "app-config" not found/);
  await server.kubectlOk(['create', 'configmap', 'app-config', '--from-literal=mode=fast']);
  await waitStatus('needs-config', 'Running', 30_000);
  const mode = await server.kubectlOk(['exec', 'needs-config', '--', 'sh', '-c', 'echo $MODE']);
  assert.equal(mode.trim(), 'fast');
});

test('a failing init container fails the pod under restartPolicy Never, and restarts with back-off otherwise', async () => {
  const podWith = (name: string, restartPolicy: string): unknown => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy,
      terminationGracePeriodSeconds: 1,
      initContainers: [{ name: 'init-fail', image: 'busybox:latest', command: ['sh', '-c', 'exit 3'] }],
      containers: [{ name: 'app', image: 'busybox:latest', command: ['sleep', '3600'] }],
    },
  });
  await server.apply(podWith('init-never', 'Never'));
  await server.apply(podWith('init-always', 'Always'));
  const failed = await waitStatus('init-never', 'Init:Error');
  assert.deepEqual(failed, { ready: '0/1', status: 'Init:Error', restarts: '0' });
  assert.equal(await jsonpath('init-never', '{.status.phase}'), 'Failed');
  assert.equal(
    await jsonpath('init-never', '{.status.initContainerStatuses[0].state.terminated.exitCode}'),
    '3',
  );
  const looping = await waitStatus('init-always', 'Init:CrashLoopBackOff', 30_000);
  assert.equal(looping.ready, '0/1');
  assert.match(looping.restarts, /^[1-9]\d* \(\d+s ago\)$/);
  assert.equal(await jsonpath('init-always', '{.status.phase}'), 'Pending');
  assert.equal(
    await jsonpath('init-always', '{.status.containerStatuses[0].state.waiting.reason}'),
    'PodInitializing',
  );
  await server.kubectlOk(['delete', 'pod', 'init-never', 'init-always', '--wait=false']);
});

test('a deleted pod shows Terminating for its grace period, with a Killing event', async () => {
  await server.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'slow-stop' },
    // sleep as PID 1 ignores SIGTERM: it goes at the end of the grace period.
    spec: {
      terminationGracePeriodSeconds: 3,
      containers: [{ name: 'app', image: 'busybox:latest', command: ['sleep', '3600'] }],
    },
  });
  await waitStatus('slow-stop', 'Running');
  const uid = await jsonpath('slow-stop', '{.metadata.uid}');
  const started = Date.now();
  await server.kubectlOk(['delete', 'pod', 'slow-stop', '--wait=false']);
  const r = await row('slow-stop');
  assert.equal(r?.status, 'Terminating');
  await waitFor('slow-stop gone', async () => ((await row('slow-stop')) ? undefined : true), 30_000);
  assert.ok(Date.now() - started >= 2500, `gone after ${Date.now() - started} ms, grace period 3 s`);
  const ev = await server.kubectlOk([
    'get',
    'events',
    '--field-selector',
    `involvedObject.uid=${uid}`,
    '-o',
    'jsonpath={range .items[*]}{.type} {.reason} {.message}{"\\n"}{end}',
  ]);
  assert.match(ev, /^Normal Killing Stopping container app$/m);
});

test("a Job's pod ends Completed and kubectl wait sees the Job complete", async () => {
  await server.kubectlOk([
    'create',
    'job',
    'hello',
    '--image=busybox:latest',
    '--',
    'sh',
    '-c',
    'echo hello from the job',
  ]);
  await server.kubectlOk(['wait', '--for=condition=complete', 'job/hello', '--timeout=60s'], {
    timeoutMs: 70_000,
  });
  const pods = await server.kubectlOk(['get', 'pods', '-l', 'job-name=hello', '--no-headers']);
  assert.match(pods, /^hello-\w+\s+0\/1\s+Completed\s+0\s/m);
  const jobs = await server.kubectlOk(['get', 'job', 'hello', '--no-headers']);
  assert.match(jobs, /^hello\s+Complete\s+1\/1\s/);
  assert.equal((await server.kubectlOk(['logs', 'job/hello'])).trim(), 'hello from the job');
});

test('bad input: an invalid image name ends in InvalidImageName with the reason in an event', async () => {
  await server.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bad-image' },
    spec: { containers: [{ name: 'app', image: 'Busybox:UPPER' }] },
  });
  const r = await waitStatus('bad-image', 'InvalidImageName');
  assert.equal(r.ready, '0/1');
  const message =
    'Failed to apply default image tag "Busybox:UPPER": couldn\'t parse image name "Busybox:UPPER": ' +
    'invalid reference format: repository name (library/Busybox) must be lowercase';
  assert.equal(await jsonpath('bad-image', '{.status.containerStatuses[0].state.waiting.message}'), message);
  const ev = await waitEvent('bad-image', /Error: InvalidImageName/);
  assert.ok(ev.includes(`Warning InspectFailed ${message}`), ev);
  assert.match(ev, /Warning Failed Error: InvalidImageName/);
});

test('bad input: a readiness probe on a closed port keeps the pod Running but 0/1, with Unhealthy events', async () => {
  await server.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'closed-port' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'app',
          image: 'busybox:latest',
          command: ['sleep', '3600'],
          readinessProbe: { tcpSocket: { port: 8089 }, periodSeconds: 1 },
        },
      ],
    },
  });
  const ev = await waitEvent('closed-port', /Unhealthy/);
  assert.match(
    ev,
    /Warning Unhealthy Readiness probe failed: dial tcp [\d.]+:8089: connect: connection refused/,
  );
  const r = await row('closed-port');
  assert.deepEqual(r, { ready: '0/1', status: 'Running', restarts: '0' });
  assert.equal(await jsonpath('closed-port', '{.status.conditions[?(@.type=="Ready")].status}'), 'False');
});

test('bad input: a container that exits 0 at once under restartPolicy Never ends Completed', async () => {
  await server.kubectlOk(['run', 'once', '--image=busybox:latest', '--restart=Never', '--', 'true']);
  const r = await waitStatus('once', 'Completed');
  assert.deepEqual(r, { ready: '0/1', status: 'Completed', restarts: '0' });
  assert.equal(await jsonpath('once', '{.status.phase}'), 'Succeeded');
  assert.equal(
    await jsonpath(
      'once',
      '{.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}',
    ),
    'Completed 0',
  );
  await server.kubectlOk(['run', 'once-failed', '--image=busybox:latest', '--restart=Never', '--', 'false']);
  const f = await waitStatus('once-failed', 'Error');
  assert.deepEqual(f, { ready: '0/1', status: 'Error', restarts: '0' });
  assert.equal(await jsonpath('once-failed', '{.status.phase}'), 'Failed');
});

test('bad input: an unknown volume type is refused by field validation (without it, dropped and defaulted to emptyDir)', async () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'odd-volume' },
    spec: {
      containers: [{ name: 'app', image: 'busybox:latest' }],
      volumes: [{ name: 'data', glusterfsx: { path: '/x' } }],
    },
  };
  const strict = await server.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
  assert.notEqual(strict.code, 0);
  assert.match(strict.stderr, /strict decoding error: unknown field "spec\.volumes\[0\]\.glusterfsx"/);
  // Without client or server field validation the unknown field is dropped, and a volume with no
  // source defaults to an emptyDir, as upstream's defaulting does.
  const lax = await server.kubectl(['create', '--validate=false', '-f', '-'], { input: JSON.stringify(pod) });
  assert.equal(lax.code, 0, lax.stderr);
  assert.equal(await jsonpath('odd-volume', '{.spec.volumes[0]}'), '{"emptyDir":{},"name":"data"}');
  await server.kubectlOk(['delete', 'pod', 'odd-volume', '--grace-period=0', '--force']);
});

test('a container that exits 1 at once goes into CrashLoopBackOff with a growing back-off', async () => {
  const watched = await crashWatch;
  if (watched instanceof Error) throw watched;
  const { statuses, restartAt, restartsText } = watched;
  assert.ok(statuses.has('CrashLoopBackOff'), [...statuses].join(','));
  assert.ok(statuses.has('Error'), [...statuses].join(','));
  assert.match(restartsText, /^\d+ \(\d+s ago\)$/);
  const gap1 = restartAt.get(2)! - restartAt.get(1)!;
  const gap2 = restartAt.get(3)! - restartAt.get(2)!;
  assert.ok(gap1 >= 8_000, `second restart ${gap1} ms after the first (back-off 10 s)`);
  assert.ok(gap2 > gap1 + 5_000, `back-off grows: ${gap1} ms then ${gap2} ms`);
  const uid = await jsonpath('crasher', '{.metadata.uid}');
  const ev = await waitEvent('crasher', /BackOff/);
  assert.ok(
    ev.includes(
      `Warning BackOff Back-off restarting failed container crasher in pod crasher_default(${uid})`,
    ),
    ev,
  );
  const last = await jsonpath(
    'crasher',
    '{.status.containerStatuses[0].lastState.terminated.reason} {.status.containerStatuses[0].lastState.terminated.exitCode}',
  );
  assert.equal(last, 'Error 1');
  const msg = await jsonpath('crasher', '{.status.containerStatuses[0].state.waiting.message}');
  if (msg)
    assert.match(
      msg,
      new RegExp(
        `^back-off (10|20|40)s restarting failed container=crasher pod=crasher_default\\(${uid}\\)$`,
      ),
    );
  const described = section(await server.kubectlOk(['describe', 'pod', 'crasher']), 'crasher');
  assert.match(described, /Last State:\s+Terminated\n\s+Reason:\s+Error\n\s+Exit Code:\s+1/);
  assert.match(described, /Restart Count:\s+[3-9]/);
  const previous = await server.kubectlOk(['logs', 'crasher', '--previous']);
  assert.equal(previous.trim(), 'crashing');
  await server.kubectlOk(['delete', 'pod', 'crasher', '--wait=false']);
});

// ---------------------------------------------------------------- agent restart (last: it replaces the server)

test('a k8ts server killed with SIGKILL and restarted adopts its running pod instead of restarting it', async () => {
  await server.kubectlOk(['run', 'survivor', '--image=wangyanglinux/myapp:v1']);
  await waitStatus('survivor', 'Running');
  const before = await jsonpath(
    'survivor',
    '{.status.containerStatuses[0].containerID} {.status.podIP} {.metadata.uid}',
  );
  const [containerID, podIP] = before.split(' ');
  assert.match(
    await fetch(`http://${podIP}/`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text()),
    /v1/,
  );

  await server.stop({ signal: 'SIGKILL', keepData: true });
  // The pod keeps serving while nothing manages it.
  assert.match(
    await fetch(`http://${podIP}/`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text()),
    /v1/,
  );
  server = await node.restart();
  // A new pod running proves the new agent syncs pods (it syncs every pod it finds at start).
  await server.kubectlOk(['run', 'newcomer', '--image=busybox:latest', '--', 'sleep', '3600']);
  await waitStatus('newcomer', 'Running');
  await new Promise((r) => setTimeout(r, 2000));
  const afterRestart = await jsonpath(
    'survivor',
    '{.status.containerStatuses[0].containerID} {.status.podIP} {.metadata.uid} {.status.containerStatuses[0].restartCount} {.status.phase}',
  );
  assert.equal(afterRestart, `${before} 0 Running`);
  assert.equal(containerID, afterRestart.split(' ')[0]);
  const r = await row('survivor');
  assert.deepEqual(r, { ready: '1/1', status: 'Running', restarts: '0' });
  assert.match(
    await fetch(`http://${podIP}/`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text()),
    /v1/,
  );
  const exec = await server.kubectlOk(['exec', 'survivor', '--', 'echo', 'still here']);
  assert.equal(exec.trim(), 'still here');
});
