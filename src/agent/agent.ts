// The node agent (our kubelet): registers its node(s) and keeps them alive (node-manager.ts), and
// runs the pods bound to them through a runtime (pod-workers.ts, status-manager.ts). One process
// can be one real node or many simulated ones (fake runtime, as kwok): the pods of all of them come
// from one informer over all pods, indexed by spec.nodeName (one node uses a field selector).
import type { Pod } from '../api/generated/types.js';
import { EventBroadcaster } from '../client/events.js';
import { deletedObject, SharedInformer } from '../client/informer.js';
import type { RestClient } from '../client/rest.js';
import { PODS } from '../client/typed-refs.js';
import { createLogger, type Logger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import { StaticPodFileSource } from './config/file-source.js';
import { MirrorPods } from './config/mirror-pods.js';
import { isMirrorOf, isMirrorPod } from './config/static-pod.js';
import { EvictionManager } from './eviction/manager.js';
import type { PodUsage } from './eviction/rank.js';
import { hostSignals, type SignalSource } from './eviction/signals.js';
import { DEFAULT_EVICTION_HARD, parseEvictionHard, type Signal } from './eviction/thresholds.js';
import { fakeRuntimeUsage } from './eviction/usage.js';
import { apiClaimCheck } from './fake/claims.js';
import { fakeNodeIp, fakePodCidr } from './fake/ipam.js';
import {
  ImageGCManager,
  statfsCapacity,
  type FsCapacity,
  type ImageGCPolicy,
  type ImageRuntime,
} from './images/gc.js';
import { FakeRuntime, type FakeRuntimeOptions } from './fake/runtime.js';
import { NodeManager, type HeartbeatOptions } from './node-manager.js';
import {
  fakeNodeConfig,
  hostNodeConfig,
  hostPressure,
  type FakeNodeOptions,
  type NodeConfig,
  type NodePressure,
} from './node-status.js';
import { PodWorkers } from './pod-workers.js';
import { isProbeRuntime, ProbeManager } from './prober/prober.js';
import type { PodRuntime } from './runtime.js';
import { StatusManager } from './status-manager.js';

export const NODE_NAME_INDEX = 'spec.nodeName';

export interface FakeAgentOptions extends FakeRuntimeOptions, FakeNodeOptions {
  /** First pod CIDR; node i gets the i-th /24 after it (default 10.42.0.0 for one node, 10.64.0.0 for many). */
  podCidrBase?: string;
  /** Simulated nodes' InternalIPs follow this address (default 172.16.0.0). */
  nodeIpBase?: string;
}

/** Node-pressure eviction of one node. */
export interface AgentEvictionOptions {
  /** Hard thresholds, kubelet's --eviction-hard syntax (default upstream's). */
  hard?: string;
  /** Where signals come from (default the host: /proc/meminfo, statfs of the data dir). */
  signals?: SignalSource;
  /** The image file system, when not the data dir's. */
  imageFsPath?: string;
  /** What pods use, by UID (default the simulated runtime's usage; none otherwise). */
  podUsage?: () => Promise<ReadonlyMap<string, PodUsage>>;
  /** Node-level reclaim before evicting for a disk signal (image garbage collection). */
  reclaim?: (signal: Signal) => Promise<void>;
  intervalMs?: number;
  pressureTransitionMs?: number;
}

/** Image garbage collection of one node (a CRI runtime). */
export interface AgentImageGCOptions {
  runtime: ImageRuntime;
  /** Thresholds and minimum age (default upstream's 85 %, 80 %, 2 min). */
  policy?: Partial<ImageGCPolicy>;
  /** Collection period (default 5 min). */
  periodMs?: number;
  /** The image file system's size (default statfs of the CRI's image mount point). */
  fsCapacity?: (mountpoint: string | undefined) => Promise<FsCapacity>;
  /** Image names pinned beyond what the CRI reports. */
  pinnedNames?: () => Promise<ReadonlySet<string>>;
}

export interface AgentOptions {
  client: RestClient;
  /** One node: this name (default: the host name). */
  nodeName?: string;
  /** Many simulated nodes, named `<nodePrefix>-<i>` (fake runtime only). */
  nodes?: number;
  nodePrefix?: string;
  /** 'fake' for the simulated runtime, or a runtime of one's own. */
  runtime: 'fake' | PodRuntime;
  /** Label the node as a control-plane node (the server's own node). */
  controlPlane?: boolean;
  /** The node's InternalIP (one node; default: the host's first address). */
  nodeIP?: string;
  /** Extra node labels. */
  labels?: Record<string, string>;
  /** The agent's state directory (its file system is the node's ephemeral-storage). */
  dataDir?: string;
  /** The port of the node's own API server, published in status.daemonEndpoints. */
  daemonPort?: number;
  /** Why the node is not ready (its runtime's network not configured yet, as the kubelet reports). */
  runtimeErrors?: () => string[];
  fake?: FakeAgentOptions;
  heartbeat?: HeartbeatOptions;
  /** Requests in flight for node registration, leases and node status (default 64). */
  nodeConcurrency?: number;
  /** Pod status writers (default 32). */
  statusConcurrency?: number;
  /** Concurrent pod syncs (default 16). */
  podWorkers?: number;
  /** One node: run the pods whose manifests are in this folder (kubelet's --pod-manifest-path). */
  staticPodPath?: string;
  /** Read the static pod folder again this often even without a change noticed (default 20 s). */
  staticPodResyncMs?: number;
  /**
   * Node-pressure eviction (one node). Default: on with upstream's thresholds for a real runtime;
   * off for the simulated one (its pods use nothing of the host) unless given; false: off.
   */
  eviction?: AgentEvictionOptions | false;
  /** Image garbage collection (one node). */
  imageGC?: AgentImageGCOptions;
}

export interface AgentStats {
  nodes: number;
  registered: number;
  pods: number;
  /** Pods whose status on the server is Running and Ready. */
  podsReady: number;
  statusWrites: number;
  statusPending: number;
  podQueue: number;
  requestsInFlight: number;
  requestsQueued: number;
}

export interface Agent {
  readonly nodeNames: readonly string[];
  readonly runtime: PodRuntime;
  /** Registers the node(s), starts heartbeats, then runs pods; resolves once pods are being synced. */
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): AgentStats;
}

