// networking.k8s.io/v1 NetworkPolicy.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  PORT_RANGE_MSG,
  arr,
  child,
  column,
  formatLabelSelector,
  isInt,
  isValidPortName,
  isValidPortNum,
  rec,
  recs,
  setDefault,
  spec,
  str,
  validateLabelSelector,
} from './util.js';

export function defaultNetworkPolicy(obj: KubeObject): void {
  const s = child(obj, 'spec');
  for (const dir of ['ingress', 'egress'])
    for (const rule of recs(s[dir])) for (const p of recs(rule.ports)) setDefault(p, 'protocol', 'TCP');
  if (arr(s.policyTypes).length === 0) {
    const types = ['Ingress'];
    if (arr(s.egress).length > 0) types.push('Egress');
    s.policyTypes = types;
  }
}

function isCIDR(v: string): boolean {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(v);
  if (!m) return false;
  const v6 = (m[1] ?? '').includes(':');
  const bits = Number.parseInt(m[2] ?? '', 10);
  if (bits > (v6 ? 128 : 32)) return false;
  return v6 || (m[1] ?? '').split('.').length === 4;
}

function validatePeers(peers: unknown, path: string, errs: FieldError[]): void {
  recs(peers).forEach((p, i) => {
    const pp = `${path}[${i}]`;
    const set = ['podSelector', 'namespaceSelector', 'ipBlock'].filter(
      (k) => p[k] !== undefined && p[k] !== null,
    );
    if (set.length === 0) errs.push(fieldErr.required(pp, 'must specify a peer'));
    if (p.ipBlock !== undefined && set.length > 1)
      errs.push(fieldErr.forbidden(pp, 'may not specify more than 1 peer type'));
    if (p.podSelector !== undefined) validateLabelSelector(p.podSelector, `${pp}.podSelector`, errs);
    if (p.namespaceSelector !== undefined)
      validateLabelSelector(p.namespaceSelector, `${pp}.namespaceSelector`, errs);
    const ib = rec(p.ipBlock);
    if (ib) {
      const cidr = str(ib.cidr);
      if (cidr === '') errs.push(fieldErr.required(`${pp}.ipBlock.cidr`));
      else if (!isCIDR(cidr))
        errs.push(
          fieldErr.invalid(
            `${pp}.ipBlock.cidr`,
            cidr,
            'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
          ),
        );
      arr(ib.except).forEach((e, j) => {
        if (!isCIDR(String(e)))
          errs.push(
            fieldErr.invalid(
              `${pp}.ipBlock.except[${j}]`,
              e,
              'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
            ),
          );
      });
    }
  });
}

function validatePorts(ports: unknown, path: string, errs: FieldError[]): void {
  recs(ports).forEach((p, i) => {
    const pp = `${path}[${i}]`;
    if (p.protocol !== undefined && !['SCTP', 'TCP', 'UDP'].includes(str(p.protocol)))
      errs.push(fieldErr.notSupported(`${pp}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
    const port = p.port;
    if (typeof port === 'number') {
      if (!isValidPortNum(port)) errs.push(fieldErr.invalid(`${pp}.port`, port, PORT_RANGE_MSG));
    } else if (typeof port === 'string') {
      for (const m of isValidPortName(port)) errs.push(fieldErr.invalid(`${pp}.port`, port, m));
    }
    if (p.endPort !== undefined && p.endPort !== null) {
      if (typeof port !== 'number')
        errs.push(fieldErr.required(`${pp}.port`, 'must be specified when endPort is specified'));
      else if (!isInt(p.endPort) || p.endPort < port)
        errs.push(fieldErr.invalid(`${pp}.endPort`, p.endPort, 'must be greater than or equal to `port`'));
      else if (!isValidPortNum(p.endPort))
        errs.push(fieldErr.invalid(`${pp}.endPort`, p.endPort, PORT_RANGE_MSG));
    }
  });
}

export function validateNetworkPolicy(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  validateLabelSelector(s.podSelector, 'spec.podSelector', errs);
  recs(s.ingress).forEach((r, i) => {
    validatePorts(r.ports, `spec.ingress[${i}].ports`, errs);
    validatePeers(r.from, `spec.ingress[${i}].from`, errs);
  });
  recs(s.egress).forEach((r, i) => {
    validatePorts(r.ports, `spec.egress[${i}].ports`, errs);
    validatePeers(r.to, `spec.egress[${i}].to`, errs);
  });
  const types = arr(s.policyTypes);
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress')
      errs.push(fieldErr.notSupported(`spec.policyTypes[${i}]`, t, ['Ingress', 'Egress']));
  });
  if (types.length > 2)
    errs.push(fieldErr.invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
  return errs;
}

export const networkPolicyResource: ResourceDescription = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  singular: 'networkpolicy',
  shortNames: ['netpol'],
  namespaced: true,
  schemaRef: 'io.k8s.api.networking.v1.NetworkPolicy',
  tableColumns: [
    NAME_COLUMN,
    column('Pod-Selector', 'string', 'The pods this policy applies to.', (o) =>
      formatLabelSelector(spec(o).podSelector),
    ),
    AGE_COLUMN,
  ],
  strategy: {
    default: defaultNetworkPolicy,
    validate: validateNetworkPolicy,
    validateUpdate: (obj) => validateNetworkPolicy(obj),
  },
};
