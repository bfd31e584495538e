// The pki package: cluster CA and certificates, kubeconfigs, tokens.
export * from './certs.js';
export * from './cluster.js';
export * from './kubeconfig.js';
export * from './tokens.js';
export * from './jws.js';
