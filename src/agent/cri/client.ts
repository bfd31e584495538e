// A typed CRI client over gRPC on a unix socket: the node agent's only way to the container
// runtime. Every call has a deadline; every response is checked and normalised before it is
// returned; failures become CriError with the method, the gRPC code and a readable message.
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { createLogger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { CRI_PROTO } from './proto.js';
import type {
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerMetadata,
  ContainerStats,
  ContainerStatsFilter,
  ContainerStatus,
  ExecSyncResult,
  FilesystemUsage,
  Image,
  Mount,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxMetadata,
  PodSandboxStatusResult,
  RuntimeStatus,
  StringMap,
  VersionInfo,
} from './types.js';

const log = createLogger('cri');
const callSeconds = metrics.histogram('k8ts_cri_call_duration_seconds', 'Duration of CRI calls by method.');
const callErrors = metrics.counter(
  'k8ts_cri_call_errors_total',
  'CRI calls that failed, by method and gRPC code.',
);

export const DEFAULT_CRI_TIMEOUT_MS = 2 * 60_000;
/** Pulls may legitimately take long; kubelet does not bound them by the normal timeout either. */
export const DEFAULT_PULL_TIMEOUT_MS = 15 * 60_000;

/** A failed CRI call. `code` is the gRPC status code (grpc.status). */
export class CriError extends Error {
  override readonly name = 'CriError';
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    readonly details: string,
    message: string,
  ) {
    super(message);
  }
  get notFound(): boolean {
    return this.code === grpc.status.NOT_FOUND;
  }
}

export function isCriNotFound(err: unknown): boolean {
  return err instanceof CriError && err.notFound;
}

// ---------- decoding helpers: the decoder yields plain objects; we check each field we read ----------

type Obj = Record<string, unknown>;

class DecodeError extends Error {}

