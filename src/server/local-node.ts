// The server's own node, as k3s runs one beside its control plane: a node agent with its own
// identity (system:node:<name>), running pods either as real containers on containerd through CRI or
// on the simulated runtime, and — for containerd — the node's own API that the API server forwards
// logs, exec, attach and port-forward to.
import { join } from 'node:path';
import { hostname } from 'node:os';
import { isPlainObject } from '../api/meta.js';
import { createAgent, type Agent } from '../agent/agent.js';
import type { PodObjectSource } from '../agent/kuberuntime/env.js';
import { startNodeRuntime, type NodeRuntime } from '../agent/kuberuntime/setup.js';
import { CriStreamingBackend, startNodeServer, type NodeServer } from '../agent/server/index.js';
import { RestClient } from '../client/rest.js';
import { CONFIGMAPS, PODS, SECRETS } from '../client/typed-refs.js';
import { StatusError } from '../api/errors.js';
import {
  issueCertificate,
  issueClientCertificate,
  hostAddresses,
  type CertificateAuthority,
} from '../pki/index.js';
import { createLogger } from '../util/log.js';
import { K8TS_VERSION } from '../version.js';

const log = createLogger('local-node');

/** k3s's cluster CIDR starts at 10.42.0.0/16; a single server node takes its first /24. */
export const LOCAL_POD_CIDR = '10.42.0.0/24';

export interface LocalNodeOptions {
  readonly runtime: 'fake' | 'containerd';
  readonly nodeName?: string;
  /** The server's data dir; the node keeps its state under <dataDir>/agent. */
  readonly dataDir: string;
  readonly serverUrl: string;
  readonly ca: CertificateAuthority;
  readonly serviceCidr: string;
  /** An existing CRI socket instead of a containerd of our own. */
  readonly containerRuntimeEndpoint?: string;
  /** k3s-style registries.yaml (mirrors, insecure registries). */
  readonly registriesFile?: string;
  /** The node API's port (kubelet's 10250 by default). */
  readonly nodePort?: number;
  /** Pull only through the configured mirrors, never from a registry's own host. */
  readonly disableDefaultRegistryEndpoint?: boolean;
}

export interface LocalNode {
  readonly nodeName: string;
  stop(): Promise<void>;
}

async function getOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof StatusError && err.code === 404) return undefined;
    throw err;
  }
}

/** ConfigMaps, Secrets and ServiceAccount tokens for pods' env and volumes, read through the API. */
function apiObjectSource(client: RestClient): PodObjectSource {
  return {
    configMap: (ns, name) => getOrUndefined(() => client.get(CONFIGMAPS, ns, name)),
    secret: (ns, name) => getOrUndefined(() => client.get(SECRETS, ns, name)),
    async serviceAccountToken(pod, audience, expirationSeconds) {
      const ns = pod.metadata?.namespace ?? 'default';
      const sa = pod.spec?.serviceAccountName ?? 'default';
      const review = await client.request<{ status?: { token?: string } }>(
        'POST',
        `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(sa)}/token`,
        {
          body: {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec: {
              ...(audience ? { audiences: [audience] } : {}),
              expirationSeconds,
              boundObjectRef: {
                apiVersion: 'v1',
                kind: 'Pod',
                name: pod.metadata?.name,
                uid: pod.metadata?.uid,
              },
            },
          },
        },
      );
      return isPlainObject(review.status) && typeof review.status.token === 'string'
        ? review.status.token
        : undefined;
    },
  };
}

export async function startLocalNode(opts: LocalNodeOptions): Promise<LocalNode> {
  const nodeName = (opts.nodeName ?? hostname()).toLowerCase();
  const identity = await issueClientCertificate(opts.ca, `system:node:${nodeName}`, ['system:nodes']);
  const client = new RestClient(
    {
      server: opts.serverUrl,
      caPem: opts.ca.certPem,
      clientCertPem: identity.certPem,
      clientKeyPem: identity.keyPem,
      namespace: 'default',
    },
    `k8ts-agent/${K8TS_VERSION} (${nodeName})`,
  );
  const agentDir = join(opts.dataDir, 'agent');
  const stops: (() => Promise<void> | void)[] = [() => client.close()];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (err) {
        log.error('stopping part of the local node failed', { error: err });
      }
    }
  };
  try {
    let agent: Agent;
    if (opts.runtime === 'fake') {
      agent = createAgent({ client, nodeName, runtime: 'fake', controlPlane: true, dataDir: agentDir });
    } else {
      const runtime: NodeRuntime = await startNodeRuntime({
        // The runtime lays itself out under <dataDir>/agent and <dataDir>/run, as k3s does.
        dataDir: opts.dataDir,
        endpoint: opts.containerRuntimeEndpoint,
        registriesFile: opts.registriesFile,
        disableDefaultRegistryEndpoint: opts.disableDefaultRegistryEndpoint,
        podCIDR: LOCAL_POD_CIDR,
        serviceCIDR: opts.serviceCidr,
        source: apiObjectSource(client),
      });
      stops.push(() => runtime.stop());
      const addresses = hostAddresses();
      const serving = await issueCertificate(opts.ca, {
        commonName: `system:node:${nodeName}`,
        organizations: ['system:nodes'],
        usages: ['digital signature', 'key encipherment', 'server auth'],
        sans: { dns: [nodeName, 'localhost'], ips: ['127.0.0.1', ...addresses.ips] },
      });
      const listPods = async () =>
        (await client.list(PODS, undefined, { fieldSelector: `spec.nodeName=${nodeName}` })).items;
      const nodeServer: NodeServer = await startNodeServer({
        backend: new CriStreamingBackend({
          nodeName,
          runtime: runtime.pods,
          client: runtime.containerRuntime.client,
          pods: listPods,
        }),
        tls: { cert: serving.certPem, key: serving.keyPem, ca: opts.ca.certPem },
        port: opts.nodePort ?? 10250,
        // Only the API server (and cluster admins) may reach pods through the node.
        allowClient: (cn, orgs) => cn === 'kube-apiserver-kubelet-client' || orgs.includes('system:masters'),
      });
      stops.push(() => nodeServer.close());
      agent = createAgent({
        client,
        nodeName,
        runtime: runtime.pods,
        controlPlane: true,
        dataDir: agentDir,
        daemonPort: nodeServer.port,
      });
    }
    await agent.start();
    stops.push(() => agent.stop());
    log.info('node ready', { node: nodeName, runtime: opts.runtime });
    return { nodeName, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
