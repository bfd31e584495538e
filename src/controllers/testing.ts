// Fakes for controller unit tests: informers whose caches a test fills by hand (never started),
// a pod control and API clients that record what they were asked and write into those caches.
import { randomUUID } from 'node:crypto';
import { StatusError } from '../api/errors.js';
import type { Deployment, Pod, PodTemplateSpec, ReplicaSet } from '../api/generated/types.js';
import type { KubeObject, OwnerReference } from '../api/meta.js';
import type { EventRecorder, EventType, ObjectReference } from '../client/events.js';
import { SharedInformer, deepFreeze, metaNamespaceKey } from '../client/informer.js';
import { RestClient, type ResourceRef } from '../client/rest.js';
import type { Clock } from './common/clock.js';
import { formatTime } from './common/clock.js';
import { podFromTemplate, type JsonPatchOp, type PodControl } from './common/pod-control.js';
import type { DeploymentClient } from './deployment/context.js';

const nowhere = new RestClient({ server: 'http://127.0.0.1:9', namespace: 'default' });

/** An informer that is never started: tests put objects into its cache with put(). */
export function fakeInformer<T extends KubeObject>(ref: ResourceRef): SharedInformer<T> {
  return new SharedInformer<T>(nowhere, ref);
}

let rv = 1;

/** Stores a frozen copy (with uid, resourceVersion and creationTimestamp filled in) in the informer. */
export function put<T extends KubeObject, O extends T>(inf: SharedInformer<T>, obj: O, clock?: Clock): O {
  const copy = structuredClone(obj);
  copy.metadata.uid ??= randomUUID();
  copy.metadata.resourceVersion = String(++rv);
  copy.metadata.creationTimestamp ??= formatTime(clock?.now() ?? Date.now());
  copy.metadata.generation ??= 1;
  inf.store.upsert(metaNamespaceKey(copy), deepFreeze(structuredClone(copy)));
  return copy;
}

export function remove<T extends KubeObject>(inf: SharedInformer<T>, obj: T): void {
  inf.store.remove(metaNamespaceKey(obj));
}

export interface RecordedEvent {
  object: string;
  type: EventType;
  reason: string;
  message: string;
}

export class FakeRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  event(obj: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void {
    const name =
      'metadata' in obj && typeof obj.metadata === 'object'
        ? obj.metadata.name
        : (obj as ObjectReference).name;
    this.events.push({ object: name ?? '', type, reason, message });
  }
  annotatedEvent(
    obj: KubeObject | ObjectReference,
    _a: Record<string, string>,
    type: EventType,
    reason: string,
    message: string,
  ): void {
    this.event(obj, type, reason, message);
  }
  messages(reason?: string): string[] {
    return this.events.filter((e) => reason === undefined || e.reason === reason).map((e) => e.message);
  }
}

/** Records pod creates (with the batch they belonged to), deletes and patches. */
export class FakePodControl implements PodControl {
  readonly created: Pod[] = [];
  readonly deleted: string[] = [];
  readonly patches: Array<{ name: string; ops: JsonPatchOp[] }> = [];
  /** Concurrent creates seen at each moment a create started (to check slow-start batches). */
  readonly inFlightAtStart: number[] = [];
  /** Fail the nth create (1-based) and every one after it with this error. */
  failCreatesFrom: { n: number; err: Error } | undefined;
  private inFlight = 0;
  private seq = 0;

  async createPod(
    namespace: string,
    template: PodTemplateSpec,
    owner: KubeObject,
    ref: OwnerReference,
  ): Promise<Pod> {
    const n = ++this.seq;
    this.inFlight++;
    this.inFlightAtStart.push(this.inFlight);
    await new Promise<void>((r) => setImmediate(r));
    this.inFlight--;
    if (this.failCreatesFrom && n >= this.failCreatesFrom.n) throw this.failCreatesFrom.err;
    const pod = podFromTemplate(template, owner, ref);
    pod.metadata.name = `${owner.metadata.name}-${n.toString(36).padStart(5, 'x')}`;
    pod.metadata.namespace = namespace;
    this.created.push(pod);
    return pod;
  }

  async deletePod(namespace: string, name: string): Promise<void> {
    await Promise.resolve();
    this.deleted.push(`${namespace}/${name}`);
  }

  async patchPod(_namespace: string, name: string, ops: JsonPatchOp[]): Promise<void> {
    await Promise.resolve();
    this.patches.push({ name, ops });
  }
}

