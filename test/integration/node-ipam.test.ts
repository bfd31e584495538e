// Node IPAM and the control-plane taint on a real `k8ts server` with simulated nodes: a cluster
// CIDR with room for two nodes' /24s, the server's own node and a simulated fleet of three. Two
// nodes get a podCIDR, the others an event CIDRNotAvailable and pods with addresses of their own;
// a deleted node's subnet goes to a node that was waiting; the control plane is tainted while
// workers exist and untainted when they are gone.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { K8TS_BIN, startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually } from '../support/eventually.js';

const SERVER_NODE = 'ipam-cp';
const FLEET = ['sim-0', 'sim-1', 'sim-2'];

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> =>
  eventually(what, probe, { timeoutMs: 30_000, intervalMs: 200 });

describe('node IPAM and the control-plane taint', { timeout: 120_000 }, () => {
  let server: TestServer;
  let fleet: ChildProcess | undefined;
  let fleetOutput = '';

  const podCidrs = async (): Promise<Map<string, string>> => {
    const out = await server.kubectlOk([
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.spec.podCIDR}{"\\n"}{end}',
    ]);
    return new Map(
      out
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
  };
  const taintsOf = async (node: string): Promise<string> =>
    server.kubectlOk([
      'get',
      'node',
      node,
      '-o',
      'jsonpath={range .spec.taints[*]}{.key}:{.effect}{"\\n"}{end}',
    ]);

  before(async () => {
    server = await startServer({
      agent: true,
      extraArgs: ['--runtime', 'fake', '--node-name', SERVER_NODE, '--cluster-cidr', '10.42.0.0/23'],
    });
  });

  after(async () => {
    if (fleet && fleet.exitCode === null) {
      const exited = new Promise((r) => fleet?.once('exit', r));
      fleet.kill('SIGKILL');
      await exited;
    }
    await server?.stop();
  });

  test('a single node gets the first /24 and stays schedulable', async () => {
    const cidrs = await waitFor('server node podCIDR', async () => {
      const m = await podCidrs();
      return m.get(SERVER_NODE) ? m : undefined;
    });
    assert.equal(cidrs.get(SERVER_NODE), '10.42.0.0/24');
    assert.equal((await taintsOf(SERVER_NODE)).trim(), '');
  });

  test('more nodes than subnets: CIDRNotAvailable for the rest, whose pods keep addresses of their own', async () => {
    fleet = spawn(
      process.execPath,
      [
        K8TS_BIN,
        'agent',
        '--kubeconfig',
        server.kubeconfig,
        '--runtime',
        'fake',
        '--nodes',
        String(FLEET.length),
        '--node-prefix',
        'sim',
        '--fake-start-delay-ms',
        '100',
        '--data-dir',
        `${server.dataDir}/fleet`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    fleet.stdout?.on('data', (c: Buffer) => (fleetOutput += c.toString()));
    fleet.stderr?.on('data', (c: Buffer) => (fleetOutput += c.toString()));

    const cidrs = await waitFor('fleet registered, one with a podCIDR', async () => {
      const m = await podCidrs();
      const registered = FLEET.every((n) => m.has(n));
      return registered && FLEET.some((n) => m.get(n)) ? m : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}\nfleet output:\n${fleetOutput}`);
    });
    const withCidr = FLEET.filter((n) => cidrs.get(n));
    assert.deepEqual(
      withCidr.map((n) => cidrs.get(n)),
      ['10.42.1.0/24'],
    );
    const without = FLEET.filter((n) => !cidrs.get(n));
    assert.equal(without.length, 2);

    const events = await waitFor('CIDRNotAvailable events', async () => {
      const out = await server.kubectlOk([
        'get',
        'events',
        '-A',
        '--field-selector',
        'reason=CIDRNotAvailable',
        '-o',
        'jsonpath={range .items[*]}{.involvedObject.name} {.source.component}: {.message}{"\\n"}{end}',
      ]);
      const lines = out.trim().split('\n').filter(Boolean).sort();
      return lines.length === 2 ? lines : undefined;
    });
    assert.deepEqual(
      events,
      without.map((n) => `${n} cidrAllocator: Node ${n} status is now: CIDRNotAvailable`).sort(),
    );

    // A pod on a node without a podCIDR still runs, with an address from the simulated range.
    const target = without[0]!;
    await server.kubectlOk(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'on-sim' },
        spec: {
          nodeName: target,
          containers: [{ name: 'app', image: 'nginx' }],
          tolerations: [{ operator: 'Exists' }],
        },
      }),
    });
    const ip = await waitFor('pod Running with an IP', async () => {
      const out = await server.kubectlOk([
        'get',
        'pod',
        'on-sim',
        '-o',
        'jsonpath={.status.phase} {.status.podIP}',
      ]);
      const [phase, podIP] = out.trim().split(' ');
      return phase === 'Running' && podIP ? podIP : undefined;
    });
    assert.doesNotMatch(ip, /^10\.42\./, 'not from the cluster CIDR, which is used up');
  });

  test('with workers the control plane is tainted NoSchedule; a new pod lands on a worker', async () => {
    await waitFor('control-plane taint', async () =>
      (await taintsOf(SERVER_NODE)).includes('node-role.kubernetes.io/control-plane:NoSchedule')
        ? true
        : undefined,
    );
    await server.kubectlOk(['run', 'anywhere', '--image=nginx']);
    const node = await waitFor('pod scheduled', async () => {
      const out = await server.kubectlOk(['get', 'pod', 'anywhere', '-o', 'jsonpath={.spec.nodeName}']);
      return out.trim() || undefined;
    });
    assert.ok(FLEET.includes(node), `scheduled to ${node}`);
  });

  test("a deleted node's subnet goes to a node that was waiting; without workers the taint goes", async () => {
    // The fleet stops first, so that it does not register its nodes again.
    const exited = new Promise((r) => fleet?.once('exit', r));
    fleet?.kill('SIGTERM');
    await exited;
    await server.kubectlOk(['delete', 'pod', '--all', '--force', '--grace-period=0']);
    const before = await podCidrs();
    const holder = FLEET.find((n) => before.get(n))!;
    await server.kubectlOk(['delete', 'node', holder]);
    const after = await waitFor('the freed subnet reassigned', async () => {
      const m = await podCidrs();
      return FLEET.some((n) => n !== holder && m.get(n) === '10.42.1.0/24') ? m : undefined;
    });
    assert.equal(after.has(holder), false);

    await server.kubectlOk(['delete', 'node', ...FLEET.filter((n) => n !== holder)]);
    await waitFor('control-plane taint removed', async () =>
      (await taintsOf(SERVER_NODE)).includes('node-role.kubernetes.io/control-plane') ? undefined : true,
    );
  });
});
