// The token cleaner as the controller manager runs it.
import type { KubeObject } from '../../api/meta.js';
import { deletedObject, type DeletedFinalStateUnknown } from '../../client/informer.js';
import { SECRETS } from '../../client/typed-refs.js';
import { queueRunner } from '../common/runner.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import { TOKEN_NAMESPACE, TokenCleaner, type SecretObj } from './cleaner.js';

export { TokenCleaner, tokenExpiry } from './cleaner.js';

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

export const tokenCleanerController: ControllerDescriptor = {
  name: 'tokencleaner',
  start(ctx): StopController {
    const secrets = ctx.informers.informerFor<SecretObj>(SECRETS, { namespace: TOKEN_NAMESPACE });
    const runner = queueRunner('token_cleaner', ctx.logger, (key) => cleaner.sync(key));
    const client = ctx.client;
    const cleaner: TokenCleaner = new TokenCleaner({
      secrets: secrets.getLister(),
      async deleteSecret(namespace, name, uid) {
        await client.request('DELETE', `/api/v1/namespaces/${namespace}/secrets/${name}`, {
          body: {
            kind: 'DeleteOptions',
            apiVersion: 'v1',
            ...(uid ? { preconditions: { uid } } : {}),
          },
        });
      },
      enqueueAfter: (key, ms) => runner.queue.addAfter(key, ms),
      log: ctx.logger,
    });
    const on = (s: SecretObj): void => {
      if (cleaner.wants(s)) runner.queue.add(keyOf(s));
    };
    const reg = secrets.addEventHandler({
      onAdd: on,
      onUpdate: (_old, s) => on(s),
      onDelete: (v: SecretObj | DeletedFinalStateUnknown<SecretObj>) => on(deletedObject(v)),
    });
    let stopped = false;
    void ctx.waitForCacheSync().then((ok) => {
      if (!ok || stopped) return;
      void runner.run(ctx.workers ?? 1);
    });
    return async () => {
      stopped = true;
      reg.remove();
      await runner.stop();
    };
  },
};
