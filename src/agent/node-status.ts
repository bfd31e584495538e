// The Node object the agent registers and the status it keeps reporting, as the kubelet's node
// status setters produce them: capacity and allocatable, the pressure conditions and Ready (in
// upstream's order, Ready last, with upstream's reasons and messages), addresses, nodeInfo and the
// daemon endpoint. A condition's lastTransitionTime moves only when its status changes; its
// lastHeartbeatTime moves whenever the status is written, which happens when something other than
// heartbeats changed, or every report period (5 minutes) otherwise: the Lease is the heartbeat.
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { createHash } from 'node:crypto';
import type { Node, NodeCondition, NodeStatus, NodeSystemInfo } from '../api/generated/types.js';
import { KUBERNETES_GIT_VERSION } from '../version.js';
import { rfc3339, semanticEqual } from './support.js';

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_OS = 'kubernetes.io/os';
export const LABEL_ARCH = 'kubernetes.io/arch';
export const LABEL_BETA_OS = 'beta.kubernetes.io/os';
export const LABEL_BETA_ARCH = 'beta.kubernetes.io/arch';
export const LABEL_INSTANCE_TYPE = 'node.kubernetes.io/instance-type';
export const LABEL_CONTROL_PLANE = 'node-role.kubernetes.io/control-plane';
export const KUBELET_PORT = 10250;
export const DEFAULT_MAX_PODS = 110;

/** The kubelet version nodes report: the Kubernetes version the server serves, k8ts-flavoured. */
export const KUBELET_VERSION = KUBERNETES_GIT_VERSION;

/** Everything about a node that its status is computed from. */
export interface NodeConfig {
  name: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  /** status.addresses: InternalIP first, then Hostname. */
  internalIP: string;
  hostname: string;
  nodeInfo: NodeSystemInfo;
  daemonPort: number;
  /** Where pod addresses come from when the node has no spec.podCIDR (simulated nodes). */
  podCIDR?: string;
}

