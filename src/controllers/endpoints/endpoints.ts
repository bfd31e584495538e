// The Endpoints controller (upstream's pkg/controller/endpoint): for every Service with a
// selector, an Endpoints object of the same name listing the matching pods that have an IP — ready
// ones under addresses, the others under notReadyAddresses (all under addresses when the service
// publishes not-ready addresses) — with one subset per distinct set of resolved ports. Services
// without a selector are left alone (their Endpoints are someone else's); the Endpoints of a
// deleted service go with it. The object is written only when its subsets or labels changed.
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { Lister } from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { isAlreadyExists, isNamespaceTerminating, isNotFound } from '../common/errors.js';
import { isPodReady } from '../common/pods.js';
import {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  findPort,
  isHeadless,
  LABEL_HEADLESS,
  podIpForFamily,
  podReference,
  podsForService,
  serviceIpFamilies,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  type PodObj,
  type ServiceObj,
} from './pod-endpoints.js';
import { formatTriggerTime, TriggerTimeTracker } from './trigger-time.js';

export type EndpointsObj = Endpoints & KubeObject;

/** Upstream's maxCapacity: addresses beyond it are truncated and the object annotated. */
export const MAX_ENDPOINTS_CAPACITY = 1000;
export const ANNOTATION_OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
/** The label recent upstream releases put on the Endpoints they manage. */
export const LABEL_ENDPOINTS_MANAGED_BY = 'endpoints.kubernetes.io/managed-by';
export const ENDPOINTS_CONTROLLER_NAME = 'endpoint-controller';
/** Endpoints carrying this annotation are leader-election locks, never cleaned up. */
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

const writesTotal = metrics.counter(
  'k8ts_endpoints_controller_writes_total',
  'Endpoints writes by the endpoints controller, by verb.',
);

export interface EndpointsClient {
  create(namespace: string, ep: EndpointsObj): Promise<void>;
  update(ep: EndpointsObj): Promise<void>;
  delete(namespace: string, name: string): Promise<void>;
}

export interface EndpointsControllerOptions {
  services: Lister<ServiceObj>;
  pods: Lister<PodObj>;
  endpoints: Lister<EndpointsObj>;
  client: EndpointsClient;
  log: Logger;
}

function addressKey(a: EndpointAddress): string {
  return `${a.ip}/${a.targetRef?.uid ?? ''}`;
}

function portKey(p: EndpointPort): string {
  return `${p.name ?? ''}/${p.port}/${p.protocol ?? ''}/${p.appProtocol ?? ''}`;
}

/**
 * Builds subsets from (address, readiness, port) facts as upstream's RepackSubsets does: each port
 * maps to the addresses offering it, and ports offered by exactly the same addresses (with the
 * same readiness) share one subset. An address ready on a port in any fact counts as ready there.
 */
export function repackSubsets(
  entries: Array<{ address: EndpointAddress; ready: boolean; ports: EndpointPort[] }>,
): EndpointSubset[] {
  const ports = new Map<
    string,
    { port: EndpointPort; addrs: Map<string, { address: EndpointAddress; ready: boolean }> }
  >();
  const noPorts = new Map<string, { address: EndpointAddress; ready: boolean }>();
  const note = (
    m: Map<string, { address: EndpointAddress; ready: boolean }>,
    a: EndpointAddress,
    ready: boolean,
  ): void => {
    const k = addressKey(a);
    const prev = m.get(k);
    m.set(k, { address: a, ready: ready || (prev?.ready ?? false) });
  };
  for (const e of entries) {
    if (e.ports.length === 0) note(noPorts, e.address, e.ready);
    for (const p of e.ports) {
      const pk = portKey(p);
      let slot = ports.get(pk);
      if (!slot) ports.set(pk, (slot = { port: p, addrs: new Map() }));
      note(slot.addrs, e.address, e.ready);
    }
  }
  const sortAddrs = (list: EndpointAddress[]): EndpointAddress[] =>
    list.sort((a, b) =>
      a.ip === b.ip ? (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '') : compareIps(a.ip, b.ip),
    );
  const bySet = new Map<
    string,
    { addrs: Map<string, { address: EndpointAddress; ready: boolean }>; ports: EndpointPort[] }
  >();
  const setKey = (m: Map<string, { ready: boolean }>): string =>
    [...m.entries()]
      .map(([k, v]) => `${k}=${v.ready ? 1 : 0}`)
      .sort()
      .join(',');
  for (const { port, addrs } of ports.values()) {
    const k = setKey(addrs);
    const g = bySet.get(k);
    if (g) g.ports.push(port);
    else bySet.set(k, { addrs, ports: [port] });
  }
  if (noPorts.size > 0) bySet.set(`noports|${setKey(noPorts)}`, { addrs: noPorts, ports: [] });
  const out: Array<{ key: string; subset: EndpointSubset }> = [];
  for (const [key, g] of bySet) {
    const subset: EndpointSubset = {};
    const all = [...g.addrs.values()];
    const ready = all.filter((a) => a.ready).map((a) => a.address);
    const notReady = all.filter((a) => !a.ready).map((a) => a.address);
    if (ready.length > 0) subset.addresses = sortAddrs(ready);
    if (notReady.length > 0) subset.notReadyAddresses = sortAddrs(notReady);
    if (g.ports.length > 0) subset.ports = [...g.ports].sort((a, b) => portKey(a).localeCompare(portKey(b)));
    out.push({ key, subset });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key)).map((o) => o.subset);
}

function compareIps(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4 && pa.every(Number.isFinite) && pb.every(Number.isFinite)) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
    return 0;
  }
  return a.localeCompare(b);
}

