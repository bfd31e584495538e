// A resource the API server answers without storage (metrics.k8s.io's nodes and pods): its
// description joins discovery, OpenAPI and authorization like any other; its requests go to
// `handle` instead of the generic REST handler.
import type { Schema } from '../api/schema.js';
import type { ResourceDescription } from '../api/types.js';
import type { Reply, RestRequest } from './rest.js';

export interface VirtualResource {
  readonly description: ResourceDescription;
  /** OpenAPI definitions its kinds need (added to the server's schemas). */
  readonly definitions?: Readonly<Record<string, Schema>>;
  /** Answers any verb on the resource (throw methodNotAllowed() for those it does not serve). */
  handle(req: RestRequest): Promise<Reply>;
}
