// The LimitRanger admission plugin: the LimitRanges of a namespace default the requests and limits
// of new pods' containers (type Container: defaultRequest and default, noted in the
// kubernetes.io/limit-ranger annotation), then bound them (min, max, maxLimitRequestRatio) per
// Container and per Pod, and bound PersistentVolumeClaims' storage requests.
import { forbidden } from '../../api/errors.js';
import type { KubeObject } from '../../api/meta.js';
import { child, rec, recs, str } from '../../api/kinds/util.js';
import {
  formatQuantity,
  quantityMilliValue,
  quantityValue,
  tryParseQuantity,
  type Quantity,
} from '../../api/quantity.js';
import { podTotals } from '../../api/quota-usage.js';
import type { AdmissionPlugin, AdmissionRequest } from '../admission.js';
import type { ObjectAccess } from './access.js';

export const LIMIT_RANGER_PLUGIN = 'LimitRanger';
const ANNOTATION = 'kubernetes.io/limit-ranger';
const MAX_MILLI_VALUE = 9223372036854775807 / 1000;

type ResourceList = Map<string, Quantity>;

function resourceList(v: unknown): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, raw] of Object.entries(rec(v) ?? {})) {
    const q = tryParseQuantity(raw);
    if (q) out.set(k, q);
  }
  return out;
}

function kindOf(req: AdmissionRequest): 'pod' | 'pvc' | undefined {
  if (req.resource.group !== '' || req.subresource !== '') return undefined;
  if (req.resource.plural === 'pods') return req.operation === 'CREATE' ? 'pod' : undefined;
  if (req.resource.plural === 'persistentvolumeclaims') return 'pvc';
  return undefined;
}

/** Request, limit and bound at one precision, as upstream compares them. */
function comparable(
  req: Quantity | undefined,
  lim: Quantity | undefined,
  enforced: Quantity,
): [number, number, number] {
  const zero: Quantity = { nanos: 0n, format: 'DecimalSI' };
  const r = req ?? zero;
  const l = lim ?? zero;
  const useMilli =
    quantityValue(r) <= MAX_MILLI_VALUE &&
    quantityValue(l) <= MAX_MILLI_VALUE &&
    quantityValue(enforced) <= MAX_MILLI_VALUE;
  const f = useMilli ? quantityMilliValue : quantityValue;
  return [f(r), f(l), f(enforced)];
}

function minConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  request: ResourceList,
  limit: ResourceList,
): string | undefined {
  const req = request.get(name);
  const lim = limit.get(name);
  const e = formatQuantity(enforced);
  const [r, l, en] = comparable(req, lim, enforced);
  if (!req) return `minimum ${name} usage per ${type} is ${e}.  No request is specified`;
  if (r < en) return `minimum ${name} usage per ${type} is ${e}, but request is ${formatQuantity(req)}`;
  if (lim && l < en) return `minimum ${name} usage per ${type} is ${e}, but limit is ${formatQuantity(lim)}`;
  return undefined;
}

function maxConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  request: ResourceList,
  limit: ResourceList,
): string | undefined {
  const req = request.get(name);
  const lim = limit.get(name);
  const e = formatQuantity(enforced);
  const [r, l, en] = comparable(req, lim, enforced);
  if (!lim) return `maximum ${name} usage per ${type} is ${e}.  No limit is specified`;
  if (l > en) return `maximum ${name} usage per ${type} is ${e}, but limit is ${formatQuantity(lim)}`;
  if (req && r > en)
    return `maximum ${name} usage per ${type} is ${e}, but request is ${formatQuantity(req)}`;
  return undefined;
}

function maxRequestConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  request: ResourceList,
): string | undefined {
  const req = request.get(name);
  const e = formatQuantity(enforced);
  const [r, , en] = comparable(req, undefined, enforced);
  if (!req) return `maximum ${name} usage per ${type} is ${e}.  No request is specified`;
  if (r > en) return `maximum ${name} usage per ${type} is ${e}, but request is ${formatQuantity(req)}`;
  return undefined;
}

function ratioConstraint(
  type: string,
  name: string,
  enforced: Quantity,
  request: ResourceList,
  limit: ResourceList,
): string | undefined {
  const req = request.get(name);
  const lim = limit.get(name);
  const e = formatQuantity(enforced);
  const [r, l] = comparable(req, lim, enforced);
  if (!req || r === 0)
    return `${name} max limit to request ratio per ${type} is ${e}, but no request is specified or request is 0`;
  if (!lim || l === 0)
    return `${name} max limit to request ratio per ${type} is ${e}, but no limit is specified or limit is 0`;
  let observed = l / r;
  const display = observed;
  let max = quantityValue(enforced);
  if (quantityValue(enforced) <= MAX_MILLI_VALUE) {
    observed *= 1000;
    max = quantityMilliValue(enforced);
  }
  if (observed > max)
    return `${name} max limit to request ratio per ${type} is ${e}, but provided ratio is ${display.toFixed(6)}`;
  return undefined;
}

