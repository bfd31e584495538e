// `k8ts server`: the control plane (and, unless --disable-agent, a node agent for its own node)
// in one process, until SIGINT or SIGTERM.
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { startControlPlane, DEFAULT_SERVICE_CIDR } from '../server/control-plane.js';
import { createLogger } from '../util/log.js';
import { boolFlag, listFlag, parseFlags, portFlag, stringFlag, UsageError, type FlagSpec } from './flags.js';
import type { Command } from './main.js';

const log = createLogger('server');

const FLAGS: FlagSpec = {
  'data-dir': { type: 'string' },
  'https-port': { type: 'string' },
  'bind-address': { type: 'string' },
  datastore: { type: 'string' },
  'tls-san': { type: 'string', multiple: true },
  'service-cidr': { type: 'string' },
  'disable-agent': { type: 'boolean' },
  disable: { type: 'string', multiple: true },
  runtime: { type: 'string' },
  'node-name': { type: 'string' },
};

const USAGE = `k8ts server [flags]

  --data-dir DIR          database, certificates, kubeconfig and node token (default ~/.k8ts)
  --https-port N          API server port (default 6443)
  --bind-address IP       address to listen on (default 0.0.0.0)
  --datastore SPEC        sqlite (default), memory, or etcd://host:port[,host:port]
  --tls-san NAME          extra serving-certificate name or IP (repeatable, comma-separated)
  --service-cidr CIDR     the Service ClusterIP range (default ${DEFAULT_SERVICE_CIDR})
  --disable-agent         run the control plane only
  --disable NAME,...      switch off built-in components
  --runtime KIND          the server's own node: containerd (default) or fake (simulated)
  --node-name NAME        the server's own node name (default: the host name)`;

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

async function runServer(argv: string[]): Promise<number> {
  const flags = parseFlags('server', argv, FLAGS);
  const dataDir = resolve(expandHome(stringFlag(flags, 'data-dir', '~/.k8ts')));
  const bindAddress = stringFlag(flags, 'bind-address', '0.0.0.0');
  if (!/^[0-9.]+$|:/.test(bindAddress))
    throw new UsageError(`server: --bind-address: not an IP address: ${JSON.stringify(bindAddress)}`);
  const runtime = stringFlag(flags, 'runtime', 'containerd');
  if (runtime !== 'containerd' && runtime !== 'fake')
    throw new UsageError(
      `server: --runtime: unsupported value ${JSON.stringify(runtime)}: supported values: "containerd", "fake"`,
    );

  const controlPlane = await startControlPlane({
    dataDir,
    datastore: stringFlag(flags, 'datastore', 'sqlite'),
    bindAddress,
    httpsPort: portFlag(flags, 'https-port', 6443, true),
    tlsSans: listFlag(flags, 'tls-san'),
    serviceCidr: stringFlag(flags, 'service-cidr', DEFAULT_SERVICE_CIDR),
    disable: listFlag(flags, 'disable'),
  });
  if (boolFlag(flags, 'disable-agent')) log.info('node agent disabled');

  process.stdout.write(
    `k8ts server ready at ${controlPlane.url}\n` +
      `  kubeconfig: ${controlPlane.kubeconfigPath}   (export KUBECONFIG=${controlPlane.kubeconfigPath})\n` +
      `  node token: ${dataDir}/node-token\n`,
  );

  await new Promise<void>((resolveStop) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info('stopping', { signal });
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolveStop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await controlPlane.stop();
  return 0;
}

export const serverCommand: Command = {
  name: 'server',
  summary: 'Run the control plane (API server, controllers, scheduler) and a node agent',
  usage: USAGE,
  run: runServer,
};
