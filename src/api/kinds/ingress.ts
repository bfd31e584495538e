// networking.k8s.io/v1 Ingress, plus extensions/v1beta1 and networking.k8s.io/v1beta1 Ingress
// served by conversion (serviceName/servicePort ⇄ service.name/port.number|name).
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  PORT_RANGE_MSG,
  arr,
  child,
  clone,
  column,
  isDNS1123Subdomain,
  isValidIP,
  isValidPortName,
  isValidPortNum,
  rec,
  recs,
  setDefault,
  spec,
  status,
  str,
  type Obj,
} from './util.js';
import { servedStrategy } from './served-version.js';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

function isDNS1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(v)) errs.push(DNS1035_MSG);
  return errs;
}

function isWildcardDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!/^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v))
    errs.push(
      "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  return errs;
}

function validateHost(host: string, path: string, errs: FieldError[]): void {
  if (isValidIP(host)) {
    errs.push(fieldErr.invalid(path, host, 'must be a DNS name, not an IP address'));
    return;
  }
  const msgs = host.startsWith('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  for (const m of msgs) errs.push(fieldErr.invalid(path, host, m));
}

function validateBackend(b: Obj, path: string, errs: FieldError[]): void {
  const svc = rec(b.service);
  const res = rec(b.resource);
  if (svc && res) {
    errs.push(fieldErr.invalid(path, b, 'cannot set both resource and service backends'));
    return;
  }
  if (res) {
    if (str(res.kind) === '') errs.push(fieldErr.required(`${path}.resource.kind`));
    if (str(res.name) === '') errs.push(fieldErr.required(`${path}.resource.name`));
    return;
  }
  if (!svc) {
    errs.push(fieldErr.invalid(path, b, 'resource or service backend is required'));
    return;
  }
  const name = str(svc.name);
  if (name === '') errs.push(fieldErr.required(`${path}.service.name`));
  else for (const m of isDNS1035Label(name)) errs.push(fieldErr.invalid(`${path}.service.name`, name, m));
  const port = rec(svc.port) ?? {};
  const hasName = str(port.name) !== '';
  const hasNumber = port.number !== undefined && port.number !== null && port.number !== 0;
  if (hasName && hasNumber)
    errs.push(fieldErr.invalid(`${path}.service.port`, port, 'cannot set both port name & port number'));
  else if (hasName)
    for (const m of isValidPortName(str(port.name)))
      errs.push(fieldErr.invalid(`${path}.service.port.name`, port.name, m));
  else if (hasNumber) {
    if (!isValidPortNum(port.number))
      errs.push(fieldErr.invalid(`${path}.service.port.number`, port.number, PORT_RANGE_MSG));
  } else errs.push(fieldErr.required(`${path}.service.port`, 'port name or number is required'));
}

export function validateIngress(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  const rules = recs(s.rules);
  const db = rec(s.defaultBackend);
  if (!db && rules.length === 0)
    errs.push(fieldErr.invalid('spec', s, 'either `defaultBackend` or `rules` must be specified'));
  if (db) validateBackend(db, 'spec.defaultBackend', errs);
  rules.forEach((r, i) => {
    const rp = `spec.rules[${i}]`;
    const host = str(r.host);
    if (host !== '') validateHost(host, `${rp}.host`, errs);
    const http = rec(r.http);
    if (!http) return;
    const paths = recs(http.paths);
    if (paths.length === 0) errs.push(fieldErr.required(`${rp}.http.paths`));
    paths.forEach((p, j) => {
      const pp = `${rp}.http.paths[${j}]`;
      const pt = p.pathType;
      const path = str(p.path);
      if (pt === undefined || pt === null || pt === '')
        errs.push(fieldErr.required(`${pp}.pathType`, 'pathType must be specified'));
      else if (!PATH_TYPES.includes(str(pt)))
        errs.push(fieldErr.notSupported(`${pp}.pathType`, pt, PATH_TYPES));
      else if (pt === 'Exact' || pt === 'Prefix') {
        if (!path.startsWith('/'))
          errs.push(fieldErr.invalid(`${pp}.path`, path, 'must be an absolute path'));
        else if (/\/\/|\/\.\.?(\/|$)|\/%2f|\/%2F/.test(path))
          errs.push(fieldErr.invalid(`${pp}.path`, path, "must not contain '//', '/./' or '/../'"));
      } else if (path !== '' && !path.startsWith('/')) {
        errs.push(fieldErr.invalid(`${pp}.path`, path, 'must be an absolute path'));
      }
      const b = rec(p.backend);
      if (!b) errs.push(fieldErr.required(`${pp}.backend`));
      else validateBackend(b, `${pp}.backend`, errs);
    });
  });
  recs(s.tls).forEach((t, i) => {
    arr(t.hosts).forEach((h, j) => validateHost(String(h), `spec.tls[${i}].hosts[${j}]`, errs));
    const sn = str(t.secretName);
    if (sn !== '')
      for (const m of isDNS1123Subdomain(sn)) errs.push(fieldErr.invalid(`spec.tls[${i}].secretName`, sn, m));
  });
  const cls = s.ingressClassName;
  if (typeof cls === 'string')
    for (const m of isDNS1123Subdomain(cls)) errs.push(fieldErr.invalid('spec.ingressClassName', cls, m));
  return errs;
}

function formatHosts(o: KubeObject): string {
  const hosts = recs(spec(o).rules)
    .map((r) => str(r.host))
    .filter((h) => h !== '');
  if (hosts.length === 0) return '*';
  const max = 3;
  const ret = hosts.slice(0, max).join(',');
  return hosts.length > max ? `${ret} + ${hosts.length - max} more...` : ret;
}

export const ingressColumns = [
  NAME_COLUMN,
  column('Class', 'string', 'The name of the IngressClass resource.', (o) =>
    typeof spec(o).ingressClassName === 'string' ? str(spec(o).ingressClassName) : '<none>',
  ),
  column('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule', (o) =>
    formatHosts(o),
  ),
  column('Address', 'string', 'Address is a list containing ingress points for the load-balancer', (o) =>
    recs(rec(status(o).loadBalancer)?.ingress)
      .map((i) => str(i.ip) || str(i.hostname))
      .filter((x) => x !== '')
      .join(','),
  ),
  column('Ports', 'string', 'Ports of TLS configurations that open', (o) =>
    arr(spec(o).tls).length > 0 ? '80, 443' : '80',
  ),
  AGE_COLUMN,
];

export const ingressResource: ResourceDescription = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  shortNames: ['ing'],
  namespaced: true,
  schemaRef: 'io.k8s.api.networking.v1.Ingress',
  subresources: { status: true },
  tableColumns: ingressColumns,
  strategy: {
    prepareForCreate(obj) {
      obj.status = { loadBalancer: {} };
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
    },
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
    },
    validate: validateIngress,
    validateUpdate: (obj) => validateIngress(obj),
  },
};

