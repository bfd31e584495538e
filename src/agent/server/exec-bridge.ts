// Bridges a caller's remote-command WebSocket (v5.channel.k8s.io or v4.channel.k8s.io: one byte of
// channel, then data; 0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 terminal resize, and in
// v5 255 to close a channel) to the container runtime's streaming server over SPDY, where each
// channel is a stream and closing stdin is a half-close (the runtime's WebSocket speaks only v4,
// which cannot end stdin).
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocketServer } from 'ws';
import { NodeRequestError, type StreamOptions } from './backend.js';
import { dialUpgrade } from './http-upgrade.js';
import { SpdyClientSession, type SpdyStream } from './spdy.js';
import { createLogger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';

const log = createLogger('agent-streaming');
const sessions = metrics.counter('agent_streaming_sessions_total', 'Streaming sessions by kind and outcome.');
const activeSessions = metrics.gauge('agent_streaming_sessions_active', 'Streaming sessions in progress.');

export const V5_PROTOCOL = 'v5.channel.k8s.io';
export const V4_PROTOCOL = 'v4.channel.k8s.io';
export const CHANNEL_STDIN = 0;
export const CHANNEL_STDOUT = 1;
export const CHANNEL_STDERR = 2;
export const CHANNEL_ERROR = 3;
export const CHANNEL_RESIZE = 4;
export const CHANNEL_CLOSE = 255;

/** Picks the protocol we speak from what the caller offers (v5 preferred). */
export function chooseRemoteCommandProtocol(offered: Iterable<string>): string | undefined {
  const set = new Set(offered);
  if (set.has(V5_PROTOCOL)) return V5_PROTOCOL;
  if (set.has(V4_PROTOCOL)) return V4_PROTOCOL;
  return undefined;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

// `ws` costs the agent about 10 MB of resident memory, so it is loaded with the first session
// rather than at start: most nodes never serve an exec.
let wssLoading: Promise<WebSocketServer> | undefined;
function remoteCommandServer(): Promise<WebSocketServer> {
  wssLoading ??= import('ws').then(
    ({ WebSocketServer }) =>
      new WebSocketServer({
        noServer: true,
        perMessageDeflate: false,
        handleProtocols: (offered) => chooseRemoteCommandProtocol(offered) ?? false,
      }),
  );
  return wssLoading;
}
/** ws's readyState value for an open socket (WebSocket.OPEN), without loading the module. */
const OPEN = 1;

/** Remote-command protocols offered to the runtime's SPDY streaming server, best first. */
const RUNTIME_PROTOCOLS = [V4_PROTOCOL, 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

/**
 * Opens the runtime's streaming URL over SPDY (with stdin that can be half-closed), then accepts
 * the caller's WebSocket and joins the two. Resolves when the session ends; throws a
 * NodeRequestError (before the caller's WebSocket is accepted) when the runtime refuses.
 */
export async function bridgeRemoteCommand(
  kind: 'exec' | 'attach',
  req: IncomingMessage,
  runtimeUrl: string,
  streams: StreamOptions,
): Promise<void> {
  const answer = await dialUpgrade(
    { url: new URL(runtimeUrl), method: 'POST' },
    {
      connection: 'Upgrade',
      upgrade: 'SPDY/3.1',
      'x-stream-protocol-version': RUNTIME_PROTOCOLS,
      'content-length': '0',
    },
  );
  if (!answer.upgraded) {
    const body = await new Promise<string>((resolve) => {
      let text = '';
      answer.response.on('data', (c: Buffer) => (text += c.toString()));
      answer.response.on('end', () => resolve(text));
      answer.response.on('error', () => resolve(text));
    });
    throw new NodeRequestError(
      answer.response.statusCode ?? 502,
      body.trim() || 'the container runtime refused the stream',
    );
  }
  const negotiated = answer.response.headers['x-stream-protocol-version'];
  if (negotiated !== V4_PROTOCOL) {
    answer.socket.destroy();
    throw new NodeRequestError(
      500,
      `the container runtime chose an unsupported stream protocol: ${String(negotiated)}`,
    );
  }
  if (answer.head.length > 0) answer.socket.unshift(answer.head);
  const session = new SpdyClientSession(answer.socket);
  const open = (type: string): SpdyStream => session.openStream({ streamtype: type });
  const errorStream = open('error');
  const stdin = streams.stdin ? open('stdin') : undefined;
  const stdout = streams.stdout ? open('stdout') : undefined;
  const stderr = streams.stderr ? open('stderr') : undefined;
  const resize = streams.tty ? open('resize') : undefined;

  const wss = await remoteCommandServer();
  await new Promise<void>((resolve) => {
    wss.handleUpgrade(req, req.socket, Buffer.alloc(0), (caller) => {
      activeSessions.inc({ kind });
      let finished = false;
      const finish = (outcome: string, detail?: string): void => {
        if (finished) return;
        finished = true;
        activeSessions.dec({ kind });
        sessions.inc({ kind, outcome });
        log.debug('remote command session ended', { kind, outcome, detail });
        if (caller.readyState === OPEN) caller.close(1000);
        else caller.terminate();
        session.close();
        resolve();
      };
      const send = (channel: number, data: Buffer): void => {
        if (caller.readyState === OPEN) caller.send(Buffer.concat([Buffer.from([channel]), data]));
      };
      caller.on('message', (data) => {
        const buf = toBuffer(data);
        if (buf.length === 0) return;
        const channel = buf[0];
        const payload = buf.subarray(1);
        if (channel === CHANNEL_STDIN) {
          if (payload.length > 0) stdin?.write(payload);
        } else if (channel === CHANNEL_RESIZE) resize?.write(payload);
        else if (channel === CHANNEL_CLOSE && caller.protocol === V5_PROTOCOL) {
          if (payload[0] === CHANNEL_STDIN) stdin?.end();
        }
      });
      caller.on('close', () => finish('caller-closed'));
      caller.on('error', (err) => finish('caller-error', err.message));

      const pending = new Set<SpdyStream>([
        errorStream,
        ...(stdout ? [stdout] : []),
        ...(stderr ? [stderr] : []),
      ]);
      const ended = (s: SpdyStream): void => {
        pending.delete(s);
        if (pending.size === 0) finish('done');
      };
      stdout?.on('data', (d: Buffer) => send(CHANNEL_STDOUT, d));
      stderr?.on('data', (d: Buffer) => send(CHANNEL_STDERR, d));
      const status: Buffer[] = [];
      errorStream.on('data', (d: Buffer) => status.push(d));
      errorStream.on('end', () => {
        if (status.length > 0) send(CHANNEL_ERROR, Buffer.concat(status));
        ended(errorStream);
      });
      stdout?.on('end', () => ended(stdout));
      stderr?.on('end', () => ended(stderr));
      session.on('close', () => finish('runtime-closed'));
    });
  });
}
