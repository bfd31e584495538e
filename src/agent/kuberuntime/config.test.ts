import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ConfigMap, Pod, Secret } from '../../api/generated/types.js';
import { containerConfig, linuxResources, oomScoreAdj } from './container.js';
import {
  buildEnv,
  ContainerConfigError,
  expandVars,
  resourceFieldValue,
  type PodObjectSource,
} from './env.js';
import { authFromSecrets, defaultPullPolicy } from './images.js';
import { parseResolvConf, podDnsConfig, sandboxConfig } from './sandbox.js';
import { VolumeError, VolumeManager, writeAtomically } from './volumes.js';

const capacity = { milliCPU: 2000, memoryBytes: 8 * 2 ** 30 };
const cm: ConfigMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cfg' },
  data: { mode: 'fast', 'a.txt': 'A' },
  binaryData: { 'b.bin': Buffer.from([1, 2]).toString('base64') },
};
const secret: Secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'sec' },
  data: { token: Buffer.from('t0k').toString('base64') },
};
const source: PodObjectSource = {
  configMap: (_ns, name) => Promise.resolve(name === 'cfg' ? cm : undefined),
  secret: (_ns, name) => Promise.resolve(name === 'sec' ? secret : undefined),
  serviceAccountToken: () => Promise.resolve('jwt'),
  serviceEnvironment: () => Promise.resolve({ KUBERNETES_SERVICE_HOST: '10.43.0.1', A: 'from-service' }),
};

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-1',
      namespace: 'shop',
      uid: 'uid-1',
      labels: { app: 'web' },
      annotations: { team: 'a' },
    },
    spec: { containers: [{ name: 'main', image: 'nginx:1.11' }], ...spec },
  };
}
const facts = { hostIP: '192.0.2.2', nodeName: 'n1', podIP: '10.42.0.7', podIPs: ['10.42.0.7'] };

describe('environment', () => {
  it('expands $(VAR) references like kubelet', () => {
    const vars = new Map([
      ['A', 'x'],
      ['B', 'y'],
    ]);
    assert.equal(expandVars('$(A)-$(B)', vars), 'x-y');
    assert.equal(expandVars('$$(A) $(C) $ $(', vars), '$(A) $(C) $ $(');
  });

  it('resolves values, field refs, resource refs, ConfigMaps and Secrets in order', async () => {
    const p = pod();
    const c = {
      name: 'main',
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
      env: [
        { name: 'A', value: 'one' },
        { name: 'B', value: '$(A)-two' },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'LBL', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'sec', key: 'token' } } },
        { name: 'OPT', valueFrom: { secretKeyRef: { name: 'nope', key: 'x', optional: true } } },
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      ],
    };
    const env = await buildEnv(p, c, facts, source, capacity);
    assert.equal(env[0]?.key, 'KUBERNETES_SERVICE_HOST');
    assert.deepEqual(Object.fromEntries(env.map((e) => [e.key, e.value])), {
      KUBERNETES_SERVICE_HOST: '10.43.0.1',
      CFG_mode: 'fast',
      'CFG_a.txt': 'A',
      A: 'one',
      B: 'one-two',
      NS: 'shop',
      LBL: 'web',
      IP: '10.42.0.7',
      MODE: 'fast',
      TOKEN: 't0k',
      CPU: '2',
    });
    await assert.rejects(
      buildEnv(
        p,
        { name: 'm', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'missing' } } }] },
        facts,
        source,
      ),
      ContainerConfigError,
    );
    await assert.rejects(
      buildEnv(
        p,
        { name: 'm', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] },
        facts,
        source,
      ),
      /secret "nope" not found/,
    );
  });

  it('computes resourceFieldRef with divisors, rounding up', () => {
    const p = pod({
      containers: [
        { name: 'main', resources: { limits: { cpu: '250m', memory: '100Mi' }, requests: { cpu: '100m' } } },
      ],
    });
    const c = p.spec!.containers[0];
    assert.equal(resourceFieldValue(p, c, { resource: 'limits.cpu', divisor: '1m' }, capacity), '250');
    assert.equal(resourceFieldValue(p, c, { resource: 'limits.cpu' }, capacity), '1');
    // A divisor left out is stored (and served) as "0", which kubelet reads as 1.
    assert.equal(resourceFieldValue(p, c, { resource: 'requests.cpu', divisor: '0' }, capacity), '1');
    assert.equal(
      resourceFieldValue(p, c, { resource: 'limits.memory', divisor: '0' }, capacity),
      '104857600',
    );
    assert.equal(resourceFieldValue(p, c, { resource: 'requests.cpu', divisor: '1m' }, capacity), '100');
    assert.equal(resourceFieldValue(p, c, { resource: 'limits.memory', divisor: '1Mi' }, capacity), '100');
    // No memory request: the API defaults it to the limit, and so does the agent.
    assert.equal(resourceFieldValue(p, c, { resource: 'requests.memory', divisor: '1Mi' }, capacity), '100');
  });
});

