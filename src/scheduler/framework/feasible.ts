// How many feasible nodes the Filter phase looks for before it stops (percentageOfNodesToScore).

export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;
export const BASE_PERCENTAGE_OF_NODES_TO_SCORE = 50;

/**
 * All nodes below 100; otherwise the configured percentage, or (0 = adaptive) 50% minus one
 * point per 125 nodes, at least 5%; and never fewer than 100 nodes.
 */
export function numFeasibleNodesToFind(
  percentageOfNodesToScore: number | undefined,
  numAllNodes: number,
): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let pct = percentageOfNodesToScore ?? 0;
  if (pct >= 100) return numAllNodes;
  if (pct <= 0) {
    pct = BASE_PERCENTAGE_OF_NODES_TO_SCORE - Math.trunc(numAllNodes / 125);
    if (pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const n = Math.trunc((numAllNodes * pct) / 100);
  return n < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : n;
}
