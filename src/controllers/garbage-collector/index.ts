// The garbage collector as the controller manager runs it. It watches every resource the server
// serves that can be listed, watched and deleted (found through discovery, events excluded as
// upstream does), and discovers again every 30 s so that kinds added later (CRDs) are collected too.
import type { ControllerContext, ControllerDescriptor, StopController } from '../types.js';
import type { HandlerRegistration } from '../../client/informer.js';
import { queueRunner } from '../common/runner.js';
import { errText } from '../common/errors.js';
import {
  discoverResources,
  GC_IGNORED_RESOURCES,
  groupResource,
  hasVerbs,
  refOf,
  restDiscovery,
  type DiscoveredResource,
} from './discovery.js';
import { GarbageCollector, restGcClient } from './garbage-collector.js';
import { InformerGraph } from './graph.js';

export { GarbageCollector } from './garbage-collector.js';

/** Upstream's controller name (and its older alias, accepted by --controllers). */
export const GARBAGE_COLLECTOR_CONTROLLER = 'garbage-collector-controller';
export const GARBAGE_COLLECTOR_ALIASES: readonly string[] = ['garbagecollector'];

const REDISCOVERY_PERIOD_MS = 30_000;
const DEFAULT_WORKERS = 20;

export function gcWatchable(r: DiscoveredResource): boolean {
  return hasVerbs(r, 'delete', 'list', 'watch') && !GC_IGNORED_RESOURCES.has(groupResource(r));
}

async function discoverWithRetry(ctx: ControllerContext): Promise<DiscoveredResource[]> {
  const d = restDiscovery(ctx.client);
  let delay = 200;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await discoverResources(d);
      if (res.failed.size > 0)
        ctx.logger.warn('some group versions could not be discovered', {
          failed: Object.fromEntries(res.failed),
        });
      return res.resources;
    } catch (err) {
      if (attempt >= 8) throw err;
      ctx.logger.warn('discovery failed, retrying', { err: errText(err), retryInMs: delay });
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

export const garbageCollectorController: ControllerDescriptor = {
  name: GARBAGE_COLLECTOR_CONTROLLER,
  async start(ctx): Promise<StopController> {
    const log = ctx.logger;
    const graph = new InformerGraph();
    const runner = queueRunner('garbage_collector_attempt_to_delete', log, (uid) => gc.sync(uid));
    const gc: GarbageCollector = new GarbageCollector({
      graph,
      client: restGcClient(ctx.client),
      log,
      recorder: ctx.recorder('garbage-collector-controller'),
      enqueue: (uid) => runner.queue.add(uid),
    });
    const registrations: HandlerRegistration[] = [];
    const track = (all: readonly DiscoveredResource[], prune: boolean): number => {
      graph.setKinds(all);
      let added = 0;
      const served = new Set<string>();
      for (const r of all.filter(gcWatchable)) {
        served.add(groupResource(r));
        const inf = ctx.informers.informerFor(refOf(r));
        if (graph.add(r, inf)) {
          registrations.push(inf.addEventHandler(gc.handlers()));
          added++;
        }
      }
      if (prune) for (const k of graph.keys()) if (!served.has(k)) graph.remove(k);
      return added;
    };
    track(await discoverWithRetry(ctx), false);
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const rediscover = async (): Promise<void> => {
      try {
        const res = await discoverResources(restDiscovery(ctx.client));
        if (stopped) return;
        // A partial answer must not drop resources: stop watching only on a complete one.
        const added = track(res.resources, res.failed.size === 0);
        if (added > 0) {
          log.info('watching newly discovered resources', { added });
          ctx.informers.start();
        }
      } catch (err) {
        log.warn('periodic discovery failed', { err: errText(err) });
      } finally {
        if (!stopped) timer = setTimeout(() => void rediscover(), REDISCOVERY_PERIOD_MS);
      }
    };
    const workers = ctx.workers ?? DEFAULT_WORKERS;
    void ctx.waitForCacheSync().then((ok) => {
      if (!ok || stopped) return;
      void runner.run(workers);
      timer = setTimeout(() => void rediscover(), REDISCOVERY_PERIOD_MS);
    });
    return async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const r of registrations) r.remove();
      await runner.stop();
    };
  },
};
