import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Node } from '../api/generated/types.js';
import { builtinResources } from '../api/kinds/index.js';
import { builtinSchemas } from '../api/schema-registry.js';
import { createApiServer, type ApiServer } from '../apiserver/server.js';
import { RestClient } from '../client/rest.js';
import { NODES } from '../client/typed-refs.js';
import { renderKubeconfig } from '../pki/kubeconfig.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { agentCommand, runAgent } from './agent.js';
import { UsageError } from './flags.js';

describe('k8ts agent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-agent-cli-'));
  let server: ApiServer;
  let store: MemoryStore;
  let kubeconfig = '';

  before(async () => {
    store = new MemoryStore();
    server = await createApiServer({ store, resources: builtinResources, schemas: builtinSchemas() });
    kubeconfig = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfig, renderKubeconfig({ server: server.url, caPem: 'unused over plain HTTP' }));
  });

  after(async () => {
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('several nodes in one process need the simulated runtime', async () => {
    await assert.rejects(
      agentCommand.run(['--runtime', 'containerd', '--kubeconfig', kubeconfig, '--nodes', '2']),
      /--nodes needs --runtime fake/,
    );
  });

  test('bad flag combinations are usage errors', async () => {
    await assert.rejects(agentCommand.run(['--runtime', 'docker']), UsageError);
    await assert.rejects(agentCommand.run(['--runtime', 'fake']), /--server and --token, or --kubeconfig/);
    await assert.rejects(
      agentCommand.run([
        '--runtime',
        'fake',
        '--nodes',
        '3',
        '--server',
        'http://x',
        '--token',
        'abcdef.0123456789abcdef',
      ]),
      /--nodes needs --kubeconfig/,
    );
    await assert.rejects(
      agentCommand.run(['--runtime', 'fake', '--nodes', '0', '--kubeconfig', kubeconfig]),
      UsageError,
    );
    await assert.rejects(
      agentCommand.run(['--runtime', 'fake', '--nodes', '2', '--node-name', 'x', '--kubeconfig', kubeconfig]),
      UsageError,
    );
  });

  test('with a kubeconfig it runs simulated nodes until SIGTERM', async () => {
    let stop: (why: string) => void = () => undefined;
    const stopped = new Promise<string>((r) => (stop = r));
    const run = runAgent(
      [
        '--kubeconfig',
        kubeconfig,
        '--runtime',
        'fake',
        '--nodes',
        '3',
        '--node-prefix',
        'cli',
        '--node-label',
        'pool=sim',
        '--data-dir',
        dir,
      ],
      () => stopped,
    );
    const client = new RestClient({ server: server.url, namespace: 'default' });
    try {
      for (let i = 0; i < 100; i++) {
        const nodes = await client.list<Node>(NODES, undefined, { labelSelector: 'pool=sim' });
        const ready = nodes.items.filter((n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        if (ready.length === 3) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const names = (await client.list<Node>(NODES, undefined, { labelSelector: 'pool=sim' })).items
        .map((n) => n.metadata.name)
        .sort();
      assert.deepEqual(names, ['cli-0', 'cli-1', 'cli-2']);
    } finally {
      stop('test over');
      client.close();
    }
    assert.equal(await run, 0);
  });
});
