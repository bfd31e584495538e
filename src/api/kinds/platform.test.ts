// Tests of the platform kinds: every default and rule, each refused with upstream's path and text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorMessage, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { builtinSchemas } from '../schema-registry.js';
import type { ResourceDescription } from '../types.js';
import { clusterRoleResource } from './clusterrole.js';
import { clusterRoleBindingResource } from './clusterrolebinding.js';
import { componentStatusResource } from './componentstatus.js';
import { configMapResource } from './configmap.js';
import { eventResource } from './event.js';
import { coreToEventsV1, eventsV1EventResource, eventsV1ToCore } from './events-v1.js';
import { builtinResources } from './index.js';
import { leaseResource } from './lease.js';
import { namespaceResource } from './namespace.js';
import { roleResource } from './role.js';
import { roleBindingResource } from './rolebinding.js';
import { secretResource } from './secret.js';
import { serviceAccountResource } from './serviceaccount.js';
import {
  localSubjectAccessReviewResource,
  selfSubjectAccessReviewResource,
  subjectAccessReviewResource,
} from './authorization.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const msgs = (errs: readonly FieldError[] | undefined): string[] => (errs ?? []).map(fieldErrorMessage);

function obj(
  apiVersion: string,
  kind: string,
  metadata: KubeObject['metadata'],
  rest: Record<string, unknown> = {},
): KubeObject {
  return { apiVersion, kind, metadata, ...rest };
}

function validate(d: ResourceDescription, o: KubeObject): string[] {
  return msgs(d.strategy?.validate?.(o));
}

function validateUpdate(d: ResourceDescription, o: KubeObject, old: KubeObject): string[] {
  return msgs(d.strategy?.validateUpdate?.(o, old));
}

function cells(d: ResourceDescription, o: KubeObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of d.tableColumns ?? []) out[c.name] = c.cell(o, NOW);
  return out;
}

function columns(d: ResourceDescription): string[] {
  return (d.tableColumns ?? []).map((c) => (c.priority > 0 ? `${c.name}*` : c.name));
}

// ---- the list as a whole ----

test('every description points at a generated schema with a matching group-version-kind', () => {
  const reg = builtinSchemas();
  const seen = new Set<string>();
  for (const d of builtinResources) {
    const key = `${d.group}/${d.version}/${d.plural}`;
    assert.ok(!seen.has(key), `duplicate ${key}`);
    seen.add(key);
    // Versions upstream 1.36 no longer serves (kept for old manifests) have no generated schema.
    if (d.conversion && reg.get(d.schemaRef) === undefined) continue;
    const schema = reg.get(d.schemaRef);
    assert.ok(schema, `${d.kind}: ${d.schemaRef} exists`);
    const gvks = schema['x-kubernetes-group-version-kind'] ?? [];
    assert.ok(
      gvks.some((g) => g.group === d.group && g.version === d.version && g.kind === d.kind),
      `${d.schemaRef} is ${d.group}/${d.version} ${d.kind}`,
    );
  }
});

// ---- Namespace ----

test('Namespace: create sets phase Active, the kubernetes finalizer and the name label', () => {
  const ns = obj(
    'v1',
    'Namespace',
    { name: 'team-a' },
    { spec: { finalizers: ['example.com/x'] }, status: { phase: 'Terminating' } },
  );
  namespaceResource.strategy?.prepareForCreate?.(ns);
  assert.deepEqual(ns.status, { phase: 'Active' });
  assert.deepEqual(ns.spec, { finalizers: ['example.com/x', 'kubernetes'] });
  assert.equal(ns.metadata.labels?.['kubernetes.io/metadata.name'], 'team-a');
  const bare = obj('v1', 'Namespace', { name: 'b' });
  namespaceResource.strategy?.default?.(bare);
  assert.deepEqual(bare.status, { phase: 'Active' });
});

test('Namespace: names are DNS labels; finalizers must be standard or qualified', () => {
  assert.deepEqual(
    validate(
      namespaceResource,
      obj('v1', 'Namespace', { name: 'ok' }, { spec: { finalizers: ['kubernetes'] } }),
    ),
    [],
  );
  assert.deepEqual(validate(namespaceResource, obj('v1', 'Namespace', { name: 'a.b' })), [
    'metadata.name: Invalid value: "a.b": must not contain dots',
  ]);
  assert.deepEqual(
    validate(namespaceResource, obj('v1', 'Namespace', { name: 'a' }, { spec: { finalizers: ['custom'] } })),
    [
      'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
    ],
  );
});

