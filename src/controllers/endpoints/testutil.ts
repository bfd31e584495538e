// Pods and services for the endpoints controllers' unit tests.
import type { PodObj, ServiceObj } from './pod-endpoints.js';

export function svc(
  name: string,
  spec: ServiceObj['spec'],
  meta: Partial<ServiceObj['metadata']> = {},
): ServiceObj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: 'ns',
      uid: `svc-${name}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...meta,
    },
    spec,
  };
}

export interface PodOpts {
  ip?: string;
  ready?: boolean;
  readySince?: string;
  labels?: Record<string, string>;
  node?: string;
  hostname?: string;
  subdomain?: string;
  phase?: string;
  deleting?: boolean;
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
}

export function pod(name: string, o: PodOpts = {}): PodObj {
  const p: PodObj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      labels: o.labels ?? { app: 'web' },
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: {
      containers: [{ name: 'c', image: 'i', ports: o.ports ?? [{ name: 'http', containerPort: 8080 }] }],
    },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [
        {
          type: 'Ready',
          status: o.ready === false ? 'False' : 'True',
          lastTransitionTime: o.readySince ?? '2026-01-01T00:01:00Z',
        },
      ],
    },
  };
  if (o.ip !== '') {
    p.status!.podIP = o.ip ?? '10.0.0.1';
    p.status!.podIPs = [{ ip: o.ip ?? '10.0.0.1' }];
  }
  p.spec!.nodeName = o.node ?? 'n1';
  if (o.hostname) p.spec!.hostname = o.hostname;
  if (o.subdomain) p.spec!.subdomain = o.subdomain;
  if (o.deleting) p.metadata.deletionTimestamp = '2026-01-01T00:05:00Z';
  return p;
}
