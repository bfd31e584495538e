import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import type { Container, Pod } from '../../api/generated/types.js';
import type { EventRecorder, EventType, ObjectReference } from '../../client/events.js';
import type { KubeObject } from '../../api/meta.js';
import type { RuntimePodStatus } from '../runtime.js';
import { httpProbe, httpTarget, tcpProbe } from './handlers.js';
import { ProbeManager, type ProbeRuntime } from './prober.js';

class FakeProbeRuntime implements ProbeRuntime {
  /** Exit code by the command's first word (default 0). */
  exit = new Map<string, number>();
  calls: string[] = [];
  kills: { container: string; grace: number }[] = [];
  execSync(
    _uid: string,
    _container: string,
    cmd: string[],
  ): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const name = cmd[0] ?? '';
    this.calls.push(name);
    const code = this.exit.get(name) ?? 0;
    return Promise.resolve({ exitCode: code, stdout: code === 0 ? '' : `${name} said no`, stderr: '' });
  }
  killContainer(_uid: string, container: string, grace: number): Promise<void> {
    this.kills.push({ container, grace });
    return Promise.resolve();
  }
}

interface Recorded {
  type: EventType;
  reason: string;
  message: string;
  fieldPath?: string;
}

function recorder(out: Recorded[]): EventRecorder {
  const event = (
    obj: KubeObject | ObjectReference,
    type: EventType,
    reason: string,
    message: string,
  ): void => {
    out.push({ type, reason, message, fieldPath: (obj as ObjectReference).fieldPath });
  };
  return { event, annotatedEvent: (obj, _a, type, reason, message) => event(obj, type, reason, message) };
}

function pod(container: Partial<Container>, restartPolicy = 'Always'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { restartPolicy, containers: [{ name: 'app', image: 'busybox', ...container }] },
  };
}

function status(
  containerID = 'containerd://c1',
  phase: 'running' | 'terminated' = 'running',
): RuntimePodStatus {
  return {
    sandboxReady: true,
    podIPs: ['127.0.0.1'],
    initContainers: [],
    containers: [
      {
        name: 'app',
        image: 'busybox',
        imageID: '',
        containerID,
        phase,
        startedAt: Date.now(),
        restartCount: 0,
        ready: true,
        started: true,
      },
    ],
  };
}

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const exec = (cmd: string): { exec: { command: string[] } } => ({ exec: { command: [cmd] } });

