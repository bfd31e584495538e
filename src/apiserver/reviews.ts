// Create-only kinds that are answered, never stored: the access reviews (answered by the
// authorizer hook), SelfSubjectReview (the caller's own identity) and TokenReview (answered by a
// handler the authentication module supplies). Any kind can be given such a handler.
import type { IncomingMessage } from 'node:http';
import type { KubeObject } from '../api/meta.js';
import { isPlainObject } from '../api/meta.js';
import type { ResourceDescription } from '../api/types.js';
import type { AuthorizationDecision, RequestAttributes, UserInfo } from './request-info.js';

export interface CreateHandlerContext {
  readonly user: UserInfo;
  readonly namespace: string;
  readonly desc: ResourceDescription;
  readonly req: IncomingMessage;
}

/** Answers a create of a never-stored kind: returns the object to send back (status filled in). */
export type CreateHandler = (obj: KubeObject, ctx: CreateHandlerContext) => Promise<KubeObject>;

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function attributesFromSpec(
  spec: Record<string, unknown>,
  user: UserInfo,
  namespaceOverride?: string,
): RequestAttributes {
  const ra = isPlainObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nra = isPlainObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if (ra) {
    return {
      user,
      verb: str(ra.verb),
      isResourceRequest: true,
      path: '',
      apiGroup: str(ra.group),
      apiVersion: str(ra.version),
      resource: str(ra.resource),
      subresource: str(ra.subresource),
      namespace: namespaceOverride ?? str(ra.namespace),
      name: str(ra.name),
    };
  }
  return {
    user,
    verb: str(nra?.verb),
    isResourceRequest: false,
    path: str(nra?.path),
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
  };
}

function userFromSpec(spec: Record<string, unknown>): UserInfo {
  const extra: Record<string, readonly string[]> = {};
  if (isPlainObject(spec.extra))
    for (const [k, v] of Object.entries(spec.extra)) if (Array.isArray(v)) extra[k] = v.map(String);
  return {
    name: str(spec.user),
    uid: str(spec.uid) || undefined,
    groups: Array.isArray(spec.groups) ? spec.groups.map(String) : [],
    extra,
  };
}

/** The default handlers for authorization.k8s.io and authentication.k8s.io review kinds. */
export function defaultCreateHandlers(
  authorize: ((attrs: RequestAttributes) => Promise<AuthorizationDecision>) | undefined,
): Record<string, CreateHandler> {
  const decide = async (attrs: RequestAttributes): Promise<AuthorizationDecision> =>
    authorize ? authorize(attrs) : { allowed: true, reason: '' };
  const answer = async (obj: KubeObject, user: UserInfo, ns?: string): Promise<KubeObject> => {
    const spec = isPlainObject(obj.spec) ? obj.spec : {};
    const d = await decide(attributesFromSpec(spec, user, ns));
    const status: Record<string, unknown> = { allowed: d.allowed };
    if (d.reason) status.reason = d.reason;
    return { ...obj, status };
  };
  return {
    'authorization.k8s.io/SelfSubjectAccessReview': (obj, ctx) => answer(obj, ctx.user),
    'authorization.k8s.io/SubjectAccessReview': (obj) =>
      answer(obj, userFromSpec(isPlainObject(obj.spec) ? obj.spec : {})),
    'authorization.k8s.io/LocalSubjectAccessReview': (obj, ctx) =>
      answer(obj, userFromSpec(isPlainObject(obj.spec) ? obj.spec : {}), ctx.namespace),
    'authorization.k8s.io/SelfSubjectRulesReview': (obj) =>
      Promise.resolve({
        ...obj,
        status: {
          resourceRules: [],
          nonResourceRules: [],
          incomplete: true,
          evaluationError: 'rules review is not supported by this authorizer',
        },
      }),
    'authentication.k8s.io/SelfSubjectReview': (obj, ctx) => {
      const userInfo: Record<string, unknown> = { username: ctx.user.name, groups: [...ctx.user.groups] };
      if (ctx.user.uid) userInfo.uid = ctx.user.uid;
      if (ctx.user.extra && Object.keys(ctx.user.extra).length) userInfo.extra = ctx.user.extra;
      return Promise.resolve({ ...obj, status: { userInfo } });
    },
  };
}
