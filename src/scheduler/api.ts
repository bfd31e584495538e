// The scheduler's view of the API: a few watched collections and a few writes. The scheduler
// depends on this interface only; restSchedulerClient() implements it over a RestClient with
// shared informers, and testing/fake-client.ts in memory.
import type { KubeObject } from '../api/meta.js';
import type {
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  ReplicaSet,
  ReplicationController,
  Service,
  StatefulSet,
  StorageClass,
} from '../api/generated/types.js';
import { EventBroadcaster, type EventType } from '../client/events.js';
import { SharedInformerFactory, type ResourceEventHandler } from '../client/informer.js';
import type { RestClient, ResourceRef } from '../client/rest.js';
import {
  NAMESPACES,
  NODES,
  PERSISTENTVOLUMECLAIMS,
  PERSISTENTVOLUMES,
  PODDISRUPTIONBUDGETS,
  PODS,
  REPLICASETS,
  REPLICATIONCONTROLLERS,
  SERVICES,
  STATEFULSETS,
  STORAGECLASSES,
} from '../client/typed-refs.js';

export interface SourceTypes {
  pods: Pod;
  nodes: Node;
  namespaces: Namespace;
  persistentvolumeclaims: PersistentVolumeClaim;
  persistentvolumes: PersistentVolume;
  storageclasses: StorageClass;
  poddisruptionbudgets: PodDisruptionBudget;
  services: Service;
  replicasets: ReplicaSet;
  statefulsets: StatefulSet;
  replicationcontrollers: ReplicationController;
}
export type SourceKind = keyof SourceTypes;

export const SOURCE_KINDS: readonly SourceKind[] = [
  'pods',
  'nodes',
  'namespaces',
  'persistentvolumeclaims',
  'persistentvolumes',
  'storageclasses',
  'poddisruptionbudgets',
  'services',
  'replicasets',
  'statefulsets',
  'replicationcontrollers',
];

/** A watched collection: a read-only cache plus change notifications. */
export interface ObjectSource<T extends KubeObject> {
  list(namespace?: string): T[];
  get(namespace: string | undefined, name: string): T | undefined;
  addHandler(handler: ResourceEventHandler<T>): void;
}

/** Kinds the scheduler writes besides pods. */
export type PatchKind = 'persistentvolumes' | 'persistentvolumeclaims';

export interface SchedulerClient {
  source<K extends SourceKind>(kind: K): ObjectSource<SourceTypes[K]>;
  /** Starts the watches and resolves once every collection has its initial list (false if aborted). */
  start(signal?: AbortSignal): Promise<boolean>;
  stop(): Promise<void>;
  /** POST pods/NAME/binding. */
  bind(pod: Pod, nodeName: string): Promise<void>;
  /** A JSON merge patch of pods/NAME/status. */
  patchPodStatus(pod: Pod, status: Record<string, unknown>): Promise<void>;
  deletePod(pod: Pod): Promise<void>;
  /** A JSON merge patch of another object (volume binding). */
  patch(
    kind: PatchKind,
    namespace: string | undefined,
    name: string,
    patch: Record<string, unknown>,
  ): Promise<void>;
  event(obj: KubeObject, type: EventType, reason: string, message: string, reportingController: string): void;
}

const REFS: Record<SourceKind, ResourceRef> = {
  pods: PODS,
  nodes: NODES,
  namespaces: NAMESPACES,
  persistentvolumeclaims: PERSISTENTVOLUMECLAIMS,
  persistentvolumes: PERSISTENTVOLUMES,
  storageclasses: STORAGECLASSES,
  poddisruptionbudgets: PODDISRUPTIONBUDGETS,
  services: SERVICES,
  replicasets: REPLICASETS,
  statefulsets: STATEFULSETS,
  replicationcontrollers: REPLICATIONCONTROLLERS,
};

/** The SchedulerClient of a real cluster: shared informers for reads, the REST API for writes. */
export function restSchedulerClient(rest: RestClient, opts: { hostname?: string } = {}): SchedulerClient {
  const factory = new SharedInformerFactory(rest, { resyncPeriodMs: 0, stripManagedFields: true });
  const broadcaster = new EventBroadcaster(rest);
  const recorders = new Map<string, ReturnType<EventBroadcaster['newRecorder']>>();
  const sources = new Map<SourceKind, ObjectSource<KubeObject>>();
  const sourceFor = <K extends SourceKind>(kind: K): ObjectSource<SourceTypes[K]> => {
    let s = sources.get(kind);
    if (!s) {
      // Terminal pods hold no resources: the scheduler's pod informer leaves them out, as upstream's.
      const inf =
        kind === 'pods'
          ? factory.informerFor<KubeObject>(REFS[kind], {
              fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed',
            })
          : factory.informerFor<KubeObject>(REFS[kind]);
      s = {
        list: (ns) => inf.list(ns),
        get: (ns, name) => inf.get(ns, name),
        addHandler: (h) => {
          inf.addEventHandler(h);
        },
      };
      sources.set(kind, s);
    }
    return s as unknown as ObjectSource<SourceTypes[K]>;
  };
  return {
    source: sourceFor,
    async start(signal) {
      for (const k of SOURCE_KINDS) sourceFor(k);
      factory.start();
      return factory.waitForCacheSync(signal);
    },
    async stop() {
      await factory.shutdown();
      await broadcaster.shutdown();
    },
    async bind(pod, nodeName) {
      const ns = pod.metadata.namespace ?? 'default';
      const name = pod.metadata.name ?? '';
      const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/binding`;
      await rest.request('POST', path, {
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace: ns, uid: pod.metadata.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        },
      });
    },
    async patchPodStatus(pod, status) {
      await rest.patch(
        PODS,
        pod.metadata.namespace,
        pod.metadata.name ?? '',
        'merge',
        { status },
        { subresource: 'status' },
      );
    },
    async deletePod(pod) {
      await rest.delete(PODS, pod.metadata.namespace, pod.metadata.name ?? '');
    },
    async patch(kind, namespace, name, patch) {
      await rest.patch(REFS[kind], namespace, name, 'merge', patch);
    },
    event(obj, type, reason, message, reportingController) {
      let rec = recorders.get(reportingController);
      if (!rec) {
        rec = broadcaster.newRecorder({ component: reportingController, host: opts.hostname });
        recorders.set(reportingController, rec);
      }
      rec.event(obj, type, reason, message);
    },
  };
}
