// The server's own node, as k3s runs one beside its control plane: a node agent with its own
// identity (system:node:<name>), running pods either as real containers on containerd through CRI or
// on the simulated runtime, and — for containerd — the node's own API that the API server forwards
// logs, exec, attach and port-forward to.
import { join } from 'node:path';
import { hostname } from 'node:os';
import { isPlainObject } from '../api/meta.js';
import { createAgent } from '../agent/agent.js';
import { runtimePodOf } from '../agent/config/static-pod.js';
import { criPodUsage } from '../agent/eviction/usage.js';
import { pinnedImageNames } from '../agent/images/import.js';
import { pauseImageRef } from '../agent/images/pause.js';
import type { NodeTuning } from '../agent/tuning.js';
import type { PodObjectSource } from '../agent/kuberuntime/env.js';
import { startNodeRuntime, type NodeRuntime } from '../agent/kuberuntime/setup.js';
import { CriStreamingBackend, startNodeServer, type NodeServer } from '../agent/server/index.js';
import { FakeNodeBackend } from '../agent/fake/node-backend.js';
import { apiClaimCheck } from '../agent/fake/claims.js';
import { FakeRuntime } from '../agent/fake/runtime.js';
import { RestClient } from '../client/rest.js';
import { SharedInformer } from '../client/informer.js';
import type { Node } from '../api/generated/types.js';
import { obtainServingCertificate } from '../agent/serving-cert.js';
import {
  CONFIGMAPS,
  NODES,
  PERSISTENTVOLUMECLAIMS,
  PERSISTENTVOLUMES,
  PODS,
  SECRETS,
} from '../client/typed-refs.js';
import { StatusError } from '../api/errors.js';
import type { CertificateAuthority } from '../pki/index.js';
import { createLogger } from '../util/log.js';
import { StopStack } from '../util/stop-stack.js';
import { componentUserAgent } from '../version.js';

const log = createLogger('local-node');

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
  /** Kubelet settings (--kubelet-arg) for a containerd node. */
  readonly tuning?: NodeTuning;
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

