// core/v1 Service: defaults, validation (allocation itself belongs to the API server), table, and
// the carry-over of allocated values (clusterIP, nodePorts) on updates that omit them.
import { fieldErr, type FieldError } from '../errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import {
  AGE_COLUMN,
  IP_MSG,
  NAME_COLUMN,
  PORT_RANGE_MSG,
  arr,
  child,
  clone,
  column,
  formatLabels,
  isDNS1123Label,
  isDNS1123Subdomain,
  isInt,
  isValidIP,
  isValidPortName,
  isValidPortNum,
  rec,
  recs,
  setDefault,
  spec,
  status,
  str,
  validateLabels,
  type Obj,
} from './util.js';

export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;
const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function needsClusterIP(s: Obj): boolean {
  return str(s.type) !== 'ExternalName';
}
function needsNodePorts(s: Obj): boolean {
  return s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);
}

export function defaultService(obj: KubeObject): void {
  const s = child(obj, 'spec');
  setDefault(s, 'sessionAffinity', 'None');
  if (s.sessionAffinity === 'ClientIP') {
    const cfg = child(child(s, 'sessionAffinityConfig'), 'clientIP');
    setDefault(cfg, 'timeoutSeconds', 10800);
  }
  setDefault(s, 'type', 'ClusterIP');
  for (const p of recs(s.ports)) {
    setDefault(p, 'protocol', 'TCP');
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '')
      p.targetPort = p.port;
  }
  if (
    (s.type === 'NodePort' || s.type === 'LoadBalancer') &&
    (s.externalTrafficPolicy === undefined || s.externalTrafficPolicy === '')
  )
    s.externalTrafficPolicy = 'Cluster';
  if (s.type !== 'ExternalName') setDefault(s, 'internalTrafficPolicy', 'Cluster');
  if (s.type === 'LoadBalancer') setDefault(s, 'allocateLoadBalancerNodePorts', true);
  // What the API server's IP family logic settles on a single-stack cluster.
  if (needsClusterIP(s)) {
    if (typeof s.clusterIP === 'string' && s.clusterIP !== '' && arr(s.clusterIPs).length === 0)
      s.clusterIPs = [s.clusterIP];
    setDefault(s, 'ipFamilyPolicy', 'SingleStack');
    if (arr(s.ipFamilies).length === 0) {
      const first = str(arr(s.clusterIPs)[0]);
      s.ipFamilies = [first.includes(':') ? 'IPv6' : 'IPv4'];
    }
  }
}

