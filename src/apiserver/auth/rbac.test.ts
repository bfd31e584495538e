import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ANONYMOUS_USER } from '../request-info.js';
import { bootstrapPolicy, reconcileBinding, reconcileRole } from './bootstrap-policy.js';
import {
  type RbacLister,
  aggregateClusterRoles,
  checkBindingWrite,
  checkRoleWrite,
  confirmNoEscalation,
  covers,
  createRbacAuthorizer,
  forbiddenError,
} from './rbac.js';
import type {
  ClusterRole,
  ClusterRoleBinding,
  RequestAttributes,
  Role,
  RoleBinding,
  Subject,
  UserInfo,
} from './types.js';

class MemoryLister implements RbacLister {
  clusterRoles = new Map<string, ClusterRole>();
  roles = new Map<string, Role>();
  clusterRoleBindings: ClusterRoleBinding[] = [];
  roleBindings: RoleBinding[] = [];

  constructor() {
    const policy = bootstrapPolicy();
    for (const r of policy.clusterRoles) this.clusterRoles.set(r.metadata.name ?? '', r);
    for (const r of aggregateClusterRoles([...this.clusterRoles.values()]))
      this.clusterRoles.set(r.metadata.name ?? '', r);
    for (const r of policy.roles) this.roles.set(`${r.metadata.namespace ?? ''}/${r.metadata.name ?? ''}`, r);
    this.clusterRoleBindings = policy.clusterRoleBindings;
    this.roleBindings = policy.roleBindings;
  }
  listClusterRoleBindings(): ClusterRoleBinding[] {
    return this.clusterRoleBindings;
  }
  listRoleBindings(namespace: string): RoleBinding[] {
    return this.roleBindings.filter((b) => b.metadata.namespace === namespace);
  }
  getClusterRole(name: string): ClusterRole | undefined {
    return this.clusterRoles.get(name);
  }
  getRole(namespace: string, name: string): Role | undefined {
    return this.roles.get(`${namespace}/${name}`);
  }
  bind(
    namespace: string,
    name: string,
    kind: 'Role' | 'ClusterRole',
    roleName: string,
    subjects: Subject[],
  ): void {
    this.roleBindings.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { namespace, name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: roleName },
      subjects,
    });
  }
}

const authenticated = (name: string, groups: string[] = []): UserInfo => ({
  name,
  groups: [...groups, 'system:authenticated'],
});

function res(
  user: UserInfo,
  verb: string,
  resource: string,
  namespace: string,
  opts: { group?: string; subresource?: string; name?: string } = {},
): RequestAttributes {
  return {
    user,
    verb,
    isResourceRequest: true,
    path: '',
    apiGroup: opts.group ?? '',
    apiVersion: 'v1',
    resource,
    subresource: opts.subresource ?? '',
    namespace,
    name: opts.name ?? '',
  };
}

function url(user: UserInfo, path: string, verb = 'get'): RequestAttributes {
  return {
    user,
    verb,
    isResourceRequest: false,
    path,
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
  };
}

