// Discovery documents: the legacy ones (/api, /apis, /apis/G, /api/v1, /apis/G/V) and aggregated
// discovery (apidiscovery.k8s.io v2 and v2beta1) that kubectl 1.32 asks for first. All of them are
// rendered once per registry generation and served as cached strings with an ETag.
import { createHash } from 'node:crypto';
import type { ResourceDescription } from '../api/types.js';
import { verbsOf, type ResourceRegistry } from './resource-registry.js';

/** A subresource served beyond status and scale (pods/log, pods/exec …), registered by other components. */
export interface ExtraSubresource {
  readonly group: string;
  readonly version: string;
  /** The parent resource's plural. */
  readonly resource: string;
  readonly subresource: string;
  readonly kind: string;
  readonly verbs: readonly string[];
  /** Group/version of the response kind when it differs from the parent's. */
  readonly responseGroup?: string;
  readonly responseVersion?: string;
}

export interface CachedDoc {
  readonly body: string | Buffer;
  readonly etag: string;
}

function cached(value: unknown): CachedDoc {
  const body = JSON.stringify(value);
  return { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32).toUpperCase()}"` };
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Upstream's installer registers a group version's paths sorted by name ("deployments",
 * "deployments/scale", "deployments/status", …), so discovery lists resources in that order and
 * kubectl prints `get all` in it.
 */
function sortedByPlural(descs: readonly ResourceDescription[]): ResourceDescription[] {
  return [...descs].sort((a, b) => byName(a.plural, b.plural));
}

interface SubresourceView {
  readonly name: string;
  readonly kind: string;
  readonly group?: string;
  readonly version?: string;
  readonly verbs: readonly string[];
}

function subresourcesOf(d: ResourceDescription, extras: readonly ExtraSubresource[]): SubresourceView[] {
  const out: SubresourceView[] = [];
  if (d.subresources?.status) out.push({ name: 'status', kind: d.kind, verbs: ['get', 'patch', 'update'] });
  if (d.subresources?.scale)
    out.push({
      name: 'scale',
      kind: 'Scale',
      group: 'autoscaling',
      version: 'v1',
      verbs: ['get', 'patch', 'update'],
    });
  for (const e of extras) {
    if (e.group === d.group && e.version === d.version && e.resource === d.plural) {
      const view: SubresourceView = { name: e.subresource, kind: e.kind, verbs: e.verbs };
      out.push(
        e.responseGroup !== undefined || e.responseVersion !== undefined
          ? { ...view, group: e.responseGroup ?? d.group, version: e.responseVersion ?? d.version }
          : view,
      );
    }
  }
  return out;
}

/**
 * A version kept only for old clients (served by conversion, with a deprecation warning) does not
 * advertise short names or categories: kubectl would otherwise warn that "deploy" is ambiguous
 * and `get all` would list the same objects twice.
 */
function advertisesAliases(d: ResourceDescription): boolean {
  return !d.conversion?.deprecationWarning;
}

function storageVersionHash(d: ResourceDescription): string {
  const g = d.conversion ? d.conversion.storageGroup : d.group;
  const v = d.conversion ? d.conversion.storageVersion : d.version;
  return createHash('sha256').update(`${g}/${v}/${d.kind}`).digest('base64').slice(0, 11);
}

