// The Endpoints and EndpointSlice controllers as the controller manager runs them.
import type { KubeObject } from '../../api/meta.js';
import { deletedObject, type DeletedFinalStateUnknown } from '../../client/informer.js';
import { ENDPOINTS, ENDPOINTSLICES, NODES, PODS, SERVICES } from '../../client/typed-refs.js';
import { queueRunner } from '../common/runner.js';
import type { ControllerContext, ControllerDescriptor, StopController } from '../types.js';
import { EndpointSliceController, type EndpointSliceObj, type NodeObj } from './endpoint-slices.js';
import { EndpointsController, type EndpointsObj } from './endpoints.js';
import { podHandlers, type PodObj, type ServiceObj } from './pod-endpoints.js';

export { EndpointsController } from './endpoints.js';
export { EndpointSliceController } from './endpoint-slices.js';

/** Upstream's --concurrent-endpoint-syncs and --concurrent-service-endpoint-syncs defaults. */
const DEFAULT_WORKERS = 5;

function serviceKey(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

function commonHandlers(ctx: ControllerContext, enqueue: (key: string) => void) {
  const services = ctx.informers.informerFor<ServiceObj>(SERVICES);
  const pods = ctx.informers.informerFor<PodObj>(PODS);
  const ph = podHandlers(services.getLister(), enqueue);
  const regs = [
    services.addEventHandler({
      onAdd: (s) => enqueue(serviceKey(s)),
      onUpdate: (_o, s) => enqueue(serviceKey(s)),
      onDelete: (v: ServiceObj | DeletedFinalStateUnknown<ServiceObj>) =>
        enqueue(serviceKey(deletedObject(v))),
    }),
    pods.addEventHandler({
      onAdd: (p) => ph.onAdd(p),
      onUpdate: (o, p) => ph.onUpdate(o, p),
      onDelete: (v: PodObj | DeletedFinalStateUnknown<PodObj>) => ph.onDeletePod(deletedObject(v)),
    }),
  ];
  return { services, pods, regs };
}

export const endpointsController: ControllerDescriptor = {
  name: 'endpoints',
  start(ctx): StopController {
    const runner = queueRunner('endpoint', ctx.logger, (key) => controller.sync(key));
    const enqueue = (key: string): void => runner.queue.add(key);
    const { services, pods, regs } = commonHandlers(ctx, enqueue);
    const endpoints = ctx.informers.informerFor<EndpointsObj>(ENDPOINTS);
    const client = ctx.client;
    const controller: EndpointsController = new EndpointsController({
      services: services.getLister(),
      pods: pods.getLister(),
      endpoints: endpoints.getLister(),
      client: {
        async create(ns, ep) {
          await client.create(ENDPOINTS, ns, ep);
        },
        async update(ep) {
          await client.update<KubeObject>(ENDPOINTS, ep);
        },
        async delete(ns, name) {
          await client.delete(ENDPOINTS, ns, name);
        },
      },
      log: ctx.logger,
    });
    regs.push(
      endpoints.addEventHandler({
        onDelete: (v: EndpointsObj | DeletedFinalStateUnknown<EndpointsObj>) =>
          enqueue(serviceKey(deletedObject(v))),
      }),
    );
    let stopped = false;
    void ctx.waitForCacheSync().then((ok) => {
      if (!ok || stopped) return;
      for (const k of controller.leftoverKeys()) enqueue(k);
      void runner.run(ctx.workers ?? DEFAULT_WORKERS);
    });
    return async () => {
      stopped = true;
      for (const r of regs) r.remove();
      await runner.stop();
    };
  },
};

export const endpointSliceController: ControllerDescriptor = {
  name: 'endpointslice',
  start(ctx): StopController {
    const runner = queueRunner('endpoint_slice', ctx.logger, (key) => controller.sync(key));
    const enqueue = (key: string): void => runner.queue.add(key);
    const { services, pods, regs } = commonHandlers(ctx, enqueue);
    const slices = ctx.informers.informerFor<EndpointSliceObj>(ENDPOINTSLICES);
    const client = ctx.client;
    const controller: EndpointSliceController = new EndpointSliceController({
      services: services.getLister(),
      pods: pods.getLister(),
      slices: slices.getLister(),
      nodes: ctx.informers.informerFor<NodeObj>(NODES).getLister(),
      client: {
        create: (ns, s) => client.create<EndpointSliceObj>(ENDPOINTSLICES, ns, s),
        update: (s) => client.update<EndpointSliceObj>(ENDPOINTSLICES, s),
        async delete(ns, name) {
          await client.delete(ENDPOINTSLICES, ns, name);
        },
      },
      log: ctx.logger,
    });
    regs.push(slices.addEventHandler(controller.sliceHandlers(enqueue)));
    let stopped = false;
    void ctx.waitForCacheSync().then((ok) => {
      if (ok && !stopped) void runner.run(ctx.workers ?? DEFAULT_WORKERS);
    });
    return async () => {
      stopped = true;
      for (const r of regs) r.remove();
      await runner.stop();
    };
  },
};
