// The namespace controller as the controller manager runs it.
import type { Namespace } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import { NAMESPACES } from '../../client/typed-refs.js';
import { queueRunner } from '../common/runner.js';
import { discoverResources, restDiscovery } from '../garbage-collector/discovery.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import { NamespaceController, restNamespaceClient } from './namespace.js';

export { NamespaceController } from './namespace.js';

/** Upstream's --concurrent-namespace-syncs default. */
const DEFAULT_WORKERS = 10;

export const namespaceController: ControllerDescriptor = {
  name: 'namespace',
  start(ctx): StopController {
    const informer = ctx.informers.informerFor<Namespace & KubeObject>(NAMESPACES);
    const runner = queueRunner('namespace', ctx.logger, (name) => controller.sync(name));
    const controller: NamespaceController = new NamespaceController({
      client: restNamespaceClient(ctx.client),
      namespaces: informer.getLister(),
      discover: () => discoverResources(restDiscovery(ctx.client)),
      enqueueAfter: (name, ms) => runner.queue.addAfter(name, ms),
      log: ctx.logger,
    });
    const enqueue = (ns: KubeObject): void => {
      if (ns.metadata.deletionTimestamp) runner.queue.add(ns.metadata.name ?? '');
    };
    const reg = informer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, ns) => enqueue(ns) });
    let stopped = false;
    void ctx.waitForCacheSync().then((ok) => {
      if (ok && !stopped) void runner.run(ctx.workers ?? DEFAULT_WORKERS);
    });
    return async () => {
      stopped = true;
      reg.remove();
      await runner.stop();
    };
  },
};
