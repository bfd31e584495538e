// One call that gives the node agent its container runtime: containerd (started here, or an
// existing endpoint), the CRI PodRuntime over it, and the node's service route; one call to stop.
import { createLogger } from '../../util/log.js';
import { DEFAULT_SERVICE_CIDR, ensureServiceRoute, type ServiceRouteMode } from '../cni/cni.js';
import { ContainerRuntime, type ContainerRuntimeOptions } from '../containerd/containerd.js';
import type { NodeCapacity, PodObjectSource } from './env.js';
import { CriRuntime } from './runtime.js';
import type { DnsSettings } from './sandbox.js';

const log = createLogger('kuberuntime.setup');

export interface NodeRuntimeOptions extends ContainerRuntimeOptions {
  /** ConfigMaps, Secrets and tokens for the pods' env and volumes. */
  source: PodObjectSource;
  dns?: Partial<DnsSettings>;
  capacity?: NodeCapacity;
  /** The cluster's service CIDR to route locally (false: leave routing alone). */
  serviceCIDR?: string | false;
  serviceRouteMode?: ServiceRouteMode;
}

export interface NodeRuntime {
  /** The PodRuntime to hand to the agent's pod workers. */
  readonly pods: CriRuntime;
  readonly containerRuntime: ContainerRuntime;
  /** Writes the CNI config once the node's spec.podCIDR is known (containerd then reports NetworkReady). */
  configureNetwork(podCIDR: string): void;
  stop(): Promise<void>;
}

export async function startNodeRuntime(opts: NodeRuntimeOptions): Promise<NodeRuntime> {
  const containerRuntime = await ContainerRuntime.start(opts);
  try {
    const pods = await CriRuntime.create({
      // A managed containerd reads the CNI config from our data dir: write it once the node has a podCIDR.
      configureNetwork: containerRuntime.managed
        ? (podCIDR) => containerRuntime.configureNetwork(podCIDR, opts.bridge)
        : undefined,
      networkConfiguredFor: containerRuntime.managed ? opts.podCIDR : undefined,
      client: containerRuntime.client,
      dataDir: opts.dataDir,
      source: opts.source,
      dns: opts.dns,
      capacity: opts.capacity,
    });
    if (opts.serviceCIDR !== false) {
      const cidr = opts.serviceCIDR ?? DEFAULT_SERVICE_CIDR;
      try {
        await ensureServiceRoute(cidr, opts.serviceRouteMode);
      } catch (e) {
        log.warn('cannot route the service CIDR locally (needs root)', { cidr, err: e as Error });
      }
    }
    log.info('container runtime ready', {
      runtime: pods.version(),
      endpoint: containerRuntime.endpoint,
      managed: containerRuntime.managed,
    });
    return {
      pods,
      containerRuntime,
      configureNetwork: (podCIDR) => {
        containerRuntime.configureNetwork(podCIDR, opts.bridge);
      },
      stop: () => containerRuntime.stop(),
    };
  } catch (e) {
    await containerRuntime.stop();
    throw e;
  }
}
