// The set of served resources, indexed every way the server and clients look them up:
// group/version/plural for routing, kind for conversion and tables, short names and categories
// for discovery, and the preferred version of each group. Discovery and OpenAPI caches key off
// `generation`, which every change bumps.
import { ALL_VERBS, type ResourceDescription, type Verb } from '../api/types.js';

export interface GroupInfo {
  readonly name: string;
  /** Served versions, most preferred first. */
  readonly versions: readonly string[];
  readonly preferredVersion: string;
}

/** Orders Kubernetes versions as upstream does: GA > beta > alpha, higher numbers first, others last. */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    const level = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return [level, Number(m[1]), m[3] === undefined ? 0 : Number(m[3])];
  };
  const ra = rank(a);
  const rb = rank(b);
  if (ra && rb) {
    if (ra[0] !== rb[0]) return rb[0] - ra[0];
    if (ra[1] !== rb[1]) return rb[1] - ra[1];
    return rb[2] - ra[2];
  }
  if (ra) return -1;
  if (rb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Discovery order of the built-in groups: kube-aggregator lists API groups by their APIService's
 * groupPriorityMinimum, highest first (kube-apiserver's own table; metrics-server registers 100,
 * CRD groups 1000). kubectl follows this order for `get all` and to pick a group when a resource
 * name is served by several. extensions/v1beta1, which upstream no longer serves, comes last so it
 * never wins such a choice.
 */
const GROUP_PRIORITY: Readonly<Record<string, number>> = {
  '': 18000,
  'apiregistration.k8s.io': 18000,
  apps: 17800,
  'events.k8s.io': 17750,
  'authentication.k8s.io': 17700,
  'authorization.k8s.io': 17600,
  autoscaling: 17500,
  batch: 17400,
  'certificates.k8s.io': 17300,
  'networking.k8s.io': 17200,
  policy: 17100,
  'rbac.authorization.k8s.io': 17000,
  'storage.k8s.io': 16800,
  'admissionregistration.k8s.io': 16700,
  'apiextensions.k8s.io': 16700,
  'scheduling.k8s.io': 16600,
  'coordination.k8s.io': 16500,
  'node.k8s.io': 16300,
  'discovery.k8s.io': 16200,
  'flowcontrol.apiserver.k8s.io': 16100,
  'metrics.k8s.io': 100,
  extensions: 1,
};
/** The priority the CRD registration controller gives a custom resource's group. */
const CUSTOM_GROUP_PRIORITY = 1000;

function groupPriority(group: string): number {
  return GROUP_PRIORITY[group] ?? CUSTOM_GROUP_PRIORITY;
}

/**
 * The aggregator's order: priority, then the name of the group's first APIService (`v1.apps`),
 * core first.
 */
function compareGroups(a: GroupInfo, b: GroupInfo): number {
  if (a.name === '' || b.name === '') return a.name === '' ? (b.name === '' ? 0 : -1) : 1;
  const byPriority = groupPriority(b.name) - groupPriority(a.name);
  if (byPriority !== 0) return byPriority;
  const serviceName = (g: GroupInfo): string => g.versions.map((v) => `${v}.${g.name}`).sort()[0] ?? g.name;
  const an = serviceName(a);
  const bn = serviceName(b);
  return an < bn ? -1 : an > bn ? 1 : 0;
}

function gvKey(group: string, version: string): string {
  return `${group}/${version}`;
}

export class ResourceRegistry {
  private readonly byGvr = new Map<string, ResourceDescription>();
  private readonly byGv = new Map<string, ResourceDescription[]>();
  private order: ResourceDescription[] = [];
  private groupsCache: GroupInfo[] | undefined;
  /** Bumped on every add/remove; caches compare it. */
  generation = 0;
  private readonly listeners = new Set<() => void>();

  constructor(resources: readonly ResourceDescription[] = []) {
    for (const r of resources) this.addInternal(r);
  }

  private addInternal(desc: ResourceDescription): void {
    const key = `${gvKey(desc.group, desc.version)}/${desc.plural}`;
    if (this.byGvr.has(key)) this.removeInternal(desc.group, desc.version, desc.plural);
    this.byGvr.set(key, desc);
    const gv = gvKey(desc.group, desc.version);
    const list = this.byGv.get(gv) ?? [];
    list.push(desc);
    this.byGv.set(gv, list);
    this.order.push(desc);
  }

  private removeInternal(group: string, version: string, plural: string): boolean {
    const key = `${gvKey(group, version)}/${plural}`;
    const desc = this.byGvr.get(key);
    if (!desc) return false;
    this.byGvr.delete(key);
    const gv = gvKey(group, version);
    const list = (this.byGv.get(gv) ?? []).filter((d) => d !== desc);
    if (list.length) this.byGv.set(gv, list);
    else this.byGv.delete(gv);
    this.order = this.order.filter((d) => d !== desc);
    return true;
  }

  private changed(): void {
    this.generation++;
    this.groupsCache = undefined;
    for (const l of this.listeners) l();
  }

  /** Called after every add/remove. Returns an unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  add(desc: ResourceDescription): void {
    this.addInternal(desc);
    this.changed();
  }

  remove(group: string, version: string, plural: string): boolean {
    const removed = this.removeInternal(group, version, plural);
    if (removed) this.changed();
    return removed;
  }

  all(): readonly ResourceDescription[] {
    return this.order;
  }

  lookup(group: string, version: string, plural: string): ResourceDescription | undefined {
    return this.byGvr.get(`${gvKey(group, version)}/${plural}`);
  }

  inGroupVersion(group: string, version: string): readonly ResourceDescription[] {
    return this.byGv.get(gvKey(group, version)) ?? [];
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.byGv.has(gvKey(group, version));
  }

  /** The description serving this kind in the group's given version, or in its preferred version. */
  byKind(group: string, kind: string, version?: string): ResourceDescription | undefined {
    const versions = version ? [version] : (this.group(group)?.versions ?? []);
    for (const v of versions) {
      const found = this.inGroupVersion(group, v).find((d) => d.kind === kind);
      if (found) return found;
    }
    return undefined;
  }

  /** Resolves what a user typed (plural, singular, short name, kind) in the preferred versions. */
  resolveName(name: string): ResourceDescription | undefined {
    const lower = name.toLowerCase();
    for (const g of this.groups()) {
      for (const d of this.inGroupVersion(g.name, g.preferredVersion)) {
        if (d.plural === lower || d.singular === lower || d.kind.toLowerCase() === lower) return d;
        if (d.shortNames?.includes(lower)) return d;
      }
    }
    return undefined;
  }

  /** Resources in a category ('all'), preferred versions only. */
  byCategory(category: string): ResourceDescription[] {
    const out: ResourceDescription[] = [];
    for (const g of this.groups())
      for (const d of this.inGroupVersion(g.name, g.preferredVersion))
        if (d.categories?.includes(category)) out.push(d);
    return out;
  }

  /** Groups in discovery order (core first, then by upstream's group priority), versions most preferred first. */
  groups(): readonly GroupInfo[] {
    if (this.groupsCache) return this.groupsCache;
    const versionsByGroup = new Map<string, Set<string>>();
    for (const d of this.order) {
      const set = versionsByGroup.get(d.group) ?? new Set<string>();
      set.add(d.version);
      versionsByGroup.set(d.group, set);
    }
    const out: GroupInfo[] = [];
    for (const [name, set] of versionsByGroup) {
      const versions = [...set].sort(compareKubeVersions);
      // A version kept only for compatibility (served by conversion with a deprecation) is never preferred
      // when another exists.
      const preferred =
        versions.find((v) => !this.inGroupVersion(name, v).every((d) => d.conversion?.deprecationWarning)) ??
        versions[0]!;
      out.push({ name, versions, preferredVersion: preferred });
    }
    out.sort(compareGroups);
    this.groupsCache = out;
    return out;
  }

  group(name: string): GroupInfo | undefined {
    return this.groups().find((g) => g.name === name);
  }
}

export function verbsOf(desc: ResourceDescription): readonly Verb[] {
  return desc.verbs ?? ALL_VERBS;
}

/** The storage prefix of a resource (all namespaces): '/registry/core/pods/'. */
export function storagePrefix(desc: ResourceDescription): string {
  const group = desc.conversion ? desc.conversion.storageGroup : desc.group;
  return `/registry/${group === '' ? 'core' : group}/${desc.plural}/`;
}

export function storageKey(desc: ResourceDescription, namespace: string, name: string): string {
  return desc.namespaced ? `${storagePrefix(desc)}${namespace}/${name}` : `${storagePrefix(desc)}${name}`;
}
