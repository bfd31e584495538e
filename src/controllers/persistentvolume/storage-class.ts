// The StorageClass k3s creates at start for its local-path provisioner: the cluster's default.
import type { KubeObject } from '../../api/meta.js';
import { LOCAL_PATH_PROVISIONER } from './local-path.js';

export const LOCAL_PATH_CLASS = 'local-path';

export function localPathStorageClass(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: LOCAL_PATH_CLASS,
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}
