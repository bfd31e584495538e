// apps/v1 StatefulSet.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import {
  defaultTemplateOf,
  labelSelectorScale,
  statusStrategy,
  validateImmutableSelector,
  validateSelectorAndTemplate,
  validateReplicaStatus,
} from './controller-common.js';
import { defaultPVCSpec, templateSpecOf } from './pod-spec.js';
import { validatePVCSpec } from './persistent-volume-claim.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  child,
  clone,
  column,
  containerColumns,
  deepEqual,
  isDNS1123Label,
  num,
  rec,
  recs,
  setDefault,
  spec,
  status,
  str,
  validateLabels,
  validateNonnegative,
} from './util.js';

export function defaultStatefulSet(obj: KubeObject): void {
  const s = child(obj, 'spec');
  setDefault(s, 'podManagementPolicy', 'OrderedReady');
  const us = child(s, 'updateStrategy');
  setDefault(us, 'type', 'RollingUpdate');
  if (us.type === 'RollingUpdate') setDefault(child(us, 'rollingUpdate'), 'partition', 0);
  setDefault(s, 'replicas', 1);
  setDefault(s, 'revisionHistoryLimit', 10);
  const retention = child(s, 'persistentVolumeClaimRetentionPolicy');
  setDefault(retention, 'whenDeleted', 'Retain');
  setDefault(retention, 'whenScaled', 'Retain');
  for (const pvc of recs(s.volumeClaimTemplates)) {
    // The claim templates are full PVC objects, defaulted as such (status.phase Pending included).
    setDefault(pvc, 'apiVersion', 'v1');
    setDefault(pvc, 'kind', 'PersistentVolumeClaim');
    const meta = child(pvc, 'metadata');
    if (meta.creationTimestamp === null) delete meta.creationTimestamp;
    defaultPVCSpec(child(pvc, 'spec'));
    setDefault(child(pvc, 'status'), 'phase', 'Pending');
  }
  defaultTemplateOf(obj);
}

const RETAIN_DELETE = ['Retain', 'Delete'];

export function validateStatefulSet(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  const pmp = s.podManagementPolicy;
  if (pmp === undefined || pmp === '') errs.push(fieldErr.required('spec.podManagementPolicy'));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel')
    errs.push(fieldErr.invalid('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));
  const us = rec(s.updateStrategy) ?? {};
  switch (us.type) {
    case undefined:
    case '':
      errs.push(fieldErr.required('spec.updateStrategy'));
      break;
    case 'OnDelete':
      if (us.rollingUpdate !== undefined && us.rollingUpdate !== null)
        errs.push(
          fieldErr.invalid(
            'spec.updateStrategy.rollingUpdate',
            us.rollingUpdate,
            "only allowed for updateStrategy 'RollingUpdate'",
          ),
        );
      break;
    case 'RollingUpdate': {
      const ru = rec(us.rollingUpdate);
      if (ru) {
        validateNonnegative(ru.partition, 'spec.updateStrategy.rollingUpdate.partition', errs);
        if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
          const mu = ru.maxUnavailable;
          if ((typeof mu === 'number' && mu < 1) || (typeof mu === 'string' && /^0+%$/.test(mu)))
            errs.push(
              fieldErr.invalid(
                'spec.updateStrategy.rollingUpdate.maxUnavailable',
                mu,
                'must be greater than 0',
              ),
            );
        }
      }
      break;
    }
    default:
      errs.push(fieldErr.invalid('spec.updateStrategy', us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = rec(s.persistentVolumeClaimRetentionPolicy);
  if (retention) {
    for (const k of ['whenDeleted', 'whenScaled']) {
      const v = retention[k];
      if (v !== undefined && !RETAIN_DELETE.includes(str(v)))
        errs.push(fieldErr.notSupported(`spec.persistentVolumeClaimRetentionPolicy.${k}`, v, RETAIN_DELETE));
    }
  }
  validateNonnegative(s.replicas, 'spec.replicas', errs);
  validateNonnegative(s.minReadySeconds, 'spec.minReadySeconds', errs);
  validateNonnegative(s.revisionHistoryLimit, 'spec.revisionHistoryLimit', errs);
  const ordinals = rec(s.ordinals);
  if (ordinals) validateNonnegative(ordinals.start, 'spec.ordinals.start', errs);
  const serviceName = str(s.serviceName);
  if (serviceName !== '')
    for (const m of isDNS1123Label(serviceName))
      errs.push(fieldErr.invalid('spec.serviceName', serviceName, m));
  validateSelectorAndTemplate(
    s,
    errs,
    'statefulset',
    'StatefulSet',
    recs(s.volumeClaimTemplates).map((t) => str(rec(t.metadata)?.name)),
  );
  recs(s.volumeClaimTemplates).forEach((pvc, i) => {
    const p = `spec.volumeClaimTemplates[${i}]`;
    const meta = rec(pvc.metadata) ?? {};
    const name = str(meta.name);
    if (name === '') errs.push(fieldErr.required(`${p}.metadata.name`, 'name or generateName is required'));
    validateLabels(meta.labels, `${p}.metadata.labels`, errs);
    errs.push(...validatePVCSpec(rec(pvc.spec) ?? {}, `${p}.spec`));
  });
  return errs;
}

const STS_UPDATE_MESSAGE =
  "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

export function validateStatefulSetUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateStatefulSet(obj);
  const a = clone(spec(obj));
  const b = clone(spec(old));
  for (const x of [a, b])
    for (const k of [
      'replicas',
      'ordinals',
      'template',
      'updateStrategy',
      'revisionHistoryLimit',
      'persistentVolumeClaimRetentionPolicy',
      'minReadySeconds',
    ])
      delete x[k];
  if (!deepEqual(a, b)) {
    if (!deepEqual(a.selector, b.selector))
      validateImmutableSelector(spec(obj).selector, spec(old).selector, errs);
    errs.push(fieldErr.forbidden('spec', STS_UPDATE_MESSAGE));
  }
  return errs;
}

const n = (v: unknown): number => num(v) ?? 0;

export const statefulSetColumns = [
  NAME_COLUMN,
  column(
    'Ready',
    'string',
    'Number of the pod with ready state',
    (o) => `${n(status(o).readyReplicas)}/${n(spec(o).replicas)}`,
  ),
  AGE_COLUMN,
  ...containerColumns((o) => templateSpecOf(o)),
];

export const statefulSetResource: ResourceDescription = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  shortNames: ['sts'],
  categories: ['all'],
  namespaced: true,
  schemaRef: 'io.k8s.api.apps.v1.StatefulSet',
  subresources: { status: true, scale: labelSelectorScale },
  tableColumns: statefulSetColumns,
  strategy: {
    default: defaultStatefulSet,
    ...statusStrategy(),
    validate: validateStatefulSet,
    validateUpdate: validateStatefulSetUpdate,
    validateStatusUpdate: (obj) =>
      validateReplicaStatus(obj, [
        'replicas',
        'readyReplicas',
        'currentReplicas',
        'updatedReplicas',
        'availableReplicas',
      ]),
  },
};
