// How the Job controller writes pods: creates a fully formed pod (Indexed Jobs name theirs
// `<job>-<index>-`), deletes and patches, with upstream's events on the Job. Behind an interface so
// the sync logic can be tested with a recording fake.
import type { Pod } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { EventRecorder } from '../../client/events.js';
import type { RestClient } from '../../client/rest.js';
import { PODS } from '../../client/typed-refs.js';
import { errText, isNamespaceTerminating, isNotFound } from '../common/errors.js';
import type { JsonPatchOp } from '../common/pod-control.js';

export interface JobPodControl {
  createPod(namespace: string, pod: Pod, owner: KubeObject): Promise<Pod>;
  deletePod(namespace: string, name: string, owner: KubeObject): Promise<void>;
  patchPod(namespace: string, name: string, ops: JsonPatchOp[]): Promise<void>;
}

export class RestJobPodControl implements JobPodControl {
  constructor(
    private readonly client: RestClient,
    private readonly recorder: EventRecorder,
  ) {}

  async createPod(namespace: string, pod: Pod, owner: KubeObject): Promise<Pod> {
    try {
      const created = await this.client.create<Pod>(PODS, namespace, pod);
      this.recorder.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name ?? ''}`);
      return created;
    } catch (err) {
      if (!isNamespaceTerminating(err))
        this.recorder.event(owner, 'Warning', 'FailedCreate', `Error creating: ${errText(err)}`);
      throw err;
    }
  }

  async deletePod(namespace: string, name: string, owner: KubeObject): Promise<void> {
    try {
      await this.client.delete(PODS, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return;
      this.recorder.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${errText(err)}`);
      throw err;
    }
    this.recorder.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  }

  async patchPod(namespace: string, name: string, ops: JsonPatchOp[]): Promise<void> {
    await this.client.patch(PODS, namespace, name, 'json', ops);
  }
}
