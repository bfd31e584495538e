// The three probe handlers, as the kubelet's pkg/probe: exec (a command in the container through
// the runtime, exit status 0 is success), httpGet (a GET to the pod IP or probe host, a status of
// 200 to 399 is success) and tcpSocket (a connection within the timeout is success). Each gives
// a result and the text the kubelet puts in its Unhealthy event; an error (the probe could not
// run at all) is thrown.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Container, HTTPGetAction, IntOrString, TCPSocketAction } from '../../api/generated/types.js';

export type ProbeOutcome = 'success' | 'failure';

export interface ProbeResult {
  result: ProbeOutcome;
  /** What the probe said (command output, or why it failed). */
  output: string;
}

/** Runs a command in a container and reports how it ended. */
export type ExecInContainer = (
  cmd: string[],
  timeoutSeconds: number,
) => Promise<{ exitCode: number; stdout: Uint8Array | string; stderr: Uint8Array | string }>;

const MAX_BODY = 10 * 1024;
const USER_AGENT = 'kube-probe/1.31';

function text(b: Uint8Array | string): string {
  return typeof b === 'string' ? b : Buffer.from(b).toString('utf8');
}

/** A probe port: a number, a numeric string, or the name of one of the container's ports. */
export function resolvePort(port: IntOrString, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = (container.ports ?? []).find((x) => x.name === port);
  if (!p) throw new Error(`couldn't find port: ${port} in ${container.name}`);
  return p.containerPort;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function dialError(err: NodeJS.ErrnoException, target: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${target}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${target}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${target}: connect: network is unreachable`;
    case 'ECONNRESET':
      return `read tcp ${target}: read: connection reset by peer`;
    case undefined:
    default:
      return `dial tcp ${target}: ${err.message}`;
  }
}

export async function execProbe(
  exec: ExecInContainer,
  command: string[],
  timeoutSeconds: number,
): Promise<ProbeResult> {
  try {
    const r = await exec(command, timeoutSeconds);
    const output = text(r.stdout) + text(r.stderr);
    return { result: r.exitCode === 0 ? 'success' : 'failure', output };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/timeout|deadline exceeded|timed out/i.test(msg))
      return { result: 'failure', output: `command ${JSON.stringify(command.join(' '))} timed out` };
    throw e;
  }
}

export function tcpProbe(host: string, port: number, timeoutSeconds: number): Promise<ProbeResult> {
  const target = hostPort(host, port);
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ result: 'failure', output: `dial tcp ${target}: i/o timeout` });
    }, timeoutSeconds * 1000);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ result: 'success', output: '' });
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ result: 'failure', output: dialError(err, target) });
    });
  });
}

export interface HttpProbeTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  headers: { name: string; value: string }[];
}

export function httpProbe(t: HttpProbeTarget, timeoutSeconds: number): Promise<ProbeResult> {
  const path = t.path.startsWith('/') ? t.path : `/${t.path}`;
  const url = `${t.scheme}://${hostPort(t.host, t.port)}${path}`;
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, Accept: '*/*' };
  for (const h of t.headers) {
    // The kubelet lets a probe's headers replace its own (Host too).
    for (const k of Object.keys(headers)) if (k.toLowerCase() === h.name.toLowerCase()) delete headers[k];
    headers[h.name] = h.value;
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const onResponse = (res: IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < MAX_BODY) body += chunk;
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        body = body.slice(0, MAX_BODY);
        if (code >= 200 && code < 400) finish({ result: 'success', output: body });
        else finish({ result: 'failure', output: `HTTP probe failed with statuscode: ${code}` });
      });
      res.on('error', (err) =>
        finish({ result: 'failure', output: `Get ${JSON.stringify(url)}: ${err.message}` }),
      );
    };
    const options = { host: t.host, port: t.port, path, method: 'GET', headers };
    const req =
      t.scheme === 'https'
        ? httpsRequest({ ...options, rejectUnauthorized: false }, onResponse)
        : httpRequest(options, onResponse);
    const timer = setTimeout(
      () =>
        finish({
          result: 'failure',
          output: `Get ${JSON.stringify(url)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
        }),
      timeoutSeconds * 1000,
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish({
        result: 'failure',
        output: `Get ${JSON.stringify(url)}: ${dialError(err, hostPort(t.host, t.port))}`,
      }),
    );
    req.end();
  });
}

/** The target of an httpGet probe: scheme, host (default the pod IP), port (numbered or named), path, headers. */
export function httpTarget(a: HTTPGetAction, container: Container, podIP: string): HttpProbeTarget {
  return {
    scheme: (a.scheme ?? 'HTTP').toUpperCase() === 'HTTPS' ? 'https' : 'http',
    host: a.host || podIP,
    port: resolvePort(a.port, container),
    path: a.path ?? '/',
    headers: a.httpHeaders ?? [],
  };
}

export function tcpTarget(
  a: TCPSocketAction,
  container: Container,
  podIP: string,
): { host: string; port: number } {
  return { host: a.host || podIP, port: resolvePort(a.port, container) };
}
