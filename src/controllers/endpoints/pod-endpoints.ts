// What the Endpoints and EndpointSlice controllers share (upstream's endpointutil and
// endpointslice util): which pods back a service, which address and ports each contributes, and
// which services a pod event concerns.
import { isIP } from 'node:net';
import type { Container, ObjectReference, Pod, Service, ServicePort } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { Lister } from '../../client/informer.js';
import { isPodReady } from '../common/pods.js';
import { setMatcher } from '../common/selectors.js';

export type PodObj = Pod & KubeObject;
export type ServiceObj = Service & KubeObject;

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const ANNOTATION_LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

export function isHeadless(svc: ServiceObj): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** Terminal pods, pods without an IP and (unless asked) terminating pods never back a service. */
export function shouldPodBeInEndpoints(pod: PodObj, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!pod.status?.podIP && (pod.status?.podIPs ?? []).length === 0) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** The pod's hostname is published when its subdomain names the (headless) service (upstream's ShouldSetHostname). */
export function shouldSetHostname(pod: PodObj, svc: ServiceObj): boolean {
  const hostname = pod.spec?.hostname ?? '';
  return (
    hostname.length > 0 &&
    pod.spec?.subdomain === svc.metadata.name &&
    svc.metadata.namespace === pod.metadata.namespace
  );
}

export type IpFamily = 'IPv4' | 'IPv6';

export function podIps(pod: PodObj): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip) => !!ip);
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips;
}

export function ipFamilyOf(ip: string): IpFamily | undefined {
  const v = isIP(ip);
  return v === 4 ? 'IPv4' : v === 6 ? 'IPv6' : undefined;
}

/** The IP families a service's endpoints are published for. */
export function serviceIpFamilies(svc: ServiceObj): IpFamily[] {
  const fams = (svc.spec?.ipFamilies ?? []).filter((f): f is IpFamily => f === 'IPv4' || f === 'IPv6');
  if (fams.length > 0) return fams;
  const cip = svc.spec?.clusterIP;
  const fam = cip && cip !== 'None' ? ipFamilyOf(cip) : undefined;
  return [fam ?? 'IPv4'];
}

/** The pod's address in the given family. */
export function podIpForFamily(pod: PodObj, family: IpFamily): string | undefined {
  return podIps(pod).find((ip) => ipFamilyOf(ip) === family);
}

export function podReference(pod: PodObj): ObjectReference {
  return { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
}

function containersWithPorts(pod: PodObj): Container[] {
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  return [...(pod.spec?.containers ?? []), ...sidecars];
}

/** The pod's port for a service port: a number as is, a name looked up among the container ports (upstream's FindPort). */
export function findPort(pod: PodObj, sp: ServicePort): number | undefined {
  const target = sp.targetPort;
  if (target === undefined || target === null || target === '') return sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number.parseInt(target, 10);
  const protocol = sp.protocol ?? 'TCP';
  for (const c of containersWithPorts(pod))
    for (const p of c.ports ?? [])
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  return undefined;
}

/** Pods in the service's namespace its selector picks (a service without a selector has none). */
export function podsForService(pods: Lister<PodObj>, svc: ServiceObj): PodObj[] {
  const sel = svc.spec?.selector;
  if (!sel) return [];
  const m = setMatcher(sel);
  return pods.list(svc.metadata.namespace ?? '', (p) => m(p.metadata.labels));
}

/** Keys of the services in pod's namespace whose selector picks one of the given label sets. */
export function servicesForPod(
  services: Lister<ServiceObj>,
  namespace: string,
  ...labelSets: Array<Record<string, string> | undefined>
): string[] {
  const out: string[] = [];
  for (const svc of services.list(namespace)) {
    const sel = svc.spec?.selector;
    if (!sel) continue;
    const m = setMatcher(sel);
    if (labelSets.some((l) => m(l))) out.push(`${namespace}/${svc.metadata.name ?? ''}`);
  }
  return out;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => a?.[k] === b?.[k]);
}

/** Whether a pod update can change what it contributes to endpoints (upstream's podEndpointsChanged). */
export function podEndpointsChanged(
  oldPod: PodObj,
  newPod: PodObj,
): { labelsChanged: boolean; changed: boolean } {
  const labelsChanged = !sameLabels(oldPod.metadata.labels, newPod.metadata.labels);
  if (labelsChanged) return { labelsChanged, changed: true };
  if (!!oldPod.metadata.deletionTimestamp !== !!newPod.metadata.deletionTimestamp)
    return { labelsChanged, changed: true };
  if (isPodReady(oldPod) !== isPodReady(newPod)) return { labelsChanged, changed: true };
  const sig = (p: PodObj): string =>
    JSON.stringify([
      podIps(p),
      p.status?.phase,
      p.spec?.nodeName,
      p.spec?.hostname,
      p.spec?.subdomain,
      containersWithPorts(p).map((c) => c.ports ?? []),
      p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime,
    ]);
  return { labelsChanged, changed: sig(oldPod) !== sig(newPod) };
}

/** Pod handlers shared by both controllers: enqueue the services a pod change concerns. */
export function podHandlers(services: Lister<ServiceObj>, enqueue: (key: string) => void) {
  const forPod = (pod: PodObj, ...extra: Array<Record<string, string> | undefined>): void => {
    for (const k of servicesForPod(services, pod.metadata.namespace ?? '', pod.metadata.labels, ...extra))
      enqueue(k);
  };
  return {
    onAdd: (pod: PodObj) => forPod(pod),
    onUpdate: (oldPod: PodObj, newPod: PodObj) => {
      if (oldPod.metadata.resourceVersion === newPod.metadata.resourceVersion) return;
      const c = podEndpointsChanged(oldPod, newPod);
      if (!c.changed) return;
      if (c.labelsChanged) forPod(newPod, oldPod.metadata.labels);
      else forPod(newPod);
    },
    onDeletePod: (pod: PodObj) => forPod(pod),
  };
}
