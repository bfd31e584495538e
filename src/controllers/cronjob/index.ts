// The 'cronjob' controller as the manager starts it.
import type { CronJob, Job } from '../../api/generated/types.js';
import { CRONJOBS, JOBS } from '../../client/typed-refs.js';
import type { Clock } from '../common/clock.js';
import type { ControllerDescriptor } from '../types.js';
import { CronJobController } from './cronjob-controller.js';

export { CronJobController } from './cronjob-controller.js';
export type { CronJobClient, CronJobControllerOptions } from './cronjob-controller.js';
export * from './utils.js';

/** Upstream's --concurrent-cron-job-syncs default. */
const DEFAULT_WORKERS = 5;

export function cronJobControllerDescriptor(tuning: { clock?: Clock } = {}): ControllerDescriptor {
  return {
    name: 'cronjob',
    start(ctx) {
      const controller = new CronJobController({
        cronJobInformer: ctx.informers.informerFor<CronJob>(CRONJOBS),
        jobInformer: ctx.informers.informerFor<Job>(JOBS),
        client: {
          createJob: (job) => ctx.client.create<Job>(JOBS, job.metadata.namespace, job),
          getJob: (ns, name) => ctx.client.get<Job>(JOBS, ns, name),
          deleteJob: async (ns, name) => {
            await ctx.client.delete(JOBS, ns, name, { propagationPolicy: 'Background' });
          },
          updateStatus: (cj) => ctx.client.update<CronJob>(CRONJOBS, cj, 'status'),
        },
        recorder: ctx.recorder('cronjob-controller'),
        logger: ctx.logger,
        ...tuning,
      });
      controller.registerHandlers();
      let stopped = false;
      void ctx.waitForCacheSync().then((ok) => {
        if (ok && !stopped) void controller.run(ctx.workers ?? DEFAULT_WORKERS);
      });
      return async () => {
        stopped = true;
        await controller.stop();
      };
    },
  };
}
