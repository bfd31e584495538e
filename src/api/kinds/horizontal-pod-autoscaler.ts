// autoscaling/v2 HorizontalPodAutoscaler, and autoscaling/v1 served by conversion
// (targetCPUUtilizationPercentage ⇄ a cpu Utilization metric; the rest kept in annotations).
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { formatQuantity, tryParseQuantity } from '../quantity.js';
import type { ResourceDescription } from '../types.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  child,
  clone,
  column,
  isInt,
  num,
  rec,
  recs,
  setDefault,
  spec,
  status,
  str,
  type Obj,
} from './util.js';
import { servedStrategy } from './served-version.js';

export const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const DEFAULT_CPU_UTILIZATION = 80;

function defaultRules(r: Obj | undefined, up: boolean): Obj {
  const out = r ?? {};
  setDefault(out, 'stabilizationWindowSeconds', up ? 0 : 300);
  setDefault(out, 'selectPolicy', 'Max');
  if (out.policies === undefined || out.policies === null)
    out.policies = up
      ? [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 100, periodSeconds: 15 },
        ]
      : [{ type: 'Percent', value: 100, periodSeconds: 15 }];
  return out;
}

export function defaultHPA(obj: KubeObject): void {
  const s = child(obj, 'spec');
  setDefault(s, 'minReplicas', 1);
  if (recs(s.metrics).length === 0)
    s.metrics = [
      {
        type: 'Resource',
        resource: {
          name: 'cpu',
          target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION },
        },
      },
    ];
  const b = rec(s.behavior);
  if (b) {
    b.scaleUp = defaultRules(rec(b.scaleUp), true);
    b.scaleDown = defaultRules(rec(b.scaleDown), false);
  }
}

const METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const TARGET_TYPES = ['AverageValue', 'Utilization', 'Value'];

