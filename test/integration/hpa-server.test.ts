// The autoscaler end to end in `k8ts server --runtime fake`: the controller manager's
// horizontalpodautoscaling controller reads pod usage from the API server's own metrics.k8s.io
// (the simulated containers use what the fake.k8ts.io/cpu-usage annotation says) under its own
// RBAC identity, and `kubectl autoscale` is all a user does. Slow by nature (the metrics scrape
// every 10 s and the autoscaler syncs every 15 s), so it checks one scale-up and the table.
import '../support/kubectl-cache.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../support/eventually.js';
import { startServer, type TestServer } from '../support/k8ts-server.js';

const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {fake.k8ts.io/cpu-usage: 180m}
    spec:
      containers:
      - name: app
        image: nginx
        resources: {requests: {cpu: 200m}}
`;

describe('kubectl autoscale on k8ts server with the fake runtime', { timeout: 150_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ agent: true, extraArgs: ['--runtime', 'fake'] });
    await server.kubectlOk(['apply', '-f', '-'], { input: DEPLOYMENT });
    await server.kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  });

  after(async () => {
    await server?.stop();
  });

  test('90% of request against a 50% target scales the Deployment up; get hpa shows it', async () => {
    await server.kubectlOk(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=3']);
    const replicas = await eventually(
      'the autoscaler scales web up',
      async () => {
        const out = await server.kubectlOk(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']);
        return Number(out) > 1 ? Number(out) : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
    assert.ok(replicas >= 2 && replicas <= 3, `replicas ${replicas}`);
    const events = await server.kubectlOk([
      'get',
      'events',
      '--field-selector',
      'reason=SuccessfulRescale',
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    assert.match(
      events,
      /New size: [23]; reason: cpu resource utilization \(percentage of request\) above target/,
    );
    const row = await eventually(
      'hpa table with the current utilization and replicas',
      async () => {
        const out = await server.kubectlOk(['get', 'hpa', 'web', '--no-headers']);
        // REPLICAS is status.currentReplicas: the count seen at the last sync (after the rescale, next sync).
        return /^web\s+Deployment\/web\s+cpu: 90%\/50%\s+1\s+3\s+[23]\s+/.test(out) ? out : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    assert.match(row, /^web\s+Deployment\/web\s+cpu: 90%\/50%\s+1\s+3\s+[23]\s+/);
  });
});
