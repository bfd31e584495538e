// VolumeBinding (basic): a pod's PersistentVolumeClaims must exist; bound claims pin the pod to the
// nodes their volume's node affinity allows; WaitForFirstConsumer claims are matched, per node, to
// an available volume (smallest that fits) or left to dynamic provisioning. Reserve holds the
// chosen volumes; PreBind writes the binding (PV claimRef) or the selected node annotation.
import type {
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  StorageClass,
} from '../../../api/generated/types.js';
import { tryParseQuantity } from '../../../api/quantity.js';
import type { CycleState, StateData } from '../../framework/cycle-state.js';
import {
  ActionType,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type PreBindPlugin,
  type PreFilterPlugin,
  type ReservePlugin,
} from '../../framework/interfaces.js';
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import { Status } from '../../framework/status.js';
import { compileNodeSelector } from '../../util/selectors.js';
import { VolumeBinding as NAME } from '../names/index.js';

export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_REASON_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

const STATE_KEY = 'PreFilter' + NAME;

interface Claims {
  bound: Array<{ pvc: PersistentVolumeClaim; pv: PersistentVolume }>;
  delayed: Array<{ pvc: PersistentVolumeClaim; sc: StorageClass | undefined }>;
}

interface NodeDecision {
  /** Claim key → chosen PV name (static binding). */
  bindings: Array<{ pvc: PersistentVolumeClaim; pv: PersistentVolume }>;
  /** Claims left to the provisioner. */
  provisions: PersistentVolumeClaim[];
}

class State implements StateData {
  readonly decisions = new Map<string, NodeDecision>();
  constructor(readonly claims: Claims) {}
  clone(): StateData {
    return this;
  }
}

function storageOf(obj: { [k: string]: string } | undefined): bigint {
  const q = tryParseQuantity(obj?.storage);
  return q ? q.nanos : 0n;
}

function claimKey(pvc: PersistentVolumeClaim): string {
  return `${pvc.metadata.namespace ?? ''}/${pvc.metadata.name ?? ''}`;
}

export function pvMatchesNode(pv: PersistentVolume, node: Node): boolean {
  const req = pv.spec?.nodeAffinity?.required;
  return req ? compileNodeSelector(req)(node) : true;
}

