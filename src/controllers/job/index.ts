// The 'job' and 'ttl-after-finished' controllers as the manager starts them.
import type { Job, Pod } from '../../api/generated/types.js';
import { JOBS, PODS } from '../../client/typed-refs.js';
import type { Clock } from '../common/clock.js';
import type { ControllerContext, ControllerDescriptor, StopController } from '../types.js';
import { JobController } from './job-controller.js';
import { RestJobPodControl } from './pod-control.js';
import { TtlAfterFinishedController } from './ttl-after-finished.js';

export { JobController } from './job-controller.js';
export type { JobClient, JobControllerOptions } from './job-controller.js';
export { TtlAfterFinishedController, timeLeftMs } from './ttl-after-finished.js';
export type { JobPodControl } from './pod-control.js';
export { RestJobPodControl } from './pod-control.js';
export * from './util.js';

/** Upstream's --concurrent-job-syncs and --concurrent-ttl-after-finished-syncs defaults. */
const JOB_WORKERS = 5;
const TTL_WORKERS = 5;

export interface JobControllerTuning {
  clock?: Clock;
  /** Base of the pod failure back-off (default 10 s). */
  podFailureBackoffMs?: number;
  maxPodFailureBackoffMs?: number;
}

function startWhenSynced(
  ctx: ControllerContext,
  run: () => Promise<void>,
  stop: () => Promise<void>,
): StopController {
  let stopped = false;
  void ctx.waitForCacheSync().then((ok) => {
    if (ok && !stopped) void run();
  });
  return async () => {
    stopped = true;
    await stop();
  };
}

export function jobControllerDescriptor(tuning: JobControllerTuning = {}): ControllerDescriptor {
  return {
    name: 'job',
    start(ctx) {
      const recorder = ctx.recorder('job-controller');
      const controller = new JobController({
        jobInformer: ctx.informers.informerFor<Job>(JOBS),
        podInformer: ctx.informers.informerFor<Pod>(PODS),
        podControl: new RestJobPodControl(ctx.client, recorder),
        client: { updateStatus: (job) => ctx.client.update<Job>(JOBS, job, 'status') },
        getJob: (ns, name) => ctx.client.get<Job>(JOBS, ns, name),
        recorder,
        logger: ctx.logger,
        ...tuning,
      });
      controller.registerHandlers();
      return startWhenSynced(
        ctx,
        () => controller.run(ctx.workers ?? JOB_WORKERS),
        () => controller.stop(),
      );
    },
  };
}

export function ttlAfterFinishedControllerDescriptor(tuning: { clock?: Clock } = {}): ControllerDescriptor {
  return {
    name: 'ttl-after-finished',
    start(ctx) {
      const controller = new TtlAfterFinishedController({
        jobInformer: ctx.informers.informerFor<Job>(JOBS),
        client: {
          getJob: (ns, name) => ctx.client.get<Job>(JOBS, ns, name),
          deleteJob: async (ns, name) => {
            await ctx.client.delete(JOBS, ns, name, { propagationPolicy: 'Foreground' });
          },
        },
        logger: ctx.logger,
        ...tuning,
      });
      controller.registerHandlers();
      return startWhenSynced(
        ctx,
        () => controller.run(ctx.workers ?? TTL_WORKERS),
        () => controller.stop(),
      );
    },
  };
}
