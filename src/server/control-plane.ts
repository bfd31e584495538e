// `k8ts server`'s control plane, assembled in one process as k3s does: storage first, then the
// cluster PKI, then the API server with authentication and RBAC, then the components that are
// clients of it. Each stage must be ready before the next starts.
import { mkdirSync, accessSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../api/meta.js';
import type { ResourceDescription } from '../api/types.js';
import { builtinResources } from '../api/kinds/index.js';
import { builtinSchemas } from '../api/schema-registry.js';
import { createApiServer, type ApiServer } from '../apiserver/server.js';
import { createIfMissing } from '../apiserver/bootstrap.js';
import { defaultAdmissionPlugins, systemPriorityClasses } from '../apiserver/admission/index.js';
import { selfSubjectRulesReviewHandler, selfSubjectRulesReviewResource } from '../apiserver/rules-review.js';
import {
  TOKEN_SUBRESOURCE,
  tokenReviewHandler,
  tokenSubresourceHandler,
} from '../apiserver/token-subresource.js';
import { storageKey, storagePrefix } from '../apiserver/resource-registry.js';
import { encodeForStorage } from '../apiserver/objects.js';
import {
  aggregateClusterRoles,
  bootstrapPolicy,
  createClusterAuth,
  type ClusterRole,
  type ClusterRoleBinding,
  type Role,
  type RoleBinding,
} from '../apiserver/auth/index.js';
import {
  ensureClusterPki,
  issueClientCertificate,
  ensureNodeToken,
  writeKubeconfig,
  bootstrapTokenSecret,
  DEFAULT_NODE_TOKEN_GROUP,
  DEFAULT_SERVICE_CIDR,
  type ClusterPki,
} from '../pki/index.js';
import { openStore, startCompactor, DEFAULT_COMPACTOR } from '../storage/open.js';
import type { Store } from '../storage/types.js';
import { createLogger } from '../util/log.js';
import {
  createStreamingHandler,
  routeUpgradesAsRequests,
  storeLookup,
  STREAMING_SUBRESOURCES,
} from '../apiserver/streaming/index.js';
import { createMetricsApi } from '../apiserver/metrics-api/index.js';
import { localPathStorageClass } from '../controllers/persistentvolume/storage-class.js';
import { hostname } from 'node:os';
import { StopStack } from '../util/stop-stack.js';
import { StoreCache } from './store-cache.js';
import { LoopbackIdentities, loopbackSocketPath } from './loopback.js';
import type { ComponentCredentials, ComponentsConfig } from './components.js';
import { startComponentsThread, type ComponentsThread } from './components-thread.js';
import type { SchedulerConfiguration } from '../scheduler/config.js';

const log = createLogger('server');

export { DEFAULT_SERVICE_CIDR };

export interface ControlPlaneOptions {
  readonly dataDir: string;
  readonly datastore: string;
  readonly bindAddress: string;
  readonly httpsPort: number;
  readonly tlsSans: readonly string[];
  readonly serviceCidr?: string;
  /** The range nodes' podCIDRs are allocated from (--cluster-cidr, default 10.42.0.0/16, one /24 each). */
  readonly clusterCidr?: string;
  /** For tests: leave the host's own names out of the serving certificate. */
  readonly skipHostAddresses?: boolean;
  /** Built-in components not to start ('scheduler', 'controller-manager', or a controller's name). */
  readonly disable?: readonly string[];
  /** Where the local-path provisioner puts volumes on each node (default <dataDir>/storage, as k3s). */
  readonly defaultLocalStoragePath?: string;
  /** The scheduler's KubeSchedulerConfiguration (--scheduler-config), already validated. */
  readonly schedulerConfig?: SchedulerConfiguration;
  /**
   * Called when a component can no longer run (its thread died): `k8ts server` stops and exits
   * non-zero, as a process whose in-process component threw would.
   */
  readonly onFatal?: (err: Error) => void;
}

export interface ControlPlane {
  readonly store: Store;
  readonly pki: ClusterPki;
  readonly apiServer: ApiServer;
  /** The URL local components and the kubeconfig use. */
  readonly url: string;
  readonly kubeconfigPath: string;
  readonly nodeToken: string;
  stop(): Promise<void>;
}

/** Makes sure the data dir exists and is usable, with one clear line if not. */
function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, fsConstants.R_OK | fsConstants.W_OK | fsConstants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new Error(
      `data dir ${dataDir} is not usable (${code || (err instanceof Error ? err.message : String(err))})`,
    );
  }
}

