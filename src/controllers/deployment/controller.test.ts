import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSet } from '../../api/generated/types.js';
import { put } from '../testing.js';
import { nginxDeployment, setup, stopAll } from './testutil.js';

afterEach(stopAll);

const REVISION = 'deployment.kubernetes.io/revision';

test('a new deployment gets a ReplicaSet <name>-<hash> with revision 1, an event and NewReplicaSetCreated', async () => {
  const t = setup();
  put(t.dInf, nginxDeployment(3));
  await t.controller.sync(t.key);
  const [rs] = t.rss();
  assert.ok(rs);
  const hash = rs.metadata.labels?.['pod-template-hash'];
  assert.match(rs.metadata.name ?? '', /^nginx-deployment-[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  assert.equal(rs.metadata.name, `nginx-deployment-${hash}`);
  assert.equal(rs.spec?.replicas, 3);
  assert.equal(rs.spec?.selector.matchLabels?.['pod-template-hash'], hash);
  assert.equal(rs.spec?.template?.metadata?.labels?.['pod-template-hash'], hash);
  assert.equal(rs.metadata.ownerReferences?.[0]?.kind, 'Deployment');
  assert.deepEqual(
    [
      rs.metadata.annotations?.[REVISION],
      rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'],
      rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas'],
    ],
    ['1', '3', '4'],
  );
  assert.deepEqual(t.recorder.messages('ScalingReplicaSet'), [
    `Scaled up replica set ${rs.metadata.name} from 0 to 3`,
  ]);
  const d = t.deployment();
  assert.equal(d.metadata.annotations?.[REVISION], '1');
  const prog = d.status?.conditions?.find((c) => c.type === 'Progressing');
  assert.equal(prog?.reason, 'NewReplicaSetCreated');
  assert.equal(prog?.message, `Created new replica set "${rs.metadata.name}"`);

  // Pods come up: the rollout completes.
  t.settle(true);
  await t.controller.sync(t.key);
  const done = t.deployment();
  assert.deepEqual(
    [
      done.status?.replicas,
      done.status?.updatedReplicas,
      done.status?.readyReplicas,
      done.status?.availableReplicas,
      done.status?.unavailableReplicas,
    ],
    [3, 3, 3, 3, 0],
  );
  const p = done.status?.conditions?.find((c) => c.type === 'Progressing');
  assert.equal(p?.reason, 'NewReplicaSetAvailable');
  assert.equal(p?.message, `ReplicaSet "${rs.metadata.name}" has successfully progressed.`);
  const a = done.status?.conditions?.find((c) => c.type === 'Available');
  assert.deepEqual(
    [a?.status, a?.reason, a?.message],
    ['True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'],
  );
});

test('a rolling update of 20 replicas never exceeds maxSurge nor maxUnavailable', async () => {
  const t = setup();
  const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
  put(t.dInf, nginxDeployment(20, 'nginx:1.11', strategy));
  await t.controller.sync(t.key);
  t.settle(true);
  await t.controller.sync(t.key);
  t.apply(nginxDeployment(20, 'nginx:1.13', strategy));
  for (let step = 0; step < 40; step++) {
    await t.controller.sync(t.key);
    // Pods per ReplicaSet: the controller may only have asked; the pods exist once settled.
    t.settle();
    const rss = t.rss();
    const pods = rss.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
    const available = rss.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
    assert.ok(pods <= 25, `step ${step}: ${pods} pods`);
    assert.ok(available >= 15, `step ${step}: ${available} available`);
    const d = t.deployment();
    if (d.status?.updatedReplicas === 20 && d.status.availableReplicas === 20 && d.status.replicas === 20)
      break;
  }
  await t.controller.sync(t.key);
  const d = t.deployment();
  assert.deepEqual(
    [d.status?.replicas, d.status?.updatedReplicas, d.status?.availableReplicas],
    [20, 20, 20],
  );
  const [oldRS, newRS] = t.rss();
  assert.equal(oldRS?.spec?.replicas, 0);
  assert.equal(newRS?.spec?.replicas, 20);
  assert.equal(newRS?.metadata.annotations?.[REVISION], '2');
  assert.equal(d.metadata.annotations?.[REVISION], '2');
  assert.equal(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'NewReplicaSetAvailable');
  const msgs = t.recorder.messages('ScalingReplicaSet');
  assert.ok(msgs.includes(`Scaled up replica set ${newRS?.metadata.name} from 0 to 5`), msgs.join('\n'));
  assert.ok(msgs.some((m) => m.startsWith(`Scaled down replica set ${oldRS?.metadata.name} from 20 to`)));
});

test('maxSurge 0: old pods go first, never more than desired', async () => {
  const t = setup();
  const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 2 } };
  put(t.dInf, nginxDeployment(6, 'a', strategy));
  await t.controller.sync(t.key);
  t.settle(true);
  t.apply(nginxDeployment(6, 'b', strategy));
  for (let i = 0; i < 20; i++) {
    await t.controller.sync(t.key);
    t.settle();
    const rss = t.rss();
    assert.ok(rss.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0) <= 6);
    assert.ok(rss.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0) >= 4);
  }
  assert.deepEqual(
    t.rss().map((rs) => rs.spec?.replicas),
    [0, 6],
  );
});

