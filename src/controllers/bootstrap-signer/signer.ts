// The bootstrap signer (upstream's pkg/controller/bootstrap/bootstrapsigner.go), with the part of
// kubeadm's bootstrap-token phase that writes cluster-info: kube-public/cluster-info holds a
// kubeconfig naming the cluster's server and CA (no user), and next to it one detached JWS
// `jws-kubeconfig-<token id>` per valid bootstrap token Secret in kube-system that is marked for
// signing. A joining node that knows a token can then trust the CA it reads anonymously.
// One key only: everything recomputes the one ConfigMap.
import { stringify } from 'yaml';
import type { ConfigMap, Secret } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { DeletedFinalStateUnknown, Lister, ResourceEventHandler } from '../../client/informer.js';
import { deletedObject } from '../../client/informer.js';
import { computeDetachedSignature } from '../../pki/jws.js';
import {
  BOOTSTRAP_TOKEN_PATTERN,
  BOOTSTRAP_TOKEN_SECRET_PREFIX,
  BOOTSTRAP_TOKEN_SECRET_TYPE,
} from '../../pki/tokens.js';
import type { Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { isAlreadyExists } from '../common/errors.js';

export const CLUSTER_INFO_NAMESPACE = 'kube-public';
export const CLUSTER_INFO_NAME = 'cluster-info';
export const KUBECONFIG_KEY = 'kubeconfig';
export const JWS_KEY_PREFIX = 'jws-kubeconfig-';
export const TOKEN_NAMESPACE = 'kube-system';
/** The work queue's one key. */
export const CLUSTER_INFO_KEY = `${CLUSTER_INFO_NAMESPACE}/${CLUSTER_INFO_NAME}`;

const writesTotal = metrics.counter(
  'k8ts_bootstrap_signer_writes_total',
  'cluster-info writes by the bootstrap signer, by verb.',
);

export type ConfigMapObj = ConfigMap & KubeObject;
export type SecretObj = Secret & KubeObject;

export interface ClusterInfoClient {
  create(cm: ConfigMapObj): Promise<void>;
  update(cm: ConfigMapObj): Promise<void>;
}

export interface BootstrapSignerOptions {
  configMaps: Lister<ConfigMapObj>;
  secrets: Lister<SecretObj>;
  client: ClusterInfoClient;
  enqueue: () => void;
  /** Sync again after ms (when the next signing token expires). */
  enqueueAfter: (ms: number) => void;
  log: Logger;
  /** The API server URL joining nodes are told about. */
  server: string;
  /** The cluster CA (PEM). */
  caPem: string;
  now?: () => number;
}

/**
 * The kubeconfig published in cluster-info: the cluster only, no credentials. A context without a
 * user names it, so that clients reading the current context find the cluster.
 */
export function clusterInfoKubeconfig(server: string, caPem: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'default',
        cluster: { 'certificate-authority-data': Buffer.from(caPem, 'utf8').toString('base64'), server },
      },
    ],
    contexts: [{ name: 'default', context: { cluster: 'default' } }],
    'current-context': 'default',
    preferences: {},
  });
}

const decode = (v: string | undefined): string | undefined =>
  v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');

export interface SigningToken {
  id: string;
  secret: string;
  /** Expiry in ms since the epoch, if any. */
  expiresAt?: number;
}

/**
 * The token a Secret holds if it may sign cluster-info (upstream's validateSecretForSigning): of the
 * bootstrap token type, named bootstrap-token-<id>, with a well-formed id and secret,
 * usage-bootstrap-signing "true", and not expired.
 */
export function signingToken(secret: SecretObj, now: number): SigningToken | undefined {
  if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return undefined;
  if (secret.metadata.deletionTimestamp) return undefined;
  const data = secret.data ?? {};
  const id = decode(data['token-id']);
  const tokenSecret = decode(data['token-secret']);
  if (!id || !tokenSecret || !BOOTSTRAP_TOKEN_PATTERN.test(`${id}.${tokenSecret}`)) return undefined;
  if (secret.metadata.name !== BOOTSTRAP_TOKEN_SECRET_PREFIX + id) return undefined;
  if (decode(data['usage-bootstrap-signing']) !== 'true') return undefined;
  const expiration = decode(data['expiration']);
  let expiresAt: number | undefined;
  if (expiration !== undefined) {
    expiresAt = Date.parse(expiration);
    if (Number.isNaN(expiresAt) || expiresAt <= now) return undefined;
  }
  return { id, secret: tokenSecret, expiresAt };
}

