// How much of a ResourceQuota an object uses (upstream's quota evaluators in
// pkg/quota/v1/evaluator/core): pods count their requests and limits, services their node ports
// and load balancers, claims their storage, and every kind counts as count/<resource>[.<group>].
// Shared by the ResourceQuota admission plugin and the resourcequota controller, so that what
// admission charges and what the controller recounts always agree.
import type { KubeObject } from './meta.js';
import { podQOSClass } from './kinds/pod.js';
import { rec, recs, str, type Obj } from './kinds/util.js';
import { addQuantity, tryParseQuantity, type Quantity } from './quantity.js';
import type { ResourceDescription } from './types.js';

/** What the evaluators need to know of a kind: its group and resource. */
export type QuotaKind = Pick<ResourceDescription, 'group' | 'plural'>;

export type ResourceList = Map<string, Quantity>;

export function count(n: number): Quantity {
  return { nanos: BigInt(n) * 1_000_000_000n, format: 'DecimalSI' };
}

/** Adds like upstream's Quantity.Add: a zero takes the other side's format. */
export function addQ(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos + b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

export function addLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, q] of b) out.set(k, out.has(k) ? addQ(out.get(k)!, q) : q);
  return out;
}

/** a - b per key, never below zero (quota.SubtractWithNonNegativeResult). */
export function subtractNonNegative(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, q] of a) {
    const nanos = q.nanos - (b.get(k)?.nanos ?? 0n);
    out.set(k, { nanos: nanos < 0n ? 0n : nanos, format: q.format });
  }
  return out;
}

export function parseList(v: unknown): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, raw] of Object.entries(rec(v) ?? {})) {
    const q = tryParseQuantity(raw);
    if (q) out.set(k, q);
  }
  return out;
}

/** Pod-level totals: the containers' sum, or the largest init container if that is more. */
export function podTotals(podSpec: Obj, field: 'requests' | 'limits'): ResourceList {
  const total: ResourceList = new Map();
  const add = (into: ResourceList, list: ResourceList): void => {
    for (const [k, q] of list) into.set(k, into.has(k) ? addQuantity(into.get(k)!, q) : q);
  };
  for (const c of recs(podSpec.containers)) add(total, parseList(rec(c.resources)?.[field]));
  const sidecars: ResourceList = new Map();
  for (const c of recs(podSpec.initContainers)) {
    const list = parseList(rec(c.resources)?.[field]);
    if (c.restartPolicy === 'Always') {
      add(total, list);
      add(sidecars, list);
      continue;
    }
    for (const [k, q] of list) {
      const withSidecars = sidecars.has(k) ? addQuantity(sidecars.get(k)!, q) : q;
      const cur = total.get(k);
      if (!cur || withSidecars.nanos > cur.nanos) total.set(k, withSidecars);
    }
  }
  return total;
}

export function groupResourceKey(desc: QuotaKind): string {
  return desc.group === '' ? desc.plural : `${desc.plural}.${desc.group}`;
}

const POD_COMPUTE = [
  'cpu',
  'memory',
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
  'ephemeral-storage',
  'requests.ephemeral-storage',
  'limits.ephemeral-storage',
];
/** The resources a quota makes every container state explicitly. */
const VALIDATION_SET = new Set([
  'cpu',
  'memory',
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
]);

/** What a quota can measure for this resource. */
export function matchingResources(desc: QuotaKind, hard: Iterable<string>): string[] {
  const own = new Set<string>([`count/${groupResourceKey(desc)}`]);
  const core = desc.group === '';
  if (core && desc.plural === 'pods') for (const r of ['pods', ...POD_COMPUTE]) own.add(r);
  if (core && desc.plural === 'services')
    for (const r of ['services', 'services.nodeports', 'services.loadbalancers']) own.add(r);
  if (core && desc.plural === 'persistentvolumeclaims')
    for (const r of ['persistentvolumeclaims', 'requests.storage']) own.add(r);
  if (core && ['configmaps', 'secrets', 'replicationcontrollers', 'resourcequotas'].includes(desc.plural))
    own.add(desc.plural);
  const out: string[] = [];
  for (const h of hard) {
    if (own.has(h)) out.push(h);
    else if (core && desc.plural === 'pods' && (h.startsWith('requests.') || h.startsWith('limits.')))
      out.push(h);
    else if (core && desc.plural === 'persistentvolumeclaims' && h.includes('.storageclass.storage.k8s.io/'))
      out.push(h);
  }
  return out;
}

