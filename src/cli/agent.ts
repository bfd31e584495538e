// `k8ts agent`: the node agent as a command. It joins a cluster either with a bootstrap token
// (TLS bootstrap: the server's CA from --ca-file or the signed cluster-info, then a client
// certificate through a CertificateSigningRequest) or with an existing kubeconfig, and runs one
// node, or many simulated ones with --runtime fake --nodes N, until SIGINT or SIGTERM.
import { existsSync, readFileSync } from 'node:fs';
import { startContainerdNode } from '../server/local-node.js';
import { nodeBridgeName } from '../agent/cni/cni.js';
import { DEFAULT_SERVICE_CIDR } from '../api/cluster-network.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createAgent, type AgentOptions, type FakeAgentOptions } from '../agent/agent.js';
import { KUBELET_ARGS_USAGE, parseKubeletArgs } from './kubelet-args.js';
import { BootstrapError, obtainNodeCredentials } from '../agent/bootstrap.js';
import { loadKubeconfig, type ConnectionConfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { createLogger } from '../util/log.js';
import { componentUserAgent } from '../version.js';
import {
  listFlag,
  optionalStringFlag,
  portFlag,
  parseFlags,
  stringFlag,
  UsageError,
  type FlagSpec,
  type ParsedFlags,
  dataDirFlag,
} from './flags.js';
import type { Command } from './main.js';
import { waitForSignal } from './signals.js';

const FLAGS: FlagSpec = {
  server: { type: 'string' },
  token: { type: 'string' },
  'node-name': { type: 'string' },
  'node-ip': { type: 'string' },
  'node-label': { type: 'string', multiple: true },
  runtime: { type: 'string' },
  nodes: { type: 'string' },
  'node-prefix': { type: 'string' },
  kubeconfig: { type: 'string' },
  'data-dir': { type: 'string' },
  'ca-file': { type: 'string' },
  'fake-start-delay-ms': { type: 'string' },
  'fake-run-duration-ms': { type: 'string' },
  'fake-exit-code': { type: 'string' },
  'fake-stop-delay-ms': { type: 'string' },
  'fake-cpu': { type: 'string' },
  'fake-memory': { type: 'string' },
  'fake-max-pods': { type: 'string' },
  'pod-cidr': { type: 'string' },
  'node-port': { type: 'string' },
  'service-cidr': { type: 'string' },
  'container-runtime-endpoint': { type: 'string' },
  'private-registry': { type: 'string' },
  'disable-default-registry-endpoint': { type: 'boolean' },
  'pod-manifest-path': { type: 'string' },
  'kubelet-arg': { type: 'string', multiple: true },
};

const USAGE = [
  'k8ts agent --server URL --token TOKEN [--node-name NAME] [--runtime fake|containerd] [--data-dir DIR] [--ca-file FILE]',
  '       k8ts agent --kubeconfig FILE --runtime fake [--nodes N] [--node-prefix PREFIX]',
  '',
  'Flags:',
  '  --server URL            the API server to join (https://host:6443)',
  "  --token TOKEN           bootstrap token <id>.<secret> (from the server's node-token file)",
  '  --ca-file FILE          trust this CA for the server; otherwise it comes from the signed cluster-info',
  '  --kubeconfig FILE       connect with this kubeconfig instead of joining with a token',
  "  --node-name NAME        the node's name (default: the host name)",
  "  --node-ip IP            the node's InternalIP (default: the host's first address)",
  '  --node-label K=V        an extra node label (repeatable)',
  '  --runtime RUNTIME       containerd (default) or fake (simulated pods, as kwok)',
  '  --nodes N               with --runtime fake: simulate N nodes named PREFIX-0 ... PREFIX-(N-1)',
  '  --node-prefix PREFIX    names of simulated nodes (default fake-node)',
  '  --data-dir DIR          state directory (default ~/.k8ts, as k8ts server)',
  '  --pod-cidr CIDR         containerd: pod addresses until the cluster assigns the node its podCIDR',
  "  --node-port N           containerd: port of the node's own API for logs, exec, port-forward (default 10250)",
  "  --service-cidr CIDR     containerd: the cluster's Service range, routed locally (default 10.43.0.0/16)",
  '  --container-runtime-endpoint SOCK   containerd: use this CRI socket instead of starting containerd',
  '  --private-registry FILE containerd: registry mirrors, k3s format (default <data-dir>/registries.yaml)',
  '  --disable-default-registry-endpoint   containerd: pull only through mirrors',
  '  --pod-manifest-path DIR static pod manifests (default <data-dir>/agent/pod-manifests)',
  '  (containerd: image archives <data-dir>/agent/images/*.tar are imported, pinned, at start; see k8ts image)',
  KUBELET_ARGS_USAGE,
  '  --fake-start-delay-ms   simulated pods: time to Running (default 1000)',
  '  --fake-run-duration-ms  simulated pods with restartPolicy Never/OnFailure: time to exit (default 5000)',
  '  --fake-exit-code        ... and their exit code (default 0)',
  '  --fake-stop-delay-ms    time containers take to stop when deleted, within the grace period (default 0)',
  '  --fake-cpu, --fake-memory, --fake-max-pods   resources of each simulated node (32, 256Gi, 110)',
].join('\n');

function intFlag(flags: ParsedFlags, name: string, min: number): number | undefined {
  const raw = optionalStringFlag(flags, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min)
    throw new UsageError(`agent: --${name}: ${JSON.stringify(raw)} is not an integer ≥ ${min}`);
  return n;
}

function labelsFrom(flags: ParsedFlags): Record<string, string> | undefined {
  const pairs = listFlag(flags, 'node-label');
  if (pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`agent: --node-label: ${JSON.stringify(p)} is not KEY=VALUE`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

function fakeOptions(flags: ParsedFlags): FakeAgentOptions {
  const fake: FakeAgentOptions = {};
  const startDelay = intFlag(flags, 'fake-start-delay-ms', 0);
  if (startDelay !== undefined) fake.startDelayMs = startDelay;
  const run = intFlag(flags, 'fake-run-duration-ms', 0);
  if (run !== undefined) fake.runDurationMs = run;
  const exit = intFlag(flags, 'fake-exit-code', 0);
  if (exit !== undefined) {
    if (exit > 255) throw new UsageError('agent: --fake-exit-code must be 0 to 255');
    fake.exitCode = exit;
  }
  const stop = intFlag(flags, 'fake-stop-delay-ms', 0);
  if (stop !== undefined) fake.stopDelayMs = stop;
  const cpu = optionalStringFlag(flags, 'fake-cpu');
  if (cpu !== undefined) fake.cpu = cpu;
  const memory = optionalStringFlag(flags, 'fake-memory');
  if (memory !== undefined) fake.memory = memory;
  const pods = intFlag(flags, 'fake-max-pods', 1);
  if (pods !== undefined) fake.pods = pods;
  return fake;
}

/**
 * `k8ts agent` with the stop condition given: runs until `stop` resolves (the command passes
 * SIGINT/SIGTERM). Returns the exit code.
 */
export async function runAgent(argv: string[], stop: () => Promise<unknown>): Promise<number> {
  const flags = parseFlags('agent', argv, FLAGS);
  const runtime = stringFlag(flags, 'runtime', 'containerd');
  if (runtime !== 'fake' && runtime !== 'containerd')
    throw new UsageError(`agent: --runtime: unknown runtime ${JSON.stringify(runtime)} (fake or containerd)`);
  const nodes = intFlag(flags, 'nodes', 1);
  const nodeNameFlag = optionalStringFlag(flags, 'node-name');
  if (nodes !== undefined && nodeNameFlag !== undefined)
    throw new UsageError('agent: --nodes and --node-name exclude each other');
  const nodeName = (nodeNameFlag ?? hostname()).toLowerCase();
  const dataDir = dataDirFlag(flags);
  const server = optionalStringFlag(flags, 'server');
  const token = optionalStringFlag(flags, 'token');
  const kubeconfig = optionalStringFlag(flags, 'kubeconfig');
  const caFile = optionalStringFlag(flags, 'ca-file');
  const tuning = parseKubeletArgs('agent', (flags.values['kubelet-arg'] as string[] | undefined) ?? []);
  const staticPodPath =
    optionalStringFlag(flags, 'pod-manifest-path') ??
    tuning.staticPodPath ??
    join(dataDir, 'agent', 'pod-manifests');

  let conn: ConnectionConfig;
  if (kubeconfig !== undefined) {
    conn = loadKubeconfig(kubeconfig);
    if (server !== undefined) conn.server = server.replace(/\/+$/, '');
  } else {
    if (server === undefined || token === undefined)
      throw new UsageError('agent: give --server and --token, or --kubeconfig');
    if (nodes !== undefined)
      throw new UsageError(
        'agent: --nodes needs --kubeconfig (simulated nodes share one identity; a node certificate names one node)',
      );
    let caPem: string | undefined;
    if (caFile !== undefined) {
      try {
        caPem = readFileSync(caFile, 'utf8');
      } catch (err) {
        throw new UsageError(`agent: --ca-file: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    try {
      conn = await obtainNodeCredentials({ server, token, nodeName, dataDir, caPem });
    } catch (err) {
      if (err instanceof BootstrapError) {
        process.stderr.write(`k8ts agent: cannot join ${server}: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  }

  const client = new RestClient(conn, componentUserAgent('kubelet'));
  const log = createLogger('agent');
  if (runtime === 'containerd') {
    if (nodes !== undefined) throw new UsageError('agent: --nodes needs --runtime fake');
    const registries = optionalStringFlag(flags, 'private-registry') ?? join(dataDir, 'registries.yaml');
    const node = await startContainerdNode({
      client,
      nodeName,
      dataDir,
      podCidr: optionalStringFlag(flags, 'pod-cidr'),
      // Its own bridge, so it can share a host with the server's node (k8ts0).
      bridge: nodeBridgeName(nodeName),
      serviceCidr: stringFlag(flags, 'service-cidr', DEFAULT_SERVICE_CIDR),
      controlPlane: false,
      // The node API, with a serving certificate the cluster signs (kubelet's serverTLSBootstrap).
      nodeServer: conn.caPem
        ? { requestCertificate: { caPem: conn.caPem }, port: portFlag(flags, 'node-port', 10250, false) }
        : undefined,
      containerRuntimeEndpoint: optionalStringFlag(flags, 'container-runtime-endpoint'),
      registriesFile: existsSync(registries) ? registries : undefined,
      disableDefaultRegistryEndpoint: flags.values['disable-default-registry-endpoint'] === true,
      staticPodPath,
      tuning,
    });
    log.info('shutting down', { reason: String(await stop()) });
    await node.stop();
    client.close();
    return 0;
  }
  const opts: AgentOptions = {
    client,
    runtime: 'fake',
    dataDir,
    fake: fakeOptions(flags),
    labels: labelsFrom(flags),
    nodeIP: optionalStringFlag(flags, 'node-ip'),
  };
  if (nodes !== undefined) {
    opts.nodes = nodes;
    opts.nodePrefix = optionalStringFlag(flags, 'node-prefix') ?? 'fake-node';
  } else {
    opts.nodeName = nodeName;
    opts.staticPodPath = staticPodPath;
    if (tuning.evictionHard !== undefined) opts.eviction = { hard: tuning.evictionHard };
  }
  const agent = createAgent(opts);
  const stopped = stop();
  await Promise.race([agent.start(), stopped]);
  const why = await stopped;
  log.info('shutting down', { reason: String(why) });
  await agent.stop();
  client.close();
  return 0;
}

export const agentCommand: Command = {
  name: 'agent',
  summary: 'Run a node agent that joins a cluster (or many simulated nodes)',
  usage: USAGE,
  run: (argv) => runAgent(argv, waitForSignal),
};