function obj(v: unknown, what: string): Obj {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new DecodeError(`${what}: expected a message`);
  return v as Obj;
}
function optObj(v: unknown, what: string): Obj | undefined {
  return v === null || v === undefined ? undefined : obj(v, what);
}
function str(o: Obj, k: string): string {
  const v = o[k];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new DecodeError(`${k}: expected a string`);
  return v;
}
function bool(o: Obj, k: string): boolean {
  const v = o[k];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new DecodeError(`${k}: expected a boolean`);
  return v;
}
function big(o: Obj, k: string): bigint {
  const v = o[k];
  if (v === undefined || v === null || v === '') return 0n;
  if (typeof v === 'string' || typeof v === 'number') return BigInt(v);
  throw new DecodeError(`${k}: expected an integer`);
}
function num(o: Obj, k: string): number {
  const v = o[k];
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  throw new DecodeError(`${k}: expected a number`);
}
function strs(o: Obj, k: string): string[] {
  const v = o[k];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new DecodeError(`${k}: expected strings`);
  return v as string[];
}
function list(o: Obj, k: string): unknown[] {
  const v = o[k];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new DecodeError(`${k}: expected a list`);
  return v;
}
function smap(o: Obj, k: string): StringMap {
  const m = obj(o[k], k);
  const out: StringMap = {};
  for (const [key, val] of Object.entries(m)) {
    if (typeof val !== 'string') throw new DecodeError(`${k}.${key}: expected a string`);
    out[key] = val;
  }
  return out;
}
function bytes(o: Obj, k: string): Buffer {
  const v = o[k];
  if (v === undefined || v === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  throw new DecodeError(`${k}: expected bytes`);
}
function oneOf<T extends string>(o: Obj, k: string, allowed: readonly T[]): T {
  const v = o[k];
  const s = v === undefined || v === null ? allowed[0] : v;
  if (typeof s !== 'string' || !(allowed as readonly string[]).includes(s))
    throw new DecodeError(`${k}: unexpected value ${String(v)}`);
  return s as T;
}
function wrapped(o: Obj, k: string): number {
  const w = optObj(o[k], k);
  return w ? num(w, 'value') : 0;
}

const SANDBOX_STATES = ['SANDBOX_READY', 'SANDBOX_NOTREADY'] as const;
const CONTAINER_STATES = [
  'CONTAINER_CREATED',
  'CONTAINER_RUNNING',
  'CONTAINER_EXITED',
  'CONTAINER_UNKNOWN',
] as const;
const PROPAGATIONS = [
  'PROPAGATION_PRIVATE',
  'PROPAGATION_HOST_TO_CONTAINER',
  'PROPAGATION_BIDIRECTIONAL',
] as const;

function sandboxMeta(v: unknown): PodSandboxMetadata {
  const m = obj(v, 'metadata');
  return {
    name: str(m, 'name'),
    uid: str(m, 'uid'),
    namespace: str(m, 'namespace'),
    attempt: num(m, 'attempt'),
  };
}
function containerMeta(v: unknown): ContainerMetadata {
  const m = obj(v, 'metadata');
  return { name: str(m, 'name'), attempt: num(m, 'attempt') };
}
function imageName(v: unknown): string {
  return str(obj(v, 'image'), 'image');
}
function mount(v: unknown): Mount {
  const m = obj(v, 'mount');
  return {
    containerPath: str(m, 'containerPath'),
    hostPath: str(m, 'hostPath'),
    readonly: bool(m, 'readonly'),
    selinuxRelabel: bool(m, 'selinuxRelabel'),
    propagation: oneOf(m, 'propagation', PROPAGATIONS),
  };
}
function fsUsage(v: unknown): FilesystemUsage {
  const u = obj(v, 'filesystem usage');
  return {
    timestamp: big(u, 'timestamp'),
    mountpoint: str(obj(u.fsId, 'fsId'), 'mountpoint'),
    usedBytes: wrapped(u, 'usedBytes'),
    inodesUsed: wrapped(u, 'inodesUsed'),
  };
}
function decodeSandbox(v: unknown): PodSandbox {
  const s = obj(v, 'sandbox');
  return {
    id: str(s, 'id'),
    metadata: sandboxMeta(s.metadata),
    state: oneOf(s, 'state', SANDBOX_STATES),
    createdAt: big(s, 'createdAt'),
    labels: smap(s, 'labels'),
    annotations: smap(s, 'annotations'),
    runtimeHandler: str(s, 'runtimeHandler'),
  };
}
function decodeContainer(v: unknown): Container {
  const c = obj(v, 'container');
  return {
    id: str(c, 'id'),
    podSandboxId: str(c, 'podSandboxId'),
    metadata: containerMeta(c.metadata),
    image: imageName(c.image),
    imageRef: str(c, 'imageRef'),
    state: oneOf(c, 'state', CONTAINER_STATES),
    createdAt: big(c, 'createdAt'),
    labels: smap(c, 'labels'),
    annotations: smap(c, 'annotations'),
  };
}
function decodeContainerStatus(v: unknown): ContainerStatus {
  const c = obj(v, 'status');
  return {
    id: str(c, 'id'),
    metadata: containerMeta(c.metadata),
    state: oneOf(c, 'state', CONTAINER_STATES),
    createdAt: big(c, 'createdAt'),
    startedAt: big(c, 'startedAt'),
    finishedAt: big(c, 'finishedAt'),
    exitCode: num(c, 'exitCode'),
    image: imageName(c.image),
    imageRef: str(c, 'imageRef'),
    reason: str(c, 'reason'),
    message: str(c, 'message'),
    labels: smap(c, 'labels'),
    annotations: smap(c, 'annotations'),
    mounts: list(c, 'mounts').map(mount),
    logPath: str(c, 'logPath'),
  };
}
function decodeImage(v: unknown): Image {
  const i = obj(v, 'image');
  const uid = optObj(i.uid, 'uid');
  return {
    id: str(i, 'id'),
    repoTags: strs(i, 'repoTags'),
    repoDigests: strs(i, 'repoDigests'),
    size: num(i, 'size'),
    uid: uid ? num(uid, 'value') : undefined,
    username: str(i, 'username'),
    pinned: bool(i, 'pinned'),
  };
}
function decodeStats(v: unknown): ContainerStats {
  const s = obj(v, 'stats');
  const a = obj(s.attributes, 'attributes');
  const cpu = optObj(s.cpu, 'cpu');
  const mem = optObj(s.memory, 'memory');
  const wl = optObj(s.writableLayer, 'writableLayer');
  return {
    id: str(a, 'id'),
    metadata: containerMeta(a.metadata),
    labels: smap(a, 'labels'),
    annotations: smap(a, 'annotations'),
    cpu: cpu
      ? {
          timestamp: big(cpu, 'timestamp'),
          usageCoreNanoSeconds: wrapped(cpu, 'usageCoreNanoSeconds'),
          usageNanoCores: wrapped(cpu, 'usageNanoCores'),
        }
      : undefined,
    memory: mem
      ? {
          timestamp: big(mem, 'timestamp'),
          workingSetBytes: wrapped(mem, 'workingSetBytes'),
          usageBytes: wrapped(mem, 'usageBytes'),
          rssBytes: wrapped(mem, 'rssBytes'),
        }
      : undefined,
    writableLayer: wl ? fsUsage(wl) : undefined,
  };
}

// ---------- the gRPC plumbing ----------

type Callback = (err: grpc.ServiceError | null, res?: unknown) => void;
type Unary = (req: object, meta: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => grpc.ClientUnaryCall;

export interface Services {
  runtime: grpc.ServiceClientConstructor;
  image: grpc.ServiceClientConstructor;
}

let services: Services | undefined;
/** The runtime.v1 service definitions (a test can serve them with grpc.Server). */
export function loadServices(): Services {
  if (services) return services;
  const parsed = protobuf.parse(CRI_PROTO, { keepCase: false });
  const def = fromJSON(parsed.root.toJSON(), {
    longs: String,
    enums: String,
    defaults: true,
    arrays: true,
    objects: true,
    bytes: Buffer,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: Record<string, unknown> } };
  const runtime = pkg.runtime.v1.RuntimeService;
  const image = pkg.runtime.v1.ImageService;
  if (typeof runtime !== 'function' || typeof image !== 'function')
    throw new Error('CRI proto: services missing');
  services = {
    runtime: runtime as grpc.ServiceClientConstructor,
    image: image as grpc.ServiceClientConstructor,
  };
  return services;
}

export interface CriClientOptions {
  /** A socket path, or unix:///path as kubelet's --container-runtime-endpoint takes it. */
  endpoint: string;
  /** Deadline for ordinary calls. */
  timeoutMs?: number;
  /** Deadline for PullImage. */
  pullTimeoutMs?: number;
}

/** Normalises an endpoint to a socket path. */
export function socketPath(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint.slice('unix://'.length);
  if (endpoint.includes('://'))
    throw new Error(`unsupported container runtime endpoint ${endpoint}: only unix sockets are supported`);
  return endpoint;
}

const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(grpc.status).map(([k, v]) => [v, k]),
);

export class CriClient {
  readonly socket: string;
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number;

  constructor(opts: CriClientOptions) {
    this.socket = socketPath(opts.endpoint);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_CRI_TIMEOUT_MS;
    this.pullTimeoutMs = opts.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
    const { runtime, image } = loadServices();
    const address = `unix://${this.socket}`;
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': 32 * 1024 * 1024,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
      // Reconnect quickly when containerd restarts under us.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2000,
    };
    this.runtime = new runtime(address, grpc.credentials.createInsecure(), channelOptions);
    this.image = new image(address, grpc.credentials.createInsecure(), {
      channelOverride: this.runtime.getChannel(),
    });
  }

  close(): void {
    this.image.close();
    this.runtime.close();
  }

  private call(client: grpc.Client, method: string, req: object, timeoutMs = this.timeoutMs): Promise<Obj> {
    const fn = (client as unknown as Record<string, Unary | undefined>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`CRI method ${method} unknown`));
    const started = process.hrtime.bigint();
    return new Promise<Obj>((resolve, reject) => {
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        callSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9, { method });
        if (err) {
          callErrors.inc({ method, code: CODE_NAMES[err.code] ?? String(err.code) });
          reject(this.mapError(method, err, timeoutMs));
          return;
        }
        try {
          resolve(obj(res, method));
        } catch (e) {
          reject(
            new CriError(
              method,
              grpc.status.INTERNAL,
              String(e),
              `CRI ${method}: malformed response: ${(e as Error).message}`,
            ),
          );
        }
      });
    });
  }

  private mapError(method: string, err: grpc.ServiceError, timeoutMs: number): CriError {
    const details = err.details || err.message;
    let message: string;
    switch (err.code) {
      case grpc.status.UNAVAILABLE:
        message = `CRI ${method}: container runtime at ${this.socket} is not reachable (${details})`;
        break;
      case grpc.status.DEADLINE_EXCEEDED:
        message = `CRI ${method}: no answer from the container runtime within ${timeoutMs} ms`;
        break;
      case grpc.status.UNIMPLEMENTED:
        message = `CRI ${method}: the container runtime does not implement runtime.v1 ${method} (${details})`;
        break;
      case grpc.status.OK:
      case grpc.status.CANCELLED:
      case grpc.status.UNKNOWN:
      case grpc.status.INVALID_ARGUMENT:
      case grpc.status.NOT_FOUND:
      case grpc.status.ALREADY_EXISTS:
      case grpc.status.PERMISSION_DENIED:
      case grpc.status.RESOURCE_EXHAUSTED:
      case grpc.status.FAILED_PRECONDITION:
      case grpc.status.ABORTED:
      case grpc.status.OUT_OF_RANGE:
      case grpc.status.INTERNAL:
      case grpc.status.DATA_LOSS:
      case grpc.status.UNAUTHENTICATED:
      default:
        message = `CRI ${method}: ${CODE_NAMES[err.code] ?? err.code}: ${details}`;
    }
    log.debug('call failed', { method, code: err.code, details });
    return new CriError(method, err.code, details, message);
  }

  private decode<T>(method: string, res: Obj, fn: (o: Obj) => T): T {
    try {
      return fn(res);
    } catch (e) {
      throw new CriError(
        method,
        grpc.status.INTERNAL,
        String(e),
        `CRI ${method}: malformed response: ${(e as Error).message}`,
      );
    }
  }

  private need(method: string, value: string, what: string): string {
    if (!value)
      throw new CriError(
        method,
        grpc.status.INTERNAL,
        `${what} missing`,
        `CRI ${method}: response has no ${what}`,
      );
    return value;
  }

  // ---------- RuntimeService ----------

  async version(): Promise<VersionInfo> {
    const r = await this.call(this.runtime, 'Version', { version: 'v1' });
    return this.decode('Version', r, (o) => ({
      version: str(o, 'version'),
      runtimeName: str(o, 'runtimeName'),
      runtimeVersion: str(o, 'runtimeVersion'),
      runtimeApiVersion: str(o, 'runtimeApiVersion'),
    }));
  }

  async status(verbose = false): Promise<RuntimeStatus> {
    const r = await this.call(this.runtime, 'Status', { verbose });
    return this.decode('Status', r, (o) => ({
      conditions: list(obj(o.status, 'status'), 'conditions').map((c) => {
        const x = obj(c, 'condition');
        return {
          type: str(x, 'type'),
          status: bool(x, 'status'),
          reason: str(x, 'reason'),
          message: str(x, 'message'),
        };
      }),
      info: smap(o, 'info'),
    }));
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const r = await this.call(this.runtime, 'RunPodSandbox', { config, runtimeHandler });
    return this.need(
      'RunPodSandbox',
      this.decode('RunPodSandbox', r, (o) => str(o, 'podSandboxId')),
      'pod_sandbox_id',
    );
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.call(this.runtime, 'StopPodSandbox', { podSandboxId });
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.call(this.runtime, 'RemovePodSandbox', { podSandboxId });
  }

  async podSandboxStatus(podSandboxId: string, verbose = false): Promise<PodSandboxStatusResult> {
    const r = await this.call(this.runtime, 'PodSandboxStatus', { podSandboxId, verbose });
    return this.decode('PodSandboxStatus', r, (o) => {
      const s = obj(o.status, 'status');
      const net = obj(s.network, 'network');
      return {
        status: {
          id: str(s, 'id'),
          metadata: sandboxMeta(s.metadata),
          state: oneOf(s, 'state', SANDBOX_STATES),
          createdAt: big(s, 'createdAt'),
          ip: str(net, 'ip'),
          additionalIps: list(net, 'additionalIps').map((x) => str(obj(x, 'ip'), 'ip')),
          labels: smap(s, 'labels'),
          annotations: smap(s, 'annotations'),
          runtimeHandler: str(s, 'runtimeHandler'),
        },
        info: smap(o, 'info'),
      };
    });
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const { state, ...rest } = filter;
    const r = await this.call(this.runtime, 'ListPodSandbox', {
      filter: { ...rest, ...(state ? { state: { state } } : {}) },
    });
    return this.decode('ListPodSandbox', r, (o) => list(o, 'items').map(decodeSandbox));
  }

  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
  ): Promise<string> {
    const r = await this.call(this.runtime, 'CreateContainer', { podSandboxId, config, sandboxConfig });
    return this.need(
      'CreateContainer',
      this.decode('CreateContainer', r, (o) => str(o, 'containerId')),
      'container_id',
    );
  }

  async startContainer(containerId: string): Promise<void> {
    await this.call(this.runtime, 'StartContainer', { containerId });
  }

  /** Stops with a grace period in seconds (0 kills at once); the call waits for up to that long. */
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const t = Math.max(0, Math.floor(timeoutSeconds));
    await this.call(this.runtime, 'StopContainer', { containerId, timeout: t }, this.timeoutMs + t * 1000);
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.call(this.runtime, 'RemoveContainer', { containerId });
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const { state, ...rest } = filter;
    const r = await this.call(this.runtime, 'ListContainers', {
      filter: { ...rest, ...(state ? { state: { state } } : {}) },
    });
    return this.decode('ListContainers', r, (o) => list(o, 'containers').map(decodeContainer));
  }

  async containerStatus(containerId: string, verbose = false): Promise<ContainerStatus> {
    const r = await this.call(this.runtime, 'ContainerStatus', { containerId, verbose });
    return this.decode('ContainerStatus', r, (o) => decodeContainerStatus(o.status));
  }

  /** Runs a command in a container and returns its output; timeoutSeconds 0 means no limit. */
  async execSync(containerId: string, cmd: string[], timeoutSeconds = 0): Promise<ExecSyncResult> {
    const deadline = timeoutSeconds > 0 ? timeoutSeconds * 1000 + 10_000 : this.timeoutMs;
    const r = await this.call(
      this.runtime,
      'ExecSync',
      { containerId, cmd, timeout: Math.floor(timeoutSeconds) },
      deadline,
    );
    return this.decode('ExecSync', r, (o) => ({
      stdout: bytes(o, 'stdout'),
      stderr: bytes(o, 'stderr'),
      exitCode: num(o, 'exitCode'),
    }));
  }

  /** Returns the runtime's streaming URL for an exec session. */
  async exec(req: {
    containerId: string;
    cmd: string[];
    tty?: boolean;
    stdin?: boolean;
    stdout?: boolean;
    stderr?: boolean;
  }): Promise<string> {
    const r = await this.call(this.runtime, 'Exec', req);
    return this.need(
      'Exec',
      this.decode('Exec', r, (o) => str(o, 'url')),
      'url',
    );
  }

  async attach(req: {
    containerId: string;
    stdin?: boolean;
    tty?: boolean;
    stdout?: boolean;
    stderr?: boolean;
  }): Promise<string> {
    const r = await this.call(this.runtime, 'Attach', req);
    return this.need(
      'Attach',
      this.decode('Attach', r, (o) => str(o, 'url')),
      'url',
    );
  }

  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    const r = await this.call(this.runtime, 'PortForward', { podSandboxId, port: ports });
    return this.need(
      'PortForward',
      this.decode('PortForward', r, (o) => str(o, 'url')),
      'url',
    );
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    const r = await this.call(this.runtime, 'ContainerStats', { containerId });
    return this.decode('ContainerStats', r, (o) => decodeStats(o.stats));
  }

  async listContainerStats(filter: ContainerStatsFilter = {}): Promise<ContainerStats[]> {
    const r = await this.call(this.runtime, 'ListContainerStats', { filter });
    return this.decode('ListContainerStats', r, (o) => list(o, 'stats').map(decodeStats));
  }

  // ---------- ImageService ----------

  async listImages(image?: string): Promise<Image[]> {
    const r = await this.call(this.image, 'ListImages', image ? { filter: { image: { image } } } : {});
    return this.decode('ListImages', r, (o) => list(o, 'images').map(decodeImage));
  }

  /** The image's status, or undefined when the runtime does not have it. */
  async imageStatus(image: string): Promise<Image | undefined> {
    const r = await this.call(this.image, 'ImageStatus', { image: { image } });
    return this.decode('ImageStatus', r, (o) =>
      optObj(o.image, 'image') && str(obj(o.image, 'image'), 'id') ? decodeImage(o.image) : undefined,
    );
  }

  /** Pulls an image and returns its reference (the image id). */
  async pullImage(image: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    const req: Obj = { image: { image } };
    if (auth) req.auth = auth;
    if (sandboxConfig) req.sandboxConfig = sandboxConfig;
    const r = await this.call(this.image, 'PullImage', req, this.pullTimeoutMs);
    return this.need(
      'PullImage',
      this.decode('PullImage', r, (o) => str(o, 'imageRef')),
      'image_ref',
    );
  }

  async removeImage(image: string): Promise<void> {
    await this.call(this.image, 'RemoveImage', { image: { image } });
  }

  async imageFsInfo(): Promise<FilesystemUsage[]> {
    const r = await this.call(this.image, 'ImageFsInfo', {});
    return this.decode('ImageFsInfo', r, (o) => list(o, 'imageFilesystems').map(fsUsage));
  }
}
