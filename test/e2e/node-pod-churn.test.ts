// The leak check: 200 pods created and deleted through the API (in batches of 20, half
// stopped gracefully by the agent and half removed from the API at once) leave no containerd
// containers or tasks, network namespaces, host-local address reservations, veths on the bridge,
// pod folders or log folders behind, and the agent keeps working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimePaths } from '../../src/agent/containerd/paths.js';
import { startContainerdNode, type ContainerdNode } from '../support/containerd-node.js';
import { removeDataDir, type TestServer } from '../support/k8ts-server.js';
import { eventually as pollUntil } from '../support/eventually.js';

let node: ContainerdNode;
let server: TestServer;
const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-churn-'));
const BRIDGE = 'k8ts0';

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 250 });

before(async () => {
  node = await startContainerdNode(dataDir, 'k8ts-churn-node');
  server = node.server;
});

after(async () => {
  await server?.kubectl(['delete', 'pod', '--all', '--wait', '--timeout=60s'], { timeoutMs: 90_000 });
  await server?.stop();
  await node?.registry.stop();
  removeDataDir(dataDir);
});

/** Entries of a folder (none when it does not exist). */
function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

function socketOf(): string {
  return runtimePaths(dataDir).socket;
}

function ctrCount(kind: 'containers' | 'tasks'): number {
  const out = execFileSync('ctr', ['-a', socketOf(), '-n', 'k8s.io', kind, 'ls', '-q'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).length;
}

interface Footprint {
  containers: number;
  tasks: number;
  netns: number;
  addresses: number;
  veths: number;
  podDirs: number;
  logDirs: number;
}

function footprint(): Footprint {
  const ipam = join(runtimePaths(dataDir).cniDataDir, 'k8ts');
  return {
    containers: ctrCount('containers'),
    tasks: ctrCount('tasks'),
    netns: entries('/var/run/netns').length,
    addresses: entries(ipam).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)).length,
    veths: execFileSync('ip', ['-o', 'link', 'show', 'master', BRIDGE], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim()).length,
    podDirs: entries(runtimePaths(dataDir).podsDir).length,
    logDirs: entries(runtimePaths(dataDir).podLogsDir).length,
  };
}

test('200 pods created and deleted through the API leave no containers, namespaces, addresses or veths', async () => {
  const baseline = await waitFor(
    'no pods left',
    () => {
      const f = footprint();
      return Promise.resolve(f.containers === 0 ? f : undefined);
    },
    30_000,
  );
  const BATCHES = 10;
  const PER_BATCH = 20;
  for (let b = 0; b < BATCHES; b++) {
    const items = Array.from({ length: PER_BATCH }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `cycle-${b}-${i}`, labels: { cycle: String(b) } },
      spec: {
        // Half are stopped gracefully by the agent, half vanish from the API at once.
        terminationGracePeriodSeconds: i % 2,
        containers: [{ name: 'main', image: 'busybox:latest', command: ['sleep', '3600'] }],
      },
    }));
    // A stream of JSON documents (a v1 List would make kubectl validate it client-side against
    // the protobuf OpenAPI v2, which the server does not serve).
    await server.kubectlOk(['create', '-f', '-'], {
      input: items.map((i) => JSON.stringify(i)).join('\n'),
    });
    await waitFor(
      `batch ${b} running`,
      async () => {
        const out = await server.kubectlOk([
          'get',
          'pods',
          '-l',
          `cycle=${b}`,
          '-o',
          'jsonpath={.items[*].status.phase}',
        ]);
        const phases = out.split(' ').filter(Boolean);
        return phases.length === PER_BATCH && phases.every((p) => p === 'Running') ? true : undefined;
      },
      90_000,
    );
    await server.kubectlOk(['delete', 'pods', '-l', `cycle=${b}`, '--wait', '--timeout=60s'], {
      timeoutMs: 90_000,
    });
  }
  const left = await waitFor(
    'everything released',
    () => {
      const f = footprint();
      return Promise.resolve(JSON.stringify(f) === JSON.stringify(baseline) ? f : undefined);
    },
    30_000,
  ).catch(() => footprint());
  assert.deepEqual(left, baseline);
  assert.deepEqual({ podDirs: baseline.podDirs, logDirs: baseline.logDirs }, { podDirs: 0, logDirs: 0 });
  // The agent still runs pods.
  await server.kubectlOk(['run', 'after-churn', '--image=busybox:latest', '--', 'sleep', '3600']);
  await waitFor('after-churn running', async () => {
    const phase = await server.kubectlOk(['get', 'pod', 'after-churn', '-o', 'jsonpath={.status.phase}']);
    return phase === 'Running' ? true : undefined;
  });
  assert.equal((await server.kubectlOk(['exec', 'after-churn', '--', 'echo', 'ok'])).trim(), 'ok');
});