export function validateService(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec(obj);
  const type = str(s.type);
  if (!TYPES.includes(type)) errs.push(fieldErr.notSupported('spec.type', s.type ?? '', TYPES));
  const clusterIP = str(s.clusterIP);
  const headless = clusterIP === 'None';
  const ports = recs(s.ports);
  if (type === 'ExternalName') {
    if (clusterIP !== '')
      errs.push(fieldErr.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    const en = str(s.externalName).replace(/\.$/, '');
    if (en === '') errs.push(fieldErr.required('spec.externalName'));
    else
      for (const m of isDNS1123Subdomain(en))
        errs.push(fieldErr.invalid('spec.externalName', s.externalName, m));
  } else if (ports.length === 0 && !headless) {
    errs.push(fieldErr.required('spec.ports'));
  }
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((p, i) => {
    const pp = `spec.ports[${i}]`;
    const name = str(p.name);
    if (ports.length > 1 && name === '') errs.push(fieldErr.required(`${pp}.name`));
    else if (name !== '') {
      for (const m of isDNS1123Label(name)) errs.push(fieldErr.invalid(`${pp}.name`, name, m));
      if (names.has(name)) errs.push(fieldErr.duplicate(`${pp}.name`, name));
      names.add(name);
    }
    if (!isValidPortNum(p.port)) errs.push(fieldErr.invalid(`${pp}.port`, p.port ?? 0, PORT_RANGE_MSG));
    const proto = p.protocol;
    if (proto === undefined || proto === '') errs.push(fieldErr.required(`${pp}.protocol`));
    else if (!PROTOCOLS.includes(str(proto)))
      errs.push(fieldErr.notSupported(`${pp}.protocol`, proto, PROTOCOLS));
    const tp = p.targetPort;
    if (typeof tp === 'number') {
      if (!isValidPortNum(tp)) errs.push(fieldErr.invalid(`${pp}.targetPort`, tp, PORT_RANGE_MSG));
    } else if (typeof tp === 'string') {
      for (const m of isValidPortName(tp)) errs.push(fieldErr.invalid(`${pp}.targetPort`, tp, m));
    }
    const np = p.nodePort;
    if (isInt(np) && np !== 0) {
      if (type === 'ClusterIP')
        errs.push(fieldErr.forbidden(`${pp}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      else if (type === 'ExternalName')
        errs.push(fieldErr.forbidden(`${pp}.nodePort`, "may not be used when `type` is 'ExternalName'"));
      else if (np < NODE_PORT_MIN || np > NODE_PORT_MAX)
        errs.push(
          fieldErr.invalid(
            `${pp}.nodePort`,
            np,
            `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`,
          ),
        );
      const key = `${np}/${str(proto)}`;
      if (keys.has(key)) errs.push(fieldErr.duplicate(`${pp}.nodePort`, np));
      keys.add(key);
    }
    if (p.appProtocol !== undefined && typeof p.appProtocol === 'string') {
      const ap = p.appProtocol;
      if (ap.includes('/')) {
        const [prefix = '', n = ''] = ap.split('/', 2);
        if (isDNS1123Subdomain(prefix).length > 0 || n === '')
          errs.push(fieldErr.invalid(`${pp}.appProtocol`, ap, 'must be a valid qualified name'));
      }
    }
  });
  const ips = arr(s.clusterIPs).map(String);
  if (clusterIP !== '' && ips.length > 0 && ips[0] !== clusterIP)
    errs.push(fieldErr.invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  ips.forEach((ip, i) => {
    if (ip === 'None') {
      if (i > 0 || ips.length > 1)
        errs.push(fieldErr.invalid(`spec.clusterIPs[${i}]`, ip, "'None' must be the first and only value"));
    } else if (!isValidIP(ip)) errs.push(fieldErr.invalid(`spec.clusterIPs[${i}]`, ip, IP_MSG));
  });
  if (clusterIP !== '' && clusterIP !== 'None' && ips.length === 0 && !isValidIP(clusterIP))
    errs.push(fieldErr.invalid('spec.clusterIPs[0]', clusterIP, IP_MSG));
  if (headless && (type === 'NodePort' || type === 'LoadBalancer'))
    errs.push(
      fieldErr.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`),
    );
  const sa = s.sessionAffinity;
  if (sa !== undefined && sa !== 'None' && sa !== 'ClientIP')
    errs.push(fieldErr.notSupported('spec.sessionAffinity', sa, ['ClientIP', 'None']));
  if (sa === 'ClientIP') {
    const t = rec(rec(rec(s.sessionAffinityConfig)?.clientIP))?.timeoutSeconds;
    if (isInt(t) && (t <= 0 || t > 86400))
      errs.push(
        fieldErr.invalid(
          'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
          t,
          'must be greater than 0 and less than 86400',
        ),
      );
  }
  const etp = s.externalTrafficPolicy;
  if (etp !== undefined && etp !== '') {
    if (type !== 'NodePort' && type !== 'LoadBalancer')
      errs.push(
        fieldErr.invalid(
          'spec.externalTrafficPolicy',
          etp,
          "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
        ),
      );
    else if (etp !== 'Cluster' && etp !== 'Local')
      errs.push(fieldErr.notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']));
  } else if (type === 'NodePort' || type === 'LoadBalancer') {
    errs.push(fieldErr.required('spec.externalTrafficPolicy'));
  }
  const itp = s.internalTrafficPolicy;
  if (itp !== undefined && itp !== 'Cluster' && itp !== 'Local')
    errs.push(fieldErr.notSupported('spec.internalTrafficPolicy', itp, ['Cluster', 'Local']));
  const ifp = s.ipFamilyPolicy;
  if (ifp !== undefined && !['PreferDualStack', 'RequireDualStack', 'SingleStack'].includes(str(ifp)))
    errs.push(
      fieldErr.notSupported('spec.ipFamilyPolicy', ifp, [
        'PreferDualStack',
        'RequireDualStack',
        'SingleStack',
      ]),
    );
  arr(s.ipFamilies).forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6')
      errs.push(fieldErr.notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
  });
  arr(s.externalIPs).forEach((ip, i) => {
    if (typeof ip !== 'string' || !isValidIP(ip))
      errs.push(fieldErr.invalid(`spec.externalIPs[${i}]`, ip, IP_MSG));
  });
  if (type === 'ClusterIP' || type === 'ExternalName' || type === 'NodePort') {
    if (s.allocateLoadBalancerNodePorts !== undefined && s.allocateLoadBalancerNodePorts !== null)
      errs.push(
        fieldErr.forbidden(
          'spec.allocateLoadBalancerNodePorts',
          "may only be used when `type` is 'LoadBalancer'",
        ),
      );
    if (isInt(s.healthCheckNodePort) && s.healthCheckNodePort !== 0)
      errs.push(
        fieldErr.invalid(
          'spec.healthCheckNodePort',
          s.healthCheckNodePort,
          "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
      );
  }
  validateLabels(s.selector, 'spec.selector', errs);
  return errs;
}

/** patchAllocatedValues: an update that leaves out allocated values keeps the old ones. */
export function carryOverAllocations(obj: KubeObject, old: KubeObject): void {
  const s = child(obj, 'spec');
  const o = spec(old);
  if (needsClusterIP(o) && needsClusterIP(s)) {
    if (str(s.clusterIP) === '' || s.clusterIP === undefined) {
      if (o.clusterIP !== undefined) s.clusterIP = clone(o.clusterIP);
      if (o.clusterIPs !== undefined) s.clusterIPs = clone(o.clusterIPs);
    } else if (arr(s.clusterIPs).length === 0 && o.clusterIPs !== undefined && s.clusterIP === o.clusterIP) {
      s.clusterIPs = clone(o.clusterIPs);
    }
    if (arr(s.ipFamilies).length === 0 && o.ipFamilies !== undefined) s.ipFamilies = clone(o.ipFamilies);
    if (s.ipFamilyPolicy === undefined && o.ipFamilyPolicy !== undefined) s.ipFamilyPolicy = o.ipFamilyPolicy;
  }
  if (needsNodePorts(o) && needsNodePorts(s)) {
    const oldPorts = recs(o.ports);
    for (const p of recs(s.ports)) {
      if (isInt(p.nodePort) && p.nodePort !== 0) continue;
      const match =
        oldPorts.find(
          (q) => q.port === p.port && str(q.protocol) === str(p.protocol) && str(q.name) === str(p.name),
        ) ?? (oldPorts.length === 1 && recs(s.ports).length === 1 ? oldPorts[0] : undefined);
      if (match && isInt(match.nodePort)) p.nodePort = match.nodePort;
    }
  }
  if (
    s.type === 'LoadBalancer' &&
    s.externalTrafficPolicy === 'Local' &&
    (s.healthCheckNodePort === undefined || s.healthCheckNodePort === 0) &&
    o.healthCheckNodePort !== undefined
  )
    s.healthCheckNodePort = o.healthCheckNodePort;
}

function sameStrings(a: unknown, b: unknown): boolean {
  const x = arr(a).map(String);
  const y = arr(b).map(String);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** NodePort or LoadBalancer, or a ClusterIP service with external IPs (upstream's ExternallyAccessible). */
function externallyAccessible(s: Obj): boolean {
  return (
    s.type === 'NodePort' ||
    s.type === 'LoadBalancer' ||
    (str(s.type) === 'ClusterIP' && arr(s.externalIPs).length > 0)
  );
}

/**
 * Upstream's dropTypeDependentFields: a change of type clears what only the old type used (cluster
 * IPs, node ports, the health-check port, allocateLoadBalancerNodePorts, loadBalancerClass,
 * externalTrafficPolicy) when the update left it as it was, so `kubectl edit` from NodePort back to
 * ClusterIP is accepted instead of failing on the node ports it still carries.
 */
export function dropTypeDependentFields(obj: KubeObject, old: KubeObject): void {
  const s = child(obj, 'spec');
  const o = spec(old);
  if (needsClusterIP(o) && !needsClusterIP(s)) {
    if (str(o.clusterIP) === str(s.clusterIP) && sameStrings(o.clusterIPs, s.clusterIPs)) {
      delete s.clusterIP;
      delete s.clusterIPs;
    }
    if (sameStrings(o.ipFamilies, s.ipFamilies)) delete s.ipFamilies;
    if (str(o.ipFamilyPolicy) === str(s.ipFamilyPolicy)) delete s.ipFamilyPolicy;
  }
  const usesNodePorts = (x: Obj): boolean => x.type === 'NodePort' || x.type === 'LoadBalancer';
  const nodePorts = (x: Obj): Set<number> =>
    new Set(
      recs(x.ports)
        .map((p) => p.nodePort)
        .filter((n): n is number => isInt(n) && n !== 0),
    );
  if (usesNodePorts(o) && !usesNodePorts(s)) {
    const before = nodePorts(o);
    if ([...nodePorts(s)].every((n) => before.has(n))) for (const p of recs(s.ports)) delete p.nodePort;
  }
  const usesHealthCheckPort = (x: Obj): boolean =>
    x.type === 'LoadBalancer' && x.externalTrafficPolicy === 'Local';
  if (
    usesHealthCheckPort(o) &&
    !usesHealthCheckPort(s) &&
    (o.healthCheckNodePort ?? 0) === (s.healthCheckNodePort ?? 0)
  )
    delete s.healthCheckNodePort;
  if (o.type === 'LoadBalancer' && s.type !== 'LoadBalancer') {
    if (
      typeof o.allocateLoadBalancerNodePorts === 'boolean' &&
      o.allocateLoadBalancerNodePorts === s.allocateLoadBalancerNodePorts
    )
      delete s.allocateLoadBalancerNodePorts;
    if (o.loadBalancerClass === s.loadBalancerClass) delete s.loadBalancerClass;
  }
  if (
    externallyAccessible(o) &&
    !externallyAccessible(s) &&
    str(o.externalTrafficPolicy) === str(s.externalTrafficPolicy)
  )
    delete s.externalTrafficPolicy;
  if (s.type !== 'LoadBalancer') child(obj, 'status').loadBalancer = {};
}

export function validateServiceUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateService(obj);
  const s = spec(obj);
  const o = spec(old);
  if (needsClusterIP(s) && needsClusterIP(o)) {
    const newIPs = arr(s.clusterIPs).map(String);
    const oldIPs = arr(o.clusterIPs).map(String);
    if (oldIPs.length > 0 && newIPs[0] !== oldIPs[0])
      errs.push(fieldErr.invalid('spec.clusterIPs[0]', newIPs, 'may not change once set'));
    else if (oldIPs.length === 0 && str(o.clusterIP) !== '' && str(s.clusterIP) !== str(o.clusterIP))
      errs.push(fieldErr.invalid('spec.clusterIP', s.clusterIP ?? '', 'field is immutable'));
  }
  return errs;
}

function loadBalancerText(st: Obj): string {
  return recs(rec(st.loadBalancer)?.ingress)
    .map((i) => str(i.ip) || str(i.hostname))
    .filter((x) => x !== '')
    .join(',');
}

export function serviceExternalIP(o: KubeObject): string {
  const s = spec(o);
  const external = arr(s.externalIPs).map(String);
  switch (s.type) {
    case 'ClusterIP':
    case 'NodePort':
    case undefined:
      return external.length > 0 ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerText(status(o));
      if (external.length > 0) return [...(lb ? lb.split(',') : []), ...external].join(',');
      return lb !== '' ? lb : '<pending>';
    }
    case 'ExternalName':
      return str(s.externalName);
    default:
      return '<unknown>';
  }
}

export function servicePorts(o: KubeObject): string {
  const text = recs(spec(o).ports)
    .map((p) =>
      isInt(p.nodePort) && p.nodePort > 0
        ? `${String(p.port)}:${p.nodePort}/${str(p.protocol)}`
        : `${String(p.port)}/${str(p.protocol)}`,
    )
    .join(',');
  return text === '' ? '<none>' : text;
}

export const serviceColumns = [
  NAME_COLUMN,
  column('Type', 'string', 'How the service is exposed.', (o) => str(spec(o).type)),
  column('Cluster-IP', 'string', 'The IP address of the service inside the cluster.', (o) => {
    const ips = arr(spec(o).clusterIPs);
    return ips.length > 0 ? String(ips[0]) : str(spec(o).clusterIP) || '<none>';
  }),
  column(
    'External-IP',
    'string',
    'The addresses the service is reachable at from outside the cluster.',
    (o) => serviceExternalIP(o),
  ),
  column('Port(s)', 'string', 'The ports the service exposes.', (o) => servicePorts(o)),
  AGE_COLUMN,
  column(
    'Selector',
    'string',
    'The labels of the pods the service sends traffic to.',
    (o) => formatLabels(spec(o).selector),
    1,
  ),
];

export const serviceResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  shortNames: ['svc'],
  categories: ['all'],
  namespaced: true,
  nameRule: 'dns-1035-label',
  schemaRef: 'io.k8s.api.core.v1.Service',
  subresources: { status: true },
  tableColumns: serviceColumns,
  fieldSelectors: {
    'spec.clusterIP': (o) => str(spec(o).clusterIP),
    'spec.type': (o) => str(spec(o).type),
  },
  strategy: {
    default: defaultService,
    prepareForCreate(obj) {
      obj.status = { loadBalancer: {} };
    },
    prepareForUpdate(obj, old) {
      obj.status = clone(old.status);
      carryOverAllocations(obj, old);
      dropTypeDependentFields(obj, old);
    },
    prepareForStatusUpdate(obj, old) {
      obj.spec = clone(old.spec);
    },
    validate: validateService,
    validateUpdate: validateServiceUpdate,
  },
};
