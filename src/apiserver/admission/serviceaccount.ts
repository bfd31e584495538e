// The ServiceAccount admission plugin: every new pod runs as a ServiceAccount (`default` unless it
// names one), the account must exist, and unless automounting is switched off (on the pod or the
// account) each container gets the projected kube-api-access-xxxxx volume (a bound token, the
// cluster CA from kube-root-ca.crt and the namespace) mounted at the well-known path. Accounts
// annotated to enforce mountable secrets limit which Secrets the pod may reference.
import { forbidden, notFound } from '../../api/errors.js';
import type { KubeObject } from '../../api/meta.js';
import { arr, child, rec, recs, str, type Obj } from '../../api/kinds/util.js';
import type { AdmissionPlugin, AdmissionRequest } from '../admission.js';
import { generateName } from '../objects.js';
import type { ObjectAccess } from './access.js';

export const SERVICE_ACCOUNT_PLUGIN = 'ServiceAccount';
export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const DEFAULT_API_TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const SERVICE_ACCOUNT_VOLUME_PREFIX = 'kube-api-access-';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const ENFORCE_MOUNTABLE_SECRETS = 'kubernetes.io/enforce-mountable-secrets';
/** Bound tokens in pods last a little over an hour (upstream warns, rather than fails, past that). */
const WARN_ONLY_TOKEN_EXPIRATION_SECONDS = 3607;

export interface ServiceAccountPluginOptions {
  /** Lookups of the `default` account retry this many times (it is created by a controller). */
  readonly defaultAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

function isPodRequest(req: AdmissionRequest): boolean {
  return req.resource.group === '' && req.resource.plural === 'pods' && req.subresource === '';
}

function podForbidden(req: AdmissionRequest, message: string): Error {
  return forbidden({ group: '', resource: 'pods' }, req.name, message);
}

/** The projected volume holding what a pod needs to talk to the API server. */
export function tokenVolume(name: string): Obj {
  return {
    name,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: WARN_ONLY_TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
      defaultMode: 420,
    },
  };
}

function shouldAutomount(sa: KubeObject, podSpec: Obj): boolean {
  if (typeof podSpec.automountServiceAccountToken === 'boolean') return podSpec.automountServiceAccountToken;
  if (typeof sa.automountServiceAccountToken === 'boolean') return sa.automountServiceAccountToken;
  return true;
}

function mountToken(podSpec: Obj): void {
  const volumes = recs(podSpec.volumes);
  const taken = new Set(volumes.map((v) => str(v.name)));
  let name = generateName(SERVICE_ACCOUNT_VOLUME_PREFIX);
  while (taken.has(name)) name = generateName(SERVICE_ACCOUNT_VOLUME_PREFIX);
  let needed = false;
  for (const key of ['initContainers', 'containers']) {
    for (const c of recs(podSpec[key])) {
      const mounts = recs(c.volumeMounts);
      if (mounts.some((m) => m.mountPath === DEFAULT_API_TOKEN_MOUNT_PATH)) continue;
      c.volumeMounts = [...mounts, { name, readOnly: true, mountPath: DEFAULT_API_TOKEN_MOUNT_PATH }];
      needed = true;
    }
  }
  if (needed) podSpec.volumes = [...volumes, tokenVolume(name)];
}

/** Every Secret name a pod refers to, with where (for the mountable-secrets message). */
function referencedSecrets(podSpec: Obj): { name: string; problem: (sa: string) => string }[] {
  const out: { name: string; problem: (sa: string) => string }[] = [];
  for (const v of recs(podSpec.volumes)) {
    const secret = rec(v.secret);
    if (secret) {
      const name = str(secret.secretName);
      out.push({
        name,
        problem: (sa) =>
          `volume with secret.secretName="${name}" is not allowed because service account ${sa} does not reference that secret`,
      });
    }
  }
  for (const key of ['initContainers', 'containers']) {
    const label = key === 'initContainers' ? 'init container' : 'container';
    for (const c of recs(podSpec[key])) {
      for (const e of recs(c.envFrom)) {
        const ref = rec(e.secretRef);
        if (ref) {
          const name = str(ref.name);
          out.push({
            name,
            problem: (sa) =>
              `${label} ${str(c.name)} with envFrom referencing secret.secretName="${name}" is not allowed because service account ${sa} does not reference that secret`,
          });
        }
      }
      for (const e of recs(c.env)) {
        const ref = rec(rec(e.valueFrom)?.secretKeyRef);
        if (ref) {
          const name = str(ref.name);
          out.push({
            name,
            problem: (sa) =>
              `${label} ${str(c.name)} with envVar ${str(e.name)} referencing secret.secretName="${name}" is not allowed because service account ${sa} does not reference that secret`,
          });
        }
      }
    }
  }
  return out;
}

