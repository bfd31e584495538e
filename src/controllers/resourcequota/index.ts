// The 'resourcequota' controller as the controller manager runs it: the kinds with their own
// quota evaluators are watched through shared informers; other kinds named by count/<resource>.<group>
// are listed through the API (in the group's preferred version) when a quota is recounted.
import type { ResourceQuota } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { QuotaKind } from '../../api/quota-usage.js';
import type { ResourceRef, RestClient } from '../../client/rest.js';
import {
  CONFIGMAPS,
  PERSISTENTVOLUMECLAIMS,
  PODS,
  REPLICATIONCONTROLLERS,
  RESOURCEQUOTAS,
  SECRETS,
  SERVICES,
} from '../../client/typed-refs.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import { ResourceQuotaController } from './resource-quota.js';

export { ResourceQuotaController, DEFAULT_QUOTA_RESYNC_MS, countedKind } from './resource-quota.js';

/** Upstream's --concurrent-resource-quota-syncs default. */
const QUOTA_WORKERS = 5;

/** The kinds upstream's core evaluators cover, watched so their deletions trigger a recount. */
const WATCHED: readonly ResourceRef[] = [
  PODS,
  SERVICES,
  PERSISTENTVOLUMECLAIMS,
  CONFIGMAPS,
  SECRETS,
  REPLICATIONCONTROLLERS,
  RESOURCEQUOTAS,
];

/** Lists any namespaced kind by group and resource, in its group's preferred version. */
export function restKindLister(
  client: RestClient,
): (kind: QuotaKind, namespace: string) => Promise<KubeObject[]> {
  const versions = new Map<string, string>();
  const preferredVersion = async (group: string): Promise<string> => {
    if (group === '') return 'v1';
    const known = versions.get(group);
    if (known) return known;
    const body = await client.request<{ preferredVersion?: { version?: unknown } }>('GET', `/apis/${group}`);
    const v = body?.preferredVersion?.version;
    if (typeof v !== 'string' || v === '') throw new Error(`no preferred version for group "${group}"`);
    versions.set(group, v);
    return v;
  };
  return async (kind, namespace) => {
    const version = await preferredVersion(kind.group);
    const list = await client.list<KubeObject>(
      { group: kind.group, version, plural: kind.plural, namespaced: true },
      namespace,
    );
    return list.items;
  };
}

export function resourceQuotaControllerDescriptor(
  tuning: { resyncPeriodMs?: number } = {},
): ControllerDescriptor {
  return {
    name: 'resourcequota',
    start(ctx): StopController {
      const controller = new ResourceQuotaController({
        quotas: ctx.informers.informerFor<ResourceQuota>(RESOURCEQUOTAS),
        tracked: WATCHED.map((ref) => ({
          kind: { group: ref.group, plural: ref.plural },
          informer: ctx.informers.informerFor<KubeObject>(ref),
        })),
        listOther: restKindLister(ctx.client),
        updateStatus: (q) => ctx.client.update<ResourceQuota>(RESOURCEQUOTAS, q, 'status'),
        log: ctx.logger,
        resyncPeriodMs: tuning.resyncPeriodMs,
      });
      controller.registerHandlers();
      let stopped = false;
      void ctx.waitForCacheSync().then((ok) => {
        if (ok && !stopped) void controller.run(ctx.workers ?? QUOTA_WORKERS);
      });
      return async () => {
        stopped = true;
        await controller.stop();
      };
    },
  };
}
