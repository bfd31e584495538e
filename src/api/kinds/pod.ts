// core/v1 Pod: defaults, validation, the table kubectl prints (STATUS computed as kubectl shows it),
// field selectors, and graceful deletion.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { compareQuantity, tryParseQuantity } from '../quantity.js';
import type { ResourceDescription } from '../types.js';
import { defaultPodSpec, validatePodSpec } from './pod-spec.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  child,
  clone,
  column,
  deepEqual,
  rec,
  recs,
  since,
  spec,
  status,
  str,
  type Obj,
} from './util.js';

/** SetDefaults_Pod: the pod spec defaults, enableServiceLinks, and requests copied from limits. */
export function defaultPod(obj: KubeObject): void {
  const s = child(obj, 'spec');
  for (const key of ['initContainers', 'containers']) {
    for (const c of recs(s[key])) {
      const res = rec(c.resources);
      const limits = rec(res?.limits);
      if (!res || !limits || Object.keys(limits).length === 0) continue;
      const requests = child(res, 'requests');
      for (const [k, v] of Object.entries(limits)) if (requests[k] === undefined) requests[k] = v;
    }
  }
  defaultPodSpec(s);
  if (s.enableServiceLinks === undefined || s.enableServiceLinks === null) s.enableServiceLinks = true;
}

export const DEFAULT_TOLERATION_SECONDS = 300;

/**
 * What the DefaultTolerationSeconds admission plugin adds to every pod: tolerate the not-ready and
 * unreachable NoExecute taints for five minutes, unless the pod already tolerates them.
 */
export function addDefaultTolerations(podSpec: Obj): void {
  const tolerations = recs(podSpec.tolerations);
  const tolerates = (key: string): boolean =>
    tolerations.some(
      (t) => (t.key === key || str(t.key) === '') && (t.effect === 'NoExecute' || str(t.effect) === ''),
    );
  const added: Obj[] = [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerates(key))
      added.push({
        key,
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: DEFAULT_TOLERATION_SECONDS,
      });
  }
  if (added.length > 0) podSpec.tolerations = [...tolerations, ...added];
}

/** The pod's QoS class (qos.GetPodQOS): Guaranteed, Burstable or BestEffort. */
export function podQOSClass(podSpec: Obj): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...recs(podSpec.initContainers), ...recs(podSpec.containers)];
  let anyRequestOrLimit = false;
  let guaranteed = true;
  for (const c of containers) {
    const res = rec(c.resources) ?? {};
    const requests = rec(res.requests) ?? {};
    const limits = rec(res.limits) ?? {};
    for (const name of ['cpu', 'memory']) {
      const req = tryParseQuantity(requests[name]);
      const lim = tryParseQuantity(limits[name]);
      if ((req && req.nanos !== 0n) || (lim && lim.nanos !== 0n)) anyRequestOrLimit = true;
      if (!lim || lim.nanos === 0n) guaranteed = false;
      else if (req && compareQuantity(req, lim) !== 0) guaranteed = false;
    }
  }
  if (!anyRequestOrLimit) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const POD_UPDATE_MESSAGE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

export function validatePod(obj: KubeObject): FieldError[] {
  return validatePodSpec(rec(obj.spec), 'spec');
}

