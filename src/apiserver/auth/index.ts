// Authentication and authorization for the API server, assembled the way kube-apiserver does with
// k3s' defaults: client certificates, a static token file, ServiceAccount tokens and bootstrap tokens;
// system:masters, then RBAC.
import type { IncomingMessage } from 'node:http';
import type { KubeObject } from '../../api/meta.js';
import { unauthorized } from '../../api/errors.js';
import type { KeyPairPem } from '../../pki/certs.js';
import {
  type Authenticator,
  type TokenAuthenticator,
  bootstrapTokenAuthenticator,
  createAuthenticator,
  loadTokenFile,
  serviceAccountTokenAuthenticator,
} from './authn.js';
import { type RbacAuthorizer, type RbacLister, createRbacAuthorizer } from './rbac.js';
import {
  DEFAULT_ISSUER,
  type TokenSigner,
  createTokenSigner,
  jwks,
  openIdConfiguration,
} from './serviceaccount-token.js';
import { createTokenRequest } from './token-request.js';
import type { AuthorizationDecision, MaybePromise, RequestAttributes, UserInfo } from './types.js';

export * from './authn.js';
export * from './bootstrap-policy.js';
export * from './rbac.js';
export * from './serviceaccount-token.js';
export * from './token-request.js';
export * from './types.js';

type Getter = (namespace: string, name: string) => MaybePromise<KubeObject | undefined>;

export interface ClusterAuthOptions {
  /** The service-account key pair (ClusterPki.serviceAccountKey). */
  readonly serviceAccountKey: KeyPairPem;
  /** --service-account-issuer (k3s' default https://kubernetes.default.svc.cluster.local). */
  readonly issuer?: string;
  /** --api-audiences; defaults to the issuer. */
  readonly apiAudiences?: readonly string[];
  /** More keys whose tokens stay valid (rotation). */
  readonly extraPublicKeys?: readonly string[];
  /** --token-auth-file. */
  readonly tokenAuthFile?: string;
  /** --anonymous-auth (default true). */
  readonly anonymous?: boolean;
  /** --service-account-max-token-expiration in seconds. */
  readonly maxTokenExpirationSeconds?: number;
  readonly getSecret: Getter;
  readonly getServiceAccount: Getter;
  readonly getPod: Getter;
  getNode(name: string): MaybePromise<KubeObject | undefined>;
  readonly rbac: RbacLister;
}

export interface ClusterAuth {
  readonly authenticator: Authenticator;
  readonly authorizer: RbacAuthorizer;
  readonly signer: TokenSigner;
  readonly issuer: string;
  readonly apiAudiences: readonly string[];
  /** The API server's authentication hook: undefined means 401. */
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined>;
  /** The API server's authorization hook. */
  authorize(attrs: RequestAttributes): Promise<AuthorizationDecision>;
  /** POST serviceaccounts/NAME/token. */
  tokenRequest(serviceAccount: KubeObject, request: KubeObject): Promise<KubeObject>;
  /** GET /openid/v1/jwks. */
  jwks(): { keys: Record<string, unknown>[] };
  /** GET /.well-known/openid-configuration. */
  openIdConfiguration(jwksUri: string): Record<string, unknown>;
}

export async function createClusterAuth(opts: ClusterAuthOptions): Promise<ClusterAuth> {
  const issuer = opts.issuer ?? DEFAULT_ISSUER;
  const apiAudiences = opts.apiAudiences && opts.apiAudiences.length > 0 ? [...opts.apiAudiences] : [issuer];
  const publicKeys = [opts.serviceAccountKey.publicKeyPem, ...(opts.extraPublicKeys ?? [])];
  const signer = createTokenSigner(opts.serviceAccountKey.privateKeyPem);
  const tokenAuthenticators: TokenAuthenticator[] = [];
  if (opts.tokenAuthFile) tokenAuthenticators.push(await loadTokenFile(opts.tokenAuthFile));
  tokenAuthenticators.push(
    serviceAccountTokenAuthenticator({
      issuers: [issuer],
      publicKeys,
      audiences: apiAudiences,
      getters: {
        getServiceAccount: opts.getServiceAccount,
        getSecret: opts.getSecret,
        getPod: opts.getPod,
        getNode: (name) => opts.getNode(name),
      },
    }),
  );
  tokenAuthenticators.push(bootstrapTokenAuthenticator(opts.getSecret));
  const authenticator = createAuthenticator({ tokenAuthenticators, anonymous: opts.anonymous ?? true });
  const authorizer = createRbacAuthorizer(opts.rbac);
  return {
    authenticator,
    authorizer,
    signer,
    issuer,
    apiAudiences,
    // Credentials that are presented but fail (an unknown token, a certificate from another CA) get
    // 401, as kube-apiserver answers; only a request with none becomes system:anonymous.
    authenticate: async (req) => {
      const outcome = await authenticator.authenticateRequest(req);
      if (outcome.user) return outcome.user;
      throw unauthorized();
    },
    authorize: (attrs) => authorizer.authorize(attrs),
    tokenRequest: (sa, req) =>
      createTokenRequest(
        {
          signer,
          issuer,
          apiAudiences,
          maxExpirationSeconds: opts.maxTokenExpirationSeconds,
          getPod: opts.getPod,
          getSecret: opts.getSecret,
          getNode: (name) => opts.getNode(name),
        },
        sa,
        req,
      ),
    jwks: () => jwks(publicKeys),
    openIdConfiguration: (jwksUri) => openIdConfiguration(issuer, jwksUri, publicKeys),
  };
}
