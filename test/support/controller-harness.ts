// One controller (or a few) against a real API server on the in-memory store, for integration
// tests of controllers: the server, a client, and a controller manager running only those.
import assert from 'node:assert/strict';
import { builtinResources } from '../../src/api/kinds/index.js';
import { builtinSchemas } from '../../src/api/schema-registry.js';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../../src/apiserver/server.js';
import { RestClient } from '../../src/client/rest.js';
import { NAMESPACES } from '../../src/client/typed-refs.js';
import { createControllerManager, type ControllerManager } from '../../src/controllers/manager.js';
import type { ControllerDescriptor } from '../../src/controllers/types.js';
import { MemoryStore } from '../../src/storage/memory/memory-store.js';

export interface ControllerHarness {
  readonly server: ApiServer;
  readonly client: RestClient;
  readonly manager: ControllerManager;
  stop(): Promise<void>;
}

export interface ControllerHarnessOptions {
  /** The controllers to run, by name. */
  readonly enable: string[];
  /** Descriptors built for this test (a shorter period, say), replacing the built-in ones of those names. */
  readonly controllers?: ControllerDescriptor[];
  readonly admission?: ApiServerOptions['admission'];
  /** The client's namespace, created before the controllers start (default: default). */
  readonly namespace?: string;
}

/** Starts the server and the controllers, and waits until they run with synced caches. */
export async function startControllerHarness(opts: ControllerHarnessOptions): Promise<ControllerHarness> {
  const store = new MemoryStore();
  const server = await createApiServer({
    store,
    resources: builtinResources,
    schemas: builtinSchemas(),
    ...(opts.admission ? { admission: opts.admission } : {}),
  });
  const namespace = opts.namespace ?? 'default';
  const client = new RestClient({ server: server.url, namespace });
  if (namespace !== 'default')
    await client.create(NAMESPACES, undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
  const manager = createControllerManager({ client, enable: opts.enable, controllers: opts.controllers });
  await manager.start();
  assert.equal(await manager.whenRunning(), true);
  return {
    server,
    client,
    manager,
    async stop() {
      await manager.stop();
      client.close();
      await server.close();
      await store.close();
    },
  };
}
