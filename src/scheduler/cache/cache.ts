// The scheduler's cache: a NodeInfo per node with the pods bound to it, plus pods the scheduler
// has assumed (placed after Reserve, before its bind comes back through the watch) so the next
// decision already counts them. An assumed pod whose binding finished but never shows up in the
// watch expires after a TTL. The cache is also the cycle's snapshot: the scheduling cycle runs
// synchronously, so nothing changes under it.
import type { Node, Pod } from '../../api/generated/types.js';
import { createLogger, type Logger } from '../../util/log.js';
import type { SnapshotLister } from '../framework/interfaces.js';
import { NodeInfo, PodInfo, podKey, podName, type ImageStateSummary } from '../framework/node-info.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const REGION_LABEL = 'topology.kubernetes.io/region';

interface PodState {
  pi: PodInfo;
  nodeName: string;
  assumed: boolean;
  bindingFinished: boolean;
  deadline: number;
}

export interface CacheOptions {
  /** How long an assumed pod whose bind finished may wait for its watch event (default 30 s; 0 = never expires). */
  assumedPodTtlMs?: number;
  now?: () => number;
  log?: Logger;
}

function zoneOf(node: Node): string {
  const l = node.metadata.labels ?? {};
  const region = l[REGION_LABEL] ?? '';
  const zone = l[ZONE_LABEL] ?? '';
  return region || zone ? `${region}:\u0000:${zone}` : '';
}

export class SchedulerCache implements SnapshotLister {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  private readonly images = new Map<string, ImageStateSummary & { nodes: Set<string> }>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private nodeList: NodeInfo[] = [];
  private listDirty = true;
  private affinityDirty = true;
  private withAffinity: NodeInfo[] = [];
  private withAntiAffinity: NodeInfo[] = [];

  constructor(opts: CacheOptions = {}) {
    this.ttlMs = opts.assumedPodTtlMs ?? 30_000;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? createLogger('scheduler.cache');
  }

  // Snapshot -------------------------------------------------------------------------------------

  /** Nodes in zone round-robin order (one from each zone in turn), as upstream's node tree lists them. */
  list(): readonly NodeInfo[] {
    if (this.listDirty) {
      const zones = new Map<string, NodeInfo[]>();
      for (const ni of this.nodes.values()) {
        if (!ni.node) continue;
        const z = zoneOf(ni.node);
        let l = zones.get(z);
        if (!l) zones.set(z, (l = []));
        l.push(ni);
      }
      const lists = [...zones.values()];
      const out: NodeInfo[] = [];
      for (let i = 0; out.length < lists.reduce((s, l) => s + l.length, 0); i++) {
        for (const l of lists) if (i < l.length) out.push(l[i]!);
      }
      this.nodeList = out;
      this.listDirty = false;
    }
    return this.nodeList;
  }

  get(name: string): NodeInfo | undefined {
    const ni = this.nodes.get(name);
    return ni?.node ? ni : undefined;
  }

  private refreshAffinityLists(): void {
    if (!this.affinityDirty) return;
    this.withAffinity = [];
    this.withAntiAffinity = [];
    for (const ni of this.list()) {
      if (ni.podsWithAffinity.length > 0) this.withAffinity.push(ni);
      if (ni.podsWithRequiredAntiAffinity.length > 0) this.withAntiAffinity.push(ni);
    }
    this.affinityDirty = false;
  }

  havePodsWithAffinity(): readonly NodeInfo[] {
    this.refreshAffinityLists();
    return this.withAffinity;
  }

  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[] {
    this.refreshAffinityLists();
    return this.withAntiAffinity;
  }

  nodeCount(): number {
    return this.list().length;
  }

  podCount(): number {
    return this.pods.size;
  }

  // Nodes ----------------------------------------------------------------------------------------

  private nodeInfo(name: string): NodeInfo {
    let ni = this.nodes.get(name);
    if (!ni) {
      ni = new NodeInfo();
      this.nodes.set(name, ni);
    }
    return ni;
  }

  addNode(node: Node): void {
    const name = node.metadata.name ?? '';
    const ni = this.nodeInfo(name);
    if (ni.node) this.removeImages(ni);
    ni.setNode(node);
    this.addImages(ni, node);
    this.listDirty = true;
    this.affinityDirty = true;
  }

  updateNode(_old: Node, node: Node): void {
    this.addNode(node);
  }

  removeNode(node: Node): void {
    const name = node.metadata.name ?? '';
    const ni = this.nodes.get(name);
    if (!ni) return;
    this.removeImages(ni);
    // Pods still bound to a deleted node stay until their own deletion arrives.
    if (ni.pods.length === 0) this.nodes.delete(name);
    else ni.removeNode();
    this.listDirty = true;
    this.affinityDirty = true;
  }

