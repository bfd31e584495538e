// What the controller manager hands each controller, and what a controller gives back.
import type { EventRecorder } from '../client/events.js';
import type { SharedInformerFactory } from '../client/informer.js';
import type { RestClient } from '../client/rest.js';
import type { Logger } from '../util/log.js';

export interface ControllerContext {
  readonly client: RestClient;
  /** The manager's one informer factory: ask it for informers before returning from start(). */
  readonly informers: SharedInformerFactory;
  /** An event recorder reporting as component (e.g. 'replicaset-controller'). */
  recorder(component: string): EventRecorder;
  /** A logger named after the controller. */
  readonly logger: Logger;
  /** Concurrent syncs per controller (upstream's --concurrent-*-syncs); controllers may use their own default. */
  readonly workers?: number;
  /**
   * Resolves true once every informer requested during start() has its initial list (false if the
   * manager stops first). Controllers start their workers only after this.
   */
  waitForCacheSync(): Promise<boolean>;
}

/** Stops the controller: no new syncs, waits for the ones in flight. */
export type StopController = () => Promise<void>;

export interface ControllerDescriptor {
  /** Upstream's controller name ('replicaset', 'deployment', …), as used by --controllers. */
  readonly name: string;
  /** Registers informers and handlers, starts workers (after cache sync), returns how to stop. */
  start(ctx: ControllerContext): StopController | Promise<StopController>;
}
