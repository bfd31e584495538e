// The CRI ContainerConfig for one container of a pod, as kubelet's generateContainerConfig builds
// it: metadata with the attempt, the image, command and args expanded from the environment,
// mounts for the pod's volumes and the termination message file, kubelet's labels and
// annotations, and Linux resources (cgroup CPU shares and quota, memory limit, OOM score by QoS
// class) and security settings.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, Pod } from '../../api/generated/types.js';
import { podQOSClass } from '../../api/kinds/pod.js';
import type {
  ContainerConfig,
  LinuxContainerResources,
  LinuxContainerSecurityContext,
  Mount,
  MountPropagation,
} from '../cri/types.js';
import {
  bytesOf,
  ContainerConfigError,
  expandCommand,
  expandVars,
  milliCPU,
  type NodeCapacity,
} from './env.js';
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_CONTAINER_PORTS,
  ANNOTATION_CONTAINER_TYPE,
  ANNOTATION_GRACE_PERIOD,
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_FILE,
  ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY,
  containerLabels,
  type ContainerType,
} from './labels.js';
import { namespaceOptions } from './sandbox.js';
import { readOnlyVolumes } from './volumes.js';

export const CPU_PERIOD_US = 100_000;
const MIN_SHARES = 2;
const MIN_QUOTA_US = 1000;

/** A hash of what decides how a container runs; a running container whose hash differs is restarted. */
export function containerHash(c: Container): string {
  const relevant = {
    name: c.name,
    image: c.image,
    command: c.command,
    args: c.args,
    workingDir: c.workingDir,
    env: c.env,
    envFrom: c.envFrom,
    ports: c.ports,
    volumeMounts: c.volumeMounts,
    securityContext: c.securityContext,
    tty: c.tty,
    stdin: c.stdin,
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 8);
}

/** OOM score adjustment by QoS class, as kubelet's qos policy sets it. */
export function oomScoreAdj(pod: Pod, c: Container, capacity: NodeCapacity): number {
  const qos = podQOSClass((pod.spec ?? {}) as unknown as Record<string, unknown>);
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  const req = bytesOf(c.resources?.requests?.memory) ?? 0;
  const adj = 1000 - Math.floor((1000 * req) / Math.max(1, capacity.memoryBytes));
  return Math.min(999, Math.max(3, adj));
}

export function linuxResources(pod: Pod, c: Container, capacity: NodeCapacity): LinuxContainerResources {
  const reqCPU = milliCPU(c.resources?.requests?.cpu) ?? milliCPU(c.resources?.limits?.cpu) ?? 0;
  const limCPU = milliCPU(c.resources?.limits?.cpu);
  const limMem = bytesOf(c.resources?.limits?.memory);
  const res: LinuxContainerResources = {
    cpuShares: Math.max(MIN_SHARES, Math.floor((reqCPU * 1024) / 1000)),
    oomScoreAdj: oomScoreAdj(pod, c, capacity),
  };
  if (limCPU !== undefined && limCPU > 0) {
    res.cpuPeriod = CPU_PERIOD_US;
    res.cpuQuota = Math.max(MIN_QUOTA_US, Math.floor((limCPU * CPU_PERIOD_US) / 1000));
  }
  if (limMem !== undefined && limMem > 0) res.memoryLimitInBytes = limMem;
  return res;
}

function propagation(p: string | undefined): MountPropagation {
  if (p === 'HostToContainer') return 'PROPAGATION_HOST_TO_CONTAINER';
  if (p === 'Bidirectional') return 'PROPAGATION_BIDIRECTIONAL';
  return 'PROPAGATION_PRIVATE';
}

export function securityContext(pod: Pod, c: Container): LinuxContainerSecurityContext {
  const ps = pod.spec?.securityContext;
  const cs = c.securityContext;
  const runAsUser = cs?.runAsUser ?? ps?.runAsUser;
  const runAsGroup = cs?.runAsGroup ?? ps?.runAsGroup;
  return {
    privileged: cs?.privileged === true,
    namespaceOptions: namespaceOptions(pod),
    ...(runAsUser !== undefined ? { runAsUser: { value: runAsUser } } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup: { value: runAsGroup } } : {}),
    readonlyRootfs: cs?.readOnlyRootFilesystem === true,
    supplementalGroups: [
      ...(ps?.supplementalGroups ?? []),
      ...(ps?.fsGroup !== undefined ? [ps.fsGroup] : []),
    ],
    noNewPrivs: cs?.allowPrivilegeEscalation === false,
    ...(cs?.capabilities
      ? {
          capabilities: {
            addCapabilities: cs.capabilities.add ?? [],
            dropCapabilities: cs.capabilities.drop ?? [],
          },
        }
      : {}),
  };
}

