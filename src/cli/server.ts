// `k8ts server`: the control plane (and, unless --disable-agent, a node agent for its own node)
// in one process, until SIGINT or SIGTERM.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane, DEFAULT_SERVICE_CIDR } from '../server/control-plane.js';
import type { LocalNode } from '../server/local-node.js';
import { KUBELET_ARGS_USAGE, parseKubeletArgs } from './kubelet-args.js';
import { loadSchedulerConfigFile } from './scheduler.js';
import { CidrSet, DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE } from '../controllers/nodeipam/index.js';
import { createLogger } from '../util/log.js';
import {
  boolFlag,
  listFlag,
  optionalStringFlag,
  parseFlags,
  portFlag,
  stringFlag,
  UsageError,
  type FlagSpec,
  dataDirFlag,
} from './flags.js';
import type { Command } from './main.js';
import { waitForSignal } from './signals.js';

const log = createLogger('server');

const FLAGS: FlagSpec = {
  'data-dir': { type: 'string' },
  'https-port': { type: 'string' },
  'bind-address': { type: 'string' },
  datastore: { type: 'string' },
  'tls-san': { type: 'string', multiple: true },
  'service-cidr': { type: 'string' },
  'cluster-cidr': { type: 'string' },
  'disable-agent': { type: 'boolean' },
  disable: { type: 'string', multiple: true },
  runtime: { type: 'string' },
  'node-name': { type: 'string' },
  'container-runtime-endpoint': { type: 'string' },
  'node-port': { type: 'string' },
  'private-registry': { type: 'string' },
  'disable-default-registry-endpoint': { type: 'boolean' },
  'kubelet-arg': { type: 'string', multiple: true },
  'scheduler-config': { type: 'string' },
};

const USAGE = `k8ts server [flags]

  --data-dir DIR          database, certificates, kubeconfig and node token (default ~/.k8ts)
  --https-port N          API server port (default 6443)
  --bind-address IP       address to listen on (default 0.0.0.0)
  --datastore SPEC        sqlite (default), memory, or etcd://host:port[,host:port]
  --tls-san NAME          extra serving-certificate name or IP (repeatable, comma-separated)
  --service-cidr CIDR     the Service ClusterIP range (default ${DEFAULT_SERVICE_CIDR})
  --cluster-cidr CIDR     pod addresses, a /24 per node (default ${DEFAULT_CLUSTER_CIDR}; 256 nodes;
                          simulated nodes beyond that keep addresses of their own)
  --disable-agent         run the control plane only
  --disable NAME,...      switch off built-in components
  --scheduler-config FILE the scheduler's KubeSchedulerConfiguration (profiles, plugin weights,
                          percentageOfNodesToScore), as kube-scheduler's --config
  --runtime KIND          the server's own node: containerd (default) or fake (simulated)
  --node-name NAME        the server's own node name (default: the host name)
  --node-port N           port of the node's own API for logs, exec, port-forward (default 10250)
  --container-runtime-endpoint SOCK   use this CRI socket instead of starting containerd
  --private-registry FILE registry mirrors and configs, k3s registries.yaml format
                          (default <data-dir>/registries.yaml when it exists)
  --disable-default-registry-endpoint  pull only through mirrors, never from Docker Hub itself
${KUBELET_ARGS_USAGE}`;

async function runServer(argv: string[]): Promise<number> {
  const flags = parseFlags('server', argv, FLAGS);
  const tuning = parseKubeletArgs('server', (flags.values['kubelet-arg'] as string[] | undefined) ?? []);
  const dataDir = dataDirFlag(flags);
  const bindAddress = stringFlag(flags, 'bind-address', '0.0.0.0');
  if (!/^[0-9.]+$|:/.test(bindAddress))
    throw new UsageError(`server: --bind-address: not an IP address: ${JSON.stringify(bindAddress)}`);
  const runtime = stringFlag(flags, 'runtime', 'containerd');
  if (runtime !== 'containerd' && runtime !== 'fake')
    throw new UsageError(
      `server: --runtime: unsupported value ${JSON.stringify(runtime)}: supported values: "containerd", "fake"`,
    );

  const clusterCidr = stringFlag(flags, 'cluster-cidr', DEFAULT_CLUSTER_CIDR);
  try {
    new CidrSet(clusterCidr, DEFAULT_NODE_CIDR_MASK_SIZE);
  } catch (err) {
    throw new UsageError(`server: --cluster-cidr: ${err instanceof Error ? err.message : String(err)}`);
  }
  const schedulerConfigFile = optionalStringFlag(flags, 'scheduler-config');
  const schedulerConfig = schedulerConfigFile
    ? await loadSchedulerConfigFile('server: --scheduler-config', schedulerConfigFile)
    : undefined;

  // A component that dies stops the server with a failure code.
  let fatalError: Error | undefined;
  const fatal = new AbortController();
  const controlPlane = await startControlPlane({
    dataDir,
    datastore: stringFlag(flags, 'datastore', 'sqlite'),
    bindAddress,
    httpsPort: portFlag(flags, 'https-port', 6443, true),
    tlsSans: listFlag(flags, 'tls-san'),
    serviceCidr: stringFlag(flags, 'service-cidr', DEFAULT_SERVICE_CIDR),
    clusterCidr,
    disable: listFlag(flags, 'disable'),
    schedulerConfig,
    onFatal: (err) => {
      fatalError = err;
      fatal.abort();
    },
  });
  let localNode: LocalNode | undefined;
  if (boolFlag(flags, 'disable-agent')) log.info('node agent disabled');
  else {
    const registries = optionalStringFlag(flags, 'private-registry') ?? join(dataDir, 'registries.yaml');
    try {
      // Loaded only when there is a node to run: a control plane alone stays smaller.
      const { startLocalNode } = await import('../server/local-node.js');
      localNode = await startLocalNode({
        runtime,
        nodeName: optionalStringFlag(flags, 'node-name'),
        dataDir,
        serverUrl: controlPlane.url,
        ca: controlPlane.pki.ca,
        serviceCidr: stringFlag(flags, 'service-cidr', DEFAULT_SERVICE_CIDR),
        containerRuntimeEndpoint: optionalStringFlag(flags, 'container-runtime-endpoint'),
        registriesFile: existsSync(registries) ? registries : undefined,
        nodePort: portFlag(flags, 'node-port', 10250, true),
        disableDefaultRegistryEndpoint: boolFlag(flags, 'disable-default-registry-endpoint'),
        tuning,
      });
    } catch (err) {
      await controlPlane.stop();
      throw new Error(
        `the node agent could not start (${err instanceof Error ? err.message : String(err)}); ` +
          'run with --runtime fake for simulated pods or --disable-agent for the control plane only',
      );
    }
  }

  process.stdout.write(
    `k8ts server ready at ${controlPlane.url}\n` +
      `  kubeconfig: ${controlPlane.kubeconfigPath}   (export KUBECONFIG=${controlPlane.kubeconfigPath})\n` +
      `  node token: ${dataDir}/node-token\n`,
  );

  const signal = await waitForSignal(fatal.signal);
  if (signal) log.info('stopping', { signal });
  else log.error('stopping: a control-plane component can no longer run', { error: fatalError });
  await localNode?.stop();
  await controlPlane.stop();
  return fatalError ? 1 : 0;
}

export const serverCommand: Command = {
  name: 'server',
  summary: 'Run the control plane (API server, controllers, scheduler) and a node agent',
  usage: USAGE,
  run: runServer,
};