/** The subsets a service's pods make (upstream's syncService loop). */
export function desiredSubsets(svc: ServiceObj, pods: readonly PodObj[], log?: Logger): EndpointSubset[] {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const family = serviceIpFamilies(svc)[0] ?? 'IPv4';
  const entries: Array<{ address: EndpointAddress; ready: boolean; ports: EndpointPort[] }> = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const ip = podIpForFamily(pod, family);
    if (!ip) {
      log?.debug('no pod address of the service family', { pod: pod.metadata.name, family });
      continue;
    }
    const address: EndpointAddress = { ip, targetRef: podReference(pod) };
    if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
    if (shouldSetHostname(pod, svc)) address.hostname = pod.spec?.hostname;
    const ready = tolerateUnready || isPodReady(pod);
    const svcPorts = svc.spec?.ports ?? [];
    if (svcPorts.length === 0) {
      if (isHeadless(svc)) entries.push({ address, ready, ports: [] });
      continue;
    }
    for (const sp of svcPorts) {
      const port = findPort(pod, sp);
      if (port === undefined) {
        log?.debug('failed to find the port for a service', {
          pod: pod.metadata.name,
          port: sp.name ?? sp.port,
        });
        continue;
      }
      const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) ep.name = sp.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      entries.push({ address, ready, ports: [ep] });
    }
  }
  return repackSubsets(entries);
}

/** Truncates to MAX_ENDPOINTS_CAPACITY addresses, ready ones first (upstream's truncateEndpoints). */
export function truncateSubsets(subsets: EndpointSubset[]): {
  subsets: EndpointSubset[];
  truncated: boolean;
} {
  const total = subsets.reduce(
    (n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0),
    0,
  );
  if (total <= MAX_ENDPOINTS_CAPACITY) return { subsets, truncated: false };
  let room = MAX_ENDPOINTS_CAPACITY;
  const out = structuredClone(subsets);
  for (const s of out) {
    const r = s.addresses ?? [];
    if (r.length > room) s.addresses = r.slice(0, room);
    room -= s.addresses?.length ?? 0;
  }
  for (const s of out) {
    const n = s.notReadyAddresses ?? [];
    if (n.length > room) s.notReadyAddresses = n.slice(0, Math.max(room, 0));
    room -= s.notReadyAddresses?.length ?? 0;
    if (s.notReadyAddresses?.length === 0) delete s.notReadyAddresses;
    if (s.addresses?.length === 0) delete s.addresses;
  }
  return { subsets: out, truncated: true };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function normalizeSubsets(s: EndpointSubset[] | undefined): EndpointSubset[] {
  return (s ?? []).filter((x) => (x.addresses?.length ?? 0) + (x.notReadyAddresses?.length ?? 0) > 0);
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a?.[k] === b[k]);
}

export class EndpointsController {
  private readonly triggers = new TriggerTimeTracker();

  constructor(private readonly o: EndpointsControllerOptions) {}

  /** Keys of Endpoints that may be left over from deleted services (upstream's checkLeftoverEndpoints). */
  leftoverKeys(): string[] {
    return this.o.endpoints
      .list()
      .filter((ep) => ep.metadata.annotations?.[LEADER_ANNOTATION] === undefined)
      .map((ep) => `${ep.metadata.namespace ?? ''}/${ep.metadata.name ?? ''}`);
  }

  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const svc = this.o.services.get(namespace, name);
    if (!svc) {
      this.triggers.forget(key);
      // The service is gone: its Endpoints go too.
      try {
        await this.o.client.delete(namespace, name);
        writesTotal.inc({ verb: 'delete' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    if (svc.spec?.type === 'ExternalName') return;
    if (!svc.spec?.selector) return;
    const pods = podsForService(this.o.pods, svc);
    const trigger = this.triggers.compute(key, svc, pods);
    const { subsets, truncated } = truncateSubsets(desiredSubsets(svc, pods, this.o.log));
    const current = this.o.endpoints.get(namespace, name);
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (isHeadless(svc)) labels[LABEL_HEADLESS] = '';
    else delete labels[LABEL_HEADLESS];
    labels[LABEL_ENDPOINTS_MANAGED_BY] = ENDPOINTS_CONTROLLER_NAME;
    const capacityOk = truncated
      ? current?.metadata.annotations?.[ANNOTATION_OVER_CAPACITY] === 'truncated'
      : current?.metadata.annotations?.[ANNOTATION_OVER_CAPACITY] === undefined;
    if (
      current &&
      sameJson(normalizeSubsets(current.subsets), subsets) &&
      sameLabels(current.metadata.labels, labels) &&
      capacityOk
    )
      return;

    const next: EndpointsObj = current
      ? structuredClone(current)
      : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
    // An empty list is left out, as upstream's omitempty does.
    if (subsets.length > 0) next.subsets = subsets;
    else delete next.subsets;
    next.metadata.labels = labels;
    const annotations = { ...(next.metadata.annotations ?? {}) };
    if (trigger !== undefined) annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] = formatTriggerTime(trigger);
    else delete annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
    if (truncated) annotations[ANNOTATION_OVER_CAPACITY] = 'truncated';
    else delete annotations[ANNOTATION_OVER_CAPACITY];
    if (Object.keys(annotations).length > 0) next.metadata.annotations = annotations;
    else delete next.metadata.annotations;
    try {
      if (current) {
        await this.o.client.update(next);
        writesTotal.inc({ verb: 'update' });
      } else {
        await this.o.client.create(namespace, next);
        writesTotal.inc({ verb: 'create' });
      }
    } catch (err) {
      // A namespace being deleted refuses creates: nothing to retry.
      if (!current && isNamespaceTerminating(err)) return;
      if (isAlreadyExists(err))
        throw new Error(`endpoints ${key} appeared meanwhile, will retry with the cached copy`);
      throw err;
    }
  }
}
