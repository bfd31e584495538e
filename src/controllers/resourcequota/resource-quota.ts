// The resource quota controller (upstream pkg/controller/resourcequota): each ResourceQuota's
// status.hard follows spec.hard and status.used is recounted from what the namespace holds —
// when a quota is created or its limits change, when something it tracks is deleted or changes its
// usage (a pod that finishes, a Service that becomes a LoadBalancer), and on a full resync period.
// Admission charges creates to status.used at once; this controller corrects it afterwards, with
// the same evaluators (src/api/quota-usage.ts), so both always count alike.
import type { ResourceQuota } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import {
  addLists,
  count,
  groupResourceKey,
  matchingResources,
  parseList,
  quotaMatches,
  usageOf,
  type QuotaKind,
  type ResourceList,
} from '../../api/quota-usage.js';
import { formatQuantity } from '../../api/quantity.js';
import {
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type SharedInformer,
} from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { errText, isConflict, isNotFound } from '../common/errors.js';
import { queueRunner, type QueueRunner } from '../common/runner.js';

/** Upstream's --resource-quota-sync-period default. */
export const DEFAULT_QUOTA_RESYNC_MS = 5 * 60_000;

/** A kind the controller watches: deletions and usage changes of its objects trigger a recount. */
export interface TrackedKind {
  kind: QuotaKind;
  informer: SharedInformer<KubeObject>;
}

export interface ResourceQuotaControllerOptions {
  quotas: SharedInformer<ResourceQuota>;
  tracked: TrackedKind[];
  /** Lists a kind the controller does not watch (a count/<resource>.<group> quota), in a namespace. */
  listOther(kind: QuotaKind, namespace: string): Promise<KubeObject[]>;
  updateStatus(quota: ResourceQuota): Promise<ResourceQuota>;
  log: Logger;
  /** Full recount of every quota this often (default 5 min; 0 = never). */
  resyncPeriodMs?: number;
}

/** The kind a count/<resource>[.<group>] name is about. */
export function countedKind(resourceName: string): QuotaKind | undefined {
  if (!resourceName.startsWith('count/')) return undefined;
  const gr = resourceName.slice('count/'.length);
  const dot = gr.indexOf('.');
  return dot < 0 ? { group: '', plural: gr } : { group: gr.slice(dot + 1), plural: gr.slice(0, dot) };
}

function serialise(list: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...list.keys()].sort()) out[k] = formatQuantity(list.get(k)!);
  return out;
}

/** quota.Equals: the same names with the same amounts, whatever their text. */
function sameList(a: ResourceList, b: ResourceList): boolean {
  if (a.size !== b.size) return false;
  for (const [k, q] of a) if (b.get(k)?.nanos !== q.nanos) return false;
  return true;
}

