// The serviceaccounts/token subresource (authentication.k8s.io/v1 TokenRequest), as upstream's
// TokenREST: validate the request, resolve the object the token is bound to (Pod, Secret or Node,
// checking its UID), default the audiences to the API server's, sign, and return the request with
// status.token and status.expirationTimestamp filled in.
import { badRequest, conflict, fieldErr, invalid, notFound } from '../../api/errors.js';
import type { KubeObject } from '../../api/meta.js';
import { isPlainObject } from '../../api/meta.js';
import {
  type BoundObjectRef,
  DEFAULT_EXPIRATION_SECONDS,
  MIN_EXPIRATION_SECONDS,
  type ObjectRef,
  type TokenSigner,
  issueServiceAccountToken,
} from './serviceaccount-token.js';
import type { MaybePromise } from './types.js';

const MAX_EXPIRATION_SECONDS = 2 ** 32;

export interface TokenRequestContext {
  readonly signer: TokenSigner;
  readonly issuer: string;
  /** --api-audiences: used when the request names none. */
  readonly apiAudiences: readonly string[];
  /** --service-account-max-token-expiration; longer requests are shortened to it. */
  readonly maxExpirationSeconds?: number;
  getPod(namespace: string, name: string): MaybePromise<KubeObject | undefined>;
  getSecret(namespace: string, name: string): MaybePromise<KubeObject | undefined>;
  getNode(name: string): MaybePromise<KubeObject | undefined>;
  readonly now?: () => Date;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Handles POST .../serviceaccounts/NAME/token for an existing ServiceAccount. Throws StatusErrors in
 * upstream's form (Invalid, BadRequest, NotFound, Conflict).
 */
export async function createTokenRequest(
  ctx: TokenRequestContext,
  serviceAccount: KubeObject,
  request: KubeObject,
): Promise<KubeObject> {
  const namespace = serviceAccount.metadata.namespace ?? '';
  const saName = serviceAccount.metadata.name ?? '';
  const spec = isPlainObject(request['spec']) ? request['spec'] : {};
  let expirationSeconds = DEFAULT_EXPIRATION_SECONDS;
  if (spec['expirationSeconds'] !== undefined && spec['expirationSeconds'] !== null) {
    expirationSeconds = Number(spec['expirationSeconds']);
  }
  if (!Number.isInteger(expirationSeconds) || expirationSeconds < MIN_EXPIRATION_SECONDS) {
    throw invalid('TokenRequest', 'authentication.k8s.io', saName, [
      fieldErr.invalid(
        'spec.expirationSeconds',
        expirationSeconds,
        'may not specify a duration less than 10 minutes',
      ),
    ]);
  }
  if (expirationSeconds > MAX_EXPIRATION_SECONDS) {
    throw invalid('TokenRequest', 'authentication.k8s.io', saName, [
      fieldErr.invalid(
        'spec.expirationSeconds',
        expirationSeconds,
        'may not specify a duration larger than 2^32 seconds',
      ),
    ]);
  }
  if (ctx.maxExpirationSeconds && expirationSeconds > ctx.maxExpirationSeconds) {
    expirationSeconds = ctx.maxExpirationSeconds;
  }

  let bound: BoundObjectRef | undefined;
  let node: ObjectRef | undefined;
  const ref = spec['boundObjectRef'];
  if (isPlainObject(ref)) {
    const kind = str(ref['kind']);
    const apiVersion = str(ref['apiVersion']);
    const name = str(ref['name']);
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    let uid = '';
    if (group === '' && kind === 'Pod') {
      const pod = await ctx.getPod(namespace, name);
      if (!pod) throw notFound({ group: '', resource: 'pods' }, name);
      const podSpec = isPlainObject(pod['spec']) ? pod['spec'] : {};
      const podSa = str(podSpec['serviceAccountName']);
      if (podSa !== saName) {
        throw badRequest(
          `cannot bind token for serviceaccount "${saName}" to pod running with serviceaccount "${podSa}"`,
        );
      }
      uid = pod.metadata.uid ?? '';
      bound = { kind: 'Pod', name, uid };
      const nodeName = str(podSpec['nodeName']);
      if (nodeName) {
        const n = await ctx.getNode(nodeName);
        if (n) node = { name: nodeName, uid: n.metadata.uid ?? '' };
      }
    } else if (group === '' && kind === 'Secret') {
      const secret = await ctx.getSecret(namespace, name);
      if (!secret) throw notFound({ group: '', resource: 'secrets' }, name);
      uid = secret.metadata.uid ?? '';
      bound = { kind: 'Secret', name, uid };
    } else if (group === '' && kind === 'Node') {
      const n = await ctx.getNode(name);
      if (!n) throw notFound({ group: '', resource: 'nodes' }, name);
      uid = n.metadata.uid ?? '';
      bound = { kind: 'Node', name, uid };
    } else {
      const gvk = group
        ? `${group}/${apiVersion.slice(group.length + 1)}, Kind=${kind}`
        : `/${apiVersion}, Kind=${kind}`;
      throw badRequest(`cannot bind token to object of type ${gvk}`);
    }
    const wantUid = str(ref['uid']);
    if (wantUid !== '' && wantUid !== uid) {
      throw conflict(
        { group, resource: kind },
        name,
        `the UID in the bound object reference (${wantUid}) does not match the UID in record (${uid}). The object might have been deleted and then recreated`,
      );
    }
  }

  const requested = Array.isArray(spec['audiences'])
    ? spec['audiences'].filter((a): a is string => typeof a === 'string')
    : [];
  const audiences = requested.length > 0 ? requested : [...ctx.apiAudiences];
  const issued = issueServiceAccountToken(ctx.signer, {
    issuer: ctx.issuer,
    serviceAccount: { namespace, name: saName, uid: serviceAccount.metadata.uid ?? '' },
    audiences,
    expirationSeconds,
    boundObject: bound,
    node,
    now: ctx.now?.(),
  });

  const outSpec: Record<string, unknown> = { audiences, expirationSeconds };
  if (isPlainObject(ref)) outSpec['boundObjectRef'] = ref;
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: { ...request.metadata, name: saName, namespace, creationTimestamp: null },
    spec: outSpec,
    status: { token: issued.token, expirationTimestamp: issued.expirationTimestamp },
  };
}
