// The nodes one agent process is: one (a real machine) or thousands (simulated). For each it
// registers the Node, renews its Lease every renew interval and looks at its status every update
// period, writing it only when it changed or the report period passed (upstream's
// nodeStatusUpdateFrequency 10 s and nodeStatusReportFrequency 5 min). Nodes' timers are spread
// evenly over the period and all requests go through one bounded limiter, so 5,000 nodes make a
// steady 500 lease renewals a second rather than bursts.
import { StatusError } from '../api/errors.js';
import type { Node, NodeStatus } from '../api/generated/types.js';
import type { EventRecorder } from '../client/events.js';
import type { RestClient } from '../client/rest.js';
import { NODES } from '../client/typed-refs.js';
import { createLogger, type Logger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import { DEFAULT_LEASE_DURATION_SECONDS, NodeLease } from './lease.js';
import {
  computeNodeStatus,
  initialNode,
  labelsToReconcile,
  NO_PRESSURE,
  nodeStatusChanged,
  nodeStatusPatch,
  type NodeConfig,
  type NodePressure,
} from './node-status.js';
import type { NodeRuntimeContext } from './runtime.js';
import { DelayHeap, errorText, Limiter } from './support.js';

const leaseRenewals = metrics.counter('k8ts_agent_lease_renewals_total', 'Node lease renewals, by result.');
const statusWrites = metrics.counter('k8ts_agent_node_status_writes_total', 'Node status writes, by result.');
const registrations = metrics.counter(
  'k8ts_agent_node_registrations_total',
  'Node registrations, by result.',
);

export interface HeartbeatOptions {
  leaseDurationSeconds?: number;
  /** Lease renew interval (default a quarter of the duration: 10 s). */
  renewIntervalMs?: number;
  /** How often each node's status is recomputed (default 10 s). */
  statusUpdateFrequencyMs?: number;
  /** A status that did not change is still written this often (default 5 min). */
  statusReportFrequencyMs?: number;
}

export interface ManagedNode {
  readonly cfg: NodeConfig;
  /** The Node as the server last returned it. */
  node: Node | undefined;
  readonly lease: NodeLease;
  lastReportAt: number;
  registered: boolean;
  /** Consecutive failed renewals. */
  leaseFailures: number;
  /** spec.unschedulable when last looked at (upstream's lastNodeUnschedulable, false at start). */
  lastUnschedulable: boolean;
}

export interface NodeManagerOptions {
  client: RestClient;
  nodes: readonly NodeConfig[];
  heartbeat?: HeartbeatOptions;
  /** Requests in flight for registration, leases and node status together (default 64). */
  concurrency?: number;
  /** Pressure probe per node (default none). */
  pressure?: (node: NodeConfig) => NodePressure;
  /** Reasons the node is not ready (a runtime that is down). */
  runtimeErrors?: () => string[];
  /** Records the kubelet's node events (Starting, NodeReady, ...); absent: none (simulated fleets). */
  recorder?: EventRecorder;
  now?: () => number;
  log?: Logger;
}

type TimerKey = string; // "l:<node>" lease, "s:<node>" status

/** The event the kubelet records when one of its conditions takes a status. */
const CONDITION_EVENTS: Record<string, { True: string; False: string }> = {
  MemoryPressure: { True: 'NodeHasInsufficientMemory', False: 'NodeHasSufficientMemory' },
  DiskPressure: { True: 'NodeHasDiskPressure', False: 'NodeHasNoDiskPressure' },
  PIDPressure: { True: 'NodeHasInsufficientPID', False: 'NodeHasSufficientPID' },
  Ready: { True: 'NodeReady', False: 'NodeNotReady' },
};

export class NodeManager {
  private readonly client: RestClient;
  private readonly byName = new Map<string, ManagedNode>();
  private readonly limiter: Limiter;
  private readonly timers: DelayHeap<TimerKey>;
  private readonly renewMs: number;
  private readonly updateMs: number;
  private readonly reportMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly inflight = new Set<Promise<void>>();
  private stopped = false;
  private started = false;

  constructor(private readonly opts: NodeManagerOptions) {
    this.client = opts.client;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? createLogger('agent.nodes');
    this.limiter = new Limiter(opts.concurrency ?? 64);
    const duration = opts.heartbeat?.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
    this.renewMs = opts.heartbeat?.renewIntervalMs ?? (duration * 1000) / 4;
    this.updateMs = opts.heartbeat?.statusUpdateFrequencyMs ?? 10_000;
    this.reportMs = opts.heartbeat?.statusReportFrequencyMs ?? 300_000;
    for (const cfg of opts.nodes) {
      const managed: ManagedNode = {
        cfg,
        node: undefined,
        lease: new NodeLease(this.client, cfg.name, {
          leaseDurationSeconds: duration,
          node: () => this.byName.get(cfg.name)?.node,
          now: this.now,
        }),
        lastReportAt: 0,
        registered: false,
        leaseFailures: 0,
        lastUnschedulable: false,
      };
      this.byName.set(cfg.name, managed);
    }
    this.timers = new DelayHeap<TimerKey>((key) => this.onTimer(key), 5, this.now);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): ManagedNode | undefined {
    return this.byName.get(name);
  }

  /** What a runtime needs to know about a node: its address and pod CIDR. */
  runtimeContext(name: string): NodeRuntimeContext | undefined {
    const m = this.byName.get(name);
    if (!m) return undefined;
    const hostIP =
      m.node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? m.cfg.internalIP;
    const podCIDR = m.node?.spec?.podCIDR ?? m.cfg.podCIDR;
    return podCIDR ? { nodeName: name, hostIP, podCIDR } : { nodeName: name, hostIP };
  }

  /** Registers every node (retrying until each is in), then starts heartbeats, spread over the period. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) return;
    this.started = true;
    const all = [...this.byName.values()];
    await Promise.all(all.map((m) => this.limiter.run(() => this.registerWithRetry(m, signal))));
    if (this.stopped) return;
    const t0 = this.now();
    all.forEach((m, i) => {
      const phase = all.length > 1 ? i / all.length : 0;
      this.timers.scheduleAt(`l:${m.cfg.name}`, t0 + phase * this.renewMs);
      this.timers.scheduleAt(`s:${m.cfg.name}`, t0 + phase * this.updateMs + this.updateMs);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.close();
    await Promise.allSettled([...this.inflight]);
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private onTimer(key: TimerKey): void {
    if (this.stopped) return;
    const name = key.slice(2);
    const m = this.byName.get(name);
    if (!m) return;
    if (key.startsWith('l:')) {
      this.track(
        this.limiter
          .run(() => this.renewLease(m))
          .finally(() => {
            // Upstream jitters the period by up to 4%.
            if (!this.stopped) this.timers.scheduleAfter(key, this.renewMs * (1 + Math.random() * 0.04));
          }),
      );
    } else {
      this.track(
        this.limiter
          .run(() => this.syncStatus(m))
          .finally(() => {
            if (!this.stopped) this.timers.scheduleAfter(key, this.updateMs);
          }),
      );
    }
  }

  private async registerWithRetry(m: ManagedNode, signal?: AbortSignal): Promise<void> {
    let delay = 100;
    while (!this.stopped && !signal?.aborted) {
      try {
        await this.register(m);
        return;
      } catch (err) {
        registrations.inc({ result: 'error' });
        this.log.warn('unable to register node with the API server', {
          node: m.cfg.name,
          err: errorText(err),
        });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(7000, delay * 2);
      }
    }
  }

  private nodeEvent(m: ManagedNode, reason: string, message: string): void {
    // The kubelet refers to its node by name, with the name as UID.
    this.opts.recorder?.event({ kind: 'Node', name: m.cfg.name, uid: m.cfg.name }, 'Normal', reason, message);
  }

  private recordTransitions(m: ManagedNode, old: NodeStatus | undefined, next: NodeStatus): void {
    if (!this.opts.recorder) return;
    for (const c of next.conditions ?? []) {
      const events = CONDITION_EVENTS[c.type];
      if (!events || (c.status !== 'True' && c.status !== 'False')) continue;
      const before = old?.conditions?.find((x) => x.type === c.type)?.status;
      if (before === c.status) continue;
      const reason = events[c.status];
      this.nodeEvent(m, reason, `Node ${m.cfg.name} status is now: ${reason}`);
    }
  }

  /**
   * As the kubelet before each status update: reads the Node and records NodeNotSchedulable or
   * NodeSchedulable when spec.unschedulable changed (`kubectl cordon` / `uncordon`). Only nodes with
   * a recorder do it, so simulated fleets make no extra reads.
   */
  private async observeSchedulable(m: ManagedNode): Promise<void> {
    try {
      m.node = await this.client.get<Node>(NODES, undefined, m.cfg.name);
    } catch (err) {
      // The status write that follows handles a missing Node (it registers again).
      this.log.warn('unable to read node before its status update', {
        node: m.cfg.name,
        err: errorText(err),
      });
      return;
    }
    const unschedulable = m.node.spec?.unschedulable === true;
    if (unschedulable === m.lastUnschedulable) return;
    m.lastUnschedulable = unschedulable;
    const reason = unschedulable ? 'NodeNotSchedulable' : 'NodeSchedulable';
    this.nodeEvent(m, reason, `Node ${m.cfg.name} status is now: ${reason}`);
  }

  /** Creates the Node, or adopts the one that exists (fixing the labels the agent owns). */
  async register(m: ManagedNode): Promise<void> {
    this.nodeEvent(m, 'Starting', 'Starting kubelet.');
    const node = initialNode(m.cfg, this.now());
    try {
      m.node = await this.client.create<Node>(NODES, undefined, node);
      m.lastReportAt = this.now();
      m.registered = true;
      registrations.inc({ result: 'created' });
      this.log.info('node registered', { node: m.cfg.name });
      if (node.status) this.recordTransitions(m, undefined, node.status);
      // Upstream keeps a Node's status on create; a server that drops it gets it written now.
      if (node.status && nodeStatusChanged(m.node.status, node.status)) await this.syncStatus(m, true);
      return;
    } catch (err) {
      if (!(err instanceof StatusError && err.code === 409)) throw err;
    }
    let existing = await this.client.get<Node>(NODES, undefined, m.cfg.name);
    const labels = labelsToReconcile(existing, m.cfg);
    if (labels)
      existing = await this.client.patch<Node>(NODES, undefined, m.cfg.name, 'merge', {
        metadata: { labels },
      });
    m.node = existing;
    m.registered = true;
    registrations.inc({ result: 'existing' });
    // Write the status at once: the existing one may be stale (the node was down).
    await this.syncStatus(m, true);
  }

  private async renewLease(m: ManagedNode): Promise<void> {
    if (!m.registered) return;
    try {
      await m.lease.renew();
      m.leaseFailures = 0;
      leaseRenewals.inc({ result: 'ok' });
    } catch (err) {
      m.leaseFailures++;
      leaseRenewals.inc({ result: 'error' });
      if (m.leaseFailures === 1 || m.leaseFailures % 10 === 0)
        this.log.warn('failed to renew node lease', {
          node: m.cfg.name,
          failures: m.leaseFailures,
          err: errorText(err),
        });
    }
  }

  /** Recomputes the status; writes it when it changed or the report period passed. */
  async syncStatus(m: ManagedNode, force = false): Promise<void> {
    if (!m.registered) return;
    if (this.opts.recorder) await this.observeSchedulable(m);
    const now = this.now();
    const pressure = this.opts.pressure?.(m.cfg) ?? NO_PRESSURE;
    const next = computeNodeStatus(m.cfg, m.node?.status, pressure, now, this.opts.runtimeErrors?.() ?? []);
    if (!force && now - m.lastReportAt < this.reportMs && !nodeStatusChanged(m.node?.status, next)) return;
    this.recordTransitions(m, m.node?.status, next);
    try {
      m.node = await this.client.patch<Node>(NODES, undefined, m.cfg.name, 'merge', nodeStatusPatch(next), {
        subresource: 'status',
      });
      m.lastReportAt = now;
      statusWrites.inc({ result: 'ok' });
    } catch (err) {
      statusWrites.inc({ result: 'error' });
      if (err instanceof StatusError && err.code === 404) {
        // The Node was deleted under us: register it again.
        this.log.warn('node object is gone, registering again', { node: m.cfg.name });
        m.registered = false;
        m.node = undefined;
        await this.register(m).catch((e: unknown) =>
          this.log.warn('re-registration failed', { node: m.cfg.name, err: errorText(e) }),
        );
        return;
      }
      this.log.warn('error updating node status, will retry', { node: m.cfg.name, err: errorText(err) });
    }
  }

  /** Counts for reports and benches. */
  stats(): { nodes: number; registered: number; requestsInFlight: number; requestsQueued: number } {
    let registered = 0;
    for (const m of this.byName.values()) if (m.registered) registered++;
    return {
      nodes: this.byName.size,
      registered,
      requestsInFlight: this.limiter.inFlight,
      requestsQueued: this.limiter.queued,
    };
  }
}
