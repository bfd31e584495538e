// The EndpointSlice controller (upstream's pkg/controller/endpointslice): for every Service with a
// selector, EndpointSlices (generateName `<service>-`, owned by the service, labelled
// kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by) holding one endpoint per
// matching pod with an IP, per IP family of the service and per distinct set of resolved ports,
// at most 100 endpoints a slice. Terminating pods stay listed (ready false, serving as their
// readiness, terminating true); a service with no endpoints gets one empty placeholder slice.
//
// Slices are reused: endpoints that did not change stay where they are, new ones fill slices with
// room before new slices are made, and only slices whose content changed are written (creates
// first, then updates, then deletes). Because created slices have server-chosen names, the
// controller remembers what it wrote and does not act on a service until its slice cache has seen
// those writes (upstream's endpointSliceTracker), so a lagging cache never makes duplicates.
import type { DiscoveryEndpointPort, Endpoint, EndpointSlice, Node } from '../../api/generated/types.js';
import type { KubeObject, OwnerReference } from '../../api/meta.js';
import type { DeletedFinalStateUnknown, Lister, ResourceEventHandler } from '../../client/informer.js';
import { deletedObject } from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { realClock, type Clock } from '../common/clock.js';
import { isNamespaceTerminating, isNotFound } from '../common/errors.js';
import { isPodReady } from '../common/pods.js';
import {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  findPort,
  isHeadless,
  LABEL_HEADLESS,
  LABEL_SERVICE_NAME,
  podIpForFamily,
  podReference,
  podsForService,
  serviceIpFamilies,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  type IpFamily,
  type PodObj,
  type ServiceObj,
} from './pod-endpoints.js';
import { formatTriggerTime, TriggerTimeTracker } from './trigger-time.js';

export type EndpointSliceObj = EndpointSlice & KubeObject;
export type NodeObj = Node & KubeObject;

export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** Upstream's --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
/** How long the controller waits for its own writes to show in the cache before giving up on them. */
const TRACKER_TIMEOUT_MS = 30_000;

const changesTotal = metrics.counter(
  'k8ts_endpoint_slice_controller_changes_total',
  'EndpointSlice writes, by operation.',
);
const staleTotal = metrics.counter(
  'k8ts_endpoint_slice_controller_stale_cache_total',
  'Syncs deferred because the slice cache had not seen the last writes.',
);

export interface EndpointSliceClient {
  create(namespace: string, slice: EndpointSliceObj): Promise<EndpointSliceObj>;
  update(slice: EndpointSliceObj): Promise<EndpointSliceObj>;
  delete(namespace: string, name: string): Promise<void>;
}

export interface EndpointSliceControllerOptions {
  services: Lister<ServiceObj>;
  pods: Lister<PodObj>;
  slices: Lister<EndpointSliceObj>;
  nodes: Lister<NodeObj>;
  client: EndpointSliceClient;
  log: Logger;
  maxEndpointsPerSlice?: number;
  clock?: Clock;
}

export class StaleCacheError extends Error {
  constructor(key: string) {
    super(`EndpointSlice informer cache is out of date for service ${key}`);
  }
}

/** Canonical JSON (sorted keys) so that objects read back from the server compare equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

function portsKey(ports: readonly DiscoveryEndpointPort[] | undefined): string {
  return (ports ?? [])
    .map((p) => `${p.name ?? ''}/${p.port ?? ''}/${p.protocol ?? ''}/${p.appProtocol ?? ''}`)
    .sort()
    .join(',');
}

function endpointKey(e: Endpoint): string {
  return `${e.targetRef?.uid ?? ''}/${e.addresses.join(',')}`;
}

function rvNumber(rv: string | undefined): number | undefined {
  if (!rv || !/^\d+$/.test(rv)) return undefined;
  return Number(rv);
}

/** What this controller wrote per service, until its cache shows it (upstream's endpointSliceTracker). */
interface Written {
  rv?: number;
  deleted: boolean;
  at: number;
}

export class SliceTracker {
  private readonly byService = new Map<string, Map<string, Written>>();

  constructor(private readonly clock: Clock = realClock) {}

