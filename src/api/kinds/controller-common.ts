// What the pod-owning controllers (ReplicaSet, Deployment, DaemonSet, StatefulSet, Job) share:
// the selector / template checks, immutability, and status handling around create and update.
import { fieldErr, type FieldError, GoLabelSelector, GoStringMap } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ScaleDescription, Strategy } from '../types.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from './pod-spec.js';
import {
  clone,
  deepEqual,
  isEmptySelector,
  rec,
  selectorMatches,
  selectorString,
  spec,
  strMap,
  validateLabelSelector,
  validateNonnegative,
  type Obj,
} from './util.js';

export const SELECTOR_MISMATCH = '`selector` does not match template `labels`';
export const IMMUTABLE = 'field is immutable';

/**
 * The label selector and pod template of an apps controller: selector required and non-empty,
 * matching the template's labels, and the template itself with restartPolicy Always.
 */
export function validateSelectorAndTemplate(
  s: Obj,
  errs: FieldError[],
  what: 'deployment' | 'daemonset' | 'statefulset',
  kindName: string,
  extraVolumes: readonly string[] = [],
): void {
  const sel = s.selector;
  const template = rec(s.template);
  const labels = strMap(rec(template?.metadata)?.labels);
  if (what === 'daemonset') {
    // A DaemonSet's selector is not required as such: an absent one selects nothing, so it fails
    // the match with the template's labels.
    if (sel !== undefined && sel !== null) validateLabelSelector(sel, 'spec.selector', errs);
    if (!rec(sel) || !selectorMatches(sel, labels))
      errs.push(
        fieldErr.invalid('spec.template.metadata.labels', new GoStringMap(labels), SELECTOR_MISMATCH),
      );
    if (rec(sel) && isEmptySelector(sel))
      errs.push(
        fieldErr.invalid('spec.selector', new GoLabelSelector(sel), `empty selector is invalid for ${what}`),
      );
  } else if (sel === undefined || sel === null) {
    errs.push(fieldErr.required('spec.selector'));
  } else {
    validateLabelSelector(sel, 'spec.selector', errs);
    if (isEmptySelector(sel))
      errs.push(
        fieldErr.invalid('spec.selector', new GoLabelSelector(sel), `empty selector is invalid for ${what}`),
      );
  }
  if (!template) {
    errs.push(fieldErr.required('spec.template'));
    return;
  }
  if (what !== 'daemonset' && rec(sel) && !isEmptySelector(sel) && !selectorMatches(sel, labels))
    errs.push(fieldErr.invalid('spec.template.metadata.labels', new GoStringMap(labels), SELECTOR_MISMATCH));
  errs.push(
    ...validatePodTemplateSpec(template, 'spec.template', { restartPolicies: ['Always'], extraVolumes }),
  );
  const ts = rec(template.spec);
  if (ts && ts.activeDeadlineSeconds !== undefined && ts.activeDeadlineSeconds !== null)
    errs.push(
      fieldErr.forbidden(
        'spec.template.spec.activeDeadlineSeconds',
        `activeDeadlineSeconds in ${kindName} is not Supported`,
      ),
    );
}

export function validateImmutable(
  newValue: unknown,
  oldValue: unknown,
  path: string,
  errs: FieldError[],
): void {
  if (!deepEqual(newValue ?? null, oldValue ?? null))
    errs.push(fieldErr.invalid(path, newValue ?? null, IMMUTABLE));
}

/** The apps/v1 and batch/v1 selector immutability, its bad value printed as upstream's (Go's %#v). */
export function validateImmutableSelector(newSel: unknown, oldSel: unknown, errs: FieldError[]): void {
  if (!deepEqual(newSel ?? null, oldSel ?? null))
    errs.push(fieldErr.invalid('spec.selector', newSel ? new GoLabelSelector(newSel) : null, IMMUTABLE));
}

export function validateReplicas(s: Obj, errs: FieldError[]): void {
  validateNonnegative(s.replicas, 'spec.replicas', errs);
  validateNonnegative(s.minReadySeconds, 'spec.minReadySeconds', errs);
}

export function defaultTemplateOf(obj: KubeObject): void {
  defaultPodTemplateSpec(rec(spec(obj).template));
}

/** Status cleared on create, carried over on spec updates, spec carried over on status updates. */
export function statusStrategy(
  initialStatus: () => Obj = () => ({}),
): Pick<Strategy, 'prepareForCreate' | 'prepareForUpdate' | 'prepareForStatusUpdate'> {
  return {
    prepareForCreate(obj) {
      obj.status = initialStatus();
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
    },
  };
}

/** The scale subresource of a controller whose selector is a metav1.LabelSelector in spec.selector. */
export const labelSelectorScale: ScaleDescription = {
  specReplicasPath: '.spec.replicas',
  statusReplicasPath: '.status.replicas',
  selectorFor: (obj) => selectorString(spec(obj).selector),
};

/** The status checks of Deployment, ReplicaSet and StatefulSet (ValidateDeploymentStatus and friends). */
export function validateReplicaStatus(obj: KubeObject, counters: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  const st = rec(obj.status) ?? {};
  for (const k of [...counters, 'observedGeneration', 'collisionCount'])
    validateNonnegative(st[k], `status.${k}`, errs);
  const replicas = typeof st.replicas === 'number' ? st.replicas : 0;
  const ready = typeof st.readyReplicas === 'number' ? st.readyReplicas : 0;
  for (const k of counters) {
    if (k === 'replicas' || k === 'unavailableReplicas') continue;
    const v = st[k];
    if (typeof v === 'number' && v > replicas)
      errs.push(fieldErr.invalid(`status.${k}`, v, 'cannot be greater than status.replicas'));
  }
  const available = st.availableReplicas;
  if (typeof available === 'number' && available > ready)
    errs.push(
      fieldErr.invalid('status.availableReplicas', available, 'cannot be greater than readyReplicas'),
    );
  return errs;
}
