// pods/binding (the scheduler's way of assigning a node) and pods/eviction (a deletion that
// respects PodDisruptionBudgets and marks the pod DisruptionTarget first), as kube-apiserver's pod
// storage serves them.
import {
  StatusError,
  badRequest,
  conflict,
  invalid,
  fieldErr,
  tooManyRequests,
  type Status,
} from '../api/errors.js';
import { isPlainObject, type KubeObject } from '../api/meta.js';
import type { ResourceDescription } from '../api/types.js';
import { ConflictError } from '../storage/errors.js';
import type { KeyValue, Store } from '../storage/types.js';
import { selectorMatches } from '../api/kinds/util.js';
import { encodeForStorage, nowTimestamp, qualifiedResource, toStorage } from './objects.js';
import { storageKey, storagePrefix } from './resource-registry.js';

/** What the pod subresources need from the generic REST handler. */
export interface PodStorage {
  readonly store: Store;
  readonly pods: ResourceDescription;
  readonly pdbs: ResourceDescription | undefined;
  read(desc: ResourceDescription, namespace: string, name: string): Promise<KeyValue>;
  decode(desc: ResourceDescription, kv: KeyValue): KubeObject;
  deletePod(namespace: string, name: string, deleteOptions: Record<string, unknown>): Promise<void>;
}

function success(code: number): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
}

interface Binding {
  target: { kind?: string; name?: string };
  annotations: Record<string, string>;
}

function parseBinding(body: unknown, podName: string): Binding {
  if (!isPlainObject(body)) throw badRequest('the body of a binding must be a JSON object');
  const meta = isPlainObject(body.metadata) ? body.metadata : {};
  if (typeof meta.name === 'string' && meta.name !== podName)
    throw badRequest(`name in URL does not match name in Binding object`);
  const target = isPlainObject(body.target) ? body.target : {};
  const kind = typeof target.kind === 'string' ? target.kind : '';
  const name = typeof target.name === 'string' ? target.name : '';
  if (kind !== '' && kind !== 'Node')
    throw invalid('Binding', '', podName, [fieldErr.notSupported('target.kind', kind, ['Node', '<empty>'])]);
  if (name === '') throw invalid('Binding', '', podName, [fieldErr.required('target.name')]);
  const annotations: Record<string, string> = {};
  if (isPlainObject(meta.annotations))
    for (const [k, v] of Object.entries(meta.annotations)) if (typeof v === 'string') annotations[k] = v;
  return { target: { kind, name }, annotations };
}

function setScheduledCondition(pod: KubeObject): void {
  const status = isPlainObject(pod.status) ? pod.status : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isPlainObject) : [];
  const now = nowTimestamp();
  const existing = conditions.find((c) => c.type === 'PodScheduled');
  if (existing) {
    if (existing.status !== 'True') existing.lastTransitionTime = now;
    existing.status = 'True';
    delete existing.reason;
    delete existing.message;
  } else
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now });
  pod.status = { ...status, conditions };
}

