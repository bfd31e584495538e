// POST .../namespaces/NS/serviceaccounts/NAME/token (authentication.k8s.io/v1 TokenRequest) and
// the TokenReview create handler: the two API faces of ServiceAccount tokens. Signing and checking
// are the authentication module's; this file reads the request, finds the ServiceAccount and
// answers in upstream's shapes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, fieldErr, invalid, methodNotSupported, notFound, StatusError } from '../api/errors.js';
import type { KubeObject } from '../api/meta.js';
import { isPlainObject } from '../api/meta.js';
import type { ResourceDescription } from '../api/types.js';
import type { Store } from '../storage/types.js';
import { decodeObjectBody, readBody } from './body.js';
import type { ExtraSubresource } from './discovery.js';
import type { RequestInfo, UserInfo } from './request-info.js';
import { storageKey } from './resource-registry.js';
import type { CreateHandler } from './reviews.js';

export const TOKEN_SUBRESOURCE: ExtraSubresource = {
  group: '',
  version: 'v1',
  resource: 'serviceaccounts',
  subresource: 'token',
  kind: 'TokenRequest',
  verbs: ['create'],
  responseGroup: 'authentication.k8s.io',
  responseVersion: 'v1',
};

export interface TokenSubresourceOptions {
  readonly store: Store;
  tokenRequest(serviceAccount: KubeObject, request: KubeObject): Promise<KubeObject>;
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.end(JSON.stringify(body));
}

/**
 * A subresource handler for serviceaccounts/token: returns false for any other subresource so the
 * server's other handlers (or its 404) get it.
 */
export function tokenSubresourceHandler(
  opts: TokenSubresourceOptions,
): (
  info: RequestInfo,
  desc: ResourceDescription,
  req: IncomingMessage,
  res: ServerResponse,
  user: UserInfo,
) => Promise<boolean> {
  return async (info, desc, req, res) => {
    if (desc.group !== '' || desc.plural !== 'serviceaccounts' || info.subresource !== 'token') return false;
    try {
      if (info.verb !== 'create' || req.method !== 'POST')
        throw methodNotSupported({ group: '', resource: 'serviceaccounts/token' }, info.verb);
      const raw = await readBody(req);
      let body: unknown = {};
      if (raw.length > 0)
        body = decodeObjectBody(
          raw,
          req.headers['content-type'] || 'application/json',
          () => 'k8s.io.api.authentication.v1.TokenRequest',
        ).value;
      if (!isPlainObject(body)) throw badRequest('the body of the request was not an object');
      const request = body as KubeObject;
      if (request.kind !== undefined && request.kind !== '' && request.kind !== 'TokenRequest')
        throw badRequest(`${String(request.kind)} is not a TokenRequest`);
      request.metadata = isPlainObject(request.metadata) ? request.metadata : {};
      const meta = request.metadata;
      if (meta.name && meta.name !== info.name)
        throw invalid('TokenRequest', 'authentication.k8s.io', meta.name, [
          fieldErr.invalid('metadata.name', meta.name, 'must match the service account name if specified'),
        ]);
      if (meta.namespace && meta.namespace !== info.namespace)
        throw invalid('TokenRequest', 'authentication.k8s.io', meta.name ?? '', [
          fieldErr.invalid(
            'metadata.namespace',
            meta.namespace,
            'must match the service account namespace if specified',
          ),
        ]);
      const kv = await opts.store.get(storageKey(desc, info.namespace, info.name));
      if (!kv) throw notFound({ group: '', resource: 'serviceaccounts' }, info.name);
      const sa = JSON.parse(kv.value) as KubeObject;
      const answer = await opts.tokenRequest(sa, request);
      sendJson(res, 201, answer);
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
      sendJson(res, err.code, err.status);
    }
    return true;
  };
}

export interface TokenAuthenticatorLike {
  authenticateToken(
    token: string,
    audiences?: readonly string[],
  ): Promise<
    | { readonly ok: true; readonly user: UserInfo; readonly audiences?: readonly string[] }
    | { readonly ok: false; readonly error?: string }
  >;
}

/** TokenReview: who a token belongs to, for the audiences asked (the API server's by default). */
export function tokenReviewHandler(
  authn: TokenAuthenticatorLike,
  apiAudiences: readonly string[],
): CreateHandler {
  return async (obj) => {
    const spec = isPlainObject(obj.spec) ? obj.spec : {};
    const token = typeof spec.token === 'string' ? spec.token : '';
    if (token === '') throw badRequest('token is required for TokenReview in authentication');
    const asked = Array.isArray(spec.audiences)
      ? spec.audiences.filter((a): a is string => typeof a === 'string')
      : [];
    const result = await authn.authenticateToken(token, asked.length > 0 ? asked : undefined);
    const status: Record<string, unknown> = {};
    if (result.ok) {
      status.authenticated = true;
      const user: Record<string, unknown> = { username: result.user.name };
      if (result.user.uid) user.uid = result.user.uid;
      if (result.user.groups.length) user.groups = [...result.user.groups];
      if (result.user.extra && Object.keys(result.user.extra).length) user.extra = result.user.extra;
      status.user = user;
      status.audiences = [...(result.audiences ?? (asked.length > 0 ? asked : apiAudiences))];
    } else {
      status.user = {};
      if (result.error) status.error = result.error;
    }
    const metadata = { ...obj.metadata, creationTimestamp: null } as KubeObject['metadata'];
    return { ...obj, apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata, status };
  };
}