test('Namespace: updates keep spec.finalizers and status; status updates check the phase', () => {
  const old = obj(
    'v1',
    'Namespace',
    { name: 'a', resourceVersion: '1' },
    { spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } },
  );
  const next = obj(
    'v1',
    'Namespace',
    { name: 'a', resourceVersion: '1' },
    { spec: { finalizers: [] }, status: { phase: 'Terminating' } },
  );
  namespaceResource.strategy?.prepareForUpdate?.(next, old);
  assert.deepEqual(next.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(next.status, { phase: 'Active' });
  const bad = obj(
    'v1',
    'Namespace',
    { name: 'a', resourceVersion: '1' },
    { status: { phase: 'Terminating' } },
  );
  assert.deepEqual(msgs(namespaceResource.strategy?.validateStatusUpdate?.(bad, old)), [
    'status.phase: Invalid value: "Terminating": may only be \'Active\' if `deletionTimestamp` is empty',
  ]);
  const deleting = { ...old, metadata: { ...old.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } };
  const active = obj('v1', 'Namespace', { ...deleting.metadata }, { status: { phase: 'Active' } });
  assert.deepEqual(msgs(namespaceResource.strategy?.validateStatusUpdate?.(active, deleting)), [
    'status.phase: Invalid value: "Active": may only be \'Terminating\' if `deletionTimestamp` is not empty',
  ]);
});

test('Namespace: table and field selector', () => {
  const ns = obj(
    'v1',
    'Namespace',
    { name: 'a', creationTimestamp: '2024-05-01T11:00:00Z' },
    { status: { phase: 'Active' } },
  );
  assert.deepEqual(columns(namespaceResource), ['Name', 'Status', 'Age']);
  assert.deepEqual(cells(namespaceResource, ns), { Name: 'a', Status: 'Active', Age: '60m' });
  assert.equal(namespaceResource.fieldSelectors?.['status.phase']?.(ns), 'Active');
});

// ---- ConfigMap ----

test('ConfigMap: keys, duplicates between data and binaryData, total size', () => {
  const cm = (rest: Record<string, unknown>): KubeObject =>
    obj('v1', 'ConfigMap', { name: 'c', namespace: 'd' }, rest);
  assert.deepEqual(
    validate(configMapResource, cm({ data: { 'a.conf': 'x' }, binaryData: { b: 'AA==' } })),
    [],
  );
  assert.deepEqual(
    validate(configMapResource, cm({ data: { 'bad key': 'x', dup: 'y' }, binaryData: { dup: 'AA==' } })),
    [
      "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      'data[dup]: Invalid value: "dup": duplicate of key present in binaryData',
    ],
  );
  assert.deepEqual(validate(configMapResource, cm({ data: { big: 'x'.repeat(1024 * 1024 + 1) } })), [
    'Too long: may not be more than 1048576 bytes',
  ]);
});

test('ConfigMap: immutable once immutable is set', () => {
  const old = obj(
    'v1',
    'ConfigMap',
    { name: 'c', namespace: 'd', resourceVersion: '1' },
    { data: { a: '1' }, immutable: true },
  );
  const next = obj(
    'v1',
    'ConfigMap',
    { name: 'c', namespace: 'd', resourceVersion: '1' },
    { data: { a: '2' } },
  );
  assert.deepEqual(validateUpdate(configMapResource, next, old), [
    'immutable: Forbidden: field is immutable when `immutable` is set',
    'data: Forbidden: field is immutable when `immutable` is set',
  ]);
  const labelsOnly = obj(
    'v1',
    'ConfigMap',
    { name: 'c', namespace: 'd', resourceVersion: '1', labels: { x: 'y' } },
    { data: { a: '1' }, immutable: true },
  );
  assert.deepEqual(validateUpdate(configMapResource, labelsOnly, old), []);
});

