// The API server: HTTP(S) listener, routing, authentication/authorization hooks, health, version,
// metrics, discovery, OpenAPI and the generic REST handlers for every registered resource.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { chmodSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { StatusError, internalError, notAcceptable, forbidden, type Status } from '../api/errors.js';
import type { SchemaRegistry } from '../api/schema.js';
import type { ResourceDescription } from '../api/types.js';
import type { Store } from '../storage/types.js';
import { createLogger } from '../util/log.js';
import { metrics, type MetricFamily } from '../util/metrics.js';
import type { AdmissionPlugin } from './admission.js';
import { readBody, MAX_REQUEST_BODY_BYTES } from './body.js';
import { bootstrapDefaults, firstServiceIP } from './bootstrap.js';
import { DiscoveryCache, type CachedDoc, type ExtraSubresource } from './discovery.js';
import { OPENAPI_V2_PROTOBUF_CONTENT_TYPE, OPENAPI_V2_PROTOBUF_TYPES, OpenApiCache } from './openapi.js';
import {
  ANONYMOUS_USER,
  parseRequestInfo,
  type AuthorizationDecision,
  type RequestAttributes,
  type RequestInfo,
  type UserInfo,
} from './request-info.js';
import { ResourceRegistry } from './resource-registry.js';
import {
  hasImpersonation,
  impersonatedUser,
  ImpersonationDenied,
  ImpersonationMalformed,
  stripImpersonationHeaders,
} from './impersonation.js';
import { notFoundResource, RestHandler, type Reply } from './rest.js';
import { parseAccept } from './table.js';
import { WatchCache } from './watch-cache.js';
import type { VirtualResource } from './virtual-resource.js';
import { defaultCreateHandlers, type CreateHandler } from './reviews.js';
import { DEFAULT_SERVICE_CIDR, ServiceAllocator, type Allocator } from './service-allocator.js';
import { CrdController } from './crd/controller.js';
import { addServedVersionDefinitions } from '../api/kinds/served-version-schemas.js';

const log = createLogger('apiserver');
const requestCounter = metrics.counter(
  'apiserver_request_total',
  'API requests by verb, resource and HTTP code.',
);
const requestDuration = metrics.histogram(
  'apiserver_request_duration_seconds',
  'API request latency by verb and resource.',
);
const inflight = metrics.gauge(
  'apiserver_current_inflight_requests',
  'Requests being served (watches excluded once streaming).',
);

export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-k8ts' } as const;

export interface TlsOptions {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** CA bundle for client certificates. */
  readonly ca?: string | Buffer;
  /** Ask clients for a certificate (verified against ca; authentication decides what it means). */
  readonly requestCert?: boolean;
}

