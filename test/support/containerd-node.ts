// A `k8ts server` whose own node runs containerd and pulls the test images through a docker.io
// mirror (the local registry of registry.ts), for end-to-end tests of the node agent. restart()
// starts the server again on the same data dir and port (after a crash the test caused).
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort, startServer, type TestServer } from './k8ts-server.js';
import { startRegistry, type TestRegistry, writeRegistriesYaml } from './registry.js';

export interface ContainerdNode {
  readonly registry: TestRegistry;
  readonly nodeName: string;
  server: TestServer;
  /** Starts the server again on the same data dir, port and node port (the old one must be gone). */
  restart(): Promise<TestServer>;
  /**
   * Deletes `resources` (kubectl's comma list, pods by default) through the API, then stops the
   * server and the registry: pods outlive a stopped agent, so they must go while it runs.
   */
  stop(resources?: string): Promise<void>;
}

/** Waits until the node reports Ready: the API answers before the node's containerd is up. */
export async function waitForNodeReady(
  server: TestServer,
  nodeName: string,
  timeoutMs = 60_000,
): Promise<void> {
  await eventually(
    `node ${nodeName} Ready`,
    async () => {
      const r = await server.kubectl([
        'get',
        'node',
        nodeName,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return r.stdout === 'True' ? true : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

export async function startContainerdNode(dataDir: string, nodeName: string): Promise<ContainerdNode> {
  const registry = await startRegistry();
  writeRegistriesYaml(join(dataDir, 'registries.yaml'), registry);
  const nodePort = await freePort();
  const extraArgs = [
    '--node-name',
    nodeName,
    '--node-port',
    String(nodePort),
    '--disable-default-registry-endpoint',
  ];
  const start = async (port?: number): Promise<TestServer> => {
    const server = await startServer({ dataDir, agent: true, port, extraArgs, readyTimeoutMs: 60_000 });
    await waitForNodeReady(server, nodeName);
    return server;
  };
  let first: TestServer;
  try {
    first = await start();
  } catch (e) {
    await registry.stop();
    throw e;
  }
  const node: ContainerdNode = {
    registry,
    nodeName,
    server: first,
    async restart() {
      node.server = await start(node.server.port);
      return node.server;
    },
    async stop(resources = 'pod') {
      await node.server.kubectl(['delete', resources, '--all', '--wait', '--timeout=60s'], {
        timeoutMs: 90_000,
      });
      await node.server.stop();
      await registry.stop();
    },
  };
  return node;
}
