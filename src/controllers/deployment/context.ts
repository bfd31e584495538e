// What the deployment sync functions need from their controller: API writes behind a small
// interface (a fake records them in tests), the event recorder, a clock and the queue.
import type { Deployment, Pod, ReplicaSet } from '../../api/generated/types.js';
import type { EventRecorder } from '../../client/events.js';
import type { Logger } from '../../util/log.js';
import type { Clock } from '../common/clock.js';
import type { JsonPatchOp } from '../common/pod-control.js';

export interface DeploymentClient {
  createReplicaSet(rs: ReplicaSet): Promise<ReplicaSet>;
  updateReplicaSet(rs: ReplicaSet): Promise<ReplicaSet>;
  deleteReplicaSet(namespace: string, name: string): Promise<void>;
  patchReplicaSet(namespace: string, name: string, ops: JsonPatchOp[]): Promise<void>;
  getDeployment(namespace: string, name: string): Promise<Deployment>;
  updateDeployment(d: Deployment): Promise<Deployment>;
  updateDeploymentStatus(d: Deployment): Promise<Deployment>;
}

export interface DeploymentSyncContext {
  readonly client: DeploymentClient;
  readonly recorder: EventRecorder;
  readonly clock: Clock;
  readonly log: Logger;
  /** The cached ReplicaSet (to tell a hash collision from our own ReplicaSet). */
  getCachedReplicaSet(namespace: string, name: string): ReplicaSet | undefined;
  enqueueAfter(d: Deployment, ms: number): void;
  enqueueRateLimited(d: Deployment): void;
}

/** Pods of a deployment grouped by the UID of the ReplicaSet that controls them. */
export type PodMap = Map<string, Pod[]>;
