// batch/v1 Job: defaults, the generated selector and labels, validation and the table.
import { randomUUID } from 'node:crypto';
import { fieldErr, type FieldError, GoStringMap } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import {
  IMMUTABLE,
  SELECTOR_MISMATCH,
  validateImmutable,
  validateImmutableSelector,
} from './controller-common.js';
import { defaultPodTemplateSpec, templateSpecOf, validatePodTemplateSpec } from './pod-spec.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  child,
  clone,
  column,
  conditionTrue,
  containerColumns,
  deepEqual,
  formatLabelSelector,
  humanDuration,
  isInt,
  num,
  rec,
  recs,
  selectorMatches,
  setDefault,
  spec,
  status,
  strMap,
  validateLabelSelector,
  validateNonnegative,
  type Obj,
} from './util.js';

export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_JOB_NAME_LABEL = 'job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const MAX_INT32 = 2147483647;

/** SetDefaults for a JobSpec (shared by Job; CronJob templates only get the pod template defaults). */
export function defaultJobSpec(s: Obj): void {
  if (
    (s.completions === undefined || s.completions === null) &&
    (s.parallelism === undefined || s.parallelism === null)
  ) {
    s.completions = 1;
    s.parallelism = 1;
  }
  setDefault(s, 'parallelism', 1);
  if (s.backoffLimit === undefined || s.backoffLimit === null)
    s.backoffLimit = s.backoffLimitPerIndex !== undefined ? MAX_INT32 : 6;
  setDefault(s, 'completionMode', 'NonIndexed');
  setDefault(s, 'suspend', false);
  const pfp = rec(s.podFailurePolicy);
  if (pfp)
    for (const rule of recs(pfp.rules))
      for (const p of recs(rule.onPodConditions)) setDefault(p, 'status', 'True');
  setDefault(s, 'podReplacementPolicy', pfp ? 'Failed' : 'TerminatingOrFailed');
}

export function defaultJob(obj: KubeObject): void {
  const s = child(obj, 'spec');
  defaultJobSpec(s);
  const labels = rec(rec(rec(s.template)?.metadata)?.labels);
  if (labels && Object.keys(obj.metadata.labels ?? {}).length === 0)
    obj.metadata.labels = clone(strMap(labels));
  defaultPodTemplateSpec(rec(s.template));
}

/** generateSelector: the controller-uid selector and the job-name / controller-uid template labels. */
export function generateJobSelector(obj: KubeObject): void {
  const s = child(obj, 'spec');
  if (s.manualSelector === true) return;
  const uid = obj.metadata.uid ?? '';
  const template = child(s, 'template');
  const meta = child(template, 'metadata');
  const labels = child(meta, 'labels');
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) setDefault(labels, k, obj.metadata.name ?? '');
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) setDefault(labels, k, uid);
  const sel = child(s, 'selector');
  const ml = child(sel, 'matchLabels');
  setDefault(ml, CONTROLLER_UID_LABEL, uid);
}

const POLICY_RESTART = ['OnFailure', 'Never'];