export function validatePodUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePod(obj);
  const ns = spec(obj);
  const os = spec(old);
  // activeDeadlineSeconds may be set or lowered, never removed or raised.
  const newAds = ns.activeDeadlineSeconds;
  const oldAds = os.activeDeadlineSeconds;
  if (typeof oldAds === 'number') {
    if (typeof newAds !== 'number' || newAds > oldAds)
      errs.push(
        fieldErr.invalid(
          'spec.activeDeadlineSeconds',
          newAds ?? null,
          'must be less than or equal to previous value',
        ),
      );
  }
  // Everything but the mutable fields must stay as it was.
  const a = clone(ns);
  const b = clone(os);
  for (const s of [a, b]) {
    delete s.activeDeadlineSeconds;
    delete s.terminationGracePeriodSeconds;
    delete s.tolerations;
    for (const key of ['containers', 'initContainers']) for (const c of recs(s[key])) delete c.image;
  }
  const oldTols = recs(os.tolerations);
  const newTols = recs(ns.tolerations);
  const tolerationsOk = oldTols.every((t) =>
    newTols.some(
      (n) =>
        deepEqual(n, t) ||
        (deepEqual({ ...n, tolerationSeconds: undefined }, { ...t, tolerationSeconds: undefined }) &&
          t.effect === 'NoExecute'),
    ),
  );
  const oldGrace = os.terminationGracePeriodSeconds;
  const newGrace = ns.terminationGracePeriodSeconds;
  const graceOk =
    deepEqual(oldGrace, newGrace) || (typeof oldGrace === 'number' && oldGrace < 0 && newGrace === 1);
  if (!deepEqual(a, b) || !tolerationsOk || !graceOk)
    errs.push(fieldErr.forbidden('spec', POD_UPDATE_MESSAGE));
  for (const key of ['containers', 'initContainers']) {
    recs(ns[key]).forEach((c, i) => {
      if (str(c.image).trim() === '' && recs(os[key])[i]?.image)
        errs.push(fieldErr.required(`spec.${key}[${i}].image`));
    });
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// The STATUS column, computed the way kubectl's printer does it.
// ---------------------------------------------------------------------------------------------

function latest(a: string, b: unknown): string {
  if (typeof b !== 'string' || b === '') return a;
  if (a === '' || Date.parse(b) > Date.parse(a)) return b;
  return a;
}

export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

export function summarizePod(pod: KubeObject, now: Date): PodSummary {
  const s = spec(pod);
  const st = status(pod);
  const containers = recs(s.containers);
  const initContainers = recs(s.initContainers);
  const restartable = new Set(
    initContainers.filter((c) => c.restartPolicy === 'Always').map((c) => str(c.name)),
  );
  let totalContainers = containers.length + restartable.size;
  let readyContainers = 0;
  let restarts = 0;
  let restartableRestarts = 0;
  let lastRestart = '';
  let lastRestartableRestart = '';
  let reason = str(st.phase);
  if (str(st.reason) !== '') reason = str(st.reason);
  for (const c of recs(st.conditions)) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  let initializing = false;
  const initStatuses = recs(st.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] ?? {};
    const count = typeof cs.restartCount === 'number' ? cs.restartCount : 0;
    restarts += count;
    const lastTerm = rec(rec(cs.lastState)?.terminated);
    if (lastTerm) lastRestart = latest(lastRestart, lastTerm.finishedAt);
    const isRestartable = restartable.has(str(cs.name));
    if (isRestartable) {
      restartableRestarts += count;
      if (lastTerm) lastRestartableRestart = latest(lastRestartableRestart, lastTerm.finishedAt);
    }
    const state = rec(cs.state) ?? {};
    const terminated = rec(state.terminated);
    const waiting = rec(state.waiting);
    if (terminated && terminated.exitCode === 0) continue;
    if (isRestartable && cs.started === true) {
      if (cs.ready === true) readyContainers++;
      continue;
    }
    if (terminated) {
      if (str(terminated.reason) === '') {
        reason =
          typeof terminated.signal === 'number' && terminated.signal !== 0
            ? `Init:Signal:${terminated.signal}`
            : `Init:ExitCode:${String(typeof terminated.exitCode === 'number' ? terminated.exitCode : 0)}`;
      } else {
        reason = `Init:${str(terminated.reason)}`;
      }
    } else if (waiting && str(waiting.reason) !== '' && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }

  const initializedTrue = recs(st.conditions).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = restartableRestarts;
    lastRestart = lastRestartableRestart;
    let hasRunning = false;
    const statuses = recs(st.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] ?? {};
      restarts += typeof cs.restartCount === 'number' ? cs.restartCount : 0;
      const lastTerm = rec(rec(cs.lastState)?.terminated);
      if (lastTerm) lastRestart = latest(lastRestart, lastTerm.finishedAt);
      const state = rec(cs.state) ?? {};
      const waiting = rec(state.waiting);
      const terminated = rec(state.terminated);
      if (waiting && str(waiting.reason) !== '') reason = str(waiting.reason);
      else if (terminated && str(terminated.reason) !== '') reason = str(terminated.reason);
      else if (terminated) {
        reason =
          typeof terminated.signal === 'number' && terminated.signal !== 0
            ? `Signal:${terminated.signal}`
            : `ExitCode:${String(typeof terminated.exitCode === 'number' ? terminated.exitCode : 0)}`;
      } else if (cs.ready === true && rec(state.running)) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = recs(st.conditions).some((c) => c.type === 'Ready' && c.status === 'True')
        ? 'Running'
        : 'NotReady';
    }
  }

  const phase = str(st.phase);
  if (pod.metadata.deletionTimestamp && st.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed')
    reason = 'Terminating';

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart !== '') restartsText = `${restarts} (${since(lastRestart, now)} ago)`;
  if (totalContainers < 0) totalContainers = 0;
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsText };
}