export interface ContainerConfigInput {
  pod: Pod;
  container: Container;
  type: ContainerType;
  attempt: number;
  /** The normalized image reference to run. */
  image: string;
  env: Array<{ key: string; value: string }>;
  /** Volume name → host path (from VolumeManager.prepare). */
  volumes: ReadonlyMap<string, string>;
  /** The pod's folder on the host (for the termination message file). */
  podDir: string;
  capacity: NodeCapacity;
  /** The pod's managed hosts file, mounted at /etc/hosts unless the container mounts its own. */
  etcHosts?: string;
}

export function containerConfig(i: ContainerConfigInput): ContainerConfig {
  const { pod, container: c } = i;
  const md = pod.metadata;
  const ns = md.namespace ?? 'default';
  const vars = new Map(i.env.map((e) => [e.key, e.value]));
  const mounts: Mount[] = [];
  const forcedReadOnly = readOnlyVolumes(pod);
  for (const m of c.volumeMounts ?? []) {
    const base = i.volumes.get(m.name);
    if (base === undefined)
      throw new ContainerConfigError(`cannot find volume "${m.name}" to mount into container "${c.name}"`);
    let hostPath = base;
    const sub = m.subPathExpr ? expandVars(m.subPathExpr, vars) : m.subPath;
    if (sub) {
      if (sub.startsWith('/') || sub.split('/').includes('..'))
        throw new ContainerConfigError(`invalid subPath ${JSON.stringify(sub)}`);
      hostPath = join(base, sub);
      mkdirSync(hostPath, { recursive: true, mode: 0o755 });
    }
    mounts.push({
      containerPath: m.mountPath,
      hostPath,
      readonly: m.readOnly === true || forcedReadOnly.has(m.name),
      propagation: propagation(m.mountPropagation),
    });
  }
  if (i.etcHosts && !mounts.some((m) => m.containerPath === '/etc/hosts'))
    mounts.push({
      containerPath: '/etc/hosts',
      hostPath: i.etcHosts,
      readonly: false,
      propagation: 'PROPAGATION_PRIVATE',
    });
  const annotations: Record<string, string> = {
    [ANNOTATION_CONTAINER_HASH]: containerHash(c),
    [ANNOTATION_RESTART_COUNT]: String(i.attempt),
    [ANNOTATION_TERMINATION_MESSAGE_POLICY]: c.terminationMessagePolicy ?? 'File',
    [ANNOTATION_GRACE_PERIOD]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
    [ANNOTATION_CONTAINER_TYPE]: i.type,
  };
  const termPath = c.terminationMessagePath ?? '/dev/termination-log';
  if (termPath) {
    const dir = join(i.podDir, 'containers', c.name);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `termination-${i.attempt}`);
    writeFileSync(file, '', { mode: 0o666 });
    mounts.push({
      containerPath: termPath,
      hostPath: file,
      readonly: false,
      propagation: 'PROPAGATION_PRIVATE',
    });
    annotations[ANNOTATION_TERMINATION_MESSAGE_PATH] = termPath;
    annotations[ANNOTATION_TERMINATION_FILE] = file;
  }
  if (c.ports?.length) annotations[ANNOTATION_CONTAINER_PORTS] = JSON.stringify(c.ports);
  const { command, args } = expandCommand(c, i.env);
  return {
    metadata: { name: c.name, attempt: i.attempt },
    image: { image: i.image, userSpecifiedImage: c.image ?? '' },
    command,
    args,
    workingDir: c.workingDir ?? '',
    envs: i.env,
    mounts,
    labels: containerLabels(ns, md.name ?? '', md.uid ?? '', c.name),
    annotations,
    logPath: join(c.name, `${i.attempt}.log`),
    stdin: c.stdin === true,
    stdinOnce: c.stdinOnce === true,
    tty: c.tty === true,
    linux: { resources: linuxResources(pod, c, i.capacity), securityContext: securityContext(pod, c) },
  };
}
