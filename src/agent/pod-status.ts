// From what a runtime observes to the API's PodStatus, as the kubelet's status generation does it:
// the phase from the container states, the kubelet-owned conditions (PodReadyToStartContainers,
// Initialized, Ready, ContainersReady, PodScheduled) after any condition another component owns,
// lastTransitionTime kept while a condition's status stays the same, startTime and the IPs once
// known, and one ContainerStatus per container of the spec in spec order.
import type {
  Container,
  ContainerState,
  ContainerStatus,
  Pod,
  PodCondition,
  PodStatus,
} from '../api/generated/types.js';
import type { ContainerTermination, RuntimeContainerStatus, RuntimePodStatus } from './runtime.js';
import { rfc3339, semanticEqual } from './support.js';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** Conditions the node agent writes; any other condition type on a pod is kept as it is. */
export const KUBELET_CONDITIONS: ReadonlySet<string> = new Set([
  'PodReadyToStartContainers',
  'Initialized',
  'Ready',
  'ContainersReady',
  'PodScheduled',
]);

export function isTerminalPhase(phase: unknown): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

function restartPolicyOf(pod: Pod): string {
  return pod.spec?.restartPolicy ?? 'Always';
}

/**
 * The pod phase from its containers' states. podIsTerminal: the pod is being shut down for good
 * (deleted, or evicted) and every container has stopped, so it ends Succeeded or Failed whatever
 * its restart policy.
 */
