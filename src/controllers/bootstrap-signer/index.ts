// The bootstrap signer as the controller manager runs it.
import type { KubeObject } from '../../api/meta.js';
import { CONFIGMAPS, SECRETS } from '../../client/typed-refs.js';
import { queueRunner } from '../common/runner.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import {
  BootstrapSigner,
  CLUSTER_INFO_KEY,
  TOKEN_NAMESPACE,
  type ConfigMapObj,
  type SecretObj,
} from './signer.js';

export {
  BootstrapSigner,
  clusterInfoKubeconfig,
  signingToken,
  CLUSTER_INFO_NAME,
  CLUSTER_INFO_NAMESPACE,
  JWS_KEY_PREFIX,
} from './signer.js';

export interface BootstrapSignerControllerOptions {
  /** The API server URL to publish (default: the one the manager's client talks to). */
  server?: string;
  /** The cluster CA to publish (default: the CA the manager's client trusts). */
  caPem?: string;
}

/**
 * The bootstrap signer. Registered with the manager without options, it publishes the server and CA
 * of the manager's own connection; the control plane passes them explicitly.
 */
export function bootstrapSignerController(opts: BootstrapSignerControllerOptions = {}): ControllerDescriptor {
  return {
    name: 'bootstrapsigner',
    start(ctx): StopController {
      const server = opts.server ?? ctx.client.config.server;
      const caPem = opts.caPem ?? ctx.client.config.caPem;
      if (!caPem) {
        ctx.logger.warn('no cluster CA known: not publishing kube-public/cluster-info');
        return () => Promise.resolve();
      }
      const configMaps = ctx.informers.informerFor<ConfigMapObj>(CONFIGMAPS);
      const secrets = ctx.informers.informerFor<SecretObj>(SECRETS, { namespace: TOKEN_NAMESPACE });
      const runner = queueRunner('bootstrap_signer', ctx.logger, () => signer.sync());
      const client = ctx.client;
      const signer: BootstrapSigner = new BootstrapSigner({
        configMaps: configMaps.getLister(),
        secrets: secrets.getLister(),
        client: {
          async create(cm) {
            await client.create(CONFIGMAPS, cm.metadata.namespace, cm);
          },
          async update(cm) {
            await client.update<KubeObject>(CONFIGMAPS, cm);
          },
        },
        enqueue: () => runner.queue.add(CLUSTER_INFO_KEY),
        enqueueAfter: (ms) => runner.queue.addAfter(CLUSTER_INFO_KEY, ms),
        log: ctx.logger,
        server,
        caPem,
      });
      const regs = [
        configMaps.addEventHandler(signer.configMapHandlers()),
        secrets.addEventHandler(signer.secretHandlers()),
      ];
      let stopped = false;
      void ctx.waitForCacheSync().then((ok) => {
        if (!ok || stopped) return;
        // Publish even when no event arrives (no cluster-info yet, no token Secret).
        runner.queue.add(CLUSTER_INFO_KEY);
        void runner.run(1);
      });
      return async () => {
        stopped = true;
        for (const r of regs) r.remove();
        await runner.stop();
      };
    },
  };
}
