// The CRI-backed PodRuntime: what kubelet's kuberuntime manager does, one level-triggered pass
// per syncPod. Everything it needs to know is read back from the runtime (sandboxes and
// containers carry the pod's UID and the container's name and attempt), so an agent that
// restarts adopts its pods as they are. A pass: make sure a ready sandbox exists (a new one, with
// the next attempt number, if the last one died), prepare the volumes, run the init containers
// one at a time to success, then start or restart the app containers per the restart policy with
// kubelet's crash back-off, and report every container's state with Kubernetes' reasons.
import { forgetNeighbours } from '../cni/cni.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, Pod } from '../../api/generated/types.js';
import type { EventRecorder, EventType } from '../../client/events.js';
import { createLogger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { runtimePaths } from '../containerd/paths.js';
import { isCriNotFound, type CriClient } from '../cri/client.js';
import type {
  ContainerStatus as CriContainerStatus,
  ExecSyncResult,
  PodSandbox,
  PodSandboxConfig,
} from '../cri/types.js';
import { normalizeImageRef } from '../images/oci.js';
import type {
  ContainerTermination,
  NodeRuntimeContext,
  PodKillResult,
  PodRuntime,
  PodSyncResult,
  RunningPod,
  RuntimeContainerStatus,
  RuntimePodStatus,
} from '../runtime.js';
import { containerConfig, containerHash } from './container.js';
import {
  buildEnv,
  ContainerConfigError,
  hostCapacity,
  type NodeCapacity,
  type PodObjectSource,
  type PodRuntimeFacts,
} from './env.js';
import { grpcErrorText, grpcStatusMessage } from './cri-errors.js';
import { runHook } from './hooks.js';
import { ImageManager } from './images.js';
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_CONTAINER_TYPE,
  ANNOTATION_NODE_NAME,
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_FILE,
  ANNOTATION_TERMINATION_MESSAGE_POLICY,
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  type ContainerType,
} from './labels.js';
import { etcHostsContent, sandboxConfig, type DnsSettings } from './sandbox.js';
import { VolumeError, VolumeManager } from './volumes.js';

const log = createLogger('kuberuntime');
const sandboxStarts = metrics.histogram(
  'k8ts_kuberuntime_sandbox_start_seconds',
  'Time to create and start a pod sandbox.',
);
const containerStarts = metrics.histogram(
  'k8ts_kuberuntime_container_start_seconds',
  'Time to create and start a container (after its image is present).',
);
const startFailures = metrics.counter(
  'k8ts_kuberuntime_start_failures_total',
  'Sandboxes and containers that failed to start, by reason.',
);

export const CRASH_BACKOFF_BASE_MS = 10_000;
export const CRASH_BACKOFF_MAX_MS = 300_000;
/** Longest wait between attempts to create a sandbox or set up its volumes (1 s doubling). */
const SANDBOX_RETRY_MAX_MS = 30_000;
/** A container that ran this long without exiting resets its back-off (kubelet: 10 minutes). */
const BACKOFF_RESET_MS = 600_000;
/** How long volume contents (ConfigMaps, Secrets, downward API) may be stale. */
const VOLUME_REFRESH_MS = 60_000;
/** How often a pod with running containers is looked at again (kubelet's PLEG relists each second). */
const DEFAULT_RELIST_MS = 1000;
/** A quicker look while an init container runs or something was just started. */
const QUICK_RELIST_MS = 250;
/** Exited statuses kept per container name: the current attempt and the one before (lastState). */
const KEEP_ATTEMPTS = 2;
/**
 * A crashed container shows its exit (STATUS Error) this long before it shows CrashLoopBackOff,
 * as kubelet's status, written before the sync that decides on the back-off, shows it.
 */
const SHOW_EXIT_MS = 1000;

export interface CriRuntimeOptions {
  client: CriClient;
  /** The agent's data dir (pod volumes and container logs go under it). */
  dataDir: string;
  /** The API objects pods refer to (ConfigMaps, Secrets, service account tokens). */
  source: PodObjectSource;
  dns?: Partial<DnsSettings>;
  capacity?: NodeCapacity;
  now?: () => number;
  /** Relist interval for pods with running containers. */
  relistMs?: number;
  /** Called with the node's podCIDR when a sync first sees it (or it changes): writes the CNI config. */
  configureNetwork?: (podCIDR: string) => void;
  /** The podCIDR the CNI config was already written for (a --pod-cidr given at start). */
  networkConfiguredFor?: string;
}

/** What the kubelet reports while the runtime has no pod network (containerd without a CNI config). */
export const NETWORK_NOT_READY_MESSAGE =
  'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';
/** How long to wait for containerd to load a new CNI config. */
const NETWORK_READY_TIMEOUT_MS = 10_000;

interface Waiting {
  reason: string;
  message?: string;
  /** When to try again (image pull back-off). */
  retryAfterMs?: number;
}

interface CrashBackoff {
  /** The finishedAt (ns) of the exit this entry is about. */
  exit: bigint;
  /** No restart before this time (ms). */
  until: number;
  /** The delay the next exit will get. */
  nextDelayMs: number;
  /** Until then the exit itself shows (STATUS Error), then CrashLoopBackOff. */
  showExitUntil: number;
  /** The wait was reported (its BackOff event). */
  announced: boolean;
}

interface PodMemo {
  waiting: Map<string, Waiting>;
  crash: Map<string, CrashBackoff>;
  volumes?: Map<string, string>;
  volumesAt: number;
  sandboxError?: Waiting;
  sandboxRetryAt: number;
  sandboxBackoffMs: number;
  /** Sandbox id → its IPs (they never change for a sandbox). */
  ips: Map<string, string[]>;
}

