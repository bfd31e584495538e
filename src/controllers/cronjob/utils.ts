// CronJob schedule arithmetic (upstream's pkg/controller/cronjob/utils.go): the most recent
// activation that is due, how many were missed, when the next one comes, and the Job made for a
// scheduled time.
import type { CronJob, Job, ObjectReference } from '../../api/generated/types.js';
import { nextCronTime, type CronSchedule } from '../../api/kinds/cron.js';
import { parseTime } from '../common/clock.js';
import { controllerRef } from '../common/pod-control.js';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Upstream's nextScheduleDelta: requeue this long after the activation, so the clock has surely passed it. */
export const NEXT_SCHEDULE_DELTA_MS = 100;
/** More missed activations than this draw a warning. */
export const MAX_MISSED_REPORTED = 100;

/** The Job name's suffix: the scheduled time in minutes since the epoch (upstream's getTimeHashInMinutes). */
export function timeHashInMinutes(scheduledMs: number): number {
  return Math.floor(scheduledMs / 60_000);
}

export function jobNameFor(cj: CronJob, scheduledMs: number): string {
  return `${cj.metadata.name ?? ''}-${timeHashInMinutes(scheduledMs)}`;
}

/** RFC 3339 of an instant as wall-clock time in a zone, with its offset (Go's Time.Format(RFC3339)). */
export function formatInZone(ms: number, timeZone: string | undefined): string {
  const tz = timeZone ?? 'UTC';
  if (tz === 'UTC' || tz === 'Etc/UTC') return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '00';
  const wall = Date.UTC(
    +get('year'),
    +get('month') - 1,
    +get('day'),
    +get('hour'),
    +get('minute'),
    +get('second'),
  );
  const offMin = Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
  const body = `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`;
  if (offMin === 0) return `${body}Z`;
  const sign = offMin < 0 ? '-' : '+';
  const a = Math.abs(offMin);
  return `${body}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function next(s: CronSchedule, afterMs: number, tz: string | undefined): number | undefined {
  return nextCronTime(s, new Date(afterMs), tz)?.getTime();
}

/**
 * The latest activation in (earliest, now] and how many there were (upstream's
 * mostRecentScheduleTime). Counting stops past MAX_MISSED_REPORTED + 1 for cheapness, since only
 * "more than 100" matters; the most recent time is then found by stepping back from now.
 */
export function mostRecentScheduleTime(
  cj: CronJob,
  now: number,
  s: CronSchedule,
  includeStartingDeadline: boolean,
): { earliest: number; mostRecent: number | undefined; missed: number } {
  let earliest = parseTime(cj.status?.lastScheduleTime) ?? parseTime(cj.metadata.creationTimestamp) ?? now;
  const deadline = cj.spec.startingDeadlineSeconds;
  if (includeStartingDeadline && deadline !== undefined && deadline !== null) {
    const d = now - deadline * 1000;
    if (d > earliest) earliest = d;
  }
  const tz = cj.spec.timeZone ?? undefined;
  const t1 = next(s, earliest, tz);
  if (t1 === undefined || t1 > now) return { earliest, mostRecent: undefined, missed: 0 };
  const t2 = next(s, t1, tz);
  if (t2 === undefined || t2 > now) return { earliest, mostRecent: t1, missed: 1 };
  // Two or more: walk, but never more than a bounded number of steps.
  let missed = 2;
  let last = t2;
  for (;;) {
    const n = next(s, last, tz);
    if (n === undefined || n > now) return { earliest, mostRecent: last, missed };
    missed++;
    last = n;
    if (missed > 10_000) break;
  }
  // Far too many: the most recent one is found from just before now.
  let probe = now - 60_000;
  let found: number | undefined;
  for (let back = 1; found === undefined && back < 64; back *= 2) {
    const candidate = next(s, now - back * 3_600_000, tz);
    if (candidate !== undefined && candidate <= now) {
      probe = candidate;
      found = candidate;
    }
  }
  for (let n = probe; n !== undefined && n <= now;) {
    last = n;
    const nn = next(s, n, tz);
    if (nn === undefined) break;
    n = nn;
  }
  return { earliest, mostRecent: last, missed };
}

/** The next activation after now (for requeueing), plus the delta. */
export function nextScheduleTime(cj: CronJob, now: number, s: CronSchedule): number | undefined {
  return next(s, now, cj.spec.timeZone ?? undefined);
}

export function isJobFinishedOf(job: Job): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return 'Complete';
    if (c.type === 'Failed') return 'Failed';
  }
  return undefined;
}

export function jobReference(job: Job): ObjectReference {
  return {
    kind: 'Job',
    namespace: job.metadata.namespace,
    name: job.metadata.name,
    uid: job.metadata.uid,
    apiVersion: 'batch/v1',
    resourceVersion: job.metadata.resourceVersion,
  };
}

/** The Job a CronJob starts for a scheduled time (upstream's getJobFromTemplate2). */
export function jobFromTemplate(cj: CronJob, scheduledMs: number): Job {
  const tmpl = cj.spec.jobTemplate;
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cj, scheduledMs),
      namespace: cj.metadata.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}) },
      annotations: {
        ...(tmpl.metadata?.annotations ?? {}),
        [SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduledMs, cj.spec.timeZone ?? undefined),
      },
      ownerReferences: [controllerRef(cj)],
    },
    spec: structuredClone(tmpl.spec ?? { template: { spec: { containers: [] } } }),
  };
  if (tmpl.metadata?.finalizers) job.metadata.finalizers = [...tmpl.metadata.finalizers];
  return job;
}

/** When a Job was scheduled: the annotation, else the name's minute suffix. */
export function scheduledTimeOf(job: Job): number | undefined {
  const a = parseTime(job.metadata.annotations?.[SCHEDULED_TIMESTAMP_ANNOTATION]);
  if (a !== undefined) return a;
  const m = /-(\d+)$/.exec(job.metadata.name ?? '');
  return m ? Number(m[1]) * 60_000 : undefined;
}