/** ConfigMaps, Secrets, claims and their volumes, ServiceAccount tokens for pods, read through the API. */
function apiObjectSource(client: RestClient): PodObjectSource {
  return {
    configMap: (ns, name) => getOrUndefined(() => client.get(CONFIGMAPS, ns, name)),
    secret: (ns, name) => getOrUndefined(() => client.get(SECRETS, ns, name)),
    persistentVolumeClaim: (ns, name) => getOrUndefined(() => client.get(PERSISTENTVOLUMECLAIMS, ns, name)),
    persistentVolume: (name) => getOrUndefined(() => client.get(PERSISTENTVOLUMES, undefined, name)),
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

export interface ContainerdNodeOptions {
  /** The node's identity towards the API server (system:node:<name>). */
  readonly client: RestClient;
  readonly nodeName: string;
  /** Data dir; the runtime lays itself out under <dataDir>/agent and <dataDir>/run, as k3s does. */
  readonly dataDir: string;
  readonly serviceCidr: string;
  /**
   * Pod addresses until the node IPAM controller gives the node its spec.podCIDR (which then wins);
   * without it, pods on the pod network wait for spec.podCIDR ("network is not ready").
   */
  readonly podCidr?: string;
  /** The node's CNI bridge (default k8ts0; give nodes sharing a host different ones). */
  readonly bridge?: string;
  readonly controlPlane: boolean;
  readonly containerRuntimeEndpoint?: string;
  readonly registriesFile?: string;
  readonly disableDefaultRegistryEndpoint?: boolean;
  /** Static pod manifests (default <dataDir>/agent/pod-manifests, as k3s). */
  readonly staticPodPath?: string;
  /** Kubelet settings (--kubelet-arg): static pod path, eviction thresholds, image GC. */
  readonly tuning?: NodeTuning;
  /**
   * The node's own API (logs, exec, attach, port-forward), served with a certificate the cluster CA
   * signed: given (the server's own node), or requested through a kubelet-serving CSR once the node
   * is registered (a joined node; needs a fixed port, published before the server starts). Without
   * it the node runs pods, but the API server cannot stream from them.
   */
  readonly nodeServer?:
    | {
        readonly tls: { readonly cert: string; readonly key: string; readonly ca: string };
        readonly port: number;
      }
    | { readonly requestCertificate: { readonly caPem: string }; readonly port: number };
}

/** Follows the node's own Node object: hands a newly assigned spec.podCIDR to the runtime. */
function watchPodCidr(client: RestClient, nodeName: string, runtime: NodeRuntime): SharedInformer<Node> {
  const informer = new SharedInformer<Node>(client, NODES, { fieldSelector: `metadata.name=${nodeName}` });
  let applying: Promise<void> = Promise.resolve();
  const apply = (node: Node): void => {
    const cidr = node.spec?.podCIDR;
    if (!cidr) return;
    applying = applying.then(() =>
      runtime.pods.updatePodCIDR(cidr).catch((err: unknown) => {
        log.error('cannot configure the pod network', { node: nodeName, podCIDR: cidr, err: err as Error });
      }),
    );
  };
  informer.addEventHandler({ onAdd: apply, onUpdate: (_old, node) => apply(node) });
  informer.start();
  return informer;
}

/** A node running real containers on containerd; resolves once it is registered and syncing pods. */
export async function startContainerdNode(opts: ContainerdNodeOptions): Promise<{ stop(): Promise<void> }> {
  const stops = new StopStack(log, 'stopping part of the node failed');
  const stop = (): Promise<void> => stops.stopAll();
  try {
    const runtime: NodeRuntime = await startNodeRuntime({
      dataDir: opts.dataDir,
      endpoint: opts.containerRuntimeEndpoint,
      registriesFile: opts.registriesFile,
      disableDefaultRegistryEndpoint: opts.disableDefaultRegistryEndpoint,
      podCIDR: opts.podCidr,
      bridge: opts.bridge,
      serviceCIDR: opts.serviceCidr,
      source: apiObjectSource(opts.client),
    });
    stops.push(() => runtime.stop());
    const { client, nodeName } = opts;
    const podCidrWatch = watchPodCidr(client, nodeName, runtime);
    stops.push(() => podCidrWatch.stop());
    const serveNodeApi = async (
      tls: { cert: string; key: string; ca: string },
      port: number,
    ): Promise<number> => {
      // Mirror pods stand for static pods, whose containers carry the static pod's UID.
      const listPods = async () =>
        (await client.list(PODS, undefined, { fieldSelector: `spec.nodeName=${nodeName}` })).items.map(
          runtimePodOf,
        );
      const nodeServer: NodeServer = await startNodeServer({
        backend: new CriStreamingBackend({
          nodeName,
          runtime: runtime.pods,
          client: runtime.containerRuntime.client,
          pods: listPods,
        }),
        tls,
        port,
        // Only the API server (and cluster admins) may reach pods through the node.
        allowClient: (cn, orgs) => cn === 'kube-apiserver-kubelet-client' || orgs.includes('system:masters'),
      });
      stops.push(() => nodeServer.close());
      return nodeServer.port;
    };
    let daemonPort: number | undefined;
    const ns = opts.nodeServer;
    if (ns && 'tls' in ns) daemonPort = await serveNodeApi(ns.tls, ns.port);
    else if (ns) {
      if (ns.port === 0)
        throw new Error('a node that requests its serving certificate needs a fixed node API port');
      daemonPort = ns.port;
    }
    const agent = createAgent({
      client,
      nodeName,
      runtime: runtime.pods,
      controlPlane: opts.controlPlane,
      dataDir: join(opts.dataDir, 'agent'),
      daemonPort,
      // NotReady until the node has a pod network (no podCIDR yet), as the kubelet.
      runtimeErrors: () => runtime.pods.networkErrors(),
      staticPodPath:
        opts.tuning?.staticPodPath ?? opts.staticPodPath ?? join(opts.dataDir, 'agent', 'pod-manifests'),
      eviction: { hard: opts.tuning?.evictionHard, podUsage: criPodUsage(runtime.containerRuntime.client) },
      imageGC: {
        runtime: runtime.containerRuntime.client,
        // The pause image, and what `k8ts image import` pinned, whatever containerd's CRI says.
        pinnedNames: async () => {
          const names = new Set([pauseImageRef()]);
          try {
            for (const n of await pinnedImageNames(runtime.containerRuntime.endpoint)) names.add(n);
          } catch (err) {
            // Not containerd, or no ctr: the CRI's own pins (containerd 1.7+) and the pause image count.
            log.warn('cannot list pinned images with ctr', { error: err });
          }
          return names;
        },
        policy: opts.tuning?.imageGC,
        periodMs: opts.tuning?.imageGC?.periodMs,
      },
    });
    await agent.start();
    stops.push(() => agent.stop());
    if (ns && 'requestCertificate' in ns) {
      // The CSR names the node's addresses, which the approver checks against the registered Node.
      // Pods run meanwhile; the node API follows once the certificate is signed (as the kubelet's
      // serverTLSBootstrap, it waits for as long as approval takes).
      const abort = new AbortController();
      const caPem = ns.requestCertificate.caPem;
      const serving = obtainServingCertificate({
        client,
        nodeName,
        dataDir: opts.dataDir,
        caPem,
        signal: abort.signal,
      })
        .then((cert) => serveNodeApi({ cert: cert.certPem, key: cert.keyPem, ca: caPem }, ns.port))
        .catch((err: unknown) => {
          if (!abort.signal.aborted)
            log.error('the node API is not served: no serving certificate', {
              node: nodeName,
              err: err as Error,
            });
        });
      stops.push(async () => {
        abort.abort();
        await serving;
      });
    }
    return { stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A node on the simulated runtime with the node API's usage statistics, so that `kubectl top` and
 * autoscaling see it. Its API listens on a free port (published in status.daemonEndpoints, where
 * the API server looks), so that it never takes kubelet's port from a real node on this machine.
 */
async function startFakeNode(opts: {
  readonly client: RestClient;
  readonly nodeName: string;
  readonly dataDir: string;
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string };
}): Promise<{ stop(): Promise<void> }> {
  const { client, nodeName } = opts;
  const runtime = new FakeRuntime({ claimCheck: apiClaimCheck(client) });
  const listPods = async () =>
    (await client.list(PODS, undefined, { fieldSelector: `spec.nodeName=${nodeName}` })).items;
  const nodeServer = await startNodeServer({
    backend: new FakeNodeBackend({ nodeName, runtime, pods: listPods }),
    tls: opts.tls,
    port: 0,
    allowClient: (cn, orgs) => cn === 'kube-apiserver-kubelet-client' || orgs.includes('system:masters'),
  });
  try {
    const agent = createAgent({
      client,
      nodeName,
      runtime,
      controlPlane: true,
      dataDir: join(opts.dataDir, 'agent'),
      daemonPort: nodeServer.port,
      // Static pods, from where k3s keeps them.
      staticPodPath: join(opts.dataDir, 'agent', 'pod-manifests'),
    });
    await agent.start();
    return {
      stop: async () => {
        await agent.stop();
        await nodeServer.close();
      },
    };
  } catch (err) {
    await nodeServer.close();
    throw err;
  }
}

export async function startLocalNode(opts: LocalNodeOptions): Promise<LocalNode> {
  const nodeName = (opts.nodeName ?? hostname()).toLowerCase();
  // Loaded here, not at the top: `k8ts agent` shares this module but never signs certificates, and
  // the X.509 library behind these costs a node about 17 MB of resident memory.
  const { issueCertificate, issueClientCertificate, hostAddresses } = await import('../pki/index.js');
  const identity = await issueClientCertificate(opts.ca, `system:node:${nodeName}`, ['system:nodes']);
  const client = new RestClient(
    {
      server: opts.serverUrl,
      caPem: opts.ca.certPem,
      clientCertPem: identity.certPem,
      clientKeyPem: identity.keyPem,
      namespace: 'default',
    },
    componentUserAgent('kubelet'),
  );
  try {
    let stopNode: () => Promise<void>;
    // The server holds the CA, so its own node's serving certificate is issued directly.
    const serving = await issueCertificate(opts.ca, {
      commonName: `system:node:${nodeName}`,
      organizations: ['system:nodes'],
      usages: ['digital signature', 'key encipherment', 'server auth'],
      sans: { dns: [nodeName, 'localhost'], ips: ['127.0.0.1', ...hostAddresses().ips] },
    });
    if (opts.runtime === 'fake') {
      const node = await startFakeNode({
        client,
        nodeName,
        dataDir: opts.dataDir,
        tls: { cert: serving.certPem, key: serving.keyPem, ca: opts.ca.certPem },
      });
      stopNode = () => node.stop();
    } else {
      const node = await startContainerdNode({
        client,
        nodeName,
        dataDir: opts.dataDir,
        serviceCidr: opts.serviceCidr,
        controlPlane: true,
        containerRuntimeEndpoint: opts.containerRuntimeEndpoint,
        registriesFile: opts.registriesFile,
        disableDefaultRegistryEndpoint: opts.disableDefaultRegistryEndpoint,
        tuning: opts.tuning,
        nodeServer: {
          tls: { cert: serving.certPem, key: serving.keyPem, ca: opts.ca.certPem },
          port: opts.nodePort ?? 10250,
        },
      });
      stopNode = () => node.stop();
    }
    log.info('node ready', { node: nodeName, runtime: opts.runtime });
    return {
      nodeName,
      stop: async () => {
        await stopNode();
        client.close();
      },
    };
  } catch (err) {
    client.close();
    throw err;
  }
}