export class VolumeBindingPlugin
  implements PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin, EnqueueExtensions
{
  readonly name = NAME;
  /** PV name → claim key, for volumes reserved by pods whose binding is not written yet. */
  private readonly assumed = new Map<string, string>();

  constructor(private readonly handle: Handle) {}

  private claimNames(pod: Pod): string[] {
    const out: string[] = [];
    for (const v of pod.spec?.volumes ?? []) {
      if (v.persistentVolumeClaim) out.push(v.persistentVolumeClaim.claimName);
      else if (v.ephemeral) out.push(`${pod.metadata.name ?? ''}-${v.name}`);
    }
    return out;
  }

  preFilter(state: CycleState, pod: PodInfo): { status: Status } {
    const names = this.claimNames(pod.pod);
    if (names.length === 0) return { status: Status.SKIP };
    const ns = pod.pod.metadata.namespace ?? '';
    const client = this.handle.client;
    const claims: Claims = { bound: [], delayed: [] };
    let unboundImmediate = false;
    for (const name of names) {
      const pvc = client.source('persistentvolumeclaims').get(ns, name);
      if (!pvc) return { status: Status.unresolvable(`persistentvolumeclaim "${name}" not found`) };
      if (pvc.metadata.deletionTimestamp)
        return { status: Status.unresolvable(`persistentvolumeclaim "${name}" is being deleted`) };
      const volumeName = pvc.spec?.volumeName;
      if (volumeName) {
        const pv = client.source('persistentvolumes').get(undefined, volumeName);
        if (!pv)
          return {
            status: Status.unresolvable(`pvc ${ns}/${name} is bound to a missing volume "${volumeName}"`),
          };
        claims.bound.push({ pvc, pv });
        continue;
      }
      const scName = pvc.spec?.storageClassName ?? '';
      const sc = scName ? client.source('storageclasses').get(undefined, scName) : undefined;
      if (sc?.volumeBindingMode === 'WaitForFirstConsumer') claims.delayed.push({ pvc, sc });
      else unboundImmediate = true;
    }
    if (unboundImmediate) return { status: Status.unresolvable(ERR_REASON_UNBOUND_IMMEDIATE) };
    state.write(STATE_KEY, new State(claims));
    return { status: Status.SUCCESS };
  }

  private findVolume(
    pvc: PersistentVolumeClaim,
    node: Node,
    taken: Set<string>,
  ): PersistentVolume | undefined {
    const want = storageOf(pvc.spec?.resources?.requests);
    const modes = pvc.spec?.accessModes ?? [];
    const sc = pvc.spec?.storageClassName ?? '';
    const key = claimKey(pvc);
    let best: PersistentVolume | undefined;
    let bestSize = 0n;
    for (const pv of this.handle.client.source('persistentvolumes').list()) {
      const name = pv.metadata.name ?? '';
      if (taken.has(name) || pv.metadata.deletionTimestamp) continue;
      const assumedFor = this.assumed.get(name);
      if (assumedFor !== undefined && assumedFor !== key) continue;
      const ref = pv.spec?.claimRef;
      if (ref && !(ref.namespace === pvc.metadata.namespace && ref.name === pvc.metadata.name)) continue;
      if ((pv.spec?.storageClassName ?? '') !== sc) continue;
      if (pv.status?.phase && pv.status.phase !== 'Available' && !ref) continue;
      const pvModes = new Set(pv.spec?.accessModes ?? []);
      if (!modes.every((m) => pvModes.has(m))) continue;
      const size = storageOf(pv.spec?.capacity);
      if (size < want) continue;
      if (!pvMatchesNode(pv, node)) continue;
      if (!best || size < bestSize) {
        best = pv;
        bestSize = size;
      }
    }
    return best;
  }

  filter(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): Status {
    const s = state.read<State>(STATE_KEY);
    const node = nodeInfo.node;
    if (!s || !node) return Status.SUCCESS;
    for (const { pv } of s.claims.bound)
      if (!pvMatchesNode(pv, node)) return Status.unresolvable(ERR_REASON_NODE_CONFLICT);
    const decision: NodeDecision = { bindings: [], provisions: [] };
    const taken = new Set<string>();
    for (const { pvc, sc } of s.claims.delayed) {
      const pv = this.findVolume(pvc, node, taken);
      if (pv) {
        taken.add(pv.metadata.name ?? '');
        decision.bindings.push({ pvc, pv });
        continue;
      }
      const provisioner = sc?.provisioner ?? NO_PROVISIONER;
      if (provisioner === NO_PROVISIONER) return Status.unresolvable(ERR_REASON_BIND_CONFLICT);
      const allowed = sc?.allowedTopologies ?? [];
      if (allowed.length > 0) {
        const labels = node.metadata.labels ?? {};
        const ok = allowed.some((t) =>
          (t.matchLabelExpressions ?? []).every((e) => e.values.includes(labels[e.key] ?? '\u0000')),
        );
        if (!ok) return Status.unresolvable(ERR_REASON_NODE_CONFLICT);
      }
      decision.provisions.push(pvc);
    }
    s.decisions.set(nodeInfo.name, decision);
    return Status.SUCCESS;
  }

  reserve(state: CycleState, _pod: PodInfo, nodeName: string): Status {
    const d = state.read<State>(STATE_KEY)?.decisions.get(nodeName);
    for (const b of d?.bindings ?? []) this.assumed.set(b.pv.metadata.name ?? '', claimKey(b.pvc));
    return Status.SUCCESS;
  }

  unreserve(state: CycleState, _pod: PodInfo, nodeName: string): void {
    const d = state.read<State>(STATE_KEY)?.decisions.get(nodeName);
    for (const b of d?.bindings ?? []) this.assumed.delete(b.pv.metadata.name ?? '');
  }

  async preBind(state: CycleState, _pod: PodInfo, nodeName: string): Promise<Status> {
    const d = state.read<State>(STATE_KEY)?.decisions.get(nodeName);
    if (!d) return Status.SUCCESS;
    const client = this.handle.client;
    try {
      for (const { pvc, pv } of d.bindings) {
        // As upstream's BindVolumeToClaim: the binder (controller) side of the binding, marked so.
        await client.patch('persistentvolumes', undefined, pv.metadata.name ?? '', {
          metadata: { annotations: { 'pv.kubernetes.io/bound-by-controller': 'yes' } },
          spec: {
            claimRef: {
              kind: 'PersistentVolumeClaim',
              apiVersion: 'v1',
              namespace: pvc.metadata.namespace,
              name: pvc.metadata.name,
              uid: pvc.metadata.uid,
            },
          },
        });
        this.assumed.delete(pv.metadata.name ?? '');
      }
      for (const pvc of d.provisions) {
        await client.patch('persistentvolumeclaims', pvc.metadata.namespace, pvc.metadata.name ?? '', {
          metadata: { annotations: { [ANN_SELECTED_NODE]: nodeName } },
        });
      }
      return Status.SUCCESS;
    } catch (err) {
      return Status.error(err);
    }
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      { event: { resource: 'PersistentVolumeClaim', actionType: ActionType.Add | ActionType.Update } },
      { event: { resource: 'PersistentVolume', actionType: ActionType.Add | ActionType.Update } },
      { event: { resource: 'StorageClass', actionType: ActionType.Add | ActionType.Update } },
      {
        event: {
          resource: 'Node',
          actionType: ActionType.Add | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint,
        },
      },
    ];
  }
}

export const newVolumeBinding = (_args: unknown, handle: Handle): VolumeBindingPlugin =>
  new VolumeBindingPlugin(handle);
