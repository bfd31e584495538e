// HTTP upgrade plumbing shared by the node agent's server and the API server's streaming handlers:
// routing 'upgrade' events through an ordinary request listener, and proxying an upgrade request
// (WebSocket or SPDY) to another server byte for byte once that server has switched protocols,
// as upstream's upgrade-aware proxy does.
import {
  request as httpRequest,
  ServerResponse,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { createLogger } from '../../util/log.js';

const log = createLogger('http-upgrade');

/** Request headers that belong to the upgrade handshake and travel to the upstream server. */
const HANDSHAKE_HEADERS = [
  'connection',
  'upgrade',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'x-stream-protocol-version',
  'content-type',
  'user-agent',
];

/** True for a WebSocket or SPDY upgrade request. */
export function isUpgradeRequest(req: IncomingMessage): boolean {
  const connection = (req.headers.connection ?? '').toLowerCase();
  return connection.split(',').some((t) => t.trim() === 'upgrade') && !!req.headers.upgrade;
}

export function isWebSocketRequest(req: IncomingMessage): boolean {
  return isUpgradeRequest(req) && (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

export function isSpdyRequest(req: IncomingMessage): boolean {
  return isUpgradeRequest(req) && (req.headers.upgrade ?? '').toLowerCase().startsWith('spdy/');
}

/** The WebSocket subprotocols a request offers, in its order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  return (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/**
 * Makes a server hand upgrade requests to its 'request' listeners with a response bound to the
 * socket, so that one handler (with its authentication and authorization) serves both. A handler
 * that takes the socket over (req.socket) simply never writes the response; one that answers
 * normally ends the connection with its reply.
 */
export function routeUpgradesAsRequests(server: Server): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (head.length > 0) socket.unshift(head);
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Parameters<ServerResponse['assignSocket']>[0]);
    res.on('finish', () => {
      res.detachSocket(socket as Parameters<ServerResponse['detachSocket']>[0]);
      socket.end();
    });
    socket.on('error', () => socket.destroy());
    server.emit('request', req, res);
  });
}

export interface UpgradeTarget {
  readonly url: URL;
  readonly method?: string;
  /** Headers to send besides the handshake headers copied from the request. */
  readonly headers?: OutgoingHttpHeaders;
  /** Replace these handshake headers instead of copying them. */
  readonly overrideHeaders?: OutgoingHttpHeaders;
  /** TLS client settings for https targets. */
  readonly tls?: {
    readonly ca?: string | Buffer;
    readonly cert?: string | Buffer;
    readonly key?: string | Buffer;
  };
}

/** Copies the handshake headers of a request, keeping repeated values (X-Stream-Protocol-Version) apart. */
export function handshakeHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const distinct = req.headersDistinct;
  for (const name of HANDSHAKE_HEADERS) {
    const values = distinct[name];
    if (!values || values.length === 0) continue;
    if (name === 'x-stream-protocol-version')
      out[name] = values.flatMap((v) => v.split(',').map((s) => s.trim())).filter(Boolean);
    else out[name] = values.length === 1 ? values[0] : values.join(', ');
  }
  return out;
}

/** Opens an upgrade request to a target; resolves with the switched socket or the refusal. */
export function dialUpgrade(
  target: UpgradeTarget,
  headers: OutgoingHttpHeaders,
): Promise<
  | {
      readonly upgraded: true;
      readonly response: IncomingMessage;
      readonly socket: Duplex;
      readonly head: Buffer;
    }
  | { readonly upgraded: false; readonly response: IncomingMessage }
> {
  return new Promise((resolve, reject) => {
    const secure = target.url.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    const req = send(target.url, {
      method: target.method ?? 'GET',
      headers: { ...headers, ...(target.headers ?? {}), ...(target.overrideHeaders ?? {}) },
      ...(secure
        ? {
            ca: target.tls?.ca,
            cert: target.tls?.cert,
            key: target.tls?.key,
            // Like upstream's default (no --kubelet-certificate-authority), verify only when given a CA.
            rejectUnauthorized: target.tls?.ca !== undefined,
          }
        : {}),
      agent: false,
    });
    req.once('upgrade', (response: IncomingMessage, socket: Duplex, head: Buffer) =>
      resolve({ upgraded: true, response, socket, head }),
    );
    req.once('response', (response: IncomingMessage) => resolve({ upgraded: false, response }));
    req.once('error', reject);
    req.end();
  });
}

function statusLine(res: IncomingMessage): string {
  const lines = [`HTTP/1.1 ${res.statusCode ?? 101} ${res.statusMessage || 'Switching Protocols'}`];
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Joins two sockets until either side ends. */
export function splice(a: Duplex, b: Duplex): void {
  const close = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
  a.pipe(b);
  b.pipe(a);
}

/**
 * Proxies an upgrade request: on the target's 101 the caller gets the same answer and the two
 * connections are joined; any other answer is relayed through `res` (status, headers and body).
 */
export async function proxyUpgrade(
  req: IncomingMessage,
  res: ServerResponse,
  target: UpgradeTarget,
): Promise<void> {
  const headers = handshakeHeaders(req);
  const answer = await dialUpgrade(target, headers);
  if (!answer.upgraded) {
    relayResponse(answer.response, res);
    return;
  }
  const client = req.socket as Duplex;
  // The response object is never written; its code tells the server's metrics what happened.
  res.statusCode = 101;
  client.write(statusLine(answer.response));
  if (answer.head.length > 0) client.write(answer.head);
  log.debug('upgrade proxied', { target: `${target.url.host}${target.url.pathname}` });
  splice(client, answer.socket);
}

/** Relays an upstream HTTP answer (status, headers, body). */
export function relayResponse(upstream: IncomingMessage, res: ServerResponse): void {
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(upstream.headers)) {
    if (v === undefined || k === 'connection' || k === 'transfer-encoding' || k === 'keep-alive') continue;
    headers[k] = v;
  }
  res.writeHead(upstream.statusCode ?? 502, headers);
  upstream.pipe(res);
}
