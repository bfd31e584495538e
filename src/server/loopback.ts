// The in-process components' own way in (kube-apiserver's loopback client, over a unix socket): the
// API server also listens on <data-dir>/apiserver.sock with plain HTTP, and each component presents a
// random bearer token minted for it at start-up, mapped here to the identity its client certificate
// would carry. The tokens never leave the process and are honoured only on that socket, so the TLS
// listener's authentication is unchanged; the components run the same RestClient code either way.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { bearerTokenOf, withAuthenticatedGroup } from '../apiserver/auth/authn.js';
import type { UserInfo } from '../apiserver/request-info.js';

/** sun_path holds 108 bytes with its NUL: longer paths cannot be bound. */
const MAX_SOCKET_PATH_BYTES = 107;

/** The loopback socket's path in a data dir, or undefined when the path is too long to bind. */
export function loopbackSocketPath(dataDir: string): string | undefined {
  const path = join(dataDir, 'apiserver.sock');
  return Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES ? path : undefined;
}

export class LoopbackIdentities {
  /** sha256(token) → user: looking up by digest leaks nothing about the token through timing. */
  private readonly users = new Map<string, { token: Buffer; user: UserInfo }>();

  /** Mints a token for a component; the requests that present it on the socket are that user. */
  tokenFor(user: UserInfo): string {
    const token = randomBytes(32).toString('base64url');
    this.users.set(digest(token), { token: Buffer.from(token), user: withAuthenticatedGroup(user) });
    return token;
  }

  /**
   * The component a request comes from, when it arrived on the unix socket (not over TLS) with a
   * loopback token; undefined otherwise, for the ordinary authenticators to decide.
   */
  authenticate(req: IncomingMessage): UserInfo | undefined {
    // A unix socket peer has no address; anything over TCP (TLS or not) is not the loopback.
    if (req.socket instanceof TLSSocket || req.socket.remoteAddress !== undefined) return undefined;
    const token = bearerTokenOf(req);
    if (token === undefined) return undefined;
    const hit = this.users.get(digest(token));
    const presented = Buffer.from(token);
    if (!hit || hit.token.length !== presented.length || !timingSafeEqual(hit.token, presented))
      return undefined;
    return hit.user;
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
