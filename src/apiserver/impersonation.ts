// User impersonation (Impersonate-User, Impersonate-Group, Impersonate-Uid, Impersonate-Extra-*):
// each thing asked for must be authorized with the `impersonate` verb for the real caller, then
// the request carries on as the impersonated user, as upstream's WithImpersonation filter does.
import type { IncomingMessage } from 'node:http';
import type { AuthorizationDecision, RequestAttributes, UserInfo } from './request-info.js';

const SA_PREFIX = 'system:serviceaccount:';
const ALL_AUTHENTICATED = 'system:authenticated';
const ALL_UNAUTHENTICATED = 'system:unauthenticated';
const ANONYMOUS = 'system:anonymous';
const EXTRA_PREFIX = 'impersonate-extra-';

/** Refused: the attributes that were denied and why (rendered as upstream's 403). */
export class ImpersonationDenied extends Error {
  constructor(
    readonly attributes: RequestAttributes,
    readonly reason: string | undefined,
  ) {
    super('impersonation denied');
  }
}

/** Groups, uid or extras without a user: upstream answers 500 with this text. */
export class ImpersonationMalformed extends Error {}

function values(req: IncomingMessage, name: string): string[] {
  const v = req.headersDistinct[name];
  return (v ?? []).filter((s) => s !== '');
}

function decodeExtraKey(raw: string): string {
  try {
    return decodeURIComponent(raw).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

export function hasImpersonation(req: IncomingMessage): boolean {
  return Object.keys(req.headers).some((h) => h.startsWith('impersonate-'));
}

/** The user to act as, after checking that `requestor` may impersonate everything asked for. */
export async function impersonatedUser(
  req: IncomingMessage,
  requestor: UserInfo,
  authorize: (attrs: RequestAttributes) => Promise<AuthorizationDecision>,
): Promise<UserInfo> {
  const userName = values(req, 'impersonate-user')[0] ?? '';
  const groups = values(req, 'impersonate-group');
  const uid = values(req, 'impersonate-uid')[0] ?? '';
  const extra: Record<string, string[]> = {};
  for (const h of Object.keys(req.headers)) {
    if (!h.startsWith(EXTRA_PREFIX)) continue;
    const key = decodeExtraKey(h.slice(EXTRA_PREFIX.length));
    extra[key] = [...(extra[key] ?? []), ...values(req, h)];
  }
  if (userName === '') {
    if (groups.length > 0 || uid !== '' || Object.keys(extra).length > 0)
      throw new ImpersonationMalformed('requested groups, uid or user extra without impersonating a user');
    return requestor;
  }
  const base = {
    user: requestor,
    verb: 'impersonate',
    isResourceRequest: true,
    path: req.url ?? '',
    apiVersion: '',
    subresource: '',
    namespace: '',
  };
  const checks: RequestAttributes[] = [];
  let outGroups = [...groups];
  if (userName.startsWith(SA_PREFIX) && userName.slice(SA_PREFIX.length).split(':').length === 2) {
    const [ns, name] = userName.slice(SA_PREFIX.length).split(':') as [string, string];
    checks.push({ ...base, apiGroup: '', resource: 'serviceaccounts', namespace: ns, name });
    if (groups.length === 0) outGroups = ['system:serviceaccounts', `system:serviceaccounts:${ns}`];
  } else checks.push({ ...base, apiGroup: '', resource: 'users', name: userName });
  for (const g of groups) checks.push({ ...base, apiGroup: '', resource: 'groups', name: g });
  if (uid !== '') checks.push({ ...base, apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid });
  for (const [key, vals] of Object.entries(extra))
    for (const v of vals)
      checks.push({
        ...base,
        apiGroup: 'authentication.k8s.io',
        resource: 'userextras',
        subresource: key,
        name: v,
      });
  for (const attrs of checks) {
    const d = await authorize(attrs);
    if (!d.allowed) throw new ImpersonationDenied(attrs, d.reason);
  }
  if (userName !== ANONYMOUS) {
    if (!outGroups.includes(ALL_AUTHENTICATED) && !outGroups.includes(ALL_UNAUTHENTICATED))
      outGroups.push(ALL_AUTHENTICATED);
  } else if (!outGroups.includes(ALL_UNAUTHENTICATED)) outGroups.push(ALL_UNAUTHENTICATED);
  const user: UserInfo = { name: userName, groups: outGroups };
  return {
    ...user,
    ...(uid !== '' ? { uid } : {}),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}

/** Drops the impersonation headers once they have been acted on. */
export function stripImpersonationHeaders(req: IncomingMessage): void {
  for (const h of Object.keys(req.headers)) if (h.startsWith('impersonate-')) delete req.headers[h];
}
