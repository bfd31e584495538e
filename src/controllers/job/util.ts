// Job helpers shared by the Job, CronJob and TTL-after-finished controllers: the annotations and
// labels upstream puts on Job pods, the conditions and their reasons, finished-ness, the completed
// index intervals of Indexed Jobs, and the pod failure back-off.
import type { Job, JobCondition, JobSpec, JobStatus, Pod } from '../../api/generated/types.js';
import { parseTime } from '../common/clock.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const COMPLETION_INDEX_LABEL = 'batch.kubernetes.io/job-completion-index';
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
export const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';

export const COND_COMPLETE = 'Complete';
export const COND_FAILED = 'Failed';
export const COND_SUSPENDED = 'Suspended';
export const COND_FAILURE_TARGET = 'FailureTarget';
export const COND_SUCCESS_CRITERIA_MET = 'SuccessCriteriaMet';

export const REASON_BACKOFF_LIMIT_EXCEEDED = 'BackoffLimitExceeded';
export const REASON_DEADLINE_EXCEEDED = 'DeadlineExceeded';
export const REASON_COMPLETIONS_REACHED = 'CompletionsReached';
export const REASON_POD_FAILURE_POLICY = 'PodFailurePolicy';
export const REASON_SUCCESS_POLICY = 'SuccessPolicy';

export const MSG_BACKOFF_LIMIT = 'Job has reached the specified backoff limit';
export const MSG_DEADLINE = 'Job was active longer than specified deadline';
export const MSG_COMPLETIONS_REACHED = 'Reached expected number of succeeded pods';

/** Upstream's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 10 * 60_000;
/** Upstream's MaxUncountedPods and MaxPodCreateDeletePerSync. */
export const MAX_UNCOUNTED_PODS = 500;
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;

export function findCondition(status: JobStatus | undefined, type: string): JobCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function conditionTrue(status: JobStatus | undefined, type: string): boolean {
  return findCondition(status, type)?.status === 'True';
}

/** Complete or Failed (upstream's IsJobFinished). */
export function isJobFinished(job: Job): boolean {
  return conditionTrue(job.status, COND_COMPLETE) || conditionTrue(job.status, COND_FAILED);
}

/** The condition that finished the job, if any. */
export function finishedCondition(job: Job): JobCondition | undefined {
  return (job.status?.conditions ?? []).find(
    (c) => (c.type === COND_COMPLETE || c.type === COND_FAILED) && c.status === 'True',
  );
}

/** When the job finished: completionTime, else the finishing condition's transition (ttl controller). */
export function jobFinishTime(job: Job): number | undefined {
  const c = finishedCondition(job);
  if (!c) return undefined;
  return parseTime(
    c.type === COND_COMPLETE ? (job.status?.completionTime ?? c.lastTransitionTime) : c.lastTransitionTime,
  );
}

/**
 * Sets a condition (upstream's ensureJobConditionStatus): a condition whose status changes gets a
 * new transition time; one whose status stays keeps it but takes the new reason and message.
 * Returns whether anything changed.
 */
export function setCondition(
  status: JobStatus,
  type: string,
  value: 'True' | 'False',
  reason: string,
  message: string,
  nowIso: string,
): boolean {
  const conds = status.conditions ?? [];
  const cur = conds.find((c) => c.type === type);
  if (!cur) {
    if (value === 'False') return false;
    status.conditions = [
      ...conds,
      { type, status: value, reason, message, lastProbeTime: nowIso, lastTransitionTime: nowIso },
    ];
    return true;
  }
  if (cur.status === value && cur.reason === reason && cur.message === message) return false;
  const next: JobCondition = { ...cur, status: value, reason, message, lastProbeTime: nowIso };
  if (cur.status !== value) next.lastTransitionTime = nowIso;
  status.conditions = conds.map((c) => (c === cur ? next : c));
  return true;
}

export function hasTrackingFinalizer(pod: Pod): boolean {
  return (pod.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
}

/** The completion index of an Indexed Job's pod (annotation first, then label), or undefined. */
export function completionIndex(pod: Pod): number | undefined {
  const v =
    pod.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? pod.metadata.labels?.[COMPLETION_INDEX_LABEL];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number.parseInt(v, 10);
}

/** `0-2,4,6-7` → the set of indexes (values at or above `limit` dropped). */
export function parseIndexes(text: string | undefined, limit: number): Set<number> {
  const out = new Set<number>();
  if (!text) return out;
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number.parseInt(m[1]!, 10);
    const b = m[2] === undefined ? a : Number.parseInt(m[2], 10);
    for (let i = a; i <= b && i < limit; i++) out.add(i);
  }
  return out;
}

/** The set of indexes as upstream's compressed interval string. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i]!;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) end = sorted[++i]!;
    parts.push(start === end ? String(start) : `${start}-${end}`);
    i++;
  }
  return parts.join(',');
}

/** The pod failure back-off after n consecutive failures: base × 2^(n-1), capped. */
export function podFailureBackoffMs(
  failures: number,
  baseMs = DEFAULT_POD_FAILURE_BACKOFF_MS,
  maxMs = MAX_POD_FAILURE_BACKOFF_MS,
): number {
  if (failures <= 0) return 0;
  const d = baseMs * 2 ** Math.min(failures - 1, 30);
  return Math.min(d, maxMs);
}

/** When a pod finished: the latest container termination, else its Ready transition, else undefined. */
export function podFinishTime(pod: Pod): number | undefined {
  let latest: number | undefined;
  for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    const t = parseTime(s.state?.terminated?.finishedAt);
    if (t !== undefined && (latest === undefined || t > latest)) latest = t;
  }
  if (latest !== undefined) return latest;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return parseTime(ready?.lastTransitionTime) ?? parseTime(pod.metadata.deletionTimestamp);
}

/**
 * The success policy of an Indexed Job (upstream's matchSuccessPolicy): the first rule whose
 * succeededIndexes have all succeeded (or at least succeededCount of them), or, without
 * succeededIndexes, whose succeededCount indexes have succeeded. Returns the condition message.
 */
export function matchSuccessPolicy(
  spec: JobSpec,
  completions: number,
  succeeded: ReadonlySet<number>,
): string | undefined {
  const rules = spec.successPolicy?.rules ?? [];
  if (succeeded.size === 0) return undefined;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.succeededIndexes !== undefined && rule.succeededIndexes !== null) {
      const required = parseIndexes(rule.succeededIndexes, completions);
      if (required.size === 0) continue;
      let hits = 0;
      for (const ix of required) if (succeeded.has(ix)) hits++;
      const want = rule.succeededCount ?? required.size;
      if (hits >= want) return `Matched rules at index ${i}`;
    } else if (
      rule.succeededCount !== undefined &&
      rule.succeededCount !== null &&
      succeeded.size >= rule.succeededCount
    ) {
      return `Matched rules at index ${i}`;
    }
  }
  return undefined;
}