  private addImages(ni: NodeInfo, node: Node): void {
    ni.imageStates = new Map();
    for (const img of node.status?.images ?? []) {
      for (const n of img.names ?? []) {
        let st = this.images.get(n);
        if (!st) this.images.set(n, (st = { size: img.sizeBytes ?? 0, numNodes: 0, nodes: new Set() }));
        st.size = img.sizeBytes ?? st.size;
        if (!st.nodes.has(ni.name)) {
          st.nodes.add(ni.name);
          st.numNodes = st.nodes.size;
        }
        ni.imageStates.set(n, st);
      }
    }
  }

  private removeImages(ni: NodeInfo): void {
    for (const [n, st] of ni.imageStates) {
      const g = this.images.get(n);
      if (!g) continue;
      g.nodes.delete(ni.name);
      g.numNodes = g.nodes.size;
      if (g.numNodes === 0) this.images.delete(n);
      void st;
    }
    ni.imageStates = new Map();
  }

  // Pods -----------------------------------------------------------------------------------------

  private place(pi: PodInfo, nodeName: string): void {
    this.nodeInfo(nodeName).addPodInfo(pi);
    if (pi.hasAffinity()) this.affinityDirty = true;
  }

  private unplace(ps: PodState): void {
    const ni = this.nodes.get(ps.nodeName);
    if (!ni) return;
    ni.removePod(ps.pi.key);
    if (ps.pi.hasAffinity()) this.affinityDirty = true;
    if (!ni.node && ni.pods.length === 0) this.nodes.delete(ps.nodeName);
  }

  isAssumed(pod: Pod): boolean {
    return this.pods.get(podKey(pod))?.assumed ?? false;
  }

  /** The cached pod (bound or assumed) with this key, if any. */
  getPod(pod: Pod): Pod | undefined {
    return this.pods.get(podKey(pod))?.pi.pod;
  }

  /** Places a pod the scheduler decided on, before its binding is written. */
  assumePod(pi: PodInfo): void {
    const nodeName = pi.pod.spec?.nodeName;
    if (!nodeName) throw new Error(`assumed pod ${podName(pi.pod)} has no node name`);
    if (this.pods.has(pi.key)) throw new Error(`pod ${podName(pi.pod)} is in the cache, so can't be assumed`);
    this.place(pi, nodeName);
    this.pods.set(pi.key, { pi, nodeName, assumed: true, bindingFinished: false, deadline: 0 });
  }

  /** The bind call returned: start the expiry clock of the assumed pod. */
  finishBinding(pod: Pod): void {
    const ps = this.pods.get(podKey(pod));
    if (!ps || !ps.assumed) return;
    ps.bindingFinished = true;
    ps.deadline = this.ttlMs > 0 ? this.now() + this.ttlMs : Infinity;
  }

  /** Undoes assumePod (the bind failed). */
  forgetPod(pod: Pod): void {
    const key = podKey(pod);
    const ps = this.pods.get(key);
    if (!ps) return;
    if (!ps.assumed) {
      this.log.warn('forgetting a pod that is not assumed', { pod: podName(pod) });
      return;
    }
    this.unplace(ps);
    this.pods.delete(key);
  }

  /** A bound pod arrived through the watch (confirming an assumed one, or a pod bound by someone else). */
  addPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const key = podKey(pod);
    const ps = this.pods.get(key);
    if (ps) {
      this.unplace(ps);
      if (ps.assumed && ps.nodeName !== nodeName) {
        this.log.warn('pod was assumed to one node but bound to another', {
          pod: podName(pod),
          assumed: ps.nodeName,
          actual: nodeName,
        });
      }
    }
    const pi = new PodInfo(pod);
    this.place(pi, nodeName);
    this.pods.set(key, { pi, nodeName, assumed: false, bindingFinished: false, deadline: 0 });
  }

  updatePod(_old: Pod, pod: Pod): void {
    this.addPod(pod);
  }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    const ps = this.pods.get(key);
    if (!ps) return;
    this.unplace(ps);
    this.pods.delete(key);
  }

  /** Drops assumed pods whose binding finished more than the TTL ago without a watch confirmation. */
  cleanupExpiredAssumedPods(now = this.now()): number {
    let n = 0;
    for (const [key, ps] of this.pods) {
      if (!ps.assumed || !ps.bindingFinished || now < ps.deadline) continue;
      this.log.warn('assumed pod expired', { pod: podName(ps.pi.pod), node: ps.nodeName });
      this.unplace(ps);
      this.pods.delete(key);
      n++;
    }
    return n;
  }
}
