// The client library in one import: REST transport, informers and listers, the work queue, leader
// election, event recording and the resource references.
export * from './rest.js';
export * from './kubeconfig.js';
export * from './labels.js';
export * from './informer.js';
export * from './workqueue.js';
export * from './leader-election.js';
export * from './events.js';
export * from './typed-refs.js';
