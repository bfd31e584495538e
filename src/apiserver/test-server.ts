// Starting a real API server on a memory store for tests, plus a tiny JSON fetch helper.
import { builtinSchemas } from '../api/schema-registry.js';
import type { ResourceDescription } from '../api/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { Store } from '../storage/types.js';
import { createApiServer, type ApiServer, type ApiServerOptions } from './server.js';
import { fixtureResources } from './test-fixtures.js';

export interface TestServer {
  readonly server: ApiServer;
  readonly store: Store;
  readonly url: string;
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body (undefined when it is not JSON). */
  readonly json: Record<string, unknown> & {
    metadata?: Record<string, unknown>;
    items?: Record<string, unknown>[];
  };
}

export type TestBackend = 'memory' | 'sqlite';
export const TEST_BACKENDS: readonly TestBackend[] = ['memory', 'sqlite'];

export async function startTestServer(
  extra: Partial<ApiServerOptions> & {
    resources?: readonly ResourceDescription[];
    backend?: TestBackend;
  } = {},
): Promise<TestServer> {
  let dataDir: string | undefined;
  let store: Store;
  if (extra.store) store = extra.store;
  else if (extra.backend === 'sqlite') {
    dataDir = mkdtempSync(join(tmpdir(), 'k8ts-apiserver-'));
    store = SqliteStore.open(dataDir);
  } else store = new MemoryStore();
  const server = await createApiServer({
    store,
    resources: fixtureResources,
    schemas: builtinSchemas(),
    ...extra,
  });
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<TestResponse> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      if (!headers['Content-Type'])
        (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    const res = await fetch(`${server.url}${path}`, init);
    const text = await res.text();
    let json: TestResponse['json'];
    try {
      json = JSON.parse(text) as TestResponse['json'];
    } catch {
      json = {};
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  return {
    server,
    store,
    url: server.url,
    request,
    close: async () => {
      await server.close();
      await store.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
