// What `k8ts version` and the API server's /version report. The Kubernetes version is the one
// whose API we serve; kubectl compares its own minor version with it to warn about skew.
export const K8TS_VERSION = '0.1.0';
export const KUBERNETES_MAJOR = '1';
export const KUBERNETES_MINOR = '32';
export const KUBERNETES_GIT_VERSION = `v${KUBERNETES_MAJOR}.${KUBERNETES_MINOR}.0+k8ts-${K8TS_VERSION}`;

/**
 * A component's User-Agent in upstream's form ("kubelet/v1.32.0 (linux/amd64) kubernetes/…"): the API
 * server names the field manager of a write after the part before the first "/", so objects show
 * the same managers (kubelet, kube-scheduler, kube-controller-manager) as on an upstream cluster.
 */
export function componentUserAgent(component: string): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return `${component}/${KUBERNETES_GIT_VERSION} (${process.platform}/${arch}) kubernetes/k8ts-${K8TS_VERSION}`;
}
