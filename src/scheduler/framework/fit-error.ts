// The "0/N nodes are available: …" message: each node's rejection reasons counted, then sorted
// as strings ("1 node(s) had …" before "2 Insufficient cpu"), as upstream's FitError prints it.
import type { Status } from './status.js';

export const NO_NODE_AVAILABLE = (n: number): string => `0/${n} nodes are available`;

export function fitErrorMessage(
  numAllNodes: number,
  statuses: ReadonlyMap<string, Status>,
  preFilterMsg: string,
  postFilterMsg = '',
): string {
  let msg = `${NO_NODE_AVAILABLE(numAllNodes)}:`;
  if (preFilterMsg) {
    msg += ` ${preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const s of statuses.values()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
    if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  }
  if (postFilterMsg) msg += ` ${postFilterMsg}`;
  return msg;
}

/** A pod that fits no node: the per-node statuses and what PreFilter/PostFilter said. */
export class FitError {
  constructor(
    readonly numAllNodes: number,
    readonly statuses: Map<string, Status>,
    readonly unschedulablePlugins: Set<string>,
    readonly pendingPlugins: Set<string>,
    public preFilterMsg = '',
    public postFilterMsg = '',
  ) {}
  message(): string {
    return fitErrorMessage(this.numAllNodes, this.statuses, this.preFilterMsg, this.postFilterMsg);
  }
}
