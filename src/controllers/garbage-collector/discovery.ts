// What the server serves, read from legacy discovery (/api, /apis and each group version's
// resource list), as upstream's ServerPreferredResources: one version per group (the preferred
// one), subresources left out. The garbage collector and the namespace controller both need the
// full list of kinds; they filter it by the verbs they need.
import { isPlainObject } from '../../api/meta.js';
import type { ResourceRef, RestClient } from '../../client/rest.js';

export interface DiscoveredResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

export interface DiscoveryResult {
  /** Every resource of every group's preferred version. */
  readonly resources: DiscoveredResource[];
  /** Group versions whose resource list could not be read, with the error text. */
  readonly failed: ReadonlyMap<string, string>;
}

/** Reads discovery documents; a small interface so tests can serve them from memory. */
export interface DiscoveryClient {
  getJson(path: string): Promise<unknown>;
}

export function restDiscovery(client: RestClient): DiscoveryClient {
  return { getJson: (path) => client.request<unknown>('GET', path) };
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function resourcesOf(doc: unknown, group: string, version: string): DiscoveredResource[] {
  if (!isPlainObject(doc) || !Array.isArray(doc.resources)) return [];
  const out: DiscoveredResource[] = [];
  for (const r of doc.resources) {
    if (!isPlainObject(r) || typeof r.name !== 'string' || r.name.includes('/')) continue;
    out.push({
      group,
      version,
      plural: r.name,
      kind: typeof r.kind === 'string' ? r.kind : '',
      namespaced: r.namespaced === true,
      verbs: strings(r.verbs),
    });
  }
  return out;
}

/** The preferred version of every group and its resources. */
export async function discoverResources(d: DiscoveryClient): Promise<DiscoveryResult> {
  const versions: Array<{ group: string; version: string }> = [];
  const core = await d.getJson('/api');
  const coreVersions = isPlainObject(core) ? strings(core.versions) : [];
  if (coreVersions.includes('v1')) versions.push({ group: '', version: 'v1' });
  else if (coreVersions[0]) versions.push({ group: '', version: coreVersions[0] });
  const groups = await d.getJson('/apis');
  if (isPlainObject(groups) && Array.isArray(groups.groups)) {
    for (const g of groups.groups) {
      if (!isPlainObject(g) || typeof g.name !== 'string') continue;
      const pref = isPlainObject(g.preferredVersion) ? g.preferredVersion.version : undefined;
      const first =
        Array.isArray(g.versions) && isPlainObject(g.versions[0]) ? g.versions[0].version : undefined;
      const version = typeof pref === 'string' ? pref : typeof first === 'string' ? first : undefined;
      if (version) versions.push({ group: g.name, version });
    }
  }
  const failed = new Map<string, string>();
  const lists = await Promise.all(
    versions.map(async ({ group, version }) => {
      const gv = group === '' ? version : `${group}/${version}`;
      const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
      try {
        return resourcesOf(await d.getJson(path), group, version);
      } catch (err) {
        failed.set(gv, err instanceof Error ? err.message : String(err));
        return [];
      }
    }),
  );
  return { resources: lists.flat(), failed };
}

export function hasVerbs(r: DiscoveredResource, ...verbs: string[]): boolean {
  return verbs.every((v) => r.verbs.includes(v));
}

export function refOf(r: DiscoveredResource): ResourceRef {
  return Object.freeze({ group: r.group, version: r.version, plural: r.plural, namespaced: r.namespaced });
}

export function groupVersionOf(r: { group: string; version: string }): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** Upstream's default ignored resources of the garbage collector: events are never owners or dependents worth tracking. */
export const GC_IGNORED_RESOURCES: ReadonlySet<string> = new Set(['/events', 'events.k8s.io/events']);

export function groupResource(r: { group: string; plural: string }): string {
  return `${r.group}/${r.plural}`;
}
