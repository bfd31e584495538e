// Who is asking and what they ask for: the inputs of authentication, authorization, admission,
// metrics and audit. Mirrors upstream's RequestInfo (k8s.io/apiserver/pkg/endpoints/request):
// the same path grammar, the same verb names, the same handling of namespaces' own subresources.

/** The authenticated caller. */
export interface UserInfo {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export const ANONYMOUS_USER: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** What authorization decides on (upstream's authorizer.Attributes). */
export interface RequestAttributes {
  readonly user: UserInfo;
  /**
   * Resource requests: get, list, watch, create, update, patch, delete, deletecollection.
   * Non-resource requests: the HTTP method lowercased (get, post, put, patch, delete, head, options).
   */
  readonly verb: string;
  readonly isResourceRequest: boolean;
  /** The request path as received, without the query. */
  readonly path: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
}

export interface AuthorizationDecision {
  readonly allowed: boolean;
  readonly reason?: string;
}

/** Parsed URL of a request (everything in RequestAttributes except the user). */
export type RequestInfo = Omit<RequestAttributes, 'user'> & {
  /** /api or /apis prefix seen (discovery requests have it too, with no resource). */
  readonly apiPrefix: '' | 'api' | 'apis';
  /** True for the legacy /watch/ path form. */
  readonly legacyWatch: boolean;
  /** Path segments after the name's subresource (proxy paths); empty normally. */
  readonly extraParts: readonly string[];
};

/** Subresources of a namespace addressed as /api/v1/namespaces/NAME/SUB. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '');
}

/**
 * Derives the request info from method, path and the parsed query, as upstream's RequestInfoFactory does.
 * Paths outside /api and /apis, and discovery paths, are non-resource requests.
 */
export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const lowerMethod = method.toLowerCase();
  const nonResource: RequestInfo = {
    verb: lowerMethod,
    isResourceRequest: false,
    path,
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
    apiPrefix: '',
    legacyWatch: false,
    extraParts: [],
  };
  let parts: string[];
  try {
    parts = splitPath(path).map((p) => decodeURIComponent(p));
  } catch {
    return nonResource;
  }
  const prefix = parts[0];
  if (prefix !== 'api' && prefix !== 'apis') return nonResource;
  let rest = parts.slice(1);
  let apiGroup = '';
  if (prefix === 'apis') {
    if (rest.length < 2) return { ...nonResource, apiPrefix: prefix, apiGroup: rest[0] ?? '' };
    apiGroup = rest[0]!;
    rest = rest.slice(1);
  } else if (rest.length < 1) {
    return { ...nonResource, apiPrefix: prefix };
  }
  const apiVersion = rest[0]!;
  rest = rest.slice(1);
  if (rest.length === 0) return { ...nonResource, apiPrefix: prefix, apiGroup, apiVersion };

  let verb: string;
  switch (lowerMethod) {
    case 'post':
      verb = 'create';
      break;
    case 'get':
    case 'head':
      verb = 'get';
      break;
    case 'put':
      verb = 'update';
      break;
    case 'patch':
      verb = 'patch';
      break;
    case 'delete':
      verb = 'delete';
      break;
    default:
      verb = '';
  }
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    verb = 'watch';
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      namespace = rest[1]!;
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
    }
  }
  const resource = rest[0] ?? '';
  const name = rest[1] ?? '';
  const subresource = rest[2] ?? '';
  const extraParts = rest.slice(3);
  if (resource === 'namespaces' && namespace === '' && name !== '') namespace = name;

  if (verb === 'get' && name === '') {
    const w = query.get('watch');
    verb = w === 'true' || w === '1' ? 'watch' : 'list';
  } else if (verb === 'delete' && name === '') {
    verb = 'deletecollection';
  }
  return {
    verb,
    isResourceRequest: true,
    path,
    apiGroup,
    apiVersion,
    resource,
    subresource,
    namespace,
    name,
    apiPrefix: prefix,
    legacyWatch,
    extraParts,
  };
}
