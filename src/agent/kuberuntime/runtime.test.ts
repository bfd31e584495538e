// The CRI runtime against an in-memory CRI: the events kubelet records while starting containers,
// a crashed container showing its exit (Error) before CrashLoopBackOff, and PodInitializing for
// the containers of a pod whose init containers have not finished.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Pod } from '../../api/generated/types.js';
import type { EventRecorder, ObjectReference } from '../../client/events.js';
import type { CriClient } from '../cri/client.js';
import type {
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStatus,
  Image,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
} from '../cri/types.js';
import type { NodeRuntimeContext, RuntimeContainerStatus } from '../runtime.js';
import { CriRuntime } from './runtime.js';

const ms = (t: number): bigint => BigInt(t) * 1_000_000n;

function matches(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** Just enough of containerd's CRI: containers exit at once with the code exitCodes gives their name. */
class FakeCri {
  readonly sandboxes = new Map<string, PodSandbox>();
  readonly containers = new Map<string, { sandboxId: string; status: ContainerStatus }>();
  private next = 0;
  constructor(
    private readonly clock: () => number,
    private readonly exitCodes: Map<string, number>,
  ) {}

  version(): Promise<{ runtimeName: string; runtimeVersion: string }> {
    return Promise.resolve({ runtimeName: 'containerd', runtimeVersion: 'test' });
  }
  runPodSandbox(cfg: PodSandboxConfig): Promise<string> {
    const id = `sb${this.next++}`;
    this.sandboxes.set(id, {
      id,
      metadata: cfg.metadata,
      state: 'SANDBOX_READY',
      createdAt: ms(this.clock()),
      labels: cfg.labels ?? {},
      annotations: cfg.annotations ?? {},
      runtimeHandler: '',
    });
    return Promise.resolve(id);
  }
  listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    return Promise.resolve(
      [...this.sandboxes.values()].filter((s) => matches(s.labels, filter.labelSelector)),
    );
  }
  podSandboxStatus(
    id: string,
  ): Promise<{ status: PodSandbox & { ip: string; additionalIps: string[] }; info: Record<string, string> }> {
    const s = this.sandboxes.get(id);
    if (!s) return Promise.reject(new Error(`sandbox ${id} not found`));
    return Promise.resolve({ status: { ...s, ip: '192.0.2.10', additionalIps: [] }, info: {} });
  }
  stopPodSandbox(id: string): Promise<void> {
    const s = this.sandboxes.get(id);
    if (s) s.state = 'SANDBOX_NOTREADY';
    return Promise.resolve();
  }
  removePodSandbox(id: string): Promise<void> {
    this.sandboxes.delete(id);
    return Promise.resolve();
  }
  createContainer(sandboxId: string, cfg: ContainerConfig): Promise<string> {
    const id = `c${this.next++}`;
    this.containers.set(id, {
      sandboxId,
      status: {
        id,
        metadata: cfg.metadata,
        state: 'CONTAINER_CREATED',
        createdAt: ms(this.clock()) + BigInt(this.next),
        startedAt: 0n,
        finishedAt: 0n,
        exitCode: 0,
        image: cfg.image.image,
        imageRef: 'sha256:feed',
        reason: '',
        message: '',
        labels: cfg.labels ?? {},
        annotations: cfg.annotations ?? {},
        mounts: [],
        logPath: '',
      },
    });
    return Promise.resolve(id);
  }
  startContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return Promise.reject(new Error(`container ${id} not found`));
    const st = c.status;
    st.startedAt = ms(this.clock());
    const code = this.exitCodes.get(st.metadata.name);
    if (code === undefined) st.state = 'CONTAINER_RUNNING';
    else {
      st.state = 'CONTAINER_EXITED';
      st.finishedAt = st.startedAt;
      st.exitCode = code;
      st.reason = code === 0 ? 'Completed' : 'Error';
    }
    return Promise.resolve();
  }
  listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    return Promise.resolve(
      [...this.containers.values()]
        .filter((c) => matches(c.status.labels, filter.labelSelector))
        .map((c) => ({ ...c.status, podSandboxId: c.sandboxId })),
    );
  }
  containerStatus(id: string): Promise<ContainerStatus> {
    const c = this.containers.get(id);
    return c ? Promise.resolve({ ...c.status }) : Promise.reject(new Error(`container ${id} not found`));
  }
  stopContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c && c.status.state === 'CONTAINER_RUNNING') {
      c.status.state = 'CONTAINER_EXITED';
      c.status.finishedAt = ms(this.clock());
      c.status.exitCode = 137;
      c.status.reason = 'Error';
    }
    return Promise.resolve();
  }
  removeContainer(id: string): Promise<void> {
    this.containers.delete(id);
    return Promise.resolve();
  }
  imageStatus(ref: string): Promise<Image | undefined> {
    return Promise.resolve({
      id: `sha256:${ref.length}`,
      repoTags: [ref],
      repoDigests: [],
      size: 1,
      uid: undefined,
      username: '',
      pinned: false,
    });
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-criruntime-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
const node: NodeRuntimeContext = { nodeName: 'n1', hostIP: '192.0.2.1' };

function setup(exitCodes: Record<string, number>): {
  rt: CriRuntime;
  events: string[];
  clock: { t: number };
} {
  const clock = { t: 1_700_000_000_000 };
  const cri = new FakeCri(() => clock.t, new Map(Object.entries(exitCodes)));
  const rt = new CriRuntime({
    client: cri as unknown as CriClient,
    dataDir,
    source: { configMap: () => Promise.resolve(undefined), secret: () => Promise.resolve(undefined) },
    capacity: { milliCPU: 2000, memoryBytes: 2 ** 30 },
    now: () => clock.t,
  });
  const events: string[] = [];
  const recorder: EventRecorder = {
    event: (obj, type, reason, message) =>
      events.push(`${(obj as ObjectReference).fieldPath ?? ''} ${type} ${reason} ${message}`),
    annotatedEvent: () => undefined,
  };
  rt.setEventRecorder(recorder);
  return { rt, events, clock };
}

let podCount = 0;
function pod(spec: NonNullable<Pod['spec']>): Pod {
  podCount++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${podCount}`, namespace: 'default', uid: `uid-${podCount}` },
    spec,
  };
}

const app = (s: { containers: RuntimeContainerStatus[] }): RuntimeContainerStatus => s.containers[0]!;

describe('CriRuntime', () => {
  it("records kubelet's events for a container it starts", async () => {
    const { rt, events } = setup({});
    const p = pod({ containers: [{ name: 'web', image: 'busybox:1.36' }] });
    const r = await rt.syncPod(p, node);
    assert.equal(app(r.status).phase, 'running');
    assert.deepEqual(events, [
      'spec.containers{web} Normal Pulled Container image "busybox:1.36" already present on machine',
      'spec.containers{web} Normal Created Created container web',
      'spec.containers{web} Normal Started Started container web',
    ]);
    events.length = 0;
    await rt.killPod(p, 0, node);
    assert.deepEqual(events, ['spec.containers{web} Normal Killing Stopping container web']);
  });

  it('shows a crashed container as Error for a moment, then CrashLoopBackOff with a BackOff event', async () => {
    const { rt, events, clock } = setup({ crash: 1 });
    const p = pod({ containers: [{ name: 'crash', image: 'busybox:1.36' }] });
    const uid = p.metadata.uid ?? '';
    // The first exit restarts at once (kubelet's back-off starts after it).
    let s = app((await rt.syncPod(p, node)).status);
    assert.equal(s.phase, 'terminated');
    clock.t += 100;
    s = app((await rt.syncPod(p, node)).status);
    assert.equal(s.restartCount, 1);
    // The second exit waits 10 s: first its exit shows, whatever syncs happen meanwhile ...
    clock.t += 100;
    const r = await rt.syncPod(p, node);
    s = app(r.status);
    assert.equal(s.phase, 'terminated');
    assert.equal(s.termination?.reason, 'Error');
    assert.ok(r.requeueAfterMs !== undefined && r.requeueAfterMs <= 1000);
    clock.t += 100;
    s = app((await rt.syncPod(p, node)).status);
    assert.equal(s.phase, 'terminated');
    // ... then CrashLoopBackOff, once.
    clock.t += 1000;
    s = app((await rt.syncPod(p, node)).status);
    assert.equal(s.phase, 'waiting');
    assert.equal(s.waitingReason, 'CrashLoopBackOff');
    assert.equal(
      s.waitingMessage,
      `back-off 10s restarting failed container=crash pod=${p.metadata.name}_default(${uid})`,
    );
    assert.equal(s.lastTermination?.exitCode, 1);
    clock.t += 1000;
    await rt.syncPod(p, node);
    const backoffs = events.filter((e) => e.includes(' BackOff '));
    assert.deepEqual(backoffs, [
      `spec.containers{crash} Warning BackOff Back-off restarting failed container crash in pod ${p.metadata.name}_default(${uid})`,
    ]);
    // After the 10 s it starts again.
    clock.t += 10_000;
    s = app((await rt.syncPod(p, node)).status);
    assert.equal(s.restartCount, 2);
    await rt.removePod(uid);
  });

  it('reports PodInitializing for every container not created yet in a pod with init containers', async () => {
    const { rt, events } = setup({});
    const p = pod({
      initContainers: [
        { name: 'init-a', image: 'busybox:1.36' },
        { name: 'init-b', image: 'busybox:1.36' },
      ],
      containers: [{ name: 'main', image: 'busybox:1.36' }],
    });
    const st = (await rt.syncPod(p, node)).status;
    assert.equal(st.initContainers[0]?.phase, 'running');
    assert.equal(st.initContainers[1]?.waitingReason, 'PodInitializing');
    assert.equal(app(st).waitingReason, 'PodInitializing');
    assert.ok(
      events.includes('spec.initContainers{init-a} Normal Started Started container init-a'),
      events.join('\n'),
    );
    await rt.removePod(p.metadata.uid ?? '');
  });

  it('an invalid image name: InspectFailed, then Failed "Error: InvalidImageName"', async () => {
    const { rt, events } = setup({});
    const p = pod({ containers: [{ name: 'bad', image: 'Busybox:UPPER' }] });
    const s = app((await rt.syncPod(p, node)).status);
    assert.equal(s.waitingReason, 'InvalidImageName');
    assert.deepEqual(
      events.map((e) => e.split(' ').slice(1, 3).join(' ')),
      ['Warning InspectFailed', 'Warning Failed'],
    );
    assert.equal(events[1], 'spec.containers{bad} Warning Failed Error: InvalidImageName');
    await rt.removePod(p.metadata.uid ?? '');
  });
});