/** The checks common to a Job's spec and a CronJob's job template spec. */
export function validateJobSpecCommon(s: Obj, path: string, errs: FieldError[]): void {
  validateNonnegative(s.parallelism, `${path}.parallelism`, errs);
  validateNonnegative(s.completions, `${path}.completions`, errs);
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds !== null) {
    if (isInt(s.activeDeadlineSeconds) && s.activeDeadlineSeconds <= 0)
      errs.push(
        fieldErr.invalid(
          `${path}.activeDeadlineSeconds`,
          s.activeDeadlineSeconds,
          'must be greater than zero',
        ),
      );
  }
  validateNonnegative(s.backoffLimit, `${path}.backoffLimit`, errs);
  validateNonnegative(s.ttlSecondsAfterFinished, `${path}.ttlSecondsAfterFinished`, errs);
  const mode = s.completionMode;
  if (mode !== undefined && mode !== null) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed')
      errs.push(fieldErr.notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (s.completions === undefined || s.completions === null)
        errs.push(fieldErr.required(`${path}.completions`, 'when completion mode is Indexed'));
      else if (isInt(s.completions) && s.completions > 100000)
        errs.push(
          fieldErr.invalid(
            `${path}.completions`,
            s.completions,
            'must be less than or equal to 100000 when completion mode is Indexed',
          ),
        );
    }
  }
  if (s.backoffLimitPerIndex !== undefined && mode !== 'Indexed')
    errs.push(
      fieldErr.invalid(
        `${path}.backoffLimitPerIndex`,
        s.backoffLimitPerIndex,
        'requires indexed completion mode',
      ),
    );
  const prp = s.podReplacementPolicy;
  if (prp !== undefined && prp !== null && prp !== 'TerminatingOrFailed' && prp !== 'Failed')
    errs.push(fieldErr.notSupported(`${path}.podReplacementPolicy`, prp, ['Failed', 'TerminatingOrFailed']));
  const template = rec(s.template);
  errs.push(...validatePodTemplateSpec(template, `${path}.template`, { restartPolicies: POLICY_RESTART }));
}

function validateGeneratedSelector(obj: KubeObject, errs: FieldError[]): void {
  const s = spec(obj);
  if (s.manualSelector === true) return;
  const uid = obj.metadata.uid ?? '';
  if (uid === '') errs.push(fieldErr.required('metadata.uid'));
  if (!rec(s.selector)) return;
  const labels = strMap(rec(rec(s.template)?.metadata)?.labels);
  const expect: [string, string][] = [
    [LEGACY_CONTROLLER_UID_LABEL, uid],
    [LEGACY_JOB_NAME_LABEL, obj.metadata.name ?? ''],
    [CONTROLLER_UID_LABEL, uid],
    [JOB_NAME_LABEL, obj.metadata.name ?? ''],
  ];
  for (const [k, v] of expect) {
    const p = `spec.template.metadata.labels[${k}]`;
    if (labels[k] === undefined) errs.push(fieldErr.required(p, v));
    else if (labels[k] !== v) errs.push(fieldErr.invalid(p, labels, `must be '${v}'`));
  }
  if (
    !deepEqual(strMap(rec(s.selector)?.matchLabels), { [CONTROLLER_UID_LABEL]: uid }) ||
    recs(rec(s.selector)?.matchExpressions).length > 0
  )
    errs.push(fieldErr.invalid('spec.selector', s.selector, '`selector` not auto-generated'));
}

export function validateJob(obj: KubeObject, generate = true): FieldError[] {
  // Upstream generates the selector in Validate, once the uid is known.
  if (generate && obj.metadata.uid) generateJobSelector(obj);
  const errs: FieldError[] = [];
  validateGeneratedSelector(obj, errs);
  const s = spec(obj);
  validateJobSpecCommon(s, 'spec', errs);
  if (s.selector === undefined || s.selector === null) errs.push(fieldErr.required('spec.selector'));
  else validateLabelSelector(s.selector, 'spec.selector', errs);
  const labels = strMap(rec(rec(s.template)?.metadata)?.labels);
  if (rec(s.selector) && !selectorMatches(s.selector, labels))
    errs.push(fieldErr.invalid('spec.template.metadata.labels', new GoStringMap(labels), SELECTOR_MISMATCH));
  return errs;
}

/** Scheduling directives a suspended Job that never started may still change. */
function stripMutableSchedulingDirectives(t: Obj): void {
  const meta = rec(t.metadata);
  if (meta) {
    delete meta.labels;
    delete meta.annotations;
  }
  const ps = rec(t.spec);
  if (ps) {
    delete ps.nodeSelector;
    delete ps.tolerations;
    delete ps.schedulingGates;
    const aff = rec(ps.affinity);
    if (aff) delete aff.nodeAffinity;
  }
}