test('scaling in the middle of a rollout is shared out in proportion', async () => {
  const t = setup();
  const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } };
  put(t.dInf, nginxDeployment(10, 'a', strategy));
  await t.controller.sync(t.key);
  t.settle(true);
  t.apply(nginxDeployment(10, 'b', strategy));
  await t.controller.sync(t.key); // new RS up to 3 (surge)
  t.settle();
  await t.controller.sync(t.key); // old RS down
  t.settle();
  const before = t.rss().map((rs) => rs.spec?.replicas ?? 0);
  t.apply(nginxDeployment(20, 'b', strategy));
  await t.controller.sync(t.key);
  const after = t.rss().map((rs) => rs.spec?.replicas ?? 0);
  assert.equal(after[0]! + after[1]!, 23, `${before.join(',')} → ${after.join(',')}`);
  assert.ok(after[0]! > before[0]! && after[1]! > before[1]!, `${before.join(',')} → ${after.join(',')}`);
});

test('scale up and down of a settled deployment resizes its one ReplicaSet', async () => {
  const t = setup();
  put(t.dInf, nginxDeployment(3));
  await t.controller.sync(t.key);
  t.settle(true);
  t.apply(nginxDeployment(5));
  await t.controller.sync(t.key);
  const rs = t.rss()[0]!;
  assert.equal(rs.spec?.replicas, 5);
  assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '5');
  t.apply(nginxDeployment(1));
  await t.controller.sync(t.key);
  assert.equal(t.rss()[0]?.spec?.replicas, 1);
  assert.deepEqual(t.recorder.messages('ScalingReplicaSet').slice(1), [
    `Scaled up replica set ${rs.metadata.name} from 3 to 5`,
    `Scaled down replica set ${rs.metadata.name} from 5 to 1`,
  ]);
});

test('Recreate scales old pods to zero before creating the new ReplicaSet', async () => {
  const t = setup();
  put(t.dInf, nginxDeployment(3, 'a', { type: 'Recreate' }));
  await t.controller.sync(t.key);
  t.settle(true);
  t.apply(nginxDeployment(3, 'b', { type: 'Recreate' }));
  await t.controller.sync(t.key);
  assert.deepEqual(
    t.rss().map((rs) => rs.spec?.replicas),
    [0],
  );
  await t.controller.sync(t.key); // old pods still reported: wait
  assert.equal(t.rss().length, 1);
  t.settle(true);
  await t.controller.sync(t.key);
  assert.deepEqual(
    t.rss().map((rs) => rs.spec?.replicas),
    [0, 3],
  );
});