// ---- v1beta1 ⇄ v1 ----

function backendToV1(b: Obj): Obj {
  const out: Obj = {};
  if (b.resource !== undefined) out.resource = clone(b.resource);
  if (b.serviceName !== undefined || b.servicePort !== undefined) {
    const port = b.servicePort;
    out.service = {
      name: str(b.serviceName),
      port: typeof port === 'string' ? { name: port } : typeof port === 'number' ? { number: port } : {},
    };
  }
  return out;
}

function backendFromV1(b: Obj): Obj {
  const out: Obj = {};
  if (b.resource !== undefined) out.resource = clone(b.resource);
  const svc = rec(b.service);
  if (svc) {
    out.serviceName = str(svc.name);
    const port = rec(svc.port) ?? {};
    if (str(port.name) !== '') out.servicePort = port.name;
    else if (typeof port.number === 'number') out.servicePort = port.number;
  }
  return out;
}

function mapBackends(obj: KubeObject, apiVersion: string, toV1: boolean): KubeObject {
  const out = clone(obj);
  out.apiVersion = apiVersion;
  const s = rec(out.spec);
  if (!s) return out;
  const conv = toV1 ? backendToV1 : backendFromV1;
  const fromKey = toV1 ? 'backend' : 'defaultBackend';
  const toKey = toV1 ? 'defaultBackend' : 'backend';
  const top = rec(s[fromKey]);
  if (top) {
    delete s[fromKey];
    s[toKey] = conv(top);
  }
  for (const r of recs(s.rules))
    for (const p of recs(rec(r.http)?.paths)) {
      const b = rec(p.backend);
      if (b) p.backend = conv(b);
    }
  return out;
}

export function ingressV1beta1ToV1(obj: KubeObject): KubeObject {
  return mapBackends(obj, 'networking.k8s.io/v1', true);
}
export function ingressV1ToV1beta1(obj: KubeObject, apiVersion: string): KubeObject {
  return mapBackends(obj, apiVersion, false);
}

/** v1beta1 defaults: pathType ImplementationSpecific. */
export function defaultIngressV1beta1(obj: KubeObject): void {
  const s = child(obj, 'spec');
  for (const r of recs(s.rules))
    for (const p of recs(rec(r.http)?.paths)) setDefault(p, 'pathType', 'ImplementationSpecific');
}

export const ingressExtensionsV1beta1Resource: ResourceDescription = {
  ...ingressResource,
  group: 'extensions',
  version: 'v1beta1',
  schemaRef: 'io.k8s.api.extensions.v1beta1.Ingress',
  strategy: servedStrategy(
    ingressResource.strategy ?? {},
    { toStorage: ingressV1beta1ToV1, fromStorage: (o) => ingressV1ToV1beta1(o, 'extensions/v1beta1') },
    defaultIngressV1beta1,
  ),
  conversion: {
    storageGroup: 'networking.k8s.io',
    storageVersion: 'v1',
    toStorage: ingressV1beta1ToV1,
    fromStorage: (o) => ingressV1ToV1beta1(o, 'extensions/v1beta1'),
    deprecationWarning:
      'extensions/v1beta1 Ingress is deprecated in v1.14+, unavailable in v1.22+; use networking.k8s.io/v1 Ingress',
  },
};

export const ingressNetworkingV1beta1Resource: ResourceDescription = {
  ...ingressResource,
  version: 'v1beta1',
  schemaRef: 'io.k8s.api.networking.v1beta1.Ingress',
  strategy: servedStrategy(
    ingressResource.strategy ?? {},
    { toStorage: ingressV1beta1ToV1, fromStorage: (o) => ingressV1ToV1beta1(o, 'networking.k8s.io/v1beta1') },
    defaultIngressV1beta1,
  ),
  conversion: {
    storageGroup: 'networking.k8s.io',
    storageVersion: 'v1',
    toStorage: ingressV1beta1ToV1,
    fromStorage: (o) => ingressV1ToV1beta1(o, 'networking.k8s.io/v1beta1'),
    deprecationWarning:
      'networking.k8s.io/v1beta1 Ingress is deprecated in v1.19+, unavailable in v1.22+; use networking.k8s.io/v1 Ingress',
  },
};