export function serviceAccountPlugin(
  access: ObjectAccess,
  opts: ServiceAccountPluginOptions = {},
): AdmissionPlugin {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const defaultAttempts = opts.defaultAttempts ?? 10;

  /** The account, waiting a little for `default` (its controller creates it with the namespace). */
  const lookup = async (namespace: string, name: string): Promise<KubeObject> => {
    const attempts = name === DEFAULT_SERVICE_ACCOUNT ? defaultAttempts : 1;
    const interval = 100 + Math.floor(Math.random() * 100);
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(interval);
      const sa = await access.get('', 'ServiceAccount', namespace, name);
      if (sa) return sa;
    }
    throw notFound({ group: '', resource: 'serviceaccount' }, name);
  };

  const lookupOrForbid = async (req: AdmissionRequest, name: string): Promise<KubeObject> => {
    try {
      return await lookup(req.namespace, name);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw podForbidden(req, `error looking up service account ${req.namespace}/${name}: ${why}`);
    }
  };

  return {
    name: SERVICE_ACCOUNT_PLUGIN,
    async admit(req) {
      if (!isPodRequest(req) || req.operation !== 'CREATE' || !req.object) return;
      const pod = req.object;
      if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
      const podSpec = child(pod, 'spec');
      if (str(podSpec.serviceAccountName) === '') podSpec.serviceAccountName = DEFAULT_SERVICE_ACCOUNT;
      const saName = str(podSpec.serviceAccountName);
      // The deprecated spelling always mirrors the current one in what is served.
      podSpec.serviceAccount = saName;
      const sa = await lookupOrForbid(req, saName);
      if (shouldAutomount(sa, podSpec)) mountToken(podSpec);
      if (arr(podSpec.imagePullSecrets).length === 0) {
        const pulls = recs(sa.imagePullSecrets).map((s) => ({ name: str(s.name) }));
        if (pulls.length > 0) podSpec.imagePullSecrets = pulls;
      }
    },
    async validate(req) {
      if (!isPodRequest(req) || req.operation !== 'CREATE' || !req.object) return;
      const pod = req.object;
      const podSpec = child(pod, 'spec');
      if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) {
        if (str(podSpec.serviceAccountName) !== '')
          throw podForbidden(req, 'a mirror pod may not reference service accounts');
        if (referencedSecrets(podSpec).length > 0 || arr(podSpec.imagePullSecrets).length > 0)
          throw podForbidden(req, 'a mirror pod may not reference secrets');
        for (const v of recs(podSpec.volumes))
          for (const src of recs(rec(v.projected)?.sources))
            if (src.serviceAccountToken)
              throw podForbidden(req, 'a mirror pod may not use ServiceAccountToken volume projections');
        return;
      }
      const saName = str(podSpec.serviceAccountName);
      if (saName === '')
        throw podForbidden(req, `no service account specified for pod ${req.namespace}/${req.name}`);
      const sa = await lookupOrForbid(req, saName);
      if (sa.metadata.annotations?.[ENFORCE_MOUNTABLE_SECRETS] !== 'true') return;
      const mountable = new Set(recs(sa.secrets).map((s) => str(s.name)));
      for (const ref of referencedSecrets(podSpec))
        if (!mountable.has(ref.name)) throw podForbidden(req, ref.problem(saName));
      const pullable = new Set(recs(sa.imagePullSecrets).map((s) => str(s.name)));
      recs(podSpec.imagePullSecrets).forEach((p, i) => {
        if (!pullable.has(str(p.name)))
          throw podForbidden(
            req,
            `imagePullSecrets[${i}].name="${str(p.name)}" is not allowed because service account ${saName} does not reference that imagePullSecret`,
          );
      });
    },
  };
}