test('ConfigMap: table counts data and binaryData keys', () => {
  assert.deepEqual(columns(configMapResource), ['Name', 'Data', 'Age']);
  const cm = obj(
    'v1',
    'ConfigMap',
    { name: 'c', creationTimestamp: '2024-05-01T11:59:00Z' },
    { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } },
  );
  assert.deepEqual(cells(configMapResource, cm), { Name: 'c', Data: 3, Age: '60s' });
});

// ---- Secret ----

test('Secret: type defaults to Opaque; stringData is merged into data and dropped', () => {
  const s = obj(
    'v1',
    'Secret',
    { name: 's', namespace: 'd' },
    { data: { a: 'b2xk', keep: 'eA==' }, stringData: { a: 'new', c: 'hé' } },
  );
  secretResource.strategy?.default?.(s);
  secretResource.strategy?.prepareForCreate?.(s);
  assert.equal(s.type, 'Opaque');
  assert.equal(s.stringData, undefined);
  assert.deepEqual(s.data, {
    a: Buffer.from('new').toString('base64'),
    keep: 'eA==',
    c: Buffer.from('hé').toString('base64'),
  });
  const u = obj('v1', 'Secret', { name: 's', namespace: 'd' }, { stringData: { x: 'y' } });
  secretResource.strategy?.prepareForUpdate?.(u, s);
  assert.deepEqual(u.data, { x: 'eQ==' });
});

test('Secret: per-type required keys', () => {
  const sec = (
    type: string,
    data: Record<string, string>,
    annotations?: Record<string, string>,
  ): KubeObject =>
    obj(
      'v1',
      'Secret',
      { name: 's', namespace: 'd', ...(annotations ? { annotations } : {}) },
      { type, data },
    );
  assert.deepEqual(validate(secretResource, sec('kubernetes.io/tls', {})), [
    'data[tls.crt]: Required value',
    'data[tls.key]: Required value',
  ]);
  assert.deepEqual(validate(secretResource, sec('kubernetes.io/basic-auth', { username: '' })), []);
  assert.deepEqual(validate(secretResource, sec('kubernetes.io/basic-auth', {})), [
    'data[username]: Required value',
    'data[password]: Required value',
  ]);
  assert.deepEqual(validate(secretResource, sec('kubernetes.io/ssh-auth', {})), [
    'data[ssh-privatekey]: Required value',
  ]);
  assert.deepEqual(validate(secretResource, sec('kubernetes.io/service-account-token', {})), [
    'metadata.annotations[kubernetes.io/service-account.name]: Required value',
  ]);
  assert.deepEqual(validate(secretResource, sec('kubernetes.io/dockerconfigjson', {})), [
    'data[.dockerconfigjson]: Required value',
  ]);
  const bad = validate(
    secretResource,
    sec('kubernetes.io/dockerconfigjson', { '.dockerconfigjson': Buffer.from('nope').toString('base64') }),
  );
  assert.equal(bad.length, 1);
  assert.match(bad[0] ?? '', /^data\[\.dockerconfigjson\]: Invalid value: "<secret contents redacted>": /);
  assert.deepEqual(validate(secretResource, sec('example.com/custom', { 'any.key': 'eA==' })), []);
  assert.deepEqual(validate(secretResource, sec('Opaque', { 'a/b': 'eA==' })).length, 1);
});

test('Secret: type is immutable, and data once immutable is set', () => {
  const old = obj(
    'v1',
    'Secret',
    { name: 's', namespace: 'd', resourceVersion: '1' },
    { type: 'Opaque', data: { a: 'eA==' }, immutable: true },
  );
  const next = obj(
    'v1',
    'Secret',
    { name: 's', namespace: 'd', resourceVersion: '1' },
    { type: 'kubernetes.io/ssh-auth', data: { 'ssh-privatekey': 'eA==' }, immutable: true },
  );
  assert.deepEqual(validateUpdate(secretResource, next, old), [
    'type: Invalid value: "kubernetes.io/ssh-auth": field is immutable',
    'data: Forbidden: field is immutable when `immutable` is set',
  ]);
});