export function podPhase(pod: Pod, status: RuntimePodStatus, podIsTerminal: boolean): PodPhase {
  const policy = restartPolicyOf(pod);
  const initSpecs = pod.spec?.initContainers ?? [];
  const initByName = new Map(status.initContainers.map((c) => [c.name, c]));
  let pendingInit = false;
  for (const spec of initSpecs) {
    const c = initByName.get(spec.name);
    if (isSidecar(spec)) {
      if (!c || !c.started) pendingInit = true;
      continue;
    }
    if (!c) {
      pendingInit = true;
      continue;
    }
    if (c.phase === 'terminated' && c.termination?.exitCode === 0) continue;
    if (c.phase === 'terminated' && policy === 'Never') return 'Failed';
    pendingInit = true;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  const byName = new Map(status.containers.map((c) => [c.name, c]));
  for (const spec of pod.spec?.containers ?? []) {
    const c = byName.get(spec.name);
    if (!c) {
      unknown++;
      continue;
    }
    switch (c.phase) {
      case 'running':
        running++;
        break;
      case 'terminated':
        stopped++;
        if (c.termination?.exitCode === 0) succeeded++;
        break;
      case 'waiting':
        if (c.lastTermination) {
          stopped++;
          if (c.lastTermination.exitCode === 0) succeeded++;
        } else {
          waiting++;
        }
        break;
    }
  }
  if (pendingInit && !podIsTerminal) return 'Pending';
  if (waiting > 0 && !podIsTerminal) return 'Pending';
  if (running > 0 && unknown === 0 && !podIsTerminal) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  if (podIsTerminal) return 'Failed';
  return 'Pending';
}

function termination(t: ContainerTermination): NonNullable<ContainerState['terminated']> {
  const out: NonNullable<ContainerState['terminated']> = {
    exitCode: t.exitCode,
    reason: t.reason,
    startedAt: rfc3339(t.startedAt),
    finishedAt: rfc3339(t.finishedAt),
    containerID: t.containerID,
  };
  if (t.message) out.message = t.message;
  if (t.signal !== undefined) out.signal = t.signal;
  return out;
}

function containerStatus(
  spec: Container,
  c: RuntimeContainerStatus | undefined,
  sidecar: boolean,
  init = false,
): ContainerStatus {
  if (!c) {
    return {
      name: spec.name,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: spec.image ?? '',
      imageID: '',
      started: false,
    };
  }
  let state: ContainerState;
  switch (c.phase) {
    case 'running':
      state = { running: { startedAt: rfc3339(c.startedAt ?? Date.now()) } };
      break;
    case 'terminated':
      state = c.termination
        ? { terminated: termination(c.termination) }
        : { waiting: { reason: 'ContainerCreating' } };
      break;
    case 'waiting': {
      const waiting: NonNullable<ContainerState['waiting']> = {
        reason: c.waitingReason ?? 'ContainerCreating',
      };
      if (c.waitingMessage) waiting.message = c.waitingMessage;
      state = { waiting };
      break;
    }
  }
  const out: ContainerStatus = {
    name: c.name,
    state,
    lastState: c.lastTermination ? { terminated: termination(c.lastTermination) } : {},
    ready: c.ready,
    restartCount: c.restartCount,
    image: c.image,
    imageID: c.imageID,
    started: c.phase === 'running' ? c.started : false,
  };
  if (c.containerID) out.containerID = c.containerID;
  // An init container that ran to completion reports started: false, a sidecar reports like a container.
  if (!sidecar && c.phase === 'terminated') out.started = false;
  // As kubelet's prober: an init container that exited with success is ready.
  if (init && !sidecar && c.phase === 'terminated' && c.termination?.exitCode === 0) out.ready = true;
  return out;
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  const c: PodCondition = { type, status: ok ? 'True' : 'False' };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

export interface PodStatusInput {
  pod: Pod;
  runtime: RuntimePodStatus;
  hostIP: string;
  /** The pod is shutting down for good and its containers have stopped (see podPhase). */
  podIsTerminal?: boolean;
  /** Clock (tests). */
  now?: number;
}

/** The API status of a pod from the runtime's report, merged with what the pod's status says now. */
export function computePodStatus(input: PodStatusInput): PodStatus {
  const { pod, runtime, hostIP } = input;
  const now = input.now ?? Date.now();
  const old: PodStatus = pod.status ?? {};
  const phase = podPhase(pod, runtime, input.podIsTerminal ?? false);
  const terminal = isTerminalPhase(phase);

  const initSpecs = pod.spec?.initContainers ?? [];
  const initByName = new Map(runtime.initContainers.map((c) => [c.name, c]));
  const initStatuses = initSpecs.map((s) => containerStatus(s, initByName.get(s.name), isSidecar(s), true));
  const byName = new Map(runtime.containers.map((c) => [c.name, c]));
  const containerStatuses = (pod.spec?.containers ?? []).map((s) =>
    containerStatus(s, byName.get(s.name), false),
  );

  // Initialized: every regular init container succeeded and every sidecar started.
  const incompleteInit = initSpecs
    .filter((s) => {
      const c = initByName.get(s.name);
      if (isSidecar(s)) return !c?.started;
      return !(c?.phase === 'terminated' && c.termination?.exitCode === 0);
    })
    .map((s) => s.name);
  const initialized =
    incompleteInit.length === 0 || terminal
      ? condition('Initialized', incompleteInit.length === 0 || phase === 'Succeeded')
      : condition(
          'Initialized',
          false,
          'ContainersNotInitialized',
          `containers with incomplete status: [${incompleteInit.join(' ')}]`,
        );
  if (terminal && incompleteInit.length > 0 && phase !== 'Succeeded') {
    initialized.reason = 'PodCompleted';
  }

  // ContainersReady: every container (and sidecar) ready.
  const unready = [
    ...initSpecs.filter((s) => isSidecar(s) && !initByName.get(s.name)?.ready).map((s) => s.name),
    ...(pod.spec?.containers ?? []).filter((s) => !byName.get(s.name)?.ready).map((s) => s.name),
  ];
  let containersReady: PodCondition;
  if (terminal) containersReady = condition('ContainersReady', false, 'PodCompleted');
  else if (unready.length > 0)
    containersReady = condition(
      'ContainersReady',
      false,
      'ContainersNotReady',
      `containers with unready status: [${unready.join(' ')}]`,
    );
  else containersReady = condition('ContainersReady', true);

  // Ready: containers ready and every readiness gate's condition True.
  const otherConditions = (old.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type));
  let ready: PodCondition;
  if (terminal) ready = condition('Ready', false, 'PodCompleted');
  else if (containersReady.status !== 'True')
    ready = condition('Ready', false, containersReady.reason, containersReady.message);
  else {
    const missing: string[] = [];
    const unmet: string[] = [];
    for (const gate of pod.spec?.readinessGates ?? []) {
      const c = otherConditions.find((x) => x.type === gate.conditionType);
      if (!c) missing.push(gate.conditionType);
      else if (c.status !== 'True') unmet.push(gate.conditionType);
    }
    if (missing.length > 0)
      ready = condition(
        'Ready',
        false,
        'ReadinessGatesNotReady',
        `corresponding condition of pod readiness gate "${missing[0]}" does not exist.`,
      );
    else if (unmet.length > 0)
      ready = condition(
        'Ready',
        false,
        'ReadinessGatesNotReady',
        `the status of pod readiness gate "${unmet[0]}" is not "True", but False`,
      );
    else ready = condition('Ready', true);
  }

  const conditions: PodCondition[] = [
    ...otherConditions,
    condition('PodReadyToStartContainers', runtime.sandboxReady && !terminal),
    initialized,
    ready,
    containersReady,
    condition('PodScheduled', true),
  ];
  // Keep lastTransitionTime while a condition's status is unchanged.
  const nowText = rfc3339(now);
  for (const c of conditions) {
    if (!KUBELET_CONDITIONS.has(c.type)) continue;
    const prev = (old.conditions ?? []).find((x) => x.type === c.type);
    c.lastTransitionTime =
      prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : nowText;
  }

  const status: PodStatus = {
    phase,
    conditions,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    startTime: old.startTime ?? nowText,
    containerStatuses,
  };
  if (old.qosClass) status.qosClass = old.qosClass;
  if (initStatuses.length > 0) status.initContainerStatuses = initStatuses;
  const podIPs = runtime.podIPs.length > 0 ? runtime.podIPs : (old.podIPs ?? []).map((p) => p.ip);
  if (podIPs.length > 0) {
    status.podIP = podIPs[0];
    status.podIPs = podIPs.map((ip) => ({ ip }));
  }
  if (old.nominatedNodeName) status.nominatedNodeName = old.nominatedNodeName;
  return status;
}

/** The fields of a pod's status the node agent writes; the others (qosClass, message, resize ...) are left alone. */
export const WRITTEN_STATUS_FIELDS = [
  'phase',
  'conditions',
  'hostIP',
  'hostIPs',
  'podIP',
  'podIPs',
  'startTime',
  'initContainerStatuses',
  'containerStatuses',
  'reason',
  'message',
] as const;

/** Whether current already says what desired says, on the fields the node agent writes (null and absent alike). */
export function podStatusEqual(desired: PodStatus | undefined, current: PodStatus | undefined): boolean {
  const d = desired ?? {};
  const c = current ?? {};
  for (const k of WRITTEN_STATUS_FIELDS) if (!semanticEqual(d[k], c[k])) return false;
  return true;
}

/** A merge patch that makes a pod's status say what desired says (absent fields are removed). */
export function podStatusPatch(uid: string | undefined, desired: PodStatus): Record<string, unknown> {
  const status: Record<string, unknown> = {};
  for (const k of WRITTEN_STATUS_FIELDS) status[k] = desired[k] ?? null;
  const patch: Record<string, unknown> = { status };
  if (uid) patch.metadata = { uid };
  return patch;
}
