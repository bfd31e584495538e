// The node lifecycle controller as the controller manager runs it: node health is checked every
// node monitor period, the taint-eviction pass runs on every pod or node change and when the next
// scheduled eviction is due.
import type { Lease, Node, Pod, Taint } from '../../api/generated/types.js';
import type { RestClient } from '../../client/rest.js';
import { LEASES, NODES, PODS } from '../../client/typed-refs.js';
import { realClock, type Clock } from '../common/clock.js';
import { errText } from '../common/errors.js';
import type { ControllerDescriptor, StopController } from '../types.js';
import {
  DEFAULT_NODE_MONITOR_PERIOD_MS,
  NODE_LEASE_NAMESPACE,
  NodeLifecycleController,
  noScheduleTaintsStale,
  type NodeLifecycleClient,
} from './node-lifecycle.js';

export { NodeLifecycleController } from './node-lifecycle.js';

export function restNodeLifecycleClient(client: RestClient): NodeLifecycleClient {
  return {
    updateNodeStatus: (node) => client.update<Node>(NODES, node, 'status'),
    setNodeTaints: (name, resourceVersion, taints: Taint[]) =>
      client.patch<Node>(NODES, undefined, name, 'merge', {
        metadata: { resourceVersion },
        // No taints left: the field goes (as upstream's omitempty), rather than staying as `[]`.
        spec: { taints: taints.length > 0 ? taints : null },
      }),
    updatePodStatus: (pod) => client.update<Pod>(PODS, pod, 'status'),
    async deletePod(namespace, name) {
      await client.delete(PODS, namespace, name);
    },
  };
}

export interface NodeLifecycleControllerOptions {
  /** How long a node may go without renewing its Lease before it is Unknown (default 40 s). */
  nodeMonitorGracePeriodMs?: number;
  /** How often node health is checked (default 5 s). */
  nodeMonitorPeriodMs?: number;
  clock?: Clock;
}

/** Longest wait between taint-eviction passes when nothing changes. */
const MAX_EVICTION_WAIT_MS = 1_000;

export function nodeLifecycleControllerDescriptor(
  opts: NodeLifecycleControllerOptions = {},
): ControllerDescriptor {
  return {
    name: 'node-lifecycle-controller',
    start(ctx): StopController {
      const clock = opts.clock ?? realClock;
      const nodes = ctx.informers.informerFor<Node>(NODES);
      const pods = ctx.informers.informerFor<Pod>(PODS);
      const leases = ctx.informers.informerFor<Lease>(LEASES, { namespace: NODE_LEASE_NAMESPACE });
      const controller = new NodeLifecycleController({
        client: restNodeLifecycleClient(ctx.client),
        nodes: nodes.getLister(),
        pods: pods.getLister(),
        leases: leases.getLister(),
        recorder: ctx.recorder('node-controller'),
        evictionRecorder: ctx.recorder('taint-eviction-controller'),
        log: ctx.logger,
        clock,
        nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriodMs,
      });
      const periodMs = opts.nodeMonitorPeriodMs ?? DEFAULT_NODE_MONITOR_PERIOD_MS;
      let stopped = false;
      let started = false;
      let chain: Promise<void> = Promise.resolve();
      let evictionTimer: NodeJS.Timeout | undefined;
      let healthTimer: NodeJS.Timeout | undefined;

      const serial = (what: string, fn: () => Promise<void>): Promise<void> => {
        chain = chain.then(async () => {
          if (stopped) return;
          try {
            await fn();
          } catch (err) {
            ctx.logger.info(`error in ${what}`, { err: errText(err) });
          }
        });
        return chain;
      };
      const scheduleEvictions = (delayMs: number): void => {
        if (stopped || !started) return;
        if (evictionTimer) clearTimeout(evictionTimer);
        evictionTimer = setTimeout(() => {
          evictionTimer = undefined;
          void serial('taint eviction', () => controller.processEvictions()).then(() => {
            const next = controller.nextEvictionAt();
            const wait = next === undefined ? MAX_EVICTION_WAIT_MS : next - clock.now();
            scheduleEvictions(Math.max(0, Math.min(MAX_EVICTION_WAIT_MS, wait)));
          });
        }, delayMs);
      };
      const healthLoop = (): void => {
        if (stopped) return;
        void serial('node health', () => controller.monitorNodeHealth()).then(() => {
          scheduleEvictions(0);
          if (!stopped) healthTimer = setTimeout(healthLoop, periodMs);
        });
      };
      // A pass walks every bound pod, so only changes that can start or cancel an eviction trigger
      // one at once (a node with NoExecute taints, or a pod on such a node); the passes every
      // second catch the rest. Reacting to every pod update made it quadratic in busy clusters.
      const noExecute = (node: Node | undefined): boolean =>
        (node?.spec?.taints ?? []).some((t) => t.effect === 'NoExecute');
      const nodeLister = nodes.getLister();
      const podOnTaintedNode = (pod: Pod): boolean =>
        !!pod.spec?.nodeName && noExecute(nodeLister.get(undefined, pod.spec.nodeName));
      // The NoSchedule taints follow a node's spec and conditions at once (upstream's node update
      // queue), not at the next monitor period: `kubectl cordon` is seen in the taints straight away.
      const taintNoSchedule = (node: Node): void => {
        if (!started || !noScheduleTaintsStale(node)) return;
        const name = node.metadata.name ?? '';
        void serial('NoSchedule tainting', () => controller.syncNoScheduleTaints(name));
      };
      const regs = [
        nodes.addEventHandler({
          onAdd: (n) => {
            taintNoSchedule(n);
            if (noExecute(n)) scheduleEvictions(0);
          },
          onUpdate: (o, n) => {
            taintNoSchedule(n);
            if (noExecute(o) || noExecute(n)) scheduleEvictions(0);
          },
        }),
        pods.addEventHandler({
          onAdd: (p) => podOnTaintedNode(p) && scheduleEvictions(0),
          onUpdate: (_o, p) => podOnTaintedNode(p) && scheduleEvictions(0),
        }),
      ];
      void ctx.waitForCacheSync().then((ok) => {
        if (!ok || stopped) return;
        started = true;
        healthLoop();
      });
      return async () => {
        stopped = true;
        for (const r of regs) r.remove();
        if (evictionTimer) clearTimeout(evictionTimer);
        if (healthTimer) clearTimeout(healthTimer);
        await chain;
      };
    },
  };
}