function validateTarget(t: Obj | undefined, path: string, errs: FieldError[]): void {
  if (!t) {
    errs.push(fieldErr.required(path));
    return;
  }
  const type = str(t.type);
  if (!TARGET_TYPES.includes(type))
    errs.push(fieldErr.notSupported(`${path}.type`, t.type ?? '', TARGET_TYPES));
  if (t.averageUtilization !== undefined && isInt(t.averageUtilization) && t.averageUtilization < 1)
    errs.push(fieldErr.invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  for (const k of ['value', 'averageValue']) {
    if (t[k] === undefined) continue;
    const q = tryParseQuantity(t[k]);
    if (!q) errs.push(fieldErr.invalid(`${path}.${k}`, t[k], 'must be a quantity'));
    else if (q.nanos <= 0n)
      errs.push(fieldErr.invalid(`${path}.${k}`, formatQuantity(q), 'must be positive'));
  }
  if (type === 'Utilization' && t.averageUtilization === undefined)
    errs.push(
      fieldErr.required(
        `${path}.averageUtilization`,
        'must set averageUtilization when metric type is Utilization',
      ),
    );
  if (type === 'Value' && t.value === undefined)
    errs.push(fieldErr.required(`${path}.value`, 'must set value when metric type is Value'));
  if (type === 'AverageValue' && t.averageValue === undefined)
    errs.push(
      fieldErr.required(`${path}.averageValue`, 'must set averageValue when metric type is AverageValue'),
    );
}

export function validateHPA(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  const ref = rec(s.scaleTargetRef) ?? {};
  if (str(ref.kind) === '') errs.push(fieldErr.required('spec.scaleTargetRef.kind'));
  else if (/[/%]/.test(str(ref.kind)))
    errs.push(fieldErr.invalid('spec.scaleTargetRef.kind', ref.kind, "may not contain '/'"));
  if (str(ref.name) === '') errs.push(fieldErr.required('spec.scaleTargetRef.name'));
  else if (/[/%]/.test(str(ref.name)))
    errs.push(fieldErr.invalid('spec.scaleTargetRef.name', ref.name, "may not contain '/'"));
  const min = s.minReplicas;
  if (isInt(min) && min < 1)
    errs.push(fieldErr.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  const max = s.maxReplicas;
  if (!isInt(max) || max < 1)
    errs.push(fieldErr.invalid('spec.maxReplicas', max ?? 0, 'must be greater than 0'));
  else if (isInt(min) && max < min)
    errs.push(fieldErr.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  recs(s.metrics).forEach((m, i) => {
    const p = `spec.metrics[${i}]`;
    const type = str(m.type);
    if (!METRIC_TYPES.includes(type)) {
      errs.push(fieldErr.notSupported(`${p}.type`, m.type ?? '', METRIC_TYPES));
      return;
    }
    const key = type.charAt(0).toLowerCase() + type.slice(1);
    const src = rec(m[key]);
    if (!src) {
      errs.push(fieldErr.required(`${p}.${key}`, `must populate information for the given metric source`));
      return;
    }
    if (type === 'Resource' || type === 'ContainerResource') {
      if (str(src.name) === '') errs.push(fieldErr.required(`${p}.${key}.name`));
      if (type === 'ContainerResource' && str(src.container) === '')
        errs.push(fieldErr.required(`${p}.${key}.container`));
    } else {
      if (str(rec(src.metric)?.name) === '') errs.push(fieldErr.required(`${p}.${key}.metric.name`));
    }
    validateTarget(rec(src.target), `${p}.${key}.target`, errs);
  });
  const b = rec(s.behavior);
  if (b) {
    for (const dir of ['scaleUp', 'scaleDown']) {
      const r = rec(b[dir]);
      if (!r) continue;
      const w = r.stabilizationWindowSeconds;
      if (isInt(w) && (w < 0 || w > 3600))
        errs.push(
          fieldErr.invalid(
            `spec.behavior.${dir}.stabilizationWindowSeconds`,
            w,
            'must be less than or equal to 3600',
          ),
        );
      if (r.selectPolicy !== undefined && !['Disabled', 'Max', 'Min'].includes(str(r.selectPolicy)))
        errs.push(
          fieldErr.notSupported(`spec.behavior.${dir}.selectPolicy`, r.selectPolicy, [
            'Disabled',
            'Max',
            'Min',
          ]),
        );
      recs(r.policies).forEach((pol, j) => {
        const pp = `spec.behavior.${dir}.policies[${j}]`;
        if (pol.type !== 'Pods' && pol.type !== 'Percent')
          errs.push(fieldErr.notSupported(`${pp}.type`, pol.type ?? '', ['Percent', 'Pods']));
        if (!isInt(pol.value) || pol.value <= 0)
          errs.push(fieldErr.invalid(`${pp}.value`, pol.value ?? 0, 'must be greater than zero'));
        if (!isInt(pol.periodSeconds) || pol.periodSeconds <= 0 || pol.periodSeconds > 1800)
          errs.push(
            fieldErr.invalid(
              `${pp}.periodSeconds`,
              pol.periodSeconds ?? 0,
              'must be greater than zero and less than or equal to 1800',
            ),
          );
      });
    }
  }
  return errs;
}

// ---- autoscaling/v1 ⇄ v2 ----

function isCpuUtilization(m: Obj): boolean {
  const r = rec(m.resource);
  return m.type === 'Resource' && r?.name === 'cpu' && rec(r.target)?.type === 'Utilization';
}

function parseAnnotation(annotations: Record<string, string>, key: string): unknown[] {
  const text = annotations[key];
  if (text === undefined) return [];
  delete annotations[key];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

export function hpaV1ToV2(obj: KubeObject): KubeObject {
  const out = clone(obj);
  out.apiVersion = 'autoscaling/v2';
  const annotations = { ...(out.metadata.annotations ?? {}) };
  const s = child(out, 'spec');
  const metrics: unknown[] = [];
  if (isInt(s.targetCPUUtilizationPercentage))
    metrics.push({
      type: 'Resource',
      resource: {
        name: 'cpu',
        target: { type: 'Utilization', averageUtilization: s.targetCPUUtilizationPercentage },
      },
    });
  delete s.targetCPUUtilizationPercentage;
  metrics.push(...parseAnnotation(annotations, METRICS_ANNOTATION));
  if (metrics.length > 0) s.metrics = metrics;
  const behaviorText = annotations[BEHAVIOR_ANNOTATION];
  if (behaviorText !== undefined) {
    delete annotations[BEHAVIOR_ANNOTATION];
    try {
      s.behavior = JSON.parse(behaviorText) as unknown;
    } catch {
      // An unreadable behavior annotation is dropped, as upstream does.
    }
  }
  const st = rec(out.status);
  const current: unknown[] = [];
  if (st) {
    if (isInt(st.currentCPUUtilizationPercentage))
      current.push({
        type: 'Resource',
        resource: { name: 'cpu', current: { averageUtilization: st.currentCPUUtilizationPercentage } },
      });
    delete st.currentCPUUtilizationPercentage;
  }
  current.push(...parseAnnotation(annotations, CURRENT_METRICS_ANNOTATION));
  const conditions = parseAnnotation(annotations, CONDITIONS_ANNOTATION);
  if (current.length > 0 || conditions.length > 0) {
    const s2 = child(out, 'status');
    if (current.length > 0) s2.currentMetrics = current;
    if (conditions.length > 0) s2.conditions = conditions;
  }
  if (Object.keys(annotations).length > 0) out.metadata.annotations = annotations;
  else delete out.metadata.annotations;
  defaultHPA(out);
  return out;
}

export function hpaV2ToV1(obj: KubeObject): KubeObject {
  const out = clone(obj);
  out.apiVersion = 'autoscaling/v1';
  const annotations = { ...(out.metadata.annotations ?? {}) };
  const s = child(out, 'spec');
  const metrics = recs(s.metrics);
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  if (cpu) s.targetCPUUtilizationPercentage = rec(rec(cpu.resource)?.target)?.averageUtilization;
  if (others.length > 0) annotations[METRICS_ANNOTATION] = JSON.stringify(others);
  delete s.metrics;
  if (s.behavior !== undefined) {
    annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(s.behavior);
    delete s.behavior;
  }
  const st = rec(out.status);
  if (st) {
    const current = recs(st.currentMetrics);
    const cpuCur = current.find(
      (m) =>
        m.type === 'Resource' &&
        rec(m.resource)?.name === 'cpu' &&
        isInt(rec(rec(m.resource)?.current)?.averageUtilization),
    );
    if (cpuCur) st.currentCPUUtilizationPercentage = rec(rec(cpuCur.resource)?.current)?.averageUtilization;
    const rest = current.filter((m) => m !== cpuCur);
    if (rest.length > 0) annotations[CURRENT_METRICS_ANNOTATION] = JSON.stringify(rest);
    delete st.currentMetrics;
    if (recs(st.conditions).length > 0) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(st.conditions);
    delete st.conditions;
  }
  if (Object.keys(annotations).length > 0) out.metadata.annotations = annotations;
  else delete out.metadata.annotations;
  return out;
}

function quantityText(v: unknown): string {
  const q = tryParseQuantity(v);
  return q ? formatQuantity(q) : '<unknown>';
}

/** formatHPAMetrics: "cpu: 20%/80%", "<unknown>" for metrics not yet observed, at most two shown. */
export function formatHPAMetrics(obj: KubeObject): string {
  const o = obj.apiVersion === 'autoscaling/v1' ? hpaV1ToV2(obj) : obj;
  const specs = recs(spec(o).metrics);
  const statuses = recs(status(o).currentMetrics);
  if (specs.length === 0) return '<none>';
  const list: string[] = [];
  specs.forEach((m, i) => {
    const cur = statuses[i];
    switch (m.type) {
      case 'Resource':
      case 'ContainerResource': {
        const key = m.type === 'Resource' ? 'resource' : 'containerResource';
        const src = rec(m[key]) ?? {};
        const target = rec(src.target) ?? {};
        const curSrc = rec(cur?.[key]);
        const curVal = rec(curSrc?.current);
        const name = str(src.name);
        if (target.averageValue !== undefined) {
          const c = curVal?.averageValue !== undefined ? quantityText(curVal.averageValue) : '<unknown>';
          list.push(`${name}: ${c}/${quantityText(target.averageValue)}`);
        } else {
          const c =
            curVal && isInt(curVal.averageUtilization) ? `${curVal.averageUtilization}%` : '<unknown>';
          const t = isInt(target.averageUtilization) ? `${target.averageUtilization}%` : '<auto>';
          list.push(`${name}: ${c}/${t}`);
        }
        break;
      }
      case 'Pods': {
        const target = rec(rec(m.pods)?.target) ?? {};
        const curVal = rec(rec(cur?.pods)?.current);
        const c = curVal?.averageValue !== undefined ? quantityText(curVal.averageValue) : '<unknown>';
        list.push(`${c}/${quantityText(target.averageValue)}`);
        break;
      }
      case 'Object':
      case 'External': {
        const key = m.type === 'Object' ? 'object' : 'external';
        const target = rec(rec(m[key])?.target) ?? {};
        const curVal = rec(rec(cur?.[key])?.current);
        if (target.type === 'AverageValue') {
          const c = curVal?.averageValue !== undefined ? quantityText(curVal.averageValue) : '<unknown>';
          list.push(`${c}/${quantityText(target.averageValue)} (avg)`);
        } else {
          const c = curVal?.value !== undefined ? quantityText(curVal.value) : '<unknown>';
          list.push(`${c}/${quantityText(target.value)}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

export const hpaColumns = [
  NAME_COLUMN,
  column('Reference', 'string', 'reference to scaled resource', (o) => {
    const ref = rec(spec(o).scaleTargetRef) ?? {};
    return `${str(ref.kind)}/${str(ref.name)}`;
  }),
  column('Targets', 'string', 'the current and target metric values', (o) => formatHPAMetrics(o)),
  column('MinPods', 'string', 'lower limit for the number of pods that can be set by the autoscaler', (o) =>
    isInt(spec(o).minReplicas) ? String(spec(o).minReplicas) : '<unset>',
  ),
  column(
    'MaxPods',
    'integer',
    'upper limit for the number of pods that can be set by the autoscaler',
    (o) => num(spec(o).maxReplicas) ?? 0,
  ),
  column(
    'Replicas',
    'integer',
    'current number of replicas of pods managed by this autoscaler',
    (o) => num(status(o).currentReplicas) ?? 0,
  ),
  AGE_COLUMN,
];

export const horizontalPodAutoscalerResource: ResourceDescription = {
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  shortNames: ['hpa'],
  categories: ['all'],
  namespaced: true,
  nameRule: 'path-segment',
  schemaRef: 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
  subresources: { status: true },
  tableColumns: hpaColumns,
  strategy: {
    default: defaultHPA,
    prepareForCreate(obj) {
      obj.status = {};
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
    },
    validate: validateHPA,
    validateUpdate: (obj) => validateHPA(obj),
  },
};

export const horizontalPodAutoscalerV1Resource: ResourceDescription = {
  ...horizontalPodAutoscalerResource,
  version: 'v1',
  nameRule: 'path-segment',
  schemaRef: 'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler',
  strategy: servedStrategy(
    horizontalPodAutoscalerResource.strategy ?? {},
    { toStorage: hpaV1ToV2, fromStorage: hpaV2ToV1 },
    (obj) => setDefault(child(obj, 'spec'), 'minReplicas', 1),
  ),
  conversion: {
    storageGroup: 'autoscaling',
    storageVersion: 'v2',
    toStorage: hpaV1ToV2,
    fromStorage: hpaV2ToV1,
  },
};
