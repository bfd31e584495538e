// The controller manager (kube-controller-manager): one shared informer factory, one event
// broadcaster, and a registry of controllers by upstream's names. With leader election, the
// controllers run only while this manager holds the kube-system/kube-controller-manager Lease; when
// leadership is lost they are stopped (in-flight syncs finish) and the manager campaigns again.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { EventBroadcaster } from '../client/events.js';
import { SharedInformerFactory } from '../client/informer.js';
import { LeaderElector } from '../client/leader-election.js';
import type { RestClient } from '../client/rest.js';
import { createLogger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import { errText } from './common/errors.js';
import { cronJobControllerDescriptor } from './cronjob/index.js';
import { daemonSetControllerDescriptor } from './daemonset/index.js';
import { deploymentControllerDescriptor } from './deployment/index.js';
import { jobControllerDescriptor, ttlAfterFinishedControllerDescriptor } from './job/index.js';
import { replicaSetControllerDescriptor, replicationControllerDescriptor } from './replicaset/index.js';
import { statefulSetControllerDescriptor } from './statefulset/index.js';
import { garbageCollectorController } from './garbage-collector/index.js';
import { namespaceController } from './namespace/index.js';
import { serviceAccountController } from './serviceaccount/index.js';
import { endpointsController, endpointSliceController } from './endpoints/index.js';
import { csrApprovingController } from './certificates/index.js';
import { nodeLifecycleControllerDescriptor } from './node-lifecycle/index.js';
import { bootstrapSignerController } from './bootstrap-signer/index.js';
import { tokenCleanerController } from './tokencleaner/index.js';
import {
  persistentVolumeBinderController,
  pvcProtectionController,
  pvProtectionController,
} from './persistentvolume/index.js';
import { horizontalPodAutoscalerControllerDescriptor } from './podautoscaler/index.js';
import { disruptionControllerDescriptor } from './disruption/index.js';
import { resourceQuotaControllerDescriptor } from './resourcequota/index.js';
import { nodeIpamControllerDescriptor } from './nodeipam/index.js';
import { controlPlaneTaintController } from './control-plane-taint/index.js';
import type { ControllerContext, ControllerDescriptor, StopController } from './types.js';

export type { ControllerContext, ControllerDescriptor, StopController } from './types.js';

const registry = new Map<string, ControllerDescriptor>();

/** Makes a controller available to every manager created afterwards (by its upstream name). */
export function registerController(desc: ControllerDescriptor): void {
  if (registry.has(desc.name)) throw new Error(`controller "${desc.name}" is already registered`);
  registry.set(desc.name, desc);
}

/** The names of the registered controllers, in registration order. */
export function registeredControllers(): string[] {
  return [...registry.keys()];
}

registerController(replicaSetControllerDescriptor);
registerController(replicationControllerDescriptor);
registerController(deploymentControllerDescriptor);
registerController(daemonSetControllerDescriptor());
registerController(statefulSetControllerDescriptor());
registerController(jobControllerDescriptor());
registerController(cronJobControllerDescriptor());
registerController(ttlAfterFinishedControllerDescriptor());
registerController(garbageCollectorController);
registerController(namespaceController);
registerController(serviceAccountController);
registerController(endpointsController);
registerController(endpointSliceController);
registerController(csrApprovingController);
registerController(nodeLifecycleControllerDescriptor());
registerController(bootstrapSignerController());
registerController(tokenCleanerController);
registerController(persistentVolumeBinderController);
registerController(pvcProtectionController);
registerController(pvProtectionController);
registerController(horizontalPodAutoscalerControllerDescriptor());
registerController(disruptionControllerDescriptor());
registerController(resourceQuotaControllerDescriptor());
registerController(nodeIpamControllerDescriptor());
registerController(controlPlaneTaintController);

const runningGauge = metrics.gauge(
  'k8ts_controller_running',
  'Whether a controller is running (1) in this manager, by controller.',
);
const startsTotal = metrics.counter(
  'k8ts_controller_starts_total',
  'Times a controller was started, by controller.',
);

export interface LeaderElectionOptions {
  identity?: string;
  namespace?: string;
  leaseName?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ControllerManagerOptions {
  client: RestClient;
  /** Controller names not to run (upstream's --controllers=-name). */
  disable?: string[];
  /** Run only these (default: every registered controller). */
  enable?: string[];
  /** Extra controllers for this manager only. */
  controllers?: ControllerDescriptor[];
  leaderElection?: LeaderElectionOptions;
  /** Concurrent syncs per controller (default: each controller's upstream default). */
  workers?: number;
  /** Informer resync period (0 = none, the default). */
  resyncPeriodMs?: number;
}

export interface ControllerManager {
  /** Starts campaigning (with leader election) or the controllers (without). */
  start(): Promise<void>;
  /** Stops the controllers (waiting for in-flight syncs), the informers and the election. */
  stop(): Promise<void>;
  /** True while the controllers run. */
  isRunning(): boolean;
  /** Resolves once the controllers run with synced caches (false if stopped first). */
  whenRunning(): Promise<boolean>;
  /** Controller names this manager runs. */
  readonly controllers: readonly string[];
  /** The current informer factory (undefined while not leading). */
  informers(): SharedInformerFactory | undefined;
}

interface RunningSet {
  factory: SharedInformerFactory;
  broadcaster: EventBroadcaster;
  stops: Array<{ name: string; stop: StopController }>;
  abort: AbortController;
}

export function createControllerManager(opts: ControllerManagerOptions): ControllerManager {
  const log = createLogger('controller-manager');
  const disabled = new Set(opts.disable ?? []);
  const enabled = opts.enable ? new Set(opts.enable) : undefined;
  const all = new Map(registry);
  for (const c of opts.controllers ?? []) all.set(c.name, c);
  const selected = [...all.values()].filter(
    (c) => !disabled.has(c.name) && (!enabled || enabled.has(c.name)),
  );

  let current: RunningSet | undefined;
  let transition: Promise<void> = Promise.resolve();
  let elector: LeaderElector | undefined;
  let electorLoop: Promise<void> | undefined;
  let stopped = false;
  let running = false;
  const runWaiters: Array<(ok: boolean) => void> = [];

  const identity = opts.leaderElection?.identity ?? `${hostname()}_${randomUUID()}`;

  async function startControllers(): Promise<void> {
    if (current || stopped) return;
    // Like kube-controller-manager's informers: no managedFields in the caches.
    const factory = new SharedInformerFactory(opts.client, {
      resyncPeriodMs: opts.resyncPeriodMs ?? 0,
      stripManagedFields: true,
    });
    const broadcaster = new EventBroadcaster(opts.client);
    const abort = new AbortController();
    const set: RunningSet = { factory, broadcaster, stops: [], abort };
    current = set;
    let resolveSynced!: (ok: boolean) => void;
    const syncedGate = new Promise<boolean>((r) => (resolveSynced = r));
    for (const desc of selected) {
      const ctx: ControllerContext = {
        client: opts.client,
        informers: factory,
        recorder: (component) => broadcaster.newRecorder({ component, host: identity }),
        logger: createLogger('controller').child(desc.name),
        workers: opts.workers,
        waitForCacheSync: () => syncedGate,
      };
      try {
        const stop = await desc.start(ctx);
        set.stops.push({ name: desc.name, stop });
        runningGauge.set(1, { controller: desc.name });
        startsTotal.inc({ controller: desc.name });
        log.info('started controller', { controller: desc.name });
      } catch (err) {
        log.error('error starting controller', { controller: desc.name, err: errText(err) });
      }
    }
    factory.start();
    const ok = await factory.waitForCacheSync(abort.signal);
    resolveSynced(ok && current === set);
    if (ok && current === set) {
      running = true;
      log.info('caches synced, controllers running', { controllers: set.stops.map((s) => s.name) });
      for (const w of runWaiters.splice(0)) w(true);
    }
  }

  async function stopControllers(): Promise<void> {
    const set = current;
    if (!set) return;
    current = undefined;
    running = false;
    set.abort.abort();
    await Promise.all(
      set.stops.map(async ({ name, stop }) => {
        try {
          await stop();
        } catch (err) {
          log.error('error stopping controller', { controller: name, err: errText(err) });
        }
        runningGauge.set(0, { controller: name });
      }),
    );
    await set.factory.shutdown();
    await set.broadcaster.flush();
    await set.broadcaster.shutdown();
    log.info('controllers stopped');
  }

  function serialize(fn: () => Promise<void>): Promise<void> {
    transition = transition.then(fn, fn);
    return transition;
  }

  function campaign(): void {
    const le = opts.leaderElection!;
    const e = new LeaderElector({
      client: opts.client,
      namespace: le.namespace ?? 'kube-system',
      name: le.leaseName ?? 'kube-controller-manager',
      identity,
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      callbacks: {
        onStartedLeading: () => serialize(startControllers),
        onStoppedLeading: () => {
          void serialize(stopControllers);
        },
      },
    });
    elector = e;
    electorLoop = e.run().then(() => {
      // Lost leadership (not stopped): campaign again once the controllers are down.
      if (!stopped && elector === e) {
        void transition.then(() => {
          if (!stopped && elector === e) campaign();
        });
      }
    });
  }

  return {
    controllers: selected.map((c) => c.name),
    async start() {
      stopped = false;
      if (opts.leaderElection) campaign();
      else await serialize(startControllers);
    },
    async stop() {
      stopped = true;
      const e = elector;
      elector = undefined;
      // Controllers first, so nothing writes after the Lease is released.
      await serialize(stopControllers);
      if (e) await e.stop();
      await electorLoop;
      await transition;
      for (const w of runWaiters.splice(0)) w(false);
    },
    isRunning: () => running,
    whenRunning() {
      if (running) return Promise.resolve(true);
      if (stopped) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => runWaiters.push(resolve));
    },
    informers: () => current?.factory,
  };
}
