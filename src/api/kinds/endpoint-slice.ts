// discovery.k8s.io/v1 EndpointSlice.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  arr,
  column,
  isDNS1123Label,
  isInt,
  isValidIP,
  recs,
  setDefault,
  str,
  validateLabels,
} from './util.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

export function defaultEndpointSlice(obj: KubeObject): void {
  for (const p of recs(obj.ports)) {
    setDefault(p, 'protocol', 'TCP');
    setDefault(p, 'name', '');
  }
}

export function validateEndpointSlice(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const at = obj.addressType;
  if (at === undefined || at === '') errs.push(fieldErr.required('addressType'));
  else if (!ADDRESS_TYPES.includes(str(at)))
    errs.push(fieldErr.notSupported('addressType', at, ['IPv4', 'IPv6', 'FQDN']));
  const endpoints = recs(obj.endpoints);
  if (endpoints.length > 1000) errs.push(fieldErr.tooMany('endpoints', endpoints.length, 1000));
  endpoints.forEach((e, i) => {
    const addrs = arr(e.addresses);
    if (addrs.length === 0)
      errs.push(fieldErr.required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
    else if (addrs.length > 100) errs.push(fieldErr.tooMany(`endpoints[${i}].addresses`, addrs.length, 100));
    addrs.forEach((a, j) => {
      const s = typeof a === 'string' ? a : '';
      const p = `endpoints[${i}].addresses[${j}]`;
      if (at === 'IPv4' && (!isValidIP(s) || s.includes(':')))
        errs.push(fieldErr.invalid(p, a, 'must be a valid IPv4 address'));
      if (at === 'IPv6' && (!isValidIP(s) || !s.includes(':')))
        errs.push(fieldErr.invalid(p, a, 'must be a valid IPv6 address'));
    });
    const hostname = str(e.hostname);
    if (hostname !== '')
      for (const m of isDNS1123Label(hostname))
        errs.push(fieldErr.invalid(`endpoints[${i}].hostname`, hostname, m));
    validateLabels(e.deprecatedTopology, `endpoints[${i}].deprecatedTopology`, errs);
  });
  const ports = recs(obj.ports);
  if (ports.length > 20000) errs.push(fieldErr.tooMany('ports', ports.length, 20000));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const name = str(p.name);
    if (name !== '')
      for (const m of isDNS1123Label(name)) errs.push(fieldErr.invalid(`ports[${i}].name`, name, m));
    if (names.has(name)) errs.push(fieldErr.duplicate(`ports[${i}].name`, name));
    names.add(name);
    if (p.protocol === undefined) errs.push(fieldErr.required(`ports[${i}].protocol`));
    else if (!['SCTP', 'TCP', 'UDP'].includes(str(p.protocol)))
      errs.push(fieldErr.notSupported(`ports[${i}].protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
    if (p.port !== undefined && p.port !== null && (!isInt(p.port) || p.port < 0 || p.port > 65535))
      errs.push(fieldErr.invalid(`ports[${i}].port`, p.port, 'must be between 0 and 65535, inclusive'));
  });
  return errs;
}

function formatPorts(obj: KubeObject): string {
  const ports = recs(obj.ports);
  if (ports.length === 0) return '<unset>';
  const max = 3;
  const list = ports.slice(0, max).map((p) => (typeof p.port === 'number' ? String(p.port) : '<unset>'));
  const ret = list.join(',');
  return ports.length > max ? `${ret} + ${ports.length - max} more...` : ret;
}

function formatAddresses(obj: KubeObject): string {
  const all = recs(obj.endpoints).flatMap((e) => arr(e.addresses).map(String));
  if (all.length === 0) return '<unset>';
  const max = 3;
  const ret = all.slice(0, max).join(',');
  return all.length > max ? `${ret} + ${all.length - max} more...` : ret;
}

export const endpointSliceResource: ResourceDescription = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  schemaRef: 'io.k8s.api.discovery.v1.EndpointSlice',
  tableColumns: [
    NAME_COLUMN,
    column('AddressType', 'string', 'The type of address carried by this EndpointSlice.', (o) =>
      str(o.addressType),
    ),
    column('Ports', 'string', 'The ports exposed by this EndpointSlice.', (o) => formatPorts(o)),
    column('Endpoints', 'string', 'The addresses of the endpoints in this EndpointSlice.', (o) =>
      formatAddresses(o),
    ),
    AGE_COLUMN,
  ],
  strategy: {
    default: defaultEndpointSlice,
    validate: validateEndpointSlice,
    validateUpdate(obj, old) {
      const errs = validateEndpointSlice(obj);
      if (obj.addressType !== old.addressType)
        errs.push(fieldErr.invalid('addressType', obj.addressType ?? '', 'field is immutable'));
      return errs;
    },
  },
};
