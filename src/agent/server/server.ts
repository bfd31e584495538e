// The node agent's own HTTPS API, as kubelet serves it on port 10250: container logs, exec, attach
// and port-forward (bridged to the container runtime's streaming server), the node's pods, usage
// statistics (stats/summary and metrics/resource, read by `kubectl top`'s metrics pipeline), the
// machine spec and health. Callers authenticate with a client certificate from the cluster CA
// (the API server's kubelet-client certificate).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Pod } from '../../api/generated/types.js';
import { createLogger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import {
  NodeRequestError,
  type ContainerLogOptions,
  type NodeStreamingBackend,
  type StatsSummary,
  type StreamOptions,
} from './backend.js';
import { bridgeRemoteCommand, chooseRemoteCommandProtocol } from './exec-bridge.js';
import {
  isSpdyRequest,
  isUpgradeRequest,
  isWebSocketRequest,
  offeredProtocols,
  proxyUpgrade,
  routeUpgradesAsRequests,
} from './http-upgrade.js';

const log = createLogger('agent-server');
const requests = metrics.counter(
  'agent_server_requests_total',
  'Requests to the node API by route and code.',
);

export interface NodeServerOptions {
  readonly backend: NodeStreamingBackend;
  /** Serving certificate and key (PEM) and the CA that signs callers' client certificates. */
  readonly tls: {
    readonly cert: string | Buffer;
    readonly key: string | Buffer;
    readonly ca: string | Buffer;
  };
  /** Listen address; default 0.0.0.0. */
  readonly host?: string;
  /** Default 10250; 0 picks a free port. */
  readonly port?: number;
  /**
   * Which verified client identities (certificate common names) may call; absent: any certificate
   * the cluster CA signed.
   */
  allowClient?(commonName: string, organizations: readonly string[]): boolean;
}

export interface NodeServer {
  readonly port: number;
  readonly httpServer: Server;
  close(): Promise<void>;
}

export const DEFAULT_NODE_PORT = 10250;

function sendText(res: ServerResponse, code: number, text: string): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(text.endsWith('\n') ? text : `${text}\n`);
}

function sendJson(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v !== null && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new NodeRequestError(400, `invalid ${name}: ${v}`);
  return n;
}

/** Log options from kubelet's /containerLogs query (the API server passes pods/log's through). */
export function logOptionsFromQuery(q: URLSearchParams, now = Date.now()): ContainerLogOptions {
  const sinceSeconds = intParam(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime)
    throw new NodeRequestError(400, 'at most one of `sinceTime` or `sinceSeconds` may be specified');
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = now - sinceSeconds * 1000;
  else if (sinceTime) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs)) throw new NodeRequestError(400, `invalid sinceTime: ${sinceTime}`);
  }
  const tailLines = intParam(q, 'tailLines');
  const limitBytes = intParam(q, 'limitBytes');
  return {
    follow: boolParam(q, 'follow'),
    previous: boolParam(q, 'previous'),
    timestamps: boolParam(q, 'timestamps'),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
    ...(sinceMs !== undefined ? { sinceMs } : {}),
  };
}

/** Stream flags of an exec or attach request (kubectl sends stdin/stdout/stderr/tty as query parameters). */
export function streamOptionsFromQuery(q: URLSearchParams): StreamOptions {
  // Upstream accepts the older "input"/"output" names too.
  const stdin = boolParam(q, 'stdin') || boolParam(q, 'input');
  const stdout = boolParam(q, 'stdout') || boolParam(q, 'output');
  const tty = boolParam(q, 'tty');
  const stderr = !tty && (boolParam(q, 'stderr') || boolParam(q, 'error'));
  if (!stdin && !stdout && !stderr)
    throw new NodeRequestError(400, 'you must specify at least 1 of stdin, stdout, stderr');
  return { stdin, stdout, stderr, tty };
}

