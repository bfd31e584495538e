// `k8ts scheduler`: the scheduler on its own, against any API server (kube-scheduler's role when the
// control plane is spread over machines, or a second scheduler with its own schedulerName). With
// leader election (on by default, as upstream) several may run; one schedules.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { createLogger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import { componentUserAgent } from '../version.js';
import type { SchedulerConfiguration } from '../scheduler/config.js';
import {
  kubeconfigPath,
  optionalStringFlag,
  parseFlags,
  portFlag,
  stringFlag,
  UsageError,
  type FlagSpec,
} from './flags.js';
import type { Command } from './main.js';
import { waitForSignal } from './signals.js';

const log = createLogger('scheduler.cli');

const FLAGS: FlagSpec = {
  kubeconfig: { type: 'string' },
  config: { type: 'string' },
  'leader-elect': { type: 'string' },
  'bind-address': { type: 'string' },
  port: { type: 'string' },
};

/** Where /healthz and /metrics are served; upstream's kube-scheduler port. */
const DEFAULT_PORT = 10259;

const USAGE = `k8ts scheduler [flags]

Schedules the cluster's pods (those whose schedulerName is one of its profiles') through the API.

  --kubeconfig FILE       the cluster to schedule for (default: $KUBECONFIG, else ~/.k8ts/kubeconfig.yaml)
  --config FILE           a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): profiles,
                          plugins and their weights, percentageOfNodesToScore, leaderElection
  --leader-elect BOOL     take the kube-system/kube-scheduler Lease before scheduling (default true,
                          or the config's leaderElection.leaderElect)
  --bind-address IP       address of the health and metrics endpoint (default 127.0.0.1)
  --port N                its port, plain HTTP: /healthz, /livez, /readyz, /metrics
                          (default ${DEFAULT_PORT}; 0 for none)`;

/** Reads and validates a KubeSchedulerConfiguration file; the error names the file and the problem. */
export async function loadSchedulerConfigFile(flag: string, file: string): Promise<SchedulerConfiguration> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}: ${file}`);
  }
  // The plugin registry is loaded only when a configuration is given.
  const { parseSchedulerConfig } = await import('../scheduler/config.js');
  try {
    return parseSchedulerConfig(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function parseBool(flag: string, value: string): boolean {
  if (/^(true|1|t)$/i.test(value)) return true;
  if (/^(false|0|f)$/i.test(value)) return false;
  throw new UsageError(`scheduler: invalid argument ${JSON.stringify(value)} for "--${flag}" flag`);
}

function serveHealth(host: string, port: number, healthy: () => boolean): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
    } else if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(ok ? 'ok' : 'not ready');
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics.render());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot serve on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => resolve(server));
  });
}

async function runScheduler(argv: string[]): Promise<number> {
  const flags = parseFlags('scheduler', argv, FLAGS);
  const configFile = optionalStringFlag(flags, 'config');
  const config = configFile ? await loadSchedulerConfigFile('scheduler: --config', configFile) : undefined;
  const leaderFlag = optionalStringFlag(flags, 'leader-elect');
  const leaderElect =
    leaderFlag !== undefined
      ? parseBool('leader-elect', leaderFlag)
      : (config?.leaderElection?.leaderElect ?? true);
  const host = stringFlag(flags, 'bind-address', '127.0.0.1');
  const port = portFlag(flags, 'port', DEFAULT_PORT, true);
  const file = kubeconfigPath(flags);
  let client: RestClient;
  try {
    client = new RestClient(loadKubeconfig(file), componentUserAgent('kube-scheduler'));
  } catch (err) {
    throw new Error(`invalid kubeconfig ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { createScheduler } = await import('../scheduler/scheduler.js');
  const scheduler = createScheduler({
    client,
    config,
    leaderElection: leaderElect,
    identity: `${hostname()}_${randomUUID()}`,
  });
  let started = false;
  const health = port === 0 ? undefined : await serveHealth(host, port, () => started);
  await scheduler.start();
  started = true;
  log.info('scheduler running', {
    kubeconfig: file,
    leaderElect,
    profiles: [...scheduler.profiles.keys()],
    ...(health ? { health: `http://${host}:${port}/healthz` } : {}),
  });
  log.info('stopping', { signal: await waitForSignal() });
  await scheduler.stop();
  health?.close();
  client.close();
  return 0;
}

export const schedulerCommand: Command = {
  name: 'scheduler',
  summary: 'Run the scheduler alone against an API server (as kube-scheduler), with leader election',
  usage: USAGE,
  run: runScheduler,
};
