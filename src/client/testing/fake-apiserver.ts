// A small API server for client tests: list (with limit/continue at a consistent revision), watch
// (JSON lines, ADDED/MODIFIED/DELETED/BOOKMARK, 410 ERROR events), get, create, update, merge patch
// and delete over an in-memory map with one global revision and a full change history. Hooks let a
// test break watches, hold back watch delivery, compact the history and stop/restart the listener,
// so informers, leader election and event recording can be exercised against failures.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { isPlainObject, type KubeObject } from '../../api/meta.js';
import type { Status, StatusReason } from '../../api/errors.js';
import { matchesLabelSelector } from '../labels.js';

interface Change {
  readonly rev: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly key: string;
  readonly resource: string;
  readonly object: KubeObject;
}

interface Route {
  resource: string; // group/plural
  namespace: string | undefined;
  name: string | undefined;
}

interface Watcher {
  readonly route: Route;
  readonly labelSelector: string | undefined;
  readonly bookmarks: boolean;
  readonly res: http.ServerResponse;
  timer?: NodeJS.Timeout;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: unknown;
}

function status(code: number, reason: StatusReason, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export interface FakeApiServerOptions {
  /** Send a BOOKMARK to watches that asked for them this often (0 = only when asked by the test). */
  bookmarkIntervalMs?: number;
}

export class FakeApiServer {
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly watchers = new Set<Watcher>();
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: Change[] = [];
  private revision = 1;
  private compactedRevision = 0;
  private port = 0;
  private deliveryHeld = false;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  /** When set, a request for which this returns a Status fails with it. */
  interceptor: ((req: RecordedRequest) => Status | undefined) | undefined;

  constructor(private readonly opts: FakeApiServerOptions = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The current global revision. */
  get currentRevision(): number {
    return this.revision;
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  /** Starts listening (on the same port as before after a stop, to simulate a restart). */
  async start(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    if (this.opts.bookmarkIntervalMs) {
      this.bookmarkTimer = setInterval(() => this.sendBookmarks(), this.opts.bookmarkIntervalMs);
    }
  }

  /** Stops listening and cuts every connection (watches included); the data stays. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.bookmarkTimer = undefined;
    for (const w of this.watchers) if (w.timer) clearTimeout(w.timer);
    this.watchers.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Forget history older than now: watches and continues from an older revision get 410. */
  compact(): void {
    this.compactedRevision = this.revision;
  }

  /** Hold back watch delivery: changes made now are not sent to open watches (they are lost to them). */
  holdWatchDelivery(hold: boolean): void {
    this.deliveryHeld = hold;
  }

  /** Sends the 410 "too old resource version" ERROR event to every open watch and ends them. */
  expireWatches(): void {
    for (const w of [...this.watchers]) {
      this.writeEvent(w, {
        type: 'ERROR',
        object: status(410, 'Expired', `too old resource version: 1 (${this.revision})`),
      });
      this.endWatch(w);
    }
  }

  /** Ends every open watch cleanly, as a server-side timeout does. */
  endWatches(): void {
    for (const w of [...this.watchers]) this.endWatch(w);
  }

  /** Cuts the connection of every open watch without ending the stream. */
  breakWatches(): void {
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      if (w.timer) clearTimeout(w.timer);
      w.res.socket?.destroy();
    }
  }

  sendBookmarks(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      this.writeEvent(w, {
        type: 'BOOKMARK',
        object: { kind: 'Bookmark', apiVersion: 'v1', metadata: { resourceVersion: String(this.revision) } },
      });
    }
  }

  // ---- direct access to the data, bypassing HTTP (works while stopped) ----

  private static key(resource: string, namespace: string | undefined, name: string): string {
    return `${resource}/${namespace ?? ''}/${name}`;
  }

  getObject(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(FakeApiServer.key(resource, namespace, name));
    return o ? clone(o) : undefined;
  }

  listObjects(resource: string, namespace?: string): KubeObject[] {
    return [...this.objects.entries()]
      .filter(
        ([k, o]) =>
          k.startsWith(`${resource}/`) && (namespace === undefined || o.metadata.namespace === namespace),
      )
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o));
  }

  /** Creates or replaces an object; `resource` is `group/plural` (`/pods` for the core group). */
  put(resource: string, obj: KubeObject): KubeObject {
    const ns = obj.metadata.namespace;
    const name = obj.metadata.name ?? '';
    const key = FakeApiServer.key(resource, ns, name);
    const existing = this.objects.get(key);
    const stored = clone(obj);
    this.revision++;
    stored.metadata.resourceVersion = String(this.revision);
    stored.metadata.uid = existing?.metadata.uid ?? stored.metadata.uid ?? randomUUID();
    stored.metadata.creationTimestamp =
      existing?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.objects.set(key, stored);
    this.record({ rev: this.revision, type: existing ? 'MODIFIED' : 'ADDED', key, resource, object: stored });
    return clone(stored);
  }

  remove(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = FakeApiServer.key(resource, namespace, name);
    const existing = this.objects.get(key);
    if (!existing) return undefined;
    this.objects.delete(key);
    this.revision++;
    const gone = clone(existing);
    gone.metadata.resourceVersion = String(this.revision);
    this.record({ rev: this.revision, type: 'DELETED', key, resource, object: gone });
    return clone(gone);
  }

  private record(change: Change): void {
    this.history.push(change);
    if (this.deliveryHeld) return;
    for (const w of this.watchers)
      if (this.watchMatches(w, change)) this.writeEvent(w, { type: change.type, object: change.object });
  }

  // ---- HTTP ----

  private route(pathname: string): Route | undefined {
    const parts = pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    let rest: string[];
    let group: string;
    if (parts[0] === 'api' && parts.length >= 2) {
      group = '';
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 3) {
      group = parts[1]!;
      rest = parts.slice(3);
    } else return undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      return { resource: `${group}/${rest[2]}`, namespace: rest[1], name: rest[3] };
    }
    if (rest.length === 0) return undefined;
    return { resource: `${group}/${rest[0]}`, namespace: undefined, name: rest[1] };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        return this.fail(res, status(400, 'BadRequest', 'invalid JSON body'));
      }
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: req.headers['content-type'],
        body,
      };
      this.requests.push(recorded);
      const injected = this.interceptor?.(recorded);
      if (injected) return this.fail(res, injected);
      const route = this.route(url.pathname);
      if (!route)
        return this.fail(res, status(404, 'NotFound', `the server could not find the requested resource`));
      try {
        this.serve(recorded, route, body, res);
      } catch (err) {
        this.fail(res, status(500, 'InternalError', err instanceof Error ? err.message : String(err)));
      }
    });
  }

  private fail(res: http.ServerResponse, s: Status): void {
    this.send(res, s.code, s);
  }

  private send(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private serve(req: RecordedRequest, route: Route, body: unknown, res: http.ServerResponse): void {
    const q = req.query;
    const what = route.resource.split('/')[1] ?? route.resource;
    switch (req.method) {
      case 'GET': {
        if (route.name !== undefined) {
          const o = this.objects.get(FakeApiServer.key(route.resource, route.namespace, route.name));
          if (!o) return this.fail(res, status(404, 'NotFound', `${what} "${route.name}" not found`));
          return this.send(res, 200, o);
        }
        if (q.watch === '1' || q.watch === 'true') return this.watch(route, q, res);
        return this.list(route, q, res);
      }
      case 'POST': {
        if (!isPlainObject(body) || !isPlainObject(body.metadata)) {
          return this.fail(res, status(400, 'BadRequest', 'body must be an object with metadata'));
        }
        const obj = body as unknown as KubeObject;
        if (!obj.metadata.name && obj.metadata.generateName) {
          obj.metadata.name = obj.metadata.generateName + randomUUID().slice(0, 5);
        }
        if (!obj.metadata.name)
          return this.fail(res, status(422, 'Invalid', 'metadata.name: Required value'));
        if (route.namespace !== undefined) obj.metadata.namespace = route.namespace;
        if (this.objects.has(FakeApiServer.key(route.resource, route.namespace, obj.metadata.name))) {
          return this.fail(
            res,
            status(409, 'AlreadyExists', `${what} "${obj.metadata.name}" already exists`),
          );
        }
        delete obj.metadata.resourceVersion;
        return this.send(res, 201, this.put(route.resource, obj));
      }
      case 'PUT': {
        if (!isPlainObject(body) || !isPlainObject(body.metadata) || route.name === undefined) {
          return this.fail(res, status(400, 'BadRequest', 'body must be an object with metadata'));
        }
        const obj = body as unknown as KubeObject;
        const existing = this.objects.get(FakeApiServer.key(route.resource, route.namespace, route.name));
        if (!existing) return this.fail(res, status(404, 'NotFound', `${what} "${route.name}" not found`));
        const rv = obj.metadata.resourceVersion;
        if (rv !== undefined && rv !== '' && rv !== existing.metadata.resourceVersion) {
          return this.fail(
            res,
            status(
              409,
              'Conflict',
              `Operation cannot be fulfilled on ${what} "${route.name}": the object has been modified; please apply your changes to the latest version and try again`,
            ),
          );
        }
        obj.metadata.namespace = route.namespace;
        obj.metadata.name = route.name;
        return this.send(res, 200, this.put(route.resource, obj));
      }
      case 'PATCH': {
        if (route.name === undefined)
          return this.fail(res, status(405, 'MethodNotAllowed', 'patch needs a name'));
        const existing = this.objects.get(FakeApiServer.key(route.resource, route.namespace, route.name));
        if (!existing) return this.fail(res, status(404, 'NotFound', `${what} "${route.name}" not found`));
        const ct = req.contentType ?? '';
        if (
          !ct.startsWith('application/merge-patch+json') &&
          !ct.startsWith('application/strategic-merge-patch+json')
        ) {
          return this.fail(res, status(415, 'UnsupportedMediaType', `unsupported patch type ${ct}`));
        }
        const merged = mergePatch(existing, body) as KubeObject;
        const rv =
          isPlainObject(body) && isPlainObject(body.metadata) ? body.metadata.resourceVersion : undefined;
        if (typeof rv === 'string' && rv !== existing.metadata.resourceVersion) {
          return this.fail(
            res,
            status(409, 'Conflict', `Operation cannot be fulfilled on ${what} "${route.name}"`),
          );
        }
        return this.send(res, 200, this.put(route.resource, merged));
      }
      case 'DELETE': {
        if (route.name === undefined)
          return this.fail(res, status(405, 'MethodNotAllowed', 'delete needs a name'));
        const gone = this.remove(route.resource, route.namespace, route.name);
        if (!gone) return this.fail(res, status(404, 'NotFound', `${what} "${route.name}" not found`));
        return this.send(res, 200, gone);
      }
      default:
        return this.fail(res, status(405, 'MethodNotAllowed', `method ${req.method} not allowed`));
    }
  }

  /** The objects of a resource as they were at revision `rev` (from the history). */
  private stateAt(route: Route, rev: number): Map<string, KubeObject> {
    const state = new Map<string, KubeObject>();
    for (const c of this.history) {
      if (c.rev > rev) break;
      if (c.resource !== route.resource) continue;
      if (c.type === 'DELETED') state.delete(c.key);
      else state.set(c.key, c.object);
    }
    return state;
  }

  private list(route: Route, q: Record<string, string>, res: http.ServerResponse): void {
    let rev = this.revision;
    let after = '';
    if (q.continue) {
      let token: unknown;
      try {
        token = JSON.parse(Buffer.from(q.continue, 'base64url').toString('utf8'));
      } catch {
        token = undefined;
      }
      if (!isPlainObject(token) || typeof token.rev !== 'number' || typeof token.after !== 'string') {
        return this.fail(res, status(400, 'BadRequest', 'invalid continue token'));
      }
      if (token.rev < this.compactedRevision) {
        return this.fail(
          res,
          status(
            410,
            'Expired',
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
          ),
        );
      }
      rev = token.rev;
      after = token.after;
    }
    const state = this.stateAt(route, rev);
    const matching = [...state.entries()]
      .filter(
        ([k, o]) =>
          (after === '' || k > after) &&
          (route.namespace === undefined || o.metadata.namespace === route.namespace),
      )
      .filter(([, o]) => matchesLabelSelector(o.metadata.labels, q.labelSelector))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const limit = q.limit ? Number(q.limit) : 0;
    const page = limit > 0 ? matching.slice(0, limit) : matching;
    const items = page.map(([, o]) => o);
    let next: string | undefined;
    if (page.length < matching.length) {
      const lastKey = page[page.length - 1]?.[0] ?? '';
      next = Buffer.from(JSON.stringify({ rev, after: lastKey }), 'utf8').toString('base64url');
    }
    this.send(res, 200, {
      kind: 'List',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(rev), ...(next ? { continue: next } : {}) },
      items,
    });
  }

  private watchMatches(w: Watcher, c: Change): boolean {
    if (c.resource !== w.route.resource) return false;
    if (w.route.namespace !== undefined && c.object.metadata.namespace !== w.route.namespace) return false;
    return matchesLabelSelector(c.object.metadata.labels, w.labelSelector);
  }

  private writeEvent(w: Watcher, event: { type: string; object: unknown }): void {
    if (!w.res.writableEnded && !w.res.destroyed) w.res.write(JSON.stringify(event) + '\n');
  }

  private endWatch(w: Watcher): void {
    this.watchers.delete(w);
    if (w.timer) clearTimeout(w.timer);
    if (!w.res.writableEnded) w.res.end();
  }

  private watch(route: Route, q: Record<string, string>, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = {
      route,
      labelSelector: q.labelSelector,
      bookmarks: q.allowWatchBookmarks === 'true' || q.allowWatchBookmarks === '1',
      res,
    };
    const rv = q.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== '0') {
      const from = Number(rv);
      if (!Number.isFinite(from) || from < this.compactedRevision) {
        this.writeEvent(w, {
          type: 'ERROR',
          object: status(410, 'Expired', `too old resource version: ${rv} (${this.compactedRevision})`),
        });
        res.end();
        return;
      }
      for (const c of this.history)
        if (c.rev > from && this.watchMatches(w, c)) this.writeEvent(w, { type: c.type, object: c.object });
    } else {
      for (const o of this.stateAt(route, this.revision).values()) {
        const change: Change = { rev: 0, type: 'ADDED', key: '', resource: route.resource, object: o };
        if (this.watchMatches(w, change)) this.writeEvent(w, { type: 'ADDED', object: o });
      }
    }
    this.watchers.add(w);
    const timeout = Number(q.timeoutSeconds ?? '0');
    if (timeout > 0) w.timer = setTimeout(() => this.endWatch(w), timeout * 1000);
    res.on('close', () => {
      this.watchers.delete(w);
      if (w.timer) clearTimeout(w.timer);
    });
  }
}
