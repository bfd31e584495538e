// The scheduler inside `k8ts server`, seen through kubectl: a pod lands on the node that fits, and a
// pod that fits nowhere stays Pending with upstream's FailedScheduling message in `kubectl describe`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually as pollUntil } from '../support/eventually.js';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

const node = (name: string, cpu: string) => `
apiVersion: v1
kind: Node
metadata:
  name: ${name}
  labels: {kubernetes.io/hostname: ${name}}
status:
  capacity: {cpu: "${cpu}", memory: 8Gi, pods: "110"}
  allocatable: {cpu: "${cpu}", memory: 8Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
`;

/** The shared poll, with this file's default timeout and pace. */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> =>
  pollUntil(what, probe, { timeoutMs, intervalMs: 200 });

test('pods are bound to a node that fits, and an unfit pod gets the reason in describe', async () => {
  await server.kubectlOk(['create', '-f', '-'], { input: node('small', '1') + '---' + node('big', '8') });
  await server.kubectlOk([
    'run',
    'heavy',
    '--image=nginx',
    '--overrides={"spec":{"containers":[{"name":"heavy","image":"nginx","resources":{"requests":{"cpu":"2"}}}]}}',
  ]);
  const nodeName = await waitFor('heavy to be bound', async () => {
    const out = await server.kubectlOk(['get', 'pod', 'heavy', '-o', 'jsonpath={.spec.nodeName}']);
    return out === '' ? undefined : out;
  });
  assert.equal(nodeName, 'big');
  const condition = await server.kubectlOk([
    'get',
    'pod',
    'heavy',
    '-o',
    'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}',
  ]);
  assert.equal(condition, 'True');

  await server.kubectlOk([
    'run',
    'huge',
    '--image=nginx',
    '--overrides={"spec":{"containers":[{"name":"huge","image":"nginx","resources":{"requests":{"cpu":"64"}}}]}}',
  ]);
  const described = await waitFor('FailedScheduling', async () => {
    const out = await server.kubectlOk(['describe', 'pod', 'huge']);
    return out.includes('FailedScheduling') ? out : undefined;
  });
  assert.match(
    described,
    /0\/2 nodes are available: 2 Insufficient cpu\. preemption: 0\/2 nodes are available: 2 Preemption is not helpful for scheduling\./,
  );
  assert.equal(await server.kubectlOk(['get', 'pod', 'huge', '-o', 'jsonpath={.spec.nodeName}']), '');
});
