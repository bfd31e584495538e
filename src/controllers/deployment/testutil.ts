// Shared setup for the deployment controller's unit tests.
import type { Deployment, Pod, ReplicaSet } from '../../api/generated/types.js';
import { DEPLOYMENTS, PODS, REPLICASETS } from '../../client/typed-refs.js';
import { FakeClock } from '../common/clock.js';
import { FakeDeploymentClient, FakeRecorder, fakeInformer, put } from '../testing.js';
import { DeploymentController } from './controller.js';

export function nginxDeployment(
  replicas: number,
  image = 'nginx:1.11',
  strategy: Deployment['spec'] extends infer S ? (S extends { strategy?: infer T } ? T : never) : never = {
    type: 'RollingUpdate',
    rollingUpdate: { maxSurge: 1, maxUnavailable: 1 },
  },
): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx-deployment', namespace: 'default', labels: { app: 'nginx' }, generation: 1 },
    spec: {
      replicas,
      revisionHistoryLimit: 4,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { app: 'nginx' } },
      strategy,
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [{ name: 'nginx', image, ports: [{ containerPort: 80, protocol: 'TCP' }] }],
          restartPolicy: 'Always',
        },
      },
    },
  };
}

const live: DeploymentController[] = [];

/** Shuts down the queues of every controller set up so far (their delayed re-queues hold timers). */
export async function stopAll(): Promise<void> {
  await Promise.all(live.splice(0).map((c) => c.stop()));
}

export function setup() {
  const clock = new FakeClock();
  const dInf = fakeInformer<Deployment>(DEPLOYMENTS);
  const rsInf = fakeInformer<ReplicaSet>(REPLICASETS);
  const podInf = fakeInformer<Pod>(PODS);
  const client = new FakeDeploymentClient(dInf, rsInf, clock);
  const recorder = new FakeRecorder();
  const controller = new DeploymentController({
    deploymentInformer: dInf,
    rsInformer: rsInf,
    podInformer: podInf,
    client,
    recorder,
    clock,
  });
  live.push(controller);
  const key = 'default/nginx-deployment';
  return {
    clock,
    dInf,
    rsInf,
    podInf,
    client,
    recorder,
    controller,
    key,
    deployment: (): Deployment => dInf.get('default', 'nginx-deployment')!,
    rss: (): ReplicaSet[] =>
      rsInf
        .list('default')
        .sort((a, b) =>
          (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
        ),
    /** Writes the deployment as a user would (generation bumps when the spec changes). */
    apply(d: Deployment): Deployment {
      clock.advance(1000);
      const cur = dInf.get('default', 'nginx-deployment');
      const next = structuredClone(d);
      if (cur) {
        next.metadata = {
          ...structuredClone(cur.metadata),
          annotations: d.metadata.annotations ?? cur.metadata.annotations,
        };
        next.status = structuredClone(cur.status);
        if (JSON.stringify(cur.spec) !== JSON.stringify(d.spec))
          next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
      }
      return put(dInf, next, clock);
    },
    /**
     * Plays the ReplicaSet controller: every ReplicaSet gets spec.replicas pods; pods that existed
     * before this call are available, new ones are not yet (they become available next time).
     */
    settle(allAvailable = false): void {
      for (const rs of rsInf.list('default')) {
        const want = rs.spec?.replicas ?? 0;
        const before = rs.status?.replicas ?? 0;
        const available = allAvailable ? want : Math.min(want, before);
        const next = structuredClone(rs);
        next.status = {
          replicas: want,
          fullyLabeledReplicas: want,
          readyReplicas: available,
          availableReplicas: available,
          observedGeneration: rs.metadata.generation ?? 1,
        };
        put(rsInf, next, clock);
      }
    },
  };
}