export interface ApiServerOptions {
  readonly store: Store;
  readonly resources: readonly ResourceDescription[];
  readonly schemas: SchemaRegistry;
  /** HTTPS when present, plain HTTP otherwise. */
  readonly tls?: TlsOptions;
  /**
   * Also serve plain HTTP on this unix socket (created with mode 0600): the transport of the
   * API server's in-process components, which skips TLS on connections to their own process.
   */
  readonly unixSocketPath?: string;
  /** Listen address; default 127.0.0.1. */
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /**
   * Who is calling. Return undefined for an anonymous request (system:anonymous); throw a
   * StatusError (e.g. unauthorized()) to reject credentials that are present but wrong.
   */
  authenticate?(req: IncomingMessage): Promise<UserInfo | undefined>;
  /** May this user do this? Absent: everything is allowed. Not asked for health and version endpoints. */
  authorize?(attrs: RequestAttributes): Promise<AuthorizationDecision>;
  /** Admission plugins, or a factory given the store and the live resource registry. */
  readonly admission?:
    | readonly AdmissionPlugin[]
    | ((ctx: { readonly store: Store; readonly registry: ResourceRegistry }) => readonly AdmissionPlugin[]);
  /** Service CIDR; the `kubernetes` Service gets its first address. Default 10.96.0.0/12. */
  readonly serviceClusterIPRange?: string;
  /** Node ports for NodePort and LoadBalancer Services; default [30000, 32767]. */
  readonly serviceNodePortRange?: readonly [number, number];
  /** The address written into the `kubernetes` Endpoints; default the listen host (or 127.0.0.1). */
  readonly advertiseAddress?: string;
  /** Create default namespaces and the kubernetes Service at start (default true). */
  readonly bootstrap?: boolean;
  /** More start-up work once the server listens (the lead engineer's hook). */
  readonly postStart?: (server: ApiServer) => Promise<void>;
  /** Handler for extra subresources (pods/log, pods/exec …); return false to fall through to 404. */
  readonly subresourceHandler?: (
    info: RequestInfo,
    desc: ResourceDescription,
    req: IncomingMessage,
    res: ServerResponse,
    user: UserInfo,
  ) => Promise<boolean>;
  readonly extraSubresources?: readonly ExtraSubresource[];
  /**
   * Create-only kinds answered without storage, keyed 'group/Kind' (TokenReview from the
   * authentication module, for one). Defaults cover the access reviews (through `authorize`) and
   * SelfSubjectReview; entries here replace or add to them.
   */
  readonly createHandlers?: Readonly<Record<string, CreateHandler>>;
  /** Default 60 s (upstream sends bookmarks about once a minute). */
  readonly watchBookmarkIntervalMs?: number;
  /** Unsent bytes per watcher before it is closed; default 16 MiB. */
  readonly watchBufferLimitBytes?: number;
  readonly maxRequestBodyBytes?: number;
  /** Resources answered without storage (metrics.k8s.io): discovered and authorized like any other. */
  readonly virtualResources?: readonly VirtualResource[];
  /** More metrics for /metrics: those of components running in other threads of this process. */
  readonly extraMetrics?: () => Promise<readonly MetricFamily[]>;
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  readonly registry: ResourceRegistry;
  readonly httpServer: Server;
  addResource(desc: ResourceDescription): void;
  removeResource(group: string, version: string, plural: string): boolean;
  /** Announce an extra subresource in discovery (the handler is `subresourceHandler`). */
  addSubresource(e: ExtraSubresource): void;
  /** Forget cached OpenAPI documents (after changing schemas without adding a resource). */
  invalidateOpenApi(): void;
  close(): Promise<void>;
}

/**
 * A Warning header value as upstream writes it: the text Go-quoted (non-printable characters
 * escaped), sent as UTF-8 bytes (Node writes header strings as latin1, one byte per char).
 */
export function warningHeader(text: string): string {
  let quoted = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\') quoted += '\\\\';
    else if (ch === '"') quoted += '\\"';
    else if (cp < 0x20 || cp === 0x7f) quoted += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (/[\p{C}\p{Zl}\p{Zp}]/u.test(ch) || (cp > 0x7f && /\p{Zs}/u.test(ch)))
      quoted +=
        cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
    else quoted += ch;
  }
  return Buffer.from(`299 - "${quoted}"`, 'utf8').toString('latin1');
}

function statusBody(err: StatusError): Status {
  return err.status;
}

const HEALTH_PATHS = new Set(['/livez', '/readyz', '/healthz']);
const PUBLIC_PATHS = new Set(['/version', '/version/', '/livez', '/readyz', '/healthz']);

function isPublic(path: string): boolean {
  if (PUBLIC_PATHS.has(path)) return true;
  for (const h of HEALTH_PATHS) if (path.startsWith(`${h}/`)) return true;
  return false;
}

function wantsAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const r of parseAccept(accept)) {
    if (r.params.as === 'APIGroupDiscoveryList' && r.params.g === 'apidiscovery.k8s.io') {
      if (r.params.v === 'v2' || r.params.v === 'v2beta1') return r.params.v;
      continue;
    }
    if (r.type === 'application/json' || r.type === '*/*') return undefined;
  }
  return undefined;
}