/** A container as seen in the runtime, with what we need to decide and report. */
interface Seen {
  status: CriContainerStatus;
  sandboxId: string;
  attempt: number;
  type: ContainerType;
  terminationMessage?: string;
}

function nsToMs(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

function byNewest(a: { createdAt: bigint }, b: { createdAt: bigint }): number {
  return a.createdAt > b.createdAt ? -1 : a.createdAt < b.createdAt ? 1 : 0;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

export class CriRuntime implements PodRuntime {
  readonly type = 'containerd';
  private readonly client: CriClient;
  private readonly source: PodObjectSource;
  private readonly images: ImageManager;
  private readonly volumes: VolumeManager;
  private readonly logsDir: string;
  private readonly dns: DnsSettings;
  private readonly capacity: NodeCapacity;
  private readonly now: () => number;
  private readonly relistMs: number;
  private readonly memos = new Map<string, PodMemo>();
  /** Exited container statuses never change: keep them (by container id). */
  private readonly exitedCache = new Map<string, Seen>();
  private runtimeVersion = 'containerd://unknown';
  private readonly configureNetwork: ((podCIDR: string) => void) | undefined;
  private networkFor: string | undefined;
  private recorder: EventRecorder | undefined;

  constructor(opts: CriRuntimeOptions) {
    this.client = opts.client;
    this.source = opts.source;
    this.now = opts.now ?? Date.now;
    this.images = new ImageManager(opts.client, opts.source, this.now);
    const paths = runtimePaths(opts.dataDir);
    this.volumes = new VolumeManager(paths.podsDir, opts.source);
    this.logsDir = paths.podLogsDir;
    this.dns = {
      clusterDNS: opts.dns?.clusterDNS ?? [],
      clusterDomain: opts.dns?.clusterDomain ?? 'cluster.local',
      resolvConf: opts.dns?.resolvConf,
    };
    this.capacity = opts.capacity ?? hostCapacity();
    this.relistMs = opts.relistMs ?? DEFAULT_RELIST_MS;
    this.configureNetwork = opts.configureNetwork;
    this.networkFor = opts.networkConfiguredFor;
  }

  /** Creates the runtime and learns the runtime's name and version for the node status. */
  static async create(opts: CriRuntimeOptions): Promise<CriRuntime> {
    const rt = new CriRuntime(opts);
    const v = await opts.client.version();
    rt.runtimeVersion = `${v.runtimeName}://${v.runtimeVersion}`;
    return rt;
  }

  version(): string {
    return this.runtimeVersion;
  }

  /** Where the kubelet's pod and container events (Pulling, Created, Started, BackOff ...) go. */
  setEventRecorder(recorder: EventRecorder): void {
    this.recorder = recorder;
  }

  private podEvent(pod: Pod, type: EventType, reason: string, message: string): void {
    this.recorder?.event(
      {
        kind: 'Pod',
        apiVersion: 'v1',
        namespace: pod.metadata.namespace,
        name: pod.metadata.name,
        uid: pod.metadata.uid,
      },
      type,
      reason,
      message,
    );
  }

  /** An event about one container: its reference names the container (describe's "From" column). */
  private containerEvent(pod: Pod, c: Container, type: EventType, reason: string, message: string): void {
    const init = (pod.spec?.initContainers ?? []).some((x) => x.name === c.name);
    this.recorder?.event(
      {
        kind: 'Pod',
        apiVersion: 'v1',
        namespace: pod.metadata.namespace,
        name: pod.metadata.name,
        uid: pod.metadata.uid,
        fieldPath: `spec.${init ? 'initContainers' : 'containers'}{${c.name}}`,
      },
      type,
      reason,
      message,
    );
  }

  private memo(uid: string): PodMemo {
    let m = this.memos.get(uid);
    if (!m) {
      m = {
        waiting: new Map(),
        crash: new Map(),
        volumesAt: 0,
        sandboxRetryAt: 0,
        sandboxBackoffMs: 0,
        ips: new Map(),
      };
      this.memos.set(uid, m);
    }
    return m;
  }

  // ---------------------------------------------------------------- observation

  private async sandboxesOf(uid: string): Promise<PodSandbox[]> {
    const list = await this.client.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: uid } });
    return list.sort(byNewest);
  }

  private async containersOf(uid: string): Promise<Seen[]> {
    const list = await this.client.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } });
    const out: Seen[] = [];
    for (const c of list) {
      const cached = this.exitedCache.get(c.id);
      if (cached) {
        out.push(cached);
        continue;
      }
      let status: CriContainerStatus;
      try {
        status = await this.client.containerStatus(c.id);
      } catch (e) {
        if (isCriNotFound(e)) continue;
        throw e;
      }
      const seen: Seen = {
        status,
        sandboxId: c.podSandboxId,
        attempt:
          Number(status.annotations[ANNOTATION_RESTART_COUNT] ?? status.metadata.attempt) ||
          status.metadata.attempt,
        type: status.annotations[ANNOTATION_CONTAINER_TYPE] === 'init' ? 'init' : 'app',
      };
      if (status.state === 'CONTAINER_EXITED') {
        seen.terminationMessage = this.terminationMessage(status);
        this.exitedCache.set(c.id, seen);
      }
      out.push(seen);
    }
    return out;
  }

  private terminationMessage(s: CriContainerStatus): string | undefined {
    const file = s.annotations[ANNOTATION_TERMINATION_FILE];
    let msg = '';
    if (file && existsSync(file)) {
      try {
        msg = readFileSync(file).subarray(0, 4096).toString('utf8');
      } catch {
        msg = '';
      }
    }
    if (
      !msg &&
      s.exitCode !== 0 &&
      s.annotations[ANNOTATION_TERMINATION_MESSAGE_POLICY] === 'FallbackToLogsOnError' &&
      s.logPath
    ) {
      try {
        const lines = readFileSync(s.logPath, 'utf8')
          .split('\n')
          .filter(Boolean)
          .slice(-80)
          // CRI log lines: "<time> <stream> <P|F> <text>"
          .map((l) => l.split(' ').slice(3).join(' '));
        msg = lines.join('\n').slice(-2048);
      } catch {
        msg = '';
      }
    }
    return msg || undefined;
  }

  /** Latest attempt per container name, and the one before it. */
  private group(seen: Seen[]): Map<string, Seen[]> {
    const m = new Map<string, Seen[]>();
    for (const s of seen) {
      const name = s.status.labels[LABEL_CONTAINER_NAME] ?? s.status.metadata.name;
      const list = m.get(name) ?? [];
      list.push(s);
      m.set(name, list);
    }
    for (const list of m.values())
      list.sort((a, b) => b.attempt - a.attempt || (b.status.createdAt > a.status.createdAt ? 1 : -1));
    return m;
  }

  private async sandboxIps(memo: PodMemo, sandboxId: string): Promise<string[]> {
    const known = memo.ips.get(sandboxId);
    if (known) return known;
    const st = await this.client.podSandboxStatus(sandboxId);
    const ips = [st.status.ip, ...st.status.additionalIps].filter(Boolean);
    memo.ips.set(sandboxId, ips);
    // First sight of this sandbox's addresses: they may have belonged to a pod that is gone.
    await forgetNeighbours(ips);
    return ips;
  }

  // ---------------------------------------------------------------- syncPod

  /**
   * Why pods needing the pod network cannot start (empty: they can): a runtime whose network we
   * configure has none until the node's podCIDR is known (the kubelet's NetworkReady condition).
   */
  networkErrors(): string[] {
    return this.configureNetwork && this.networkFor === undefined ? [NETWORK_NOT_READY_MESSAGE] : [];
  }

  /**
   * The node's spec.podCIDR, once the node IPAM controller assigned it (the kubelet's
   * UpdatePodCIDR): writes the CNI config and waits until containerd has loaded it.
   */
  async updatePodCIDR(podCIDR: string): Promise<void> {
    if (!this.configureNetwork || podCIDR === this.networkFor) return;
    this.configureNetwork(podCIDR);
    this.networkFor = podCIDR;
    log.info('pod network configured', { podCIDR });
    const deadline = this.now() + NETWORK_READY_TIMEOUT_MS;
    for (;;) {
      const status = await this.client.status();
      const cond = status.conditions.find((c) => c.type === 'NetworkReady');
      if (!cond || cond.status) return;
      if (this.now() > deadline) {
        log.warn('container runtime has not loaded the CNI config yet', {
          podCIDR,
          reason: cond.reason,
          message: cond.message,
        });
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async syncPod(pod: Pod, node: NodeRuntimeContext): Promise<PodSyncResult> {
    const uid = pod.metadata.uid ?? '';
    if (node.podCIDR && node.podCIDR !== this.networkFor) await this.updatePodCIDR(node.podCIDR);
    const memo = this.memo(uid);
    const policy = pod.spec?.restartPolicy ?? 'Always';
    const hostNetwork = pod.spec?.hostNetwork === true;
    const now = this.now();
    let requeue = Infinity;
    const wake = (ms: number): void => {
      requeue = Math.min(requeue, Math.max(0, ms));
    };

    let sandboxes = await this.sandboxesOf(uid);
    let seen = await this.containersOf(uid);
    let ready = sandboxes.find((s) => s.state === 'SANDBOX_READY');
    const sandboxConfigFor = (attempt: number): PodSandboxConfig =>
      sandboxConfig(pod, { attempt, logsDir: this.logsDir, dns: this.dns, nodeName: node.nodeName });

    if (!ready) {
      const everRan = seen.length > 0;
      if (everRan && this.podFinished(pod, this.group(seen), undefined)) {
        return { status: this.report(pod, node, this.group(seen), undefined, [], memo) };
      }
      const networkErrors = hostNetwork ? [] : this.networkErrors();
      if (networkErrors.length > 0) {
        // As the kubelet: a pod on the pod network waits until the node has one.
        memo.sandboxError = {
          reason: 'ContainerCreating',
          message: `network is not ready: ${networkErrors[0]}`,
        };
        return {
          status: this.report(pod, node, this.group(seen), undefined, [], memo),
          requeueAfterMs: 1000,
        };
      }
      if (now < memo.sandboxRetryAt) {
        wake(memo.sandboxRetryAt - now);
        return {
          status: this.report(pod, node, this.group(seen), undefined, [], memo),
          requeueAfterMs: requeue,
        };
      }
      for (const old of sandboxes)
        await this.client
          .stopPodSandbox(old.id)
          .catch((e: unknown) => log.debug('stop old sandbox', { err: errorText(e) }));
      const attempt = sandboxes.length ? Math.max(...sandboxes.map((s) => s.metadata.attempt)) + 1 : 0;
      try {
        memo.volumes = await this.volumes.prepare(pod, { hostIP: node.hostIP, nodeName: node.nodeName });
        memo.volumesAt = now;
        const started = process.hrtime.bigint();
        const id = await this.client.runPodSandbox(sandboxConfigFor(attempt));
        sandboxStarts.observe(Number(process.hrtime.bigint() - started) / 1e9);
        memo.sandboxError = undefined;
        memo.sandboxBackoffMs = 0;
        log.debug('started sandbox', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, id, attempt });
      } catch (e) {
        startFailures.inc({ reason: e instanceof VolumeError ? 'FailedMount' : 'FailedCreatePodSandBox' });
        // As kubelet: the containers wait in a bare ContainerCreating (its reason cache holds only
        // container start failures); why is told by the pod's FailedMount or FailedCreatePodSandBox event.
        memo.sandboxError = { reason: 'ContainerCreating' };
        if (e instanceof VolumeError) this.podEvent(pod, 'Warning', 'FailedMount', e.message);
        else
          this.podEvent(
            pod,
            'Warning',
            'FailedCreatePodSandBox',
            `Failed to create pod sandbox: ${grpcErrorText(e)}`,
          );
        memo.sandboxBackoffMs = Math.min(
          SANDBOX_RETRY_MAX_MS,
          memo.sandboxBackoffMs ? memo.sandboxBackoffMs * 2 : 1000,
        );
        memo.sandboxRetryAt = this.now() + memo.sandboxBackoffMs;
        log.warn('cannot create pod sandbox', {
          pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
          err: errorText(e),
        });
        return {
          status: this.report(pod, node, this.group(seen), undefined, [], memo),
          requeueAfterMs: memo.sandboxBackoffMs,
        };
      }
      sandboxes = await this.sandboxesOf(uid);
      ready = sandboxes.find((s) => s.state === 'SANDBOX_READY');
      if (!ready)
        throw new Error(
          `sandbox for pod ${pod.metadata.namespace}/${pod.metadata.name} is not ready right after it was created`,
        );
      await this.collectOldSandboxes(sandboxes, ready);
    } else if (now - memo.volumesAt > VOLUME_REFRESH_MS || !memo.volumes) {
      try {
        memo.volumes = await this.volumes.prepare(pod, { hostIP: node.hostIP, nodeName: node.nodeName });
        memo.volumesAt = now;
      } catch (e) {
        log.warn('volume refresh failed', {
          pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
          err: errorText(e),
        });
      }
    }

    const sandboxId = ready.id;
    const ips = hostNetwork ? [node.hostIP] : await this.sandboxIps(memo, sandboxId);
    const facts: PodRuntimeFacts = {
      hostIP: node.hostIP,
      nodeName: node.nodeName,
      podIP: ips[0],
      podIPs: ips,
    };
    const sbConfig = sandboxConfigFor(ready.metadata.attempt);
    const etcHosts = hostNetwork ? undefined : this.writeEtcHosts(pod, ips);
    let groups = this.group(seen);
    let acted = false;

    const start = async (c: Container, type: ContainerType, attempt: number): Promise<boolean> => {
      acted = true;
      const ok = await this.startContainer(pod, c, type, attempt, sandboxId, sbConfig, facts, memo, etcHosts);
      if (!ok) {
        const w = memo.waiting.get(c.name);
        wake(w?.retryAfterMs ?? 2000);
      } else wake(QUICK_RELIST_MS);
      return ok;
    };

    // Decides what to do with a container whose latest attempt exited (or died with an old sandbox).
    const restartable = (
      c: Container,
      latest: Seen,
      alwaysRestart: boolean,
    ): 'restart' | 'backoff' | 'done' => {
      const inCurrent = latest.sandboxId === sandboxId;
      const exit = latest.status.exitCode;
      const again =
        alwaysRestart || policy === 'Always' || (policy === 'OnFailure' && (exit !== 0 || !inCurrent));
      if (!again) return 'done';
      // kubelet's back-off: the first restart at once, then 10 s, 20 s, … up to 5 min between
      // restarts; a container that ran for 10 minutes starts over.
      const finished = latest.status.finishedAt;
      let b = memo.crash.get(c.name);
      if (!b || b.exit !== finished) {
        const ranMs = nsToMs(finished - latest.status.startedAt);
        const delay = !b || ranMs > BACKOFF_RESET_MS ? 0 : b.nextDelayMs;
        b = {
          exit: finished,
          until: nsToMs(finished) + delay,
          nextDelayMs: Math.min(CRASH_BACKOFF_MAX_MS, Math.max(CRASH_BACKOFF_BASE_MS, delay * 2)),
          showExitUntil: this.now() + SHOW_EXIT_MS,
          announced: false,
        };
        memo.crash.set(c.name, b);
      }
      const wait = b.until - this.now();
      // A fresh exit with a back-off ahead is reported as it is (Error, Completed) for a moment,
      // whatever syncs happen meanwhile (our own status write brings one at once).
      if (wait > 0 && this.now() < b.showExitUntil && b.until > b.showExitUntil) {
        memo.waiting.delete(c.name);
        wake(b.showExitUntil - this.now());
        return 'backoff';
      }
      if (wait > 0) {
        const delaySec = Math.round((b.until - nsToMs(finished)) / 1000);
        const podText = `${pod.metadata.name}_${pod.metadata.namespace}(${uid})`;
        memo.waiting.set(c.name, {
          reason: 'CrashLoopBackOff',
          message: `back-off ${delaySec}s restarting failed container=${c.name} pod=${podText}`,
        });
        if (!b.announced) {
          b.announced = true;
          this.containerEvent(
            pod,
            c,
            'Warning',
            'BackOff',
            `Back-off restarting failed container ${c.name} in pod ${podText}`,
          );
        }
        wake(wait);
        return 'backoff';
      }
      return 'restart';
    };

    // Init containers, in order: each must succeed before the next starts (sidecars must run).
    let initDone = true;
    let podFailed = false;
    for (const c of pod.spec?.initContainers ?? []) {
      const attempts = groups.get(c.name) ?? [];
      const latest = attempts[0];
      const sidecar = isSidecar(c);
      if (!latest) {
        initDone = false;
        await start(c, 'init', 0);
        if (!sidecar) break;
        continue;
      }
      const inCurrent = latest.sandboxId === sandboxId;
      const st = latest.status.state;
      if (inCurrent && (st === 'CONTAINER_RUNNING' || st === 'CONTAINER_CREATED')) {
        if (sidecar) continue;
        initDone = false;
        wake(QUICK_RELIST_MS);
        break;
      }
      if (!sidecar && inCurrent && latest.status.exitCode === 0) continue;
      // Exited with an error (or belongs to a dead sandbox, or is a sidecar that stopped).
      if (!sidecar && policy === 'Never' && inCurrent) {
        initDone = false;
        podFailed = true;
        break;
      }
      const decision = restartable(c, latest, true);
      if (decision === 'restart') await start(c, 'init', latest.attempt + 1);
      if (!sidecar) {
        initDone = false;
        break;
      }
    }

    if (initDone && !podFailed) {
      for (const c of pod.spec?.containers ?? []) {
        const latest = (groups.get(c.name) ?? [])[0];
        if (!latest) {
          await start(c, 'app', 0);
          continue;
        }
        const inCurrent = latest.sandboxId === sandboxId;
        const st = latest.status.state;
        if (inCurrent && st === 'CONTAINER_RUNNING') {
          if (latest.status.annotations[ANNOTATION_CONTAINER_HASH] !== containerHash(c)) {
            log.info('container spec changed; restarting it', { pod: pod.metadata.name, container: c.name });
            await this.client.stopContainer(latest.status.id, pod.spec?.terminationGracePeriodSeconds ?? 30);
            await start(c, 'app', latest.attempt + 1);
          } else wake(this.relistMs);
          continue;
        }
        if (inCurrent && st === 'CONTAINER_CREATED') {
          // Created but never started (an agent restart between the two calls): start it now.
          try {
            await this.client.startContainer(latest.status.id);
          } catch (e) {
            memo.waiting.set(c.name, { reason: 'RunContainerError', message: grpcStatusMessage(e) });
          }
          wake(QUICK_RELIST_MS);
          continue;
        }
        const decision = restartable(c, latest, false);
        if (decision === 'restart') await start(c, 'app', latest.attempt + 1);
      }
    }

    if (acted) {
      seen = await this.containersOf(uid);
      groups = this.group(seen);
      await this.collectOldAttempts(groups);
    }
    const status = this.report(pod, node, groups, sandboxId, ips, memo);
    const anyRunning = [...status.initContainers, ...status.containers].some((c) => c.phase === 'running');
    if (anyRunning) wake(this.relistMs);
    const result: PodSyncResult = { status };
    if (requeue !== Infinity) result.requeueAfterMs = requeue;
    return result;
  }

  /** Pulls the image if needed, then creates and starts one container; records why not on failure. */
  private async startContainer(
    pod: Pod,
    c: Container,
    type: ContainerType,
    attempt: number,
    sandboxId: string,
    sbConfig: PodSandboxConfig,
    facts: PodRuntimeFacts,
    memo: PodMemo,
    etcHosts: string | undefined,
  ): Promise<boolean> {
    const img = await this.images.ensure(pod, c.image ?? '', c.imagePullPolicy, sbConfig, (t, r, m) =>
      this.containerEvent(pod, c, t, r, m),
    );
    if (!img.ok) {
      memo.waiting.set(c.name, { reason: img.reason, message: img.message, retryAfterMs: img.retryAfterMs });
      startFailures.inc({ reason: img.reason });
      this.containerEvent(pod, c, 'Warning', 'Failed', `Error: ${img.reason}`);
      return false;
    }
    let id: string | undefined;
    const started = process.hrtime.bigint();
    try {
      const env = await buildEnv(pod, c, facts, this.source, this.capacity);
      const cfg = containerConfig({
        pod,
        container: c,
        type,
        attempt,
        image: normalizeImageRef(c.image ?? ''),
        env,
        volumes: memo.volumes ?? new Map(),
        podDir: this.volumes.podDir(pod.metadata.uid ?? ''),
        capacity: this.capacity,
        etcHosts,
      });
      id = await this.client.createContainer(sandboxId, cfg, sbConfig);
    } catch (e) {
      const reason =
        e instanceof ContainerConfigError || e instanceof VolumeError
          ? 'CreateContainerConfigError'
          : 'CreateContainerError';
      memo.waiting.set(c.name, { reason, message: grpcStatusMessage(e) });
      startFailures.inc({ reason });
      this.containerEvent(pod, c, 'Warning', 'Failed', `Error: ${grpcStatusMessage(e)}`);
      log.warn('cannot create container', {
        pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
        container: c.name,
        err: errorText(e),
      });
      return false;
    }
    this.containerEvent(pod, c, 'Normal', 'Created', `Created container ${c.name}`);
    try {
      await this.client.startContainer(id);
    } catch (e) {
      memo.waiting.set(c.name, { reason: 'RunContainerError', message: grpcStatusMessage(e) });
      startFailures.inc({ reason: 'RunContainerError' });
      this.containerEvent(pod, c, 'Warning', 'Failed', `Error: ${grpcStatusMessage(e)}`);
      log.warn('cannot start container', {
        pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
        container: c.name,
        err: errorText(e),
      });
      return false;
    }
    containerStarts.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.containerEvent(pod, c, 'Normal', 'Started', `Started container ${c.name}`);
    const postStart = c.lifecycle?.postStart;
    if (postStart) {
      const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
      try {
        await runHook(postStart, {
          client: this.client,
          containerId: id,
          container: c,
          podIP: facts.podIP,
          timeoutSeconds: Math.max(grace, 30),
        });
      } catch (e) {
        // As kubelet: a failed postStart hook kills the container; it restarts per the policy.
        memo.waiting.set(c.name, { reason: 'PostStartHookError', message: errorText(e) });
        startFailures.inc({ reason: 'FailedPostStartHook' });
        // As kubelet: the hook's output stays out of the event (it may hold secrets).
        this.containerEvent(pod, c, 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
        log.warn('postStart hook failed', {
          pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
          container: c.name,
          err: errorText(e),
        });
        // As kubelet's killContainer: a Killing event whose message is the kill's reason, the
        // preStop hook, then the stop with the pod's grace period.
        this.containerEvent(pod, c, 'Normal', 'Killing', 'FailedPostStartHook');
        const preStop = c.lifecycle?.preStop;
        if (preStop && grace > 0)
          await runHook(preStop, {
            client: this.client,
            containerId: id,
            container: c,
            podIP: facts.podIP,
            timeoutSeconds: grace,
          }).catch((hookErr: unknown) => this.preStopFailed(pod, c, hookErr));
        await this.client.stopContainer(id, Math.max(2, grace)).catch((stopErr: unknown) => {
          log.warn('cannot stop container after its postStart hook failed', {
            pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
            container: c.name,
            err: errorText(stopErr),
          });
        });
        return false;
      }
    }
    memo.waiting.delete(c.name);
    return true;
  }

  /** Writes the pod's managed /etc/hosts (when its content changed) and returns its path. */
  private writeEtcHosts(pod: Pod, ips: string[]): string {
    const dir = this.volumes.podDir(pod.metadata.uid ?? '');
    const file = join(dir, 'etc-hosts');
    const content = etcHostsContent(pod, ips, this.dns.clusterDomain);
    let current: string | undefined;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== content) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, content, { mode: 0o644 });
    }
    return file;
  }

  /** Whether no container of the pod will run again (restart policy says so for every one). */
  private podFinished(pod: Pod, groups: Map<string, Seen[]>, sandboxId: string | undefined): boolean {
    const policy = pod.spec?.restartPolicy ?? 'Always';
    if (policy === 'Always') return false;
    for (const c of pod.spec?.initContainers ?? []) {
      const l = (groups.get(c.name) ?? [])[0];
      if (!l || l.status.state !== 'CONTAINER_EXITED') continue;
      if (l.status.exitCode !== 0 && policy === 'Never') return true;
    }
    for (const c of pod.spec?.containers ?? []) {
      const l = (groups.get(c.name) ?? [])[0];
      if (!l) return false;
      const exited =
        l.status.state === 'CONTAINER_EXITED' || (sandboxId !== undefined && l.sandboxId !== sandboxId);
      if (!exited) return false;
      if (policy === 'OnFailure' && l.status.exitCode !== 0) return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- garbage

  /** Keeps the ready sandbox and the one before it (its containers hold restart history). */
  private async collectOldSandboxes(sandboxes: PodSandbox[], ready: PodSandbox): Promise<void> {
    const others = sandboxes.filter((s) => s.id !== ready.id).sort(byNewest);
    for (const s of others.slice(1)) {
      try {
        await this.client.stopPodSandbox(s.id);
        await this.client.removePodSandbox(s.id);
      } catch (e) {
        log.debug('cannot remove an old sandbox', { id: s.id, err: errorText(e) });
      }
    }
  }

  private async collectOldAttempts(groups: Map<string, Seen[]>): Promise<void> {
    for (const list of groups.values()) {
      for (const old of list.slice(KEEP_ATTEMPTS)) {
        if (old.status.state === 'CONTAINER_RUNNING') continue;
        try {
          await this.client.removeContainer(old.status.id);
          this.exitedCache.delete(old.status.id);
        } catch (e) {
          log.debug('cannot remove an old container', { id: old.status.id, err: errorText(e) });
        }
      }
    }
  }

  // ---------------------------------------------------------------- report

  private termination(s: Seen): ContainerTermination {
    const st = s.status;
    const t: ContainerTermination = {
      exitCode: st.exitCode,
      reason: st.reason || (st.exitCode === 0 ? 'Completed' : 'Error'),
      startedAt: nsToMs(st.startedAt),
      finishedAt: nsToMs(st.finishedAt),
      containerID: `containerd://${st.id}`,
    };
    const msg = s.terminationMessage ?? (st.message || undefined);
    if (msg) t.message = msg;
    return t;
  }

  private report(
    pod: Pod,
    node: NodeRuntimeContext,
    groups: Map<string, Seen[]>,
    sandboxId: string | undefined,
    ips: string[],
    memo: PodMemo,
  ): RuntimePodStatus {
    const policy = pod.spec?.restartPolicy ?? 'Always';
    const finished = this.podFinished(pod, groups, sandboxId);
    const initSpecs = pod.spec?.initContainers ?? [];
    const one = (c: Container, type: ContainerType): RuntimeContainerStatus => {
      const attempts = groups.get(c.name) ?? [];
      const latest = attempts[0];
      const prev = attempts[1];
      const image = c.image ? normalizeImageRef(c.image) : '';
      const w = memo.waiting.get(c.name);
      const waitingMsg = w?.message;
      if (!latest) {
        // As kubelet: in a pod with init containers, any container not created yet is PodInitializing.
        const reason =
          memo.sandboxError?.reason ??
          w?.reason ??
          (initSpecs.length > 0 ? 'PodInitializing' : 'ContainerCreating');
        const message = memo.sandboxError?.message ?? waitingMsg;
        const s: RuntimeContainerStatus = {
          name: c.name,
          image,
          imageID: '',
          phase: 'waiting',
          waitingReason: reason,
          restartCount: 0,
          ready: false,
          started: false,
        };
        if (message) s.waitingMessage = message;
        return s;
      }
      const st = latest.status;
      const base = {
        name: c.name,
        image: st.image || image,
        imageID: st.imageRef,
        containerID: `containerd://${st.id}`,
        restartCount: latest.attempt,
      };
      const last = prev && prev.status.state === 'CONTAINER_EXITED' ? this.termination(prev) : undefined;
      const inCurrent = sandboxId !== undefined && latest.sandboxId === sandboxId;
      if (st.state === 'CONTAINER_RUNNING' && inCurrent) {
        const s: RuntimeContainerStatus = {
          ...base,
          phase: 'running',
          startedAt: nsToMs(st.startedAt),
          ready: true,
          started: true,
        };
        if (last) s.lastTermination = last;
        return s;
      }
      if (st.state === 'CONTAINER_CREATED' && inCurrent) {
        const s: RuntimeContainerStatus = {
          ...base,
          phase: 'waiting',
          waitingReason: w?.reason ?? 'ContainerCreating',
          ready: false,
          started: false,
        };
        if (waitingMsg) s.waitingMessage = waitingMsg;
        if (last) s.lastTermination = last;
        return s;
      }
      // Exited (or lost with a dead sandbox, or in an unknown state).
      const term =
        st.state === 'CONTAINER_EXITED'
          ? this.termination(latest)
          : {
              exitCode: 137,
              reason: 'ContainerStatusUnknown',
              message: 'The container could not be located when the pod was terminated',
              startedAt: nsToMs(st.startedAt),
              finishedAt: this.now(),
              containerID: base.containerID,
            };
      const initOk = type === 'init' && !isSidecar(c) && term.exitCode === 0 && inCurrent;
      const willRestart =
        !finished &&
        !initOk &&
        (isSidecar(c) ||
          policy === 'Always' ||
          (policy === 'OnFailure' && (term.exitCode !== 0 || !inCurrent)) ||
          (type === 'init' && policy !== 'Never'));
      if (willRestart && w) {
        const s: RuntimeContainerStatus = {
          ...base,
          phase: 'waiting',
          waitingReason: w.reason,
          lastTermination: term,
          ready: false,
          started: false,
        };
        if (waitingMsg) s.waitingMessage = waitingMsg;
        return s;
      }
      const s: RuntimeContainerStatus = {
        ...base,
        phase: 'terminated',
        termination: term,
        ready: false,
        started: false,
      };
      if (last) s.lastTermination = last;
      return s;
    };
    return {
      sandboxReady: sandboxId !== undefined,
      podIPs: sandboxId !== undefined ? (pod.spec?.hostNetwork ? [node.hostIP] : ips) : [],
      initContainers: initSpecs.map((c) => one(c, 'init')),
      containers: (pod.spec?.containers ?? []).map((c) => one(c, 'app')),
    };
  }

  // ---------------------------------------------------------------- kill, list, remove

  /** As kubelet: a failed preStop hook is a warning event (without its output) and the kill goes on. */
  private preStopFailed(pod: Pod, container: Container, err: unknown): void {
    this.containerEvent(pod, container, 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
    log.warn('preStop hook failed', {
      pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
      container: container.name,
      err: errorText(err),
    });
  }

  async killPod(pod: Pod, gracePeriodSeconds: number, node: NodeRuntimeContext): Promise<PodKillResult> {
    const uid = pod.metadata.uid ?? '';
    const memo = this.memo(uid);
    const sandboxes = await this.sandboxesOf(uid);
    const before = await this.containersOf(uid);
    const grace = Math.max(0, Math.floor(gracePeriodSeconds));
    const specs = new Map(
      [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => [c.name, c]),
    );
    const readyBefore = sandboxes.find((s) => s.state === 'SANDBOX_READY');
    const podIP =
      readyBefore && !pod.spec?.hostNetwork
        ? (await this.sandboxIps(memo, readyBefore.id).catch(() => []))[0]
        : undefined;
    const started = this.now();
    await Promise.all(
      before
        .filter((s) => s.status.state === 'CONTAINER_RUNNING' || s.status.state === 'CONTAINER_CREATED')
        .map(async (s) => {
          const spec = specs.get(s.status.labels[LABEL_CONTAINER_NAME] ?? s.status.metadata.name);
          if (spec && s.status.state === 'CONTAINER_RUNNING')
            this.containerEvent(pod, spec, 'Normal', 'Killing', `Stopping container ${spec.name}`);
          const preStop = spec?.lifecycle?.preStop;
          if (preStop && s.status.state === 'CONTAINER_RUNNING' && grace > 0) {
            try {
              await runHook(preStop, {
                client: this.client,
                containerId: s.status.id,
                container: spec,
                podIP,
                timeoutSeconds: grace,
              });
            } catch (e) {
              this.preStopFailed(pod, spec, e);
            }
          }
          // What is left of the grace period after the hook, but at least 2 s as kubelet gives.
          const left = grace === 0 ? 0 : Math.max(2, grace - Math.floor((this.now() - started) / 1000));
          await this.client.stopContainer(s.status.id, left).catch((e: unknown) => {
            if (!isCriNotFound(e)) throw e;
          });
        }),
    );
    const after = await this.containersOf(uid);
    const ready = sandboxes.find((s) => s.state === 'SANDBOX_READY');
    const ips = ready && !pod.spec?.hostNetwork ? await this.sandboxIps(memo, ready.id).catch(() => []) : [];
    memo.waiting.clear();
    memo.crash.clear();
    memo.sandboxError = undefined;
    const groups = this.group(after);
    const status = this.report(
      { ...pod, spec: { ...(pod.spec ?? { containers: [] }), restartPolicy: 'Never' } },
      node,
      groups,
      ready?.id,
      ips,
      memo,
    );
    status.sandboxReady = false;
    for (const s of sandboxes) {
      await this.client.stopPodSandbox(s.id);
      await this.client.removePodSandbox(s.id);
    }
    for (const s of after) this.exitedCache.delete(s.status.id);
    return { status, done: true };
  }

  async listRunning(): Promise<RunningPod[]> {
    const byUid = new Map<string, RunningPod>();
    for (const s of await this.client.listPodSandbox()) {
      const uid = s.labels[LABEL_POD_UID];
      if (!uid || byUid.has(uid)) continue;
      byUid.set(uid, {
        uid,
        namespace: s.labels[LABEL_POD_NAMESPACE] ?? s.metadata.namespace,
        name: s.labels[LABEL_POD_NAME] ?? s.metadata.name,
        nodeName: s.annotations[ANNOTATION_NODE_NAME] ?? '',
      });
    }
    return [...byUid.values()];
  }

  async removePod(uid: string): Promise<void> {
    for (const s of await this.sandboxesOf(uid)) {
      try {
        await this.client.stopPodSandbox(s.id);
        await this.client.removePodSandbox(s.id);
      } catch (e) {
        if (!isCriNotFound(e)) throw e;
      }
    }
    for (const [id, s] of this.exitedCache)
      if (s.status.labels[LABEL_POD_UID] === uid) this.exitedCache.delete(id);
    this.memos.delete(uid);
    await this.volumes.cleanup(uid);
    // Container logs live in <logs>/<namespace>_<name>_<uid>: the runtime leaves them to us.
    if (existsSync(this.logsDir))
      for (const d of readdirSync(this.logsDir))
        if (d.endsWith(`_${uid}`)) rmSync(join(this.logsDir, d), { recursive: true, force: true });
  }

  /**
   * Stops a finished pod's sandbox (its address goes back to the pool) but keeps its containers
   * and logs, as kubelet does for Succeeded and Failed pods until they are deleted.
   */
  async stopPod(uid: string): Promise<void> {
    for (const s of await this.sandboxesOf(uid)) {
      if (s.state !== 'SANDBOX_READY') continue;
      try {
        await this.client.stopPodSandbox(s.id);
      } catch (e) {
        if (!isCriNotFound(e)) throw e;
      }
    }
  }

  /** The latest (or, with previous, the one before) attempt of a container of the pod. */
  private async attempt(uid: string, containerName: string, previous: boolean): Promise<Seen | undefined> {
    const groups = this.group(await this.containersOf(uid));
    return (groups.get(containerName) ?? [])[previous ? 1 : 0];
  }

  /** The log file of a container (kubectl logs; --previous for the attempt before), if it exists. */
  async containerLogFile(uid: string, containerName: string, previous = false): Promise<string | undefined> {
    return (await this.attempt(uid, containerName, previous))?.status.logPath || undefined;
  }

  /** The runtime's id of a container's latest attempt (for exec, attach and probes). */
  async containerId(uid: string, containerName: string): Promise<string | undefined> {
    return (await this.attempt(uid, containerName, false))?.status.id;
  }

  /** The ready sandbox of a pod (for port-forward). */
  async sandboxId(uid: string): Promise<string | undefined> {
    return (await this.sandboxesOf(uid)).find((s) => s.state === 'SANDBOX_READY')?.id;
  }

  /** Runs a command in a pod's running container (exec probes, tests); throws when it does not run. */
  async execSync(
    uid: string,
    containerName: string,
    cmd: string[],
    timeoutSeconds = 0,
  ): Promise<ExecSyncResult> {
    const a = await this.attempt(uid, containerName, false);
    if (!a || a.status.state !== 'CONTAINER_RUNNING')
      throw new Error(`container ${containerName} of pod ${uid} is not running`);
    return this.client.execSync(a.status.id, cmd, timeoutSeconds);
  }

  /** Stops a pod's running container (a failed liveness probe); the next sync restarts it per its policy. */
  async killContainer(uid: string, containerName: string, gracePeriodSeconds: number): Promise<void> {
    const a = await this.attempt(uid, containerName, false);
    if (!a || a.status.state !== 'CONTAINER_RUNNING') return;
    await this.client
      .stopContainer(a.status.id, Math.max(0, Math.floor(gracePeriodSeconds)))
      .catch((e: unknown) => {
        if (!isCriNotFound(e)) throw e;
      });
  }

  /** The folder holding a pod's volumes (for tests and the agent's disk accounting). */
  podDir(uid: string): string {
    return this.volumes.podDir(uid);
  }

  /** The folder holding a pod's container logs. */
  podLogDir(pod: Pod): string {
    return join(
      this.logsDir,
      `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name ?? ''}_${pod.metadata.uid ?? ''}`,
    );
  }
}