  wrote(svcKey: string, slice: KubeObject): void {
    this.entry(svcKey).set(slice.metadata.uid ?? '', {
      rv: rvNumber(slice.metadata.resourceVersion),
      deleted: false,
      at: this.clock.now(),
    });
  }

  deleted(svcKey: string, uid: string): void {
    this.entry(svcKey).set(uid, { deleted: true, at: this.clock.now() });
  }

  /** The slice is gone from the cache (its delete was observed). */
  observedDelete(uid: string): void {
    for (const m of this.byService.values()) m.delete(uid);
  }

  forget(svcKey: string): void {
    this.byService.delete(svcKey);
  }

  /** True when the cached slices do not yet reflect this controller's writes. */
  stale(svcKey: string, cached: readonly EndpointSliceObj[]): boolean {
    const m = this.byService.get(svcKey);
    if (!m) return false;
    const byUid = new Map(cached.map((s) => [s.metadata.uid ?? '', s]));
    const now = this.clock.now();
    let stale = false;
    for (const [uid, e] of m) {
      const s = byUid.get(uid);
      const caughtUp = e.deleted
        ? !s
        : !!s && (e.rv === undefined || (rvNumber(s.metadata.resourceVersion) ?? Infinity) >= e.rv);
      if (caughtUp || now - e.at > TRACKER_TIMEOUT_MS) m.delete(uid);
      else stale = true;
    }
    if (m.size === 0) this.byService.delete(svcKey);
    return stale;
  }

  private entry(svcKey: string): Map<string, Written> {
    let m = this.byService.get(svcKey);
    if (!m) {
      m = new Map<string, Written>();
      this.byService.set(svcKey, m);
    }
    return m;
  }
}

export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

/** One pod as an endpoint of the service (upstream's podToEndpoint); the zone comes from its node. */
export function podToEndpoint(
  pod: PodObj,
  svc: ServiceObj,
  family: IpFamily,
  node?: NodeObj,
): Endpoint | undefined {
  const ip = podIpForFamily(pod, family);
  if (!ip) return undefined;
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const serving = publishNotReady || isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  const ready = publishNotReady || (serving && !terminating);
  const ep: Endpoint = {
    addresses: [ip],
    conditions: { ready, serving, terminating },
    targetRef: podReference(pod),
  };
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec?.hostname;
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata.labels?.[LABEL_TOPOLOGY_ZONE];
  if (zone) ep.zone = zone;
  return ep;
}

export function endpointPorts(svc: ServiceObj, pod: PodObj): DiscoveryEndpointPort[] {
  const out: DiscoveryEndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: DiscoveryEndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

interface DesiredGroup {
  family: IpFamily;
  ports: DiscoveryEndpointPort[];
  endpoints: Map<string, Endpoint>;
}

function groupKey(family: string, ports: readonly DiscoveryEndpointPort[] | undefined): string {
  return `${family}|${portsKey(ports)}`;
}

/**
 * The endpoints per (family, ports). A pod whose node is unknown is left out (and reported in
 * missingNodes, so that the service is looked at again) unless the service publishes not-ready
 * addresses, as upstream does so that a pod bound to a vanished node cannot pin a slice forever.
 */
export function desiredGroups(
  svc: ServiceObj,
  pods: readonly PodObj[],
  nodes: Lister<NodeObj>,
  missingNodes: string[] = [],
): Map<string, DesiredGroup> {
  const groups = new Map<string, DesiredGroup>();
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  for (const family of serviceIpFamilies(svc)) {
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const node = nodes.get(undefined, pod.spec?.nodeName ?? '');
      if (!node && !publishNotReady) {
        const msg = `skipping Pod ${pod.metadata.name ?? ''} for Service ${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}: Node ${pod.spec?.nodeName ?? ''} Not Found`;
        if (!missingNodes.includes(msg)) missingNodes.push(msg);
        continue;
      }
      const ep = podToEndpoint(pod, svc, family, node);
      if (!ep) continue;
      const ports = endpointPorts(svc, pod);
      const key = groupKey(family, ports);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { family, ports, endpoints: new Map() }));
      g.endpoints.set(endpointKey(ep), ep);
    }
  }
  return groups;
}

function sortedEndpoints(eps: Iterable<Endpoint>): Endpoint[] {
  return [...eps].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
}