function describe(kind: string, group: string): ResourceDescription {
  const d = builtinResources.find((r) => r.kind === kind && r.group === group && !r.conversion);
  if (!d) throw new Error(`built-in kind ${group}/${kind} is not registered`);
  return d;
}

function splitSans(sans: readonly string[]): { dns: string[]; ips: string[] } {
  const ipLike = /^[0-9.]+$|:/;
  return { dns: sans.filter((s) => !ipLike.test(s)), ips: sans.filter((s) => ipLike.test(s)) };
}

function localUrl(bindAddress: string, port: number): string {
  const host = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const started = Date.now();
  prepareDataDir(opts.dataDir);
  const store = await openStore(opts.datastore, opts.dataDir);
  const stops = new StopStack(log, 'stopping a component failed');
  stops.push(() => store.close());
  const stopAll = (): Promise<void> => stops.stopAll();
  try {
    const compactor = startCompactor(store, DEFAULT_COMPACTOR);
    stops.push(() => compactor.stop());

    const serviceCidr = opts.serviceCidr ?? DEFAULT_SERVICE_CIDR;
    const pki = await ensureClusterPki(opts.dataDir, {
      sans: splitSans(opts.tlsSans),
      serviceCidr,
      skipHostAddresses: opts.skipHostAddresses,
    });
    const nodeToken = await ensureNodeToken(opts.dataDir);

    // The authenticator and authorizer read these kinds on every request: serve them from memory.
    const caches = {
      secrets: new StoreCache(store, storagePrefix(describe('Secret', ''))),
      serviceAccounts: new StoreCache(store, storagePrefix(describe('ServiceAccount', ''))),
      roles: new StoreCache<Role & KubeObject>(
        store,
        storagePrefix(describe('Role', 'rbac.authorization.k8s.io')),
      ),
      roleBindings: new StoreCache<RoleBinding & KubeObject>(
        store,
        storagePrefix(describe('RoleBinding', 'rbac.authorization.k8s.io')),
      ),
      clusterRoles: new StoreCache<ClusterRole & KubeObject>(
        store,
        storagePrefix(describe('ClusterRole', 'rbac.authorization.k8s.io')),
      ),
      clusterRoleBindings: new StoreCache<ClusterRoleBinding & KubeObject>(
        store,
        storagePrefix(describe('ClusterRoleBinding', 'rbac.authorization.k8s.io')),
      ),
    };
    await Promise.all(Object.values(caches).map((c) => c.start()));
    stops.push(() => Object.values(caches).forEach((c) => c.stop()));

    const readObject = async (
      kind: string,
      group: string,
      namespace: string,
      name: string,
    ): Promise<KubeObject | undefined> => {
      const kv = await store.get(storageKey(describe(kind, group), namespace, name));
      return kv ? (JSON.parse(kv.value) as KubeObject) : undefined;
    };
    const secretDesc = describe('Secret', '');
    const saDesc = describe('ServiceAccount', '');
    const rbacGroup = 'rbac.authorization.k8s.io';
    const auth = await createClusterAuth({
      serviceAccountKey: pki.serviceAccountKey,
      getSecret: (ns, name) => caches.secrets.get(storageKey(secretDesc, ns, name)),
      getServiceAccount: (ns, name) => caches.serviceAccounts.get(storageKey(saDesc, ns, name)),
      getPod: (ns, name) => readObject('Pod', '', ns, name),
      getNode: (name) => readObject('Node', '', '', name),
      rbac: {
        listClusterRoleBindings: () => caches.clusterRoleBindings.list(),
        listRoleBindings: (ns) => caches.roleBindings.list(`${ns}/`),
        getClusterRole: (name) =>
          caches.clusterRoles.get(storageKey(describe('ClusterRole', rbacGroup), '', name)),
        getRole: (ns, name) => caches.roles.get(storageKey(describe('Role', rbacGroup), ns, name)),
      },
    });

    const tokenSubresources = tokenSubresourceHandler({
      store,
      tokenRequest: (sa, req) => auth.tokenRequest(sa, req),
    });
    // The API server's own identity towards node agents (logs, exec, port-forward, node proxy).
    const kubeletClient = await issueClientCertificate(pki.ca, 'kube-apiserver-kubelet-client', [
      'system:masters',
    ]);
    const streaming = createStreamingHandler({
      lookup: storeLookup(store, builtinResources),
      nodeClient: { cert: kubeletClient.certPem, key: kubeletClient.keyPem, ca: pki.ca.certPem },
    });
    // metrics.k8s.io (kubectl top, the HPA), from the node agents' stats the same way.
    const metricsApi = createMetricsApi({
      store,
      resources: builtinResources,
      nodeClient: { cert: kubeletClient.certPem, key: kubeletClient.keyPem, ca: pki.ca.certPem },
    });
    stops.push(() => metricsApi.stop());
    // The in-process components reach the API server over a unix socket in the data dir, with
    // tokens minted here (see loopback.ts); with a data dir path too long for a socket, over HTTPS.
    const loopback = new LoopbackIdentities();
    const loopbackSocket = loopbackSocketPath(opts.dataDir);
    let componentsThread: ComponentsThread | undefined;
    const apiServer = await createApiServer({
      store,
      resources: [...builtinResources, selfSubjectRulesReviewResource],
      schemas: builtinSchemas(),
      tls: { key: pki.serving.keyPem, cert: pki.serving.certPem, ca: pki.ca.certPem, requestCert: true },
      host: opts.bindAddress,
      port: opts.httpsPort,
      serviceClusterIPRange: serviceCidr,
      authenticate: (req) => {
        const component = loopback.authenticate(req);
        return component ? Promise.resolve(component) : auth.authenticate(req);
      },
      unixSocketPath: loopbackSocket,
      authorize: (attrs) => auth.authorize(attrs),
      admission: (ctx) => defaultAdmissionPlugins(ctx),
      createHandlers: {
        'authentication.k8s.io/TokenReview': tokenReviewHandler(auth.authenticator, auth.apiAudiences),
        'authorization.k8s.io/SelfSubjectRulesReview': selfSubjectRulesReviewHandler((user, ns) =>
          auth.authorizer.resourceRulesFor(user, ns),
        ),
      },
      // Each handler answers false for what it does not serve; the first that serves it wins.
      subresourceHandler: async (info, desc, req, res, user) =>
        (await tokenSubresources(info, desc, req, res, user)) ||
        (await streaming(info, desc, req, res, user)),
      extraSubresources: [TOKEN_SUBRESOURCE, ...STREAMING_SUBRESOURCES],
      virtualResources: metricsApi.resources,
      extraMetrics: () => componentsThread?.metrics() ?? Promise.resolve([]),
    });
    stops.push(() => apiServer.close());
    // WebSocket and SPDY upgrades (exec, attach, port-forward) go through the same request handling.
    routeUpgradesAsRequests(apiServer.httpServer);

    // Upstream's default roles and bindings, and the Secret behind the node token.
    const policy = bootstrapPolicy();
    // Until a clusterrole-aggregation controller runs, the aggregated roles (admin, edit, view)
    // start with the rules it would give them.
    const aggregated = new Map(aggregateClusterRoles(policy.clusterRoles).map((r) => [r.metadata.name, r]));
    policy.clusterRoles = policy.clusterRoles.map((r) => aggregated.get(r.metadata.name) ?? r);
    const policyObjects: [string, KubeObject[]][] = [
      ['ClusterRole', policy.clusterRoles],
      ['ClusterRoleBinding', policy.clusterRoleBindings],
      ['Role', policy.roles],
      ['RoleBinding', policy.roleBindings],
    ];
    for (const [kind, objects] of policyObjects)
      for (const obj of objects)
        await createIfMissing(store, describe(kind, rbacGroup), structuredClone(obj));
    for (const pc of systemPriorityClasses())
      await createIfMissing(store, describe('PriorityClass', 'scheduling.k8s.io'), pc);
    // k3s's default StorageClass, served by the local-path provisioner (off with --disable local-storage).
    const localStorage = !(opts.disable ?? []).includes('local-storage');
    if (localStorage)
      await createIfMissing(store, describe('StorageClass', 'storage.k8s.io'), localPathStorageClass());
    // Upstream runs each controller under its own ServiceAccount bound to its system:controller:*
    // role; k8ts runs them in one client, so that client gets exactly the union of those roles.
    for (const role of policy.clusterRoles) {
      const roleName = role.metadata.name ?? '';
      if (!roleName.startsWith('system:controller:')) continue;
      await createIfMissing(store, describe('ClusterRoleBinding', rbacGroup), {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `k8ts:controller-manager:${roleName.slice('system:controller:'.length)}` },
        roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: roleName },
        subjects: [{ apiGroup: rbacGroup, kind: 'User', name: 'system:kube-controller-manager' }],
      });
    }
    // The same for the controllers' namespaced roles (the bootstrap signer's in kube-system and kube-public).
    for (const role of policy.roles as unknown as KubeObject[]) {
      const roleName = role.metadata.name ?? '';
      if (!roleName.startsWith('system:controller:')) continue;
      await createIfMissing(store, describe('RoleBinding', rbacGroup), {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: {
          name: `k8ts:controller-manager:${roleName.slice('system:controller:'.length)}`,
          namespace: role.metadata.namespace,
        },
        roleRef: { apiGroup: rbacGroup, kind: 'Role', name: roleName },
        subjects: [{ apiGroup: rbacGroup, kind: 'User', name: 'system:kube-controller-manager' }],
      });
    }
    // The node token both authenticates joining agents and signs cluster-info for them.
    const nodeTokenSecret = bootstrapTokenSecret(nodeToken, {
      extraGroups: [DEFAULT_NODE_TOKEN_GROUP],
      description: 'The k8ts node token',
      usageSigning: true,
    });
    if (!(await createIfMissing(store, secretDesc, structuredClone(nodeTokenSecret)))) {
      // Written by an older k8ts without usage-bootstrap-signing: add it.
      const key = storageKey(secretDesc, 'kube-system', nodeTokenSecret.metadata.name ?? '');
      const kv = await store.get(key);
      const existing = kv
        ? (JSON.parse(kv.value) as KubeObject & { data?: Record<string, string> })
        : undefined;
      const signing = (nodeTokenSecret as { data?: Record<string, string> }).data?.[
        'usage-bootstrap-signing'
      ];
      if (kv && existing && signing && existing.data?.['usage-bootstrap-signing'] === undefined) {
        existing.data = { ...(existing.data ?? {}), 'usage-bootstrap-signing': signing };
        await store.update(key, encodeForStorage(existing), kv.modRevision);
      }
    }

    const url = localUrl(opts.bindAddress, apiServer.port);
    const kubeconfigPath = join(opts.dataDir, 'kubeconfig.yaml');
    await writeKubeconfig(kubeconfigPath, {
      server: url,
      caPem: pki.ca.certPem,
      clientCertPem: pki.admin.certPem,
      clientKeyPem: pki.admin.keyPem,
      userName: 'default',
      clusterName: 'default',
      contextName: 'default',
    });
    // The components are API clients like any other, each with its own identity, as upstream's are.
    const credentials = async (user: string): Promise<ComponentCredentials> =>
      loopbackSocket
        ? { socketPath: loopbackSocket, token: loopback.tokenFor({ name: user, groups: [] }) }
        : await issueClientCertificate(pki.ca, user).then((cert) => ({
            clientCertPem: cert.certPem,
            clientKeyPem: cert.keyPem,
          }));
    const disabled = new Set(opts.disable ?? []);
    const componentsConfig: ComponentsConfig = {
      url,
      caPem: pki.ca.certPem,
      caKeyPem: pki.ca.keyPem,
      identity: hostname(),
      ...(disabled.has('scheduler')
        ? {}
        : {
            scheduler: {
              credentials: await credentials('system:kube-scheduler'),
              config: opts.schedulerConfig,
            },
          }),
      ...(disabled.has('controller-manager')
        ? {}
        : {
            controllerManager: {
              credentials: await credentials('system:kube-controller-manager'),
              disable: [...disabled],
              clusterCidr: opts.clusterCidr,
              localStoragePath: localStorage
                ? (opts.defaultLocalStoragePath ?? join(opts.dataDir, 'storage'))
                : undefined,
            },
          }),
    };
    if (componentsConfig.scheduler || componentsConfig.controllerManager) {
      const thread = await startComponentsThread(componentsConfig, {
        onFailure: (err) => {
          log.error('control-plane components failed', { error: err });
          opts.onFatal?.(err);
        },
      });
      componentsThread = thread;
      stops.push(() => thread.stop());
    }

    log.info('control plane ready', {
      url,
      kubeconfig: kubeconfigPath,
      datastore: store.backend,
      ms: Date.now() - started,
    });
    return {
      store,
      pki,
      apiServer,
      url,
      kubeconfigPath,
      nodeToken: nodeToken.token,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
