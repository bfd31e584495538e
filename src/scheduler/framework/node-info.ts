// What the scheduler knows about each node: the Node, the pods on it (bound or assumed), the sum
// of their requests, the host ports they hold and the images present. Updated incrementally as pods
// come and go; a generation number changes on every update.
import type { Node, Pod, PodAffinityTerm, WeightedPodAffinityTerm } from '../../api/generated/types.js';
import { compileLabelSelector, type LabelPredicate, type Labels } from '../util/selectors.js';
import { Resource, podRequests } from './resource.js';

export const DEFAULT_BIND_ALL_HOST_IP = '0.0.0.0';

export function podKey(pod: Pod): string {
  return pod.metadata.uid || `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

export function podName(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

/** Looks up a namespace's labels (for namespaceSelector in affinity terms). */
export type NamespaceLabels = (namespace: string) => Labels | undefined;

/** A parsed PodAffinityTerm. */
export class AffinityTerm {
  constructor(
    readonly topologyKey: string,
    readonly selector: LabelPredicate,
    readonly namespaces: ReadonlySet<string>,
    /** undefined: no namespace selector; otherwise matched against namespace labels. */
    readonly namespaceSelector: LabelPredicate | undefined,
    readonly weight = 0,
  ) {}

  /** Whether the term selects the given pod (its namespace and labels). */
  matches(pod: Pod, nsLabels: NamespaceLabels | undefined): boolean {
    const ns = pod.metadata.namespace ?? '';
    if (!this.namespaces.has(ns)) {
      if (!this.namespaceSelector) return false;
      if (!this.namespaceSelector(nsLabels?.(ns) ?? {})) return false;
    }
    return this.selector(pod.metadata.labels);
  }
}

export function parseAffinityTerm(owner: Pod, term: PodAffinityTerm, weight = 0): AffinityTerm {
  const labels = owner.metadata.labels ?? {};
  const sel = term.labelSelector ? { ...term.labelSelector } : undefined;
  const extra = [
    ...(term.matchLabelKeys ?? [])
      .filter((k) => k in labels)
      .map((k) => ({ key: k, operator: 'In', values: [labels[k]!] })),
    ...(term.mismatchLabelKeys ?? [])
      .filter((k) => k in labels)
      .map((k) => ({ key: k, operator: 'NotIn', values: [labels[k]!] })),
  ];
  const selector = compileLabelSelector(
    extra.length > 0
      ? { ...(sel ?? {}), matchExpressions: [...(sel?.matchExpressions ?? []), ...extra] }
      : sel,
  );
  const nsSel = term.namespaceSelector;
  const namespaces = new Set(term.namespaces ?? []);
  if (namespaces.size === 0 && !nsSel) namespaces.add(owner.metadata.namespace ?? '');
  return new AffinityTerm(
    term.topologyKey,
    selector,
    namespaces,
    nsSel ? compileLabelSelector(nsSel) : undefined,
    weight,
  );
}

function parseWeighted(owner: Pod, terms: WeightedPodAffinityTerm[] | undefined): AffinityTerm[] {
  return (terms ?? []).map((t) => parseAffinityTerm(owner, t.podAffinityTerm, t.weight));
}

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

export function podHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || p.hostPort <= 0) continue;
      out.push({ ip: p.hostIP || DEFAULT_BIND_ALL_HOST_IP, protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return out;
}

/** A pod with the facts every plugin needs, computed once. */
export class PodInfo {
  readonly key: string;
  readonly requests: Resource;
  readonly nonZeroRequests: Resource;
  readonly priority: number;
  readonly hostPorts: HostPort[];
  readonly requiredAffinityTerms: AffinityTerm[];
  readonly requiredAntiAffinityTerms: AffinityTerm[];
  readonly preferredAffinityTerms: AffinityTerm[];
  readonly preferredAntiAffinityTerms: AffinityTerm[];
  readonly parseError: Error | undefined;

  constructor(readonly pod: Pod) {
    this.key = podKey(pod);
    this.requests = podRequests(pod);
    this.nonZeroRequests = podRequests(pod, true);
    this.priority = podPriority(pod);
    this.hostPorts = podHostPorts(pod);
    const aff = pod.spec?.affinity;
    let parseError: Error | undefined;
    const safe = (f: () => AffinityTerm[]): AffinityTerm[] => {
      try {
        return f();
      } catch (err) {
        parseError = err instanceof Error ? err : new Error(String(err));
        return [];
      }
    };
    this.requiredAffinityTerms = safe(() =>
      (aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) =>
        parseAffinityTerm(pod, t),
      ),
    );
    this.requiredAntiAffinityTerms = safe(() =>
      (aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) =>
        parseAffinityTerm(pod, t),
      ),
    );
    this.preferredAffinityTerms = safe(() =>
      parseWeighted(pod, aff?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    );
    this.preferredAntiAffinityTerms = safe(() =>
      parseWeighted(pod, aff?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    );
    this.parseError = parseError;
  }

  hasAffinity(): boolean {
    return (
      this.requiredAffinityTerms.length > 0 ||
      this.requiredAntiAffinityTerms.length > 0 ||
      this.preferredAffinityTerms.length > 0 ||
      this.preferredAntiAffinityTerms.length > 0
    );
  }
}

/** Images across the cluster: size and how many nodes have each. */
export interface ImageStateSummary {
  size: number;
  numNodes: number;
}

export class NodeInfo {
  node: Node | undefined;
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** key `${protocol}/${port}` → ip → count. */
  usedPorts = new Map<string, Map<string, number>>();
  requested = new Resource();
  nonZeroRequested = new Resource();
  allocatable = new Resource();
  imageStates = new Map<string, ImageStateSummary>();
  generation = 0;
  private static nextGeneration = 1;

  constructor(node?: Node) {
    if (node) this.setNode(node);
  }

  get name(): string {
    return this.node?.metadata.name ?? '';
  }

  private bump(): void {
    this.generation = NodeInfo.nextGeneration++;
  }

  setNode(node: Node): void {
    this.node = node;
    this.allocatable = Resource.fromList(node.status?.allocatable);
    this.bump();
  }

  removeNode(): void {
    this.node = undefined;
    this.bump();
  }

  addPodInfo(pi: PodInfo): void {
    this.pods.push(pi);
    if (pi.hasAffinity()) this.podsWithAffinity.push(pi);
    if (pi.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity.push(pi);
    this.update(pi, 1);
  }

  /** Removes the pod with the same key; false if it was not there. */
  removePod(key: string): boolean {
    const i = this.pods.findIndex((p) => p.key === key);
    if (i < 0) return false;
    const pi = this.pods[i]!;
    this.pods.splice(i, 1);
    const drop = (list: PodInfo[]): void => {
      const j = list.findIndex((p) => p.key === key);
      if (j >= 0) list.splice(j, 1);
    };
    drop(this.podsWithAffinity);
    drop(this.podsWithRequiredAntiAffinity);
    this.update(pi, -1);
    return true;
  }

  private update(pi: PodInfo, sign: 1 | -1): void {
    this.requested.add(pi.requests, sign);
    this.requested.allowedPodNumber = 0;
    this.nonZeroRequested.add(pi.nonZeroRequests, sign);
    this.nonZeroRequested.allowedPodNumber = 0;
    for (const hp of pi.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      let m = this.usedPorts.get(k);
      if (!m) {
        if (sign < 0) continue;
        m = new Map();
        this.usedPorts.set(k, m);
      }
      const n = (m.get(hp.ip) ?? 0) + sign;
      if (n <= 0) m.delete(hp.ip);
      else m.set(hp.ip, n);
      if (m.size === 0) this.usedPorts.delete(k);
    }
    this.bump();
  }

  /** Whether a host port is taken, with upstream's 0.0.0.0 wildcard rules. */
  portConflicts(hp: HostPort): boolean {
    const m = this.usedPorts.get(`${hp.protocol}/${hp.port}`);
    if (!m || m.size === 0) return false;
    if (hp.ip === DEFAULT_BIND_ALL_HOST_IP) return true;
    return m.has(hp.ip) || m.has(DEFAULT_BIND_ALL_HOST_IP);
  }

  /** A copy whose pod lists and sums can be changed without touching this one (preemption). */
  clone(): NodeInfo {
    const c = new NodeInfo();
    c.node = this.node;
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.usedPorts = new Map([...this.usedPorts].map(([k, v]) => [k, new Map(v)]));
    c.requested = this.requested.clone();
    c.nonZeroRequested = this.nonZeroRequested.clone();
    c.allocatable = this.allocatable.clone();
    c.imageStates = this.imageStates;
    c.generation = this.generation;
    return c;
  }
}