export function serviceOwnerRef(svc: ServiceObj): OwnerReference {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    name: svc.metadata.name ?? '',
    uid: svc.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The labels every slice of the service carries: the service's own, plus the controller's. */
export function sliceLabels(svc: ServiceObj): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {}))
    if (k !== LABEL_SERVICE_NAME && k !== LABEL_MANAGED_BY && k !== LABEL_HEADLESS) labels[k] = v;
  labels[LABEL_SERVICE_NAME] = svc.metadata.name ?? '';
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  if (isHeadless(svc)) labels[LABEL_HEADLESS] = '';
  return labels;
}

interface Plan {
  create: EndpointSliceObj[];
  update: EndpointSliceObj[];
  delete: EndpointSliceObj[];
}

export class EndpointSliceController {
  private readonly triggers = new TriggerTimeTracker();
  readonly tracker: SliceTracker;
  private readonly max: number;

  constructor(private readonly o: EndpointSliceControllerOptions) {
    this.tracker = new SliceTracker(o.clock);
    this.max = o.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  }

  sliceHandlers(enqueue: (key: string) => void): ResourceEventHandler<EndpointSliceObj> {
    const on = (s: KubeObject): void => {
      const svc = s.metadata.labels?.[LABEL_SERVICE_NAME];
      if (svc && s.metadata.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME)
        enqueue(`${s.metadata.namespace ?? ''}/${svc}`);
    };
    return {
      onAdd: on,
      onUpdate: (_old, s) => on(s),
      onDelete: (v: EndpointSliceObj | DeletedFinalStateUnknown<EndpointSliceObj>) => {
        const s = deletedObject(v);
        this.tracker.observedDelete(s.metadata.uid ?? '');
        on(s);
      },
    };
  }

