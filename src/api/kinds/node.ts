// core/v1 Node (cluster-scoped).
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import { canonicalQuantity } from '../quantity.js';
import type { ResourceDescription } from '../types.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  arr,
  child,
  clone,
  column,
  get,
  isLabelValue,
  isQualifiedName,
  rec,
  recs,
  spec,
  status,
  str,
} from './util.js';

const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

export function defaultNode(obj: KubeObject): void {
  const st = rec(obj.status);
  if (!st) return;
  for (const key of ['capacity', 'allocatable']) {
    const list = rec(st[key]);
    if (list) for (const k of Object.keys(list)) list[k] = canonicalQuantity(list[k]);
  }
  if (st.allocatable === undefined && st.capacity !== undefined) st.allocatable = clone(st.capacity);
}

function isCIDR(v: string): boolean {
  const m = /^(.+)\/(\d{1,3})$/.exec(v);
  if (!m) return false;
  const bits = Number.parseInt(m[2] ?? '', 10);
  const ip = m[1] ?? '';
  const v6 = ip.includes(':');
  if (bits > (v6 ? 128 : 32)) return false;
  return v6
    ? /^[0-9a-fA-F:.]+$/.test(ip)
    : /^(\d{1,3}\.){3}\d{1,3}$/.test(ip) && ip.split('.').every((x) => Number(x) <= 255);
}

export function validateNode(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  const seen = new Set<string>();
  recs(s.taints).forEach((t, i) => {
    const p = `spec.taints[${i}]`;
    const key = str(t.key);
    for (const m of isQualifiedName(key)) errs.push(fieldErr.invalid(`${p}.key`, key, m));
    if (t.value !== undefined)
      for (const m of isLabelValue(str(t.value))) errs.push(fieldErr.invalid(`${p}.value`, t.value, m));
    const effect = str(t.effect);
    if (effect === '') errs.push(fieldErr.required(`${p}.effect`));
    else if (!TAINT_EFFECTS.includes(effect))
      errs.push(fieldErr.notSupported(`${p}.effect`, effect, TAINT_EFFECTS));
    const id = `${key}:${effect}`;
    if (seen.has(id)) errs.push(fieldErr.duplicate(p, t));
    seen.add(id);
  });
  const podCIDRs = arr(s.podCIDRs).map(String);
  podCIDRs.forEach((c, i) => {
    if (!isCIDR(c))
      errs.push(
        fieldErr.invalid(
          `spec.podCIDRs[${i}]`,
          c,
          'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
        ),
      );
  });
  if (podCIDRs.length > 2)
    errs.push(
      fieldErr.invalid('spec.podCIDRs', podCIDRs, 'may specify no more than one CIDR for each IP family'),
    );
  if (typeof s.podCIDR === 'string' && s.podCIDR !== '' && podCIDRs.length > 0 && podCIDRs[0] !== s.podCIDR)
    errs.push(fieldErr.invalid('spec.podCIDRs', podCIDRs, 'first value must match `podCIDR`'));
  return errs;
}

export function validateNodeUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateNode(obj);
  const oldCIDRs = arr(spec(old).podCIDRs);
  if (oldCIDRs.length > 0 && JSON.stringify(spec(obj).podCIDRs) !== JSON.stringify(oldCIDRs))
    errs.push(
      fieldErr.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'),
    );
  const oldProvider = str(spec(old).providerID);
  if (oldProvider !== '' && str(spec(obj).providerID) !== oldProvider)
    errs.push(
      fieldErr.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'),
    );
  return errs;
}

export function nodeStatusText(o: KubeObject): string {
  const parts: string[] = [];
  const ready = recs(status(o).conditions).find((c) => c.type === 'Ready');
  if (ready) parts.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (parts.length === 0) parts.push('Unknown');
  if (spec(o).unschedulable === true) parts.push('SchedulingDisabled');
  return parts.join(',');
}

export function nodeRoles(o: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role !== '') roles.add(role);
    } else if (k === 'kubernetes.io/role' && v !== '') {
      roles.add(v);
    }
  }
  const list = [...roles].sort();
  return list.length === 0 ? '<none>' : list.join(',');
}

function address(o: KubeObject, type: string): string {
  const a = recs(status(o).addresses).find((x) => x.type === type);
  return a ? str(a.address) : '<none>';
}
const info = (o: KubeObject, k: string): string => str(get(status(o), 'nodeInfo', k));
const orUnknown = (v: string): string => (v === '' ? '<unknown>' : v);

export const nodeColumns = [
  NAME_COLUMN,
  column('Status', 'string', 'The status of the node', (o) => nodeStatusText(o)),
  column('Roles', 'string', 'The roles of the node', (o) => nodeRoles(o)),
  AGE_COLUMN,
  column('Version', 'string', 'Kubelet Version reported by the node.', (o) => info(o, 'kubeletVersion')),
  column(
    'Internal-IP',
    'string',
    'List of addresses reachable to the node.',
    (o) => address(o, 'InternalIP'),
    1,
  ),
  column(
    'External-IP',
    'string',
    'List of addresses reachable to the node.',
    (o) => address(o, 'ExternalIP'),
    1,
  ),
  column(
    'OS-Image',
    'string',
    'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
    (o) => orUnknown(info(o, 'osImage')),
    1,
  ),
  column(
    'Kernel-Version',
    'string',
    "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    (o) => orUnknown(info(o, 'kernelVersion')),
    1,
  ),
  column(
    'Container-Runtime',
    'string',
    'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
    (o) => orUnknown(info(o, 'containerRuntimeVersion')),
    1,
  ),
];

export const nodeResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  shortNames: ['no'],
  namespaced: false,
  schemaRef: 'io.k8s.api.core.v1.Node',
  subresources: { status: true },
  tableColumns: nodeColumns,
  fieldSelectors: { 'spec.unschedulable': (o) => String(spec(o).unschedulable === true) },
  strategy: {
    default: defaultNode,
    prepareForCreate(obj) {
      // A node registers with its status; only the config source is dropped as upstream does.
      const s = child(obj, 'spec');
      delete s.configSource;
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
    },
    validate: validateNode,
    validateUpdate: validateNodeUpdate,
  },
};