export interface NodePressure {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

export const NO_PRESSURE: NodePressure = { memory: false, disk: false, pid: false };

/** Upstream's GOARCH names for node's process.arch. */
export function goArch(arch: string = process.arch): string {
  switch (arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    case 'arm':
    case 'arm64':
    case 'ppc64':
    case 's390x':
    case 'riscv64':
      return arch;
    default:
      return arch;
  }
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function osImage(): string {
  const text = readTrimmed('/etc/os-release');
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return m?.[1] ?? `${os.type()} ${os.release()}`;
}

/** The host's first non-internal IPv4 address (IPv6 if there is none), 127.0.0.1 as a last resort. */
export function hostIPv4(): string {
  const all = Object.values(os.networkInterfaces()).flatMap((l) => l ?? []);
  const v4 = all.find((a) => a.family === 'IPv4' && !a.internal);
  const v6 = all.find((a) => a.family === 'IPv6' && !a.internal && !a.address.startsWith('fe80'));
  return v4?.address ?? v6?.address ?? '127.0.0.1';
}

function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function defaultLabels(name: string, arch: string): Record<string, string> {
  return {
    [LABEL_BETA_ARCH]: arch,
    [LABEL_BETA_OS]: 'linux',
    [LABEL_ARCH]: arch,
    [LABEL_HOSTNAME]: name,
    [LABEL_OS]: 'linux',
  };
}

export interface HostNodeOptions {
  name?: string;
  nodeIP?: string;
  controlPlane?: boolean;
  labels?: Record<string, string>;
  runtimeVersion: string;
  /** The file system whose size is the node's ephemeral-storage (default /). */
  dataDir?: string;
  maxPods?: number;
  /** The port of the node's own API (logs, exec, port-forward); default 10250. */
  daemonPort?: number;
}

/**
 * The node this machine is, measured: CPUs, memory, the data file system, addresses and identity.
 * Allocatable keeps back upstream's default hard eviction thresholds (memory.available 100Mi,
 * nodefs.available 10%).
 */
export function hostNodeConfig(opts: HostNodeOptions): NodeConfig {
  const hostname = os.hostname().toLowerCase();
  const name = (opts.name ?? hostname).toLowerCase();
  const arch = goArch();
  const memKi = Math.floor(os.totalmem() / 1024);
  let storageBytes = 0;
  try {
    const fs = statfsSync(opts.dataDir ?? '/');
    storageBytes = fs.blocks * fs.bsize;
  } catch {
    storageBytes = 0;
  }
  const cpus = String(os.cpus().length || 1);
  const pods = String(opts.maxPods ?? DEFAULT_MAX_PODS);
  const labels = { ...defaultLabels(name, arch), ...opts.labels };
  if (opts.controlPlane) labels[LABEL_CONTROL_PLANE] = '';
  return {
    name,
    labels,
    annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    capacity: {
      cpu: cpus,
      'ephemeral-storage': `${Math.floor(storageBytes / 1024)}Ki`,
      'hugepages-1Gi': '0',
      'hugepages-2Mi': '0',
      memory: `${memKi}Ki`,
      pods,
    },
    allocatable: {
      cpu: cpus,
      'ephemeral-storage': String(Math.floor(storageBytes * 0.9)),
      'hugepages-1Gi': '0',
      'hugepages-2Mi': '0',
      memory: `${Math.max(0, memKi - 100 * 1024)}Ki`,
      pods,
    },
    internalIP: opts.nodeIP ?? hostIPv4(),
    hostname: name === hostname ? hostname : name,
    nodeInfo: {
      architecture: arch,
      bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
      containerRuntimeVersion: opts.runtimeVersion,
      kernelVersion: os.release(),
      kubeProxyVersion: KUBELET_VERSION,
      kubeletVersion: KUBELET_VERSION,
      machineID: readTrimmed('/etc/machine-id') || readTrimmed('/var/lib/dbus/machine-id'),
      operatingSystem: 'linux',
      osImage: osImage(),
      systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid'),
    },
    daemonPort: opts.daemonPort ?? KUBELET_PORT,
  };
}

/** Pressure on this machine, against upstream's default hard eviction thresholds. */
export function hostPressure(dataDir = '/'): NodePressure {
  let memory = false;
  const meminfo = readTrimmed('/proc/meminfo');
  const avail = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo);
  if (avail?.[1]) memory = Number(avail[1]) < 100 * 1024;
  let disk = false;
  try {
    const fs = statfsSync(dataDir);
    disk = fs.blocks > 0 && fs.bavail / fs.blocks < 0.1;
  } catch {
    disk = false;
  }
  return { memory, disk, pid: false };
}

export interface FakeNodeOptions {
  /** Per node: cpu (default "32"), memory ("256Gi"), ephemeral-storage ("1Ti"), pods (110). */
  cpu?: string;
  memory?: string;
  ephemeralStorage?: string;
  pods?: number;
  instanceType?: string;
  labels?: Record<string, string>;
  architecture?: string;
}

/** A simulated node: named as given, fixed resources, made-up but stable identity. */
export function fakeNodeConfig(
  name: string,
  internalIP: string,
  podCIDR: string | undefined,
  opts: FakeNodeOptions = {},
  controlPlane = false,
): NodeConfig {
  const arch = opts.architecture ?? 'amd64';
  const resources: Record<string, string> = {
    cpu: opts.cpu ?? '32',
    'ephemeral-storage': opts.ephemeralStorage ?? '1Ti',
    memory: opts.memory ?? '256Gi',
    pods: String(opts.pods ?? DEFAULT_MAX_PODS),
  };
  const labels: Record<string, string> = {
    ...defaultLabels(name, arch),
    [LABEL_INSTANCE_TYPE]: opts.instanceType ?? 'k8ts-fake',
    ...opts.labels,
  };
  if (controlPlane) labels[LABEL_CONTROL_PLANE] = '';
  const cfg: NodeConfig = {
    name,
    labels,
    annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    capacity: { ...resources },
    allocatable: { ...resources },
    internalIP,
    hostname: name,
    nodeInfo: {
      architecture: arch,
      bootID: uuidFrom(`boot/${name}`),
      containerRuntimeVersion: 'fake://k8ts',
      kernelVersion: os.release(),
      kubeProxyVersion: KUBELET_VERSION,
      kubeletVersion: KUBELET_VERSION,
      machineID: createHash('sha256').update(`machine/${name}`).digest('hex').slice(0, 32),
      operatingSystem: 'linux',
      osImage: 'k8ts simulated node',
      systemUUID: uuidFrom(`system/${name}`),
    },
    daemonPort: KUBELET_PORT,
  };
  if (podCIDR) cfg.podCIDR = podCIDR;
  return cfg;
}

/** The Node to create when registering. */
export function initialNode(cfg: NodeConfig, now = Date.now()): Node {
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: cfg.name, labels: { ...cfg.labels } },
    spec: {},
  };
  if (cfg.annotations) node.metadata.annotations = { ...cfg.annotations };
  node.status = computeNodeStatus(cfg, undefined, NO_PRESSURE, now);
  return node;
}

/**
 * Labels an already registered node must get or change (upstream's updateDefaultLabels: the
 * kubelet owns hostname, os, arch and instance-type), or undefined when none.
 */