test('Secret: table and type field selector', () => {
  assert.deepEqual(columns(secretResource), ['Name', 'Type', 'Data', 'Age']);
  const s = obj('v1', 'Secret', { name: 's' }, { type: 'Opaque', data: { a: 'eA==' } });
  assert.deepEqual(cells(secretResource, s), { Name: 's', Type: 'Opaque', Data: 1, Age: '<unknown>' });
  assert.equal(secretResource.fieldSelectors?.type?.(s), 'Opaque');
});

// ---- ServiceAccount ----

test('ServiceAccount: subdomain names, Secrets column', () => {
  assert.deepEqual(
    validate(serviceAccountResource, obj('v1', 'ServiceAccount', { name: 'build-bot', namespace: 'd' })),
    [],
  );
  assert.equal(
    validate(serviceAccountResource, obj('v1', 'ServiceAccount', { name: 'Build', namespace: 'd' })).length,
    1,
  );
  assert.deepEqual(columns(serviceAccountResource), ['Name', 'Secrets', 'Age']);
  assert.equal(
    cells(serviceAccountResource, obj('v1', 'ServiceAccount', { name: 'a' }, { secrets: [{ name: 'x' }] }))
      .Secrets,
    1,
  );
  const old = obj('v1', 'ServiceAccount', {
    name: 'a',
    namespace: 'd',
    resourceVersion: '1',
    labels: { 'x!': 'y' },
  });
  assert.equal(validateUpdate(serviceAccountResource, old, old).length, 1, 'duplicate label errors collapse');
});

// ---- core/v1 Event ----

const coreEvent = (rest: Record<string, unknown> = {}, ns = 'default'): KubeObject =>
  obj(
    'v1',
    'Event',
    { name: 'web.17a', namespace: ns, creationTimestamp: '2024-05-01T11:00:00Z' },
    {
      involvedObject: { kind: 'Pod', name: 'web', namespace: ns, fieldPath: 'spec.containers{web}' },
      reason: 'Pulled',
      message: ' Pulled image ',
      source: { component: 'kubelet', host: 'node1' },
      firstTimestamp: '2024-05-01T11:00:00Z',
      lastTimestamp: '2024-05-01T11:59:00Z',
      count: 3,
      type: 'Normal',
      ...rest,
    },
  );

test('Event: legacy validation only checks namespace agreement for old-style events', () => {
  assert.deepEqual(validate(eventResource, coreEvent()), []);
  assert.deepEqual(
    validate(eventResource, coreEvent({ involvedObject: { kind: 'Pod', name: 'x', namespace: 'other' } })),
    ['involvedObject.namespace: Invalid value: "other": does not match event.namespace'],
  );
  // Cluster-scoped objects' events may live in default.
  assert.deepEqual(validate(eventResource, coreEvent({ involvedObject: { kind: 'Node', name: 'n1' } })), []);
});

test('Event: new-style events (with eventTime) need the reporting fields', () => {
  const ev = coreEvent({ eventTime: '2024-05-01T11:00:00.000000Z', reason: '', action: '' });
  assert.deepEqual(validate(eventResource, ev), [
    'reportingComponent: Required value',
    'reportingComponent: Invalid value: "": name part must be non-empty',
    "reportingComponent: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    'reportingInstance: Required value',
    'action: Required value',
    'reason: Required value',
  ]);
  const long = coreEvent({
    eventTime: '2024-05-01T11:00:00.000000Z',
    reportingComponent: 'kubelet',
    reportingInstance: 'n',
    action: 'Pull',
    message: 'x'.repeat(1025),
  });
  assert.deepEqual(validate(eventResource, long), [
    'message: Invalid value: "": can have at most 1024 characters',
  ]);
});

test('Event: columns and cells as upstream prints them', () => {
  assert.deepEqual(columns(eventResource), [
    'Last Seen',
    'Type',
    'Reason',
    'Object',
    'Subobject*',
    'Source*',
    'Message',
    'First Seen*',
    'Count*',
    'Name*',
  ]);
  assert.deepEqual(cells(eventResource, coreEvent()), {
    'Last Seen': '60s',
    Type: 'Normal',
    Reason: 'Pulled',
    Object: 'pod/web',
    Subobject: 'spec.containers{web}',
    Source: 'kubelet, node1',
    Message: 'Pulled image',
    'First Seen': '60m',
    Count: 3,
    Name: 'web.17a',
  });
  const series = coreEvent({
    firstTimestamp: undefined,
    lastTimestamp: undefined,
    count: undefined,
    eventTime: '2024-05-01T11:50:00.000000Z',
    series: { count: 7, lastObservedTime: '2024-05-01T11:59:30.000000Z' },
    source: undefined,
    reportingComponent: 'ctrl',
    reportingInstance: 'i',
  });
  const c = cells(eventResource, series);
  assert.equal(c['Last Seen'], '30s');
  assert.equal(c['First Seen'], '10m');
  assert.equal(c.Count, 7);
  assert.equal(c.Source, 'ctrl, i');
  assert.equal(cells(eventResource, coreEvent({ count: 0 })).Count, 1);
});

