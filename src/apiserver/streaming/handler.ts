// The API server's streaming subresources, served by forwarding to the node agent (kubelet's API)
// or, for proxies, to pods and services directly, as upstream's pod, service and node REST do:
//   pods/log          GET, streamed from the node's /containerLogs
//   pods/exec|attach  WebSocket (v5/v4.channel.k8s.io) or SPDY upgrades, proxied to the node
//   pods/portforward  WebSocket tunnelling SPDY (SPDY/3.1+portforward.k8s.io): the WebSocket is
//                     unwrapped and its bytes carried over a SPDY upgrade to the node; plain SPDY
//                     and the older WebSocket port-forward protocol are proxied as they are
//   pods/proxy, services/proxy, nodes/proxy  HTTP (and upgrades) to the pod, an endpoint, the node
import {
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Container, Node, Pod, Service } from '../../api/generated/types.js';
import {
  badRequest,
  internalError,
  invalid,
  methodNotSupported,
  notFound,
  serviceUnavailable,
  StatusError,
  fieldErr,
  type FieldError,
} from '../../api/errors.js';
import type { ResourceDescription } from '../../api/types.js';
import {
  dialUpgrade,
  isUpgradeRequest,
  isWebSocketRequest,
  offeredProtocols,
  proxyUpgrade,
  relayResponse,
  type UpgradeTarget,
} from '../../agent/server/http-upgrade.js';
import { createLogger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import type { ExtraSubresource } from '../discovery.js';
import type { RequestInfo, UserInfo } from '../request-info.js';
import type { StreamingLookup } from './lookup.js';

const log = createLogger('apiserver-streaming');
const streamRequests = metrics.counter(
  'apiserver_streaming_requests_total',
  'Streaming and proxy subresource requests by subresource and outcome.',
);

export const PORT_FORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const DEFAULT_NODE_PORT = 10250;

/** Discovery entries for what createStreamingHandler serves (upstream's verbs and kinds). */
export const STREAMING_SUBRESOURCES: readonly ExtraSubresource[] = [
  { group: '', version: 'v1', resource: 'pods', subresource: 'log', kind: 'Pod', verbs: ['get'] },
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    subresource: 'exec',
    kind: 'PodExecOptions',
    verbs: ['create', 'get'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    subresource: 'attach',
    kind: 'PodAttachOptions',
    verbs: ['create', 'get'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    subresource: 'portforward',
    kind: 'PodPortForwardOptions',
    verbs: ['create', 'get'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    subresource: 'proxy',
    kind: 'PodProxyOptions',
    verbs: ['create', 'delete', 'get', 'patch', 'update'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'services',
    subresource: 'proxy',
    kind: 'ServiceProxyOptions',
    verbs: ['create', 'delete', 'get', 'patch', 'update'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'nodes',
    subresource: 'proxy',
    kind: 'NodeProxyOptions',
    verbs: ['create', 'delete', 'get', 'patch', 'update'],
  },
];

export interface NodeEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface StreamingHandlerOptions {
  readonly lookup: StreamingLookup;
  /**
   * TLS for calls to nodes: the API server's client certificate for the node API, and the CA
   * that signed the nodes' serving certificates (without it the node's certificate is not
   * verified, as upstream does without --kubelet-certificate-authority).
   */
  readonly nodeClient: {
    readonly cert: string | Buffer;
    readonly key: string | Buffer;
    readonly ca?: string | Buffer;
  };
  /** Where a node's API listens; default from its status (InternalIP, daemonEndpoints). */
  readonly nodeAddress?: (node: Node) => NodeEndpoint | undefined;
}

export type SubresourceHandler = (
  info: RequestInfo,
  desc: ResourceDescription,
  req: IncomingMessage,
  res: ServerResponse,
  user: UserInfo,
) => Promise<boolean>;

/** InternalIP (else ExternalIP, else Hostname) and the kubelet endpoint port from a Node's status. */
export function nodeEndpointFromStatus(node: Node): NodeEndpoint | undefined {
  const addresses = node.status?.addresses ?? [];
  const pick = (type: string): string | undefined => addresses.find((a) => a.type === type)?.address;
  const host = pick('InternalIP') ?? pick('ExternalIP') ?? pick('Hostname');
  if (!host) return undefined;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_NODE_PORT;
  return { host, port };
}

/** All containers of a pod in upstream's visiting order: init, regular, ephemeral. */
function allContainerNames(pod: Pod): string[] {
  const spec = pod.spec;
  const names: string[] = [];
  for (const c of spec?.initContainers ?? []) names.push(c.name);
  for (const c of spec?.containers ?? []) names.push(c.name);
  for (const c of spec?.ephemeralContainers ?? []) names.push(c.name);
  return names;
}

/** The container a request is about: given and valid, or the pod's only one. */
export function validateContainer(container: string, pod: Pod): string {
  const podName = pod.metadata.name ?? '';
  if (!container) {
    const containers: Container[] = pod.spec?.containers ?? [];
    if (containers.length === 1) return containers[0]!.name;
    if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${podName}`);
    throw badRequest(
      `a container name must be specified for pod ${podName}, choose one of: [${allContainerNames(pod).join(' ')}]`,
    );
  }
  if (!allContainerNames(pod).includes(container))
    throw badRequest(`container ${container} is not valid for pod ${podName}`);
  return container;
}

function intOption(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid value for ${name}: ${v}`);
  return n;
}

/** PodLogOptions from the query, validated as upstream does; returns the node's query string. */
export function podLogQuery(q: URLSearchParams, podName: string): URLSearchParams {
  const errs: FieldError[] = [];
  const tailLines = intOption(q, 'tailLines');
  const limitBytes = intOption(q, 'limitBytes');
  const sinceSeconds = intOption(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime') || undefined;
  if (tailLines !== undefined && tailLines < 0)
    errs.push(fieldErr.invalid('tailLines', tailLines, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1)
    errs.push(fieldErr.invalid('limitBytes', limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime !== undefined)
    errs.push(fieldErr.forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  if (sinceSeconds !== undefined && sinceSeconds < 1)
    errs.push(fieldErr.invalid('sinceSeconds', sinceSeconds, 'must be greater than 0'));
  if (sinceTime !== undefined && Number.isNaN(Date.parse(sinceTime)))
    throw badRequest(`invalid value for sinceTime: ${sinceTime}`);
  if (errs.length) throw invalid('PodLogOptions', '', podName, errs);
  const out = new URLSearchParams();
  const flag = (name: string): boolean => {
    const v = q.get(name);
    return v !== null && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
  };
  if (flag('follow')) out.set('follow', 'true');
  if (flag('previous')) out.set('previous', 'true');
  if (flag('timestamps')) out.set('timestamps', 'true');
  if (sinceSeconds !== undefined) out.set('sinceSeconds', String(sinceSeconds));
  if (sinceTime !== undefined)
    out.set('sinceTime', new Date(Date.parse(sinceTime)).toISOString().replace(/\.\d+Z$/, 'Z'));
  if (tailLines !== undefined) out.set('tailLines', String(tailLines));
  if (limitBytes !== undefined) out.set('limitBytes', String(limitBytes));
  return out;
}

/** Upstream's reading of a node's non-2xx answer (GenericHttpResponseChecker). */
function nodeError(code: number, body: string, resource: string, name: string): StatusError {
  const text = body.replace(/\n+$/, '');
  if (code === 400) return badRequest(text);
  if (code === 500) return internalError(new Error(text));
  const st = new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: text || `the server responded with the status code ${code} but did not return more information`,
    reason:
      code === 404
        ? 'NotFound'
        : code === 401
          ? 'Unauthorized'
          : code === 403
            ? 'Forbidden'
            : 'InternalError',
    details: { name, kind: resource, causes: [{ reason: 'UnexpectedServerResponse', message: text }] },
    code,
  });
  return st;
}

function readAll(res: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (size < limit) chunks.push(c);
      size += c.length;
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').slice(0, limit)));
    res.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** "name", "name:port" or "scheme:name:port", as upstream splits proxy names. */
export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } | undefined {
  const parts = id.split(':');
  if (parts.length === 1) return { scheme: '', name: parts[0]!, port: '' };
  if (parts.length === 2) return { scheme: '', name: parts[0]!, port: parts[1]! };
  if (parts.length === 3 && (parts[0] === 'http' || parts[0] === 'https' || parts[0] === ''))
    return { scheme: parts[0], name: parts[1]!, port: parts[2]! };
  return undefined;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

// The tunnelling subprotocol has a '/', which is not a token character, so the WebSocket library
// would refuse the header: the handler removes it from the request and this server names the
// protocol in its answer itself.
const tunnelRequests = new WeakSet<IncomingMessage>();
const tunnelServer = new WebSocketServer({ noServer: true, perMessageDeflate: false });
tunnelServer.on('headers', (headers: string[], req: IncomingMessage) => {
  if (tunnelRequests.has(req)) headers.push(`Sec-WebSocket-Protocol: ${PORT_FORWARD_TUNNEL_PROTOCOL}`);
});

/** Carries a byte stream inside a WebSocket's binary messages, both ways, until either ends. */
function tunnel(ws: WebSocket, upstream: Duplex): void {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    upstream.destroy();
    if (ws.readyState === ws.OPEN) ws.close(1000);
    else ws.terminate();
  };
  ws.on('message', (data) => {
    if (!upstream.write(toBuffer(data))) {
      // Back-pressure: stop reading the WebSocket until the node catches up.
      ws.pause();
      upstream.once('drain', () => ws.resume());
    }
  });
  ws.on('close', close);
  ws.on('error', close);
  upstream.on('data', (chunk: Buffer) => {
    ws.send(chunk, { binary: true });
  });
  upstream.on('end', close);
  upstream.on('close', close);
  upstream.on('error', close);
}

/** The handler for pods/{log,exec,attach,portforward,proxy}, services/proxy and nodes/proxy. */
export function createStreamingHandler(opts: StreamingHandlerOptions): SubresourceHandler {
  const lookup = opts.lookup;
  const addressOf = opts.nodeAddress ?? nodeEndpointFromStatus;
  const nodeTls = { cert: opts.nodeClient.cert, key: opts.nodeClient.key, ca: opts.nodeClient.ca };

  const nodeBase = async (nodeName: string): Promise<URL> => {
    const node = await lookup.getNode(nodeName);
    if (!node) throw notFound({ group: '', resource: 'nodes' }, nodeName);
    const ep = addressOf(node);
    if (!ep) throw badRequest(`node ${nodeName} has no address to reach its agent`);
    const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
    return new URL(`https://${host}:${ep.port}`);
  };

  const getPod = async (namespace: string, name: string): Promise<Pod> => {
    const pod = await lookup.getPod(namespace, name);
    if (!pod) throw notFound({ group: '', resource: 'pods' }, name);
    return pod;
  };

  const podNode = (pod: Pod): string => {
    const node = pod.spec?.nodeName;
    if (!node) throw badRequest(`pod ${pod.metadata.name ?? ''} does not have a host assigned`);
    return node;
  };

  /** A plain request to a target (HTTP or the node's HTTPS), resolving with its response. */
  const forward = (
    req: IncomingMessage | undefined,
    url: URL,
    method: string,
    headers: OutgoingHttpHeaders,
    tls: boolean,
  ): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const out = send(url, {
        method,
        headers,
        agent: false,
        ...(url.protocol === 'https:'
          ? tls
            ? {
                cert: nodeTls.cert,
                key: nodeTls.key,
                ca: nodeTls.ca,
                rejectUnauthorized: nodeTls.ca !== undefined,
              }
            : { rejectUnauthorized: false }
          : {}),
      });
      out.once('response', resolve);
      out.once('error', reject);
      if (req && method !== 'GET' && method !== 'HEAD') req.pipe(out);
      else out.end();
      req?.once('close', () => {
        if (!out.writableFinished) out.destroy();
      });
    });

  const serveLog = async (
    info: RequestInfo,
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
  ) => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw methodNotSupported({ group: '', resource: 'pods/log' }, info.verb);
    const pod = await getPod(info.namespace, info.name);
    const nodeQuery = podLogQuery(q, info.name);
    const container = validateContainer(q.get('container') ?? '', pod);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) {
      // Upstream answers an unscheduled pod's log with an empty stream.
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
      res.end();
      return;
    }
    const url = new URL(
      `/containerLogs/${encodeURIComponent(info.namespace)}/${encodeURIComponent(info.name)}/${encodeURIComponent(container)}`,
      await nodeBase(nodeName),
    );
    url.search = nodeQuery.toString();
    let upstream: IncomingMessage;
    try {
      upstream = await forward(undefined, url, 'GET', {}, true);
    } catch (err) {
      throw serviceUnavailable(
        `unable to reach the node agent of ${nodeName}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const code = upstream.statusCode ?? 500;
    if (code < 200 || code > 206) throw nodeError(code, await readAll(upstream), 'pods/log', info.name);
    res.writeHead(200, {
      'Content-Type': 'text/plain',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    upstream.on('data', (c: Buffer) => res.write(c));
    await new Promise<void>((resolve) => {
      upstream.on('end', () => resolve());
      upstream.on('error', () => resolve());
      res.on('close', () => {
        upstream.destroy();
        resolve();
      });
    });
    if (!res.writableEnded) res.end();
  };

  const serveRemoteCommand = async (
    info: RequestInfo,
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
  ) => {
    const kind = info.subresource as 'exec' | 'attach';
    if (req.method !== 'GET' && req.method !== 'POST')
      throw methodNotSupported({ group: '', resource: `pods/${kind}` }, info.verb);
    const pod = await getPod(info.namespace, info.name);
    const container = validateContainer(q.get('container') ?? '', pod);
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed')
      throw badRequest(`cannot ${kind} into a container in a completed pod; current phase is ${phase}`);
    const nodeName = podNode(pod);
    if (!isUpgradeRequest(req)) throw badRequest('Upgrade request required');
    const params = new URLSearchParams();
    const flag = (name: string): boolean => {
      const v = q.get(name);
      return v !== null && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
    };
    for (const f of ['stdin', 'stdout', 'stderr', 'tty']) if (flag(f)) params.append(f, '1');
    if (kind === 'exec') {
      const command = q.getAll('command');
      if (command.length === 0) throw badRequest('you must specify at least one command for the container');
      for (const c of command) params.append('command', c);
    }
    const url = new URL(
      `/${kind}/${encodeURIComponent(info.namespace)}/${encodeURIComponent(info.name)}/${encodeURIComponent(container)}`,
      await nodeBase(nodeName),
    );
    url.search = params.toString();
    await proxyUpgrade(req, res, { url, method: req.method, tls: nodeTls });
  };

  const servePortForward = async (
    info: RequestInfo,
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
  ) => {
    if (req.method !== 'GET' && req.method !== 'POST')
      throw methodNotSupported({ group: '', resource: 'pods/portforward' }, info.verb);
    const pod = await getPod(info.namespace, info.name);
    const nodeName = podNode(pod);
    if (!isUpgradeRequest(req)) throw badRequest('Upgrade request required');
    const url = new URL(
      `/portForward/${encodeURIComponent(info.namespace)}/${encodeURIComponent(info.name)}`,
      await nodeBase(nodeName),
    );
    const ports = q
      .getAll('ports')
      .flatMap((p) => p.split(','))
      .filter(Boolean);
    const params = new URLSearchParams();
    for (const p of ports) params.append('port', p);
    for (const p of q.getAll('port')) params.append('port', p);
    url.search = params.toString();
    const target: UpgradeTarget = { url, method: 'POST', tls: nodeTls };
    if (isWebSocketRequest(req) && offeredProtocols(req).includes(PORT_FORWARD_TUNNEL_PROTOCOL)) {
      // SPDY tunnelled in a WebSocket: switch to SPDY with the node first, then accept the WebSocket.
      const answer = await dialUpgrade(target, {
        connection: 'Upgrade',
        upgrade: 'SPDY/3.1',
        'x-stream-protocol-version': PORT_FORWARD_PROTOCOL,
        'content-length': '0',
      });
      if (!answer.upgraded) {
        const code = answer.response.statusCode ?? 502;
        throw nodeError(code, await readAll(answer.response), 'pods/portforward', info.name);
      }
      const nodeSocket = answer.socket;
      if (answer.head.length > 0) nodeSocket.unshift(answer.head);
      delete req.headers['sec-websocket-protocol'];
      tunnelRequests.add(req);
      log.debug('port-forward tunnel: node switched to SPDY', { pod: `${info.namespace}/${info.name}` });
      res.statusCode = 101;
      tunnelServer.handleUpgrade(req, req.socket, Buffer.alloc(0), (ws) => {
        log.debug('port-forward tunnel open', { pod: `${info.namespace}/${info.name}`, node: nodeName });
        tunnel(ws, nodeSocket);
      });
      return;
    }
    if (isWebSocketRequest(req)) {
      await proxyUpgrade(req, res, { ...target, method: 'GET' });
      return;
    }
    await proxyUpgrade(req, res, target);
  };

  /** Forwards a proxy request (plain HTTP or an upgrade) to a target base URL plus the remaining path. */
  const proxyTo = async (
    info: RequestInfo,
    req: IncomingMessage,
    res: ServerResponse,
    base: URL,
    nodeTlsFor: boolean,
    q: URLSearchParams,
  ) => {
    const rest = info.extraParts.map((p) => encodeURIComponent(p)).join('/');
    const trailing = (req.url ?? '').split('?')[0]?.endsWith('/') && rest ? '/' : '';
    const url = new URL(base.toString());
    url.pathname = `/${rest}${trailing}`;
    url.search = q.toString();
    if (isUpgradeRequest(req)) {
      await proxyUpgrade(req, res, {
        url,
        method: req.method ?? 'GET',
        ...(nodeTlsFor ? { tls: nodeTls } : {}),
      });
      return;
    }
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined) continue;
      if (['host', 'connection', 'authorization', 'keep-alive', 'upgrade', 'proxy-authorization'].includes(k))
        continue;
      if (k.startsWith('impersonate-')) continue;
      headers[k] = v;
    }
    headers.host = url.host;
    let upstream: IncomingMessage;
    try {
      upstream = await forward(req, url, req.method ?? 'GET', headers, nodeTlsFor);
    } catch (err) {
      throw serviceUnavailable(
        `error trying to reach service: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    relayResponse(upstream, res);
    await new Promise<void>((resolve) => {
      res.on('close', () => {
        upstream.destroy();
        resolve();
      });
      res.on('finish', () => resolve());
    });
  };

  const servePodProxy = async (
    info: RequestInfo,
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
  ) => {
    const parsed = splitSchemeNamePort(info.name);
    if (!parsed) throw badRequest(`invalid pod request "${info.name}"`);
    const pod = await getPod(info.namespace, parsed.name);
    let port = parsed.port;
    if (!port)
      for (const c of pod.spec?.containers ?? []) {
        const p = c.ports?.[0]?.containerPort;
        if (p) {
          port = String(p);
          break;
        }
      }
    const ip = pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP;
    if (!ip) throw badRequest('address not allowed');
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const scheme = parsed.scheme || 'http';
    await proxyTo(info, req, res, new URL(`${scheme}://${host}${port ? `:${port}` : ''}`), false, q);
  };

  const serviceTarget = async (namespace: string, id: string): Promise<URL> => {
    const parsed = splitSchemeNamePort(id);
    if (!parsed) throw badRequest(`invalid service request "${id}"`);
    const svc: Service | undefined = await lookup.getService(namespace, parsed.name);
    if (!svc) throw notFound({ group: '', resource: 'services' }, parsed.name);
    const ports = svc.spec?.ports ?? [];
    const svcPort = parsed.port
      ? ports.find((p) => p.name === parsed.port || String(p.port) === parsed.port)
      : ports.length === 1
        ? ports[0]
        : ports.find((p) => !p.name);
    if (!svcPort && parsed.port) throw serviceUnavailable(`no endpoints available for service "${id}"`);
    const scheme = parsed.scheme || 'http';
    const pickOne = <T>(list: readonly T[]): T | undefined => list[Math.floor(Math.random() * list.length)];
    const eps = await lookup.getEndpoints(namespace, parsed.name);
    const candidates: { ip: string; port: number }[] = [];
    for (const subset of eps?.subsets ?? []) {
      const port = (subset.ports ?? []).find((p) =>
        svcPort ? (p.name ?? '') === (svcPort.name ?? '') : true,
      );
      if (!port) continue;
      for (const a of subset.addresses ?? []) candidates.push({ ip: a.ip, port: port.port });
    }
    if (candidates.length === 0 && svc.spec?.selector && svcPort) {
      // No Endpoints object yet: the ready pods the selector picks, as the endpoints controller would.
      const selector = svc.spec.selector;
      for (const pod of await lookup.listPods(namespace)) {
        const labels = pod.metadata.labels ?? {};
        if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
        if (pod.metadata.deletionTimestamp) continue;
        const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        const ip = pod.status?.podIP;
        if (!ready || !ip) continue;
        const tp = svcPort.targetPort ?? svcPort.port;
        let port: number | undefined;
        if (typeof tp === 'number') port = tp;
        else if (/^\d+$/.test(tp)) port = Number(tp);
        else
          for (const c of pod.spec?.containers ?? [])
            for (const p of c.ports ?? []) if (p.name === tp) port = p.containerPort;
        if (port) candidates.push({ ip, port });
      }
    }
    const chosen = pickOne(candidates);
    if (!chosen) throw serviceUnavailable(`no endpoints available for service "${id}"`);
    const host = chosen.ip.includes(':') ? `[${chosen.ip}]` : chosen.ip;
    return new URL(`${scheme}://${host}:${chosen.port}`);
  };

  const serveNodeProxy = async (
    info: RequestInfo,
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
  ) => {
    const parsed = splitSchemeNamePort(info.name);
    if (!parsed) throw badRequest(`invalid node request "${info.name}"`);
    const base = await nodeBase(parsed.name);
    if (parsed.port) base.port = parsed.port;
    if (parsed.scheme) base.protocol = `${parsed.scheme}:`;
    await proxyTo(info, req, res, base, true, q);
  };

  return async (info, desc, req, res) => {
    if (desc.group !== '') return false;
    const q = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const key = `${desc.plural}/${info.subresource}`;
    let handler:
      | ((i: RequestInfo, r: IncomingMessage, s: ServerResponse, q: URLSearchParams) => Promise<void>)
      | undefined;
    switch (key) {
      case 'pods/log':
        handler = serveLog;
        break;
      case 'pods/exec':
      case 'pods/attach':
        handler = serveRemoteCommand;
        break;
      case 'pods/portforward':
        handler = servePortForward;
        break;
      case 'pods/proxy':
        handler = servePodProxy;
        break;
      case 'services/proxy':
        handler = async (i, r, s, qq) => {
          const target = await serviceTarget(i.namespace, i.name);
          await proxyTo(i, r, s, target, false, qq);
        };
        break;
      case 'nodes/proxy':
        handler = serveNodeProxy;
        break;
      default:
        return false;
    }
    try {
      await handler(info, req, res, q);
      streamRequests.inc({ subresource: key, outcome: 'ok' });
    } catch (err) {
      streamRequests.inc({
        subresource: key,
        outcome: err instanceof StatusError ? String(err.code) : 'error',
      });
      if (!(err instanceof StatusError))
        log.warn('streaming request failed', {
          subresource: key,
          err: err instanceof Error ? err.message : String(err),
        });
      throw err instanceof StatusError
        ? err
        : serviceUnavailable(err instanceof Error ? err.message : String(err));
    }
    return true;
  };
}