/** Pods that finished, or whose grace period ran out, no longer use quota. */
function podCounts(pod: KubeObject): boolean {
  const phase = str(rec(pod.status)?.phase);
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const dt = pod.metadata.deletionTimestamp;
  const grace = pod.metadata.deletionGracePeriodSeconds;
  if (dt && typeof grace === 'number' && Date.parse(dt) + grace * 1000 < Date.now()) return false;
  return true;
}

function podUsage(pod: KubeObject): ResourceList {
  const out: ResourceList = new Map();
  if (!podCounts(pod)) return out;
  out.set('pods', count(1));
  out.set('count/pods', count(1));
  const podSpec = rec(pod.spec) ?? {};
  const requests = podTotals(podSpec, 'requests');
  const limits = podTotals(podSpec, 'limits');
  const overhead = parseList(podSpec.overhead);
  for (const [k, q] of overhead) {
    if (requests.has(k)) requests.set(k, addQ(requests.get(k)!, q));
    if (limits.has(k)) limits.set(k, addQ(limits.get(k)!, q));
  }
  for (const [k, q] of requests) {
    out.set(`requests.${k}`, q);
    if (k === 'cpu' || k === 'memory' || k === 'ephemeral-storage') out.set(k, q);
  }
  for (const [k, q] of limits)
    if (k === 'cpu' || k === 'memory' || k === 'ephemeral-storage') out.set(`limits.${k}`, q);
  return out;
}

function serviceUsage(svc: KubeObject): ResourceList {
  const out: ResourceList = new Map([
    ['services', count(1)],
    ['count/services', count(1)],
  ]);
  const spec = rec(svc.spec) ?? {};
  const type = str(spec.type);
  const ports = recs(spec.ports);
  if (type === 'NodePort' || type === 'LoadBalancer') out.set('services.nodeports', count(ports.length));
  else out.set('services.nodeports', count(0));
  out.set('services.loadbalancers', count(type === 'LoadBalancer' ? 1 : 0));
  return out;
}

function claimUsage(pvc: KubeObject): ResourceList {
  const out: ResourceList = new Map([
    ['persistentvolumeclaims', count(1)],
    ['count/persistentvolumeclaims', count(1)],
  ]);
  const spec = rec(pvc.spec) ?? {};
  const storage = tryParseQuantity(rec(rec(spec.resources)?.requests)?.storage);
  if (storage) out.set('requests.storage', storage);
  const sc = str(spec.storageClassName);
  if (sc) {
    out.set(`${sc}.storageclass.storage.k8s.io/persistentvolumeclaims`, count(1));
    if (storage) out.set(`${sc}.storageclass.storage.k8s.io/requests.storage`, storage);
  }
  return out;
}

export function usageOf(desc: QuotaKind, obj: KubeObject): ResourceList {
  if (desc.group === '') {
    if (desc.plural === 'pods') return podUsage(obj);
    if (desc.plural === 'services') return serviceUsage(obj);
    if (desc.plural === 'persistentvolumeclaims') return claimUsage(obj);
    if (['configmaps', 'secrets', 'replicationcontrollers', 'resourcequotas'].includes(desc.plural))
      return new Map([
        [desc.plural, count(1)],
        [`count/${desc.plural}`, count(1)],
      ]);
  }
  return new Map([[`count/${groupResourceKey(desc)}`, count(1)]]);
}