export function quotaError(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 403,
    reason: 'Forbidden',
    message:
      'pods "frontend-x" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2',
  });
}

function notFoundError(what: string): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 404,
    reason: 'NotFound',
    message: `${what} not found`,
  });
}

function alreadyExistsError(what: string): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 409,
    reason: 'AlreadyExists',
    message: `${what} already exists`,
  });
}

/** A DeploymentClient over the fake informers: writes land in their caches at once. */
export class FakeDeploymentClient implements DeploymentClient {
  readonly actions: string[] = [];
  constructor(
    private readonly dInf: SharedInformer<Deployment>,
    private readonly rsInf: SharedInformer<ReplicaSet>,
    private readonly clock?: Clock,
  ) {}

  async createReplicaSet(rs: ReplicaSet): Promise<ReplicaSet> {
    await Promise.resolve();
    this.actions.push(`create rs ${rs.metadata.name} ${rs.spec?.replicas}`);
    if (this.rsInf.get(rs.metadata.namespace, rs.metadata.name ?? ''))
      throw alreadyExistsError(`replicasets "${rs.metadata.name}"`);
    const copy = structuredClone(rs);
    copy.status = { replicas: 0 };
    return put(this.rsInf, copy, this.clock);
  }

  async updateReplicaSet(rs: ReplicaSet): Promise<ReplicaSet> {
    await Promise.resolve();
    this.actions.push(`update rs ${rs.metadata.name} ${rs.spec?.replicas}`);
    const cur = this.rsInf.get(rs.metadata.namespace, rs.metadata.name ?? '');
    if (!cur) throw notFoundError(`replicasets "${rs.metadata.name}"`);
    const copy = structuredClone(rs);
    const specChanged = JSON.stringify(cur.spec) !== JSON.stringify(rs.spec);
    copy.metadata.generation = (cur.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    copy.status = structuredClone(cur.status);
    return put(this.rsInf, copy, this.clock);
  }

  async deleteReplicaSet(namespace: string, name: string): Promise<void> {
    await Promise.resolve();
    this.actions.push(`delete rs ${name}`);
    const cur = this.rsInf.get(namespace, name);
    if (!cur) throw notFoundError(`replicasets "${name}"`);
    remove(this.rsInf, cur);
  }

  async patchReplicaSet(_namespace: string, name: string, ops: JsonPatchOp[]): Promise<void> {
    await Promise.resolve();
    this.actions.push(`patch rs ${name} ${ops.map((o) => o.op).join(',')}`);
  }

  async getDeployment(namespace: string, name: string): Promise<Deployment> {
    await Promise.resolve();
    const d = this.dInf.get(namespace, name);
    if (!d) throw notFoundError(`deployments "${name}"`);
    return structuredClone(d);
  }

  async updateDeployment(d: Deployment): Promise<Deployment> {
    await Promise.resolve();
    this.actions.push(`update deployment ${d.metadata.name}`);
    const cur = this.dInf.get(d.metadata.namespace, d.metadata.name ?? '');
    const copy = structuredClone(d);
    const specChanged = JSON.stringify(cur?.spec) !== JSON.stringify(d.spec);
    copy.metadata.generation = (cur?.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    copy.status = structuredClone(cur?.status);
    return put(this.dInf, copy, this.clock);
  }

  async updateDeploymentStatus(d: Deployment): Promise<Deployment> {
    await Promise.resolve();
    this.actions.push(`update status ${d.metadata.name}`);
    const cur = this.dInf.get(d.metadata.namespace, d.metadata.name ?? '');
    const copy = structuredClone(d);
    if (cur) copy.spec = structuredClone(cur.spec);
    return put(this.dInf, copy, this.clock);
  }
}

/** A running, ready pod (created `ageMs` ago), as a kubelet would report it. */
export function readyPod(
  pod: Pod,
  now: number,
  opts: { ready?: boolean; node?: string; restarts?: number; phase?: string; readySinceMs?: number } = {},
): Pod {
  const p = structuredClone(pod);
  if (opts.node) p.spec = { ...(p.spec ?? { containers: [] }), nodeName: opts.node };
  const ready = opts.ready ?? true;
  p.status = {
    phase: opts.phase ?? 'Running',
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        lastTransitionTime: formatTime(opts.readySinceMs ?? now),
      },
    ],
    containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready, restartCount: opts.restarts ?? 0 }],
  };
  return p;
}