const podsGauge = metrics.gauge('k8ts_agent_pods', 'Pods bound to this agent’s nodes.');

function nodeConfigs(opts: AgentOptions, runtime: PodRuntime): NodeConfig[] {
  const fake = opts.fake ?? {};
  if (opts.nodes !== undefined) {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1)
      throw new Error(`nodes must be a positive integer, got ${opts.nodes}`);
    if (runtime.type !== 'fake') throw new Error('several nodes in one agent need the fake runtime');
    const prefix = opts.nodePrefix ?? 'fake-node';
    const base = fake.podCidrBase ?? '10.64.0.0';
    const out: NodeConfig[] = [];
    for (let i = 0; i < opts.nodes; i++) {
      const cfg = fakeNodeConfig(
        `${prefix}-${i}`,
        fakeNodeIp(i, fake.nodeIpBase),
        fakePodCidr(i, base),
        fake,
        opts.controlPlane === true && i === 0,
      );
      if (opts.labels) Object.assign(cfg.labels, opts.labels);
      out.push(cfg);
    }
    return out;
  }
  const cfg = hostNodeConfig({
    name: opts.nodeName,
    nodeIP: opts.nodeIP,
    controlPlane: opts.controlPlane,
    labels: opts.labels,
    runtimeVersion: runtime.version(),
    dataDir: opts.dataDir,
    daemonPort: opts.daemonPort,
  });
  if (runtime.type === 'fake') cfg.podCIDR = fakePodCidr(0, fake.podCidrBase ?? '10.42.0.0');
  return [cfg];
}