export async function createApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const registry = new ResourceRegistry([
    ...opts.resources,
    ...(opts.virtualResources ?? []).map((v) => v.description),
  ]);
  const virtualResources = new Map(
    (opts.virtualResources ?? []).map((v) => [
      `${v.description.group}/${v.description.version}/${v.description.plural}`,
      v,
    ]),
  );
  const host = opts.host ?? '127.0.0.1';
  let boundPort = 0;
  const discovery = new DiscoveryCache(registry, () => `${opts.advertiseAddress ?? host}:${boundPort}`);
  for (const e of opts.extraSubresources ?? []) discovery.addSubresource(e);
  // Served by the REST handler itself (pod-subresources.ts) whenever pods are.
  if (registry.byKind('', 'Pod', 'v1')) {
    discovery.addSubresource({
      group: '',
      version: 'v1',
      resource: 'pods',
      subresource: 'binding',
      kind: 'Binding',
      verbs: ['create'],
    });
    discovery.addSubresource({
      group: '',
      version: 'v1',
      resource: 'pods',
      subresource: 'eviction',
      kind: 'Eviction',
      verbs: ['create'],
      responseGroup: 'policy',
      responseVersion: 'v1',
    });
  }
  for (const v of opts.virtualResources ?? [])
    for (const [name, schema] of Object.entries(v.definitions ?? {})) opts.schemas.set(name, schema);
  const openapi = new OpenApiCache(registry, opts.schemas, KUBERNETES_VERSION.gitVersion);
  const watchCache = new WatchCache(opts.store);
  const serviceCidr = opts.serviceClusterIPRange ?? DEFAULT_SERVICE_CIDR;
  const allocators: Record<string, Allocator> = {};
  const serviceDesc = registry.byKind('', 'Service', 'v1');
  if (serviceDesc)
    allocators['/Service'] = new ServiceAllocator(
      opts.store,
      serviceDesc,
      serviceCidr,
      opts.serviceNodePortRange,
    );
  const rest = new RestHandler({
    store: opts.store,
    registry,
    schemas: opts.schemas,
    admission:
      typeof opts.admission === 'function'
        ? opts.admission({ store: opts.store, registry })
        : (opts.admission ?? []),
    watchCache,
    bookmarkIntervalMs: opts.watchBookmarkIntervalMs ?? 60_000,
    watchBufferLimitBytes: opts.watchBufferLimitBytes ?? 16 * 1024 * 1024,
    allocators,
    createHandlers: { ...defaultCreateHandlers(opts.authorize?.bind(opts)), ...(opts.createHandlers ?? {}) },
  });
  const bodyLimit = opts.maxRequestBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  let ready = false;
  const sockets = new Set<Socket>();

  const send = (
    res: ServerResponse,
    status: number,
    body: string | Buffer,
    contentType: string,
    headers: Record<string, string | string[]> = {},
  ): void => {
    if (res.headersSent) {
      if (!res.writableEnded) res.end();
      return;
    }
    res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', ...headers });
    res.end(body);
  };

  const sendStatus = (res: ServerResponse, err: StatusError, warnings?: readonly string[]): void => {
    const headers: Record<string, string | string[]> = {};
    if (warnings?.length) headers.Warning = warnings.map(warningHeader);
    if (err.status.details?.retryAfterSeconds)
      headers['Retry-After'] = String(err.status.details.retryAfterSeconds);
    send(res, err.code, JSON.stringify(statusBody(err)), 'application/json', headers);
  };

  const sendDoc = (
    req: IncomingMessage,
    res: ServerResponse,
    doc: CachedDoc,
    contentType: string,
    extra: Record<string, string> = {},
  ): number => {
    if (req.headers['if-none-match'] === doc.etag) {
      res.writeHead(304, { ETag: doc.etag, Vary: 'Accept', ...extra });
      res.end();
      return 304;
    }
    send(res, 200, doc.body, contentType, { ETag: doc.etag, Vary: 'Accept', ...extra });
    return 200;
  };

  const health = async (path: string, query: URLSearchParams, res: ServerResponse): Promise<number> => {
    const base = path.replace(/\/.*$/, '') || path;
    const root = `/${path.split('/')[1]}`;
    const checks: { name: string; run: () => Promise<boolean> }[] = [
      { name: 'ping', run: () => Promise.resolve(true) },
      {
        name: 'etcd',
        run: async () => {
          try {
            await opts.store.currentRevision();
            return true;
          } catch {
            return false;
          }
        },
      },
    ];
    if (root === '/readyz' || root === '/healthz')
      checks.push({ name: 'poststarthook/bootstrap-controller', run: () => Promise.resolve(ready) });
    const sub = path.slice(root.length + 1);
    const selected = sub ? checks.filter((c) => c.name === sub) : checks;
    void base;
    if (sub && selected.length === 0) {
      send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
      return 404;
    }
    const results = await Promise.all(selected.map(async (c) => ({ name: c.name, ok: await c.run() })));
    const ok = results.every((r) => r.ok);
    const verbose = query.has('verbose') || !ok;
    const kind = root.slice(1);
    let body: string;
    if (verbose) {
      body = results
        .map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`))
        .join('\n');
      body += ok ? `\n${kind} check passed\n` : `\n${kind} check failed\n`;
    } else body = 'ok';
    send(res, ok ? 200 : 500, body, 'text/plain; charset=utf-8', { 'X-Content-Type-Options': 'nosniff' });
    return ok ? 200 : 500;
  };

  /** Non-resource endpoints; returns the HTTP code, or undefined when the path is not one of them. */
  const nonResource = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ): Promise<number | undefined> => {
    const method = req.method ?? 'GET';
    const root = `/${path.split('/')[1]}`;
    if (HEALTH_PATHS.has(root) && (method === 'GET' || method === 'HEAD')) return health(path, query, res);
    if ((path === '/version' || path === '/version/') && method === 'GET') {
      send(
        res,
        200,
        JSON.stringify({
          ...KUBERNETES_VERSION,
          gitCommit: '0000000000000000000000000000000000000000',
          gitTreeState: 'clean',
          buildDate: '2026-01-01T00:00:00Z',
          goVersion: `node${process.versions.node}`,
          compiler: 'tsc',
          platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
        }),
        'application/json',
      );
      return 200;
    }
    if (path === '/metrics' && method === 'GET') {
      const others = opts.extraMetrics ? await opts.extraMetrics() : [];
      send(res, 200, metrics.render(others), 'text/plain; version=0.0.4; charset=utf-8');
      return 200;
    }
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    const accept = req.headers.accept;
    if (path === '/api' || path === '/api/' || path === '/apis' || path === '/apis/') {
      const root2 = path.startsWith('/apis') ? 'apis' : 'api';
      const agg = wantsAggregated(accept);
      if (agg)
        return sendDoc(
          req,
          res,
          discovery.aggregated(root2, agg),
          `application/json;g=apidiscovery.k8s.io;v=${agg};as=APIGroupDiscoveryList`,
        );
      return sendDoc(
        req,
        res,
        root2 === 'api' ? discovery.apiVersions() : discovery.apiGroupList(),
        'application/json',
      );
    }
    if (path === '/openapi/v2' || path === '/swagger.json') {
      // The first range we can serve wins, as kube-openapi's handler picks.
      const choice = parseAccept(accept).find(
        (r) =>
          OPENAPI_V2_PROTOBUF_TYPES.includes(r.type) ||
          r.type === 'application/json' ||
          r.type === '*/*' ||
          r.type === 'application/*',
      );
      if (accept && !choice) {
        sendStatus(
          res,
          notAcceptable(
            `only the following media types are accepted: application/json, ${OPENAPI_V2_PROTOBUF_TYPES.join(', ')}`,
          ),
        );
        return 406;
      }
      if (choice && OPENAPI_V2_PROTOBUF_TYPES.includes(choice.type))
        return sendDoc(req, res, openapi.v2ProtoDocument(), OPENAPI_V2_PROTOBUF_CONTENT_TYPE);
      return sendDoc(req, res, openapi.v2Document(), 'application/json');
    }
    if (path === '/openapi/v3' || path === '/openapi/v3/')
      return sendDoc(req, res, openapi.v3IndexDoc(), 'application/json');
    if (path.startsWith('/openapi/v3/')) {
      const key = path.slice('/openapi/v3/'.length).replace(/\/$/, '');
      const doc = openapi.v3Document(key);
      if (!doc) return undefined;
      const hash = query.get('hash');
      const current = doc.etag.slice(1, -1);
      if (hash !== null && hash !== current) {
        res.writeHead(301, {
          Location: `/openapi/v3/${key}?hash=${current}`,
          'Cache-Control': 'no-cache, private',
        });
        res.end();
        return 301;
      }
      return sendDoc(req, res, doc, 'application/json', {
        'Cache-Control': hash !== null ? 'public, immutable' : 'no-cache, private',
      });
    }
    return undefined;
  };

  /** Discovery for one group or group-version (paths under /api and /apis without a resource). */
  const discoveryDoc = (info: RequestInfo): CachedDoc | undefined => {
    if (info.apiPrefix === 'api' && info.apiVersion) return discovery.apiResourceList('', info.apiVersion);
    if (info.apiPrefix === 'apis' && info.apiGroup && !info.apiVersion)
      return discovery.apiGroup(info.apiGroup);
    if (info.apiPrefix === 'apis' && info.apiGroup && info.apiVersion)
      return discovery.apiResourceList(info.apiGroup, info.apiVersion);
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const query = url.searchParams;
    const info = parseRequestInfo(req.method ?? 'GET', path, query);
    const resourceLabel = info.isResourceRequest
      ? `${info.resource}${info.apiGroup ? `.${info.apiGroup}` : ''}${info.subresource ? `/${info.subresource}` : ''}`
      : '';
    const verbLabel = metricsVerb(req, info);
    let code = 0;
    let streaming = false;
    inflight.inc();
    let inflightDone = false;
    const doneInflight = (): void => {
      if (!inflightDone) {
        inflightDone = true;
        inflight.dec();
      }
    };
    try {
      let user: UserInfo = ANONYMOUS_USER;
      if (opts.authenticate) user = (await opts.authenticate(req)) ?? ANONYMOUS_USER;
      if (hasImpersonation(req)) {
        const decide = opts.authorize
          ? opts.authorize.bind(opts)
          : () => Promise.resolve<AuthorizationDecision>({ allowed: true });
        try {
          user = await impersonatedUser(req, user, decide);
        } catch (err) {
          if (err instanceof ImpersonationDenied) throw forbiddenFor(err.attributes, err.reason);
          if (err instanceof ImpersonationMalformed) {
            code = 500;
            send(
              res,
              500,
              `Internal Server Error: "${req.url ?? ''}": ${err.message}\n`,
              'text/plain; charset=utf-8',
            );
            return;
          }
          throw err;
        }
        stripImpersonationHeaders(req);
      }
      if (opts.authorize && !isPublic(path)) {
        const attrs: RequestAttributes = {
          user,
          verb: info.verb,
          isResourceRequest: info.isResourceRequest,
          path,
          apiGroup: info.apiGroup,
          apiVersion: info.apiVersion,
          resource: info.resource,
          subresource: info.subresource,
          namespace: info.namespace,
          name: info.name,
        };
        const decision = await opts.authorize(attrs);
        if (!decision.allowed) throw forbiddenFor(attrs, decision.reason);
      }
      if (!info.isResourceRequest || info.resource === '') {
        const served = await nonResource(req, res, path, query);
        if (served !== undefined) {
          code = served;
          return;
        }
        const doc = info.isResourceRequest || info.apiPrefix ? discoveryDoc(info) : undefined;
        if (doc && (req.method === 'GET' || req.method === 'HEAD')) {
          code = sendDoc(req, res, doc, 'application/json');
          return;
        }
        throw notFoundResource();
      }
      const desc = registry.lookup(info.apiGroup, info.apiVersion, info.resource);
      if (!desc) throw notFoundResource();
      if (
        info.subresource &&
        info.subresource !== 'status' &&
        info.subresource !== 'scale' &&
        opts.subresourceHandler
      ) {
        streaming = true;
        doneInflight();
        if (await opts.subresourceHandler(info, desc, req, res, user)) {
          code = res.statusCode;
          return;
        }
        streaming = false;
      }
      if (info.verb === 'watch') {
        streaming = true;
        doneInflight();
      }
      let bodyPromise: Promise<Buffer> | undefined;
      const restRequest = {
        info,
        desc,
        user,
        query,
        req,
        res,
        body: () => (bodyPromise ??= readBody(req, bodyLimit)),
      };
      const virtual = virtualResources.get(`${desc.group}/${desc.version}/${desc.plural}`);
      const reply: Reply | undefined = virtual
        ? await virtual.handle(restRequest)
        : await rest.handle(restRequest);
      if (!reply) {
        code = 200;
        return;
      }
      code = reply.status;
      const headers: Record<string, string | string[]> = {};
      if (reply.warnings?.length) headers.Warning = reply.warnings.map(warningHeader);
      const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      send(res, reply.status, body, reply.contentType ?? 'application/json', headers);
    } catch (err) {
      const se = err instanceof StatusError ? err : internalError(err);
      code = se.code;
      if (!(err instanceof StatusError))
        log.error('request failed', {
          method: req.method,
          path,
          code: se.code,
          err: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
      else if (se.code >= 500)
        log.warn('request failed', { method: req.method, path, code: se.code, message: se.message });
      else
        log.debug('request refused', { method: req.method, path, code: se.code, reason: se.status.reason });
      if (res.headersSent) {
        if (!res.writableEnded) res.end();
      } else sendStatus(res, se);
    } finally {
      doneInflight();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      requestCounter.inc({ verb: verbLabel, resource: resourceLabel, code: String(code) });
      if (!streaming) requestDuration.observe(seconds, { verb: verbLabel, resource: resourceLabel });
      log.debug('request', {
        method: req.method,
        path,
        verb: info.verb,
        code,
        ms: Math.round(seconds * 1000),
        user: undefined,
      });
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      log.error('unhandled request failure', { err: err instanceof Error ? err : String(err) });
      if (!res.headersSent) sendStatus(res, internalError(err));
      else if (!res.writableEnded) res.end();
    });
  };

  const server: Server = opts.tls
    ? createHttpsServer(
        {
          key: opts.tls.key,
          cert: opts.tls.cert,
          ca: opts.tls.ca,
          requestCert: opts.tls.requestCert ?? false,
          rejectUnauthorized: false,
        },
        listener,
      )
    : createHttpServer(listener);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 70_000;
  server.requestTimeout = 0;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  boundPort = (server.address() as AddressInfo).port;
  const socketServer = opts.unixSocketPath
    ? await listenOnUnixSocket(opts.unixSocketPath, listener)
    : undefined;
  socketServer?.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `${opts.tls ? 'https' : 'http'}://${urlHost}:${boundPort}`;

  // The old versions served by conversion get schemas of their own (explain, strict validation).
  addServedVersionDefinitions(opts.schemas);
  // Serves the kinds CustomResourceDefinitions define, when CRDs themselves are served.
  const crdController = registry.byKind('apiextensions.k8s.io', 'CustomResourceDefinition', 'v1')
    ? new CrdController({ store: opts.store, registry, schemas: opts.schemas })
    : undefined;

  const api: ApiServer = {
    url,
    port: boundPort,
    registry,
    httpServer: server,
    addResource: (desc) => registry.add(desc),
    removeResource: (group, version, plural) => registry.remove(group, version, plural),
    addSubresource: (e) => discovery.addSubresource(e),
    invalidateOpenApi: () => openapi.invalidate(),
    close: async () => {
      crdController?.stop();
      watchCache.close();
      rest.close();
      const closed = [server, ...(socketServer ? [socketServer] : [])].map(
        (srv) => new Promise<void>((resolve) => srv.close(() => resolve())),
      );
      for (const s of sockets) s.destroy();
      await Promise.all(closed);
    },
  };

  try {
    if (opts.bootstrap !== false) {
      const advertise = opts.advertiseAddress ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
      await bootstrapDefaults({
        store: opts.store,
        registry,
        advertiseAddress: advertise,
        port: boundPort,
        kubernetesServiceIP: firstServiceIP(serviceCidr),
      });
    }
    await crdController?.start();
    if (opts.postStart) await opts.postStart(api);
  } catch (err) {
    await api.close();
    throw err;
  }
  ready = true;
  log.info('API server listening', { url, resources: registry.all().length, backend: opts.store.backend });
  return api;
}

/** Upstream's reported verb: the HTTP method, with GET split into GET/LIST/WATCH and APPLY for apply patches. */
/** A plain HTTP server on a unix socket only its owner may connect to (a stale socket file is replaced). */
async function listenOnUnixSocket(
  path: string,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  rmSync(path, { force: true });
  const srv = createHttpServer(listener);
  srv.keepAliveTimeout = 65_000;
  srv.headersTimeout = 70_000;
  srv.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    // bind() creates the file under the process umask, synchronously inside listen(): narrow the
    // umask around that call alone, so no other user can ever connect.
    const umask = process.umask(0o177);
    try {
      srv.listen(path, () => {
        srv.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  chmodSync(path, 0o600);
  return srv;
}

function metricsVerb(req: IncomingMessage, info: RequestInfo): string {
  const method = (req.method ?? 'GET').toUpperCase();
  if (!info.isResourceRequest) return method;
  if (method === 'GET' || method === 'HEAD')
    return info.verb === 'watch' ? 'WATCH' : info.verb === 'list' ? 'LIST' : 'GET';
  if (method === 'PATCH' && (req.headers['content-type'] ?? '').startsWith('application/apply-patch'))
    return 'APPLY';
  return method;
}

function forbiddenFor(a: RequestAttributes, reason: string | undefined): StatusError {
  const suffix = reason ? `: ${reason}` : '';
  if (!a.isResourceRequest) {
    return new StatusError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `forbidden: User "${a.user.name}" cannot ${a.verb} path "${a.path}"${suffix}`,
      reason: 'Forbidden',
      details: {},
      code: 403,
    });
  }
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  const msg = `User "${a.user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}"${scope}${suffix}`;
  return forbidden({ group: a.apiGroup, resource: a.resource }, a.name, msg);
}
