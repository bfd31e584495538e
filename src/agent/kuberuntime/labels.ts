// The labels and annotations the node agent puts on CRI sandboxes and containers, named as
// kubelet names them so that tools which read them (crictl, containerd's CRI) see the familiar
// keys, and so the agent can rebuild its view of every pod from the runtime after a restart.

export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';

export const ANNOTATION_CONTAINER_HASH = 'io.kubernetes.container.hash';
export const ANNOTATION_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const ANNOTATION_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';
export const ANNOTATION_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const ANNOTATION_GRACE_PERIOD = 'io.kubernetes.pod.terminationGracePeriod';
export const ANNOTATION_CONTAINER_PORTS = 'io.kubernetes.container.ports';
/** Whether the container is an init container (k8ts's own key). */
export const ANNOTATION_CONTAINER_TYPE = 'k8ts.io/container-type';
/** The node the pod was started for (k8ts's own key; several simulated nodes may share a runtime). */
export const ANNOTATION_NODE_NAME = 'k8ts.io/node-name';
/** Host path of the termination message file (k8ts's own key). */
export const ANNOTATION_TERMINATION_FILE = 'k8ts.io/termination-message-file';

export type ContainerType = 'init' | 'app';

export function podLabels(
  namespace: string,
  name: string,
  uid: string,
  userLabels: Record<string, string> = {},
): Record<string, string> {
  return { ...userLabels, [LABEL_POD_NAME]: name, [LABEL_POD_NAMESPACE]: namespace, [LABEL_POD_UID]: uid };
}

export function containerLabels(
  namespace: string,
  name: string,
  uid: string,
  containerName: string,
): Record<string, string> {
  return {
    [LABEL_POD_NAME]: name,
    [LABEL_POD_NAMESPACE]: namespace,
    [LABEL_POD_UID]: uid,
    [LABEL_CONTAINER_NAME]: containerName,
  };
}
