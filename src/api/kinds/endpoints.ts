// core/v1 Endpoints.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import {
  AGE_COLUMN,
  IP_MSG,
  NAME_COLUMN,
  PORT_RANGE_MSG,
  column,
  isDNS1123Label,
  isValidIP,
  isValidPortNum,
  recs,
  setDefault,
  str,
} from './util.js';

export function defaultEndpoints(obj: KubeObject): void {
  for (const ss of recs(obj.subsets)) for (const p of recs(ss.ports)) setDefault(p, 'protocol', 'TCP');
}

export function validateEndpoints(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  recs(obj.subsets).forEach((ss, i) => {
    const sp = `subsets[${i}]`;
    const addresses = [
      ...recs(ss.addresses).map((a) => ['addresses', a] as const),
      ...recs(ss.notReadyAddresses).map((a) => ['notReadyAddresses', a] as const),
    ];
    const counters: Record<string, number> = { addresses: 0, notReadyAddresses: 0 };
    for (const [kind, a] of addresses) {
      const idx = counters[kind] ?? 0;
      counters[kind] = idx + 1;
      const ip = str(a.ip);
      if (!isValidIP(ip)) errs.push(fieldErr.invalid(`${sp}.${kind}[${idx}].ip`, ip, IP_MSG));
      const hostname = str(a.hostname);
      if (hostname !== '')
        for (const m of isDNS1123Label(hostname))
          errs.push(fieldErr.invalid(`${sp}.${kind}[${idx}].hostname`, hostname, m));
    }
    const ports = recs(ss.ports);
    ports.forEach((p, j) => {
      const pp = `${sp}.ports[${j}]`;
      const name = str(p.name);
      if (ports.length > 1 && name === '') errs.push(fieldErr.required(`${pp}.name`));
      else if (name !== '')
        for (const m of isDNS1123Label(name)) errs.push(fieldErr.invalid(`${pp}.name`, name, m));
      if (!isValidPortNum(p.port)) errs.push(fieldErr.invalid(`${pp}.port`, p.port ?? 0, PORT_RANGE_MSG));
      if (p.protocol === undefined || p.protocol === '') errs.push(fieldErr.required(`${pp}.protocol`));
      else if (!['SCTP', 'TCP', 'UDP'].includes(str(p.protocol)))
        errs.push(fieldErr.notSupported(`${pp}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
    });
  });
  return errs;
}

function hostPort(ip: string, port: unknown): string {
  const p = typeof port === 'number' ? String(port) : str(port);
  return ip.includes(':') ? `[${ip}]:${p}` : `${ip}:${p}`;
}

/** formatEndpoints: up to three ip:port entries and "+ N more...", "<none>" without subsets. */
export function formatEndpoints(obj: KubeObject): string {
  const subsets = recs(obj.subsets);
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = recs(ss.addresses);
    const ports = recs(ss.ports);
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(str(a.ip));
      }
      continue;
    }
    for (const p of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(hostPort(str(a.ip), p.port));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.Endpoints',
  tableColumns: [
    NAME_COLUMN,
    column('Endpoints', 'string', 'The addresses and ports of the endpoints.', (o) => formatEndpoints(o)),
    AGE_COLUMN,
  ],
  strategy: {
    default: defaultEndpoints,
    validate: validateEndpoints,
    validateUpdate: (obj) => validateEndpoints(obj),
  },
};
