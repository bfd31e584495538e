import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CriClient, CriError, isCriNotFound, loadServices, socketPath } from './client.js';

type Handler = (call: { request: Record<string, unknown> }, cb: grpc.sendUnaryData<unknown>) => void;

describe('CriClient', () => {
  let dir = '';
  let server: grpc.Server;
  let client: CriClient;
  const seen: Array<{ method: string; request: Record<string, unknown> }> = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'k8ts-cri-client-'));
    const { runtime, image } = loadServices();
    server = new grpc.Server();
    const record =
      (method: string, reply: (req: Record<string, unknown>) => unknown): Handler =>
      (call, cb) => {
        seen.push({ method, request: call.request });
        const r = reply(call.request);
        if (r instanceof Error) cb(r);
        else cb(null, r);
      };
    const notFound = Object.assign(new Error('not found'), {
      code: grpc.status.NOT_FOUND,
      details: 'an error occurred when try to find container "x": not found',
    });
    server.addService(runtime.service, {
      Version: record('Version', () => ({
        version: '0.1.0',
        runtimeName: 'containerd',
        runtimeVersion: '1.6.20',
        runtimeApiVersion: 'v1',
      })),
      Status: record('Status', () => ({
        status: {
          conditions: [
            { type: 'RuntimeReady', status: true },
            {
              type: 'NetworkReady',
              status: false,
              reason: 'NetworkPluginNotReady',
              message: 'cni config uninitialized',
            },
          ],
        },
      })),
      RunPodSandbox: record('RunPodSandbox', () => ({ podSandboxId: 'sb1' })),
      ListPodSandbox: record('ListPodSandbox', () => ({
        items: [
          {
            id: 'sb1',
            metadata: { name: 'p', uid: 'u', namespace: 'ns', attempt: 2 },
            state: 'SANDBOX_NOTREADY',
            createdAt: '1795369886817111582',
            labels: { a: 'b' },
          },
        ],
      })),
      ContainerStatus: record('ContainerStatus', (req) =>
        req.containerId === 'x'
          ? notFound
          : {
              status: {
                id: 'c1',
                state: 'CONTAINER_EXITED',
                exitCode: 137,
                reason: 'OOMKilled',
                finishedAt: '1795369886817111582',
                metadata: { name: 'main', attempt: 3 },
                image: { image: 'docker.io/library/busybox:latest' },
              },
            },
      ),
      ExecSync: record('ExecSync', () => ({
        stdout: Buffer.from('hi\n'),
        stderr: Buffer.alloc(0),
        exitCode: 3,
      })),
      CreateContainer: record('CreateContainer', () => ({})),
      StartContainer: (_call: unknown, _cb: unknown) => {
        // never answers: the deadline must fire
      },
    });
    server.addService(image.service, {
      ImageStatus: record('ImageStatus', (req) =>
        (req.image as { image: string }).image === 'missing'
          ? {}
          : { image: { id: 'sha256:abc', repoTags: ['docker.io/library/busybox:latest'], size: '2000000' } },
      ),
      PullImage: record('PullImage', () => ({ imageRef: 'sha256:abc' })),
    });
    const sock = join(dir, 'cri.sock');
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${sock}`, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    client = new CriClient({ endpoint: `unix://${sock}`, timeoutMs: 500 });
  });

  after(() => {
    client.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('normalises endpoints', () => {
    assert.equal(socketPath('unix:///run/containerd/containerd.sock'), '/run/containerd/containerd.sock');
    assert.equal(socketPath('/run/x.sock'), '/run/x.sock');
    assert.throws(() => socketPath('tcp://1.2.3.4:1'), /only unix sockets/);
  });

  it('decodes responses into typed values', async () => {
    assert.deepEqual(await client.version(), {
      version: '0.1.0',
      runtimeName: 'containerd',
      runtimeVersion: '1.6.20',
      runtimeApiVersion: 'v1',
    });
    const st = await client.status();
    assert.deepEqual(st.conditions[1], {
      type: 'NetworkReady',
      status: false,
      reason: 'NetworkPluginNotReady',
      message: 'cni config uninitialized',
    });
    const [sb] = await client.listPodSandbox({ labelSelector: { a: 'b' }, state: 'SANDBOX_READY' });
    assert.equal(sb?.createdAt, 1795369886817111582n);
    assert.equal(sb?.state, 'SANDBOX_NOTREADY');
    assert.equal(sb?.metadata.attempt, 2);
    const cs = await client.containerStatus('c1');
    assert.equal(cs.exitCode, 137);
    assert.equal(cs.reason, 'OOMKilled');
    assert.equal(cs.startedAt, 0n);
    assert.equal(cs.image, 'docker.io/library/busybox:latest');
    const ex = await client.execSync('c1', ['echo', 'hi']);
    assert.equal(ex.stdout.toString(), 'hi\n');
    assert.equal(ex.exitCode, 3);
    assert.equal((await client.imageStatus('busybox'))?.size, 2000000);
    assert.equal(await client.imageStatus('missing'), undefined);
    assert.equal(await client.pullImage('busybox', { username: 'u', password: 'p' }), 'sha256:abc');
  });

  it('sends requests with the fields the runtime expects', async () => {
    await client.runPodSandbox({
      metadata: { name: 'p', uid: 'u', namespace: 'ns', attempt: 1 },
      portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353 }],
    });
    const req = seen.find((s) => s.method === 'RunPodSandbox')?.request as {
      config: { metadata: { attempt: number }; portMappings: Array<{ protocol: string; hostPort: number }> };
    };
    assert.equal(req.config.metadata.attempt, 1);
    assert.equal(req.config.portMappings[0]?.protocol, 'UDP');
    assert.equal(req.config.portMappings[0]?.hostPort, 5353);
    const list = seen.find((s) => s.method === 'ListPodSandbox')?.request as {
      filter: { state: { state: string }; labelSelector: Record<string, string> };
    };
    assert.equal(list.filter.state.state, 'SANDBOX_READY');
    assert.deepEqual(list.filter.labelSelector, { a: 'b' });
    const pull = seen.find((s) => s.method === 'PullImage')?.request as { auth: { username: string } };
    assert.equal(pull.auth.username, 'u');
  });

  it('maps errors to CriError with clear messages', async () => {
    const nf = await client.containerStatus('x').catch((e: unknown) => e);
    assert.ok(nf instanceof CriError);
    assert.equal(isCriNotFound(nf), true);
    assert.match(nf.message, /^CRI ContainerStatus: NOT_FOUND: an error occurred/);
    const empty = await client
      .createContainer(
        'sb1',
        { metadata: { name: 'c', attempt: 0 }, image: { image: 'busybox' } },
        { metadata: { name: 'p', uid: 'u', namespace: 'ns', attempt: 0 } },
      )
      .catch((e: unknown) => e);
    assert.ok(empty instanceof CriError);
    assert.match(empty.message, /response has no container_id/);
    const slow = await client.startContainer('c1').catch((e: unknown) => e);
    assert.ok(slow instanceof CriError);
    assert.equal(slow.code, grpc.status.DEADLINE_EXCEEDED);
    assert.match(slow.message, /no answer from the container runtime within 500 ms/);
    const unimplemented = await client.removeImage('busybox').catch((e: unknown) => e);
    assert.ok(unimplemented instanceof CriError);
    assert.match(unimplemented.message, /does not implement runtime.v1 RemoveImage/);
    const down = new CriClient({ endpoint: join(dir, 'nothing.sock'), timeoutMs: 300 });
    const err = await down.version().catch((e: unknown) => e);
    down.close();
    assert.ok(err instanceof CriError);
    assert.ok(
      err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED,
      String(err.code),
    );
  });
});
