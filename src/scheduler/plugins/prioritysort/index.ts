// PrioritySort: the queue order: higher spec.priority first, then the pod that entered the queue earlier.
import type { QueuedPodInfo, QueueSortPlugin } from '../../framework/interfaces.js';
import { PrioritySort as NAME } from '../names/index.js';

export class PrioritySortPlugin implements QueueSortPlugin {
  readonly name = NAME;
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    const pa = a.podInfo.priority;
    const pb = b.podInfo.priority;
    return pa > pb || (pa === pb && a.timestamp < b.timestamp);
  }
}

export const newPrioritySort = (): PrioritySortPlugin => new PrioritySortPlugin();