function sameData(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a?.[k] === b[k]);
}

export class BootstrapSigner {
  private readonly now: () => number;

  constructor(private readonly o: BootstrapSignerOptions) {
    this.now = o.now ?? Date.now;
  }

  configMapHandlers(): ResourceEventHandler<ConfigMapObj> {
    const on = (cm: KubeObject): void => {
      if (cm.metadata.namespace === CLUSTER_INFO_NAMESPACE && cm.metadata.name === CLUSTER_INFO_NAME)
        this.o.enqueue();
    };
    return {
      onAdd: (cm) => on(cm),
      onUpdate: (_old, cm) => on(cm),
      onDelete: (v: ConfigMapObj | DeletedFinalStateUnknown<ConfigMapObj>) => on(deletedObject(v)),
    };
  }

  secretHandlers(): ResourceEventHandler<SecretObj> {
    const on = (s: SecretObj): void => {
      if (s.metadata.namespace === TOKEN_NAMESPACE && s.type === BOOTSTRAP_TOKEN_SECRET_TYPE)
        this.o.enqueue();
    };
    return {
      onAdd: (s) => on(s),
      onUpdate: (old, s) => {
        on(old);
        on(s);
      },
      onDelete: (v: SecretObj | DeletedFinalStateUnknown<SecretObj>) => on(deletedObject(v)),
    };
  }

  /** The ConfigMap data cluster-info should have, given what it has now. */
  desiredData(existing: Record<string, string> | undefined): Record<string, string> {
    const now = this.now();
    const data: Record<string, string> = {};
    // Other keys (kubeadm or an admin may add some) are kept; stale signatures are dropped.
    for (const [k, v] of Object.entries(existing ?? {})) if (!k.startsWith(JWS_KEY_PREFIX)) data[k] = v;
    const kubeconfig = clusterInfoKubeconfig(this.o.server, this.o.caPem);
    data[KUBECONFIG_KEY] = kubeconfig;
    let nextExpiry: number | undefined;
    for (const s of this.o.secrets.list(TOKEN_NAMESPACE)) {
      const token = signingToken(s, now);
      if (!token) continue;
      data[JWS_KEY_PREFIX + token.id] = computeDetachedSignature(kubeconfig, token.id, token.secret);
      if (token.expiresAt !== undefined && (nextExpiry === undefined || token.expiresAt < nextExpiry))
        nextExpiry = token.expiresAt;
    }
    if (nextExpiry !== undefined) this.o.enqueueAfter(Math.max(0, nextExpiry - now) + 1000);
    return data;
  }

  async sync(): Promise<void> {
    const cm = this.o.configMaps.get(CLUSTER_INFO_NAMESPACE, CLUSTER_INFO_NAME);
    const data = this.desiredData(cm?.data);
    if (!cm) {
      try {
        await this.o.client.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: CLUSTER_INFO_NAME, namespace: CLUSTER_INFO_NAMESPACE },
          data,
        });
        writesTotal.inc({ verb: 'create' });
        this.o.log.info('published cluster-info', {
          signatures: Object.keys(data).filter((k) => k.startsWith(JWS_KEY_PREFIX)).length,
        });
      } catch (err) {
        // Created meanwhile: the watch brings it, and the sync runs again.
        if (isAlreadyExists(err)) return;
        throw err;
      }
      return;
    }
    if (sameData(cm.data, data)) return;
    const copy = structuredClone(cm);
    copy.data = data;
    await this.o.client.update(copy);
    writesTotal.inc({ verb: 'update' });
    this.o.log.info('updated cluster-info', {
      signatures: Object.keys(data).filter((k) => k.startsWith(JWS_KEY_PREFIX)).length,
    });
  }
}