describe('ProbeManager', () => {
  let manager: ProbeManager | undefined;
  afterEach(() => manager?.stop());

  function setup(events: Recorded[] = []): { rt: FakeProbeRuntime; changes: string[]; m: ProbeManager } {
    const rt = new FakeProbeRuntime();
    const changes: string[] = [];
    manager = new ProbeManager({
      runtime: rt,
      onChange: (uid) => changes.push(uid),
      recorder: recorder(events),
      secondMs: 10,
    });
    return { rt, changes, m: manager };
  }

  test('a running container without a readiness probe is ready; a stopped one is not', () => {
    const { m } = setup();
    const p = pod({});
    const s = status();
    m.update(p, s);
    assert.equal(s.containers[0]!.ready, true);
    assert.equal(s.containers[0]!.started, true);
    const t = status('containerd://c1', 'terminated');
    m.update(p, t);
    assert.equal(t.containers[0]!.ready, false);
  });

  test('readiness follows success and failure thresholds', async () => {
    const events: Recorded[] = [];
    const { rt, changes, m } = setup(events);
    const p = pod({
      readinessProbe: { ...exec('ready'), periodSeconds: 5, successThreshold: 3, failureThreshold: 2 },
    });
    const s = status();
    m.update(p, s);
    assert.equal(s.containers[0]!.ready, false, 'not ready before the probe passes');
    await waitFor(() => rt.calls.length >= 1);
    m.update(p, s);
    assert.equal(s.containers[0]!.ready, false, 'one success is not enough');
    await waitFor(() => changes.length === 1);
    assert.ok(rt.calls.length >= 3);
    m.update(p, s);
    assert.equal(s.containers[0]!.ready, true);

    rt.exit.set('ready', 1);
    const before = rt.calls.length;
    await waitFor(() => rt.calls.length >= before + 1);
    m.update(p, s);
    assert.equal(s.containers[0]!.ready, true, 'one failure is not enough');
    await waitFor(() => changes.length === 2);
    m.update(p, s);
    assert.equal(s.containers[0]!.ready, false);
    const unhealthy = events.find((e) => e.reason === 'Unhealthy');
    assert.deepEqual(unhealthy, {
      type: 'Warning',
      reason: 'Unhealthy',
      message: 'Readiness probe failed: ready said no',
      fieldPath: 'spec.containers{app}',
    });
  });

  test('nothing is probed before initialDelaySeconds', async () => {
    const { rt, m } = setup();
    const p = pod({ readinessProbe: { ...exec('ready'), periodSeconds: 1, initialDelaySeconds: 30 } });
    m.update(p, status());
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(rt.calls.length, 0);
    await waitFor(() => rt.calls.length > 0);
  });

  test('the startup probe gates liveness and readiness', async () => {
    const { rt, changes, m } = setup();
    rt.exit.set('startup', 1);
    const p = pod({
      startupProbe: { ...exec('startup'), periodSeconds: 1, failureThreshold: 1000 },
      livenessProbe: { ...exec('live'), periodSeconds: 1 },
      readinessProbe: { ...exec('ready'), periodSeconds: 1 },
    });
    const s = status();
    m.update(p, s);
    await waitFor(() => rt.calls.length >= 4);
    assert.deepEqual(new Set(rt.calls), new Set(['startup']));
    m.update(p, s);
    assert.equal(s.containers[0]!.started, false);
    assert.equal(s.containers[0]!.ready, false);

    rt.exit.set('startup', 0);
    await waitFor(() => changes.length >= 1);
    m.update(p, s);
    assert.equal(s.containers[0]!.started, true);
    await waitFor(() => rt.calls.includes('live') && rt.calls.includes('ready') && changes.length >= 2);
    m.update(p, s);
    assert.equal(s.containers[0]!.ready, true);
    const startups = rt.calls.filter((c) => c === 'startup').length;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(rt.calls.filter((c) => c === 'startup').length, startups, 'startup stops once it passed');
  });

  test('a failing liveness probe kills the container once, then waits for a new one', async () => {
    const events: Recorded[] = [];
    const { rt, changes, m } = setup(events);
    rt.exit.set('live', 1);
    const p = pod({
      livenessProbe: { ...exec('live'), periodSeconds: 1, failureThreshold: 2 },
      readinessProbe: undefined,
    });
    p.spec!.terminationGracePeriodSeconds = 7;
    const s = status();
    m.update(p, s);
    await waitFor(() => rt.kills.length === 1);
    assert.deepEqual(rt.kills, [{ container: 'app', grace: 7 }]);
    assert.ok(changes.includes('u1'));
    const calls = rt.calls.length;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(rt.calls.length, calls, 'on hold after the kill');
    assert.equal(rt.kills.length, 1);
    assert.deepEqual(
      events.map((e) => [e.type, e.reason, e.message]),
      [
        ['Warning', 'Unhealthy', 'Liveness probe failed: live said no'],
        ['Warning', 'Unhealthy', 'Liveness probe failed: live said no'],
        ['Normal', 'Killing', 'Container app failed liveness probe, will be restarted'],
      ],
    );
    // The restarted container (a new ID) is probed again.
    m.update(p, status('containerd://c2'));
    await waitFor(() => rt.calls.length > calls);
    m.forget('u1');
    assert.equal(m.worker('u1', 'app', 'liveness'), undefined);
  });

  test('with restartPolicy Never the Killing event does not promise a restart', async () => {
    const events: Recorded[] = [];
    const { rt, m } = setup(events);
    rt.exit.set('live', 1);
    m.update(
      pod({ livenessProbe: { ...exec('live'), periodSeconds: 1, failureThreshold: 1 } }, 'Never'),
      status(),
    );
    await waitFor(() => rt.kills.length === 1);
    assert.equal(events.find((e) => e.reason === 'Killing')?.message, 'Container app failed liveness probe');
  });
});

describe('probe handlers', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function listen(code: number): Promise<number> {
    server = createServer((req, res) => {
      res.statusCode = req.headers['x-probe'] === 'yes' ? code : 418;
      res.end(req.url ?? '');
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  test('httpGet: 2xx/3xx pass, others fail; named ports and headers', async () => {
    const port = await listen(200);
    const c: Container = { name: 'app', ports: [{ name: 'web', containerPort: port }] };
    const t = httpTarget(
      { port: 'web', path: '/healthz', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] },
      c,
      '127.0.0.1',
    );
    assert.deepEqual(await httpProbe(t, 1), { result: 'success', output: '/healthz' });
    const bad = httpTarget({ port }, c, '127.0.0.1');
    assert.deepEqual(await httpProbe(bad, 1), {
      result: 'failure',
      output: 'HTTP probe failed with statuscode: 418',
    });
  });

  test('httpGet and tcpSocket on a closed port fail with connection refused', async () => {
    const s = createTcpServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    assert.equal((await tcpProbe('127.0.0.1', port, 1)).result, 'success');
    await new Promise<void>((r) => s.close(() => r()));
    assert.deepEqual(await tcpProbe('127.0.0.1', port, 1), {
      result: 'failure',
      output: `dial tcp 127.0.0.1:${port}: connect: connection refused`,
    });
    const h = await httpProbe(httpTarget({ port }, { name: 'app' }, '127.0.0.1'), 1);
    assert.equal(h.result, 'failure');
    assert.equal(
      h.output,
      `Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
  });
});
