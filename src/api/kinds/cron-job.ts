// batch/v1 CronJob, and batch/v1beta1 CronJob served by conversion (the seeds use it).
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { CronError, parseCron } from './cron.js';
import { validateJobSpecCommon } from './job.js';
import { defaultPodTemplateSpec, templateSpecOf } from './pod-spec.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  arr,
  child,
  clone,
  column,
  containerColumns,
  formatLabelSelector,
  get,
  rec,
  setDefault,
  since,
  spec,
  status,
  str,
  validateLabels,
  validateNonnegative,
  type Obj,
} from './util.js';
import { servedStrategy } from './served-version.js';

export function defaultCronJob(obj: KubeObject): void {
  const s = child(obj, 'spec');
  setDefault(s, 'concurrencyPolicy', 'Allow');
  setDefault(s, 'suspend', false);
  setDefault(s, 'successfulJobsHistoryLimit', 3);
  setDefault(s, 'failedJobsHistoryLimit', 1);
  const jt = child(s, 'jobTemplate');
  const meta = child(jt, 'metadata');
  if (meta.creationTimestamp === null) delete meta.creationTimestamp;
  defaultPodTemplateSpec(rec(child(jt, 'spec').template));
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function validateSchedule(
  schedule: string,
  path: string,
  errs: FieldError[],
  allowTZ: boolean,
  hasTimeZoneField: boolean,
): void {
  try {
    parseCron(schedule);
  } catch (e) {
    errs.push(fieldErr.invalid(path, schedule, e instanceof CronError ? e.message : String(e)));
  }
  if (allowTZ && schedule.includes('TZ') && hasTimeZoneField)
    errs.push(
      fieldErr.invalid(path, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'),
    );
  else if (!allowTZ && schedule.includes('TZ'))
    errs.push(
      fieldErr.invalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'),
    );
}

function validateCronJobSpec(s: Obj, oldSpec: Obj | undefined, errs: FieldError[]): void {
  const schedule = str(s.schedule);
  if (schedule === '') errs.push(fieldErr.required('spec.schedule'));
  else
    validateSchedule(
      schedule,
      'spec.schedule',
      errs,
      str(oldSpec?.schedule).includes('TZ'),
      typeof s.timeZone === 'string',
    );
  validateNonnegative(s.startingDeadlineSeconds, 'spec.startingDeadlineSeconds', errs);
  if (!oldSpec || oldSpec.timeZone !== s.timeZone) {
    const tz = s.timeZone;
    if (typeof tz === 'string') {
      if (tz.toLowerCase() === 'local')
        errs.push(
          fieldErr.invalid(
            'spec.timeZone',
            tz,
            'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
          ),
        );
      else if (!isValidTimeZone(tz))
        errs.push(fieldErr.invalid('spec.timeZone', tz, `unknown time zone ${tz}`));
    }
  }
  const cp = s.concurrencyPolicy;
  if (cp === undefined || cp === '') errs.push(fieldErr.required('spec.concurrencyPolicy'));
  else if (!['Allow', 'Forbid', 'Replace'].includes(str(cp)))
    errs.push(fieldErr.notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
  const jt = rec(s.jobTemplate) ?? {};
  const jtMeta = rec(jt.metadata);
  if (jtMeta) validateLabels(jtMeta.labels, 'spec.jobTemplate.metadata.labels', errs);
  const js = rec(jt.spec) ?? {};
  validateJobSpecCommon(js, 'spec.jobTemplate.spec', errs);
  if (js.selector !== undefined && js.selector !== null)
    errs.push(
      fieldErr.invalid('spec.jobTemplate.spec.selector', js.selector, '`selector` will be auto-generated'),
    );
  if (js.manualSelector === true)
    errs.push(fieldErr.notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  validateNonnegative(s.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit', errs);
  validateNonnegative(s.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit', errs);
}

export function validateCronJob(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  // A CronJob's name becomes part of its Jobs' names (plus 11 characters), so it is limited to 52.
  const name = obj.metadata.name ?? '';
  if (name.length > 52)
    errs.push(fieldErr.invalid('metadata.name', name, 'must be no more than 52 characters'));
  validateCronJobSpec(spec(obj), undefined, errs);
  return errs;
}

export function validateCronJobUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  validateCronJobSpec(spec(obj), spec(old), errs);
  return errs;
}

export const cronJobColumns = [
  NAME_COLUMN,
  column('Schedule', 'string', 'The schedule in Cron format.', (o) => str(spec(o).schedule)),
  column('Timezone', 'string', 'The time zone name for the given schedule.', (o) =>
    typeof spec(o).timeZone === 'string' ? str(spec(o).timeZone) : '<none>',
  ),
  column('Suspend', 'boolean', 'Whether subsequent executions are suspended.', (o) => {
    const v = spec(o).suspend;
    return typeof v === 'boolean' ? (v ? 'True' : 'False') : '<unset>';
  }),
  column('Active', 'integer', 'The number of currently running jobs.', (o) => arr(status(o).active).length),
  column('Last Schedule', 'string', 'When the job was last successfully scheduled.', (o, now) => {
    const t = status(o).lastScheduleTime;
    return typeof t === 'string' ? since(t, now) : '<none>';
  }),
  AGE_COLUMN,
  ...containerColumns((o) => templateSpecOf(get(spec(o), 'jobTemplate'))),
  column(
    'Selector',
    'string',
    'A label query over pods that should match the pod count.',
    (o) => formatLabelSelector(get(spec(o), 'jobTemplate', 'spec', 'selector')),
    1,
  ),
];

export const cronJobResource: ResourceDescription = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  shortNames: ['cj'],
  categories: ['all'],
  namespaced: true,
  schemaRef: 'io.k8s.api.batch.v1.CronJob',
  subresources: { status: true },
  tableColumns: cronJobColumns,
  strategy: {
    default: defaultCronJob,
    prepareForCreate(obj) {
      obj.status = {};
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
    },
    validate: validateCronJob,
    validateUpdate: validateCronJobUpdate,
  },
};

/** batch/v1beta1 and batch/v1 CronJobs have the same fields; only apiVersion changes. */
export function cronJobToVersion(obj: KubeObject, apiVersion: string): KubeObject {
  const out = clone(obj);
  out.apiVersion = apiVersion;
  return out;
}

export const cronJobV1beta1Resource: ResourceDescription = {
  ...cronJobResource,
  version: 'v1beta1',
  schemaRef: 'io.k8s.api.batch.v1beta1.CronJob',
  strategy: servedStrategy(
    cronJobResource.strategy ?? {},
    {
      toStorage: (o) => cronJobToVersion(o, 'batch/v1'),
      fromStorage: (o) => cronJobToVersion(o, 'batch/v1beta1'),
    },
    defaultCronJob,
  ),
  conversion: {
    storageGroup: 'batch',
    storageVersion: 'v1',
    toStorage: (o) => cronJobToVersion(o, 'batch/v1'),
    fromStorage: (o) => cronJobToVersion(o, 'batch/v1beta1'),
    deprecationWarning:
      'batch/v1beta1 CronJob is deprecated in v1.21+, unavailable in v1.25+; use batch/v1 CronJob',
  },
};