/** Upstream's pod Constraints: quota on cpu or memory makes each container state them. */
export function podConstraintError(pod: KubeObject, required: readonly string[]): string | undefined {
  const req = required.filter((r) => VALIDATION_SET.has(r));
  if (req.length === 0) return undefined;
  const missing = new Map<string, Set<string>>();
  const podSpec = rec(pod.spec) ?? {};
  for (const key of ['containers', 'initContainers']) {
    for (const c of recs(podSpec[key])) {
      const resources = rec(c.resources) ?? {};
      const has = new Set<string>();
      for (const k of Object.keys(rec(resources.requests) ?? {})) {
        has.add(`requests.${k}`);
        has.add(k);
      }
      for (const k of Object.keys(rec(resources.limits) ?? {})) has.add(`limits.${k}`);
      for (const r of req) if (!has.has(r)) missing.set(r, (missing.get(r) ?? new Set()).add(str(c.name)));
    }
  }
  if (missing.size === 0) return undefined;
  const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
  return `must specify ${parts.join('; ')}`;
}

interface ScopeSelector {
  readonly scopeName: string;
  readonly operator: string;
  readonly values: readonly string[];
}

function selectorsOf(quota: KubeObject): ScopeSelector[] {
  const spec = rec(quota.spec) ?? {};
  const out: ScopeSelector[] = [];
  for (const s of Array.isArray(spec.scopes) ? spec.scopes : [])
    out.push({ scopeName: String(s), operator: 'Exists', values: [] });
  for (const e of recs(rec(spec.scopeSelector)?.matchExpressions))
    out.push({
      scopeName: str(e.scopeName),
      operator: str(e.operator),
      values: Array.isArray(e.values) ? e.values.map(String) : [],
    });
  return out;
}

function podMatchesScope(pod: KubeObject, sel: ScopeSelector): boolean {
  const podSpec = rec(pod.spec) ?? {};
  switch (sel.scopeName) {
    case 'Terminating':
      return typeof podSpec.activeDeadlineSeconds === 'number';
    case 'NotTerminating':
      return typeof podSpec.activeDeadlineSeconds !== 'number';
    case 'BestEffort':
      return podQOSClass(podSpec) === 'BestEffort';
    case 'NotBestEffort':
      return podQOSClass(podSpec) !== 'BestEffort';
    case 'PriorityClass': {
      const pc = str(podSpec.priorityClassName);
      if (sel.operator === 'Exists') return pc !== '';
      if (sel.operator === 'DoesNotExist') return pc === '';
      if (sel.operator === 'In') return sel.values.includes(pc);
      if (sel.operator === 'NotIn') return !sel.values.includes(pc);
      return false;
    }
    case 'CrossNamespacePodAffinity': {
      const aff = rec(podSpec.affinity) ?? {};
      const terms = [rec(aff.podAffinity), rec(aff.podAntiAffinity)].flatMap((a) => [
        ...recs(a?.requiredDuringSchedulingIgnoredDuringExecution),
        ...recs(a?.preferredDuringSchedulingIgnoredDuringExecution).map((w) => rec(w.podAffinityTerm) ?? {}),
      ]);
      const cross = terms.some(
        (t) =>
          recs([t.namespaceSelector]).length > 0 || (Array.isArray(t.namespaces) && t.namespaces.length > 0),
      );
      return sel.operator === 'DoesNotExist' ? !cross : cross;
    }
    default:
      return false;
  }
}

/** Whether a quota applies to this object (scoped quotas only ever apply to pods). */
export function quotaMatches(quota: KubeObject, desc: QuotaKind, obj: KubeObject): boolean {
  const selectors = selectorsOf(quota);
  if (selectors.length === 0) return true;
  if (!(desc.group === '' && desc.plural === 'pods')) return false;
  return selectors.every((s) => podMatchesScope(obj, s));
}
