// The RBAC authorizer (plugin/pkg/auth/authorizer/rbac): a request is allowed when some rule of some
// role bound to the user allows it. ClusterRoleBindings apply everywhere, RoleBindings in their own
// namespace; RoleBindings may name a ClusterRole, whose rules then apply in that namespace only.
// Denial is "no opinion" with no reason unless roles could not be resolved. Also here: rule coverage
// (escalation checks), the aggregation of ClusterRoles, and the rules listing behind
// SelfSubjectRulesReview.
import { StatusError, forbidden } from '../../api/errors.js';
import { createLogger } from '../../util/log.js';
import { aggregate, goQuoted } from './authn.js';
import {
  type AuthorizationDecision,
  type ClusterRole,
  type ClusterRoleBinding,
  type MaybePromise,
  type ObjectLabelSelector,
  type PolicyRule,
  RBAC_GROUP,
  type RequestAttributes,
  type Role,
  type RoleBinding,
  type RoleRef,
  SYSTEM_PRIVILEGED_GROUP,
  type Subject,
  type UserInfo,
  serviceAccountUsername,
} from './types.js';

const log = createLogger('rbac');

// ---------------------------------------------------------------------------------------------
// Matching one rule against a request

const has = (set: readonly string[] | undefined, v: string): boolean => (set ?? []).includes(v);

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === '*' || g === group);
}

/** "pods", "pods/log", "*" and "*\/log" (any resource's log subresource). */
export function resourceMatches(rule: PolicyRule, combinedResource: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combinedResource) return true;
    if (subresource !== '' && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** Exact paths, "*", and prefixes written with a trailing "*" ("/apis/*"). */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (attrs.isResourceRequest) {
    const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    return (
      verbMatches(rule, attrs.verb) &&
      apiGroupMatches(rule, attrs.apiGroup) &&
      resourceMatches(rule, combined, attrs.subresource) &&
      resourceNameMatches(rule, attrs.name)
    );
  }
  return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path);
}

// ---------------------------------------------------------------------------------------------
// Subjects

/** Whether a binding subject names the user; ServiceAccount subjects default to the binding's namespace. */
export function subjectMatches(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      if (!ns) return false;
      return user.name === serviceAccountUsername(ns, subject.name);
    }
    default:
      return false;
  }
}

function appliesTo(
  user: UserInfo,
  subjects: readonly Subject[] | null | undefined,
  ns: string,
): Subject | undefined {
  return (subjects ?? []).find((s) => subjectMatches(user, s, ns));
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} "${s.name}/${s.namespace || bindingNamespace}"`;
  return `${s.kind} "${s.name}"`;
}

// ---------------------------------------------------------------------------------------------
// Resolving rules

/** Where roles and bindings come from (informer caches or the store). */
export interface RbacLister {
  listClusterRoleBindings(): MaybePromise<readonly ClusterRoleBinding[]>;
  listRoleBindings(namespace: string): MaybePromise<readonly RoleBinding[]>;
  getClusterRole(name: string): MaybePromise<ClusterRole | undefined>;
  getRole(namespace: string, name: string): MaybePromise<Role | undefined>;
}

/** Called with each rule that applies (and its source) or each resolution error; return false to stop. */
export type RuleVisitor = (
  source: string | undefined,
  rule: PolicyRule | undefined,
  error: string | undefined,
) => boolean;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The rules a role reference grants; throws a not-found error in upstream's words. */
export async function roleRefRules(
  lister: RbacLister,
  ref: RoleRef,
  bindingNamespace: string,
): Promise<PolicyRule[]> {
  switch (ref.kind) {
    case 'Role': {
      const role = await lister.getRole(bindingNamespace, ref.name);
      if (!role) throw new Error(`role.${RBAC_GROUP} "${ref.name}" not found`);
      return role.rules ?? [];
    }
    case 'ClusterRole': {
      const role = await lister.getClusterRole(ref.name);
      if (!role) throw new Error(`clusterrole.${RBAC_GROUP} "${ref.name}" not found`);
      return role.rules ?? [];
    }
    default:
      throw new Error(`unsupported role reference kind: "${ref.kind}"`);
  }
}

export async function visitRulesFor(
  lister: RbacLister,
  user: UserInfo,
  namespace: string,
  visit: RuleVisitor,
): Promise<void> {
  let clusterBindings: readonly ClusterRoleBinding[];
  try {
    clusterBindings = await lister.listClusterRoleBindings();
  } catch (err) {
    if (!visit(undefined, undefined, errorText(err))) return;
    clusterBindings = [];
  }
  for (const b of clusterBindings) {
    const subject = appliesTo(user, b.subjects, '');
    if (!subject) continue;
    let rules: PolicyRule[];
    try {
      rules = await roleRefRules(lister, b.roleRef, '');
    } catch (err) {
      if (!visit(undefined, undefined, errorText(err))) return;
      continue;
    }
    const source = `ClusterRoleBinding "${b.metadata.name ?? ''}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(subject, '')}`;
    for (const r of rules) if (!visit(source, r, undefined)) return;
  }
  if (namespace === '') return;
  let bindings: readonly RoleBinding[];
  try {
    bindings = await lister.listRoleBindings(namespace);
  } catch (err) {
    visit(undefined, undefined, errorText(err));
    return;
  }
  for (const b of bindings) {
    const subject = appliesTo(user, b.subjects, namespace);
    if (!subject) continue;
    let rules: PolicyRule[];
    try {
      rules = await roleRefRules(lister, b.roleRef, namespace);
    } catch (err) {
      if (!visit(undefined, undefined, errorText(err))) return;
      continue;
    }
    const source = `RoleBinding "${b.metadata.name ?? ''}/${namespace}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(subject, namespace)}`;
    for (const r of rules) if (!visit(source, r, undefined)) return;
  }
}

