// managedFields bookkeeping benchmark: µs per updateManagedFields call for the Update writes that
// dominate the scheduler end-to-end run, against the code as it was at BASELINE_COMMIT.
//   pod-status:  a kubelet-style status update (pods/NAME/status: phase, conditions, containerStatuses,
//                podIP(s), startTime) of a pod whose creator sent a full spec and whose agent already
//                owns the status of an earlier update
//   lease-renew: a node Lease PUT changing spec.renewTime only, by the manager that owns it
//   deploy-spec: a Deployment spec update by a second manager taking over the image (and replicas)
//                from the creator, with a controller owning status
// Every op gets objects of its own (structured clones made outside the timed region, as each request
// decodes its objects afresh), and the pods differ by name and IP, so that nothing is shared between
// requests that would not be shared in a server. Figures are the median of rounds of DISTINCT ops.
// Baseline, honestly: the same bench source is compiled against the library code of BASELINE_COMMIT
// in a throwaway worktree (/tmp/mf-base, created on first use) and run in a child process right after
// the current code, on the same machine; the report shows both and the ratio. --no-baseline skips it;
// --json prints only the current code's figures (what the baseline child prints); --peek prints each
// case's resulting managedFields, to diff against the baseline's (they are identical).
// Run: npm run build && npm run bench:managed-fields
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../src/api/meta.js';
import { DefinitionRegistry } from '../src/api/schema-registry.js';
import type { UpdateManagedFieldsInput } from '../src/apiserver/patch/index.js';
import { updateManagedFields } from '../src/apiserver/patch/index.js';

const BASELINE_COMMIT = '76963bc';
const BASELINE_DIR = '/tmp/mf-base';
/** Distinct objects per case: more than any cache inside the code under test would keep. */
const DISTINCT = 1000;
const MIN_SECONDS = 1.5;
const CHUNK = 50;

const out = (line = ''): void => {
  process.stdout.write(line + '\n');
};

const schemas = DefinitionRegistry.loadBuiltin();
const T_CREATE = new Date('2026-03-01T10:00:00.000Z');
const T_FIRST = new Date('2026-03-01T10:00:02.000Z');
const T_NOW = new Date('2026-03-01T10:00:05.000Z');

type Input = Omit<UpdateManagedFieldsInput, 'old' | 'updated'>;

function stored(obj: KubeObject, uid: string): KubeObject {
  obj.metadata.uid = uid;
  obj.metadata.resourceVersion = '100';
  obj.metadata.creationTimestamp = '2026-03-01T10:00:00Z';
  // The server sets generation 1 on kinds with a spec, and bumps it when the spec changes.
  if (obj.spec !== undefined) obj.metadata.generation = 1;
  return obj;
}

/** The defaulted pod a client creates: one container with resources, ports, env and mounts. */
function podSpec(i: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `web-${i}`,
      namespace: 'default',
      labels: { app: 'web', tier: 'frontend' },
      annotations: { 'example.com/owner': 'team-a' },
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'registry.local/web:1.4.2',
          imagePullPolicy: 'IfNotPresent',
          args: ['--port=8080', '--log-level=info'],
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
          ],
          env: [
            { name: 'MODE', value: 'production' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
            { name: 'CACHE_SIZE', value: '256' },
          ],
          resources: {
            requests: { cpu: '100m', memory: '128Mi' },
            limits: { cpu: '500m', memory: '256Mi' },
          },
          volumeMounts: [
            { name: 'config', mountPath: '/etc/web', readOnly: true },
            { name: 'data', mountPath: '/var/lib/web' },
          ],
          readinessProbe: {
            httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' },
            periodSeconds: 10,
            timeoutSeconds: 1,
            successThreshold: 1,
            failureThreshold: 3,
          },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: 'web-config', defaultMode: 420 } },
        { name: 'data', emptyDir: {} },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
    },
  };
}

