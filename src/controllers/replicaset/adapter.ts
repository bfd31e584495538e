// ReplicaSet and ReplicationController share one controller, as upstream does: the controller
// works on ReplicaSet-shaped views, and a thin adapter per kind says where the kind lives and how
// its spec reads as a ReplicaSet's (an RC's selector is a plain label map).
import type { ReplicaSet, ReplicationController } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { ResourceRef } from '../../client/rest.js';
import { REPLICASETS, REPLICATIONCONTROLLERS } from '../../client/typed-refs.js';

export interface ReplicaSetKindAdapter {
  readonly ref: ResourceRef;
  readonly kind: string;
  /** Event source component (upstream's). */
  readonly component: string;
  /** The queue's name in metrics. */
  readonly queueName: string;
  /** The object as a ReplicaSet (shares metadata and status; spec converted). */
  toReplicaSet(obj: KubeObject): ReplicaSet;
}

export const replicaSetAdapter: ReplicaSetKindAdapter = {
  ref: REPLICASETS,
  kind: 'ReplicaSet',
  component: 'replicaset-controller',
  queueName: 'replicaset',
  toReplicaSet: (obj): ReplicaSet => obj,
};

export const replicationControllerAdapter: ReplicaSetKindAdapter = {
  ref: REPLICATIONCONTROLLERS,
  kind: 'ReplicationController',
  component: 'replication-controller',
  queueName: 'replicationmanager',
  toReplicaSet(obj) {
    const rc = obj as ReplicationController;
    const spec = rc.spec ?? {};
    const selector = spec.selector ?? spec.template?.metadata?.labels ?? {};
    const rs: ReplicaSet = {
      apiVersion: rc.apiVersion,
      kind: rc.kind,
      metadata: rc.metadata,
      spec: {
        replicas: spec.replicas ?? 1,
        minReadySeconds: spec.minReadySeconds ?? 0,
        selector: { matchLabels: { ...selector } },
        template: spec.template,
      },
    };
    if (rc.status) rs.status = rc.status;
    return rs;
  },
};
