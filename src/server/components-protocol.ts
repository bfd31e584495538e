// The messages between `k8ts server`'s main thread and its components' worker thread.
import type { LogLevel } from '../util/log.js';
import type { MetricFamily } from '../util/metrics.js';
import type { ComponentsConfig } from './components.js';

export interface WorkerData {
  readonly config: ComponentsConfig;
  readonly logLevel: LogLevel;
}

export type ToWorker = { readonly type: 'metrics'; readonly id: number } | { readonly type: 'stop' };

export type FromWorker =
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'started' }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'metrics'; readonly id: number; readonly families: readonly MetricFamily[] }
  | { readonly type: 'stopped' };

function typed(m: unknown): m is { type: unknown } & Record<string, unknown> {
  return typeof m === 'object' && m !== null && 'type' in m;
}

export function isToWorker(m: unknown): m is ToWorker {
  return typed(m) && ((m.type === 'metrics' && typeof m.id === 'number') || m.type === 'stop');
}

export function isFromWorker(m: unknown): m is FromWorker {
  if (!typed(m)) return false;
  switch (m.type) {
    case 'log':
      return typeof m.line === 'string';
    case 'failed':
      return typeof m.error === 'string';
    case 'metrics':
      return typeof m.id === 'number' && Array.isArray(m.families);
    case 'started':
    case 'stopped':
      return true;
    default:
      return false;
  }
}