/** Metrics in the shape of kubelet's /metrics/resource (what metrics-server scrapes). */
export function renderResourceMetrics(summary: StatsSummary): string {
  const lines: string[] = [];
  const ms = (t: string | undefined): string => String(t ? Date.parse(t) : Date.now());
  const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const family = (name: string, help: string, type: string, rows: string[]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...rows);
  };
  const n = summary.node;
  family(
    'node_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the node in core-seconds',
    'counter',
    n.cpu?.usageCoreNanoSeconds !== undefined
      ? [`node_cpu_usage_seconds_total ${n.cpu.usageCoreNanoSeconds / 1e9} ${ms(n.cpu.time)}`]
      : [],
  );
  family(
    'node_memory_working_set_bytes',
    'Current working set of the node in bytes',
    'gauge',
    n.memory?.workingSetBytes !== undefined
      ? [`node_memory_working_set_bytes ${n.memory.workingSetBytes} ${ms(n.memory.time)}`]
      : [],
  );
  const cpuRows: string[] = [];
  const memRows: string[] = [];
  const startRows: string[] = [];
  const podCpu: string[] = [];
  const podMem: string[] = [];
  for (const p of summary.pods) {
    const podLabels = `namespace="${esc(p.podRef.namespace)}",pod="${esc(p.podRef.name)}"`;
    for (const c of p.containers) {
      const labels = `container="${esc(c.name)}",${podLabels}`;
      if (c.cpu?.usageCoreNanoSeconds !== undefined)
        cpuRows.push(
          `container_cpu_usage_seconds_total{${labels}} ${c.cpu.usageCoreNanoSeconds / 1e9} ${ms(c.cpu.time)}`,
        );
      if (c.memory?.workingSetBytes !== undefined)
        memRows.push(
          `container_memory_working_set_bytes{${labels}} ${c.memory.workingSetBytes} ${ms(c.memory.time)}`,
        );
      startRows.push(
        `container_start_time_seconds{${labels}} ${Date.parse(c.startTime) / 1000} ${ms(c.startTime)}`,
      );
    }
    if (p.cpu?.usageCoreNanoSeconds !== undefined)
      podCpu.push(
        `pod_cpu_usage_seconds_total{${podLabels}} ${p.cpu.usageCoreNanoSeconds / 1e9} ${ms(p.cpu.time)}`,
      );
    if (p.memory?.workingSetBytes !== undefined)
      podMem.push(
        `pod_memory_working_set_bytes{${podLabels}} ${p.memory.workingSetBytes} ${ms(p.memory.time)}`,
      );
  }
  family(
    'container_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the container in core-seconds',
    'counter',
    cpuRows,
  );
  family(
    'container_memory_working_set_bytes',
    'Current working set of the container in bytes',
    'gauge',
    memRows,
  );
  family(
    'container_start_time_seconds',
    'Start time of the container since unix epoch in seconds',
    'gauge',
    startRows,
  );
  family(
    'pod_cpu_usage_seconds_total',
    'Cumulative cpu time consumed by the pod in core-seconds',
    'counter',
    podCpu,
  );
  family('pod_memory_working_set_bytes', 'Current working set of the pod in bytes', 'gauge', podMem);
  family('scrape_error', '1 if there was an error while getting container metrics, 0 otherwise', 'gauge', [
    'scrape_error 0',
  ]);
  return `${lines.join('\n')}\n`;
}

