// Writes pod statuses to the API server, as the kubelet's status manager: the pod workers say what
// a pod's status should be; a write happens only when that differs from what the server has (or
// what this manager last wrote and the server has not echoed yet), through a work queue with a
// few writers, so a burst of changes becomes a steady stream and only the newest status of a pod
// is written. A pod that finished terminating is then deleted for good (DELETE with
// gracePeriodSeconds=0 and its UID as precondition).
import { StatusError } from '../api/errors.js';
import type { Pod, PodStatus } from '../api/generated/types.js';
import { resourcePath, type RestClient } from '../client/rest.js';
import { PODS } from '../client/typed-refs.js';
import { runWorkers, WorkQueue } from '../client/workqueue.js';
import { createLogger, type Logger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import { podStatusEqual, podStatusPatch } from './pod-status.js';

const statusPatches = metrics.counter('k8ts_agent_pod_status_patches_total', 'Pod status writes, by result.');
const podDeletes = metrics.counter(
  'k8ts_agent_pod_deletes_total',
  'Final pod deletions (grace period 0), by result.',
);

interface Desired {
  namespace: string;
  name: string;
  status: PodStatus | undefined;
  deleteAfter: boolean;
}

export interface StatusManagerOptions {
  client: RestClient;
  /** The pod as the informer has it now. */
  getPod(uid: string): Pod | undefined;
  /**
   * The UID of the API object that carries a pod's status when it is not the pod itself (a static
   * pod's mirror pod); undefined while there is none, so nothing is written.
   */
  apiUid?(uid: string): string | undefined;
  /** Writers (default 32). */
  concurrency?: number;
  log?: Logger;
}

export class StatusManager {
  private readonly desired = new Map<string, Desired>();
  /** What was last written for a pod, and the resourceVersion it was based on. */
  private readonly written = new Map<string, { status: PodStatus; baseRv: string | undefined }>();
  private readonly queue = new WorkQueue<string>({ name: 'agent_pod_status' });
  private readonly log: Logger;
  private running: Promise<void> | undefined;
  private writes = 0;
  /** Pods whose status, as the server has it, is Running and Ready. */
  private readonly ready = new Set<string>();

  constructor(private readonly opts: StatusManagerOptions) {
    this.log = opts.log ?? createLogger('agent.status');
  }

  start(): void {
    this.running ??= runWorkers(this.queue, this.opts.concurrency ?? 32, (uid) => this.sync(uid), {
      logger: this.log,
    });
  }

  async stop(): Promise<void> {
    await this.queue.shutDownWithDrain();
    await this.running;
  }

  /** Status writes made (for benches and tests). */
  get writeCount(): number {
    return this.writes;
  }

  get pending(): number {
    return this.desired.size;
  }

  /** Pods the server knows as Running and Ready, by this manager's account. */
  get readyCount(): number {
    return this.ready.size;
  }

  private noteReady(uid: string, status: PodStatus): void {
    const ok =
      status.phase === 'Running' &&
      status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    if (ok) this.ready.add(uid);
    else this.ready.delete(uid);
  }

  /** The status the pod should have; written if it differs. deleteAfter: delete the pod once written. */
  setPodStatus(pod: Pod, status: PodStatus, deleteAfter = false): void {
    const uid = pod.metadata.uid ?? '';
    if (!deleteAfter && this.upToDate(pod, status)) {
      this.desired.delete(uid);
      this.noteReady(uid, status);
      return;
    }
    this.desired.set(uid, {
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      status,
      deleteAfter,
    });
    this.queue.add(uid);
  }

  /** Delete the pod for good without changing its status (it is already terminal). */
  requestDelete(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    this.desired.set(uid, {
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      status: undefined,
      deleteAfter: true,
    });
    this.queue.add(uid);
  }

  forget(uid: string): void {
    this.desired.delete(uid);
    this.written.delete(uid);
    this.ready.delete(uid);
  }

  private upToDate(pod: Pod, status: PodStatus): boolean {
    if (podStatusEqual(status, pod.status)) {
      // The server's copy says it: what was written need not be remembered any longer.
      this.written.delete(pod.metadata.uid ?? '');
      return true;
    }
    const w = this.written.get(pod.metadata.uid ?? '');
    return w !== undefined && w.baseRv === pod.metadata.resourceVersion && podStatusEqual(status, w.status);
  }

  private async sync(uid: string): Promise<void> {
    const d = this.desired.get(uid);
    if (!d) return;
    this.desired.delete(uid);
    const pod = this.opts.getPod(uid);
    if (!pod) return;
    const apiUid = this.opts.apiUid ? this.opts.apiUid(uid) : uid;
    if (apiUid === undefined) return;
    try {
      if (d.status && !this.upToDate(pod, d.status)) {
        this.writes++;
        await this.opts.client.patch<Pod>(
          PODS,
          d.namespace,
          d.name,
          'merge',
          podStatusPatch(apiUid, d.status),
          {
            subresource: 'status',
          },
        );
        statusPatches.inc({ result: 'ok' });
        this.written.set(uid, { status: d.status, baseRv: pod.metadata.resourceVersion });
      }
      if (d.status) this.noteReady(uid, d.status);
      if (d.deleteAfter) {
        try {
          await this.opts.client.request('DELETE', resourcePath(PODS, d.namespace, d.name), {
            body: {
              kind: 'DeleteOptions',
              apiVersion: 'v1',
              gracePeriodSeconds: 0,
              preconditions: { uid: apiUid },
            },
          });
          podDeletes.inc({ result: 'ok' });
        } catch (err) {
          if (!(err instanceof StatusError && (err.code === 404 || err.code === 409))) throw err;
          podDeletes.inc({ result: 'gone' });
        }
      }
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) {
        statusPatches.inc({ result: 'gone' });
        return;
      }
      statusPatches.inc({ result: 'error' });
      // Retry with back-off unless a newer status replaced this one meanwhile.
      if (!this.desired.has(uid)) this.desired.set(uid, d);
      throw err;
    }
  }
}