function podIP(pod: KubeObject): string {
  const st = status(pod);
  const ips = recs(st.podIPs);
  if (ips.length > 0) return str(ips[0]?.ip);
  return str(st.podIP);
}

const orNone = (v: string): string => (v === '' ? '<none>' : v);

export const podColumns = [
  NAME_COLUMN,
  column(
    'Ready',
    'string',
    'The aggregate readiness state of this pod for accepting traffic.',
    (o, now) => summarizePod(o, now).ready,
  ),
  column(
    'Status',
    'string',
    'The aggregate status of the containers in this pod.',
    (o, now) => summarizePod(o, now).status,
  ),
  column(
    'Restarts',
    'string',
    'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    (o, now) => summarizePod(o, now).restarts,
  ),
  AGE_COLUMN,
  column('IP', 'string', 'The IP address of the pod.', (o) => orNone(podIP(o)), 1),
  column('Node', 'string', 'The node the pod is bound to.', (o) => orNone(str(spec(o).nodeName)), 1),
  column(
    'Nominated Node',
    'string',
    'The node the scheduler nominated for this pod.',
    (o) => orNone(str(status(o).nominatedNodeName)),
    1,
  ),
  column(
    'Readiness Gates',
    'string',
    'The readiness gates of the pod and how many of them are met.',
    (o) => {
      const gates = recs(spec(o).readinessGates);
      if (gates.length === 0) return '<none>';
      const conds = recs(status(o).conditions);
      const met = gates.filter(
        (g) => conds.find((c) => c.type === g.conditionType)?.status === 'True',
      ).length;
      return `${met}/${gates.length}`;
    },
    1,
  ),
];

export const podFieldSelectors: Readonly<Record<string, (obj: KubeObject) => string | undefined>> = {
  'spec.nodeName': (o) => str(spec(o).nodeName),
  'spec.restartPolicy': (o) => str(spec(o).restartPolicy),
  'spec.schedulerName': (o) => str(spec(o).schedulerName),
  'spec.serviceAccountName': (o) => str(spec(o).serviceAccountName),
  'spec.hostNetwork': (o) => String(spec(o).hostNetwork === true),
  'status.phase': (o) => str(status(o).phase),
  'status.podIP': (o) => podIP(o),
  'status.nominatedNodeName': (o) => str(status(o).nominatedNodeName),
};

export const podResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  categories: ['all'],
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.Pod',
  subresources: { status: true },
  tableColumns: podColumns,
  fieldSelectors: podFieldSelectors,
  strategy: {
    default: defaultPod,
    prepareForCreate(obj) {
      const s = child(obj, 'spec');
      // What the Priority admission plugin fills in for a pod without a priority class.
      if (s.priority === undefined && str(s.priorityClassName) === '') {
        s.priority = 0;
        if (s.preemptionPolicy === undefined) s.preemptionPolicy = 'PreemptLowerPriority';
      }
      addDefaultTolerations(s);
      obj.status = { phase: 'Pending', qosClass: podQOSClass(s) };
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    validate: validatePod,
    validateUpdate: validatePodUpdate,
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
      obj.metadata.ownerReferences = clone(old.metadata.ownerReferences);
    },
    gracePeriodSeconds(obj, requested) {
      const s = spec(obj);
      let period =
        requested ??
        (typeof s.terminationGracePeriodSeconds === 'number' ? s.terminationGracePeriodSeconds : 0);
      if (str(s.nodeName) === '') period = 0;
      const phase = status(obj).phase;
      if (phase === 'Succeeded' || phase === 'Failed') period = 0;
      if (period < 0) period = 1;
      return period === 0 ? undefined : period;
    },
  },
};