test('Event: field selectors', () => {
  const ev = coreEvent({
    involvedObject: {
      kind: 'Pod',
      name: 'web',
      namespace: 'default',
      uid: 'u1',
      apiVersion: 'v1',
      resourceVersion: '9',
      fieldPath: 'f',
    },
  });
  const fs = eventResource.fieldSelectors ?? {};
  assert.deepEqual(Object.fromEntries(Object.entries(fs).map(([k, f]) => [k, f(ev)])), {
    'involvedObject.kind': 'Pod',
    'involvedObject.namespace': 'default',
    'involvedObject.name': 'web',
    'involvedObject.uid': 'u1',
    'involvedObject.apiVersion': 'v1',
    'involvedObject.resourceVersion': '9',
    'involvedObject.fieldPath': 'f',
    reason: 'Pulled',
    reportingComponent: '',
    source: 'kubelet',
    type: 'Normal',
  });
});

// ---- events.k8s.io/v1 Event ----

const v1Event = (rest: Record<string, unknown> = {}): KubeObject =>
  obj(
    'events.k8s.io/v1',
    'Event',
    { name: 'web.1', namespace: 'default' },
    {
      eventTime: '2024-05-01T11:00:00.000000Z',
      regarding: { kind: 'Pod', name: 'web', namespace: 'default' },
      reason: 'Started',
      note: 'Started container',
      action: 'Start',
      reportingController: 'example.com/ctrl',
      reportingInstance: 'ctrl-1',
      type: 'Normal',
      ...rest,
    },
  );

test('events.k8s.io/v1: converts to and from core/v1 losslessly', () => {
  const ev = v1Event({
    deprecatedCount: 2,
    deprecatedSource: { component: 'x' },
    series: { count: 2, lastObservedTime: '2024-05-01T11:00:01.000000Z' },
  });
  const core = eventsV1ToCore(ev);
  assert.equal(core.apiVersion, 'v1');
  assert.deepEqual(core.involvedObject, ev.regarding);
  assert.equal(core.message, 'Started container');
  assert.equal(core.reportingComponent, 'example.com/ctrl');
  assert.equal(core.count, 2);
  assert.deepEqual(coreToEventsV1(core), ev);
  assert.equal(eventsV1EventResource.conversion?.storageVersion, 'v1');
  assert.equal(eventsV1EventResource.conversion?.storageGroup, '');
});

test("events.k8s.io/v1: strict validation, with upstream's internal field names", () => {
  assert.deepEqual(validate(eventsV1EventResource, v1Event()), []);
  assert.deepEqual(
    validate(eventsV1EventResource, v1Event({ type: 'Bogus', deprecatedCount: 2, series: { count: 1 } })),
    [
      'series.count: Invalid value: "": should be at least 2',
      'series.lastObservedTime: Required value',
      'type: Invalid value: "": has invalid value: Bogus',
      'count: Invalid value: "": needs to be unset',
    ],
  );
  assert.deepEqual(
    validate(eventsV1EventResource, v1Event({ eventTime: undefined, reportingController: '' })).slice(0, 1),
    ['eventTime: Required value'],
  );
  assert.deepEqual(validate(eventsV1EventResource, v1Event({ reportingController: '' })).slice(0, 1), [
    'reportingController: Required value',
  ]);
  assert.deepEqual(
    validate(eventsV1EventResource, {
      ...v1Event(),
      metadata: { name: 'Bad_Name', namespace: 'default' },
    }).map((m) => m.split(':')[0]),
    ['metadata.name'],
  );
});

