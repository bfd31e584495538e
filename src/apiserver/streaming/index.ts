// The API server's streaming and proxy subresources (pods/log, exec, attach, portforward, proxy;
// services/proxy; nodes/proxy), served by forwarding to the node agents.
export {
  createStreamingHandler,
  nodeEndpointFromStatus,
  podLogQuery,
  splitSchemeNamePort,
  validateContainer,
  STREAMING_SUBRESOURCES,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  type NodeEndpoint,
  type StreamingHandlerOptions,
  type SubresourceHandler,
} from './handler.js';
export { storeLookup, type StreamingLookup } from './lookup.js';
export { routeUpgradesAsRequests } from '../../agent/server/http-upgrade.js';