function applyDefaults(pod: KubeObject, range: KubeObject): void {
  const defRequests: [string, unknown][] = [];
  const defLimits: [string, unknown][] = [];
  for (const item of recs(rec(range.spec)?.limits)) {
    if (item.type !== 'Container') continue;
    defRequests.push(...Object.entries(rec(item.defaultRequest) ?? {}));
    defLimits.push(...Object.entries(rec(item.default) ?? {}));
  }
  if (defRequests.length === 0 && defLimits.length === 0) return;
  const notes: string[] = [];
  const podSpec = child(pod, 'spec');
  for (const [key, label] of [
    ['containers', 'container'],
    ['initContainers', 'init container'],
  ] as const) {
    for (const c of recs(podSpec[key])) {
      const resources = child(c, 'resources');
      const limits = child(resources, 'limits');
      const requests = child(resources, 'requests');
      const setLimits: string[] = [];
      const setRequests: string[] = [];
      for (const [k, v] of defLimits)
        if (!(k in limits)) {
          limits[k] = v;
          setLimits.push(k);
        }
      for (const [k, v] of defRequests)
        if (!(k in requests)) {
          requests[k] = v;
          setRequests.push(k);
        }
      if (Object.keys(limits).length === 0) delete resources.limits;
      if (Object.keys(requests).length === 0) delete resources.requests;
      if (setRequests.length)
        notes.push(`${[...new Set(setRequests)].sort().join(', ')} request for ${label} ${str(c.name)}`);
      if (setLimits.length)
        notes.push(`${[...new Set(setLimits)].sort().join(', ')} limit for ${label} ${str(c.name)}`);
    }
  }
  if (notes.length > 0)
    pod.metadata.annotations = {
      ...(pod.metadata.annotations ?? {}),
      [ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}`,
    };
}

function validatePod(pod: KubeObject, range: KubeObject): string[] {
  const errs: string[] = [];
  const podSpec = rec(pod.spec) ?? {};
  const push = (e: string | undefined): void => {
    if (e) errs.push(e);
  };
  for (const item of recs(rec(range.spec)?.limits)) {
    const type = str(item.type);
    const min = resourceList(item.min);
    const max = resourceList(item.max);
    const ratio = resourceList(item.maxLimitRequestRatio);
    const check = (request: ResourceList, limit: ResourceList): void => {
      for (const [k, q] of min) push(minConstraint(type, k, q, request, limit));
      for (const [k, q] of max) push(maxConstraint(type, k, q, request, limit));
      for (const [k, q] of ratio) push(ratioConstraint(type, k, q, request, limit));
    };
    if (type === 'Container') {
      for (const key of ['containers', 'initContainers'])
        for (const c of recs(podSpec[key]))
          check(resourceList(rec(c.resources)?.requests), resourceList(rec(c.resources)?.limits));
    } else if (type === 'Pod') {
      check(podTotals(podSpec, 'requests'), podTotals(podSpec, 'limits'));
    }
  }
  return errs;
}

function validateClaim(pvc: KubeObject, range: KubeObject): string[] {
  const errs: string[] = [];
  const requests = resourceList(rec(rec(pvc.spec)?.resources)?.requests);
  for (const item of recs(rec(range.spec)?.limits)) {
    if (item.type !== 'PersistentVolumeClaim') continue;
    for (const [k, q] of resourceList(item.min)) {
      const e = minConstraint('PersistentVolumeClaim', k, q, requests, new Map());
      if (e) errs.push(e);
    }
    for (const [k, q] of resourceList(item.max)) {
      const e = maxRequestConstraint('PersistentVolumeClaim', k, q, requests);
      if (e) errs.push(e);
    }
  }
  return errs;
}

/** utilerrors.NewAggregate's text: one message alone, several in brackets. */
export function aggregateMessages(msgs: readonly string[]): string {
  return msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
}

export function limitRangerPlugin(access: ObjectAccess): AdmissionPlugin {
  const ranges = (ns: string): Promise<KubeObject[]> => access.list('', 'LimitRange', ns);
  const terminating = (req: AdmissionRequest): boolean => !!req.oldObject?.metadata.deletionTimestamp;
  return {
    name: LIMIT_RANGER_PLUGIN,
    async admit(req) {
      if (kindOf(req) !== 'pod' || !req.object || terminating(req)) return;
      for (const range of await ranges(req.namespace)) applyDefaults(req.object, range);
    },
    async validate(req) {
      const kind = kindOf(req);
      if (!kind || !req.object || req.operation === 'DELETE' || terminating(req)) return;
      for (const range of await ranges(req.namespace)) {
        const errs = kind === 'pod' ? validatePod(req.object, range) : validateClaim(req.object, range);
        if (errs.length > 0)
          throw forbidden({ group: '', resource: req.resource.plural }, req.name, aggregateMessages(errs));
      }
    },
  };
}
