// What `k8ts version` and the API server's /version report. The Kubernetes version is the one
// whose API we serve; kubectl compares its own minor version with it to warn about skew.
export const K8TS_VERSION = '0.1.0';
export const KUBERNETES_MAJOR = '1';
export const KUBERNETES_MINOR = '32';
export const KUBERNETES_GIT_VERSION = `v${KUBERNETES_MAJOR}.${KUBERNETES_MINOR}.0+k8ts-${K8TS_VERSION}`;
