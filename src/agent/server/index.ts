// The node agent's HTTPS API (kubelet's port 10250) and its CRI backend.
export { startNodeServer, DEFAULT_NODE_PORT, type NodeServer, type NodeServerOptions } from './server.js';
export { CriStreamingBackend, type CriBackendOptions } from './cri-backend.js';
export * from './backend.js';
