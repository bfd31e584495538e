// The namespace controller (upstream's pkg/controller/namespace): when a namespace has a
// deletionTimestamp, delete everything in it — every namespaced resource the server serves that
// can be deleted, through deletecollection where served, one object at a time otherwise — keep
// the deletion conditions on its status, and once nothing is left remove the `kubernetes`
// finalizer through the namespaces/finalize subresource so that the server lets it go.
//
// Content that takes time to go (pods in their grace period, objects with finalizers) makes the
// pass report an estimate in seconds; the namespace is looked at again after that long.
import type { Namespace, NamespaceCondition, Pod } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { Lister } from '../../client/informer.js';
import { resourcePath, type ResourceRef, type RestClient } from '../../client/rest.js';
import { NAMESPACES } from '../../client/typed-refs.js';
import type { Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { formatTime, parseTime, realClock, type Clock } from '../common/clock.js';
import { errText, isConflict, isNotFound } from '../common/errors.js';
import {
  hasVerbs,
  refOf,
  type DiscoveredResource,
  type DiscoveryResult,
} from '../garbage-collector/discovery.js';
import { ConditionUpdater } from './conditions.js';

export const FINALIZER_KUBERNETES = 'kubernetes';
/** Upstream's finalizerEstimateSeconds: how long to wait for content held by finalizers. */
export const FINALIZER_ESTIMATE_SECONDS = 15;

const finalizedTotal = metrics.counter(
  'k8ts_namespace_finalized_total',
  'Namespaces whose kubernetes finalizer the controller removed.',
);

/** The namespace controller's requests, behind an interface for tests. */
export interface NamespaceClient {
  getNamespace(name: string): Promise<Namespace>;
  updateStatus(ns: Namespace): Promise<Namespace>;
  finalize(ns: Namespace): Promise<Namespace>;
  list(ref: ResourceRef, namespace: string): Promise<KubeObject[]>;
  deleteCollection(ref: ResourceRef, namespace: string): Promise<void>;
  delete(ref: ResourceRef, namespace: string, name: string): Promise<void>;
}

export function restNamespaceClient(client: RestClient): NamespaceClient {
  const options = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' };
  return {
    getNamespace: (name) => client.get<Namespace & KubeObject>(NAMESPACES, undefined, name),
    updateStatus: (ns) => client.update<Namespace & KubeObject>(NAMESPACES, ns, 'status'),
    finalize: (ns) => client.update<Namespace & KubeObject>(NAMESPACES, ns, 'finalize'),
    list: async (ref, namespace) => (await client.list(ref, namespace)).items ?? [],
    async deleteCollection(ref, namespace) {
      await client.request('DELETE', resourcePath(ref, namespace), { body: options });
    },
    async delete(ref, namespace, name) {
      await client.request('DELETE', resourcePath(ref, namespace, name), { body: options });
    },
  };
}

export interface NamespaceControllerOptions {
  client: NamespaceClient;
  namespaces: Lister<Namespace & KubeObject>;
  discover: () => Promise<DiscoveryResult>;
  /** Look at a namespace again after delayMs. */
  enqueueAfter: (name: string, delayMs: number) => void;
  log: Logger;
  clock?: Clock;
}

interface GvrResult {
  estimate: number;
  remaining: number;
  finalizers: Map<string, number>;
}

function gvrString(r: DiscoveredResource): string {
  return `${r.group}/${r.version}, Resource=${r.plural}`;
}

export class NamespaceController {
  private readonly clock: Clock;

  constructor(private readonly o: NamespaceControllerOptions) {
    this.clock = o.clock ?? realClock;
  }

  async sync(name: string): Promise<void> {
    const cached = this.o.namespaces.get(undefined, name);
    if (!cached || !cached.metadata.deletionTimestamp) return;
    let ns: Namespace;
    try {
      ns = await this.o.client.getNamespace(name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!ns.metadata?.deletionTimestamp) return;
    ns = await this.ensureTerminating(ns);
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;
    const estimate = await this.deleteAllContent(ns);
    if (estimate > 0) {
      this.o.log.info('content remaining, checking again later', {
        namespace: name,
        estimateSeconds: estimate,
      });
      this.o.enqueueAfter(name, estimate * 1000);
      return;
    }
    await this.finalize(ns);
  }

  private async ensureTerminating(ns: Namespace): Promise<Namespace> {
    if (ns.status?.phase === 'Terminating') return ns;
    const copy = structuredClone(ns);
    copy.status = { ...(copy.status ?? {}), phase: 'Terminating' };
    try {
      return await this.o.client.updateStatus(copy);
    } catch (err) {
      if (isNotFound(err)) return ns;
      throw err;
    }
  }

  /** Deletes every namespaced resource in ns; returns how many seconds to wait for what remains. */
  async deleteAllContent(ns: Namespace): Promise<number> {
    const name = ns.metadata?.name ?? '';
    const updater = new ConditionUpdater(() => formatTime(this.clock.now()));
    const errors: string[] = [];
    let resources: DiscoveredResource[] = [];
    try {
      const d = await this.o.discover();
      resources = d.resources;
      if (d.failed.size > 0) {
        updater.discoveryFailed(d.failed);
        const parts = [...d.failed.entries()].map(([gv, e]) => `${gv}: ${e}`).sort();
        errors.push(`unable to retrieve the complete list of server APIs: ${parts.join(', ')}`);
      }
    } catch (err) {
      updater.discoveryFailed(new Map(), errText(err));
      errors.push(errText(err));
    }
    const deletable = resources.filter((r) => r.namespaced && hasVerbs(r, 'delete'));
    for (const r of deletable) {
      if (r.version === '') {
        const msg = `unable to parse the group version of resource ${r.plural} in group "${r.group}"`;
        updater.groupVersionParsingFailed(msg);
        errors.push(msg);
      }
    }
    const deletedAt = parseTime(ns.metadata?.deletionTimestamp) ?? this.clock.now();
    let estimate = 0;
    const remaining = new Map<string, number>();
    const finalizers = new Map<string, number>();
    for (const r of deletable) {
      if (r.version === '') continue;
      try {
        const res = await this.deleteAllOf(r, name, deletedAt);
        if (res.estimate > estimate) estimate = res.estimate;
        if (res.remaining > 0) remaining.set(`${r.plural}.${r.group}`, res.remaining);
        for (const [f, n] of res.finalizers) finalizers.set(f, (finalizers.get(f) ?? 0) + n);
      } catch (err) {
        const msg = errText(err);
        updater.contentDeletionFailed(msg);
        errors.push(msg);
      }
    }
    updater.contentTotals(remaining, finalizers);
    await this.updateConditions(ns, updater);
    if (errors.length > 0) throw new Error(errors.join('; '));
    return estimate;
  }

  /** Upstream's deleteAllContentForGroupVersionResource. */
  private async deleteAllOf(r: DiscoveredResource, namespace: string, deletedAt: number): Promise<GvrResult> {
    const ref = refOf(r);
    let estimate = 0;
    if (r.group === '' && r.plural === 'pods') estimate = await this.estimatePods(ref, namespace, deletedAt);
    if (hasVerbs(r, 'deletecollection')) await this.o.client.deleteCollection(ref, namespace);
    else {
      if (!hasVerbs(r, 'list')) return { estimate, remaining: 0, finalizers: new Map() };
      const items = await this.o.client.list(ref, namespace);
      const errs: string[] = [];
      for (const item of items) {
        try {
          await this.o.client.delete(ref, namespace, item.metadata.name ?? '');
        } catch (err) {
          if (!isNotFound(err)) errs.push(errText(err));
        }
      }
      if (errs.length > 0) throw new Error(errs.join(', '));
    }
    if (!hasVerbs(r, 'list')) return { estimate, remaining: 0, finalizers: new Map() };
    const left = await this.o.client.list(ref, namespace);
    if (left.length === 0) return { estimate: 0, remaining: 0, finalizers: new Map() };
    const finalizers = new Map<string, number>();
    for (const item of left)
      for (const f of item.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    if (estimate !== 0) return { estimate, remaining: left.length, finalizers };
    if (finalizers.size > 0)
      return { estimate: FINALIZER_ESTIMATE_SECONDS, remaining: left.length, finalizers };
    throw new Error(`unexpected items still remain in namespace: ${namespace} for gvr: ${gvrString(r)}`);
  }

  /** The longest grace period of the namespace's running pods, less the time already spent deleting. */
  private async estimatePods(ref: ResourceRef, namespace: string, deletedAt: number): Promise<number> {
    let estimate = 0;
    for (const obj of await this.o.client.list(ref, namespace)) {
      const pod = obj as Pod & KubeObject;
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const grace = pod.spec?.terminationGracePeriodSeconds;
      if (typeof grace === 'number' && grace > estimate) estimate = grace;
    }
    const elapsed = this.clock.now() - deletedAt;
    return elapsed >= estimate * 1000 ? 0 : estimate;
  }

  private async updateConditions(ns: Namespace, updater: ConditionUpdater): Promise<void> {
    const copy = structuredClone(ns);
    const conditions: NamespaceCondition[] = copy.status?.conditions ?? [];
    if (!updater.update(conditions)) return;
    copy.status = { ...(copy.status ?? {}), conditions };
    try {
      const updated = await this.o.client.updateStatus(copy);
      // Keep the resourceVersion moving so that the finalize that follows does not conflict.
      ns.metadata = updated.metadata;
      ns.status = updated.status;
    } catch (err) {
      // As upstream, a failed condition write does not fail the pass.
      this.o.log.warn('failed to update namespace conditions', {
        namespace: ns.metadata?.name,
        err: errText(err),
      });
    }
  }

  private async finalize(ns: Namespace): Promise<void> {
    let current = ns;
    for (let attempt = 0; ; attempt++) {
      const finalizers = current.spec?.finalizers ?? [];
      if (!finalizers.includes(FINALIZER_KUBERNETES)) return;
      const copy = structuredClone(current);
      copy.spec = { ...(copy.spec ?? {}), finalizers: finalizers.filter((f) => f !== FINALIZER_KUBERNETES) };
      try {
        await this.o.client.finalize(copy);
        finalizedTotal.inc();
        this.o.log.info('namespace finalized', { namespace: ns.metadata?.name });
        return;
      } catch (err) {
        if (isConflict(err) && attempt < 5) {
          try {
            current = await this.o.client.getNamespace(ns.metadata?.name ?? '');
          } catch (e) {
            if (isNotFound(e)) return;
            throw e;
          }
          continue;
        }
        if (isNotFound(err)) {
          // Either the namespace is gone already or the server does not serve namespaces/finalize.
          try {
            await this.o.client.getNamespace(ns.metadata?.name ?? '');
          } catch (e) {
            if (isNotFound(e)) return;
            throw e;
          }
          throw new Error(
            `the server does not serve namespaces/finalize: cannot remove the kubernetes finalizer from ${ns.metadata?.name ?? ''}`,
          );
        }
        throw err;
      }
    }
  }
}
