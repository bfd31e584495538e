// A Framework over a hand-built set of nodes and pods, for plugin unit tests.
import type { Node, Pod } from '../../api/generated/types.js';
import { createLogger } from '../../util/log.js';
import { SchedulerCache } from '../cache/cache.js';
import { resolveProfile, type SchedulerProfile } from '../config.js';
import { CycleState } from '../framework/cycle-state.js';
import type { PodNominator } from '../framework/interfaces.js';
import { NodeInfo, PodInfo, podKey } from '../framework/node-info.js';
import { inTreeRegistry } from '../framework/registry.js';
import { Framework } from '../framework/runtime.js';
import { FakeSchedulerClient } from './fake-client.js';

export class SimpleNominator implements PodNominator {
  readonly byNode = new Map<string, PodInfo[]>();
  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    return this.byNode.get(nodeName) ?? [];
  }
  addNominatedPod(pi: PodInfo, nodeName: string): void {
    this.deleteNominatedPodIfExists(pi.pod);
    this.byNode.set(nodeName, [...this.nominatedPodsForNode(nodeName), pi]);
  }
  deleteNominatedPodIfExists(pod: Pod): void {
    for (const [n, l] of this.byNode)
      this.byNode.set(
        n,
        l.filter((p) => p.key !== podKey(pod)),
      );
  }
}

export interface TestCluster {
  client: FakeSchedulerClient;
  cache: SchedulerCache;
  nominator: SimpleNominator;
  fwk: Framework;
  /** PreFilter + Filter for one pod on every node: node name → status message ('' when it fits). */
  filterAll(pod: Pod): Map<string, string>;
  /** PreFilter, Filter, PreScore and Score: the weighted total per feasible node. */
  scoreAll(pod: Pod): Map<string, number>;
}

/** Nodes and bound pods (spec.nodeName set) in a cache, with the default profile (or a custom one). */
export function testCluster(nodes: Node[], pods: Pod[] = [], profile: SchedulerProfile = {}): TestCluster {
  const client = new FakeSchedulerClient({ delivery: 'sync' });
  const cache = new SchedulerCache();
  for (const n of nodes) cache.addNode(n);
  for (const p of pods) {
    p.metadata.uid ??= `uid-${p.metadata.namespace ?? ''}-${p.metadata.name ?? ''}`;
    cache.addPod(p);
  }
  const nominator = new SimpleNominator();
  const registry = inTreeRegistry();
  const fwk = new Framework(
    resolveProfile(profile, undefined),
    new Map([...registry].map(([k, v]) => [k, v.factory])),
    {
      client,
      log: createLogger('test'),
      snapshot: () => cache,
      nominator: () => nominator,
      namespaceLabels: (ns) => client.get('namespaces', undefined, ns)?.metadata.labels,
    },
  );
  const filterAll = (pod: Pod): Map<string, string> => {
    const pi = new PodInfo(pod);
    const state = new CycleState();
    const out = new Map<string, string>();
    const pre = fwk.runPreFilterPlugins(state, pi, cache.list());
    for (const ni of cache.list()) {
      if (!pre.status.isSuccess()) {
        out.set(ni.name, pre.status.message());
        continue;
      }
      const s = fwk.runFilterPlugins(state, pi, ni);
      out.set(ni.name, s.isSuccess() ? '' : s.message());
    }
    return out;
  };
  const scoreAll = (pod: Pod): Map<string, number> => {
    const pi = new PodInfo(pod);
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, pi, cache.list());
    const feasible = cache.list().filter((ni) => fwk.runFilterPlugins(state, pi, ni).isSuccess());
    fwk.runPreScorePlugins(state, pi, feasible);
    const totals = fwk.runScorePlugins(state, pi, feasible);
    return new Map(feasible.map((ni, i) => [ni.name, totals[i]!]));
  };
  return { client, cache, nominator, fwk, filterAll, scoreAll };
}

/** A NodeInfo with pods, outside any cache. */
export function nodeInfoWith(node: Node, pods: Pod[] = []): NodeInfo {
  const ni = new NodeInfo(node);
  for (const p of pods) {
    p.metadata.uid ??= `uid-${p.metadata.namespace ?? ''}-${p.metadata.name ?? ''}`;
    ni.addPodInfo(new PodInfo(p));
  }
  return ni;
}

/** A profile with only the named plugin (plus the mandatory queue sort and binder). */
export function onlyPlugin(name: string, weight = 1): SchedulerProfile {
  return {
    plugins: {
      multiPoint: {
        disabled: [{ name: '*' }],
        enabled: [{ name: 'PrioritySort' }, { name: 'DefaultBinder' }, { name, weight }],
      },
    },
  };
}
