// Creating and deleting pods on behalf of a controller (upstream's PodControlInterface), behind an
// interface so sync logic can be tested with a fake that records what it was asked to do.
import type { Pod, PodTemplateSpec } from '../../api/generated/types.js';
import type { KubeObject, OwnerReference } from '../../api/meta.js';
import type { EventRecorder } from '../../client/events.js';
import type { RestClient } from '../../client/rest.js';
import { PODS } from '../../client/typed-refs.js';
import { errText, isNamespaceTerminating } from './errors.js';

/** One JSON patch operation (RFC 6902). */
export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'test';
  path: string;
  value?: unknown;
}

export interface PodControl {
  /** Creates a pod from template, controlled by owner (events go to owner). */
  createPod(
    namespace: string,
    template: PodTemplateSpec,
    owner: KubeObject,
    ref: OwnerReference,
  ): Promise<Pod>;
  deletePod(namespace: string, name: string, owner: KubeObject): Promise<void>;
  patchPod(namespace: string, name: string, patch: JsonPatchOp[]): Promise<void>;
}

export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The pod a template describes, named `<owner>-<random>` by the server (upstream's GetPodFromTemplate). */
export function podFromTemplate(template: PodTemplateSpec, owner: KubeObject, ref: OwnerReference): Pod {
  const meta = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata.name ?? ''}-`,
      namespace: owner.metadata.namespace,
      ownerReferences: [ref],
    },
    spec: structuredClone(template.spec),
  };
  if (meta.labels) pod.metadata.labels = { ...meta.labels };
  if (meta.annotations) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}

export class RealPodControl implements PodControl {
  constructor(
    private readonly client: RestClient,
    private readonly recorder: EventRecorder,
  ) {}

  async createPod(
    namespace: string,
    template: PodTemplateSpec,
    owner: KubeObject,
    ref: OwnerReference,
  ): Promise<Pod> {
    const pod = podFromTemplate(template, owner, ref);
    if (Object.keys(pod.metadata.labels ?? {}).length === 0)
      throw new Error('unable to create pods, no labels');
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
      this.recorder.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${errText(err)}`);
      throw err;
    }
    this.recorder.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  }

  async patchPod(namespace: string, name: string, patch: JsonPatchOp[]): Promise<void> {
    await this.client.patch(PODS, namespace, name, 'json', patch);
  }
}
