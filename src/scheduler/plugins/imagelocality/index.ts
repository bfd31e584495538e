// ImageLocality: favours nodes that already have the pod's container images, weighted by image
// size and by how widely the image is spread (an image on every node says little).
import type { CycleState } from '../../framework/cycle-state.js';
import type { ScorePlugin, SnapshotLister, Handle } from '../../framework/interfaces.js';
import { MAX_NODE_SCORE } from '../../framework/interfaces.js';
import type { NodeInfo, PodInfo } from '../../framework/node-info.js';
import { ImageLocality as NAME } from '../names/index.js';

const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** Adds the implicit :latest tag to an image reference without tag or digest. */
export function normalizedImageName(name: string): string {
  if (name.includes('@')) return name;
  const lastSlash = name.lastIndexOf('/');
  if (name.slice(lastSlash + 1).includes(':')) return name;
  return `${name}:latest`;
}

export function imageScore(sumScores: number, numContainers: number): number {
  const maxThreshold = MAX_CONTAINER_THRESHOLD * numContainers;
  let s = sumScores;
  if (s < MIN_THRESHOLD) s = MIN_THRESHOLD;
  else if (s > maxThreshold) s = maxThreshold;
  return Math.trunc((MAX_NODE_SCORE * (s - MIN_THRESHOLD)) / (maxThreshold - MIN_THRESHOLD));
}

export class ImageLocalityPlugin implements ScorePlugin {
  readonly name = NAME;
  constructor(private readonly snapshot: () => SnapshotLister) {}

  score(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const containers = [...(pod.pod.spec?.initContainers ?? []), ...(pod.pod.spec?.containers ?? [])];
    if (nodeInfo.imageStates.size === 0) return imageScore(0, containers.length);
    const total = this.snapshot().list().length || 1;
    let sum = 0;
    for (const c of containers) {
      if (!c.image) continue;
      const st = nodeInfo.imageStates.get(normalizedImageName(c.image));
      if (st) sum += st.size * (st.numNodes / total);
    }
    return imageScore(sum, containers.length);
  }
}

export function newImageLocality(_args: unknown, handle: Handle): ImageLocalityPlugin {
  return new ImageLocalityPlugin(() => handle.snapshot());
}
