// Small builders for Nodes and Pods in scheduler tests and benchmarks.
import type {
  Affinity,
  Node,
  Pod,
  Taint,
  Toleration,
  TopologySpreadConstraint,
} from '../../api/generated/types.js';

export interface NodeSpecInput {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  images?: Array<{ names: string[]; sizeBytes: number }>;
  extended?: Record<string, string>;
}

export function makeNode(name: string, o: NodeSpecInput = {}): Node {
  const allocatable: Record<string, string> = {
    cpu: o.cpu ?? '4',
    memory: o.memory ?? '8Gi',
    pods: String(o.pods ?? 110),
    'ephemeral-storage': '100Gi',
    ...(o.extended ?? {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { allocatable, capacity: { ...allocatable }, ...(o.images ? { images: o.images } : {}) },
  };
}

export interface PodSpecInput {
  namespace?: string;
  cpu?: string;
  memory?: string;
  priority?: number;
  labels?: Record<string, string>;
  nodeName?: string;
  schedulerName?: string;
  tolerations?: Toleration[];
  nodeSelector?: Record<string, string>;
  affinity?: Affinity;
  topologySpreadConstraints?: TopologySpreadConstraint[];
  hostPorts?: number[];
  image?: string;
  preemptionPolicy?: string;
  initCpu?: string;
  extended?: Record<string, string>;
  volumes?: Array<{ name: string; claimName: string }>;
}

export function makePod(name: string, o: PodSpecInput = {}): Pod {
  const requests: Record<string, string> = { ...(o.extended ?? {}) };
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels ?? {} },
    spec: {
      containers: [
        {
          name: 'c',
          image: o.image ?? 'registry.k8s.io/pause:3.10',
          resources:
            Object.keys(requests).length > 0
              ? { requests, ...(o.extended ? { limits: { ...o.extended } } : {}) }
              : {},
          ...(o.hostPorts ? { ports: o.hostPorts.map((p) => ({ containerPort: p, hostPort: p })) } : {}),
        },
      ],
      ...(o.initCpu
        ? {
            initContainers: [{ name: 'init', image: 'busybox', resources: { requests: { cpu: o.initCpu } } }],
          }
        : {}),
      schedulerName: o.schedulerName ?? 'default-scheduler',
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
      ...(o.topologySpreadConstraints ? { topologySpreadConstraints: o.topologySpreadConstraints } : {}),
      ...(o.preemptionPolicy ? { preemptionPolicy: o.preemptionPolicy } : {}),
      ...(o.volumes
        ? {
            volumes: o.volumes.map((v) => ({
              name: v.name,
              persistentVolumeClaim: { claimName: v.claimName },
            })),
          }
        : {}),
    },
    status: { phase: 'Pending' },
  };
}