describe('RBAC with the default policy', () => {
  const lister = new MemoryLister();
  const alice = authenticated('alice');
  const bob = authenticated('bob');
  const carol = authenticated('carol');
  lister.bind('team-a', 'alice-view', 'ClusterRole', 'view', [
    { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
  ]);
  lister.bind('team-a', 'bob-edit', 'ClusterRole', 'edit', [
    { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' },
  ]);
  lister.bind('team-a', 'carol-admin', 'ClusterRole', 'admin', [
    { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'carol' },
  ]);
  const rbac = createRbacAuthorizer(lister);
  const allowed = async (a: RequestAttributes): Promise<boolean> => (await rbac.authorize(a)).allowed;

  it('aggregates admin, edit and view from the aggregate-to-* roles', () => {
    const view = lister.getClusterRole('view');
    const edit = lister.getClusterRole('edit');
    const admin = lister.getClusterRole('admin');
    assert.ok((view?.rules ?? []).length > 0);
    assert.ok((edit?.rules?.length ?? 0) > (view?.rules?.length ?? 0), 'edit includes view');
    assert.ok((admin?.rules?.length ?? 0) > (edit?.rules?.length ?? 0), 'admin includes edit');
    assert.ok(covers(admin?.rules ?? [], view?.rules ?? []).covered);
  });

  it('view can read pods but not secrets, and cannot write', async () => {
    assert.ok(await allowed(res(alice, 'get', 'pods', 'team-a')));
    assert.ok(await allowed(res(alice, 'list', 'deployments', 'team-a', { group: 'apps' })));
    assert.ok(await allowed(res(alice, 'get', 'pods', 'team-a', { subresource: 'log' })));
    assert.equal(await allowed(res(alice, 'get', 'secrets', 'team-a')), false);
    assert.equal(await allowed(res(alice, 'create', 'pods', 'team-a')), false);
    assert.equal(await allowed(res(alice, 'create', 'pods', 'team-a', { subresource: 'exec' })), false);
    assert.equal(await allowed(res(alice, 'get', 'pods', 'team-b')), false);
  });

  it('edit can create deployments and read secrets but not grant roles', async () => {
    assert.ok(await allowed(res(bob, 'create', 'deployments', 'team-a', { group: 'apps' })));
    assert.ok(
      await allowed(res(bob, 'update', 'deployments', 'team-a', { group: 'apps', subresource: 'scale' })),
    );
    assert.ok(await allowed(res(bob, 'get', 'secrets', 'team-a')));
    assert.ok(await allowed(res(bob, 'create', 'pods', 'team-a', { subresource: 'exec' })));
    assert.equal(
      await allowed(res(bob, 'create', 'rolebindings', 'team-a', { group: 'rbac.authorization.k8s.io' })),
      false,
    );
    assert.equal(await allowed(res(bob, 'update', 'resourcequotas', 'team-a')), false);
  });

  it('admin can create rolebindings in its namespace only', async () => {
    const rb = { group: 'rbac.authorization.k8s.io' };
    assert.ok(await allowed(res(carol, 'create', 'rolebindings', 'team-a', rb)));
    assert.ok(await allowed(res(carol, 'delete', 'roles', 'team-a', rb)));
    assert.equal(await allowed(res(carol, 'create', 'rolebindings', 'team-b', rb)), false);
    assert.equal(await allowed(res(carol, 'create', 'clusterroles', '', rb)), false);
  });

  it('a ServiceAccount bound to a Role in one namespace is denied in another', async () => {
    lister.roles.set('team-a/pod-reader', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { namespace: 'team-a', name: 'pod-reader' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
    });
    // The subject's namespace defaults to the binding's.
    lister.bind('team-a', 'robot-reads-pods', 'Role', 'pod-reader', [
      { kind: 'ServiceAccount', name: 'robot' },
    ]);
    const robot: UserInfo = {
      name: 'system:serviceaccount:team-a:robot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
    };
    assert.ok(await allowed(res(robot, 'list', 'pods', 'team-a')));
    const decision = await rbac.authorize(res(robot, 'list', 'pods', 'team-b'));
    assert.equal(decision.allowed, false);
    assert.equal(decision.reason, '');
    const other: UserInfo = { ...robot, name: 'system:serviceaccount:team-b:robot' };
    assert.equal(await allowed(res(other, 'list', 'pods', 'team-a')), false);
    assert.equal(
      forbiddenError(res(robot, 'list', 'pods', 'team-b')).message,
      'pods is forbidden: User "system:serviceaccount:team-a:robot" cannot list resource "pods" in API group "" in the namespace "team-b"',
    );
  });

  it('serves health and version to everyone and discovery to authenticated users', async () => {
    assert.ok(await allowed(url(ANONYMOUS_USER, '/healthz')));
    assert.ok(await allowed(url(ANONYMOUS_USER, '/version')));
    assert.equal(await allowed(url(ANONYMOUS_USER, '/apis')), false);
    assert.equal(await allowed(url(ANONYMOUS_USER, '/healthz', 'post')), false);
    assert.ok(await allowed(url(alice, '/apis/apps/v1')));
    assert.ok(await allowed(url(alice, '/openapi/v3')));
    assert.equal(await allowed(url(alice, '/metrics')), false);
    assert.equal(
      forbiddenError(url(ANONYMOUS_USER, '/metrics')).message,
      'forbidden: User "system:anonymous" cannot get path "/metrics"',
    );
    const monitor = authenticated('prometheus', ['system:monitoring']);
    assert.ok(await allowed(url(monitor, '/metrics')));
    assert.ok(await allowed(url(monitor, '/readyz/etcd')));
  });

  it('lets system:masters do anything', async () => {
    const admin = authenticated('system:admin', ['system:masters']);
    assert.ok(await allowed(res(admin, 'delete', 'nodes', '', { name: 'n1' })));
    assert.ok(await allowed(url(admin, '/debug/pprof', 'post')));
  });

  it('grants components their roles', async () => {
    const scheduler = authenticated('system:kube-scheduler');
    assert.ok(
      await allowed(res(scheduler, 'create', 'pods', 'default', { subresource: 'binding', name: 'p' })),
    );
    assert.ok(
      await allowed(
        res(scheduler, 'update', 'leases', 'kube-system', {
          group: 'coordination.k8s.io',
          name: 'kube-scheduler',
        }),
      ),
    );
    assert.equal(
      await allowed(
        res(scheduler, 'update', 'leases', 'default', { group: 'coordination.k8s.io', name: 'other' }),
      ),
      false,
    );
    const node = authenticated('system:node:worker-1', ['system:nodes']);
    assert.ok(await allowed(res(node, 'patch', 'nodes', '', { subresource: 'status', name: 'worker-1' })));
    const joiner = authenticated('system:bootstrap:abcdef', ['system:bootstrappers']);
    const csr = { group: 'certificates.k8s.io' };
    assert.ok(await allowed(res(joiner, 'create', 'certificatesigningrequests', '', csr)));
    assert.ok(
      await allowed(
        res(joiner, 'create', 'certificatesigningrequests', '', { ...csr, subresource: 'nodeclient' }),
      ),
    );
    assert.equal(await allowed(res(joiner, 'list', 'pods', 'default')), false);
    const gc: UserInfo = {
      name: 'system:serviceaccount:kube-system:generic-garbage-collector',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
    };
    assert.ok(await allowed(res(gc, 'delete', 'widgets', 'x', { group: 'example.com' })));
    const hpa: UserInfo = { ...gc, name: 'system:serviceaccount:kube-system:horizontal-pod-autoscaler' };
    assert.ok(await allowed(res(hpa, 'update', 'deployments', 'x', { group: 'apps', subresource: 'scale' })));
    assert.equal(await allowed(res(hpa, 'update', 'deployments', 'x', { group: 'apps' })), false);
  });

  it('reports roles that cannot be resolved', async () => {
    lister.bind('team-c', 'dangling', 'ClusterRole', 'missing', [{ kind: 'User', name: 'dave' }]);
    const d = await rbac.authorize(res(authenticated('dave'), 'get', 'pods', 'team-c'));
    assert.equal(d.allowed, false);
    assert.equal(d.reason, 'RBAC: clusterrole.rbac.authorization.k8s.io "missing" not found');
  });

  it('lists the rules of a user for SelfSubjectRulesReview', async () => {
    const status = await rbac.resourceRulesFor(alice, 'team-a');
    assert.equal(status.incomplete, false);
    assert.ok(status.resourceRules.some((r) => r.resources?.includes('pods') && r.verbs.includes('get')));
    assert.ok(status.resourceRules.some((r) => r.resources?.includes('selfsubjectaccessreviews')));
    assert.ok(status.nonResourceRules.some((r) => r.nonResourceURLs?.includes('/healthz')));
  });

  it('explains escalation attempts as upstream does', async () => {
    const msg = await confirmNoEscalation(lister, bob, 'team-a', [
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] },
    ]);
    assert.equal(
      msg,
      'user "bob" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["nodes"], Verbs:["get" "list"]}',
    );
    assert.equal(
      await confirmNoEscalation(lister, bob, 'team-a', [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
      ]),
      undefined,
    );
  });
});

