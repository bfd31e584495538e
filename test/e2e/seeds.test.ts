// Every manifest of the seed documents, applied verbatim with the real kubectl (default strict
// validation) and read back; and the seeds' kubectl commands that need no running containers.
// The manifests are the verbatim copies under src/api/kinds/testdata/ (seed 000 and the workload
// manifests of seed 001) and test/e2e/testdata/ (seed 001's ConfigMaps and Secrets).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { startServer, type TestServer } from '../support/k8ts-server.js';
import { eventually } from '../support/eventually.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const KINDS_TESTDATA = join(repoRoot, 'src/api/kinds/testdata');
const E2E_TESTDATA = join(repoRoot, 'test/e2e/testdata');
const seedFile = (name: string): string =>
  join(name.startsWith('seed000') || !/-(12|13|17|19)-/.test(name) ? KINDS_TESTDATA : E2E_TESTDATA, name);

type Json = Record<string, unknown>;

let server: TestServer;
let work: string;
before(async () => {
  server = await startServer();
  work = mkdtempSync(join(tmpdir(), 'k8ts-seeds-'));
});
after(async () => {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});

async function apply(file: string, ...extra: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await server.kubectl(['apply', '-f', seedFile(file), ...extra]);
  if (r.code !== 0) throw new Error(`kubectl apply -f ${file} failed:\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

async function getJson(...args: string[]): Promise<Json> {
  return JSON.parse(await server.kubectlOk(['get', ...args, '-o', 'json'])) as Json;
}

async function getYaml(...args: string[]): Promise<Json> {
  return parseYaml(await server.kubectlOk(['get', ...args, '-o', 'yaml'])) as Json;
}

function at(obj: unknown, ...path: (string | number)[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/**
 * Pods need the namespace's "default" ServiceAccount (the ServiceAccount admission plugin refuses
 * them otherwise). Upstream's serviceaccount controller creates it; give it a few seconds, and
 * create it as that controller would when no controller runs.
 */
async function ensureDefaultServiceAccount(namespace = 'default'): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const r = await server.kubectl(['get', 'serviceaccount', 'default', '-n', namespace]);
    if (r.code === 0) return;
    await new Promise((res) => setTimeout(res, 250));
  }
  const created = await server.kubectl(['create', 'serviceaccount', 'default', '-n', namespace]);
  if (created.code !== 0 && !created.stderr.includes('AlreadyExists'))
    throw new Error(`cannot create the default ServiceAccount: ${created.stderr}`);
}

function podSpecDefaults(spec: unknown): void {
  assert.equal(at(spec, 'restartPolicy'), 'Always');
  assert.equal(at(spec, 'dnsPolicy'), 'ClusterFirst');
  assert.equal(at(spec, 'schedulerName'), 'default-scheduler');
  assert.equal(at(spec, 'terminationGracePeriodSeconds'), 30);
  assert.deepEqual(at(spec, 'securityContext'), {});
  assert.equal(at(spec, 'containers', 0, 'terminationMessagePath'), '/dev/termination-log');
  assert.equal(at(spec, 'containers', 0, 'terminationMessagePolicy'), 'File');
}

test('seed 000: ReplicationController with a key given twice keeps the last value', async () => {
  const out = await apply('seed000-01-replicationcontroller.yaml');
  assert.equal(out.stdout.trim(), 'replicationcontroller/frontend created');
  const rc = await getYaml('rc', 'frontend');
  assert.equal(rc.apiVersion, 'v1');
  assert.equal(at(rc, 'spec', 'replicas'), 3);
  assert.deepEqual(at(rc, 'spec', 'selector'), { app: 'nginx' });
  assert.deepEqual(at(rc, 'metadata', 'labels'), { app: 'nginx' });
  const c = at(rc, 'spec', 'template', 'spec', 'containers', 0);
  assert.deepEqual(at(c, 'env'), [{ name: 'zhangsan', value: '123' }]);
  assert.equal(at(c, 'imagePullPolicy'), 'IfNotPresent');
  assert.deepEqual(at(c, 'ports'), [{ containerPort: 80, protocol: 'TCP' }]);
  podSpecDefaults(at(rc, 'spec', 'template', 'spec'));
});

test('seed 000: ReplicaSet, DaemonSet, Job and Pod get upstream defaults', async () => {
  assert.equal((await apply('seed000-02-replicaset.yaml')).stdout.trim(), 'replicaset.apps/frontend created');
  const rs = await getYaml('rs', 'frontend');
  assert.deepEqual(at(rs, 'spec', 'selector'), { matchLabels: { tier: 'frontend' } });
  assert.equal(at(rs, 'spec', 'template', 'spec', 'containers', 0, 'env', 0, 'value'), 'dns');
  podSpecDefaults(at(rs, 'spec', 'template', 'spec'));

  assert.equal(
    (await apply('seed000-06-daemonset.yaml')).stdout.trim(),
    'daemonset.apps/deamonset-example created',
  );
  const ds = await getYaml('ds', 'deamonset-example');
  assert.deepEqual(at(ds, 'spec', 'updateStrategy'), {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
  });
  assert.equal(at(ds, 'spec', 'revisionHistoryLimit'), 10);
  assert.deepEqual(at(ds, 'metadata', 'labels'), { app: 'daemonset' });

  assert.equal((await apply('seed000-07-job.yaml')).stdout.trim(), 'job.batch/pi created');
  const job = await getYaml('job', 'pi');
  assert.equal(at(job, 'spec', 'completions'), 6);
  assert.equal(at(job, 'spec', 'parallelism'), 2);
  assert.equal(at(job, 'spec', 'backoffLimit'), 6);
  assert.equal(at(job, 'spec', 'completionMode'), 'NonIndexed');
  assert.equal(at(job, 'spec', 'suspend'), false);
  assert.equal(at(job, 'spec', 'template', 'spec', 'restartPolicy'), 'Never');
  const uid = at(job, 'metadata', 'uid') as string;
  assert.equal(at(job, 'spec', 'selector', 'matchLabels', 'batch.kubernetes.io/controller-uid'), uid);
  assert.equal(at(job, 'spec', 'template', 'metadata', 'labels', 'job-name'), 'pi');
  // An image with a tag other than latest is pulled only if not present.
  assert.equal(at(job, 'spec', 'template', 'spec', 'containers', 0, 'imagePullPolicy'), 'IfNotPresent');

  await ensureDefaultServiceAccount();
  assert.equal((await apply('seed000-09-pod.yaml')).stdout.trim(), 'pod/myapp-pod created');
  const pod = await getYaml('pod', 'myapp-pod');
  assert.deepEqual(
    (at(pod, 'spec', 'initContainers') as Json[]).map((c) => c.name),
    ['init-myservice', 'init-mydb'],
  );
  assert.deepEqual(at(pod, 'spec', 'containers', 0, 'command'), [
    'sh',
    '-c',
    'echo The app is running! && sleep 3600',
  ]);
  podSpecDefaults(at(pod, 'spec'));
  assert.equal(at(pod, 'status', 'phase'), 'Pending');
  assert.equal(at(pod, 'status', 'qosClass'), 'BestEffort');

  const svc = await apply('seed000-10-service-service.yaml');
  assert.equal(svc.stdout.trim(), 'service/myservice created\nservice/mydb created');
  const mydb = await getYaml('svc', 'mydb');
  assert.deepEqual(at(mydb, 'spec', 'ports'), [{ protocol: 'TCP', port: 80, targetPort: 9377 }]);
  assert.equal(at(mydb, 'spec', 'type'), 'ClusterIP');
  assert.equal(at(mydb, 'spec', 'sessionAffinity'), 'None');
  assert.match(String(at(mydb, 'spec', 'clusterIP')), /^\d+\.\d+\.\d+\.\d+$/);
});

test('seed 000: Service and Deployment together; Deployment strategy defaults to RollingUpdate 25%/25%', async () => {
  const out = await apply('seed000-04-service-deployment.yaml');
  assert.equal(out.stdout.trim(), 'service/myapp created\ndeployment.apps/myapp-deploy created');
  const svc = await getYaml('svc', 'myapp');
  assert.deepEqual(at(svc, 'spec', 'selector'), { app: 'myapp', release: 'stabel' });
  assert.deepEqual(at(svc, 'spec', 'ports'), [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }]);
  assert.deepEqual(at(svc, 'spec', 'ipFamilies'), ['IPv4']);
  assert.equal(at(svc, 'spec', 'ipFamilyPolicy'), 'SingleStack');
  assert.equal(at(svc, 'spec', 'internalTrafficPolicy'), 'Cluster');
  const dep = await getYaml('deploy', 'myapp-deploy');
  assert.deepEqual(at(dep, 'spec', 'strategy'), {
    type: 'RollingUpdate',
    rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
  });
  assert.equal(at(dep, 'spec', 'revisionHistoryLimit'), 10);
  assert.equal(at(dep, 'spec', 'progressDeadlineSeconds'), 600);
  assert.equal(at(dep, 'spec', 'replicas'), 3);
  assert.equal(at(dep, 'metadata', 'generation'), 1);
  assert.deepEqual(at(dep, 'spec', 'template', 'spec', 'containers', 0, 'ports'), [
    { name: 'http', containerPort: 80, protocol: 'TCP' },
  ]);
});

test('seed 000: the extensions/v1beta1 Deployment with a resourceVersion is created (kubectl drops it)', async () => {
  const out = await apply('seed000-03-deployment.yaml');
  assert.equal(out.stdout.trim(), 'deployment.extensions/nginx-deployment created');
  assert.match(
    out.stderr,
    /Warning: extensions\/v1beta1 Deployment is deprecated in v1.9\+, unavailable in v1.16\+; use apps\/v1 Deployment/,
  );
  const dep = await getJson('deployments.v1.apps', 'nginx-deployment');
  assert.equal(dep.apiVersion, 'apps/v1');
  assert.notEqual(at(dep, 'metadata', 'resourceVersion'), '100593');
  assert.equal(at(dep, 'spec', 'revisionHistoryLimit'), 4);
  assert.equal(at(dep, 'spec', 'progressDeadlineSeconds'), 2147483647);
  assert.deepEqual(at(dep, 'spec', 'strategy'), {
    type: 'RollingUpdate',
    rollingUpdate: { maxSurge: 1, maxUnavailable: 1 },
  });
  // Applied again, the manifest's resourceVersion goes into kubectl's patch as a precondition and
  // no longer matches: upstream's conflict.
  const again = await server.kubectl(['apply', '-f', seedFile('seed000-03-deployment.yaml')]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /Error from server \(Conflict\): error when applying patch:/);
  assert.match(
    again.stderr,
    /Operation cannot be fulfilled on deployments.extensions "nginx-deployment": the object has been modified; please apply your changes to the latest version and try again/,
  );
  // kubectl create clears it too (its create helper empties resourceVersion before POSTing)…
  await server.kubectlOk(['delete', 'deployment', 'nginx-deployment']);
  const created = await server.kubectl(['create', '-f', seedFile('seed000-03-deployment.yaml')]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout.trim(), 'deployment.extensions/nginx-deployment created');
  // …so only a client that sends it gets upstream's storage error.
  await server.kubectlOk(['delete', 'deployment', 'nginx-deployment']);
  const raw = join(work, 'with-rv.json');
  writeFileSync(raw, JSON.stringify(parseYaml(readFileSync(seedFile('seed000-03-deployment.yaml'), 'utf8'))));
  const refused = await server.kubectl([
    'create',
    '--raw',
    '/apis/extensions/v1beta1/namespaces/default/deployments',
    '-f',
    raw,
  ]);
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stderr,
    /Error from server: resourceVersion should not be set on objects to be created/,
  );
});

test('seed 000: Deployment, Service and Ingress in extensions/v1beta1 and the v1beta1 CronJob', async () => {
  const out = await apply('seed000-05-deployment-service-ingress.yaml');
  assert.equal(
    out.stdout.trim(),
    'deployment.extensions/nginx-dm created\nservice/nginx-svc created\ningress.extensions/nginx-test created',
  );
  assert.match(
    out.stderr,
    /Warning: extensions\/v1beta1 Ingress is deprecated in v1.14\+, unavailable in v1.22\+; use networking.k8s.io\/v1 Ingress/,
  );
  const dep = await getYaml('deployment', 'nginx-dm');
  assert.deepEqual(at(dep, 'spec', 'selector'), { matchLabels: { name: 'nginx' } });
  const ing = await getJson('ingress', 'nginx-test');
  assert.equal(ing.apiVersion, 'networking.k8s.io/v1');
  assert.deepEqual(at(ing, 'spec', 'rules', 0, 'http', 'paths', 0), {
    path: '/',
    pathType: 'ImplementationSpecific',
    backend: { service: { name: 'nginx-svc', port: { number: 80 } } },
  });

  const cj = await apply('seed000-08-cronjob.yaml');
  assert.equal(cj.stdout.trim(), 'cronjob.batch/hello created');
  assert.match(
    cj.stderr,
    /Warning: batch\/v1beta1 CronJob is deprecated in v1.21\+, unavailable in v1.25\+; use batch\/v1 CronJob/,
  );
  const cron = await getYaml('cronjob', 'hello');
  assert.equal(cron.apiVersion, 'batch/v1');
  assert.equal(at(cron, 'spec', 'schedule'), '*/1 * * * *');
  assert.equal(at(cron, 'spec', 'concurrencyPolicy'), 'Allow');
  assert.equal(at(cron, 'spec', 'suspend'), false);
  assert.equal(at(cron, 'spec', 'successfulJobsHistoryLimit'), 3);
  assert.equal(at(cron, 'spec', 'failedJobsHistoryLimit'), 1);
  assert.equal(at(cron, 'spec', 'jobTemplate', 'spec', 'template', 'spec', 'restartPolicy'), 'OnFailure');
  const table = await server.kubectlOk(['get', 'cronjob', 'hello']);
  assert.match(
    table,
    /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\nhello\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+\d+\s+\S+\s+\d+s\n$/,
  );
});

test('seed 001: the mis-indented Ingress is refused by kubectl with the line; the corrected one is served', async () => {
  const broken = await server.kubectl(['apply', '-f', seedFile('seed001-11-ingress.yaml')]);
  assert.notEqual(broken.code, 0);
  assert.match(
    broken.stderr,
    /error: error parsing .*seed001-11-ingress.yaml: error converting YAML to JSON: yaml: line 15: did not find expected key/,
  );
  const fixed = await apply('seed001-11-ingress-fixed.yaml');
  assert.equal(fixed.stdout.trim(), 'ingress.networking.k8s.io/test-ingress created');
  assert.match(
    fixed.stderr,
    /Warning: networking.k8s.io\/v1beta1 Ingress is deprecated in v1.19\+, unavailable in v1.22\+; use networking.k8s.io\/v1 Ingress/,
  );
  const ing = await getJson('ingress', 'test-ingress');
  assert.deepEqual(
    (at(ing, 'spec', 'rules', 0, 'http', 'paths') as Json[]).map((p) => [
      p.path,
      at(p, 'backend', 'service', 'name'),
    ]),
    [
      ['/cart', 'cart'],
      ['/payment', 'payment'],
    ],
  );
  assert.equal(at(ing, 'metadata', 'annotations', 'nginx.ingress.kubernetes.io/rewrite-target'), '/');
});

test('seed 001: ConfigMaps and Secrets', async () => {
  assert.equal((await apply('seed001-12-configmap.yaml')).stdout.trim(), 'configmap/game-demo created');
  const cm = await getYaml('configmap', 'game-demo');
  assert.deepEqual(at(cm, 'data'), {
    player_initial_lives: '3',
    ui_properties_file_name: 'user-interface.properties',
    'game.properties': 'enemy.types=aliens,monsters\nplayer.maximum-lives=5    \n',
    'user-interface.properties': 'color.good=purple\ncolor.bad=yellow\nallow.textmode=true    \n',
  });
  assert.equal(
    (await apply('seed001-13-secret.yaml')).stdout.trim(),
    'secret/bootstrap-token-5emitj created',
  );
  // The seed's token expired in 2020: the tokencleaner deletes it, as in a kubeadm or k3s cluster.
  await eventually(
    'the expired bootstrap token deleted',
    async () => {
      const r = await server.kubectl(['get', 'secret', '-n', 'kube-system', 'bootstrap-token-5emitj']);
      return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  );

  assert.equal((await apply('seed001-17-secret.yaml')).stdout.trim(), 'secret/mongodb-secret created');
  const secret = await getYaml('secret', 'mongodb-secret');
  assert.equal(secret.type, 'Opaque');
  assert.equal(Buffer.from(String(at(secret, 'data', 'mongo-root-username')), 'base64').toString(), 'mathxh');
  assert.equal(
    Buffer.from(String(at(secret, 'data', 'mongo-root-password')), 'base64').toString(),
    'mathxh1234',
  );
  assert.match(
    await server.kubectlOk(['get', 'secret', 'mongodb-secret']),
    /^NAME\s+TYPE\s+DATA\s+AGE\nmongodb-secret\s+Opaque\s+2\s+\d+s\n$/,
  );

  assert.equal(
    (await apply('seed001-19-configmap.yaml')).stdout.trim(),
    'configmap/mongodb-configmap created',
  );
  assert.match(
    await server.kubectlOk(['get', 'configmap', 'mongodb-configmap']),
    /mongodb-configmap\s+1\s+\d+s/,
  );
});

test('seed 001: the nginx Deployment applied and updated; the mongo demo in its own namespace', async () => {
  assert.equal(
    (await server.kubectlOk(['create', 'namespace', 'mathxh'])).trim(),
    'namespace/mathxh created',
  );
  assert.match(await server.kubectlOk(['get', 'namespace']), /mathxh\s+Active\s+\d+s/);
  const ns = ['--namespace=mathxh'];
  assert.equal(
    (await apply('seed001-14-deployment.yaml', ...ns)).stdout.trim(),
    'deployment.apps/nginx-deployment created',
  );
  assert.equal(
    (await apply('seed001-15-deployment.yaml', ...ns)).stdout.trim(),
    'deployment.apps/nginx-deployment configured',
  );
  const nginx = await getJson('deployment', 'nginx-deployment', ...ns);
  assert.equal(at(nginx, 'spec', 'template', 'spec', 'containers', 0, 'image'), 'nginx:1.16');
  assert.equal(at(nginx, 'metadata', 'generation'), 2);
  assert.deepEqual(at(nginx, 'spec', 'strategy', 'rollingUpdate'), {
    maxSurge: '25%',
    maxUnavailable: '25%',
  });

  assert.equal(
    (await apply('seed001-16-deployment.yaml', ...ns)).stdout.trim(),
    'deployment.apps/mongodb-deployment created',
  );
  // The notes then put the Deployment and its Service in one file and apply it again.
  const combined = join(work, 'mongodb-deploy.yaml');
  writeFileSync(
    combined,
    `${readFileSync(seedFile('seed001-16-deployment.yaml'), 'utf8')}\n---\n${readFileSync(seedFile('seed001-18-service.yaml'), 'utf8')}`,
  );
  const both = await server.kubectlOk(['apply', '-f', combined, ...ns]);
  assert.equal(both.trim(), 'deployment.apps/mongodb-deployment unchanged\nservice/mongodb-service created');
  const mongo = await getYaml('deployment', 'mongodb-deployment', ...ns);
  assert.deepEqual(at(mongo, 'spec', 'template', 'spec', 'containers', 0, 'env', 0, 'valueFrom'), {
    secretKeyRef: { name: 'mongodb-secret', key: 'mongo-root-username' },
  });
  const describe = await server.kubectlOk(['describe', 'service', 'mongodb-service', ...ns]);
  assert.match(describe, /Selector:\s+app=mongodb/);
  assert.match(describe, /Type:\s+ClusterIP/);
  assert.match(describe, /IP Family Policy:\s+SingleStack/);
  assert.match(describe, /TargetPort:\s+27017\/TCP/);

  assert.equal(
    (await apply('seed001-20-deployment.yaml', ...ns)).stdout.trim(),
    'deployment.apps/mongodb-express-deployment created',
  );
  const express = await getYaml('deployment', 'mongodb-express-deployment', ...ns);
  assert.deepEqual(at(express, 'spec', 'template', 'spec', 'containers', 0, 'env', 2, 'valueFrom'), {
    configMapKeyRef: { name: 'mongodb-configmap', key: 'database_url' },
  });
  assert.equal(at(express, 'spec', 'template', 'spec', 'containers', 0, 'imagePullPolicy'), 'Always');

  assert.equal(
    (await apply('seed001-21-service.yaml', ...ns)).stdout.trim(),
    'service/mongodb-express-service created',
  );
  const lb = await getYaml('service', 'mongodb-express-service', ...ns);
  assert.equal(at(lb, 'spec', 'type'), 'LoadBalancer');
  assert.equal(at(lb, 'spec', 'ports', 0, 'nodePort'), 30000);
  assert.equal(at(lb, 'spec', 'externalTrafficPolicy'), 'Cluster');
  assert.equal(at(lb, 'spec', 'allocateLoadBalancerNodePorts'), true);
  const services = await server.kubectlOk(['get', 'service', ...ns]);
  assert.match(
    services,
    /mongodb-express-service\s+LoadBalancer\s+[\d.]+\s+<pending>\s+8081:30000\/TCP\s+\d+s/,
  );
  assert.match(services, /mongodb-service\s+ClusterIP\s+[\d.]+\s+<none>\s+27017\/TCP\s+\d+s/);
});

test("the seeds' kubectl commands: create deployment, get, expose, scale, set image, run, get all, configmap from a directory", async () => {
  assert.equal(
    (await server.kubectlOk(['create', 'deployment', 'nginx-deploy', '--image=nginx'])).trim(),
    'deployment.apps/nginx-deploy created',
  );
  const deployments = await server.kubectlOk(['get', 'deployments']);
  assert.match(deployments, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
  assert.match(deployments, /\nnginx-deploy\s+0\/1\s+\d+\s+0\s+\d+s\n/);
  const dep = await getJson('deployment', 'nginx-deploy');
  assert.deepEqual(at(dep, 'spec', 'selector'), { matchLabels: { app: 'nginx-deploy' } });
  assert.equal(at(dep, 'spec', 'template', 'spec', 'containers', 0, 'imagePullPolicy'), 'Always');

  assert.equal(
    (
      await server.kubectlOk([
        'expose',
        'deployment',
        'nginx-deploy',
        '--name=nginx-service',
        '--port=8080',
        '--target-port=80',
      ])
    ).trim(),
    'service/nginx-service exposed',
  );
  const svc = await getJson('service', 'nginx-service');
  assert.deepEqual(at(svc, 'spec', 'selector'), { app: 'nginx-deploy' });
  assert.deepEqual(at(svc, 'spec', 'ports'), [{ port: 8080, protocol: 'TCP', targetPort: 80 }]);
  assert.match(
    await server.kubectlOk(['get', 'svc', 'nginx-service']),
    /nginx-service\s+ClusterIP\s+[\d.]+\s+<none>\s+8080\/TCP/,
  );
  // Seed 003: kubectl edit svc from ClusterIP to NodePort; and back, which upstream accepts by
  // dropping the node port the edit left in place.
  const toType = (type: string): string => {
    const script = join(work, `to-${type}.sh`);
    writeFileSync(script, `#!/bin/sh\nsed -i 's/^  type: .*/  type: ${type}/' "$1"\n`, { mode: 0o755 });
    return script;
  };
  const editTo = async (type: string): Promise<string> =>
    (
      await server.kubectlOk(['edit', 'svc', 'nginx-service'], {
        env: { KUBE_EDITOR: toType(type), EDITOR: toType(type) },
      })
    ).trim();
  assert.equal(await editTo('NodePort'), 'service/nginx-service edited');
  assert.match(
    await server.kubectlOk(['get', 'svc', 'nginx-service']),
    /nginx-service\s+NodePort\s+[\d.]+\s+<none>\s+8080:3\d{4}\/TCP/,
  );
  assert.equal(await editTo('ClusterIP'), 'service/nginx-service edited');
  const back = await getJson('service', 'nginx-service');
  assert.deepEqual(at(back, 'spec', 'ports'), [{ port: 8080, protocol: 'TCP', targetPort: 80 }]);
  assert.equal(at(back, 'spec', 'externalTrafficPolicy'), undefined);

  assert.equal(
    (await server.kubectlOk(['scale', '--replicas=4', 'deployment', 'nginx-deploy'])).trim(),
    'deployment.apps/nginx-deploy scaled',
  );
  assert.equal(
    await server.kubectlOk(['get', 'deployment', 'nginx-deploy', '-o', 'jsonpath={.spec.replicas}']),
    '4',
  );
  assert.equal(
    (await server.kubectlOk(['set', 'image', 'deployment', 'nginx-deploy', 'nginx=nginx:1.9.1'])).trim(),
    'deployment.apps/nginx-deploy image updated',
  );
  const updated = await getJson('deployment', 'nginx-deploy');
  assert.equal(at(updated, 'spec', 'template', 'spec', 'containers', 0, 'image'), 'nginx:1.9.1');
  assert.equal(at(updated, 'metadata', 'generation'), 3);

  await ensureDefaultServiceAccount();
  assert.equal(
    (await server.kubectlOk(['run', 'nginx-dep', '--image=nginx:1.7.9', '--port=80'])).trim(),
    'pod/nginx-dep created',
  );
  const pod = await getJson('pod', 'nginx-dep');
  assert.deepEqual(at(pod, 'spec', 'containers', 0, 'ports'), [{ containerPort: 80, protocol: 'TCP' }]);
  assert.deepEqual(at(pod, 'metadata', 'labels'), { run: 'nginx-dep' });

  const all = await server.kubectlOk(['get', 'all']);
  for (const line of [
    /pod\/nginx-dep\s+0\/1\s+Pending\s+0\s+\d+s/,
    /service\/kubernetes\s+ClusterIP\s+[\d.]+\s+<none>\s+443\/TCP/,
    /service\/nginx-service\s+ClusterIP/,
    /deployment.apps\/nginx-deploy\s+0\/4\s+\d+\s+0\s+\d+s/,
    /replicationcontroller\/frontend\s+3\s+\d+\s+0\s+\d+s/,
    /replicaset.apps\/frontend\s+3\s+\d+\s+0\s+\d+s/,
    /daemonset.apps\/deamonset-example/,
    /job.batch\/pi/,
    /cronjob.batch\/hello/,
  ])
    assert.match(all, line);
  // Sections in discovery order, as upstream's: core (alphabetical), apps, batch (cronjobs before jobs).
  const sections = [...all.matchAll(/^NAME .*\n(\S+?)\//gm)].map((m) => m[1]);
  assert.deepEqual(sections, [
    'pod',
    'replicationcontroller',
    'service',
    'daemonset.apps',
    'deployment.apps',
    'replicaset.apps',
    'cronjob.batch',
    'job.batch',
  ]);

  const dir = join(work, 'configmap', 'kubectl');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'game.file'), 'version=1.17\nname=dave\nage=18\n');
  writeFileSync(join(dir, 'ui.properties'), 'level=2\ncolor=yellow\n');
  assert.equal(
    (await server.kubectlOk(['create', 'configmap', 'game-config', `--from-file=${dir}`])).trim(),
    'configmap/game-config created',
  );
  const cm = await getYaml('configmap', 'game-config');
  assert.deepEqual(at(cm, 'data'), {
    'game.file': 'version=1.17\nname=dave\nage=18\n',
    'ui.properties': 'level=2\ncolor=yellow\n',
  });

  assert.equal(
    (await server.kubectlOk(['delete', 'deployment', 'nginx-deploy'])).trim(),
    'deployment.apps "nginx-deploy" deleted',
  );
});