/** POST pods/NAME/binding: sets spec.nodeName once, as upstream's assignPod does. */
export async function bindPod(
  s: PodStorage,
  namespace: string,
  podName: string,
  body: unknown,
  dryRun: boolean,
): Promise<Status> {
  const binding = parseBinding(body, podName);
  const qr = qualifiedResource(s.pods);
  for (let attempt = 0; attempt < 16; attempt++) {
    const kv = await s.read(s.pods, namespace, podName);
    const pod = s.decode(s.pods, kv);
    if (pod.metadata.deletionTimestamp)
      throw conflict(qr, podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
    const spec = isPlainObject(pod.spec) ? pod.spec : {};
    if (typeof spec.nodeName === 'string' && spec.nodeName !== '')
      throw conflict(qr, podName, `pod ${podName} is already assigned to node "${spec.nodeName}"`);
    spec.nodeName = binding.target.name;
    pod.spec = spec;
    if (Object.keys(binding.annotations).length)
      pod.metadata.annotations = { ...pod.metadata.annotations, ...binding.annotations };
    setScheduledCondition(pod);
    if (dryRun) return success(201);
    try {
      await s.store.update(
        storageKey(s.pods, namespace, podName),
        encodeForStorage(toStorage(s.pods, pod)),
        kv.modRevision,
      );
      return success(201);
    } catch (err) {
      if (err instanceof ConflictError) continue;
      throw err;
    }
  }
  throw conflict(qr, podName, 'too many concurrent changes');
}

function count(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function podIsHealthy(pod: KubeObject): boolean {
  const status = isPlainObject(pod.status) ? pod.status : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isPlainObject) : [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * POST pods/NAME/eviction: refuses with 429 when a PodDisruptionBudget covering the pod allows no
 * more disruptions; otherwise records the disruption in the budget and deletes the pod gracefully.
 */
export async function evictPod(
  s: PodStorage,
  namespace: string,
  podName: string,
  body: unknown,
): Promise<Status> {
  const eviction = isPlainObject(body) ? body : {};
  const deleteOptions = isPlainObject(eviction.deleteOptions) ? eviction.deleteOptions : {};
  const meta = isPlainObject(eviction.metadata) ? eviction.metadata : {};
  if (typeof meta.name === 'string' && meta.name !== '' && meta.name !== podName)
    throw badRequest('name in URL does not match name in Eviction object');
  const pod = s.decode(s.pods, await s.read(s.pods, namespace, podName));
  const phase = isPlainObject(pod.status) ? pod.status.phase : undefined;
  // Terminal, pending or already-deleting pods never count against a budget (upstream's canIgnorePDB).
  const budgetApplies =
    phase !== 'Succeeded' && phase !== 'Failed' && phase !== 'Pending' && !pod.metadata.deletionTimestamp;
  if (budgetApplies && s.pdbs) await takeDisruption(s, s.pdbs, pod);
  const pre = isPlainObject(deleteOptions.preconditions) ? deleteOptions.preconditions : undefined;
  const expectedVersion = typeof pre?.resourceVersion === 'string' ? pre.resourceVersion : undefined;
  const newVersion = await markDisruptionTarget(s, namespace, podName, expectedVersion);
  // Our own status write moved the pod's resourceVersion: the caller's precondition was about the pod before it.
  const options =
    pre && expectedVersion !== undefined && newVersion !== undefined
      ? { ...deleteOptions, preconditions: { ...pre, resourceVersion: newVersion } }
      : deleteOptions;
  await s.deletePod(namespace, podName, options);
  return success(201);
}

/** The pod learns why it goes before it is deleted (upstream's addConditionAndDeletePod). */
async function markDisruptionTarget(
  s: PodStorage,
  namespace: string,
  podName: string,
  expectedVersion: string | undefined,
): Promise<string | undefined> {
  for (let attempt = 0; attempt < 16; attempt++) {
    const kv = await s.read(s.pods, namespace, podName);
    // A stale resourceVersion precondition: leave the pod alone, the delete refuses it.
    if (expectedVersion !== undefined && expectedVersion !== String(kv.modRevision)) return undefined;
    const pod = s.decode(s.pods, kv);
    const status = isPlainObject(pod.status) ? pod.status : {};
    const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isPlainObject) : [];
    const now = nowTimestamp();
    const wanted = { status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' };
    const existing = conditions.find((c) => c.type === 'DisruptionTarget');
    if (existing) {
      if (existing.status !== 'True') existing.lastTransitionTime = now;
      Object.assign(existing, wanted);
    } else
      conditions.push({ type: 'DisruptionTarget', ...wanted, lastProbeTime: null, lastTransitionTime: now });
    pod.status = { ...status, conditions };
    try {
      const written = await s.store.update(
        storageKey(s.pods, namespace, podName),
        encodeForStorage(toStorage(s.pods, pod)),
        kv.modRevision,
      );
      return String(written.modRevision);
    } catch (err) {
      if (err instanceof ConflictError) continue;
      throw err;
    }
  }
  throw conflict(qualifiedResource(s.pods), podName, 'too many concurrent changes');
}

/** The DisruptionAllowed condition once the last allowed disruption is spent (as the PDB controller sets it). */
function markInsufficient(status: Record<string, unknown>, now: string): void {
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isPlainObject) : [];
  const existing = conditions.find((c) => c.type === 'DisruptionAllowed');
  const observedGeneration = status.observedGeneration;
  if (existing) {
    if (existing.status !== 'False') existing.lastTransitionTime = now;
    Object.assign(existing, { status: 'False', reason: 'InsufficientPods', message: '', observedGeneration });
  } else
    conditions.push({
      type: 'DisruptionAllowed',
      status: 'False',
      reason: 'InsufficientPods',
      message: '',
      observedGeneration,
      lastTransitionTime: now,
    });
  status.conditions = conditions;
}

async function takeDisruption(s: PodStorage, pdbs: ResourceDescription, pod: KubeObject): Promise<void> {
  const namespace = pod.metadata.namespace ?? '';
  const { items } = await s.store.list(`${storagePrefix(pdbs)}${namespace}/`);
  const labels = pod.metadata.labels ?? {};
  const matching = items
    .map((kv) => ({ kv, pdb: s.decode(pdbs, kv) }))
    .filter(({ pdb }) => {
      const spec = isPlainObject(pdb.spec) ? pdb.spec : {};
      return isPlainObject(spec.selector) && selectorMatches(spec.selector, labels);
    });
  if (matching.length === 0) return;
  if (matching.length > 1)
    throw new StatusError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code: 500,
      reason: 'InternalError',
      message:
        'Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    });
  const { kv, pdb } = matching[0]!;
  const status = isPlainObject(pdb.status) ? pdb.status : {};
  if (!podIsHealthy(pod)) {
    // An unready pod adds nothing to currentHealthy: it may go without spending a disruption when
    // the policy says AlwaysAllow, or (IfHealthyBudget, the default) while the budget is met.
    const spec = isPlainObject(pdb.spec) ? pdb.spec : {};
    if (spec.unhealthyPodEvictionPolicy === 'AlwaysAllow') return;
    const desired = count(status.desiredHealthy);
    if (count(status.currentHealthy) >= desired && desired > 0) return;
  }
  const allowed = typeof status.disruptionsAllowed === 'number' ? status.disruptionsAllowed : 0;
  const observed = typeof status.observedGeneration === 'number' ? status.observedGeneration : 0;
  const refuse = (why: string): StatusError => {
    const err = tooManyRequests(`Cannot evict pod as it would violate the pod's disruption budget.`, 0);
    err.status.details = { causes: [{ reason: 'DisruptionBudget', message: why }] };
    return err;
  };
  if (observed < (pdb.metadata.generation ?? 0))
    throw refuse(`The disruption budget ${pdb.metadata.name ?? ''} is still being processed by the server.`);
  if (allowed <= 0)
    throw refuse(
      `The disruption budget ${pdb.metadata.name ?? ''} needs ${count(status.desiredHealthy)} healthy pods and has ${count(status.currentHealthy)} currently`,
    );
  const disrupted = isPlainObject(status.disruptedPods) ? status.disruptedPods : {};
  const now = nowTimestamp();
  const next: Record<string, unknown> = {
    ...status,
    disruptionsAllowed: allowed - 1,
    disruptedPods: { ...disrupted, [pod.metadata.name ?? '']: now },
  };
  if (allowed - 1 === 0) markInsufficient(next, now);
  pdb.status = next;
  // A racing eviction makes this fail with a conflict: the client retries, as upstream asks it to.
  await s.store.update(
    storageKey(pdbs, namespace, pdb.metadata.name ?? ''),
    encodeForStorage(toStorage(pdbs, pdb)),
    kv.modRevision,
  );
}
