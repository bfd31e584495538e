// Container probes, as the kubelet's pkg/kubelet/prober: one worker per probe of each running
// container (keyed by pod UID, container name and probe type, for one container ID), on its own
// timer every periodSeconds; a probe does nothing until initialDelaySeconds after the container
// started, and liveness and readiness wait for the startup probe to succeed. A result takes
// effect after successThreshold successes or failureThreshold failures in a row. A failed
// liveness (or startup) probe kills the container (the runtime restarts it as the restart policy
// says) and the worker holds until the container has a new ID. Readiness drives the container's
// ready flag (a container without a readiness probe is ready once it runs and has started), so the
// pod's ContainersReady and Ready conditions, and thus Endpoints, follow it.
import type { Container, Pod, Probe } from '../../api/generated/types.js';
import type { EventRecorder, ObjectReference } from '../../client/events.js';
import { createLogger, type Logger } from '../../util/log.js';
import type { RuntimeContainerStatus, RuntimePodStatus } from '../runtime.js';
import { execProbe, httpProbe, httpTarget, tcpProbe, tcpTarget, type ProbeResult } from './handlers.js';

export type ProbeType = 'liveness' | 'readiness' | 'startup';
export type ProbeState = 'success' | 'failure' | 'unknown';

/** What the prober needs from a container runtime (CriRuntime has both). */
export interface ProbeRuntime {
  /** Runs a command in a pod's running container within timeoutSeconds. */
  execSync(
    uid: string,
    containerName: string,
    cmd: string[],
    timeoutSeconds: number,
  ): Promise<{ exitCode: number; stdout: Uint8Array | string; stderr: Uint8Array | string }>;
  /** Stops a pod's running container (the next sync restarts it as its restart policy says). */
  killContainer(uid: string, containerName: string, gracePeriodSeconds: number): Promise<void>;
}

export function isProbeRuntime(r: object): r is ProbeRuntime {
  const o = r as Partial<ProbeRuntime>;
  return typeof o.execSync === 'function' && typeof o.killContainer === 'function';
}

export interface ProbeManagerOptions {
  runtime: ProbeRuntime;
  /** A probe result changed (or a container was killed): sync the pod again. */
  onChange(uid: string): void;
  /** Unhealthy and Killing events (absent: none). */
  recorder?: EventRecorder;
  /** Milliseconds per probe second (tests shorten it; default 1000). */
  secondMs?: number;
  now?: () => number;
  log?: Logger;
}

const LABEL: Record<ProbeType, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };
const TYPES: readonly ProbeType[] = ['startup', 'liveness', 'readiness'];

function probeOf(c: Container, type: ProbeType): Probe | undefined {
  return type === 'liveness' ? c.livenessProbe : type === 'readiness' ? c.readinessProbe : c.startupProbe;
}

function positive(v: number | undefined, dflt: number): number {
  return v !== undefined && v > 0 ? v : dflt;
}

class Worker {
  /** The result in effect (readiness starts failed, liveness passing, startup unknown). */
  result: ProbeState;
  private lastResult: ProbeState = 'unknown';
  private resultRun = 0;
  private onHold = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  stopped = false;

  constructor(
    private readonly m: ProbeManager,
    readonly pod: Pod,
    readonly container: Container,
    readonly type: ProbeType,
    readonly probe: Probe,
    readonly containerID: string,
    readonly startedAt: number,
    private readonly podIP: string,
  ) {
    this.result = type === 'readiness' ? 'failure' : type === 'liveness' ? 'success' : 'unknown';
  }

  start(): void {
    const period = positive(this.probe.periodSeconds, 10) * this.m.secondMs;
    this.timer = setInterval(() => void this.tick(), period);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      await this.doProbe();
    } catch (e) {
      this.m.log.warn('probe worker failed', {
        container: this.container.name,
        type: this.type,
        err: String(e),
      });
    } finally {
      this.running = false;
    }
  }

  /** One probe, as upstream's worker.doProbe. */
  async doProbe(): Promise<void> {
    if (this.onHold || this.stopped) return;
    const uid = this.pod.metadata.uid ?? '';
    const started = this.m.isStarted(uid, this.container.name, this.containerID);
    if (this.type === 'startup' && started) return;
    if (this.type !== 'startup' && !started) return;
    const delay = (this.probe.initialDelaySeconds ?? 0) * this.m.secondMs;
    if (this.m.now() - this.startedAt < delay) return;

    let r: ProbeResult;
    try {
      r = await this.run(uid);
    } catch (e) {
      // The probe could not run: the result is thrown away (upstream's "probe errored"). A
      // container that just stopped is not worth an event: the next sync stops this worker.
      const msg = e instanceof Error ? e.message : String(e);
      if (this.stopped || /is not running/.test(msg)) return;
      this.m.event(
        this.pod,
        this.container,
        'Warning',
        'Unhealthy',
        `${LABEL[this.type]} probe errored: ${msg}`,
      );
      return;
    }
    if (this.stopped) return;
    if (r.result === 'failure')
      this.m.event(
        this.pod,
        this.container,
        'Warning',
        'Unhealthy',
        `${LABEL[this.type]} probe failed: ${r.output}`,
      );

    if (this.lastResult === r.result) this.resultRun++;
    else {
      this.lastResult = r.result;
      this.resultRun = 1;
    }
    if (
      (r.result === 'failure' && this.resultRun < positive(this.probe.failureThreshold, 3)) ||
      (r.result === 'success' && this.resultRun < positive(this.probe.successThreshold, 1))
    )
      return;
    const changed = this.result !== r.result;
    this.result = r.result;
    if (r.result === 'failure' && (this.type === 'liveness' || this.type === 'startup')) {
      // Kill the container; probing holds until it comes back with a new ID.
      this.onHold = true;
      this.resultRun = 0;
      await this.m.kill(this.pod, this.container, this.type, this.probe);
      return;
    }
    if (changed) this.m.changed(uid);
  }

  private run(uid: string): Promise<ProbeResult> {
    const timeout = positive(this.probe.timeoutSeconds, 1);
    const p = this.probe;
    if (p.exec)
      return execProbe(
        (cmd, t) => this.m.runtime.execSync(uid, this.container.name, cmd, t),
        p.exec.command ?? [],
        timeout,
      );
    const timeoutMs = (timeout * this.m.secondMs) / 1000;
    if (p.httpGet) return httpProbe(httpTarget(p.httpGet, this.container, this.podIP), timeoutMs);
    if (p.tcpSocket) {
      const t = tcpTarget(p.tcpSocket, this.container, this.podIP);
      return tcpProbe(t.host, t.port, timeoutMs);
    }
    return Promise.reject(new Error('missing probe handler'));
  }
}