test('kubectl create deployment --port, set image and rollout undo: the first ReplicaSet comes back as revision 3', async () => {
  await server.kubectlOk([
    'create',
    'deployment',
    'undo-me',
    '--image=nginx:1.7.9',
    '--port=80',
    '--replicas=2',
  ]);
  // kubectl sends protobuf: Go's zero values of non-pointer fields are not stored, as upstream.
  const template = at(await getJson('deployment', 'undo-me'), 'spec', 'template', 'spec');
  assert.deepEqual(at(template, 'containers', 0, 'ports'), [{ containerPort: 80, protocol: 'TCP' }]);
  for (const absent of ['stdin', 'stdinOnce', 'tty'])
    assert.equal(at(template, 'containers', 0, absent), undefined, absent);
  for (const absent of ['hostNetwork', 'hostPID', 'hostIPC'])
    assert.equal(at(template, absent), undefined, absent);
  const spec = at(await getJson('deployment', 'undo-me'), 'spec');
  assert.equal(at(spec, 'paused'), undefined);
  assert.equal(at(spec, 'minReadySeconds'), undefined);

  const replicaSets = async (): Promise<Json[]> =>
    (at(await getJson('replicasets', '-l', 'app=undo-me'), 'items') as Json[]) ?? [];
  await eventually('the first ReplicaSet', async () =>
    (await replicaSets()).length === 1 ? true : undefined,
  );
  await server.kubectlOk(['set', 'image', 'deployment/undo-me', 'nginx=nginx:1.9.1']);
  await eventually('the second ReplicaSet', async () =>
    (await replicaSets()).length === 2 ? true : undefined,
  );
  assert.equal(
    (await server.kubectlOk(['rollout', 'undo', 'deployment/undo-me'])).trim(),
    'deployment.apps/undo-me rolled back',
  );
  const history = await eventually('revisions 2 and 3 in the history', async () => {
    const out = await server.kubectlOk(['rollout', 'history', 'deployment/undo-me']);
    return /\n3\s/.test(out) ? out : undefined;
  });
  assert.match(history, /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n\n$/);
  assert.equal((await replicaSets()).length, 2, 'no third ReplicaSet');
  const revisions = (await replicaSets())
    .map((rs) => [
      at(rs, 'spec', 'template', 'spec', 'containers', 0, 'image'),
      at(rs, 'metadata', 'annotations', 'deployment.kubernetes.io/revision'),
    ])
    .sort();
  assert.deepEqual(revisions, [
    ['nginx:1.7.9', '3'],
    ['nginx:1.9.1', '2'],
  ]);
  await server.kubectlOk(['delete', 'deployment', 'undo-me']);
});