test('events.k8s.io/v1: updates may not change what the event says', () => {
  const old = v1Event();
  old.metadata.resourceVersion = '1';
  const next = v1Event({ note: 'changed', reason: 'Other' });
  next.metadata.resourceVersion = '1';
  assert.deepEqual(validateUpdate(eventsV1EventResource, next, old), [
    'reason: Invalid value: "Other": field is immutable',
    'message: Invalid value: "changed": field is immutable',
  ]);
});

test('events.k8s.io/v1: same columns, selectors by the new names', () => {
  assert.deepEqual(columns(eventsV1EventResource), columns(eventResource));
  const c = cells(eventsV1EventResource, v1Event());
  assert.equal(c.Object, 'pod/web');
  assert.equal(c.Message, 'Started container');
  assert.equal(c['Last Seen'], '60m');
  assert.equal(c.Source, 'example.com/ctrl, ctrl-1');
  assert.equal(eventsV1EventResource.fieldSelectors?.['regarding.name']?.(v1Event()), 'web');
  assert.equal(eventsV1EventResource.fieldSelectors?.reportingController?.(v1Event()), 'example.com/ctrl');
});

// ---- Lease ----

test('Lease: spec rules and the Holder column', () => {
  const lease = (spec: Record<string, unknown>): KubeObject =>
    obj('coordination.k8s.io/v1', 'Lease', { name: 'l', namespace: 'kube-system' }, { spec });
  assert.deepEqual(validate(leaseResource, lease({ holderIdentity: 'a', leaseDurationSeconds: 15 })), []);
  assert.deepEqual(
    validate(
      leaseResource,
      lease({ leaseDurationSeconds: 0, leaseTransitions: -1, strategy: 'Newest', preferredHolder: 'x' }),
    ),
    [
      'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
      'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
      'spec.strategy: Unsupported value: "Newest": supported values: "OldestEmulationVersion"',
    ],
  );
  assert.deepEqual(validate(leaseResource, lease({ preferredHolder: 'x' })), [
    'spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined',
  ]);
  assert.deepEqual(columns(leaseResource), ['Name', 'Holder', 'Age']);
  assert.equal(cells(leaseResource, lease({ holderIdentity: 'node-1' })).Holder, 'node-1');
});

// ---- RBAC ----

test('Role: path-segment names; rules need verbs and groups and resources; no URLs in namespaced rules', () => {
  const role = (name: string, rules: unknown[]): KubeObject =>
    obj('rbac.authorization.k8s.io/v1', 'Role', { name, namespace: 'd' }, { rules });
  assert.deepEqual(
    validate(roleResource, role('system:reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }])),
    [],
  );
  assert.deepEqual(validate(roleResource, role('r', [{ verbs: [] }])), [
    'rules[0].verbs: Required value: verbs must contain at least one value',
    'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
    'rules[0].resources: Required value: resource rules must supply at least one resource',
  ]);
  assert.deepEqual(
    validate(
      roleResource,
      role('r', [{ verbs: ['get'], nonResourceURLs: ['/healthz'], resources: ['pods'] }]),
    ),
    [
      'rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs',
      'rules[0].nonResourceURLs: Invalid value: ["/healthz"]: rules cannot apply to both regular resources and non-resource URLs',
    ],
  );
  assert.deepEqual(validate(roleResource, role('a/b', [])), [
    'metadata.name: Invalid value: "a/b": may not contain \'/\'',
  ]);
  assert.deepEqual(columns(roleResource), ['Name', 'Created At']);
  const r = role('r', []);
  r.metadata.creationTimestamp = '2024-05-01T10:00:00Z';
  assert.equal(cells(roleResource, r)['Created At'], '2024-05-01T10:00:00Z');
});

test('ClusterRole: non-resource URLs allowed; aggregation needs selectors', () => {
  const cr = (rest: Record<string, unknown>): KubeObject =>
    obj('rbac.authorization.k8s.io/v1', 'ClusterRole', { name: 'system:x' }, rest);
  assert.deepEqual(
    validate(clusterRoleResource, cr({ rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] })),
    [],
  );
  assert.deepEqual(validate(clusterRoleResource, cr({ aggregationRule: {} })), [
    'aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
  ]);
  assert.deepEqual(
    validate(
      clusterRoleResource,
      cr({
        aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: 'a', operator: 'In' }] }] },
      }),
    ),
    [
      "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ],
  );
});

