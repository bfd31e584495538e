// The ServiceAccount controller and the root CA publisher as the controller manager runs them.
import type { KubeObject } from '../../api/meta.js';
import type { RestClient } from '../../client/rest.js';
import { CONFIGMAPS, NAMESPACES, SERVICEACCOUNTS } from '../../client/typed-refs.js';
import { queueRunner } from '../common/runner.js';
import type { ControllerContext, ControllerDescriptor, StopController } from '../types.js';
import { RootCaPublisher, type ConfigMapObj } from './root-ca-publisher.js';
import { ServiceAccountsController, type NamespaceObj, type ServiceAccountObj } from './serviceaccounts.js';

export { RootCaPublisher, ROOT_CA_CONFIGMAP } from './root-ca-publisher.js';
export { ServiceAccountsController, DEFAULT_SERVICE_ACCOUNT } from './serviceaccounts.js';

function runAfterSync(ctx: ControllerContext, run: () => void): { stopped: () => boolean; stop: () => void } {
  let stopped = false;
  void ctx.waitForCacheSync().then((ok) => {
    if (ok && !stopped) run();
  });
  return { stopped: () => stopped, stop: () => (stopped = true) };
}

export const serviceAccountController: ControllerDescriptor = {
  name: 'serviceaccount',
  start(ctx): StopController {
    const namespaces = ctx.informers.informerFor<NamespaceObj>(NAMESPACES);
    const serviceAccounts = ctx.informers.informerFor<ServiceAccountObj>(SERVICEACCOUNTS);
    const runner = queueRunner('serviceaccount', ctx.logger, (ns) => controller.sync(ns));
    const client: RestClient = ctx.client;
    const controller: ServiceAccountsController = new ServiceAccountsController({
      namespaces: namespaces.getLister(),
      serviceAccounts: serviceAccounts.getLister(),
      client: {
        async create(ns, sa) {
          await client.create(SERVICEACCOUNTS, ns, sa);
        },
      },
      enqueue: (ns) => runner.queue.add(ns),
      log: ctx.logger,
    });
    const regs = [
      namespaces.addEventHandler(controller.namespaceHandlers()),
      serviceAccounts.addEventHandler(controller.serviceAccountHandlers()),
    ];
    const gate = runAfterSync(ctx, () => void runner.run(ctx.workers ?? 5));
    return async () => {
      gate.stop();
      for (const r of regs) r.remove();
      await runner.stop();
    };
  },
};

/** The root CA publisher needs the CA bundle: the manager builds it with the cluster CA. */
export function rootCaCertificatePublisher(rootCa: string): ControllerDescriptor {
  return {
    name: 'root-ca-certificate-publisher',
    start(ctx): StopController {
      const namespaces = ctx.informers.informerFor<NamespaceObj>(NAMESPACES);
      const configMaps = ctx.informers.informerFor<ConfigMapObj>(CONFIGMAPS);
      const runner = queueRunner('root_ca_cert_publisher', ctx.logger, (ns) => publisher.sync(ns));
      const client = ctx.client;
      const publisher: RootCaPublisher = new RootCaPublisher({
        namespaces: namespaces.getLister(),
        configMaps: configMaps.getLister(),
        client: {
          async create(ns, cm) {
            await client.create(CONFIGMAPS, ns, cm);
          },
          async update(cm) {
            await client.update<KubeObject>(CONFIGMAPS, cm);
          },
        },
        enqueue: (ns) => runner.queue.add(ns),
        log: ctx.logger,
        rootCa,
      });
      const regs = [
        namespaces.addEventHandler(publisher.namespaceHandlers()),
        configMaps.addEventHandler(publisher.configMapHandlers()),
      ];
      const gate = runAfterSync(ctx, () => void runner.run(ctx.workers ?? 5));
      return async () => {
        gate.stop();
        for (const r of regs) r.remove();
        await runner.stop();
      };
    },
  };
}