describe('sandbox config', () => {
  const dns = { clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local', resolvConf: '/nonexistent' };
  it('uses cluster DNS under ClusterFirst and merges spec.dnsConfig', () => {
    const d = podDnsConfig(
      pod({
        dnsConfig: {
          nameservers: ['1.1.1.1'],
          searches: ['extra.local'],
          options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
        },
      }),
      dns,
    );
    assert.deepEqual(d.servers, ['10.43.0.10', '1.1.1.1']);
    assert.deepEqual(d.searches, [
      'shop.svc.cluster.local',
      'svc.cluster.local',
      'cluster.local',
      'extra.local',
    ]);
    assert.deepEqual(d.options, ['ndots:2', 'edns0']);
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'] } }), dns), {
      servers: ['9.9.9.9'],
      searches: [],
      options: [],
    });
    assert.deepEqual(podDnsConfig(pod({ hostNetwork: true }), dns).servers, []);
  });

  it('parses resolv.conf', () => {
    assert.deepEqual(parseResolvConf('# c\nnameserver 10.0.0.1\nsearch a b\noptions ndots:1 rotate\n'), {
      servers: ['10.0.0.1'],
      searches: ['a', 'b'],
      options: ['ndots:1', 'rotate'],
    });
  });

  it('labels, annotates and maps host ports as kubelet does', () => {
    const p = pod({
      containers: [
        {
          name: 'main',
          ports: [
            { containerPort: 80, hostPort: 8080 },
            { containerPort: 53, protocol: 'UDP' },
          ],
        },
      ],
      hostname: 'custom',
    });
    const cfg = sandboxConfig(p, { attempt: 2, logsDir: '/logs', dns, nodeName: 'n1' });
    assert.deepEqual(cfg.metadata, { name: 'web-1', uid: 'uid-1', namespace: 'shop', attempt: 2 });
    assert.equal(cfg.hostname, 'custom');
    assert.equal(cfg.logDirectory, '/logs/shop_web-1_uid-1');
    assert.deepEqual(cfg.labels, {
      app: 'web',
      'io.kubernetes.pod.name': 'web-1',
      'io.kubernetes.pod.namespace': 'shop',
      'io.kubernetes.pod.uid': 'uid-1',
    });
    assert.equal(cfg.annotations?.team, 'a');
    assert.deepEqual(cfg.portMappings, [{ protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' }]);
    assert.deepEqual(cfg.linux?.securityContext?.namespaceOptions, {
      network: 'POD',
      pid: 'CONTAINER',
      ipc: 'POD',
    });
  });
});

describe('container config', () => {
  it('turns requests and limits into cgroup settings', () => {
    const p = pod({
      containers: [
        {
          name: 'main',
          resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '500m', memory: '2Gi' } },
        },
      ],
    });
    const r = linuxResources(p, p.spec!.containers[0]!, capacity);
    assert.equal(r.cpuShares, 256);
    assert.equal(r.cpuPeriod, 100000);
    assert.equal(r.cpuQuota, 50000);
    assert.equal(r.memoryLimitInBytes, 2 * 2 ** 30);
    assert.equal(r.oomScoreAdj, 1000 - Math.floor((1000 * 2 ** 30) / capacity.memoryBytes));
    const best = pod();
    assert.equal(linuxResources(best, best.spec!.containers[0]!, capacity).cpuShares, 2);
    assert.equal(oomScoreAdj(best, best.spec!.containers[0]!, capacity), 1000);
    const g = pod({
      containers: [
        {
          name: 'main',
          resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
        },
      ],
    });
    assert.equal(oomScoreAdj(g, g.spec!.containers[0]!, capacity), -997);
  });

  it('builds mounts, labels, annotations and the log path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-cc-'));
    try {
      const p = pod({
        containers: [
          {
            name: 'main',
            image: 'nginx:1.11',
            command: ['echo', '$(MSG)'],
            volumeMounts: [{ name: 'data', mountPath: '/data', subPath: 'sub', readOnly: true }],
          },
        ],
      });
      const cfg = containerConfig({
        pod: p,
        container: p.spec!.containers[0]!,
        type: 'app',
        attempt: 3,
        image: 'docker.io/library/nginx:1.11',
        env: [{ key: 'MSG', value: 'hi' }],
        volumes: new Map([['data', join(dir, 'data')]]),
        podDir: dir,
        capacity,
      });
      assert.deepEqual(cfg.metadata, { name: 'main', attempt: 3 });
      assert.deepEqual(cfg.command, ['echo', 'hi']);
      assert.equal(cfg.logPath, 'main/3.log');
      assert.equal(cfg.labels?.['io.kubernetes.container.name'], 'main');
      assert.equal(cfg.annotations?.['io.kubernetes.container.restartCount'], '3');
      assert.deepEqual(cfg.mounts?.[0], {
        containerPath: '/data',
        hostPath: join(dir, 'data', 'sub'),
        readonly: true,
        propagation: 'PROPAGATION_PRIVATE',
      });
      assert.equal(cfg.mounts?.[1]?.containerPath, '/dev/termination-log');
      assert.ok(existsSync(cfg.mounts?.[1]?.hostPath ?? ''));
      assert.throws(
        () =>
          containerConfig({
            pod: p,
            container: { name: 'x', volumeMounts: [{ name: 'missing', mountPath: '/m' }] },
            type: 'app',
            attempt: 0,
            image: 'i',
            env: [],
            volumes: new Map(),
            podDir: dir,
            capacity,
          }),
        /cannot find volume "missing"/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('images', () => {
  it('defaults the pull policy by tag', () => {
    assert.equal(defaultPullPolicy('nginx'), 'Always');
    assert.equal(defaultPullPolicy('nginx:latest'), 'Always');
    assert.equal(defaultPullPolicy('nginx:1.11'), 'IfNotPresent');
    assert.equal(defaultPullPolicy('localhost:5000/nginx'), 'Always');
    assert.equal(defaultPullPolicy('nginx@sha256:abc'), 'IfNotPresent');
  });

  it('finds credentials in dockerconfigjson secrets', () => {
    const cfg = {
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('bob:pw').toString('base64') },
        'reg.local:5000': { username: 'u', password: 'p' },
      },
    };
    const s: Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'pull' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(JSON.stringify(cfg)).toString('base64') },
    };
    assert.equal(authFromSecrets('docker.io/library/busybox:latest', [s])?.username, 'bob');
    assert.equal(authFromSecrets('docker.io/library/busybox:latest', [s])?.password, 'pw');
    assert.equal(authFromSecrets('reg.local:5000/app:1', [s])?.password, 'p');
    assert.equal(authFromSecrets('quay.io/x:1', [s]), undefined);
  });
});