test('kubectl create ingress with a named service port and TLS', async () => {
  assert.equal(
    (
      await server.kubectlOk([
        'create',
        'ingress',
        'named-port',
        '--rule=foo.com/=svc:http',
        '--rule=bar.com/*=svc2:80,tls=my-cert',
      ])
    ).trim(),
    'ingress.networking.k8s.io/named-port created',
  );
  const ing = await getJson('ingress', 'named-port');
  assert.deepEqual(at(ing, 'spec', 'rules', 0), {
    host: 'foo.com',
    http: {
      paths: [
        { path: '/', pathType: 'Exact', backend: { service: { name: 'svc', port: { name: 'http' } } } },
      ],
    },
  });
  assert.deepEqual(at(ing, 'spec', 'rules', 1, 'http', 'paths', 0, 'backend', 'service', 'port'), {
    number: 80,
  });
  assert.deepEqual(at(ing, 'spec', 'tls'), [{ hosts: ['bar.com'], secretName: 'my-cert' }]);
  assert.match(
    await server.kubectlOk(['get', 'ingress', 'named-port']),
    /\nnamed-port\s+<none>\s+foo\.com,bar\.com\s+80, 443\s+\d+s\n/,
  );
  await server.kubectlOk(['delete', 'ingress', 'named-port']);
});
