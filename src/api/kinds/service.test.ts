import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorMessage } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { serviceResource } from './service.js';
import { simulateCreate } from './testing.js';

const NOW = new Date('2026-01-01T00:01:06Z');
function svc(spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject {
  const o: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec,
  };
  if (status) o.status = status;
  return o;
}
const msgs = (spec: Record<string, unknown>): string[] => simulateCreate(svc(spec)).messages.slice();

test('Service defaults', () => {
  const { stored, messages } = simulateCreate(svc({ selector: { app: 'web' }, ports: [{ port: 80 }] }));
  assert.deepEqual(messages, []);
  assert.deepEqual(stored.spec, {
    selector: { app: 'web' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    type: 'ClusterIP',
    sessionAffinity: 'None',
    internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
  assert.deepEqual(stored.status, { loadBalancer: {} });
  const lb = simulateCreate(
    svc({ type: 'LoadBalancer', ports: [{ port: 8081, targetPort: 8081, nodePort: 30000 }] }),
  ).stored.spec as Record<string, unknown>;
  assert.equal(lb.externalTrafficPolicy, 'Cluster');
  assert.equal(lb.allocateLoadBalancerNodePorts, true);
  const affinity = simulateCreate(svc({ sessionAffinity: 'ClientIP', ports: [{ port: 80 }] })).stored
    .spec as Record<string, unknown>;
  assert.deepEqual(affinity.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
});

test('Service validation', () => {
  assert.deepEqual(msgs({ selector: { app: 'web' } }), ['spec.ports: Required value']);
  assert.deepEqual(msgs({ clusterIP: 'None', selector: { app: 'web' } }), []);
  assert.deepEqual(msgs({ ports: [{ port: 0 }] }), [
    'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
  ]);
  assert.deepEqual(msgs({ ports: [{ port: 80 }, { port: 443 }] }), [
    'spec.ports[0].name: Required value',
    'spec.ports[1].name: Required value',
  ]);
  assert.deepEqual(
    msgs({
      ports: [
        { name: 'a', port: 80 },
        { name: 'a', port: 443 },
      ],
    }),
    ['spec.ports[1].name: Duplicate value: "a"'],
  );
  assert.deepEqual(msgs({ ports: [{ port: 80, protocol: 'ICMP' }] }), [
    'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
  ]);
  assert.deepEqual(msgs({ type: 'Magic', ports: [{ port: 80 }] }), [
    'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
  ]);
  assert.deepEqual(msgs({ ports: [{ port: 80, nodePort: 30080 }] }), [
    "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
  ]);
  assert.deepEqual(msgs({ type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }), [
    'spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
  ]);
  assert.deepEqual(msgs({ type: 'ExternalName' }), ['spec.externalName: Required value']);
  assert.deepEqual(msgs({ type: 'ExternalName', externalName: 'db.example.com' }), []);
  assert.deepEqual(msgs({ clusterIP: '10.0.0.300', ports: [{ port: 80 }] }), [
    'spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
  ]);
  assert.deepEqual(msgs({ sessionAffinity: 'Sticky', ports: [{ port: 80 }] }), [
    'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"',
  ]);
  assert.deepEqual(msgs({ externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }), [
    "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set when `type` is 'NodePort' or 'LoadBalancer'",
  ]);
});

test('Service updates keep allocated clusterIP and nodePorts, and refuse to change them', () => {
  const created = simulateCreate(svc({ type: 'NodePort', ports: [{ port: 80 }] })).stored;
  const s = created.spec as Record<string, unknown>;
  s.clusterIP = '10.96.0.10';
  s.clusterIPs = ['10.96.0.10'];
  (s.ports as Record<string, unknown>[])[0]!.nodePort = 31000;
  const applied = svc({ type: 'NodePort', ports: [{ port: 80 }] });
  serviceResource.strategy?.default?.(applied);
  serviceResource.strategy?.prepareForUpdate?.(applied, created);
  assert.equal((applied.spec as Record<string, unknown>).clusterIP, '10.96.0.10');
  assert.equal(
    ((applied.spec as Record<string, unknown>).ports as Record<string, unknown>[])[0]?.nodePort,
    31000,
  );
  assert.deepEqual(serviceResource.strategy?.validateUpdate?.(applied, created), []);
  const moved = structuredClone(created);
  (moved.spec as Record<string, unknown>).clusterIP = '10.96.0.11';
  (moved.spec as Record<string, unknown>).clusterIPs = ['10.96.0.11'];
  assert.deepEqual(
    (serviceResource.strategy?.validateUpdate?.(moved, created) ?? []).map(fieldErrorMessage),
    ['spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set'],
  );
});

test('Service type changes drop what only the old type used, unless the update changed it', () => {
  const created = simulateCreate(svc({ type: 'NodePort', ports: [{ port: 8080, targetPort: 80 }] })).stored;
  const s = created.spec as Record<string, unknown>;
  s.clusterIP = '10.96.0.10';
  s.clusterIPs = ['10.96.0.10'];
  (s.ports as Record<string, unknown>[])[0]!.nodePort = 31000;
  assert.equal(s.externalTrafficPolicy, 'Cluster');
  // kubectl edit / a merge patch of type only: the node port and the traffic policy stay in the body.
  const toClusterIP = structuredClone(created);
  (toClusterIP.spec as Record<string, unknown>).type = 'ClusterIP';
  serviceResource.strategy?.default?.(toClusterIP);
  serviceResource.strategy?.prepareForUpdate?.(toClusterIP, created);
  assert.deepEqual(serviceResource.strategy?.validateUpdate?.(toClusterIP, created), []);
  const after = toClusterIP.spec as Record<string, unknown>;
  assert.deepEqual(after.ports, [{ port: 8080, targetPort: 80, protocol: 'TCP' }]);
  assert.equal(after.externalTrafficPolicy, undefined);
  assert.equal(after.clusterIP, '10.96.0.10');

  // A node port the update asks for is the user's: it stays, and validation refuses it.
  const withNewPort = structuredClone(created);
  (withNewPort.spec as Record<string, unknown>).type = 'ClusterIP';
  ((withNewPort.spec as Record<string, unknown>).ports as Record<string, unknown>[])[0]!.nodePort = 31001;
  serviceResource.strategy?.prepareForUpdate?.(withNewPort, created);
  assert.deepEqual(
    (serviceResource.strategy?.validateUpdate?.(withNewPort, created) ?? []).map(fieldErrorMessage),
    ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
  );

  // To ExternalName: the cluster IPs and IP families go too.
  const toExternalName = structuredClone(created);
  Object.assign(toExternalName.spec as Record<string, unknown>, {
    type: 'ExternalName',
    externalName: 'example.com',
  });
  serviceResource.strategy?.prepareForUpdate?.(toExternalName, created);
  const ext = toExternalName.spec as Record<string, unknown>;
  for (const gone of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'externalTrafficPolicy'])
    assert.equal(ext[gone], undefined, gone);
});

test('Service table as kubectl shows it', () => {
  const cols = serviceResource.tableColumns ?? [];
  assert.deepEqual(
    cols.map((c) => `${c.name}:${c.priority}`),
    ['Name:0', 'Type:0', 'Cluster-IP:0', 'External-IP:0', 'Port(s):0', 'Age:0', 'Selector:1'],
  );
  const cluster = svc({
    type: 'ClusterIP',
    clusterIP: '10.110.27.119',
    clusterIPs: ['10.110.27.119'],
    ports: [{ port: 27017, protocol: 'TCP' }],
    selector: { app: 'mongodb' },
  });
  assert.deepEqual(
    cols.map((c) => c.cell(cluster, NOW)),
    ['web', 'ClusterIP', '10.110.27.119', '<none>', '27017/TCP', '66s', 'app=mongodb'],
  );
  const lb = svc(
    {
      type: 'LoadBalancer',
      clusterIPs: ['10.96.244.156'],
      ports: [{ port: 8081, nodePort: 30000, protocol: 'TCP' }],
    },
    { loadBalancer: {} },
  );
  assert.deepEqual(
    cols.slice(1, 5).map((c) => c.cell(lb, NOW)),
    ['LoadBalancer', '10.96.244.156', '<pending>', '8081:30000/TCP'],
  );
  const lbReady = { ...lb, status: { loadBalancer: { ingress: [{ ip: '192.168.49.2' }] } } };
  assert.equal(cols[3]?.cell(lbReady, NOW), '192.168.49.2');
  const headless = svc({ clusterIP: 'None', clusterIPs: ['None'], type: 'ClusterIP' });
  assert.deepEqual(
    cols.slice(2, 5).map((c) => c.cell(headless, NOW)),
    ['None', '<none>', '<none>'],
  );
  const ext = svc({ type: 'ExternalName', externalName: 'db.example.com' });
  assert.deepEqual(
    cols.slice(2, 4).map((c) => c.cell(ext, NOW)),
    ['<none>', 'db.example.com'],
  );
});