describe('volumes', () => {
  it('writes ConfigMap, Secret, downward API and projected volumes atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-vol-'));
    try {
      const vm = new VolumeManager(dir, source);
      const p = pod({
        volumes: [
          {
            name: 'c',
            configMap: { name: 'cfg', items: [{ key: 'mode', path: 'conf/mode' }], defaultMode: 0o600 },
          },
          { name: 's', secret: { secretName: 'sec' } },
          {
            name: 'd',
            downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
          },
          {
            name: 'p',
            projected: {
              sources: [{ serviceAccountToken: { path: 'token' } }, { configMap: { name: 'cfg' } }],
            },
          },
          { name: 'e', emptyDir: {} },
          { name: 'h', hostPath: { path: join(dir, 'host'), type: 'DirectoryOrCreate' } },
        ],
      });
      const paths = await vm.prepare(p, facts);
      const c = paths.get('c') ?? '';
      assert.equal(readFileSync(join(c, 'conf', 'mode'), 'utf8'), 'fast');
      assert.equal(statSync(join(c, 'conf', 'mode')).mode & 0o777, 0o600);
      assert.equal(lstatSync(join(c, 'conf')).isSymbolicLink(), true);
      assert.equal(readlinkSync(join(c, 'conf')), '..data/conf');
      assert.equal(readFileSync(join(paths.get('s') ?? '', 'token'), 'utf8'), 't0k');
      assert.equal(readFileSync(join(paths.get('d') ?? '', 'labels'), 'utf8'), 'app="web"');
      assert.equal(readFileSync(join(paths.get('p') ?? '', 'token'), 'utf8'), 'jwt');
      assert.deepEqual(readFileSync(join(paths.get('p') ?? '', 'b.bin')), Buffer.from([1, 2]));
      assert.ok(statSync(paths.get('e') ?? '').isDirectory());
      assert.ok(statSync(join(dir, 'host')).isDirectory());
      // An update swaps ..data; an unchanged payload writes nothing.
      const before = readlinkSync(join(c, '..data'));
      assert.equal(
        writeAtomically(c, new Map([['conf/mode', { data: Buffer.from('fast'), mode: 0o600 }]])),
        false,
      );
      assert.equal(
        writeAtomically(c, new Map([['conf/mode', { data: Buffer.from('slow'), mode: 0o600 }]])),
        true,
      );
      assert.notEqual(readlinkSync(join(c, '..data')), before);
      assert.equal(readFileSync(join(c, 'conf', 'mode'), 'utf8'), 'slow');
      await assert.rejects(
        vm.prepare(pod({ volumes: [{ name: 'x', configMap: { name: 'missing' } }] }), facts),
        VolumeError,
      );
      await assert.rejects(
        vm.prepare(
          pod({ volumes: [{ name: 'x', hostPath: { path: join(dir, 'nofile'), type: 'File' } }] }),
          facts,
        ),
        /not a file/,
      );
      writeFileSync(join(dir, 'afile'), '');
      await vm.cleanup('uid-1');
      assert.equal(existsSync(vm.podDir('uid-1')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