export class DiscoveryCache {
  private generation = -1;
  private docs = new Map<string, CachedDoc>();
  private extras: ExtraSubresource[] = [];

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly serverAddress: () => string,
  ) {}

  addSubresource(e: ExtraSubresource): void {
    this.extras.push(e);
    this.generation = -1;
  }

  private ensureFresh(): void {
    if (this.generation !== this.registry.generation) {
      this.docs = new Map();
      this.generation = this.registry.generation;
    }
  }

  private memo(key: string, build: () => unknown): CachedDoc {
    this.ensureFresh();
    let doc = this.docs.get(key);
    if (!doc) {
      doc = cached(build());
      this.docs.set(key, doc);
    }
    return doc;
  }

  /** GET /api */
  apiVersions(): CachedDoc {
    return this.memo('/api', () => ({
      kind: 'APIVersions',
      versions: this.registry.group('')?.versions ?? [],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.serverAddress() }],
    }));
  }

  private groupJson(name: string): unknown {
    const g = this.registry.group(name)!;
    return {
      name,
      versions: g.versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${g.preferredVersion}`, version: g.preferredVersion },
    };
  }

  /** GET /apis */
  apiGroupList(): CachedDoc {
    return this.memo('/apis', () => ({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: this.registry
        .groups()
        .filter((g) => g.name !== '')
        .map((g) => this.groupJson(g.name)),
    }));
  }

  /** GET /apis/GROUP, undefined when the group is not served. */
  apiGroup(name: string): CachedDoc | undefined {
    if (name === '' || !this.registry.group(name)) return undefined;
    return this.memo(`/apis/${name}`, () => ({
      kind: 'APIGroup',
      apiVersion: 'v1',
      ...(this.groupJson(name) as object),
    }));
  }

  /** GET /api/v1 or /apis/G/V, undefined when not served. */
  apiResourceList(group: string, version: string): CachedDoc | undefined {
    if (!this.registry.hasGroupVersion(group, version)) return undefined;
    return this.memo(`rl:${group}/${version}`, () => {
      const resources: (Record<string, unknown> & { name: string })[] = [];
      for (const d of this.registry.inGroupVersion(group, version)) {
        const entry: Record<string, unknown> & { name: string } = {
          name: d.plural,
          singularName: d.singular,
          namespaced: d.namespaced,
          kind: d.kind,
          verbs: [...verbsOf(d)].sort(),
        };
        if (d.shortNames?.length && advertisesAliases(d)) entry.shortNames = [...d.shortNames];
        if (d.categories?.length && advertisesAliases(d)) entry.categories = [...d.categories];
        entry.storageVersionHash = storageVersionHash(d);
        resources.push(entry);
        for (const s of subresourcesOf(d, this.extras)) {
          const sub: Record<string, unknown> & { name: string } = {
            name: `${d.plural}/${s.name}`,
            singularName: '',
            namespaced: d.namespaced,
          };
          if (s.group !== undefined) sub.group = s.group;
          if (s.version !== undefined) sub.version = s.version;
          sub.kind = s.kind;
          sub.verbs = [...s.verbs];
          resources.push(sub);
        }
      }
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: group === '' ? version : `${group}/${version}`,
        resources: resources.sort((a, b) => byName(a.name, b.name)),
      };
    });
  }

  /** Aggregated discovery for /api (legacy core group) or /apis, in apidiscovery.k8s.io/VERSION. */
  aggregated(root: 'api' | 'apis', discoveryVersion: 'v2' | 'v2beta1'): CachedDoc {
    return this.memo(`agg:${root}:${discoveryVersion}`, () => {
      const groups = this.registry.groups().filter((g) => (root === 'api' ? g.name === '' : g.name !== ''));
      return {
        kind: 'APIGroupDiscoveryList',
        apiVersion: `apidiscovery.k8s.io/${discoveryVersion}`,
        metadata: {},
        items: groups.map((g) => ({
          metadata: g.name === '' ? { creationTimestamp: null } : { name: g.name, creationTimestamp: null },
          versions: g.versions.map((v) => ({
            version: v,
            resources: sortedByPlural(this.registry.inGroupVersion(g.name, v)).map((d) => {
              const entry: Record<string, unknown> = {
                resource: d.plural,
                responseKind: { group: d.group, version: d.version, kind: d.kind },
                scope: d.namespaced ? 'Namespaced' : 'Cluster',
                singularResource: d.singular,
                verbs: [...verbsOf(d)].sort(),
              };
              if (d.shortNames?.length && advertisesAliases(d)) entry.shortNames = [...d.shortNames];
              if (d.categories?.length && advertisesAliases(d)) entry.categories = [...d.categories];
              const subs = subresourcesOf(d, this.extras).sort((a, b) => byName(a.name, b.name));
              if (subs.length)
                entry.subresources = subs.map((s) => ({
                  subresource: s.name,
                  responseKind: { group: s.group ?? d.group, version: s.version ?? d.version, kind: s.kind },
                  verbs: [...s.verbs],
                }));
              return entry;
            }),
            freshness: 'Current',
          })),
        })),
      };
    });
  }
}
