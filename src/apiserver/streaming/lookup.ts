// Reading the objects the streaming handlers need (pods, nodes, services, endpoints) straight from
// the store, as upstream's connection-info getters read from the registry.
import type { Endpoints, Node, Pod, Service } from '../../api/generated/types.js';
import type { ResourceDescription } from '../../api/types.js';
import type { Store } from '../../storage/types.js';
import { storageKey, storagePrefix } from '../resource-registry.js';

export interface StreamingLookup {
  getPod(namespace: string, name: string): Promise<Pod | undefined>;
  listPods(namespace: string): Promise<Pod[]>;
  getNode(name: string): Promise<Node | undefined>;
  getService(namespace: string, name: string): Promise<Service | undefined>;
  getEndpoints(namespace: string, name: string): Promise<Endpoints | undefined>;
}

function describe(resources: readonly ResourceDescription[], kind: string): ResourceDescription {
  const d = resources.find((r) => r.group === '' && r.kind === kind && !r.conversion);
  if (!d) throw new Error(`core kind ${kind} is not registered`);
  return d;
}

/** A lookup over the store, given the server's resource descriptions (for the storage keys). */
export function storeLookup(store: Store, resources: readonly ResourceDescription[]): StreamingLookup {
  const pods = describe(resources, 'Pod');
  const nodes = describe(resources, 'Node');
  const services = describe(resources, 'Service');
  const endpoints = resources.find((r) => r.group === '' && r.kind === 'Endpoints' && !r.conversion);
  const read = async <T>(
    desc: ResourceDescription,
    namespace: string,
    name: string,
  ): Promise<T | undefined> => {
    const kv = await store.get(storageKey(desc, namespace, name));
    return kv ? (JSON.parse(kv.value) as T) : undefined;
  };
  return {
    getPod: (ns, name) => read<Pod>(pods, ns, name),
    async listPods(ns) {
      const out: Pod[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.list(`${storagePrefix(pods)}${ns}/`, {
          limit: 500,
          ...(after ? { after } : {}),
        });
        for (const kv of page.items) out.push(JSON.parse(kv.value) as Pod);
        if (!page.more || page.items.length === 0) return out;
        after = page.items[page.items.length - 1]!.key;
      }
    },
    getNode: (name) => read<Node>(nodes, '', name),
    getService: (ns, name) => read<Service>(services, ns, name),
    getEndpoints: (ns, name) =>
      endpoints ? read<Endpoints>(endpoints, ns, name) : Promise.resolve(undefined),
  };
}
