// Node agent settings a user tunes as kubelet flags (k3s passes them as --kubelet-arg): where static
// pod manifests live, hard eviction thresholds, and image garbage collection.
import type { ImageGCPolicy } from './images/gc.js';

export interface NodeTuning {
  /** --pod-manifest-path. */
  staticPodPath?: string;
  /** --eviction-hard ("memory.available<100Mi,nodefs.available<10%"). */
  evictionHard?: string;
  /** --image-gc-high-threshold, --image-gc-low-threshold, --minimum-image-ttl-duration; periodMs is k8ts' own. */
  imageGC?: Partial<ImageGCPolicy> & { periodMs?: number };
}
