// The ResourceQuota admission plugin. Creates (and updates that grow usage) are charged to every
// matching quota of the namespace: refused with upstream's "exceeded quota" message when a hard
// limit would be passed, otherwise the quota's status.used is raised before the object is stored
// (optimistically, retrying when the quota changed meanwhile). The resourcequota controller
// recounts status.used with the same evaluators (src/api/quota-usage.ts) after deletions and on its
// resync; the plugin also keeps status current itself, so quota is freed even where no controller
// manager runs: a new or changed quota gets status.hard and a freshly counted status.used, and a
// namespace's quotas are recounted after anything they track is removed or a pod finishes.
import { forbidden, internalError } from '../../api/errors.js';
import type { KubeObject } from '../../api/meta.js';
import { rec, str } from '../../api/kinds/util.js';
import { formatQuantity } from '../../api/quantity.js';
import type { ResourceDescription } from '../../api/types.js';
import { createLogger } from '../../util/log.js';
import type { AdmissionPlugin, AdmissionRequest } from '../admission.js';
import type { ObjectAccess } from './access.js';
import {
  addLists,
  count,
  matchingResources,
  parseList,
  podConstraintError,
  quotaMatches,
  subtractNonNegative,
  usageOf,
  type ResourceList,
} from '../../api/quota-usage.js';

export const RESOURCE_QUOTA_PLUGIN = 'ResourceQuota';
const log = createLogger('admission.resourcequota');
const MAX_ATTEMPTS = 16;

function prettyPrint(list: ResourceList): string {
  return [...list.keys()]
    .sort()
    .map((k) => `${k}=${formatQuantity(list.get(k)!)}`)
    .join(',');
}

function mask(list: ResourceList, names: Iterable<string>): ResourceList {
  const out: ResourceList = new Map();
  for (const n of names) {
    const q = list.get(n);
    if (q) out.set(n, q);
  }
  return out;
}

function serialise(list: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...list.keys()].sort()) out[k] = formatQuantity(list.get(k)!);
  return out;
}

function isQuota(desc: ResourceDescription): boolean {
  return desc.group === '' && desc.plural === 'resourcequotas';
}

/** A per-namespace lock: charges to one namespace's quotas happen one at a time in this process. */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release: () => void = () => {};
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export interface ResourceQuotaPlugin extends AdmissionPlugin {
  /** Counts a namespace's usage again and writes it to its quotas' status. */
  recalculate(namespace: string): Promise<void>;
  /** Resolves once every recount started so far has finished (tests). */
  idle(): Promise<void>;
}