test('rollout undo (kubectl patches the old template back) re-uses the old ReplicaSet as a new revision', async () => {
  const t = setup();
  put(t.dInf, nginxDeployment(2, 'nginx:1.11'));
  await t.controller.sync(t.key);
  t.settle(true);
  const first = t.rss()[0]!;
  t.apply(nginxDeployment(2, 'nginx:1.13'));
  for (let i = 0; i < 10; i++) {
    await t.controller.sync(t.key);
    t.settle();
  }
  t.settle(true);
  await t.controller.sync(t.key);
  assert.equal(t.deployment().metadata.annotations?.[REVISION], '2');
  // kubectl rollout undo: the template of revision 1 without its hash label.
  const undo = nginxDeployment(2, 'nginx:1.11');
  undo.metadata.annotations = { ...t.deployment().metadata.annotations };
  t.apply(undo);
  for (let i = 0; i < 10; i++) {
    await t.controller.sync(t.key);
    t.settle(true);
  }
  const rss = t.rss();
  assert.equal(rss.length, 2);
  const back = rss.find((rs) => rs.metadata.uid === first.metadata.uid)!;
  assert.equal(back.spec?.replicas, 2);
  assert.equal(back.metadata.annotations?.[REVISION], '3');
  assert.equal(back.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
  assert.equal(t.deployment().metadata.annotations?.[REVISION], '3');
});

test('the deprecated rollback annotation copies the revision template back and is cleared', async () => {
  const t = setup();
  put(t.dInf, nginxDeployment(1, 'nginx:1.11'));
  await t.controller.sync(t.key);
  t.settle(true);
  t.apply(nginxDeployment(1, 'nginx:1.13'));
  for (let i = 0; i < 6; i++) {
    await t.controller.sync(t.key);
    t.settle(true);
  }
  const d = structuredClone(t.deployment());
  d.metadata.annotations = { ...d.metadata.annotations, 'deprecated.deployment.rollback.to': '1' };
  put(t.dInf, d);
  await t.controller.sync(t.key);
  const after = t.deployment();
  assert.equal(after.spec?.template.spec?.containers[0]?.image, 'nginx:1.11');
  assert.equal(after.metadata.annotations?.['deprecated.deployment.rollback.to'], undefined);
  assert.deepEqual(t.recorder.messages('DeploymentRollback'), [
    'Rolled back deployment "nginx-deployment" to revision 1',
  ]);
  // Unknown revision: a warning, and the request is dropped.
  const bad = structuredClone(t.deployment());
  bad.metadata.annotations = { ...bad.metadata.annotations, 'deprecated.deployment.rollback.to': '42' };
  put(t.dInf, bad);
  await t.controller.sync(t.key);
  assert.deepEqual(t.recorder.messages('DeploymentRollbackRevisionNotFound'), [
    'Unable to find the revision to rollback to.',
  ]);
});

test('old ReplicaSets beyond revisionHistoryLimit are deleted once scaled down', async () => {
  const t = setup();
  put(t.dInf, nginxDeployment(1, 'v0'));
  await t.controller.sync(t.key);
  t.settle(true);
  for (let v = 1; v <= 6; v++) {
    t.apply(nginxDeployment(1, `v${v}`));
    for (let i = 0; i < 6; i++) {
      await t.controller.sync(t.key);
      t.settle(true);
    }
  }
  await t.controller.sync(t.key);
  const rss = t.rss();
  // revisionHistoryLimit 4: four old ones plus the current one.
  assert.equal(rss.length, 5, rss.map((r) => r.metadata.annotations?.[REVISION]).join(','));
  assert.deepEqual(rss.map((r) => r.metadata.annotations?.[REVISION]).sort(), ['3', '4', '5', '6', '7']);
});

test('a rollout that stops moving reports ProgressDeadlineExceeded after progressDeadlineSeconds', async () => {
  const t = setup();
  put(t.dInf, nginxDeployment(2));
  await t.controller.sync(t.key);
  t.settle(true);
  await t.controller.sync(t.key);
  t.apply(nginxDeployment(2, 'nginx:does-not-exist'));
  await t.controller.sync(t.key);
  // The new pods never become ready.
  for (const rs of t.rss()) {
    const next = structuredClone<ReplicaSet>(rs);
    next.status = {
      ...next.status!,
      replicas: rs.spec?.replicas ?? 0,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    put(t.rsInf, next);
  }
  await t.controller.sync(t.key);
  assert.equal(
    t.deployment().status?.conditions?.find((c) => c.type === 'Progressing')?.reason,
    'ReplicaSetUpdated',
  );
  t.clock.advance(601_000);
  await t.controller.sync(t.key);
  const cond = t.deployment().status?.conditions?.find((c) => c.type === 'Progressing');
  const newRS = t
    .rss()
    .find((rs) => rs.spec?.template?.spec?.containers[0]?.image === 'nginx:does-not-exist')!;
  assert.deepEqual(
    [cond?.status, cond?.reason, cond?.message],
    ['False', 'ProgressDeadlineExceeded', `ReplicaSet "${newRS.metadata.name}" has timed out progressing.`],
  );
});

test('a paused deployment does not roll out and says so; resuming continues', async () => {
  const t = setup();
  put(t.dInf, nginxDeployment(2));
  await t.controller.sync(t.key);
  t.settle(true);
  const paused = nginxDeployment(2, 'nginx:1.13');
  paused.spec!.paused = true;
  t.apply(paused);
  await t.controller.sync(t.key);
  assert.equal(t.rss().length, 1);
  const cond = t.deployment().status?.conditions?.find((c) => c.type === 'Progressing');
  assert.deepEqual(
    [cond?.status, cond?.reason, cond?.message],
    ['Unknown', 'DeploymentPaused', 'Deployment is paused'],
  );
  t.apply(nginxDeployment(2, 'nginx:1.13'));
  await t.controller.sync(t.key);
  assert.equal(t.rss().length, 2);
});

test('restartedAt in the template makes a new revision', async () => {
  const t = setup();
  put(t.dInf, nginxDeployment(1));
  await t.controller.sync(t.key);
  t.settle(true);
  const restarted = nginxDeployment(1);
  restarted.spec!.template.metadata!.annotations = {
    'kubectl.kubernetes.io/restartedAt': '2026-11-22T18:00:00Z',
  };
  t.apply(restarted);
  await t.controller.sync(t.key);
  assert.equal(t.rss().length, 2);
  assert.equal(t.deployment().metadata.annotations?.[REVISION], '2');
});

test('a name taken by a foreign ReplicaSet bumps collisionCount and the next name differs', async () => {
  const t = setup();
  put(t.dInf, nginxDeployment(1));
  await t.controller.sync(t.key);
  const taken = t.rss()[0]!;
  // Same name, but not ours: delete ours and put a stranger there.
  t.rsInf.store.remove(`default/${taken.metadata.name}`);
  put(t.rsInf, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: taken.metadata.name, namespace: 'default', labels: { other: 'x' } },
    spec: { replicas: 0, selector: { matchLabels: { other: 'x' } } },
  });
  await assert.rejects(() => t.controller.sync(t.key), /already exists/);
  assert.equal(t.deployment().status?.collisionCount, 1);
  await t.controller.sync(t.key);
  const mine = t.rss().find((rs) => rs.metadata.ownerReferences?.[0]?.kind === 'Deployment');
  assert.ok(mine && mine.metadata.name !== taken.metadata.name);
});

test('an empty selector is refused with a SelectingAll warning', async () => {
  const t = setup();
  const d = nginxDeployment(1);
  d.spec!.selector = {};
  put(t.dInf, d);
  await t.controller.sync(t.key);
  assert.equal(t.rss().length, 0);
  assert.deepEqual(t.recorder.messages('SelectingAll'), [
    'This deployment is selecting all pods. A non-empty selector is required.',
  ]);
});