test('RoleBinding: defaults the API group; roleRef and subjects are checked', () => {
  const rb = obj(
    'rbac.authorization.k8s.io/v1',
    'RoleBinding',
    { name: 'rb', namespace: 'd' },
    {
      roleRef: { kind: 'Role', name: 'reader' },
      subjects: [
        { kind: 'User', name: 'jane' },
        { kind: 'ServiceAccount', name: 'bot', namespace: 'd' },
        { kind: 'Group', name: 'devs' },
      ],
    },
  );
  roleBindingResource.strategy?.default?.(rb);
  assert.equal((rb.roleRef as Record<string, unknown>).apiGroup, 'rbac.authorization.k8s.io');
  assert.equal((rb.subjects as Record<string, unknown>[])[0]?.apiGroup, 'rbac.authorization.k8s.io');
  assert.equal((rb.subjects as Record<string, unknown>[])[1]?.apiGroup, undefined);
  assert.deepEqual(validate(roleBindingResource, rb), []);
  const bad = obj(
    'rbac.authorization.k8s.io/v1',
    'RoleBinding',
    { name: 'rb', namespace: 'd' },
    {
      roleRef: { apiGroup: 'x', kind: 'Pod', name: '' },
      subjects: [
        { kind: 'Robot', name: 'r' },
        { kind: 'ServiceAccount', name: 'Bad', apiGroup: 'x' },
        { kind: 'User', name: '', apiGroup: 'rbac.authorization.k8s.io' },
      ],
    },
  );
  assert.deepEqual(validate(roleBindingResource, bad), [
    'roleRef.apiGroup: Unsupported value: "x": supported values: "rbac.authorization.k8s.io"',
    'roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"',
    'roleRef.name: Required value',
    'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    "subjects[1].name: Invalid value: \"Bad\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    'subjects[1].apiGroup: Unsupported value: "x": supported values: ""',
    'subjects[2].name: Required value',
  ]);
});

test('RoleBinding: roleRef cannot change', () => {
  const old = obj(
    'rbac.authorization.k8s.io/v1',
    'RoleBinding',
    { name: 'rb', namespace: 'd', resourceVersion: '1' },
    {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    },
  );
  const next = structuredClone(old);
  (next.roleRef as Record<string, unknown>).name = 'writer';
  assert.deepEqual(validateUpdate(roleBindingResource, next, old), [
    'roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"writer"}: cannot change roleRef',
  ]);
  const subjectsOnly = structuredClone(old);
  subjectsOnly.subjects = [{ kind: 'Group', name: 'g', apiGroup: 'rbac.authorization.k8s.io' }];
  assert.deepEqual(validateUpdate(roleBindingResource, subjectsOnly, old), []);
});

test('ClusterRoleBinding: only ClusterRoles; ServiceAccount subjects need a namespace; wide columns', () => {
  const crb = obj(
    'rbac.authorization.k8s.io/v1',
    'ClusterRoleBinding',
    { name: 'crb' },
    {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
      subjects: [{ kind: 'ServiceAccount', name: 'bot' }],
    },
  );
  assert.deepEqual(validate(clusterRoleBindingResource, crb), [
    'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    'subjects[0].namespace: Required value',
  ]);
  assert.deepEqual(columns(clusterRoleBindingResource), [
    'Name',
    'Role',
    'Age',
    'Users*',
    'Groups*',
    'ServiceAccounts*',
  ]);
  const ok = obj(
    'rbac.authorization.k8s.io/v1',
    'ClusterRoleBinding',
    { name: 'crb' },
    {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [
        { kind: 'User', name: 'a' },
        { kind: 'User', name: 'b' },
        { kind: 'Group', name: 'g' },
        { kind: 'ServiceAccount', name: 'bot', namespace: 'ns' },
      ],
    },
  );
  const c = cells(clusterRoleBindingResource, ok);
  assert.deepEqual(
    [c.Role, c.Users, c.Groups, c.ServiceAccounts],
    ['ClusterRole/view', 'a, b', 'g', 'ns/bot'],
  );
});

