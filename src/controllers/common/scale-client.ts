// The scale subresource of what an autoscaler targets or a disruption budget's pods belong to
// (deployments/scale, replicasets/scale, statefulsets/scale, a custom resource's scale): the kind
// is mapped to its resource through discovery, as upstream's RESTMapper does, and cached.
import type { CrossVersionObjectReference } from '../../api/generated/types.js';
import type { ObjectMeta } from '../../api/meta.js';
import { resourcePath, type ResourceRef, type RestClient } from '../../client/rest.js';

/** autoscaling/v1 Scale, the body of every scale subresource. */
export interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

export interface ScaleClient {
  getScale(namespace: string, target: CrossVersionObjectReference): Promise<Scale>;
  updateScale(namespace: string, target: CrossVersionObjectReference, scale: Scale): Promise<Scale>;
}

interface DiscoveredResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** How long a discovered kind-to-resource mapping is trusted (CRDs come and go). */
const MAPPING_TTL_MS = 30_000;

export function splitApiVersion(apiVersion: string | undefined): { group: string; version: string } {
  const v = apiVersion ?? '';
  const slash = v.indexOf('/');
  return slash < 0 ? { group: '', version: v } : { group: v.slice(0, slash), version: v.slice(slash + 1) };
}

export function restScaleClient(client: RestClient): ScaleClient {
  const cache = new Map<string, { at: number; resources: DiscoveredResource[] }>();

  const resourcesOf = async (group: string, version: string): Promise<DiscoveredResource[]> => {
    const key = `${group}/${version}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < MAPPING_TTL_MS) return hit.resources;
    const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
    const body = await client.request<{ resources?: unknown }>('GET', path);
    const resources: DiscoveredResource[] = [];
    for (const r of Array.isArray(body?.resources) ? (body.resources as unknown[]) : []) {
      if (typeof r !== 'object' || r === null) continue;
      const { name, kind, namespaced } = r as Record<string, unknown>;
      if (typeof name === 'string' && typeof kind === 'string')
        resources.push({ name, kind, namespaced: namespaced === true });
    }
    cache.set(key, { at: Date.now(), resources });
    return resources;
  };

  const refFor = async (target: CrossVersionObjectReference): Promise<ResourceRef> => {
    const { group, version } = splitApiVersion(target.apiVersion);
    const resources = await resourcesOf(group, version);
    const main = resources.find((r) => r.kind === target.kind && !r.name.includes('/'));
    if (!main) throw new Error(`no matches for kind "${target.kind}" in group "${group}"`);
    if (!resources.some((r) => r.name === `${main.name}/scale`))
      throw new Error(
        `${group === '' ? main.name : `${main.name}.${group}`} does not implement the scale subresource`,
      );
    return { group, version, plural: main.name, namespaced: main.namespaced };
  };

  return {
    async getScale(namespace, target) {
      return client.request<Scale>(
        'GET',
        resourcePath(await refFor(target), namespace, target.name, 'scale'),
      );
    },
    async updateScale(namespace, target, scale) {
      return client.request<Scale>(
        'PUT',
        resourcePath(await refFor(target), namespace, target.name, 'scale'),
        {
          body: scale,
        },
      );
    },
  };
}
