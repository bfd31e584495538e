// The Job controller (upstream's pkg/controller/job): runs pods until enough of them succeed.
//
// sync(key), level-triggered:
// 1. Read the Job from the cache (gone: forget it). Jobs managed by another controller are skipped.
// 2. Claim pods by selector (adopt orphans, release the ones no longer matching).
// 3. A finished Job only has the tracking finalizers of its pods removed.
// 4. Newly finished pods (still carrying batch.kubernetes.io/job-tracking) are classified: success,
//    failure (phase Failed, or deleted before succeeding unless podReplacementPolicy is Failed), or
//    ignored by the pod failure policy. They feed the per-Job failure back-off record.
// 5. Decide whether the Job has failed (backoffLimit exceeded — failed pods for restartPolicy Never,
//    container restarts of active pods for OnFailure —, activeDeadlineSeconds passed, a FailJob
//    rule) or succeeded (completions reached, or every index completed when Indexed). The interim
//    FailureTarget / SuccessCriteriaMet condition is written at once; remaining active pods are
//    deleted; Failed / Complete follow once no pod is left terminating and every finished pod is
//    counted.
// 6. Otherwise manage pods: suspend deletes active pods; else create (slow start, honouring the
//    failure back-off) or delete pods so that no more than parallelism are active and no more than
//    the remaining completions are running.
// 7. Count finished pods the way upstream does: first record their UIDs in
//    status.uncountedTerminatedPods, then remove their finalizers, then move them into
//    status.succeeded / status.failed (and completedIndexes), so a pod is counted exactly once.
import type { Job, JobStatus, Pod } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { EventRecorder } from '../../client/events.js';
import {
  deletedObject,
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type SharedInformer,
} from '../../client/informer.js';
import { createLogger, type Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { formatTime, parseTime, realClock, type Clock } from '../common/clock.js';
import { claimObjects } from '../common/controller-ref.js';
import { errText, isNamespaceTerminating, isNotFound } from '../common/errors.js';
import { ControllerExpectations } from '../common/expectations.js';
import {
  CONTROLLER_UID_INDEX,
  controllerUidIndexFunc,
  ensureIndex,
  ownedAndOrphans,
} from '../common/indexes.js';
import { controllerRef, type JsonPatchOp } from '../common/pod-control.js';
import { controllerRefOf, isPodActive, isPodReady, podKey, podsToDelete } from '../common/pods.js';
import { queueRunner, type QueueRunner } from '../common/runner.js';
import { selectorMatcher } from '../common/selectors.js';
import { SLOW_START_INITIAL_BATCH_SIZE, slowStartBatch } from '../common/slow-start.js';
import type { JobPodControl } from './pod-control.js';
import { matchPodFailurePolicy } from './pod-failure-policy.js';
import {
  COMPLETION_INDEX_ANNOTATION,
  COMPLETION_INDEX_ENV,
  COMPLETION_INDEX_LABEL,
  COND_COMPLETE,
  COND_FAILED,
  COND_FAILURE_TARGET,
  COND_SUCCESS_CRITERIA_MET,
  COND_SUSPENDED,
  DEFAULT_POD_FAILURE_BACKOFF_MS,
  JOB_CONTROLLER_NAME,
  JOB_TRACKING_FINALIZER,
  MAX_POD_CREATE_DELETE_PER_SYNC,
  MAX_POD_FAILURE_BACKOFF_MS,
  MAX_UNCOUNTED_PODS,
  MSG_BACKOFF_LIMIT,
  MSG_COMPLETIONS_REACHED,
  MSG_DEADLINE,
  REASON_BACKOFF_LIMIT_EXCEEDED,
  REASON_COMPLETIONS_REACHED,
  REASON_DEADLINE_EXCEEDED,
  REASON_POD_FAILURE_POLICY,
  REASON_SUCCESS_POLICY,
  completionIndex,
  conditionTrue,
  findCondition,
  formatIndexes,
  hasTrackingFinalizer,
  isJobFinished,
  matchSuccessPolicy,
  parseIndexes,
  podFailureBackoffMs,
  podFinishTime,
  setCondition,
} from './util.js';

const jobsFinished = metrics.counter(
  'k8ts_job_finished_total',
  'Jobs the job controller finished, by completion mode and result.',
);
const jobPodsCreated = metrics.counter('k8ts_job_pods_created_total', 'Pods created by the job controller.');
const jobPodsFinished = metrics.counter(
  'k8ts_job_pods_finished_total',
  'Finished job pods counted, by result.',
);

/** Writes besides pods: status updates and fresh reads. */
export interface JobClient {
  updateStatus(job: Job): Promise<Job>;
}

export interface JobControllerOptions {
  jobInformer: SharedInformer<Job>;
  podInformer: SharedInformer<Pod>;
  podControl: JobPodControl;
  client: JobClient;
  /** Re-reads a Job from the server (adoption checks). */
  getJob: (namespace: string, name: string) => Promise<Job>;
  recorder: EventRecorder;
  clock?: Clock;
  logger?: Logger;
  /** Base and cap of the pod failure back-off (upstream: 10 s doubling, at most 10 min). */
  podFailureBackoffMs?: number;
  maxPodFailureBackoffMs?: number;
}

interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime: number | undefined;
}

