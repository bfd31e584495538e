// What kube-apiserver creates at start: the system namespaces and the `kubernetes` Service (with its
// Endpoints) pointing at the server itself. Each step only runs when its kind is registered, and
// never overwrites what is already stored.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../api/meta.js';
import type { ResourceDescription } from '../api/types.js';
import type { Store } from '../storage/types.js';
import { KeyExistsError } from '../storage/errors.js';
import { encodeForStorage, nowTimestamp, toStorage } from './objects.js';
import { storageKey, type ResourceRegistry } from './resource-registry.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

export interface BootstrapContext {
  readonly store: Store;
  readonly registry: ResourceRegistry;
  /** The address clients in the cluster reach the server at. */
  readonly advertiseAddress: string;
  readonly port: number;
  /** First address of the service CIDR (10.96.0.1 for 10.96.0.0/12). */
  readonly kubernetesServiceIP?: string;
}

/** Stores an object as a create would (defaults, metadata), unless one exists under its key. */
export async function createIfMissing(
  store: Store,
  desc: ResourceDescription,
  obj: KubeObject,
): Promise<boolean> {
  const meta = obj.metadata;
  meta.uid = randomUUID();
  meta.creationTimestamp = nowTimestamp();
  desc.strategy?.default?.(obj);
  desc.strategy?.prepareForCreate?.(obj);
  try {
    await store.create(
      storageKey(desc, meta.namespace ?? '', meta.name ?? ''),
      encodeForStorage(toStorage(desc, obj)),
    );
    return true;
  } catch (err) {
    if (err instanceof KeyExistsError) return false;
    throw err;
  }
}

/** The first usable address of an IPv4 CIDR (network + 1). */
export function firstServiceIP(cidr: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const ip = ((Number(m[1]) << 24) >>> 0) + (Number(m[2]) << 16) + (Number(m[3]) << 8) + Number(m[4]);
  const bits = Number(m[5]);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const first = ((ip & mask) >>> 0) + 1;
  return [first >>> 24, (first >>> 16) & 255, (first >>> 8) & 255, first & 255].join('.');
}

export async function bootstrapDefaults(ctx: BootstrapContext): Promise<void> {
  const nsDesc = ctx.registry.byKind('', 'Namespace', 'v1');
  if (nsDesc)
    for (const name of SYSTEM_NAMESPACES)
      await createIfMissing(ctx.store, nsDesc, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
  const svcDesc = ctx.registry.byKind('', 'Service', 'v1');
  if (svcDesc && ctx.kubernetesServiceIP) {
    await createIfMissing(ctx.store, svcDesc, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: ctx.kubernetesServiceIP,
        clusterIPs: [ctx.kubernetesServiceIP],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: ctx.port }],
        sessionAffinity: 'None',
        internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: {} },
    });
  }
  const epDesc = ctx.registry.byKind('', 'Endpoints', 'v1');
  if (epDesc) {
    await createIfMissing(ctx.store, epDesc, {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
      },
      subsets: [
        {
          addresses: [{ ip: ctx.advertiseAddress }],
          ports: [{ name: 'https', port: ctx.port, protocol: 'TCP' }],
        },
      ],
    });
  }
  const sliceDesc = ctx.registry.byKind('discovery.k8s.io', 'EndpointSlice', 'v1');
  if (sliceDesc) {
    await createIfMissing(ctx.store, sliceDesc, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: {
          'kubernetes.io/service-name': 'kubernetes',
          'endpointslice.kubernetes.io/managed-by': 'k8ts-apiserver',
        },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [ctx.advertiseAddress], conditions: { ready: true } }],
      ports: [{ name: 'https', port: ctx.port, protocol: 'TCP' }],
    });
  }
}
