// A REST client for the Kubernetes API over HTTP(S): the transport every component uses to talk to
// the API server (hub and spoke), in-process or from another machine. Failures come back as the
// server's own metav1.Status, wrapped in a StatusError.
import http from 'node:http';
import https from 'node:https';
import { StatusError, type Status } from '../api/errors.js';
import { isPlainObject, type KubeList, type KubeObject } from '../api/meta.js';
import type { ConnectionConfig } from './kubeconfig.js';

/** Where a kind lives in the REST API. */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface WatchHandle {
  stop(): void;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** Aborts the request (the promise rejects with the abort reason). */
  signal?: AbortSignal;
}

/** Per-call options for the typed verbs. */
export interface CallOptions {
  signal?: AbortSignal;
}

export function resourcePath(
  ref: ResourceRef,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  let path = base;
  if (ref.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${ref.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

function toStatusError(code: number, text: string): StatusError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (isPlainObject(parsed) && parsed.kind === 'Status') return new StatusError(parsed as unknown as Status);
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code,
    message: text.trim() || `the server responded with status ${code}`,
  });
}

export class RestClient {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(
    readonly config: ConnectionConfig,
    private readonly userAgent = 'k8ts',
  ) {
    this.url = new URL(config.server);
    // Over a unix socket the same requests go as plain HTTP: the socket's file mode is the protection.
    const isHttps = this.url.protocol === 'https:' && config.socketPath === undefined;
    this.transport = isHttps ? https : http;
    this.agent = isHttps
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 64,
          ca: config.caPem,
          cert: config.clientCertPem,
          key: config.clientKeyPem,
          rejectUnauthorized: !config.insecureSkipTlsVerify,
        })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  private headers(opts: RequestOptions, bodyText: string | undefined): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = {
      accept: opts.accept ?? 'application/json',
      'user-agent': this.userAgent,
    };
    if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    if (bodyText !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(bodyText);
    }
    return headers;
  }

  private open(method: string, path: string, opts: RequestOptions, bodyText?: string): http.ClientRequest {
    const socketPath = this.config.socketPath;
    return this.transport.request({
      method,
      ...(socketPath === undefined
        ? { protocol: this.url.protocol, hostname: this.url.hostname, port: this.url.port }
        : { socketPath }),
      path: path + queryString(opts.query),
      agent: this.agent,
      headers: this.headers(opts, bodyText),
      signal: opts.signal,
    });
  }

  /** One request; resolves with the parsed JSON body, rejects with a StatusError for any non-2xx answer. */
  request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const bodyText =
      opts.body === undefined
        ? undefined
        : typeof opts.body === 'string'
          ? opts.body
          : JSON.stringify(opts.body);
    return new Promise<T>((resolve, reject) => {
      const req = this.open(method, path, opts, bodyText);
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code < 200 || code > 299) return reject(toStatusError(code, text));
          try {
            resolve((text === '' ? undefined : JSON.parse(text)) as T);
          } catch (err) {
            reject(
              new Error(
                `invalid JSON from ${method} ${path}: ${err instanceof Error ? err.message : String(err)}`,
              ),
            );
          }
        });
      });
      req.end(bodyText);
    });
  }

  get<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    call: CallOptions = {},
  ): Promise<T> {
    return this.request<T>('GET', resourcePath(ref, namespace, name), { signal: call.signal });
  }

  list<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace?: string,
    opts: ListOptions = {},
    call: CallOptions = {},
  ): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', resourcePath(ref, namespace), {
      query: { ...opts },
      signal: call.signal,
    });
  }

  create<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    obj: T,
    call: CallOptions = {},
  ): Promise<T> {
    return this.request<T>('POST', resourcePath(ref, namespace), { body: obj, signal: call.signal });
  }

  update<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    obj: T,
    subresource?: string,
    call: CallOptions = {},
  ): Promise<T> {
    const name = obj.metadata.name;
    if (!name) throw new Error('update needs metadata.name');
    return this.request<T>('PUT', resourcePath(ref, obj.metadata.namespace, name, subresource), {
      body: obj,
      signal: call.signal,
    });
  }

  patch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: { subresource?: string; fieldManager?: string; force?: boolean } = {},
    call: CallOptions = {},
  ): Promise<T> {
    return this.request<T>('PATCH', resourcePath(ref, namespace, name, opts.subresource), {
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      query: { fieldManager: opts.fieldManager, force: opts.force },
      signal: call.signal,
    });
  }

  delete(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    opts: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; gracePeriodSeconds?: number } = {},
    call: CallOptions = {},
  ): Promise<unknown> {
    return this.request('DELETE', resourcePath(ref, namespace, name), {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', ...opts },
      signal: call.signal,
    });
  }

  /**
   * A watch stream. Events arrive in order through onEvent; onEnd is called once when the stream ends,
   * with an error if it failed (a 410 arrives as an ERROR event carrying a Status, as upstream sends it).
   */
  watch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    opts: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
    onEnd: (err?: Error) => void,
  ): WatchHandle {
    let ended = false;
    const end = (err?: Error): void => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    const req = this.open('GET', resourcePath(ref, namespace), { query: { ...opts, watch: 1 } });
    req.on('error', (err) => end(err));
    req.on('response', (res) => {
      const code = res.statusCode ?? 0;
      if (code !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => end(toStatusError(code, Buffer.concat(chunks).toString('utf8'))));
        return;
      }
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === '') continue;
          let event: WatchEvent<T>;
          try {
            event = JSON.parse(line) as WatchEvent<T>;
          } catch (err) {
            req.destroy();
            end(new Error(`invalid watch event: ${err instanceof Error ? err.message : String(err)}`));
            return;
          }
          onEvent(event);
        }
      });
      res.on('end', () => end());
      res.on('error', (err) => end(err));
      // A connection cut mid-stream may close the response without 'end'.
      res.on('close', () => end(res.complete ? undefined : new Error('watch stream closed by the server')));
    });
    req.end();
    return {
      stop: () => {
        ended = true;
        req.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}
