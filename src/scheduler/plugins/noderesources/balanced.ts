// NodeResourcesBalancedAllocation: favours nodes whose cpu and memory would be used in similar
// fractions with the pod placed (score = (1 − standard deviation of the fractions) × 100).
import type { CycleState } from '../../framework/cycle-state.js';
import {
  MAX_NODE_SCORE,
  type PluginArgs,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework/interfaces.js';
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import { Status } from '../../framework/status.js';
import { NodeResourcesBalancedAllocation as NAME } from '../names/index.js';
import { DEFAULT_RESOURCES, requestedWithPod, type ResourceSpec } from './fit.js';

export class BalancedAllocationPlugin implements PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  private readonly resources: ResourceSpec[];
  constructor(args: { resources?: ResourceSpec[] } = {}) {
    this.resources = args.resources?.length ? args.resources : DEFAULT_RESOURCES;
  }

  preScore(_state: CycleState, pod: PodInfo): Status {
    // A pod that requests nothing does not change the balance of any node.
    return pod.requests.isZero() ? Status.SKIP : Status.SUCCESS;
  }

  score(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const fractions: number[] = [];
    for (const r of this.resources) {
      const capacity = nodeInfo.allocatable.get(r.name);
      if (capacity === 0) continue;
      const requested = requestedWithPod(nodeInfo, pod, r.name, false);
      fractions.push(Math.min(1, requested / capacity));
    }
    let std = 0;
    if (fractions.length === 2) {
      std = Math.abs(fractions[0]! - fractions[1]!) / 2;
    } else if (fractions.length > 2) {
      const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
      const variance = fractions.reduce((a, f) => a + (f - mean) * (f - mean), 0) / fractions.length;
      std = Math.sqrt(variance);
    }
    return Math.trunc((1 - std) * MAX_NODE_SCORE);
  }
}

export function newBalancedAllocation(args: PluginArgs | undefined): BalancedAllocationPlugin {
  return new BalancedAllocationPlugin(args ?? {});
}