export function labelsToReconcile(existing: Node, cfg: NodeConfig): Record<string, string> | undefined {
  const have = existing.metadata.labels ?? {};
  const owned = [
    LABEL_HOSTNAME,
    LABEL_OS,
    LABEL_ARCH,
    LABEL_BETA_OS,
    LABEL_BETA_ARCH,
    LABEL_INSTANCE_TYPE,
    LABEL_CONTROL_PLANE,
  ];
  const out: Record<string, string> = {};
  for (const k of owned) {
    const want = cfg.labels[k];
    if (want !== undefined && have[k] !== want) out[k] = want;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

interface ConditionSpec {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

function pressureCondition(
  type: string,
  pressure: boolean,
  yes: [string, string],
  no: [string, string],
): ConditionSpec {
  const [reason, message] = pressure ? yes : no;
  return { type, status: pressure ? 'True' : 'False', reason, message };
}

/** The four conditions the agent owns, in upstream's order (Ready last). */
export function nodeConditionSpecs(
  cfg: NodeConfig,
  pressure: NodePressure,
  runtimeErrors: readonly string[] = [],
): ConditionSpec[] {
  const missing = ['cpu', 'memory', 'pods', 'ephemeral-storage'].filter((r) => cfg.capacity[r] === undefined);
  const errors = [...runtimeErrors];
  if (missing.length > 0) errors.push(`Missing node capacity for resources: ${missing.join(', ')}`);
  return [
    pressureCondition(
      'MemoryPressure',
      pressure.memory,
      ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
      ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    ),
    pressureCondition(
      'DiskPressure',
      pressure.disk,
      ['KubeletHasDiskPressure', 'kubelet has disk pressure'],
      ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    ),
    pressureCondition(
      'PIDPressure',
      pressure.pid,
      ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
      ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    ),
    errors.length > 0
      ? { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: errors.join(',') }
      : { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
  ];
}

const OWNED_CONDITIONS = new Set(['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']);

/**
 * The node status to report now. Conditions other components own (NetworkUnavailable, ...) come
 * first, unchanged; ours keep their lastTransitionTime while their status stays the same.
 */
export function computeNodeStatus(
  cfg: NodeConfig,
  current: NodeStatus | undefined,
  pressure: NodePressure,
  now: number,
  runtimeErrors: readonly string[] = [],
): NodeStatus {
  const nowText = rfc3339(now);
  const old = current?.conditions ?? [];
  const conditions: NodeCondition[] = old.filter((c) => !OWNED_CONDITIONS.has(c.type)).map((c) => ({ ...c }));
  for (const spec of nodeConditionSpecs(cfg, pressure, runtimeErrors)) {
    const prev = old.find((c) => c.type === spec.type);
    conditions.push({
      type: spec.type,
      status: spec.status,
      lastHeartbeatTime: nowText,
      lastTransitionTime:
        prev && prev.status === spec.status && prev.lastTransitionTime ? prev.lastTransitionTime : nowText,
      reason: spec.reason,
      message: spec.message,
    });
  }
  return {
    capacity: { ...cfg.capacity },
    allocatable: { ...cfg.allocatable },
    conditions,
    addresses: [
      { type: 'InternalIP', address: cfg.internalIP },
      { type: 'Hostname', address: cfg.hostname },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: cfg.daemonPort } },
    nodeInfo: { ...cfg.nodeInfo },
  };
}

/** The status fields the agent writes. */
export const WRITTEN_NODE_STATUS_FIELDS = [
  'capacity',
  'allocatable',
  'conditions',
  'addresses',
  'daemonEndpoints',
  'nodeInfo',
] as const;

function withoutHeartbeats(conditions: NodeCondition[] | undefined): NodeCondition[] {
  return (conditions ?? []).map((c) => ({ ...c, lastHeartbeatTime: undefined }));
}

/** Whether the status changed in anything but heartbeat times (upstream's nodeStatusHasChanged). */
export function nodeStatusChanged(old: NodeStatus | undefined, next: NodeStatus): boolean {
  if (!old) return true;
  for (const k of WRITTEN_NODE_STATUS_FIELDS) {
    if (k === 'conditions') {
      if (!semanticEqual(withoutHeartbeats(old.conditions), withoutHeartbeats(next.conditions))) return true;
    } else if (!semanticEqual(old[k], next[k])) return true;
  }
  return false;
}

/** The merge patch that writes a node status. */
export function nodeStatusPatch(status: NodeStatus): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of WRITTEN_NODE_STATUS_FIELDS) out[k] = status[k] ?? null;
  return { status: out };
}
