// The control plane's API clients, the scheduler and the controller manager, started from plain
// data. `k8ts server` runs them in a worker thread of its own (components-thread.ts): they then use
// the second core instead of sharing the API server's event loop, and still live and die with the
// server process as k3s's do. Like any other client, they reach the API server only through its API.
import { randomUUID } from 'node:crypto';
import type { SchedulerConfiguration } from '../scheduler/config.js';
import { RestClient } from '../client/rest.js';
import { createScheduler } from '../scheduler/scheduler.js';
import { createControllerManager } from '../controllers/manager.js';
import { rootCaCertificatePublisher } from '../controllers/serviceaccount/index.js';
import { csrSigningController } from '../controllers/certificates/index.js';
import { bootstrapSignerController } from '../controllers/bootstrap-signer/index.js';
import { nodeIpamControllerDescriptor } from '../controllers/nodeipam/index.js';
import { localPathProvisionerController } from '../controllers/persistentvolume/local-path.js';
import { componentUserAgent } from '../version.js';
import { createLogger } from '../util/log.js';
import { StopStack } from '../util/stop-stack.js';

const log = createLogger('server.components');

/** How a component authenticates: a loopback token on the API server's unix socket, or a client certificate. */
export type ComponentCredentials =
  | { readonly socketPath: string; readonly token: string }
  | { readonly clientCertPem: string; readonly clientKeyPem: string };

/** Everything the components need, as structured-cloneable data (it crosses into a worker thread). */
export interface ComponentsConfig {
  /** The API server's HTTPS URL (the CSR and bootstrap signers publish it). */
  readonly url: string;
  readonly caPem: string;
  /** The cluster CA's key: kube-controller-manager's CSR signer signs with it. */
  readonly caKeyPem: string;
  /** This host's identity for leader election; each component adds a unique suffix. */
  readonly identity: string;
  readonly scheduler?: {
    readonly credentials: ComponentCredentials;
    readonly config?: SchedulerConfiguration;
  };
  readonly controllerManager?: {
    readonly credentials: ComponentCredentials;
    /** Controller names not to run (also 'local-storage' for the local-path provisioner). */
    readonly disable: readonly string[];
    readonly clusterCidr?: string;
    /** Where the local-path provisioner keeps volumes; no provisioner when absent. */
    readonly localStoragePath?: string;
  };
}

export interface RunningComponents {
  stop(): Promise<void>;
}

/** Starts the configured components; resolves once each has started (caches synced or campaigning). */
export async function runComponents(cfg: ComponentsConfig): Promise<RunningComponents> {
  const stops = new StopStack(log, 'stopping a component failed');
  const stop = (): Promise<void> => stops.stopAll();
  const client = (component: string, credentials: ComponentCredentials): RestClient => {
    const c = new RestClient(
      { server: cfg.url, caPem: cfg.caPem, namespace: 'default', ...credentials },
      componentUserAgent(component),
    );
    stops.push(() => c.close());
    return c;
  };
  try {
    if (cfg.scheduler) {
      const scheduler = createScheduler({
        client: client('kube-scheduler', cfg.scheduler.credentials),
        config: cfg.scheduler.config,
        leaderElection: true,
        identity: `${cfg.identity}_${randomUUID()}`,
      });
      await scheduler.start();
      stops.push(() => scheduler.stop());
    }
    const cm = cfg.controllerManager;
    if (cm) {
      const manager = createControllerManager({
        client: client('kube-controller-manager', cm.credentials),
        disable: [...cm.disable],
        // The ones that need the cluster CA are built per manager.
        controllers: [
          rootCaCertificatePublisher(cfg.caPem),
          csrSigningController({ ca: { certPem: cfg.caPem, keyPem: cfg.caKeyPem } }),
          bootstrapSignerController({ server: cfg.url, caPem: cfg.caPem }),
          nodeIpamControllerDescriptor({ clusterCidr: cm.clusterCidr }),
          ...(cm.localStoragePath !== undefined
            ? [localPathProvisionerController({ storagePath: cm.localStoragePath })]
            : []),
        ],
        leaderElection: { identity: `${cfg.identity}_${randomUUID()}` },
      });
      await manager.start();
      stops.push(() => manager.stop());
    }
    return { stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