// ---- ComponentStatus ----

test('ComponentStatus: read-only, status from the Healthy condition', () => {
  assert.deepEqual(componentStatusResource.verbs, ['get', 'list']);
  assert.deepEqual(columns(componentStatusResource), ['Name', 'Status', 'Message', 'Error']);
  const cs = obj(
    'v1',
    'ComponentStatus',
    { name: 'etcd-0' },
    { conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] },
  );
  assert.deepEqual(cells(componentStatusResource, cs), {
    Name: 'etcd-0',
    Status: 'Healthy',
    Message: 'ok',
    Error: '',
  });
  assert.equal(cells(componentStatusResource, obj('v1', 'ComponentStatus', { name: 'x' })).Status, 'Unknown');
  const sick = obj(
    'v1',
    'ComponentStatus',
    { name: 'x' },
    { conditions: [{ type: 'Healthy', status: 'False', error: 'down' }] },
  );
  assert.equal(cells(componentStatusResource, sick).Status, 'Unhealthy');
});

// ---- review kinds ----

test('access reviews: create-only; exactly one kind of attributes; empty metadata', () => {
  for (const d of [
    subjectAccessReviewResource,
    selfSubjectAccessReviewResource,
    localSubjectAccessReviewResource,
  ]) {
    assert.deepEqual(d.verbs, ['create']);
  }
  const sar = (spec: Record<string, unknown>, metadata: KubeObject['metadata'] = {}): KubeObject =>
    obj('authorization.k8s.io/v1', 'SubjectAccessReview', metadata, { spec });
  assert.deepEqual(
    validate(
      subjectAccessReviewResource,
      sar({ user: 'jane', resourceAttributes: { verb: 'get', resource: 'pods' } }),
    ),
    [],
  );
  assert.deepEqual(validate(subjectAccessReviewResource, sar({})), [
    'spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    'spec.user: Invalid value: "": at least one of user or group must be specified',
  ]);
  assert.deepEqual(
    validate(
      subjectAccessReviewResource,
      sar({ groups: ['g'], resourceAttributes: {}, nonResourceAttributes: { path: '/x' } }, { name: 'x' }),
    ),
    [
      'spec.nonResourceAttributes: Invalid value: {"path":"/x"}: cannot be specified in combination with resourceAttributes',
      'metadata: Invalid value: {"name":"x"}: must be empty',
    ],
  );
  assert.deepEqual(
    validate(
      selfSubjectAccessReviewResource,
      obj(
        'authorization.k8s.io/v1',
        'SelfSubjectAccessReview',
        { creationTimestamp: null },
        { spec: { nonResourceAttributes: { path: '/', verb: 'get' } } },
      ),
    ),
    [],
  );
  const local = obj(
    'authorization.k8s.io/v1',
    'LocalSubjectAccessReview',
    { namespace: 'a' },
    {
      spec: { user: 'u', resourceAttributes: { namespace: 'b' } },
    },
  );
  assert.deepEqual(validate(localSubjectAccessReviewResource, local), [
    'spec.resourceAttributes.namespace: Invalid value: "b": must match metadata.namespace',
  ]);
});

test('core kinds refuse unqualified non-standard finalizers in metadata; RBAC kinds do not check them', () => {
  const cm = obj('v1', 'ConfigMap', { name: 'c', namespace: 'd', finalizers: ['custom'] });
  assert.deepEqual(validate(configMapResource, cm), [
    'metadata.finalizers[0]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
  ]);
  const role = obj(
    'rbac.authorization.k8s.io/v1',
    'Role',
    { name: 'r', namespace: 'd', finalizers: ['custom'] },
    { rules: [] },
  );
  assert.deepEqual(validate(roleResource, role), []);
});

test('review kinds tolerate the bookkeeping fields a server stamps before validation', () => {
  const review = obj(
    'authorization.k8s.io/v1',
    'SelfSubjectAccessReview',
    { uid: 'u', creationTimestamp: '2024-01-01T00:00:00Z', managedFields: [] },
    { spec: { resourceAttributes: { verb: 'list', resource: 'pods' } } },
  );
  assert.deepEqual(validate(selfSubjectAccessReviewResource, review), []);
});