export class ProbeManager {
  /** Workers by `<uid>/<container>/<type>`. */
  private readonly workers = new Map<string, Worker>();
  readonly runtime: ProbeRuntime;
  readonly secondMs: number;
  readonly now: () => number;
  readonly log: Logger;
  private closed = false;

  constructor(private readonly opts: ProbeManagerOptions) {
    this.runtime = opts.runtime;
    this.secondMs = opts.secondMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? createLogger('agent.prober');
  }

  private key(uid: string, container: string, type: ProbeType): string {
    return `${uid}/${container}/${type}`;
  }

  /** The worker of one probe, if it runs (tests). */
  worker(uid: string, container: string, type: ProbeType): Worker | undefined {
    return this.workers.get(this.key(uid, container, type));
  }

  /** Whether the container (this ID of it) passed its startup probe, or has none. */
  isStarted(uid: string, container: string, containerID: string): boolean {
    const w = this.workers.get(this.key(uid, container, 'startup'));
    if (!w) return true;
    return w.containerID === containerID && w.result === 'success';
  }

  /**
   * Starts or stops the pod's probe workers to match what runs, and sets each running container's
   * started and ready flags from their results.
   */
  update(pod: Pod, status: RuntimePodStatus): void {
    const uid = pod.metadata.uid ?? '';
    const podIP = status.podIPs[0] ?? '';
    const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
    const apply = (spec: Container, s: RuntimeContainerStatus | undefined): void => {
      const running = s !== undefined && s.phase === 'running' && s.containerID !== undefined;
      for (const type of TYPES) {
        const key = this.key(uid, spec.name, type);
        const w = this.workers.get(key);
        const probe = probeOf(spec, type);
        if (!running || !probe || (w && w.containerID !== s.containerID)) {
          w?.stop();
          this.workers.delete(key);
        }
        if (running && probe && !this.workers.has(key) && !this.closed) {
          const nw = new Worker(
            this,
            pod,
            spec,
            type,
            probe,
            s.containerID ?? '',
            s.startedAt ?? this.now(),
            podIP,
          );
          this.workers.set(key, nw);
          nw.start();
        }
      }
      if (!s) return;
      if (!running) {
        s.started = false;
        s.ready = false;
        return;
      }
      s.started = this.isStarted(uid, spec.name, s.containerID ?? '');
      const rw = this.workers.get(this.key(uid, spec.name, 'readiness'));
      s.ready = s.started && (rw === undefined || rw.result === 'success');
    };
    const init = new Map(status.initContainers.map((c) => [c.name, c]));
    for (const c of sidecars) apply(c, init.get(c.name));
    const byName = new Map(status.containers.map((c) => [c.name, c]));
    for (const c of pod.spec?.containers ?? []) apply(c, byName.get(c.name));
  }

  /** Stops every worker of a pod (it is being killed or is gone). */
  forget(uid: string): void {
    const prefix = `${uid}/`;
    for (const [k, w] of this.workers)
      if (k.startsWith(prefix)) {
        w.stop();
        this.workers.delete(k);
      }
  }

  stop(): void {
    this.closed = true;
    for (const w of this.workers.values()) w.stop();
    this.workers.clear();
  }

  changed(uid: string): void {
    if (!this.closed) this.opts.onChange(uid);
  }

  event(pod: Pod, c: Container, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.opts.recorder) return;
    const sidecar = (pod.spec?.initContainers ?? []).some((x) => x.name === c.name);
    const ref: ObjectReference = {
      kind: 'Pod',
      apiVersion: 'v1',
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      fieldPath: `spec.${sidecar ? 'initContainers' : 'containers'}{${c.name}}`,
    };
    this.opts.recorder.event(ref, type, reason, message);
  }

  async kill(pod: Pod, c: Container, type: ProbeType, probe: Probe): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const restart = (pod.spec?.restartPolicy ?? 'Always') !== 'Never' || c.restartPolicy === 'Always';
    const msg = `Container ${c.name} failed ${type} probe${restart ? ', will be restarted' : ''}`;
    this.event(pod, c, 'Normal', 'Killing', msg);
    this.log.info('killing container that failed its probe', {
      pod: `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`,
      container: c.name,
      probe: type,
    });
    const grace = probe.terminationGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    try {
      await this.opts.runtime.killContainer(uid, c.name, grace);
    } catch (e) {
      this.log.warn('could not kill container', { container: c.name, err: String(e) });
    }
    this.changed(uid);
  }
}
