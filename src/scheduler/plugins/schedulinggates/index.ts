// SchedulingGates: a pod with spec.schedulingGates stays out of the active queue until they are removed.
import type { Pod } from '../../../api/generated/types.js';
import {
  ActionType,
  QueueingHint,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type PreEnqueuePlugin,
} from '../../framework/interfaces.js';
import { Status } from '../../framework/status.js';
import { SchedulingGates as NAME } from '../names/index.js';

export class SchedulingGatesPlugin implements PreEnqueuePlugin, EnqueueExtensions {
  readonly name = NAME;
  preEnqueue(pod: Pod): Status {
    const gates = pod.spec?.schedulingGates ?? [];
    if (gates.length === 0) return Status.SUCCESS;
    return Status.unresolvable(`waiting for scheduling gates: [${gates.map((g) => g.name).join(' ')}]`);
  }
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Pod', actionType: ActionType.UpdatePodSchedulingGatesEliminated },
        hint: (pod, _old, next) =>
          next &&
          (next as Pod).metadata.uid === pod.metadata.uid &&
          ((next as Pod).spec?.schedulingGates ?? []).length === 0
            ? QueueingHint.Queue
            : QueueingHint.QueueSkip,
      },
    ];
  }
}

export const newSchedulingGates = (): SchedulingGatesPlugin => new SchedulingGatesPlugin();
