// Container lifecycle hooks as kubelet runs them: postStart right after the container starts (a
// failure kills the container, which then restarts per policy), preStop before the container
// is stopped (bounded by the grace period). Handlers: exec (ExecSync in the container), httpGet
// (from the node to the pod's IP or the given host; a named port is looked up in the
// container's ports), sleep, and tcpSocket (accepted and ignored, as upstream does).
import type { Container, LifecycleHandler } from '../../api/generated/types.js';
import type { CriClient } from '../cri/client.js';

export class HookError extends Error {
  override readonly name = 'HookError';
}

export interface HookContext {
  client: CriClient;
  containerId: string;
  container: Container;
  podIP: string | undefined;
  /** The most the hook may take. */
  timeoutSeconds: number;
}

function resolvePort(port: number | string, c: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = c.ports?.find((p) => p.name === port);
  if (!named) throw new HookError(`port "${port}" is not a port of container ${c.name}`);
  return named.containerPort;
}

/** Runs one hook; throws HookError with a message like kubelet's event text when it fails. */
export async function runHook(handler: LifecycleHandler, ctx: HookContext): Promise<void> {
  const timeout = Math.max(1, Math.floor(ctx.timeoutSeconds));
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    if (cmd.length === 0) throw new HookError('exec hook has no command');
    const r = await ctx.client.execSync(ctx.containerId, cmd, timeout);
    if (r.exitCode !== 0) {
      const out = (r.stdout.toString() + r.stderr.toString()).trim().slice(0, 1024);
      throw new HookError(
        `Exec lifecycle hook (${JSON.stringify(cmd)}) for Container "${ctx.container.name}" failed - error: command exited with ${r.exitCode}, message: ${JSON.stringify(out)}`,
      );
    }
    return;
  }
  if (handler.httpGet) {
    const h = handler.httpGet;
    const host = h.host || ctx.podIP;
    if (!host) throw new HookError('httpGet hook: the pod has no IP yet');
    const port = resolvePort(h.port, ctx.container);
    const scheme = (h.scheme ?? 'HTTP').toLowerCase() === 'https' ? 'https' : 'http';
    const path = h.path ? (h.path.startsWith('/') ? h.path : `/${h.path}`) : '/';
    const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
    const headers: Record<string, string> = {};
    for (const x of h.httpHeaders ?? []) headers[x.name] = x.value;
    let status: number;
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeout * 1000) });
      status = res.status;
      await res.arrayBuffer();
    } catch (e) {
      throw new HookError(
        `HTTP lifecycle hook (${path}) for Container "${ctx.container.name}" failed - error: ${(e as Error).message}`,
      );
    }
    if (status < 200 || status >= 400)
      throw new HookError(
        `HTTP lifecycle hook (${path}) for Container "${ctx.container.name}" failed - error: HTTP status ${status}`,
      );
    return;
  }
  if (handler.sleep) {
    const ms = Math.min(handler.sleep.seconds, timeout) * 1000;
    await new Promise((r) => setTimeout(r, ms));
  }
  // tcpSocket: deprecated as a lifecycle handler; kubelet accepts it and does nothing.
}