  managedSlices(namespace: string, name: string): EndpointSliceObj[] {
    return this.o.slices.list(
      namespace,
      (s) =>
        s.metadata.labels?.[LABEL_SERVICE_NAME] === name &&
        s.metadata.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME,
    );
  }

  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const svc = this.o.services.get(namespace, name);
    if (!svc) {
      // The slices are owned by the service: the garbage collector removes them.
      this.triggers.forget(key);
      this.tracker.forget(key);
      return;
    }
    if (svc.spec?.type === 'ExternalName' || !svc.spec?.selector) return;
    const existing = this.managedSlices(namespace, name);
    if (this.tracker.stale(key, existing)) {
      staleTotal.inc();
      throw new StaleCacheError(key);
    }
    const pods = podsForService(this.o.pods, svc);
    const trigger = this.triggers.compute(key, svc, pods);
    const missingNodes: string[] = [];
    const plan = this.plan(svc, existing, desiredGroups(svc, pods, this.o.nodes, missingNodes));
    await this.apply(key, svc, plan, trigger);
    // Written without those pods; try again later in case their nodes appear.
    if (missingNodes.length > 0) throw new Error(missingNodes.join('; '));
  }

  /** Decides which slices to create, update and delete (upstream's reconcile, simplified packing). */
  plan(svc: ServiceObj, existing: readonly EndpointSliceObj[], groups: Map<string, DesiredGroup>): Plan {
    const labels = sliceLabels(svc);
    const ownerRef = serviceOwnerRef(svc);
    const plan: Plan = { create: [], update: [], delete: [] };
    const newSlice = (
      family: string,
      ports: DiscoveryEndpointPort[],
      endpoints: Endpoint[],
    ): EndpointSliceObj => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        generateName: `${svc.metadata.name ?? ''}-`,
        namespace: svc.metadata.namespace,
        labels: { ...labels },
        ownerReferences: [ownerRef],
      },
      addressType: family,
      endpoints,
      ports,
    });
    const metaOk = (s: EndpointSliceObj): boolean =>
      canonical(s.metadata.labels ?? {}) === canonical(labels) &&
      (s.metadata.ownerReferences ?? []).some((r) => r.uid === ownerRef.uid && r.controller === true);
    const withMeta = (s: EndpointSliceObj): EndpointSliceObj => {
      const c = structuredClone(s);
      c.metadata.labels = { ...labels };
      const refs = (c.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerRef.uid);
      c.metadata.ownerReferences = [ownerRef, ...refs];
      return c;
    };

    const total = [...groups.values()].reduce((n, g) => n + g.endpoints.size, 0);
    if (total === 0) {
      // One placeholder slice, so that consumers can tell "no endpoints" from "not yet processed".
      const family = serviceIpFamilies(svc)[0] ?? 'IPv4';
      const empty = existing.filter(
        (s) => (s.endpoints ?? []).length === 0 && portsKey(s.ports) === '' && s.addressType === family,
      );
      const keep = empty[0];
      if (!keep) plan.create.push(newSlice(family, [], []));
      else if (!metaOk(keep)) plan.update.push(withMeta(keep));
      for (const s of existing) if (s !== keep) plan.delete.push(s);
      return plan;
    }

    const byGroup = new Map<string, EndpointSliceObj[]>();
    for (const s of existing) {
      const k = groupKey(s.addressType, s.ports);
      const list = byGroup.get(k);
      if (list) list.push(s);
      else byGroup.set(k, [s]);
    }
    for (const [k, slices] of byGroup) if (!groups.has(k)) plan.delete.push(...slices);

    for (const [k, g] of groups) {
      const remaining = new Map(g.endpoints);
      const kept: Array<{ slice: EndpointSliceObj; endpoints: Endpoint[]; changed: boolean }> = [];
      for (const s of byGroup.get(k) ?? []) {
        let changed = !metaOk(s);
        const eps: Endpoint[] = [];
        for (const e of s.endpoints ?? []) {
          const ek = endpointKey(e);
          const want = remaining.get(ek);
          if (!want || eps.length >= this.max) {
            changed = true;
            continue;
          }
          if (canonical(want) !== canonical(e)) changed = true;
          eps.push(want);
          remaining.delete(ek);
        }
        kept.push({ slice: s, endpoints: eps, changed });
      }
      // Fill slices that are being written anyway first, then any with room, then new slices.
      const toPlace = sortedEndpoints(remaining.values());
      kept.sort((a, b) => Number(b.changed) - Number(a.changed));
      for (const entry of kept) {
        while (toPlace.length > 0 && entry.endpoints.length < this.max) {
          entry.endpoints.push(toPlace.shift()!);
          entry.changed = true;
        }
      }
      while (toPlace.length > 0) plan.create.push(newSlice(g.family, g.ports, toPlace.splice(0, this.max)));
      for (const entry of kept) {
        if (entry.endpoints.length === 0) plan.delete.push(entry.slice);
        else if (entry.changed) {
          const c = withMeta(entry.slice);
          c.endpoints = sortedEndpoints(entry.endpoints);
          c.ports = g.ports;
          plan.update.push(c);
        }
      }
    }
    return plan;
  }

  private async apply(key: string, svc: ServiceObj, plan: Plan, trigger: number | undefined): Promise<void> {
    const stamp = (s: EndpointSliceObj): EndpointSliceObj => {
      const annotations = { ...(s.metadata.annotations ?? {}) };
      if (trigger !== undefined)
        annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] = formatTriggerTime(trigger);
      else delete annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
      if (Object.keys(annotations).length > 0) s.metadata.annotations = annotations;
      else delete s.metadata.annotations;
      return s;
    };
    const ns = svc.metadata.namespace ?? '';
    for (const s of plan.create) {
      try {
        const created = await this.o.client.create(ns, stamp(s));
        this.tracker.wrote(key, created);
        changesTotal.inc({ operation: 'create' });
      } catch (err) {
        if (isNamespaceTerminating(err)) return;
        throw err;
      }
    }
    for (const s of plan.update) {
      const updated = await this.o.client.update(stamp(s));
      this.tracker.wrote(key, updated);
      changesTotal.inc({ operation: 'update' });
    }
    for (const s of plan.delete) {
      try {
        await this.o.client.delete(ns, s.metadata.name ?? '');
        changesTotal.inc({ operation: 'delete' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.tracker.deleted(key, s.metadata.uid ?? '');
    }
    if (plan.create.length + plan.update.length + plan.delete.length > 0)
      this.o.log.debug('endpoint slices reconciled', {
        service: key,
        created: plan.create.length,
        updated: plan.update.length,
        deleted: plan.delete.length,
      });
  }
}