/** All rules that apply to the user in the namespace (cluster-wide ones included), and resolution errors. */
export async function rulesFor(
  lister: RbacLister,
  user: UserInfo,
  namespace: string,
): Promise<{ rules: PolicyRule[]; error?: string }> {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  await visitRulesFor(lister, user, namespace, (_s, rule, err) => {
    if (rule) rules.push(rule);
    if (err) errors.push(err);
    return true;
  });
  return errors.length > 0 ? { rules, error: aggregate(errors) } : { rules };
}

/** SelfSubjectRulesReview's status (authorization.k8s.io/v1 SubjectRulesReviewStatus). */
export interface SubjectRulesReviewStatus {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  incomplete: boolean;
  evaluationError?: string;
}

export interface RbacAuthorizer {
  /** The API server's hook. */
  authorize(attrs: RequestAttributes): Promise<AuthorizationDecision>;
  rulesFor(user: UserInfo, namespace: string): Promise<{ rules: PolicyRule[]; error?: string }>;
  /** For SelfSubjectRulesReview (kubectl auth can-i --list). */
  resourceRulesFor(user: UserInfo, namespace: string): Promise<SubjectRulesReviewStatus>;
}

export interface RbacAuthorizerOptions {
  /** Groups allowed everything before RBAC is consulted (upstream: system:masters). */
  readonly superuserGroups?: readonly string[];
}

export function createRbacAuthorizer(lister: RbacLister, opts: RbacAuthorizerOptions = {}): RbacAuthorizer {
  const superuserGroups = opts.superuserGroups ?? [SYSTEM_PRIVILEGED_GROUP];

  const authorize = async (attrs: RequestAttributes): Promise<AuthorizationDecision> => {
    if (attrs.user.groups.some((g) => superuserGroups.includes(g))) return { allowed: true, reason: '' };
    let allowedBy: string | undefined;
    const errors: string[] = [];
    await visitRulesFor(lister, attrs.user, attrs.namespace, (source, rule, err) => {
      if (rule && ruleAllows(attrs, rule)) {
        allowedBy = source;
        return false;
      }
      if (err) errors.push(err);
      return true;
    });
    if (allowedBy !== undefined) return { allowed: true, reason: `RBAC: allowed by ${allowedBy}` };
    log.debug('RBAC: no rules authorize the request', {
      user: attrs.user.name,
      groups: attrs.user.groups,
      verb: attrs.verb,
      resource: attrs.resource,
      subresource: attrs.subresource,
      apiGroup: attrs.apiGroup,
      name: attrs.name,
      namespace: attrs.namespace,
      path: attrs.isResourceRequest ? undefined : attrs.path,
    });
    return { allowed: false, reason: errors.length > 0 ? `RBAC: ${aggregate(errors)}` : '' };
  };

  const resourceRulesFor = async (user: UserInfo, namespace: string): Promise<SubjectRulesReviewStatus> => {
    const { rules, error } = await rulesFor(lister, user, namespace);
    const status: SubjectRulesReviewStatus = { resourceRules: [], nonResourceRules: [], incomplete: false };
    for (const r of rules) {
      if ((r.resources ?? []).length > 0) {
        const rr: SubjectRulesReviewStatus['resourceRules'][number] = { verbs: [...r.verbs] };
        if (r.apiGroups) rr.apiGroups = [...r.apiGroups];
        rr.resources = [...(r.resources ?? [])];
        if (r.resourceNames && r.resourceNames.length > 0) rr.resourceNames = [...r.resourceNames];
        status.resourceRules.push(rr);
      }
      if ((r.nonResourceURLs ?? []).length > 0) {
        status.nonResourceRules.push({
          verbs: [...r.verbs],
          nonResourceURLs: [...(r.nonResourceURLs ?? [])],
        });
      }
    }
    if (error) status.evaluationError = error;
    return status;
  };

  return { authorize, rulesFor: (u, ns) => rulesFor(lister, u, ns), resourceRulesFor };
}