export function createAgent(opts: AgentOptions): Agent {
  const log: Logger = createLogger('agent');
  const runtime: PodRuntime =
    opts.runtime === 'fake'
      ? new FakeRuntime({ claimCheck: apiClaimCheck(opts.client), ...opts.fake })
      : opts.runtime;
  const configs = nodeConfigs(opts, runtime);
  const single = configs.length === 1 && opts.nodes === undefined;
  const simulated = opts.nodes !== undefined;
  // A real node records the kubelet's node events; a simulated fleet stays quiet (as kwok).
  const events = simulated ? undefined : new EventBroadcaster(opts.client);
  if (events)
    runtime.setEventRecorder?.(events.newRecorder({ component: 'kubelet', host: configs[0]!.name }));
  const nodes = new NodeManager({
    recorder: events?.newRecorder({ component: 'kubelet', host: configs[0]!.name }),
    client: opts.client,
    nodes: configs,
    heartbeat: opts.heartbeat,
    concurrency: opts.nodeConcurrency,
    runtimeErrors: opts.runtimeErrors,
    pressure: simulated
      ? undefined
      : (): NodePressure => evictionManager?.pressure() ?? hostPressure(opts.dataDir ?? '/'),
  });

  const informer = new SharedInformer<Pod>(opts.client, PODS, {
    fieldSelector: single ? `spec.nodeName=${configs[0]!.name}` : undefined,
    // The agent never reads managedFields (status goes out as patches), and they are about 40% of a
    // cached pod: kubelet's informers drop them too.
    stripManagedFields: true,
    indexers: { [NODE_NAME_INDEX]: (o) => [(o as Pod).spec?.nodeName ?? ''] },
  });
  const uidToKey = new Map<string, string>();
  // Static pods by UID (their hash); they run from their manifests, and report their status on
  // their mirror pod once the API server has one.
  const staticPods = new Map<string, Pod>();
  const keyOf = (p: Pod): string => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
  const currentMirror = (s: Pod): Pod | undefined => {
    const m = informer.getByKey(keyOf(s));
    return m && isMirrorPod(m) && isMirrorOf(m, s) ? m : undefined;
  };
  const staticView = (s: Pod): Pod => {
    const mirror = currentMirror(s);
    if (!mirror) return s;
    return {
      ...s,
      metadata: { ...s.metadata, resourceVersion: mirror.metadata.resourceVersion },
      status: mirror.status ?? {},
    };
  };
  const getPod = (uid: string): Pod | undefined => {
    const s = staticPods.get(uid);
    if (s) return staticView(s);
    const key = uidToKey.get(uid);
    if (key === undefined) return undefined;
    const pod = informer.getByKey(key);
    return pod && pod.metadata.uid === uid ? pod : undefined;
  };
  const statusManager = new StatusManager({
    client: opts.client,
    getPod,
    apiUid: (uid) => {
      const s = staticPods.get(uid);
      return s ? currentMirror(s)?.metadata.uid : uid;
    },
    concurrency: opts.statusConcurrency,
  });
  // Container probes, for a runtime that can exec in and kill containers (the CRI runtime); a
  // changed result syncs the pod again (workers exist by the time a probe runs).
  const prober = isProbeRuntime(runtime)
    ? new ProbeManager({
        runtime,
        onChange: (uid) => workers.enqueue(uid),
        recorder: events?.newRecorder({ component: 'kubelet', host: configs[0]!.name }),
      })
    : undefined;
  const workers = new PodWorkers({
    prober,
    runtime,
    statusManager,
    getPod,
    nodeContext: (name) => nodes.runtimeContext(name),
    podsOnNode: (name) => [
      ...informer.byIndex(NODE_NAME_INDEX, name).filter((p) => !isMirrorPod(p)),
      ...[...staticPods.values()].filter((p) => p.spec?.nodeName === name).map(staticView),
    ],
    pressureRejection: (pod) => evictionManager?.admit(pod),
    allocatable: (name) => {
      const m = nodes.get(name);
      return m?.node?.status?.allocatable ?? m?.cfg.allocatable;
    },
    workers: opts.podWorkers,
  });
  const ours = (p: Pod): boolean => {
    const n = p.spec?.nodeName;
    return n !== undefined && n !== '' && nodes.has(n);
  };
  const track = (p: Pod): void => {
    const uid = p.metadata.uid;
    if (!uid || !ours(p)) return;
    if (!uidToKey.has(uid)) podsGauge.inc();
    uidToKey.set(uid, keyOf(p));
    workers.enqueue(uid);
  };
  const untrack = (p: Pod): void => {
    const uid = p.metadata.uid;
    if (!uid || !uidToKey.has(uid)) return;
    uidToKey.delete(uid);
    podsGauge.dec();
    workers.enqueue(uid);
  };
  const staticSource =
    opts.staticPodPath !== undefined && single
      ? new StaticPodFileSource({
          path: opts.staticPodPath,
          nodeName: configs[0]!.name,
          resyncMs: opts.staticPodResyncMs,
          onChange: (byFile) => {
            const next = new Map([...byFile.values()].map((p) => [p.metadata.uid ?? '', p]));
            for (const uid of staticPods.keys()) {
              if (next.has(uid)) continue;
              log.info('static pod removed', { pod: keyOf(staticPods.get(uid)!), uid });
              staticPods.delete(uid);
              workers.enqueue(uid);
            }
            for (const [uid, pod] of next) {
              if (staticPods.has(uid)) continue;
              log.info('static pod added', { pod: keyOf(pod), uid });
              staticPods.set(uid, pod);
              workers.enqueue(uid);
            }
            mirrors?.trigger();
          },
        })
      : undefined;
  const mirrors = staticSource
    ? new MirrorPods({
        client: opts.client,
        nodeName: configs[0]!.name,
        nodeUid: () => nodes.get(configs[0]!.name)?.node?.metadata.uid,
        staticPods: () => [...staticPods.values()],
        mirrorPods: () => informer.byIndex(NODE_NAME_INDEX, configs[0]!.name).filter(isMirrorPod),
      })
    : undefined;
  /** A mirror pod (or a pod in a static pod's place) changed: mirrors and the static pod's status follow. */
  const mirrorChanged = (p: Pod): void => {
    if (!mirrors || !ours(p)) return;
    mirrors.trigger();
    for (const [uid, s] of staticPods) if (keyOf(s) === keyOf(p)) workers.enqueue(uid);
  };
  informer.addEventHandler({
    onAdd: (p) => (isMirrorPod(p) ? mirrorChanged(p) : track(p)),
    onUpdate: (oldPod, newPod) => {
      if (isMirrorPod(newPod)) {
        if (!isMirrorPod(oldPod)) untrack(oldPod);
        mirrorChanged(newPod);
        return;
      }
      if (oldPod.metadata.uid !== newPod.metadata.uid) untrack(oldPod);
      track(newPod);
    },
    onDelete: (obj) => {
      const p = deletedObject(obj);
      untrack(p);
      mirrorChanged(p);
    },
  });

  const evictionOpts =
    opts.eviction === false || !single
      ? undefined
      : (opts.eviction ?? (runtime.type === 'fake' ? undefined : {}));
  const nodeName0 = configs[0]!.name;
  const imageGC =
    opts.imageGC && single
      ? new ImageGCManager({
          runtime: opts.imageGC.runtime,
          policy: opts.imageGC.policy,
          periodMs: opts.imageGC.periodMs,
          fsCapacity: opts.imageGC.fsCapacity ?? statfsCapacity(opts.dataDir ?? '/'),
          pinnedNames: opts.imageGC.pinnedNames,
          recorder: events?.newRecorder({ component: 'kubelet', host: nodeName0 }),
          // As upstream's nodeRef: the node's name stands in for its UID.
          nodeRef: () => ({ kind: 'Node', name: nodeName0, uid: nodeName0 }),
        })
      : undefined;
  const evictionManager: EvictionManager | undefined = evictionOpts
    ? new EvictionManager({
        thresholds: parseEvictionHard(evictionOpts.hard ?? DEFAULT_EVICTION_HARD),
        signals:
          evictionOpts.signals ??
          hostSignals({ nodeFsPath: opts.dataDir ?? '/', imageFsPath: evictionOpts.imageFsPath }),
        activePods: () => [
          ...informer
            .byIndex(NODE_NAME_INDEX, nodeName0)
            .filter(
              (p) =>
                !isMirrorPod(p) &&
                !p.metadata.deletionTimestamp &&
                p.status?.phase !== 'Succeeded' &&
                p.status?.phase !== 'Failed',
            ),
          ...[...staticPods.values()].map(staticView),
        ],
        podUsage:
          evictionOpts.podUsage ??
          (runtime instanceof FakeRuntime
            ? fakeRuntimeUsage(runtime, nodeName0)
            : () => Promise.resolve(new Map<string, PodUsage>())),
        evictPod: (pod, message): boolean => workers.evict(pod.metadata.uid ?? '', message),
        reclaim:
          evictionOpts.reclaim ??
          (imageGC
            ? async () => {
                await imageGC.deleteUnusedImages();
              }
            : undefined),
        onPressureChange: () => {
          const m = nodes.get(nodeName0);
          if (m)
            nodes
              .syncStatus(m)
              .catch((err: unknown) => log.warn('node status update failed', { error: err }));
        },
        recorder: events?.newRecorder({ component: 'kubelet', host: nodeName0 }),
        intervalMs: evictionOpts.intervalMs,
        pressureTransitionMs: evictionOpts.pressureTransitionMs,
      })
    : undefined;

  let started = false;
  let stopped = false;
  return {
    nodeNames: configs.map((c) => c.name),
    runtime,
    async start() {
      if (started) return;
      started = true;
      log.info('starting node agent', { nodes: configs.length, runtime: runtime.version() });
      informer.start();
      await nodes.start();
      if (stopped) return;
      const synced = await informer.waitForSync();
      if (!synced || stopped) return;
      // Static pods are known before orphans are looked for, so theirs are not taken for orphans.
      await staticSource?.start();
      // Resources the runtime holds for pods the API no longer has: remove them.
      for (const running of await runtime.listRunning()) {
        if (!getPod(running.uid)) await runtime.removePod(running.uid);
      }
      statusManager.start();
      workers.start();
      mirrors?.trigger();
      evictionManager?.start();
      imageGC?.start();
      log.info('node agent running', { nodes: configs.length, pods: uidToKey.size });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      informer.stop();
      staticSource?.stop();
      await mirrors?.stop();
      await evictionManager?.stop();
      await imageGC?.stop();
      prober?.stop();
      await workers.stop();
      await statusManager.stop();
      await nodes.stop();
      if (events) {
        // Give recorded events a moment to reach the server.
        await Promise.race([events.flush(), new Promise((r) => setTimeout(r, 2000))]);
        await events.shutdown();
      }
      await informer.whenStopped();
      podsGauge.dec({}, uidToKey.size);
      log.info('node agent stopped');
    },
    stats() {
      const n = nodes.stats();
      return {
        nodes: n.nodes,
        registered: n.registered,
        pods: uidToKey.size,
        podsReady: statusManager.readyCount,
        statusWrites: statusManager.writeCount,
        statusPending: statusManager.pending,
        podQueue: workers.queued,
        requestsInFlight: n.requestsInFlight,
        requestsQueued: n.requestsQueued,
      };
    },
  };
}

export interface EmbeddedAgentOptions {
  client: RestClient;
  nodeName: string;
  runtime: 'fake';
  controlPlane?: boolean;
  nodeIP?: string;
  dataDir?: string;
  fake?: FakeAgentOptions;
}

/**
 * The agent `k8ts server` runs for its own node until it runs real containers: one node, the
 * simulated runtime, labelled control-plane. Resolves once the node is registered and pods sync.
 */
export async function startEmbeddedAgent(opts: EmbeddedAgentOptions): Promise<Agent> {
  const agent = createAgent({
    client: opts.client,
    nodeName: opts.nodeName,
    runtime: opts.runtime,
    controlPlane: opts.controlPlane ?? true,
    nodeIP: opts.nodeIP,
    dataDir: opts.dataDir,
    fake: opts.fake,
  });
  await agent.start();
  return agent;
}
