// Where the node agent keeps containerd's files, all under the agent's data dir (as k3s lays
// them out under /var/lib/rancher/k3s), so several agents or test runs never share state.
import { join } from 'node:path';

export interface RuntimePaths {
  readonly dataDir: string;
  /** config.toml lives here. */
  readonly configDir: string;
  readonly configFile: string;
  /** One <host>/hosts.toml per registry, generated from registries.yaml. */
  readonly hostsDir: string;
  /** containerd's persistent root (content store, snapshots, metadata). */
  readonly root: string;
  /** containerd's state dir (tasks, runtime sockets). */
  readonly state: string;
  readonly socket: string;
  readonly logFile: string;
  /** CNI network configuration read by the CRI plugin. */
  readonly cniConfDir: string;
  /** host-local IPAM's allocation records. */
  readonly cniDataDir: string;
  /** The pause program and image tarball. */
  readonly imagesDir: string;
  /** emptyDir and projected volume contents, one folder per pod. */
  readonly podsDir: string;
  /** Container logs (PodSandboxConfig.log_directory). */
  readonly podLogsDir: string;
}

export function runtimePaths(dataDir: string): RuntimePaths {
  const configDir = join(dataDir, 'agent', 'etc', 'containerd');
  return {
    dataDir,
    configDir,
    configFile: join(configDir, 'config.toml'),
    hostsDir: join(configDir, 'certs.d'),
    root: join(dataDir, 'agent', 'containerd'),
    state: join(dataDir, 'run', 'containerd'),
    socket: join(dataDir, 'run', 'containerd', 'containerd.sock'),
    logFile: join(dataDir, 'agent', 'containerd', 'containerd.log'),
    cniConfDir: join(dataDir, 'agent', 'etc', 'cni', 'net.d'),
    cniDataDir: join(dataDir, 'agent', 'cni'),
    imagesDir: join(dataDir, 'agent', 'images'),
    podsDir: join(dataDir, 'agent', 'pods'),
    podLogsDir: join(dataDir, 'agent', 'logs', 'pods'),
  };
}
