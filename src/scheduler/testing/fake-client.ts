// An in-memory SchedulerClient for tests and the in-process benchmark: collections with change
// handlers, and the writes (bind, status patch, delete, patch) applied to them and fed back as
// watch events, the way the API server would.
import type { KubeObject } from '../../api/meta.js';
import type { Pod } from '../../api/generated/types.js';
import type { EventType } from '../../client/events.js';
import type { ResourceEventHandler } from '../../client/informer.js';
import type { ObjectSource, PatchKind, SchedulerClient, SourceKind, SourceTypes } from '../api.js';

export interface RecordedEvent {
  namespace: string;
  name: string;
  type: EventType;
  reason: string;
  message: string;
  reportingController: string;
}

export interface FakeClientOptions {
  /** How writes come back as watch events: synchronously, in a microtask (default) or in a later macrotask. */
  delivery?: 'sync' | 'microtask' | 'macrotask';
  /** Keep every event and status patch (default true; the benchmark turns it off). */
  record?: boolean;
}

function keyOf(ns: string | undefined, name: string | undefined): string {
  return ns ? `${ns}/${name ?? ''}` : (name ?? '');
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeSchedulerClient implements SchedulerClient {
  readonly events: RecordedEvent[] = [];
  readonly bindings: Array<{ pod: string; node: string }> = [];
  readonly statusPatches: Array<{ pod: string; patch: Record<string, unknown> }> = [];
  readonly deletedPods: string[] = [];
  /** Makes bind fail for a pod (return an Error) — tests. */
  bindError: ((pod: Pod, nodeName: string) => Error | undefined) | undefined;
  private readonly stores = new Map<SourceKind, Map<string, KubeObject>>();
  private readonly handlers = new Map<SourceKind, Array<ResourceEventHandler<KubeObject>>>();
  private readonly delivery: 'sync' | 'microtask' | 'macrotask';
  private readonly record: boolean;
  private rv = 1;
  private uid = 1;

  constructor(opts: FakeClientOptions = {}) {
    this.delivery = opts.delivery ?? 'microtask';
    this.record = opts.record ?? true;
  }

  private store(kind: SourceKind): Map<string, KubeObject> {
    let s = this.stores.get(kind);
    if (!s) this.stores.set(kind, (s = new Map<string, KubeObject>()));
    return s;
  }

  private deliver(fn: () => void): void {
    if (this.delivery === 'sync') fn();
    else if (this.delivery === 'microtask') queueMicrotask(fn);
    else setImmediate(fn);
  }

  private emit(kind: SourceKind, f: (h: ResourceEventHandler<KubeObject>) => void): void {
    for (const h of this.handlers.get(kind) ?? []) f(h);
  }

  source<K extends SourceKind>(kind: K): ObjectSource<SourceTypes[K]> {
    const store = this.store(kind);
    const src: ObjectSource<KubeObject> = {
      list: (ns) => {
        const all = [...store.values()];
        return ns ? all.filter((o) => o.metadata.namespace === ns) : all;
      },
      get: (ns, name) => store.get(keyOf(ns, name)),
      addHandler: (h) => {
        let l = this.handlers.get(kind);
        if (!l) this.handlers.set(kind, (l = []));
        l.push(h);
        for (const o of store.values()) h.onAdd?.(o, true);
      },
    };
    return src as unknown as ObjectSource<SourceTypes[K]>;
  }

  start(): Promise<boolean> {
    return Promise.resolve(true);
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  // Test-side writes (the "cluster" changing), applied and delivered synchronously. ---------------

  add<K extends SourceKind>(kind: K, obj: SourceTypes[K]): SourceTypes[K] {
    const o = obj as KubeObject;
    o.metadata.resourceVersion = String(this.rv++);
    o.metadata.uid ??= `uid-${this.uid++}`;
    o.metadata.creationTimestamp ??= new Date().toISOString();
    this.store(kind).set(keyOf(o.metadata.namespace, o.metadata.name), o);
    this.emit(kind, (h) => h.onAdd?.(o, false));
    return obj;
  }

  update<K extends SourceKind>(kind: K, obj: SourceTypes[K]): SourceTypes[K] {
    const o = obj as KubeObject;
    const key = keyOf(o.metadata.namespace, o.metadata.name);
    const old = this.store(kind).get(key);
    if (!old) return this.add(kind, obj);
    o.metadata.resourceVersion = String(this.rv++);
    o.metadata.uid ??= old.metadata.uid;
    this.store(kind).set(key, o);
    this.emit(kind, (h) => h.onUpdate?.(old, o));
    return obj;
  }

  remove(kind: SourceKind, namespace: string | undefined, name: string): void {
    const key = keyOf(namespace, name);
    const old = this.store(kind).get(key);
    if (!old) return;
    this.store(kind).delete(key);
    this.emit(kind, (h) => h.onDelete?.(old));
  }

  get<K extends SourceKind>(
    kind: K,
    namespace: string | undefined,
    name: string,
  ): SourceTypes[K] | undefined {
    return this.store(kind).get(keyOf(namespace, name)) as SourceTypes[K] | undefined;
  }

  // SchedulerClient writes ----------------------------------------------------------------------

  bind(pod: Pod, nodeName: string): Promise<void> {
    try {
      this.bindNow(pod, nodeName);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private bindNow(pod: Pod, nodeName: string): void {
    const err = this.bindError?.(pod, nodeName);
    if (err) throw err;
    const key = keyOf(pod.metadata.namespace, pod.metadata.name);
    const cur = this.store('pods').get(key) as Pod | undefined;
    if (!cur) throw new Error(`pods "${pod.metadata.name ?? ''}" not found`);
    if (cur.spec?.nodeName) throw new Error(`pod ${key} is already assigned to node "${cur.spec.nodeName}"`);
    this.bindings.push({ pod: key, node: nodeName });
    const bound: Pod = {
      ...cur,
      metadata: { ...cur.metadata },
      spec: { ...cur.spec!, nodeName },
      status: {
        ...cur.status,
        conditions: [
          ...(cur.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled'),
          { type: 'PodScheduled', status: 'True' },
        ],
      },
    };
    this.deliver(() => {
      if (this.store('pods').get(key) === cur) this.update('pods', bound);
    });
  }

  patchPodStatus(pod: Pod, status: Record<string, unknown>): Promise<void> {
    const key = keyOf(pod.metadata.namespace, pod.metadata.name);
    if (this.record) this.statusPatches.push({ pod: key, patch: status });
    const cur = this.store('pods').get(key) as Pod | undefined;
    if (!cur) return Promise.reject(new Error(`pods "${pod.metadata.name ?? ''}" not found`));
    const next: Pod = {
      ...cur,
      metadata: { ...cur.metadata },
      status: mergePatch(cur.status, status) as Pod['status'],
    };
    this.deliver(() => this.update('pods', next));
    return Promise.resolve();
  }

  deletePod(pod: Pod): Promise<void> {
    const key = keyOf(pod.metadata.namespace, pod.metadata.name);
    this.deletedPods.push(key);
    this.deliver(() => this.remove('pods', pod.metadata.namespace, pod.metadata.name ?? ''));
    return Promise.resolve();
  }

  patch(
    kind: PatchKind,
    namespace: string | undefined,
    name: string,
    patch: Record<string, unknown>,
  ): Promise<void> {
    const cur = this.store(kind).get(keyOf(namespace, name));
    if (!cur) return Promise.reject(new Error(`${kind} "${name}" not found`));
    const next = mergePatch(cur, patch) as KubeObject;
    this.deliver(() => this.update(kind, next));
    return Promise.resolve();
  }

  event(
    obj: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    reportingController: string,
  ): void {
    if (!this.record) return;
    this.events.push({
      namespace: obj.metadata.namespace ?? '',
      name: obj.metadata.name ?? '',
      type,
      reason,
      message,
      reportingController,
    });
  }

  eventsFor(name: string, reason?: string): RecordedEvent[] {
    return this.events.filter((e) => e.name === name && (!reason || e.reason === reason));
  }
}
