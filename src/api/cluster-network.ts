// Cluster-wide network defaults, k3s's values, in a module of their own so that every component
// (API server, agent, CLI) can read them without loading anything else.

/** The Service ClusterIP range (k3s's --service-cidr default). */
export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