export class ResourceQuotaController {
  private readonly runner: QueueRunner;
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: ResourceQuotaControllerOptions) {
    this.runner = queueRunner('resourcequota', o.log, (key) => this.sync(key));
  }

  registerHandlers(): void {
    const enqueue = (q: ResourceQuota): void => this.runner.queue.add(metaNamespaceKey(q));
    this.o.quotas.addEventHandler({
      onAdd: enqueue,
      onUpdate: (old, cur) => {
        // Our own status writes come back as updates: only new limits or a stale status need a recount.
        const hard = parseList(cur.spec?.hard);
        const changed = !sameList(parseList(old.spec?.hard), hard);
        const stale =
          !sameList(hard, parseList(cur.status?.hard)) ||
          [...hard.keys()].some((k) => cur.status?.used?.[k] === undefined);
        if (changed || stale) enqueue(cur);
      },
    });
    for (const t of this.o.tracked) {
      t.informer.addEventHandler({
        onUpdate: (old, cur) => {
          if (!sameList(usageOf(t.kind, old), usageOf(t.kind, cur))) this.replenish(t.kind, cur);
        },
        onDelete: (obj: KubeObject | DeletedFinalStateUnknown<KubeObject>) =>
          this.replenish(t.kind, deletedObject(obj)),
      });
    }
  }

  /** Something a quota may count went away or changed: recount the quotas of its namespace that track it. */
  private replenish(kind: QuotaKind, obj: KubeObject): void {
    const namespace = obj.metadata.namespace;
    if (!namespace) return;
    for (const q of this.o.quotas.list(namespace)) {
      const hard = Object.keys(q.spec?.hard ?? {});
      if (matchingResources(kind, hard).length > 0) this.runner.queue.add(metaNamespaceKey(q));
    }
  }

  run(workers: number): Promise<void> {
    this.scheduleResync();
    return this.runner.run(workers);
  }

  private scheduleResync(): void {
    const period = this.o.resyncPeriodMs ?? DEFAULT_QUOTA_RESYNC_MS;
    if (period <= 0 || this.stopped) return;
    this.resyncTimer = setTimeout(() => {
      for (const q of this.o.quotas.list()) this.runner.queue.add(metaNamespaceKey(q));
      this.scheduleResync();
    }, period);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    await this.runner.stop();
  }

  /** The objects of a kind in a namespace: from its informer when watched, else listed. */
  private async objectsOf(kind: QuotaKind, namespace: string): Promise<KubeObject[]> {
    const t = this.o.tracked.find((x) => x.kind.group === kind.group && x.kind.plural === kind.plural);
    return t ? t.informer.list(namespace) : this.o.listOther(kind, namespace);
  }

  /** What the namespace uses of the quota's hard resources (upstream's quota.CalculateUsage). */
  async calculateUsage(quota: ResourceQuota): Promise<ResourceList> {
    const namespace = quota.metadata.namespace ?? '';
    const hardNames = Object.keys(quota.spec?.hard ?? {});
    const kinds = new Map<string, QuotaKind>();
    for (const t of this.o.tracked) kinds.set(groupResourceKey(t.kind), t.kind);
    for (const name of hardNames) {
      const k = countedKind(name);
      if (k) kinds.set(groupResourceKey(k), k);
    }
    let used: ResourceList = new Map();
    for (const kind of kinds.values()) {
      const names = matchingResources(kind, hardNames);
      if (names.length === 0) continue;
      for (const n of names) if (!used.has(n)) used.set(n, count(0));
      for (const obj of await this.objectsOf(kind, namespace)) {
        if (!quotaMatches(quota, kind, obj)) continue;
        const usage = usageOf(kind, obj);
        const masked: ResourceList = new Map();
        for (const n of names) {
          const q = usage.get(n);
          if (q) masked.set(n, q);
        }
        used = addLists(used, masked);
      }
    }
    return used;
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const quota = this.o.quotas.get(namespace, name);
    if (!quota) return;
    const hard = parseList(quota.spec?.hard);
    const oldUsed = parseList(quota.status?.used);
    const dirtyHard =
      !sameList(hard, parseList(quota.status?.hard)) || !quota.status?.hard || !quota.status.used;
    let used: ResourceList = new Map(oldUsed);
    try {
      for (const [k, q] of await this.calculateUsage(quota)) used.set(k, q);
    } catch (err) {
      // Upstream keeps what it could count; an unlistable kind keeps its previous figure.
      this.o.log.info('quota usage partially calculated', { quota: key, err: errText(err) });
    }
    // Only what has a hard limit is reported.
    used = new Map([...used].filter(([k]) => hard.has(k)));
    if (!dirtyHard && sameList(used, oldUsed)) return;
    const next: ResourceQuota = {
      ...structuredClone(quota),
      status: { hard: serialise(hard), used: serialise(used) },
    };
    try {
      await this.o.updateStatus(next);
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err))
        this.o.log.info('failed to update quota status', { quota: key, err: errText(err) });
      throw err;
    }
  }
}