// ---------------------------------------------------------------------------------------------
// Denials as upstream's API server words them

function forbiddenMessage(attrs: RequestAttributes): string {
  const user = attrs.user.name;
  if (!attrs.isResourceRequest) return `User "${user}" cannot ${attrs.verb} path "${attrs.path}"`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  if (attrs.namespace) {
    return `User "${user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" in the namespace "${attrs.namespace}"`;
  }
  return `User "${user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" at the cluster scope`;
}

/** The 403 the API server returns for a denied request (responsewriters.Forbidden). */
export function forbiddenError(attrs: RequestAttributes, reason = ''): StatusError {
  const message = reason ? `${forbiddenMessage(attrs)}: ${reason}` : forbiddenMessage(attrs);
  if (!attrs.isResourceRequest || attrs.resource === '') {
    return new StatusError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `forbidden: ${message}`,
      reason: 'Forbidden',
      details: {},
      code: 403,
    });
  }
  return forbidden({ group: attrs.apiGroup, resource: attrs.resource }, attrs.name, message);
}

// ---------------------------------------------------------------------------------------------
// Coverage: does one set of rules grant everything another grants? (escalation checks, reconciliation)

/** Splits a rule into rules of one group, resource, verb and name each (or one URL and verb). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        if ((rule.resourceNames ?? []).length > 0) {
          for (const name of rule.resourceNames ?? []) {
            out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
          }
        } else {
          out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) {
    for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  }
  return out;
}

const hasAll = (set: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean =>
  (wanted ?? []).every((w) => has(set, w));

function resourcesCover(
  owner: readonly string[] | undefined,
  wanted: readonly string[] | undefined,
): boolean {
  if (has(owner, '*') || hasAll(owner, wanted)) return true;
  for (const path of wanted ?? []) {
    if (has(owner, path)) continue;
    const slash = path.indexOf('/');
    if (slash < 0) return false;
    if (!has(owner, `*/${path.slice(slash + 1)}`)) return false;
  }
  return true;
}

function nonResourceURLCovers(owner: string, path: string): boolean {
  if (owner === path) return true;
  return owner.endsWith('*') && path.startsWith(owner.replace(/\*+$/, ''));
}

function urlsCover(owner: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean {
  return (wanted ?? []).every((p) => (owner ?? []).some((o) => nonResourceURLCovers(o, p)));
}

export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = has(owner.verbs, '*') || hasAll(owner.verbs, sub.verbs);
  const groups = has(owner.apiGroups, '*') || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = resourcesCover(owner.resources, sub.resources);
  const urls = urlsCover(owner.nonResourceURLs, sub.nonResourceURLs);
  const ownerNames = owner.resourceNames ?? [];
  const subNames = sub.resourceNames ?? [];
  const names =
    subNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, subNames);
  return verbs && groups && resources && names && urls;
}

/** Whether `owner` rules cover all of `servant`; the uncovered pieces otherwise. */
export function covers(
  owner: readonly PolicyRule[],
  servant: readonly PolicyRule[],
): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const rule of servant) {
    for (const sub of breakdownRule(rule)) {
      if (!owner.some((o) => ruleCovers(o, sub))) missing.push(sub);
    }
  }
  return { covered: missing.length === 0, missing };
}

/** Merges simple rules that differ only in verbs (one group, one resource, no names), keeping order. */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple =
      (r.apiGroups ?? []).length === 1 &&
      (r.resources ?? []).length === 1 &&
      (r.resourceNames ?? []).length === 0 &&
      (r.nonResourceURLs ?? []).length === 0;
    if (!isSimple) {
      out.push({ ...r, verbs: [...r.verbs] });
      continue;
    }
    const key = `${r.apiGroups?.[0] ?? ''}\0${r.resources?.[0] ?? ''}`;
    const existing = simple.get(key);
    if (existing) {
      for (const v of r.verbs) if (!existing.verbs.includes(v)) existing.verbs.push(v);
    } else {
      const copy: PolicyRule = {
        apiGroups: [...(r.apiGroups ?? [])],
        resources: [...(r.resources ?? [])],
        verbs: [...r.verbs],
      };
      simple.set(key, copy);
      out.push(copy);
    }
  }
  return out;
}

/** rbacv1helpers.CompactString: {APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if ((r.apiGroups ?? []).length > 0) parts.push(`APIGroups:${goQuoted(r.apiGroups ?? [])}`);
  if ((r.resources ?? []).length > 0) parts.push(`Resources:${goQuoted(r.resources ?? [])}`);
  if ((r.nonResourceURLs ?? []).length > 0)
    parts.push(`NonResourceURLs:${goQuoted(r.nonResourceURLs ?? [])}`);
  if ((r.resourceNames ?? []).length > 0) parts.push(`ResourceNames:${goQuoted(r.resourceNames ?? [])}`);
  if (r.verbs.length > 0) parts.push(`Verbs:${goQuoted(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/**
 * Escalation check for creating or updating a Role/ClusterRole or a binding: the user must already hold
 * every permission granted. Returns undefined when allowed, else upstream's message (to be sent as
 * Forbidden on the role or binding). Callers skip this for superusers and holders of escalate/bind.
 */
export async function confirmNoEscalation(
  lister: RbacLister,
  user: UserInfo,
  namespace: string,
  rules: readonly PolicyRule[],
): Promise<string | undefined> {
  const owner = await rulesFor(lister, user, namespace);
  const { covered, missing } = covers(owner.rules, rules);
  if (covered) return undefined;
  const lines = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user "${user.name}" (groups=${goQuoted(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
  if (owner.error) msg += `; resolution errors: [${owner.error}]`;
  return msg;
}

// ---------------------------------------------------------------------------------------------
// Aggregated ClusterRoles (clusterrole-aggregation controller)

/** Whether a metav1.LabelSelector selects the labels. An empty selector selects everything. */
export function labelSelectorMatches(
  selector: ObjectLabelSelector,
  labels: Readonly<Record<string, string>> = {},
): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!present || !(e.values ?? []).includes(value ?? '')) return false;
        break;
      case 'NotIn':
        if (present && (e.values ?? []).includes(value ?? '')) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  const eq = (x: readonly string[] | undefined, y: readonly string[] | undefined): boolean => {
    const xs = x ?? [];
    const ys = y ?? [];
    return xs.length === ys.length && xs.every((v, i) => v === ys[i]);
  };
  return (
    eq(a.verbs, b.verbs) &&
    eq(a.apiGroups, b.apiGroups) &&
    eq(a.resources, b.resources) &&
    eq(a.resourceNames, b.resourceNames) &&
    eq(a.nonResourceURLs, b.nonResourceURLs)
  );
}

/** The rules an aggregated ClusterRole should have: those of every selected role, in name order, deduplicated. */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] {
  const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
  const selected = all
    .filter((r) => r.metadata.name !== role.metadata.name)
    .filter((r) => selectors.some((s) => labelSelectorMatches(s, r.metadata.labels)))
    .sort((a, b) =>
      (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : a.metadata.name === b.metadata.name ? 0 : 1,
    );
  const out: PolicyRule[] = [];
  for (const r of selected) {
    for (const rule of r.rules ?? []) if (!out.some((o) => sameRule(o, rule))) out.push(rule);
  }
  return out;
}

/**
 * Computes the rules of every ClusterRole with an aggregationRule, following chains (admin selects
 * edit, which selects view) until nothing changes. Returns copies of the aggregated roles whose rules
 * differ from what they hold now: the updates to write.
 */
export function aggregateClusterRoles(roles: readonly ClusterRole[]): ClusterRole[] {
  const current = new Map<string, ClusterRole>(roles.map((r) => [r.metadata.name ?? '', r]));
  const changed = new Set<string>();
  for (let pass = 0; pass < roles.length + 1; pass++) {
    let progress = false;
    for (const role of [...current.values()]) {
      if (!role.aggregationRule) continue;
      const rules = aggregatedRules(role, [...current.values()]);
      const before = role.rules ?? [];
      if (rules.length === before.length && rules.every((r, i) => sameRule(r, before[i] as PolicyRule)))
        continue;
      const name = role.metadata.name ?? '';
      current.set(name, { ...role, rules });
      changed.add(name);
      progress = true;
    }
    if (!progress) break;
  }
  return [...changed].map((n) => current.get(n) as ClusterRole);
}

// ---------------------------------------------------------------------------------------------
// Escalation prevention on writes of roles and bindings (pkg/registry/rbac/*/policybased)

const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

function isSuperuser(user: UserInfo): boolean {
  return user.groups.includes(SYSTEM_PRIVILEGED_GROUP);
}

function rbacAttrs(
  user: UserInfo,
  verb: string,
  resource: string,
  namespace: string,
  name: string,
): RequestAttributes {
  return {
    user,
    verb,
    isResourceRequest: true,
    path: '',
    apiGroup: RBAC_GROUP,
    apiVersion: 'v1',
    resource,
    subresource: '',
    namespace,
    name,
  };
}

/**
 * Checks a create or update of a Role or ClusterRole: allowed for system:masters, for holders of the
 * escalate verb on it, and otherwise only if the user already holds every rule it grants. Returns the
 * Forbidden error to send, or undefined.
 */
export async function checkRoleWrite(
  authz: Pick<RbacAuthorizer, 'authorize'>,
  lister: RbacLister,
  user: UserInfo,
  role: ClusterRole,
): Promise<StatusError | undefined> {
  const cluster = role.kind === 'ClusterRole';
  const resource = cluster ? 'clusterroles' : 'roles';
  const namespace = cluster ? '' : (role.metadata.namespace ?? '');
  const name = role.metadata.name ?? '';
  if (isSuperuser(user)) return undefined;
  if ((await authz.authorize(rbacAttrs(user, 'escalate', resource, namespace, name))).allowed)
    return undefined;
  const gr = { group: RBAC_GROUP, resource };
  const aggregation = role.aggregationRule;
  if (cluster && aggregation && (aggregation.clusterRoleSelectors ?? []).length > 0) {
    if (await confirmNoEscalation(lister, user, namespace, FULL_AUTHORITY)) {
      return forbidden(gr, name, 'must have cluster-admin privileges to use the aggregationRule');
    }
  }
  const msg = await confirmNoEscalation(lister, user, namespace, role.rules ?? []);
  return msg === undefined ? undefined : forbidden(gr, name, msg);
}

/**
 * Checks a create or update of a RoleBinding or ClusterRoleBinding: allowed for system:masters, for
 * holders of the bind verb on the referenced role, and otherwise only if the user already holds every
 * rule of that role.
 */
export async function checkBindingWrite(
  authz: Pick<RbacAuthorizer, 'authorize'>,
  lister: RbacLister,
  user: UserInfo,
  binding: RoleBinding,
): Promise<StatusError | undefined> {
  const cluster = binding.kind === 'ClusterRoleBinding';
  const gr = { group: RBAC_GROUP, resource: cluster ? 'clusterrolebindings' : 'rolebindings' };
  const namespace = cluster ? '' : (binding.metadata.namespace ?? '');
  const name = binding.metadata.name ?? '';
  if (isSuperuser(user)) return undefined;
  const ref = binding.roleRef;
  const refResource = ref.kind === 'ClusterRole' ? 'clusterroles' : ref.kind === 'Role' ? 'roles' : '';
  if (refResource && ref.apiGroup === RBAC_GROUP) {
    if ((await authz.authorize(rbacAttrs(user, 'bind', refResource, namespace, ref.name))).allowed)
      return undefined;
  }
  let rules: PolicyRule[];
  try {
    rules = await roleRefRules(lister, ref, namespace);
  } catch (err) {
    return forbidden(gr, name, errorText(err));
  }
  const msg = await confirmNoEscalation(lister, user, namespace, rules);
  return msg === undefined ? undefined : forbidden(gr, name, msg);
}
