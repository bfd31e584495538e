// Every manifest in the seed documents is accepted in the version it is written in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureNames, loadFixture, simulateCreate } from './testing.js';
import { get } from './util.js';

for (const name of fixtureNames()) {
  if (name === 'seed001-11-ingress.yaml') continue;
  test(`seed manifest ${name} defaults and validates`, () => {
    for (const doc of loadFixture(name)) {
      const { messages } = simulateCreate(doc);
      assert.deepEqual(messages, [], `${doc.kind} ${doc.metadata.name ?? ''}`);
    }
  });
}

test('the verbatim networking.k8s.io/v1beta1 Ingress of seed 001 is not valid YAML (kubectl refuses it too)', () => {
  assert.throws(() => loadFixture('seed001-11-ingress.yaml'));
});

test('seed extensions/v1beta1 Deployment without a selector gets it from the template labels', () => {
  const [dep] = loadFixture('seed000-05-deployment-service-ingress.yaml');
  assert.ok(dep);
  const { stored } = simulateCreate(dep);
  assert.equal(stored.apiVersion, 'apps/v1');
  assert.deepEqual(get(stored, 'spec', 'selector'), { matchLabels: { name: 'nginx' } });
  assert.deepEqual(stored.metadata.labels, { name: 'nginx' });
  assert.deepEqual(get(stored, 'spec', 'strategy'), {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 1, maxSurge: 1 },
  });
  assert.equal(get(stored, 'spec', 'revisionHistoryLimit'), 2147483647);
  assert.equal(get(stored, 'spec', 'progressDeadlineSeconds'), 2147483647);
});

test('seed extensions/v1beta1 Ingress is stored as networking.k8s.io/v1 with service backends', () => {
  const docs = loadFixture('seed000-05-deployment-service-ingress.yaml');
  const { stored } = simulateCreate(docs[2] ?? docs[0]!);
  assert.equal(stored.apiVersion, 'networking.k8s.io/v1');
  assert.deepEqual(get(stored, 'spec', 'rules'), [
    {
      host: 'www1.hongfu.com',
      http: {
        paths: [
          {
            path: '/',
            pathType: 'ImplementationSpecific',
            backend: { service: { name: 'nginx-svc', port: { number: 80 } } },
          },
        ],
      },
    },
  ]);
});

test('seed batch/v1beta1 CronJob is stored as batch/v1 with upstream defaults', () => {
  const [cj] = loadFixture('seed000-08-cronjob.yaml');
  const { stored } = simulateCreate(cj!);
  assert.equal(stored.apiVersion, 'batch/v1');
  assert.equal(get(stored, 'spec', 'concurrencyPolicy'), 'Allow');
  assert.equal(get(stored, 'spec', 'successfulJobsHistoryLimit'), 3);
  assert.equal(get(stored, 'spec', 'failedJobsHistoryLimit'), 1);
  assert.equal(get(stored, 'spec', 'suspend'), false);
  const containers = get(stored, 'spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers') as Record<
    string,
    unknown
  >[];
  assert.equal(containers[0]?.imagePullPolicy, 'Always');
  assert.equal(get(stored, 'spec', 'jobTemplate', 'spec', 'backoffLimit'), undefined);
});

test('seed ReplicationController with duplicate env keys keeps the last values, as kubectl reads it', () => {
  const [rc] = loadFixture('seed000-01-replicationcontroller.yaml');
  const { stored } = simulateCreate(rc!);
  const env = (get(stored, 'spec', 'template', 'spec', 'containers') as { env: unknown }[])[0]?.env;
  assert.deepEqual(env, [{ name: 'zhangsan', value: '123' }]);
  assert.deepEqual(get(stored, 'spec', 'selector'), { app: 'nginx' });
  assert.deepEqual(stored.metadata.labels, { app: 'nginx' });
});