function podStatus(i: number, phase: 'Pending' | 'Running'): Record<string, unknown> {
  const running = phase === 'Running';
  const ip = `10.244.${(i >> 8) & 255}.${i & 255}`;
  const cond = (type: string, status: string): Record<string, unknown> => ({
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: running ? '2026-03-01T10:00:04Z' : '2026-03-01T10:00:01Z',
  });
  return {
    phase,
    conditions: [
      cond('PodReadyToStartContainers', running ? 'True' : 'False'),
      cond('Initialized', 'True'),
      cond('Ready', running ? 'True' : 'False'),
      cond('ContainersReady', running ? 'True' : 'False'),
      cond('PodScheduled', 'True'),
    ],
    hostIP: '172.18.0.2',
    hostIPs: [{ ip: '172.18.0.2' }],
    ...(running ? { podIP: ip, podIPs: [{ ip }] } : {}),
    startTime: '2026-03-01T10:00:01Z',
    containerStatuses: [
      {
        name: 'web',
        image: 'registry.local/web:1.4.2',
        imageID: running ? 'registry.local/web@sha256:0123456789abcdef' : '',
        containerID: running ? `containerd://${i.toString(16).padStart(64, '0')}` : undefined,
        ready: running,
        started: running,
        restartCount: 0,
        state: running
          ? { running: { startedAt: '2026-03-01T10:00:04Z' } }
          : { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
      },
    ],
    qosClass: 'Burstable',
  };
}

function withoutUndefined<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** A pod as stored after its create, the scheduler's binding and the agent's first status update. */
function podCase(i: number): { old: KubeObject; updated: KubeObject } {
  const input: Input = {
    manager: 'kubectl-create',
    operation: 'Update',
    apiVersion: 'v1',
    schemaRef: 'io.k8s.api.core.v1.Pod',
    schemas,
    now: T_CREATE,
  };
  const created = stored(updateManagedFields({ ...input, old: undefined, updated: podSpec(i) }), `pod-${i}`);
  (created.spec as Record<string, unknown>).nodeName = `node-${i % 50}`;
  created.status = { phase: 'Pending', qosClass: 'Burstable' };
  const pending = structuredClone(created);
  pending.status = withoutUndefined(podStatus(i, 'Pending'));
  const first = updateManagedFields({
    ...input,
    old: created,
    updated: pending,
    manager: 'k8ts-agent',
    subresource: 'status',
    now: T_FIRST,
    resetFields: [['spec']],
  });
  // What the status subresource hands over: the current object with the patched status.
  const running = structuredClone(first);
  running.status = withoutUndefined(podStatus(i, 'Running'));
  return { old: first, updated: running };
}

const POD_STATUS: Input = {
  manager: 'k8ts-agent',
  operation: 'Update',
  apiVersion: 'v1',
  subresource: 'status',
  schemaRef: 'io.k8s.api.core.v1.Pod',
  schemas,
  now: T_NOW,
  resetFields: [['spec']],
};

function lease(i: number, renew: string): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: `node-${i}`, namespace: 'kube-node-lease' },
    spec: {
      holderIdentity: `node-${i}`,
      leaseDurationSeconds: 40,
      renewTime: renew,
    },
  };
}

const LEASE: Input = {
  manager: 'k8ts-agent',
  operation: 'Update',
  apiVersion: 'coordination.k8s.io/v1',
  schemaRef: 'io.k8s.api.coordination.v1.Lease',
  schemas,
  now: T_NOW,
};

function leaseCase(i: number): { old: KubeObject; updated: KubeObject } {
  const created = stored(
    updateManagedFields({
      ...LEASE,
      now: T_CREATE,
      old: undefined,
      updated: lease(i, '2026-03-01T10:00:00.000000Z'),
    }),
    `lease-${i}`,
  );
  const renewed = lease(i, '2026-03-01T10:00:05.000000Z');
  renewed.metadata = { ...created.metadata, managedFields: undefined };
  delete renewed.metadata.managedFields;
  renewed.metadata.generation = 2;
  return { old: created, updated: renewed };
}

function deployment(i: number, image: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `api-${i}`, namespace: 'default', labels: { app: 'api' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'api' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: {
        metadata: { labels: { app: 'api' } },
        spec: {
          containers: [
            {
              name: 'api',
              image,
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              env: [{ name: 'MODE', value: 'production' }],
              resources: { requests: { cpu: '100m', memory: '64Mi' } },
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              imagePullPolicy: 'IfNotPresent',
            },
          ],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          securityContext: {},
          schedulerName: 'default-scheduler',
        },
      },
    },
  };
}

const DEPLOY: Input = {
  manager: 'kubectl-set',
  operation: 'Update',
  apiVersion: 'apps/v1',
  schemaRef: 'io.k8s.api.apps.v1.Deployment',
  schemas,
  now: T_NOW,
  resetFields: [['status']],
};

function deployCase(i: number): { old: KubeObject; updated: KubeObject } {
  const created = stored(
    updateManagedFields({
      ...DEPLOY,
      manager: 'kubectl-create',
      now: T_CREATE,
      old: undefined,
      updated: deployment(i, 'registry.local/api:1.0', 2),
    }),
    `deploy-${i}`,
  );
  const withStatus = structuredClone(created);
  withStatus.status = {
    observedGeneration: 1,
    replicas: 2,
    updatedReplicas: 2,
    readyReplicas: 2,
    availableReplicas: 2,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok' },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ok' },
    ],
  };
  const old = updateManagedFields({
    ...DEPLOY,
    manager: 'k8ts-controller-manager',
    subresource: 'status',
    now: T_FIRST,
    old: created,
    updated: withStatus,
    resetFields: [['spec']],
  });
  const next = deployment(i, 'registry.local/api:1.1', 3);
  next.metadata = { ...old.metadata };
  delete next.metadata.managedFields;
  next.metadata.generation = 2;
  next.status = old.status;
  return { old, updated: next };
}