/** What one sync decided the job's end is, before it is final. */
interface Finish {
  type: typeof COND_COMPLETE | typeof COND_FAILED;
  reason: string;
  message: string;
}

function isPodFailed(pod: Pod, job: Job): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Failed') return true;
  const onlyFailed = job.spec?.podReplacementPolicy === 'Failed' || !!job.spec?.podFailurePolicy;
  if (onlyFailed) return false;
  return !!pod.metadata.deletionTimestamp && phase !== 'Succeeded';
}

function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Sum of container restarts of pending or running pods (restartPolicy OnFailure). */
function pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
  if (job.spec?.template.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    const phase = p.status?.phase;
    if (phase !== 'Running' && phase !== 'Pending') continue;
    for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])])
      restarts += s.restartCount ?? 0;
  }
  const limit = job.spec.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

function rvNumber(obj: KubeObject | undefined): number | undefined {
  const v = obj?.metadata.resourceVersion;
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

export class JobController {
  readonly expectations: ControllerExpectations;
  readonly runner: QueueRunner;
  private readonly jobInformer: SharedInformer<Job>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly podControl: JobPodControl;
  private readonly client: JobClient;
  private readonly getJob: (namespace: string, name: string) => Promise<Job>;
  private readonly recorder: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly backoff = new Map<string, BackoffRecord>();
  /** Pod UIDs whose tracking finalizer this controller removed, until the pod cache shows it. */
  private readonly finalizerRemovals = new Map<string, Set<string>>();
  /** The newest Job this controller wrote, used while the cache still holds an older copy. */
  private readonly written = new Map<string, Job>();

  constructor(o: JobControllerOptions) {
    this.jobInformer = o.jobInformer;
    this.podInformer = o.podInformer;
    this.podControl = o.podControl;
    this.client = o.client;
    this.getJob = o.getJob;
    this.recorder = o.recorder;
    this.clock = o.clock ?? realClock;
    this.log = o.logger ?? createLogger('controller').child('job');
    this.backoffBaseMs = o.podFailureBackoffMs ?? DEFAULT_POD_FAILURE_BACKOFF_MS;
    this.backoffMaxMs = o.maxPodFailureBackoffMs ?? MAX_POD_FAILURE_BACKOFF_MS;
    this.expectations = new ControllerExpectations(this.clock);
    ensureIndex(this.podInformer, CONTROLLER_UID_INDEX, controllerUidIndexFunc);
    this.runner = queueRunner('job', this.log, (key) => this.sync(key));
  }

  registerHandlers(): void {
    this.jobInformer.addEventHandler({
      onAdd: (job) => this.enqueue(job),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (obj) => {
        const job = deletedObject(obj);
        const key = metaNamespaceKey(job);
        this.expectations.deleteExpectations(key);
        this.backoff.delete(key);
        this.written.delete(key);
        void this.releaseOrphanedPods(job);
        this.runner.queue.add(key);
      },
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.onPod(pod, 'add'),
      onUpdate: (old, cur) => {
        this.onPod(cur, 'update');
        const oldRef = controllerRefOf(old);
        const curRef = controllerRefOf(cur);
        if (oldRef && curRef?.uid !== oldRef.uid) {
          const job = this.jobFor(old);
          if (job) this.enqueue(job);
        }
      },
      onDelete: (obj) => this.onPodDeleted(obj),
    });
  }

  private enqueue(job: KubeObject): void {
    this.runner.queue.add(metaNamespaceKey(job));
  }

  private jobFor(pod: Pod): Job | undefined {
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== 'Job') return undefined;
    const job = this.jobInformer.get(pod.metadata.namespace, ref.name);
    return job && job.metadata.uid === ref.uid ? job : undefined;
  }

  private onPod(pod: Pod, how: 'add' | 'update'): void {
    const job = this.jobFor(pod);
    if (job) {
      const key = metaNamespaceKey(job);
      if (how === 'add') this.expectations.creationObserved(key);
      if (pod.metadata.deletionTimestamp) this.expectations.deletionObserved(key, podKey(pod));
      if (!hasTrackingFinalizer(pod)) this.finalizerRemovals.get(key)?.delete(pod.metadata.uid ?? '');
      this.enqueue(job);
      return;
    }
    if (controllerRefOf(pod)) {
      // Controlled by a Job that is gone: its tracking finalizer must still go.
      if (
        hasTrackingFinalizer(pod) &&
        controllerRefOf(pod)?.kind === 'Job' &&
        !this.jobInformer.get(pod.metadata.namespace, controllerRefOf(pod)?.name ?? '')
      )
        void this.removeFinalizer(pod).catch((err: unknown) =>
          this.log.debug('removing finalizer of orphan pod', { pod: podKey(pod), err: errText(err) }),
        );
      return;
    }
    // An orphan: wake the Jobs whose selector matches, one may adopt it.
    for (const j of this.jobInformer.list(pod.metadata.namespace ?? ''))
      if (selectorMatcher(j.spec?.selector)(pod.metadata.labels)) this.enqueue(j);
  }

  private onPodDeleted(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const job = this.jobFor(pod);
    if (!job) return;
    const key = metaNamespaceKey(job);
    this.expectations.deletionObserved(key, podKey(pod));
    this.finalizerRemovals.get(key)?.delete(pod.metadata.uid ?? '');
    this.enqueue(job);
  }

  /** When a Job is deleted, its pods' tracking finalizers are removed so they can go away. */
  private async releaseOrphanedPods(job: Job): Promise<void> {
    for (const pod of this.podInformer.byIndex(CONTROLLER_UID_INDEX, job.metadata.uid ?? '')) {
      if (!hasTrackingFinalizer(pod)) continue;
      try {
        await this.removeFinalizer(pod);
      } catch (err) {
        this.log.debug('removing tracking finalizer', { pod: podKey(pod), err: errText(err) });
      }
    }
  }

  private async removeFinalizer(pod: Pod): Promise<void> {
    const fins = pod.metadata.finalizers ?? [];
    const i = fins.indexOf(JOB_TRACKING_FINALIZER);
    if (i < 0) return;
    const ops: JsonPatchOp[] = [
      { op: 'test', path: `/metadata/finalizers/${i}`, value: JOB_TRACKING_FINALIZER },
      { op: 'remove', path: `/metadata/finalizers/${i}` },
    ];
    try {
      await this.podControl.patchPod(pod.metadata.namespace ?? '', pod.metadata.name ?? '', ops);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  /** The Job from the cache, or the newer copy this controller wrote if the cache lags behind. */
  private current(key: string): Job | undefined {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.jobInformer.get(namespace, name);
    const mine = this.written.get(key);
    if (!cached) return undefined;
    if (mine && mine.metadata.uid === cached.metadata.uid) {
      const a = rvNumber(mine);
      const b = rvNumber(cached);
      if (a !== undefined && b !== undefined && a > b) return mine;
    }
    this.written.delete(key);
    return cached;
  }

  private async claimPods(job: Job): Promise<Pod[]> {
    const match = selectorMatcher(job.spec?.selector);
    const candidates = ownedAndOrphans(this.podInformer, job);
    return claimObjects<Pod>(candidates, {
      owner: job,
      match: (p) => match(p.metadata.labels),
      recheckOwner: () => this.getJob(job.metadata.namespace ?? '', job.metadata.name ?? ''),
      patch: (p, ops) => this.podControl.patchPod(p.metadata.namespace ?? '', p.metadata.name ?? '', ops),
      ref: controllerRef(job),
    });
  }

  async sync(key: string): Promise<void> {
    const cached = this.current(key);
    if (!cached) {
      this.expectations.deleteExpectations(key);
      this.backoff.delete(key);
      this.finalizerRemovals.delete(key);
      return;
    }
    const job = structuredClone<Job>(cached);
    if (job.spec?.managedBy && job.spec.managedBy !== JOB_CONTROLLER_NAME) return;
    // Expectations are read before the pods, so a pod arriving meanwhile defers the sync, not corrupts it.
    const satisfied = this.expectations.satisfied(key);
    const pods = await this.claimPods(job);
    if (isJobFinished(job)) {
      for (const p of pods) if (hasTrackingFinalizer(p)) await this.removeFinalizer(p);
      return;
    }
    await this.syncRunning(key, job, pods, satisfied);
  }

  private async syncRunning(key: string, job: Job, pods: Pod[], satisfied: boolean): Promise<void> {
    const spec = job.spec!;
    const now = this.clock.now();
    const nowIso = formatTime(now);
    const status: JobStatus = structuredClone(job.status ?? {});
    const indexed = spec.completionMode === 'Indexed';
    const completions = spec.completions ?? undefined;
    const uncountedSucceeded = new Set(status.uncountedTerminatedPods?.succeeded ?? []);
    const uncountedFailed = new Set(status.uncountedTerminatedPods?.failed ?? []);
    const removed = this.finalizerRemovals.get(key) ?? new Set<string>();
    const podsByUid = new Map(pods.map((p) => [p.metadata.uid ?? '', p]));

    // 4. Newly finished pods.
    const newSucceeded: Pod[] = [];
    const newFailed: Pod[] = [];
    const ignored: Pod[] = [];
    let failJob: string | undefined;
    for (const p of pods) {
      const uid = p.metadata.uid ?? '';
      if (
        !hasTrackingFinalizer(p) ||
        removed.has(uid) ||
        uncountedSucceeded.has(uid) ||
        uncountedFailed.has(uid)
      )
        continue;
      if (
        uncountedSucceeded.size + uncountedFailed.size + newSucceeded.length + newFailed.length >=
        MAX_UNCOUNTED_PODS
      )
        break;
      if (p.status?.phase === 'Succeeded') newSucceeded.push(p);
      else if (isPodFailed(p, job)) {
        const m = p.status?.phase === 'Failed' ? matchPodFailurePolicy(spec, p) : undefined;
        if (m?.action === 'Ignore') {
          ignored.push(p);
          continue;
        }
        if (m?.action === 'FailJob') failJob ??= m.message;
        newFailed.push(p);
      }
    }
    this.recordBackoff(key, newSucceeded, newFailed, now);

    const completedIndexes = indexed
      ? parseIndexes(status.completedIndexes, completions ?? 0)
      : new Set<number>();
    for (const uid of uncountedSucceeded) {
      const idx = podsByUid.get(uid) ? completionIndex(podsByUid.get(uid)!) : undefined;
      if (idx !== undefined && idx < (completions ?? 0)) completedIndexes.add(idx);
    }
    for (const p of newSucceeded) {
      const idx = completionIndex(p);
      if (indexed && idx !== undefined && idx < (completions ?? 0)) completedIndexes.add(idx);
    }
    // Indexed Jobs count succeeded indexes; the index is enough to never count a pod twice.
    const succeeded = indexed
      ? completedIndexes.size
      : (status.succeeded ?? 0) + uncountedSucceeded.size + newSucceeded.length;
    const failed = (status.failed ?? 0) + uncountedFailed.size + newFailed.length;

    const active = pods.filter(isPodActive);
    let terminating = pods.filter((p) => !!p.metadata.deletionTimestamp && !isTerminal(p)).length;
    const suspended = spec.suspend === true;
    let resumed = false;
    if (!suspended && status.startTime === undefined) status.startTime = nowIso;

    // 5. Has the job ended?
    let finish: Finish | undefined;
    let interimAdded = false;
    const failureTarget = findCondition(status, COND_FAILURE_TARGET);
    if (failureTarget?.status === 'True')
      finish = {
        type: COND_FAILED,
        reason: failureTarget.reason ?? '',
        message: failureTarget.message ?? '',
      };
    else if (conditionTrue(status, COND_SUCCESS_CRITERIA_MET)) {
      const c = findCondition(status, COND_SUCCESS_CRITERIA_MET)!;
      finish = {
        type: COND_COMPLETE,
        reason: c.reason ?? REASON_COMPLETIONS_REACHED,
        message: c.message ?? MSG_COMPLETIONS_REACHED,
      };
    } else {
      let f: Finish | undefined;
      if (failJob !== undefined)
        f = { type: COND_FAILED, reason: REASON_POD_FAILURE_POLICY, message: failJob };
      else if (failed > (spec.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, pods))
        f = { type: COND_FAILED, reason: REASON_BACKOFF_LIMIT_EXCEEDED, message: MSG_BACKOFF_LIMIT };
      else if (this.pastActiveDeadline(job, status, now))
        f = { type: COND_FAILED, reason: REASON_DEADLINE_EXCEEDED, message: MSG_DEADLINE };
      if (f) {
        finish = f;
        interimAdded = setCondition(status, COND_FAILURE_TARGET, 'True', f.reason, f.message, nowIso);
      } else if (indexed) {
        const msg = matchSuccessPolicy(spec, completions ?? 0, completedIndexes);
        if (msg !== undefined) {
          finish = { type: COND_COMPLETE, reason: REASON_SUCCESS_POLICY, message: msg };
          interimAdded = setCondition(
            status,
            COND_SUCCESS_CRITERIA_MET,
            'True',
            REASON_SUCCESS_POLICY,
            msg,
            nowIso,
          );
        }
      }
    }

    // Once the Job has failed, every pod still holding a finalizer that did not succeed counts as failed.
    if (finish?.type === COND_FAILED) {
      for (const p of pods) {
        const uid = p.metadata.uid ?? '';
        if (!hasTrackingFinalizer(p) || removed.has(uid) || p.status?.phase === 'Succeeded') continue;
        if (uncountedFailed.has(uid) || newFailed.includes(p) || ignored.includes(p)) continue;
        if (indexed && (completionIndex(p) === undefined || completionIndex(p)! >= (completions ?? 0)))
          continue;
        newFailed.push(p);
      }
    }
    const jobDeleting = !!job.metadata.deletionTimestamp;
    if (jobDeleting) {
      // The Job is going away: its pods only need their finalizers removed.
      for (const p of pods)
        if (
          hasTrackingFinalizer(p) &&
          !removed.has(p.metadata.uid ?? '') &&
          !newSucceeded.includes(p) &&
          !newFailed.includes(p)
        )
          ignored.push(p);
    }

    let activeCount = active.length;
    let manageErr: unknown;
    if (jobDeleting) {
      // No pods are created or deleted for a Job being deleted.
    } else if (finish) {
      const { deleted, err } = await this.deletePods(key, job, active);
      activeCount -= deleted;
      terminating += deleted;
      manageErr = err;
    } else if (suspended) {
      const { deleted, err } = await this.deletePods(key, job, active);
      activeCount -= deleted;
      terminating += deleted;
      manageErr = err;
      if (setCondition(status, COND_SUSPENDED, 'True', 'JobSuspended', 'Job suspended', nowIso))
        this.recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
    } else {
      if (conditionTrue(status, COND_SUSPENDED)) {
        setCondition(status, COND_SUSPENDED, 'False', 'JobResumed', 'Job resumed', nowIso);
        this.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
        status.startTime = nowIso;
        resumed = true;
      }
      if (satisfied) {
        try {
          const r = await this.manage(key, job, active, succeeded, completedIndexes);
          activeCount += r.created - r.deleted;
          terminating += r.deleted;
        } catch (err) {
          manageErr = err;
        }
      }
      const complete = indexed
        ? completions !== undefined && completedIndexes.size >= completions
        : completions === undefined
          ? succeeded > 0 && activeCount === 0
          : succeeded >= completions && activeCount === 0;
      if (complete) {
        finish = {
          type: COND_COMPLETE,
          reason: REASON_COMPLETIONS_REACHED,
          message: MSG_COMPLETIONS_REACHED,
        };
        interimAdded = setCondition(
          status,
          COND_SUCCESS_CRITERIA_MET,
          'True',
          REASON_COMPLETIONS_REACHED,
          MSG_COMPLETIONS_REACHED,
          nowIso,
        );
        if (indexed && activeCount > 0) {
          const { deleted } = await this.deletePods(key, job, active);
          activeCount -= deleted;
          terminating += deleted;
        }
      }
    }

    // 7. Count finished pods through uncountedTerminatedPods.
    const readyCount = active.filter(isPodReady).length;
    status.active = Math.max(0, activeCount);
    status.ready = readyCount;
    status.terminating = terminating;
    if (!indexed) for (const p of newSucceeded) uncountedSucceeded.add(p.metadata.uid ?? '');
    if (indexed) {
      status.completedIndexes = formatIndexes(completedIndexes);
      status.succeeded = completedIndexes.size;
    }
    for (const p of newFailed) uncountedFailed.add(p.metadata.uid ?? '');
    status.uncountedTerminatedPods = uncountedOf(uncountedSucceeded, uncountedFailed);
    let current = job;
    const hasNew =
      newSucceeded.length + newFailed.length > 0 ||
      (indexed && status.completedIndexes !== (job.status?.completedIndexes ?? ''));
    if (hasNew || interimAdded || resumed) current = await this.writeStatus(key, current, status);

    const toRelease = [...newSucceeded, ...newFailed, ...ignored];
    for (const uid of [...uncountedSucceeded, ...uncountedFailed]) {
      const p = podsByUid.get(uid);
      if (p && hasTrackingFinalizer(p) && !toRelease.includes(p)) toRelease.push(p);
    }
    const released = new Set<string>();
    const errors: unknown[] = [];
    await Promise.all(
      toRelease.map(async (p) => {
        const uid = p.metadata.uid ?? '';
        try {
          await this.removeFinalizer(p);
          released.add(uid);
          let set = this.finalizerRemovals.get(key);
          if (!set) this.finalizerRemovals.set(key, (set = new Set()));
          set.add(uid);
        } catch (err) {
          errors.push(err);
        }
      }),
    );
    const countable = (uid: string): boolean => {
      const p = podsByUid.get(uid);
      return !p || !hasTrackingFinalizer(p) || released.has(uid);
    };
    for (const uid of [...uncountedSucceeded]) {
      if (!countable(uid)) continue;
      uncountedSucceeded.delete(uid);
      if (!indexed) status.succeeded = (status.succeeded ?? 0) + 1;
      jobPodsFinished.inc({ result: 'succeeded' });
    }
    if (indexed) for (let i = 0; i < newSucceeded.length; i++) jobPodsFinished.inc({ result: 'succeeded' });
    for (const uid of [...uncountedFailed]) {
      if (!countable(uid)) continue;
      uncountedFailed.delete(uid);
      status.failed = (status.failed ?? 0) + 1;
      jobPodsFinished.inc({ result: 'failed' });
    }
    status.succeeded ??= 0;
    status.failed ??= 0;
    status.uncountedTerminatedPods = uncountedOf(uncountedSucceeded, uncountedFailed);

    let finishedNow = false;
    if (
      finish &&
      uncountedSucceeded.size === 0 &&
      uncountedFailed.size === 0 &&
      terminating === 0 &&
      status.active === 0 &&
      manageErr === undefined
    ) {
      setCondition(status, finish.type, 'True', finish.reason, finish.message, nowIso);
      if (finish.type === COND_COMPLETE) status.completionTime = nowIso;
      finishedNow = true;
    }
    if (statusDiffers(current.status, status)) current = await this.writeStatus(key, current, status);
    if (finishedNow) {
      jobsFinished.inc({ mode: spec.completionMode ?? 'NonIndexed', result: finish!.type });
      if (finish!.type === COND_COMPLETE) {
        if (spec.completions !== undefined && (status.succeeded ?? 0) > spec.completions)
          this.recorder.event(
            job,
            'Warning',
            'TooManySucceededPods',
            'Too many succeeded pods running after completion count reached',
          );
        this.recorder.event(job, 'Normal', 'Completed', 'Job completed');
      } else this.recorder.event(job, 'Warning', finish!.reason, finish!.message);
      this.backoff.delete(key);
    } else if (!suspended && spec.activeDeadlineSeconds !== undefined && !finish) {
      const start = parseTime(status.startTime) ?? now;
      this.runner.queue.addAfter(key, Math.max(0, start + spec.activeDeadlineSeconds * 1000 - now));
    }
    if (manageErr !== undefined) throw manageErr instanceof Error ? manageErr : new Error(errText(manageErr));
    if (errors.length > 0) throw errors[0] instanceof Error ? errors[0] : new Error(errText(errors[0]));
  }

  private pastActiveDeadline(job: Job, status: JobStatus, now: number): boolean {
    const ads = job.spec?.activeDeadlineSeconds;
    if (ads === undefined || job.spec?.suspend === true) return false;
    const start = parseTime(status.startTime);
    if (start === undefined) return false;
    return now - start >= ads * 1000;
  }

  private recordBackoff(key: string, succeeded: Pod[], failed: Pod[], now: number): void {
    if (succeeded.length + failed.length === 0) return;
    const rec = this.backoff.get(key) ?? { failuresAfterLastSuccess: 0, lastFailureTime: undefined };
    const events = [
      ...succeeded.map((p) => ({ ok: true, t: podFinishTime(p) ?? now })),
      ...failed.map((p) => ({ ok: false, t: podFinishTime(p) ?? now })),
    ].sort((a, b) => a.t - b.t);
    for (const e of events) {
      if (e.ok) {
        rec.failuresAfterLastSuccess = 0;
        rec.lastFailureTime = undefined;
      } else {
        rec.failuresAfterLastSuccess++;
        rec.lastFailureTime = Math.max(rec.lastFailureTime ?? 0, e.t);
      }
    }
    this.backoff.set(key, rec);
  }

  /** How long pod creation must still wait after the last failures (0: create now). */
  remainingBackoffMs(key: string): number {
    const rec = this.backoff.get(key);
    if (!rec || rec.failuresAfterLastSuccess === 0 || rec.lastFailureTime === undefined) return 0;
    const d = podFailureBackoffMs(rec.failuresAfterLastSuccess, this.backoffBaseMs, this.backoffMaxMs);
    return Math.max(0, rec.lastFailureTime + d - this.clock.now());
  }

  private async deletePods(
    key: string,
    job: Job,
    pods: readonly Pod[],
  ): Promise<{ deleted: number; err?: unknown }> {
    if (pods.length === 0) return { deleted: 0 };
    const victims = pods.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    this.expectations.expectDeletions(key, victims.map(podKey));
    let deleted = 0;
    let firstErr: unknown;
    await Promise.all(
      victims.map(async (p) => {
        try {
          await this.podControl.deletePod(p.metadata.namespace ?? '', p.metadata.name ?? '', job);
          deleted++;
        } catch (err) {
          this.expectations.deletionObserved(key, podKey(p));
          if (isNotFound(err)) return;
          firstErr ??= err;
        }
      }),
    );
    return firstErr === undefined ? { deleted } : { deleted, err: firstErr };
  }

  /** Creates or deletes pods towards the wanted number of active pods. */
  private async manage(
    key: string,
    job: Job,
    active: Pod[],
    succeeded: number,
    completedIndexes: Set<number>,
  ): Promise<{ created: number; deleted: number }> {
    const spec = job.spec!;
    const parallelism = spec.parallelism ?? 1;
    const completions = spec.completions ?? undefined;
    const indexed = spec.completionMode === 'Indexed';
    let want: number;
    if (completions === undefined) want = succeeded > 0 ? active.length : parallelism;
    else {
      const remaining = indexed ? completions - completedIndexes.size : completions - succeeded;
      want = Math.max(0, Math.min(remaining, parallelism));
    }

    // Indexed: pods with an invalid or completed index, or a second pod for an index, go first.
    const extra: Pod[] = [];
    let keep = active;
    if (indexed) {
      const seen = new Set<number>();
      keep = [];
      const sorted = [...active].sort((a, b) => Number(isPodReady(b)) - Number(isPodReady(a)));
      for (const p of sorted) {
        const idx = completionIndex(p);
        if (idx === undefined || idx >= (completions ?? 0) || completedIndexes.has(idx) || seen.has(idx))
          extra.push(p);
        else {
          seen.add(idx);
          keep.push(p);
        }
      }
    }
    const surplus = Math.max(0, keep.length - want);
    const victims = [...extra, ...podsToDelete(keep, keep, surplus, this.clock.now())].slice(
      0,
      MAX_POD_CREATE_DELETE_PER_SYNC,
    );
    if (victims.length > 0) {
      const { deleted, err } = await this.deletePods(key, job, victims);
      if (err !== undefined) throw err instanceof Error ? err : new Error(errText(err));
      if (keep.length >= want) return { created: 0, deleted };
    }
    const missing = Math.min(want - keep.length, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (missing <= 0) return { created: 0, deleted: victims.length };
    const wait = this.remainingBackoffMs(key);
    if (wait > 0) {
      this.log.debug('pod creation waits for the failure back-off', { key, waitMs: wait });
      this.runner.queue.addAfter(key, wait);
      return { created: 0, deleted: victims.length };
    }
    const indexes: Array<number | undefined> = [];
    if (indexed) {
      const taken = new Set(keep.map((p) => completionIndex(p)));
      for (let i = 0; i < (completions ?? 0) && indexes.length < missing; i++)
        if (!completedIndexes.has(i) && !taken.has(i)) indexes.push(i);
    } else for (let i = 0; i < missing; i++) indexes.push(undefined);
    const count = indexes.length;
    this.expectations.expectCreations(key, count);
    let next = 0;
    const { successes, error } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH_SIZE, async () => {
      const idx = indexes[next++];
      try {
        await this.podControl.createPod(job.metadata.namespace ?? '', this.podFor(job, idx), job);
        jobPodsCreated.inc();
      } catch (err) {
        if (isNamespaceTerminating(err)) return;
        throw err;
      }
    });
    for (let i = successes; i < count; i++) this.expectations.creationObserved(key);
    if (error !== undefined) throw error instanceof Error ? error : new Error(errText(error));
    return { created: successes, deleted: victims.length };
  }

  /** The pod for the job (and completion index), with the tracking finalizer. */
  podFor(job: Job, index: number | undefined): Pod {
    const t = job.spec!.template;
    const name = job.metadata.name ?? '';
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: index === undefined ? `${name}-` : `${name}-${index}-`,
        namespace: job.metadata.namespace,
        labels: { ...(t.metadata?.labels ?? {}) },
        annotations: { ...(t.metadata?.annotations ?? {}) },
        finalizers: [
          ...(t.metadata?.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER),
          JOB_TRACKING_FINALIZER,
        ],
        ownerReferences: [controllerRef(job)],
      },
      spec: structuredClone(t.spec ?? { containers: [] }),
    };
    if (Object.keys(pod.metadata.annotations ?? {}).length === 0) delete pod.metadata.annotations;
    if (index !== undefined) {
      pod.metadata.annotations = {
        ...(pod.metadata.annotations ?? {}),
        [COMPLETION_INDEX_ANNOTATION]: String(index),
      };
      pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [COMPLETION_INDEX_LABEL]: String(index) };
      const ps = pod.spec!;
      if (!ps.hostname) ps.hostname = `${name}-${index}`;
      const env = {
        name: COMPLETION_INDEX_ENV,
        valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX_LABEL}']` } },
      };
      for (const c of [...(ps.initContainers ?? []), ...ps.containers])
        if (!(c.env ?? []).some((e) => e.name === COMPLETION_INDEX_ENV)) c.env = [...(c.env ?? []), env];
    }
    return pod;
  }

  private async writeStatus(key: string, base: Job, status: JobStatus): Promise<Job> {
    const updated = await this.client.updateStatus({ ...base, status: structuredClone(status) });
    this.written.set(key, updated);
    return updated;
  }

  run(workers: number): Promise<void> {
    return this.runner.run(workers);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }
}

function uncountedOf(
  succeeded: Set<string>,
  failed: Set<string>,
): NonNullable<JobStatus['uncountedTerminatedPods']> {
  const u: NonNullable<JobStatus['uncountedTerminatedPods']> = {};
  if (succeeded.size > 0) u.succeeded = [...succeeded];
  if (failed.size > 0) u.failed = [...failed];
  return u;
}

function statusDiffers(a: JobStatus | undefined, b: JobStatus): boolean {
  return JSON.stringify(normalize(a ?? {})) !== JSON.stringify(normalize(b));
}

function normalize(s: JobStatus): Record<string, unknown> {
  const out = { ...s };
  const u = out.uncountedTerminatedPods;
  if (u && (u.succeeded ?? []).length === 0 && (u.failed ?? []).length === 0)
    out.uncountedTerminatedPods = {};
  const keys = Object.keys(out).sort();
  const sorted: Record<string, unknown> = {};
  for (const k of keys) sorted[k] = (out as Record<string, unknown>)[k];
  return sorted;
}