describe('rule coverage', () => {
  it('understands wildcards, */subresource and URL prefixes', () => {
    assert.ok(
      covers(
        [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
        [{ apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['update'] }],
      ).covered,
    );
    assert.ok(
      covers(
        [{ apiGroups: ['*'], resources: ['*/scale'], verbs: ['get'] }],
        [{ apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get'] }],
      ).covered,
    );
    assert.equal(
      covers(
        [{ apiGroups: ['*'], resources: ['*/scale'], verbs: ['get'] }],
        [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }],
      ).covered,
      false,
    );
    assert.ok(
      covers(
        [{ nonResourceURLs: ['/apis/*'], verbs: ['get'] }],
        [{ nonResourceURLs: ['/apis/apps'], verbs: ['get'] }],
      ).covered,
    );
    const named = covers(
      [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'], verbs: ['get'] }],
      [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
    );
    assert.equal(named.covered, false);
  });
});

describe('reconciliation of the default policy', () => {
  it('adds missing permissions and subjects, keeps extras, respects autoupdate=false', () => {
    const desired = bootstrapPolicy().clusterRoles.find((r) => r.metadata.name === 'system:node-proxier');
    assert.ok(desired);
    assert.equal(reconcileRole(undefined, desired).action, 'create');
    const trimmed: ClusterRole = {
      ...structuredClone(desired),
      rules: [{ apiGroups: ['x.io'], resources: ['things'], verbs: ['get'] }],
    };
    const r = reconcileRole(trimmed, desired);
    assert.equal(r.action, 'update');
    assert.ok(covers(r.object?.rules ?? [], desired.rules ?? []).covered);
    assert.ok(r.object?.rules?.some((x) => x.apiGroups?.includes('x.io')));
    assert.equal(reconcileRole(r.object, desired).action, 'none');
    const pinned = structuredClone(trimmed);
    pinned.metadata.annotations = { 'rbac.authorization.kubernetes.io/autoupdate': 'false' };
    assert.equal(reconcileRole(pinned, desired).action, 'none');

    const binding = bootstrapPolicy().clusterRoleBindings.find(
      (b) => b.metadata.name === 'system:public-info-viewer',
    );
    assert.ok(binding);
    const partial: ClusterRoleBinding = {
      ...structuredClone(binding),
      subjects: [{ kind: 'User', name: 'x' }],
    };
    const rb = reconcileBinding(partial, binding);
    assert.equal(rb.action, 'update');
    assert.equal(rb.object?.subjects?.length, 3);
    const moved: ClusterRoleBinding = {
      ...structuredClone(binding),
      roleRef: { ...binding.roleRef, name: 'other' },
    };
    assert.equal(reconcileBinding(moved, binding).action, 'recreate');
  });

  it('gives every default object the bootstrapping label and autoupdate annotation', () => {
    const p = bootstrapPolicy();
    for (const o of [...p.clusterRoles, ...p.clusterRoleBindings, ...p.roles, ...p.roleBindings]) {
      assert.equal(o.metadata.labels?.['kubernetes.io/bootstrapping'], 'rbac-defaults', o.metadata.name);
      assert.equal(o.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'], 'true');
    }
    const names = new Set(p.clusterRoles.map((r) => r.metadata.name));
    for (const b of p.clusterRoleBindings)
      assert.ok(names.has(b.roleRef.name), `binding ${b.metadata.name ?? ''}`);
    assert.equal(names.size, p.clusterRoles.length, 'role names are unique');
  });
});

describe('escalation prevention', () => {
  const lister = new MemoryLister();
  lister.bind('team-a', 'carol-admin', 'ClusterRole', 'admin', [{ kind: 'User', name: 'carol' }]);
  const rbac = createRbacAuthorizer(lister);
  const carol = authenticated('carol');

  it('lets a namespace admin bind edit but not cluster-admin', async () => {
    const binding = (roleName: string): RoleBinding => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { namespace: 'team-a', name: `x-${roleName}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
      subjects: [{ kind: 'User', name: 'erin' }],
    });
    assert.equal(await checkBindingWrite(rbac, lister, carol, binding('edit')), undefined);
    const denied = await checkBindingWrite(rbac, lister, carol, binding('cluster-admin'));
    assert.equal(denied?.code, 403);
    assert.match(
      denied?.message ?? '',
      /^rolebindings\.rbac\.authorization\.k8s\.io "x-cluster-admin" is forbidden: user "carol" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n/,
    );
    assert.equal(
      await checkBindingWrite(
        rbac,
        lister,
        authenticated('root', ['system:masters']),
        binding('cluster-admin'),
      ),
      undefined,
    );
  });

  it('lets a namespace admin write roles within its own permissions only', async () => {
    const role = (rules: Role['rules']): Role => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { namespace: 'team-a', name: 'r' },
      rules,
    });
    assert.equal(
      await checkRoleWrite(
        rbac,
        lister,
        carol,
        role([{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]),
      ),
      undefined,
    );
    const denied = await checkRoleWrite(
      rbac,
      lister,
      carol,
      role([{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]),
    );
    assert.equal(denied?.code, 403);
    const aggregated: ClusterRole = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'agg' },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] },
    };
    const agg = await checkRoleWrite(rbac, lister, carol, aggregated);
    assert.equal(
      agg?.message,
      'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule',
    );
  });
});