interface CaseResult {
  name: string;
  ops: number;
  usPerOp: number;
}

function run(
  name: string,
  make: (i: number) => { old: KubeObject; updated: KubeObject },
  input: Input,
): CaseResult {
  const fixtures = Array.from({ length: DISTINCT }, (_, i) => make(i));
  // Clones are made in small chunks, so that they die young: the collector's work on them would
  // otherwise land in the timed loop and drown what is measured.
  const round = (): number => {
    let ns = 0n;
    for (let from = 0; from < fixtures.length; from += CHUNK) {
      const batch = fixtures.slice(from, from + CHUNK).map((f) => structuredClone(f));
      const start = process.hrtime.bigint();
      for (const f of batch) updateManagedFields({ ...input, old: f.old, updated: f.updated });
      ns += process.hrtime.bigint() - start;
    }
    return Number(ns) / 1e9;
  };
  round(); // warm-up: compile, caches of schema atoms
  // The median round: the machine is shared, and a mean would carry whatever else ran meanwhile.
  const rounds: number[] = [];
  let seconds = 0;
  while (seconds < MIN_SECONDS || rounds.length < 5) {
    const t = round();
    seconds += t;
    rounds.push((t / DISTINCT) * 1e6);
  }
  rounds.sort((a, b) => a - b);
  return { name, ops: rounds.length * DISTINCT, usPerOp: rounds[Math.floor(rounds.length / 2)]! };
}

function runAll(only?: string): CaseResult[] {
  const cases = [
    { name: 'pod-status', make: podCase, input: POD_STATUS },
    { name: 'lease-renew', make: leaseCase, input: LEASE },
    { name: 'deploy-spec', make: deployCase, input: DEPLOY },
  ];
  return cases.filter((c) => !only || c.name === only).map((c) => run(c.name, c.make, c.input));
}

/** Compiles this bench against BASELINE_COMMIT's library code and returns its figures. */
function baseline(): CaseResult[] {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  if (!existsSync(BASELINE_DIR)) {
    execFileSync('git', ['-C', repo, 'worktree', 'add', '--detach', BASELINE_DIR, BASELINE_COMMIT], {
      stdio: 'ignore',
    });
  }
  const modules = join(BASELINE_DIR, 'node_modules');
  if (!existsSync(modules)) symlinkSync(join(repo, 'node_modules'), modules);
  mkdirSync(join(BASELINE_DIR, 'bench'), { recursive: true });
  copyFileSync(join(repo, 'bench', 'managed-fields.ts'), join(BASELINE_DIR, 'bench', 'managed-fields.ts'));
  execFileSync(
    process.execPath,
    [
      join(repo, 'node_modules', 'typescript', 'bin', 'tsc'),
      '--target',
      'ES2022',
      '--module',
      'NodeNext',
      '--moduleResolution',
      'NodeNext',
      '--strict',
      '--skipLibCheck',
      '--types',
      'node',
      '--rootDir',
      BASELINE_DIR,
      '--outDir',
      join(BASELINE_DIR, 'dist'),
      join(BASELINE_DIR, 'bench', 'managed-fields.ts'),
    ],
    { stdio: 'inherit' },
  );
  const json = execFileSync(
    process.execPath,
    [join(BASELINE_DIR, 'dist', 'bench', 'managed-fields.js'), '--json'],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(json) as CaseResult[];
}

export { podCase, leaseCase, deployCase, POD_STATUS, LEASE, DEPLOY };
const args = process.argv.slice(2);
if (args.includes('--peek')) {
  for (const [make, input] of [
    [podCase, POD_STATUS],
    [leaseCase, LEASE],
    [deployCase, DEPLOY],
  ] as const) {
    const f = make(7);
    out(
      JSON.stringify(
        updateManagedFields({ ...input, old: f.old, updated: f.updated }).metadata.managedFields,
      ),
    );
  }
} else if (args.includes('--json')) {
  out(JSON.stringify(runAll(args[args.indexOf('--json') + 1])));
} else {
  out(
    `managedFields Update bookkeeping, µs per updateManagedFields call (${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)})`,
  );
  const now = runAll();
  const base = args.includes('--no-baseline') ? undefined : baseline();
  out(
    `${'case'.padEnd(14)}${'current'.padStart(12)}${base ? `${'baseline'.padStart(12)}${'speed-up'.padStart(10)}` : ''}`,
  );
  for (const c of now) {
    const b = base?.find((x) => x.name === c.name);
    out(
      `${c.name.padEnd(14)}${c.usPerOp.toFixed(1).padStart(12)}` +
        (b
          ? `${b.usPerOp.toFixed(1).padStart(12)}${`${(b.usPerOp / c.usPerOp).toFixed(2)}x`.padStart(10)}`
          : ''),
    );
  }
  if (base)
    out(`baseline: library code of ${BASELINE_COMMIT}, same bench source, compiled in ${BASELINE_DIR}`);
}