export function resourceQuotaPlugin(access: ObjectAccess): ResourceQuotaPlugin {
  const mutex = new KeyedMutex();
  const pending = new Set<Promise<void>>();

  /** The kinds a quota's hard names are about. */
  const trackedKinds = (hard: Iterable<string>): ResourceDescription[] => {
    const names = [...hard];
    const seen = new Set<string>();
    const out: ResourceDescription[] = [];
    for (const d of access.registry.all()) {
      if (d.conversion || !d.namespaced) continue;
      const key = `${d.group}/${d.plural}`;
      if (seen.has(key)) continue;
      if (matchingResources(d, names).length > 0) {
        seen.add(key);
        out.push(d);
      }
    }
    return out;
  };

  /** What the namespace uses now of the quota's hard resources. */
  const countUsage = async (quota: KubeObject, namespace: string): Promise<ResourceList> => {
    const hard = parseList(rec(quota.spec)?.hard);
    let used: ResourceList = new Map();
    for (const name of hard.keys()) used.set(name, count(0));
    for (const desc of trackedKinds(hard.keys())) {
      const names = matchingResources(desc, hard.keys());
      for (const obj of await access.listDesc(desc, namespace)) {
        if (!quotaMatches(quota, desc, obj)) continue;
        used = addLists(used, mask(usageOf(desc, obj), names));
      }
    }
    return used;
  };

  const statusFor = async (quota: KubeObject, namespace: string): Promise<Record<string, unknown>> => {
    const hard = parseList(rec(quota.spec)?.hard);
    return { hard: serialise(hard), used: serialise(await countUsage(quota, namespace)) };
  };

  const recalculate = async (namespace: string): Promise<void> => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // After a conflict, read past the cache: a backend whose watch lags would conflict again.
      const quotas = await (attempt === 0
        ? access.list('', 'ResourceQuota', namespace)
        : access.listLive('', 'ResourceQuota', namespace));
      let conflicted = false;
      for (const q of quotas) {
        const status = await statusFor(q, namespace);
        const old = rec(q.status) ?? {};
        if (
          JSON.stringify(old.hard ?? {}) === JSON.stringify(status.hard) &&
          JSON.stringify(old.used ?? {}) === JSON.stringify(status.used)
        )
          continue;
        if (!(await access.update('', 'ResourceQuota', { ...q, status }))) conflicted = true;
      }
      if (!conflicted) return;
    }
  };

  /** Namespaces with a recount queued but not started: more removals meanwhile need no other. */
  const queued = new Set<string>();
  const schedule = (namespace: string): void => {
    if (queued.has(namespace)) return;
    queued.add(namespace);
    const p = mutex
      .run(namespace, () => {
        queued.delete(namespace);
        return recalculate(namespace);
      })
      .catch((err: unknown) => log.warn('recounting quota usage failed', { namespace, err: String(err) }))
      .finally(() => pending.delete(p));
    pending.add(p);
  };

  /** Charges the request to the matching quotas, or refuses it. */
  const charge = async (req: AdmissionRequest, obj: KubeObject): Promise<void> => {
    const desc = req.resource;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const quotas = await (attempt === 0
        ? access.list('', 'ResourceQuota', req.namespace)
        : access.listLive('', 'ResourceQuota', req.namespace));
      if (quotas.length === 0) return;
      const updates: KubeObject[] = [];
      const input = usageOf(desc, obj);
      for (const [k, q] of input)
        if (q.nanos < 0n)
          throw forbidden(
            { group: desc.group, resource: desc.plural },
            req.name,
            `quota usage is negative for resource(s): ${k}`,
          );
      let delta = input;
      if (req.operation === 'UPDATE' && req.oldObject)
        delta = subtractNonNegative(input, usageOf(desc, req.oldObject));
      for (const quota of quotas) {
        if (!quotaMatches(quota, desc, obj)) continue;
        const status = rec(quota.status) ?? {};
        const hard = parseList(status.hard);
        const restricted = matchingResources(desc, hard.keys());
        if (restricted.length === 0) continue;
        if (desc.group === '' && desc.plural === 'pods') {
          const why = podConstraintError(obj, restricted);
          if (why)
            throw forbidden(
              { group: desc.group, resource: desc.plural },
              req.name,
              `failed quota: ${quota.metadata.name ?? ''}: ${why}`,
            );
        }
        const used = parseList(status.used);
        const unknown = restricted.filter((r) => hard.has(r) && !used.has(r));
        if (unknown.length > 0)
          throw forbidden(
            { group: desc.group, resource: desc.plural },
            req.name,
            `status unknown for quota: ${quota.metadata.name ?? ''}, resources: ${unknown.sort().join(',')}`,
          );
        let matchedDelta = delta;
        if (req.operation === 'UPDATE' && req.oldObject && !quotaMatches(quota, desc, req.oldObject))
          matchedDelta = input;
        const requested = mask(matchedDelta, hard.keys());
        for (const [k, q] of [...requested]) if (q.nanos === 0n) requested.delete(k);
        if (requested.size === 0) continue;
        const newUsage = addLists(used, requested);
        const exceeded: string[] = [];
        for (const k of requested.keys()) {
          const limit = hard.get(k);
          if (limit && newUsage.get(k)!.nanos > limit.nanos) exceeded.push(k);
        }
        if (exceeded.length > 0)
          throw forbidden(
            { group: desc.group, resource: desc.plural },
            req.name,
            `exceeded quota: ${quota.metadata.name ?? ''}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
          );
        updates.push({ ...quota, status: { ...status, used: serialise(addLists(used, requested)) } });
      }
      if (updates.length === 0 || req.dryRun) return;
      let conflicted = false;
      for (const u of updates) if (!(await access.update('', 'ResourceQuota', u))) conflicted = true;
      if (!conflicted) return;
    }
    throw internalError(new Error('resource quota evaluation kept conflicting'));
  };

  return {
    name: RESOURCE_QUOTA_PLUGIN,
    recalculate,
    idle: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async validate(req) {
      const desc = req.resource;
      if (!desc.namespaced || req.namespace === '' || desc.conversion) return;
      if (isQuota(desc) && req.subresource === '' && req.object && req.operation !== 'DELETE') {
        // Filled in at once, so the quota is usable before the controller's first sync.
        req.object.status = await statusFor(req.object, req.namespace);
        return;
      }
      if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return;
      if (!req.object || req.subresource !== '') return;
      const obj = req.object;
      // Most namespaces have no quota: nothing to wait for.
      if ((await access.list('', 'ResourceQuota', req.namespace)).length === 0) return;
      // A create of a name that exists fails in storage right after; do not charge for it.
      if (req.operation === 'CREATE' && (await access.get(desc.group, desc.kind, req.namespace, req.name)))
        return;
      await mutex.run(req.namespace, () => charge(req, obj));
    },
    committed(req, outcome) {
      const desc = req.resource;
      if (!desc.namespaced || req.namespace === '' || isQuota(desc)) return;
      if (outcome.removed) {
        schedule(req.namespace);
        return;
      }
      // A pod that has finished stops counting.
      if (desc.group === '' && desc.plural === 'pods' && req.operation === 'UPDATE') {
        const phase = str(rec(req.object?.status)?.phase);
        const before = str(rec(req.oldObject?.status)?.phase);
        if ((phase === 'Succeeded' || phase === 'Failed') && phase !== before) schedule(req.namespace);
      }
    },
  };
}
