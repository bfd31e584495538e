// DefaultBinder: binds the pod through the pods/binding subresource.
import type { BindPlugin, Handle } from '../../framework/interfaces.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { PodInfo } from '../../framework/node-info.js';
import { Status } from '../../framework/status.js';
import { DefaultBinder as NAME } from '../names/index.js';

export class DefaultBinderPlugin implements BindPlugin {
  readonly name = NAME;
  constructor(private readonly handle: Handle) {}
  async bind(_state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    try {
      await this.handle.client.bind(pod.pod, nodeName);
      return Status.SUCCESS;
    } catch (err) {
      return Status.error(err);
    }
  }
}

export const newDefaultBinder = (_args: unknown, handle: Handle): DefaultBinderPlugin =>
  new DefaultBinderPlugin(handle);
