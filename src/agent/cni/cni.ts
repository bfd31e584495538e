// The pod network as k3s's flannel-less single-node setup has it: a Linux bridge (k8ts0) that is
// the pods' gateway, masquerading traffic that leaves the pod CIDR, host-local address
// allocation from the node's podCIDR, and portmap for hostPort. containerd's CRI plugin reads
// this config list and runs the plugins itself on RunPodSandbox (it also brings up each pod's
// loopback interface with the loopback plugin from the same bin dir).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { DEFAULT_SERVICE_CIDR } from '../../api/cluster-network.js';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../../util/log.js';

const run = promisify(execFile);
const log = createLogger('cni');

export const DEFAULT_CNI_BIN_DIR = '/usr/lib/cni';
export const DEFAULT_BRIDGE = 'k8ts0';

/**
 * The bridge of a node other than the server's own: named after the node, so several nodes on one
 * host (a test cluster) each have their own gateway for their own podCIDR. At most 15 characters.
 */
export function nodeBridgeName(nodeName: string): string {
  return `k8ts-${createHash('sha256').update(nodeName).digest('hex').slice(0, 8)}`;
}
export const DEFAULT_NETWORK_NAME = 'k8ts';
export { DEFAULT_SERVICE_CIDR };
export const CNI_CONF_FILE = '10-k8ts.conflist';
const REQUIRED_PLUGINS = ['bridge', 'host-local', 'portmap', 'loopback'];

export interface CniOptions {
  /** Where containerd looks for the config (its cni conf_dir). */
  confDir: string;
  /** The node's pod CIDR (spec.podCIDR), e.g. 10.42.0.0/24. */
  podCIDR: string;
  /** host-local's allocation records. */
  ipamDataDir: string;
  bridge?: string;
  networkName?: string;
  binDir?: string;
  mtu?: number;
}

const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function validateCIDR(cidr: string): void {
  const m = CIDR4.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 30)
    throw new Error(
      `invalid CIDR ${JSON.stringify(cidr)}: expected an IPv4 CIDR such as 10.42.0.0/24 (prefix at most /30)`,
    );
}

export function renderCniConfig(o: CniOptions): string {
  validateCIDR(o.podCIDR);
  const bridge = o.bridge ?? DEFAULT_BRIDGE;
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge))
    throw new Error(`invalid bridge name ${JSON.stringify(bridge)} (at most 15 characters)`);
  const conf = {
    cniVersion: '1.0.0',
    name: o.networkName ?? DEFAULT_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ...(o.mtu ? { mtu: o.mtu } : {}),
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: o.podCIDR }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: o.ipamDataDir,
        },
      },
      { type: 'portmap', snat: true, capabilities: { portMappings: true } },
    ],
  };
  return JSON.stringify(conf, null, 2) + '\n';
}

/** Checks that the plugin binaries the config names are installed. */
export function checkCniPlugins(binDir = DEFAULT_CNI_BIN_DIR): void {
  const missing = REQUIRED_PLUGINS.filter((p) => !existsSync(join(binDir, p)));
  if (missing.length)
    throw new Error(
      `CNI plugins missing in ${binDir}: ${missing.join(', ')} (install Debian's containernetworking-plugins: npm run setup)`,
    );
}

/**
 * Writes the network config list into `confDir` (atomically), removing other configs there:
 * containerd uses the first file in name order, and a stale one must not win.
 */
export function writeCniConfig(o: CniOptions): string {
  checkCniPlugins(o.binDir);
  mkdirSync(o.confDir, { recursive: true });
  mkdirSync(o.ipamDataDir, { recursive: true });
  for (const f of readdirSync(o.confDir))
    if (f !== CNI_CONF_FILE && /\.(conf|conflist|json)$/.test(f)) rmSync(join(o.confDir, f), { force: true });
  const file = join(o.confDir, CNI_CONF_FILE);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, renderCniConfig(o));
  renameSync(tmp, file);
  log.info('wrote CNI config', { file, podCIDR: o.podCIDR, bridge: o.bridge ?? DEFAULT_BRIDGE });
  return file;
}

/**
 * How the node routes the service CIDR, so a packet to a cluster IP that no proxy rule rewrites
 * fails at once instead of following the default route off the machine:
 * - 'local' (default): the range is local to the node. A connection with no rule behind it is
 *   refused at once (RST), and the proxy's DNAT still works for the node's own connections,
 *   because for locally generated packets the route is looked up before the nat OUTPUT hook and
 *   redone after it.
 * - 'unreachable': an unreachable route. Packets from pods fail with ICMP unreachable, but the
 *   node's own connections to every cluster IP fail too (connect() returns EHOSTUNREACH before
 *   the nat OUTPUT hook can rewrite them), so host-to-service traffic is lost: tested here.
 */
export type ServiceRouteMode = 'local' | 'unreachable';

function serviceRouteArgs(verb: 'replace' | 'del', cidr: string, mode: ServiceRouteMode): string[] {
  return mode === 'local'
    ? ['route', verb, 'local', cidr, 'dev', 'lo', 'table', 'local']
    : ['route', verb, 'unreachable', cidr];
}

export async function ensureServiceRoute(
  serviceCIDR = DEFAULT_SERVICE_CIDR,
  mode: ServiceRouteMode = 'local',
): Promise<void> {
  validateCIDR(serviceCIDR);
  await run('ip', serviceRouteArgs('replace', serviceCIDR, mode));
}

export async function removeServiceRoute(
  serviceCIDR = DEFAULT_SERVICE_CIDR,
  mode: ServiceRouteMode = 'local',
): Promise<void> {
  validateCIDR(serviceCIDR);
  try {
    await run('ip', serviceRouteArgs('del', serviceCIDR, mode));
  } catch (e) {
    log.debug('no service route to remove', { serviceCIDR, err: e as Error });
  }
}

/**
 * Forgets what the host remembers about these addresses' old owners. host-local IPAM hands a new pod
 * an address an earlier pod had; a neighbour entry still naming the old pod's MAC would black-hole
 * the host's traffic to the new pod for seconds, until the kernel re-probes.
 */
export async function forgetNeighbours(ips: readonly string[]): Promise<void> {
  for (const ip of ips) {
    try {
      await run('ip', ['neigh', 'flush', 'to', ip]);
    } catch (e) {
      // Without the right to change the table (not root) the entry ages out by itself.
      log.warn('cannot flush the neighbour entry of a new pod address', { ip, err: e as Error });
    }
  }
}

/** Deletes the bridge (when tearing down a node or a test). */
export async function removeBridge(bridge = DEFAULT_BRIDGE): Promise<void> {
  try {
    await run('ip', ['link', 'del', bridge]);
  } catch (e) {
    log.debug('no bridge to remove', { bridge, err: e as Error });
  }
}