export async function startNodeServer(opts: NodeServerOptions): Promise<NodeServer> {
  const backend = opts.backend;
  const sockets = new Set<Socket>();

  const findPod = async (namespace: string, name: string, uid?: string): Promise<Pod> => {
    const pods = await backend.pods();
    const pod = pods.find(
      (p) =>
        p.metadata.namespace === namespace &&
        p.metadata.name === name &&
        (uid === undefined || p.metadata.uid === uid),
    );
    if (!pod) throw new NodeRequestError(404, `pod "${name}" in namespace "${namespace}" not found`);
    return pod;
  };

  const checkClient = (req: IncomingMessage): boolean => {
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return false;
    if (!opts.allowClient) return true;
    const cert = socket.getPeerCertificate();
    const subject = cert.subject as unknown as Record<string, string | string[] | undefined> | undefined;
    const cn = subject?.CN;
    const o = subject?.O;
    return opts.allowClient(
      typeof cn === 'string' ? cn : '',
      o === undefined ? [] : Array.isArray(o) ? o : [o],
    );
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<string> => {
    const method = req.method ?? 'GET';
    const parts = url.pathname
      .split('/')
      .filter(Boolean)
      .map((p) => decodeURIComponent(p));
    const q = url.searchParams;
    const head = parts[0] ?? '';
    if (url.pathname === '/healthz' || url.pathname.startsWith('/healthz/')) {
      sendText(res, 200, 'ok');
      return 'healthz';
    }
    if (url.pathname === '/pods' || url.pathname === '/pods/') {
      const items = await backend.pods();
      sendJson(res, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
      return 'pods';
    }
    if (url.pathname === '/spec' || url.pathname === '/spec/') {
      sendJson(res, await backend.spec());
      return 'spec';
    }
    if (url.pathname === '/stats/summary' || url.pathname === '/stats/summary/') {
      sendJson(res, await backend.stats());
      return 'stats/summary';
    }
    if (url.pathname === '/metrics/resource') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(renderResourceMetrics(await backend.stats()));
      return 'metrics/resource';
    }
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics.render());
      return 'metrics';
    }
    if (head === 'containerLogs' && parts.length === 4 && (method === 'GET' || method === 'HEAD')) {
      const [, ns, podName, container] = parts as [string, string, string, string];
      const options = logOptionsFromQuery(q);
      const pod = await findPod(ns, podName);
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      const stream = await backend.logs(pod.metadata.uid ?? '', container, {
        ...options,
        signal: abort.signal,
      });
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      for await (const chunk of stream) {
        if (abort.signal.aborted) break;
        if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', () => r()));
      }
      res.end();
      return 'containerLogs';
    }
    if ((head === 'exec' || head === 'attach') && (parts.length === 4 || parts.length === 5)) {
      const ns = parts[1]!;
      const podName = parts[2]!;
      const uid = parts.length === 5 ? parts[3] : undefined;
      const container = parts[parts.length - 1]!;
      if (!isUpgradeRequest(req)) throw new NodeRequestError(400, 'Upgrade request required');
      const streams = streamOptionsFromQuery(q);
      const pod = await findPod(ns, podName, uid);
      const podUid = pod.metadata.uid ?? '';
      let runtimeUrl: string;
      if (head === 'exec') {
        const command = q.getAll('command');
        if (command.length === 0)
          throw new NodeRequestError(400, 'you must specify at least one command for the container');
        runtimeUrl = await backend.exec(podUid, container, command, streams);
      } else runtimeUrl = await backend.attach(podUid, container, streams);
      if (isWebSocketRequest(req)) {
        if (!chooseRemoteCommandProtocol(offeredProtocols(req)))
          throw new NodeRequestError(
            400,
            `none of the offered subprotocols is supported: ${offeredProtocols(req).join(', ')}`,
          );
        res.statusCode = 101;
        await bridgeRemoteCommand(head, req, runtimeUrl, streams);
      } else await proxyUpgrade(req, res, { url: new URL(runtimeUrl), method: 'POST' });
      return head;
    }
    if (head === 'portForward' && (parts.length === 3 || parts.length === 4)) {
      const ns = parts[1]!;
      const podName = parts[2]!;
      const uid = parts.length === 4 ? parts[3] : undefined;
      if (!isUpgradeRequest(req)) throw new NodeRequestError(400, 'Upgrade request required');
      const pod = await findPod(ns, podName, uid);
      const ports = q
        .getAll('port')
        .flatMap((v) => v.split(','))
        .map(Number)
        .filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
      const runtimeUrl = new URL(await backend.portForward(pod.metadata.uid ?? '', ports));
      for (const p of ports) runtimeUrl.searchParams.append('port', String(p));
      await proxyUpgrade(req, res, { url: runtimeUrl, method: isSpdyRequest(req) ? 'POST' : 'GET' });
      return 'portForward';
    }
    sendText(res, 404, '404 page not found');
    return 'unknown';
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'https://node');
    if (!checkClient(req)) {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Unauthorized\n');
      requests.inc({ route: 'unauthorized', code: '401' });
      return;
    }
    route(req, res, url).then(
      (name) => requests.inc({ route: name, code: String(res.statusCode) }),
      (err: unknown) => {
        const code = err instanceof NodeRequestError ? err.code : 500;
        const message = err instanceof Error ? err.message : String(err);
        if (code >= 500) log.warn('node API request failed', { path: url.pathname, err: message });
        requests.inc({ route: url.pathname.split('/')[1] ?? '', code: String(code) });
        sendText(res, code, message);
      },
    );
  };

  const server = createServer(
    { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requestCert: true, rejectUnauthorized: false },
    listener,
  );
  routeUpgradesAsRequests(server);
  server.requestTimeout = 0;
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_NODE_PORT, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info('node API listening', { port, node: backend.nodeName });
  return {
    port,
    httpServer: server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