export function validateJobUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  // Updates are validated as they come: the selector is generated only on create.
  const errs = validateJob(obj, false);
  const ns = spec(obj);
  const os = spec(old);
  validateImmutableSelector(ns.selector, os.selector, errs);
  const elastic =
    ns.completionMode === 'Indexed' &&
    os.completionMode === 'Indexed' &&
    ns.completions === ns.parallelism &&
    os.completions === os.parallelism;
  if (!elastic) validateImmutable(ns.completions, os.completions, 'spec.completions', errs);
  validateImmutable(ns.completionMode, os.completionMode, 'spec.completionMode', errs);
  validateImmutable(ns.podFailurePolicy, os.podFailurePolicy, 'spec.podFailurePolicy', errs);
  validateImmutable(ns.backoffLimitPerIndex, os.backoffLimitPerIndex, 'spec.backoffLimitPerIndex', errs);
  validateImmutable(ns.managedBy, os.managedBy, 'spec.managedBy', errs);
  const a = clone(rec(ns.template) ?? {});
  const b = clone(rec(os.template) ?? {});
  if (os.suspend === true && status(old).startTime === undefined) {
    stripMutableSchedulingDirectives(a);
    stripMutableSchedulingDirectives(b);
  }
  if (!deepEqual(a, b)) errs.push(fieldErr.invalid('spec.template', ns.template, IMMUTABLE));
  return errs;
}

function completionsText(o: KubeObject): string {
  const s = spec(o);
  const succeeded = num(status(o).succeeded) ?? 0;
  if (isInt(s.completions)) return `${succeeded}/${s.completions}`;
  const parallelism = num(s.parallelism) ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

export function jobStatusText(o: KubeObject): string {
  const conds = status(o).conditions;
  if (conditionTrue(conds, 'Complete')) return 'Complete';
  if (conditionTrue(conds, 'Failed')) return 'Failed';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  if (conditionTrue(conds, 'Suspended')) return 'Suspended';
  if (conditionTrue(conds, 'FailureTarget')) return 'FailureTarget';
  if (conditionTrue(conds, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function durationText(o: KubeObject, now: Date): string {
  const st = status(o);
  const start = typeof st.startTime === 'string' ? Date.parse(st.startTime) : NaN;
  if (Number.isNaN(start)) return '';
  const end = typeof st.completionTime === 'string' ? Date.parse(st.completionTime) : NaN;
  return humanDuration((Number.isNaN(end) ? now.getTime() : end) - start);
}

export const jobColumns = [
  NAME_COLUMN,
  column('Status', 'string', 'Status of the job.', (o) => jobStatusText(o)),
  column('Completions', 'string', 'The completion status of the job.', (o) => completionsText(o)),
  column('Duration', 'string', 'Time required to complete the job.', (o, now) => durationText(o, now)),
  AGE_COLUMN,
  ...containerColumns((o) => templateSpecOf(o)),
  column(
    'Selector',
    'string',
    'A label query over pods that should match the pod count.',
    (o) => formatLabelSelector(spec(o).selector),
    1,
  ),
];

export const jobResource: ResourceDescription = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  categories: ['all'],
  namespaced: true,
  schemaRef: 'io.k8s.api.batch.v1.Job',
  subresources: { status: true },
  tableColumns: jobColumns,
  fieldSelectors: { 'status.successful': (o) => String(num(status(o).succeeded) ?? 0) },
  strategy: {
    default: defaultJob,
    prepareForCreate(obj) {
      obj.status = {};
      // The selector is generated from the uid; make sure there is one to generate it from.
      if (!obj.metadata.uid) obj.metadata.uid = randomUUID();
      generateJobSelector(obj);
      const labels = rec(rec(rec(spec(obj).template)?.metadata)?.labels);
      if (labels && Object.keys(obj.metadata.labels ?? {}).length === 0)
        obj.metadata.labels = clone(strMap(labels));
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
    },
    validate: (obj) => validateJob(obj),
    validateUpdate: validateJobUpdate,
  },
};
