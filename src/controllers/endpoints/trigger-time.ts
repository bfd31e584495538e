// The endpoints.kubernetes.io/last-change-trigger-time annotation (upstream's TriggerTimeTracker):
// the time of the earliest change to a service or its pods that the next write of its endpoints
// reflects — for a pod, the last transition of its Ready condition (else its creation); for the
// service, its creation. A service seen for the first time reports its creation time.
import { parseTime } from '../common/clock.js';
import { podReadyCondition } from '../common/pods.js';
import type { PodObj, ServiceObj } from './pod-endpoints.js';

interface ServiceState {
  pods: Map<string, number>;
  service: number;
}

function podTriggerTime(pod: PodObj): number | undefined {
  return parseTime(podReadyCondition(pod)?.lastTransitionTime) ?? parseTime(pod.metadata.creationTimestamp);
}

export class TriggerTimeTracker {
  private readonly states = new Map<string, ServiceState>();

  /** The trigger time for this sync (undefined when nothing changed), remembering what was seen. */
  compute(key: string, svc: ServiceObj, pods: readonly PodObj[]): number | undefined {
    const prev = this.states.get(key);
    let min: number | undefined;
    const seen = new Map<string, number>();
    for (const pod of pods) {
      const t = podTriggerTime(pod);
      if (t === undefined) continue;
      const name = pod.metadata.name ?? '';
      seen.set(name, t);
      const before = prev?.pods.get(name);
      if (before === undefined || t > before) min = min === undefined ? t : Math.min(min, t);
    }
    const svcTime = parseTime(svc.metadata.creationTimestamp) ?? 0;
    if (!prev || svcTime > prev.service) min = min === undefined ? svcTime : Math.min(min, svcTime);
    this.states.set(key, { pods: seen, service: svcTime });
    if (!prev) return parseTime(svc.metadata.creationTimestamp);
    return min;
  }

  forget(key: string): void {
    this.states.delete(key);
  }
}

/** RFC 3339 with the fraction kept (upstream formats the annotation with RFC3339Nano). */
export function formatTriggerTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}
