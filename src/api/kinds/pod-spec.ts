// PodSpec and PodTemplateSpec: the defaults (core/v1 SetDefaults_PodSpec, _Container, _Probe, …)
// and the validation (ValidatePodSpec and its parts) shared by Pod and every workload controller.
import { fieldErr, type FieldError } from '../errors.js';
import {
  canonicalQuantity,
  compareQuantity,
  formatQuantity,
  parseQuantity,
  QuantityError,
  type Quantity,
} from '../quantity.js';
import {
  arr,
  child,
  isDNS1123Label,
  isDNS1123Subdomain,
  isInt,
  isLabelValue,
  isQualifiedName,
  isValidPortName,
  isValidPortNum,
  NONNEGATIVE_MSG,
  PORT_RANGE_MSG,
  rec,
  recs,
  setDefault,
  str,
  validateAnnotations,
  validateLabels,
  validateNonnegative,
  type Obj,
} from './util.js';

// ---------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------

const VOLUME_SOURCES = [
  'hostPath',
  'emptyDir',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'persistentVolumeClaim',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'downwardAPI',
  'fc',
  'azureFile',
  'configMap',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'projected',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
  'image',
] as const;

/** The image's tag as upstream's parsers.ParseImageName sees it ('latest' when none, '' with a digest). */
export function imageTag(image: string): string {
  if (image === '') return '';
  if (image.includes('@')) return '';
  const lastSlash = image.lastIndexOf('/');
  const lastPart = image.slice(lastSlash + 1);
  const colon = lastPart.lastIndexOf(':');
  return colon < 0 ? 'latest' : lastPart.slice(colon + 1);
}

function defaultHttpGet(h: Obj | undefined): void {
  if (!h) return;
  setDefault(h, 'path', '/');
  setDefault(h, 'scheme', 'HTTP');
}

function defaultProbe(p: Obj | undefined): void {
  if (!p) return;
  setDefault(p, 'timeoutSeconds', 1);
  setDefault(p, 'periodSeconds', 10);
  setDefault(p, 'successThreshold', 1);
  setDefault(p, 'failureThreshold', 3);
  defaultHttpGet(rec(p.httpGet));
  const grpc = rec(p.grpc);
  if (grpc) setDefault(grpc, 'service', '');
}

function defaultLifecycle(l: Obj | undefined): void {
  if (!l) return;
  for (const k of ['postStart', 'preStop']) defaultHttpGet(rec(rec(l[k])?.httpGet));
}

function canonicalizeResourceList(list: unknown): void {
  const r = rec(list);
  if (!r) return;
  for (const k of Object.keys(r)) r[k] = canonicalQuantity(r[k]);
}

export function canonicalizeResources(res: unknown): void {
  const r = rec(res);
  if (!r) return;
  canonicalizeResourceList(r.limits);
  canonicalizeResourceList(r.requests);
}

export function defaultContainer(c: Obj): void {
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  if (c.imagePullPolicy === undefined || c.imagePullPolicy === '') {
    c.imagePullPolicy = imageTag(str(c.image)) === 'latest' ? 'Always' : 'IfNotPresent';
  }
  for (const p of recs(c.ports)) setDefault(p, 'protocol', 'TCP');
  for (const e of recs(c.env)) {
    const fieldRef = rec(rec(e.valueFrom)?.fieldRef);
    if (fieldRef) setDefault(fieldRef, 'apiVersion', 'v1');
    const rfr = rec(rec(e.valueFrom)?.resourceFieldRef);
    if (rfr) rfr.divisor = canonicalQuantity(rfr.divisor ?? '0');
  }
  defaultProbe(rec(c.livenessProbe));
  defaultProbe(rec(c.readinessProbe));
  defaultProbe(rec(c.startupProbe));
  defaultLifecycle(rec(c.lifecycle));
  if (c.resources === undefined) c.resources = {};
  canonicalizeResources(c.resources);
}

function defaultKeyItemsMode(src: Obj | undefined): void {
  if (!src) return;
  setDefault(src, 'defaultMode', 0o644);
}

export function defaultVolume(v: Obj): void {
  if (!VOLUME_SOURCES.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  const emptyDir = rec(v.emptyDir);
  if (emptyDir && emptyDir.sizeLimit !== undefined)
    emptyDir.sizeLimit = canonicalQuantity(emptyDir.sizeLimit);
  const hostPath = rec(v.hostPath);
  if (hostPath) setDefault(hostPath, 'type', '');
  defaultKeyItemsMode(rec(v.secret));
  defaultKeyItemsMode(rec(v.configMap));
  defaultKeyItemsMode(rec(v.downwardAPI));
  for (const item of recs(rec(v.downwardAPI)?.items)) {
    const fr = rec(item.fieldRef);
    if (fr) setDefault(fr, 'apiVersion', 'v1');
  }
  const projected = rec(v.projected);
  if (projected) {
    setDefault(projected, 'defaultMode', 0o644);
    for (const s of recs(projected.sources)) {
      const sat = rec(s.serviceAccountToken);
      if (sat) setDefault(sat, 'expirationSeconds', 3600);
      for (const item of recs(rec(s.downwardAPI)?.items)) {
        const fr = rec(item.fieldRef);
        if (fr) setDefault(fr, 'apiVersion', 'v1');
      }
    }
  }
  const iscsi = rec(v.iscsi);
  if (iscsi) setDefault(iscsi, 'iscsiInterface', 'default');
  const rbd = rec(v.rbd);
  if (rbd) {
    setDefault(rbd, 'pool', 'rbd');
    setDefault(rbd, 'user', 'admin');
    setDefault(rbd, 'keyring', '/etc/ceph/keyring');
  }
  const azureDisk = rec(v.azureDisk);
  if (azureDisk) {
    setDefault(azureDisk, 'cachingMode', 'ReadWrite');
    setDefault(azureDisk, 'fsType', 'ext4');
    setDefault(azureDisk, 'readOnly', false);
    setDefault(azureDisk, 'kind', 'Shared');
  }
  const scaleIO = rec(v.scaleIO);
  if (scaleIO) {
    setDefault(scaleIO, 'storageMode', 'ThinProvisioned');
    setDefault(scaleIO, 'fsType', 'xfs');
  }
  const ephemeralSpec = rec(rec(rec(v.ephemeral)?.volumeClaimTemplate)?.spec);
  if (ephemeralSpec) defaultPVCSpec(ephemeralSpec);
  const image = rec(v.image);
  if (image && (image.pullPolicy === undefined || image.pullPolicy === '')) {
    image.pullPolicy = imageTag(str(image.reference)) === 'latest' ? 'Always' : 'IfNotPresent';
  }
}

/** PersistentVolumeClaimSpec defaults (volumeMode Filesystem), shared with StatefulSet templates. */
export function defaultPVCSpec(s: Obj): void {
  setDefault(s, 'volumeMode', 'Filesystem');
  const res = rec(s.resources);
  if (res) canonicalizeResources(res);
}

/** SetDefaults_PodSpec and everything nested in it, in place. */
export function defaultPodSpec(s: Obj): void {
  setDefault(s, 'dnsPolicy', 'ClusterFirst');
  setDefault(s, 'restartPolicy', 'Always');
  setDefault(s, 'terminationGracePeriodSeconds', 30);
  setDefault(s, 'schedulerName', 'default-scheduler');
  setDefault(s, 'securityContext', {});
  // serviceAccount is the deprecated spelling of serviceAccountName; upstream reads either and
  // writes both.
  if (str(s.serviceAccountName) === '' && str(s.serviceAccount) !== '')
    s.serviceAccountName = s.serviceAccount;
  if (str(s.serviceAccountName) !== '') s.serviceAccount = s.serviceAccountName;
  const hostNetwork = s.hostNetwork === true;
  for (const key of ['initContainers', 'containers']) {
    for (const c of recs(s[key])) {
      defaultContainer(c);
      if (hostNetwork) for (const p of recs(c.ports)) setDefault(p, 'hostPort', p.containerPort);
    }
  }
  for (const c of recs(s.ephemeralContainers)) {
    setDefault(c, 'terminationMessagePath', '/dev/termination-log');
    setDefault(c, 'terminationMessagePolicy', 'File');
    if (c.imagePullPolicy === undefined)
      c.imagePullPolicy = imageTag(str(c.image)) === 'latest' ? 'Always' : 'IfNotPresent';
  }
  for (const v of recs(s.volumes)) defaultVolume(v);
  canonicalizeResources(s.resources);
  if (s.overhead !== undefined) canonicalizeResourceList(s.overhead);
}

/**
 * PodTemplateSpec defaults: the pod spec inside, and an (empty) metadata object, which upstream always
 * serialises; since 1.33 a zero creationTimestamp is omitted rather than written as null.
 */
export function defaultPodTemplateSpec(t: Obj | undefined): void {
  if (!t) return;
  const meta = child(t, 'metadata');
  if (meta.creationTimestamp === null) delete meta.creationTimestamp;
  defaultPodSpec(child(t, 'spec'));
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

export interface PodSpecValidationOptions {
  /** Restart policies allowed by the owner (Deployment: Always; Job: OnFailure, Never). */
  readonly restartPolicies?: readonly string[];
  /** Whether the spec belongs to a template (no nodeName checks that only pods have). */
  readonly template?: boolean;
  /** Volume names provided from elsewhere (a StatefulSet's volumeClaimTemplates). */
  readonly extraVolumes?: readonly string[];
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const HOST_PATH_TYPES = [
  '',
  'BlockDevice',
  'CharDevice',
  'Directory',
  'DirectoryOrCreate',
  'File',
  'FileOrCreate',
  'Socket',
];
const TOLERATION_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];
const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const ENV_FIELD_PATHS = [
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function isConfigKey(k: string): string[] {
  const errs: string[] = [];
  if (k.length > 253) errs.push('must be no more than 253 characters');
  if (!/^[-._a-zA-Z0-9]+$/.test(k)) errs.push(CONFIG_KEY_MSG);
  if (k === '.') errs.push("must not be '.'");
  else if (k === '..') errs.push("must not be '..'");
  else if (k.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/** Parses a quantity for validation; pushes upstream's decode message when it does not parse. */
export function validateQuantity(v: unknown, path: string, errs: FieldError[]): Quantity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') {
    errs.push(fieldErr.invalid(path, v, 'must be a quantity'));
    return undefined;
  }
  try {
    return parseQuantity(v);
  } catch (e) {
    errs.push(fieldErr.invalid(path, v, e instanceof QuantityError ? e.message : String(e)));
    return undefined;
  }
}

function validatePortNumOrName(port: unknown, path: string, errs: FieldError[]): void {
  if (typeof port === 'number') {
    if (!isValidPortNum(port)) errs.push(fieldErr.invalid(path, port, PORT_RANGE_MSG));
  } else if (typeof port === 'string') {
    for (const m of isValidPortName(port)) errs.push(fieldErr.invalid(path, port, m));
  } else if (port === undefined || port === null) {
    errs.push(fieldErr.required(path));
  } else {
    errs.push(fieldErr.invalid(path, port, 'must be an int or string'));
  }
}

function validateHandler(h: Obj, path: string, errs: FieldError[], handlerKinds: readonly string[]): void {
  const present = handlerKinds.filter((k) => h[k] !== undefined && h[k] !== null);
  if (present.length === 0) {
    errs.push(fieldErr.required(path, 'must specify a handler type'));
    return;
  }
  if (present.length > 1) {
    errs.push(fieldErr.forbidden(`${path}.${present[1] ?? ''}`, 'may not specify more than 1 handler type'));
    return;
  }
  const exec = rec(h.exec);
  if (exec && arr(exec.command).length === 0) errs.push(fieldErr.required(`${path}.exec.command`));
  const httpGet = rec(h.httpGet);
  if (httpGet) {
    if (str(httpGet.path) === '' && httpGet.path !== undefined)
      errs.push(fieldErr.required(`${path}.httpGet.path`));
    validatePortNumOrName(httpGet.port, `${path}.httpGet.port`, errs);
    const scheme = httpGet.scheme;
    if (scheme !== undefined && scheme !== 'HTTP' && scheme !== 'HTTPS')
      errs.push(fieldErr.notSupported(`${path}.httpGet.scheme`, scheme, ['HTTP', 'HTTPS']));
    recs(httpGet.httpHeaders).forEach((hh, i) => {
      if (!/^[-A-Za-z0-9!#$%&'*+.^_`|~]+$/.test(str(hh.name)))
        errs.push(
          fieldErr.invalid(
            `${path}.httpGet.httpHeaders[${i}].name`,
            hh.name,
            "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')",
          ),
        );
    });
  }
  const tcp = rec(h.tcpSocket);
  if (tcp) validatePortNumOrName(tcp.port, `${path}.tcpSocket.port`, errs);
  const grpc = rec(h.grpc);
  if (grpc) {
    if (!isValidPortNum(grpc.port))
      errs.push(fieldErr.invalid(`${path}.grpc.port`, grpc.port, PORT_RANGE_MSG));
  }
  const sleep = rec(h.sleep);
  if (sleep) validateNonnegative(sleep.seconds, `${path}.sleep.seconds`, errs);
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const LIFECYCLE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'];

function validateProbe(
  p: Obj | undefined,
  path: string,
  errs: FieldError[],
  kind: 'liveness' | 'readiness' | 'startup',
): void {
  if (!p) return;
  validateHandler(p, path, errs, PROBE_HANDLERS);
  for (const k of [
    'initialDelaySeconds',
    'timeoutSeconds',
    'periodSeconds',
    'successThreshold',
    'failureThreshold',
  ])
    validateNonnegative(p[k], `${path}.${k}`, errs);
  if (kind !== 'readiness' && isInt(p.successThreshold) && p.successThreshold !== 1)
    errs.push(fieldErr.invalid(`${path}.successThreshold`, p.successThreshold, 'must be 1'));
  if (
    kind === 'readiness' &&
    p.terminationGracePeriodSeconds !== undefined &&
    p.terminationGracePeriodSeconds !== null
  )
    errs.push(
      fieldErr.invalid(
        `${path}.terminationGracePeriodSeconds`,
        p.terminationGracePeriodSeconds,
        'must not be set for readinessProbes',
      ),
    );
  if (isInt(p.terminationGracePeriodSeconds) && p.terminationGracePeriodSeconds <= 0 && kind !== 'readiness')
    errs.push(
      fieldErr.invalid(
        `${path}.terminationGracePeriodSeconds`,
        p.terminationGracePeriodSeconds,
        'must be greater than 0',
      ),
    );
}

function isStandardContainerResource(name: string): boolean {
  return STANDARD_CONTAINER_RESOURCES.has(name) || name.startsWith('hugepages-');
}
function isExtendedResource(name: string): boolean {
  return name.includes('/') && !name.startsWith('kubernetes.io/') && !name.startsWith('requests.');
}

export function validateResourceRequirements(
  res: unknown,
  path: string,
  errs: FieldError[],
  podLevel = false,
): void {
  const r = rec(res);
  if (!r) return;
  const parsed: Record<'limits' | 'requests', Map<string, Quantity>> = {
    limits: new Map(),
    requests: new Map(),
  };
  for (const kind of ['limits', 'requests'] as const) {
    const list = rec(r[kind]);
    if (!list) continue;
    for (const [name, value] of Object.entries(list)) {
      const p = `${path}.${kind}[${name}]`;
      if (name.includes('/')) {
        for (const m of isQualifiedName(name)) errs.push(fieldErr.invalid(p, name, m));
      } else if (!isStandardContainerResource(name)) {
        errs.push(
          fieldErr.invalid(
            p,
            name,
            podLevel ? 'must be a standard resource for pods' : 'must be a standard resource for containers',
          ),
        );
      }
      const q = validateQuantity(value, p, errs);
      if (!q) continue;
      if (q.nanos < 0n) {
        errs.push(fieldErr.invalid(p, formatQuantity(q), NONNEGATIVE_MSG));
        continue;
      }
      if (isExtendedResource(name) && q.nanos % 1_000_000_000n !== 0n)
        errs.push(fieldErr.invalid(p, formatQuantity(q), 'must be an integer'));
      parsed[kind].set(name, q);
    }
  }
  for (const [name, req] of parsed.requests) {
    const lim = parsed.limits.get(name);
    if (isExtendedResource(name)) {
      if (!lim)
        errs.push(fieldErr.forbidden(`${path}.limits`, `Limit must be set for non overcommitable resources`));
      else if (compareQuantity(req, lim) !== 0)
        errs.push(
          fieldErr.invalid(
            `${path}.requests[${name}]`,
            formatQuantity(req),
            `must be equal to ${name} limit of ${formatQuantity(lim)}`,
          ),
        );
      continue;
    }
    if (lim && compareQuantity(req, lim) > 0)
      errs.push(
        fieldErr.invalid(
          `${path}.requests`,
          formatQuantity(req),
          `must be less than or equal to ${name} limit of ${formatQuantity(lim)}`,
        ),
      );
  }
}

function validateEnv(env: unknown, path: string, errs: FieldError[]): void {
  recs(env).forEach((e, i) => {
    const p = `${path}[${i}]`;
    const name = str(e.name);
    if (name === '') errs.push(fieldErr.required(`${p}.name`));
    else if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(name))
      errs.push(
        fieldErr.invalid(
          `${p}.name`,
          name,
          "a valid environment variable name must consist only of printable ASCII characters other than '='",
        ),
      );
    const vf = rec(e.valueFrom);
    if (!vf) return;
    const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'].filter(
      (k) => vf[k] !== undefined && vf[k] !== null,
    );
    if (sources.length === 0) {
      errs.push(
        fieldErr.invalid(
          `${p}.valueFrom`,
          '',
          'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
        ),
      );
    } else if (sources.length > 1) {
      errs.push(
        fieldErr.invalid(`${p}.valueFrom`, '', 'may not have more than one field specified at a time'),
      );
    }
    if (str(e.value) !== '' && sources.length > 0)
      errs.push(fieldErr.invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty'));
    const fieldRef = rec(vf.fieldRef);
    if (fieldRef) {
      const fp = str(fieldRef.fieldPath);
      const pp = `${p}.valueFrom.fieldRef.fieldPath`;
      if (fp === '') errs.push(fieldErr.required(pp));
      else {
        const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fp);
        if (sub) {
          if (sub[1] === 'labels')
            for (const m of isQualifiedName(sub[2] ?? '')) errs.push(fieldErr.invalid(pp, sub[2], m));
        } else if (
          !ENV_FIELD_PATHS.includes(fp) ||
          fp === 'metadata.labels' ||
          fp === 'metadata.annotations'
        ) {
          errs.push(fieldErr.notSupported(pp, fp, ENV_FIELD_PATHS));
        }
      }
    }
    const rfr = rec(vf.resourceFieldRef);
    if (rfr && str(rfr.resource) === '')
      errs.push(fieldErr.required(`${p}.valueFrom.resourceFieldRef.resource`));
    for (const kind of ['configMapKeyRef', 'secretKeyRef']) {
      const ref = rec(vf[kind]);
      if (!ref) continue;
      const kp = `${p}.valueFrom.${kind}`;
      if (str(ref.name) === '') errs.push(fieldErr.required(`${kp}.name`));
      const key = str(ref.key);
      if (key === '') errs.push(fieldErr.required(`${kp}.key`));
      else for (const m of isConfigKey(key)) errs.push(fieldErr.invalid(`${kp}.key`, key, m));
    }
  });
}

function validateEnvFrom(envFrom: unknown, path: string, errs: FieldError[]): void {
  recs(envFrom).forEach((e, i) => {
    const p = `${path}[${i}]`;
    const refs = ['configMapRef', 'secretRef'].filter((k) => e[k] !== undefined && e[k] !== null);
    if (refs.length === 0)
      errs.push(fieldErr.invalid(p, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (refs.length > 1)
      errs.push(fieldErr.invalid(p, '', 'may not have more than one field specified at a time'));
    for (const k of refs) {
      const name = str(rec(e[k])?.name);
      if (name === '') errs.push(fieldErr.required(`${p}.${k}.name`));
      else for (const m of isDNS1123Subdomain(name)) errs.push(fieldErr.invalid(`${p}.${k}.name`, name, m));
    }
  });
}

interface ContainerContext {
  readonly volumes: Set<string>;
  readonly names: Set<string>;
  readonly hostPorts: Set<string>;
}

function validateContainer(
  c: Obj,
  path: string,
  errs: FieldError[],
  ctx: ContainerContext,
  kind: 'container' | 'init',
): void {
  const name = str(c.name);
  if (name === '') errs.push(fieldErr.required(`${path}.name`));
  else {
    for (const m of isDNS1123Label(name)) errs.push(fieldErr.invalid(`${path}.name`, name, m));
    if (ctx.names.has(name)) errs.push(fieldErr.duplicate(`${path}.name`, name));
    ctx.names.add(name);
  }
  if (str(c.image).trim() === '') errs.push(fieldErr.required(`${path}.image`));
  const restartable = kind === 'init' && c.restartPolicy === 'Always';
  if (c.restartPolicy !== undefined && c.restartPolicy !== null) {
    if (kind === 'container') {
      if (!RESTART_POLICIES.includes(str(c.restartPolicy)))
        errs.push(fieldErr.notSupported(`${path}.restartPolicy`, c.restartPolicy, RESTART_POLICIES));
    } else if (c.restartPolicy !== 'Always') {
      errs.push(fieldErr.notSupported(`${path}.restartPolicy`, c.restartPolicy, ['Always']));
    }
  }
  if (kind === 'init' && !restartable) {
    for (const k of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'])
      if (c[k] !== undefined && c[k] !== null)
        errs.push(
          fieldErr.forbidden(
            `${path}.${k}`,
            'may not be set for init containers without restartPolicy=Always',
          ),
        );
  } else {
    validateProbe(rec(c.livenessProbe), `${path}.livenessProbe`, errs, 'liveness');
    validateProbe(rec(c.readinessProbe), `${path}.readinessProbe`, errs, 'readiness');
    validateProbe(rec(c.startupProbe), `${path}.startupProbe`, errs, 'startup');
    const lc = rec(c.lifecycle);
    if (lc)
      for (const k of ['postStart', 'preStop']) {
        const h = rec(lc[k]);
        if (h) validateHandler(h, `${path}.lifecycle.${k}`, errs, LIFECYCLE_HANDLERS);
      }
  }
  // ports
  const portNames = new Set<string>();
  recs(c.ports).forEach((p, i) => {
    const pp = `${path}.ports[${i}]`;
    const pn = str(p.name);
    if (pn !== '') {
      for (const m of isValidPortName(pn)) errs.push(fieldErr.invalid(`${pp}.name`, pn, m));
      if (portNames.has(pn)) errs.push(fieldErr.duplicate(`${pp}.name`, pn));
      portNames.add(pn);
    }
    if (p.containerPort === undefined || p.containerPort === 0)
      errs.push(fieldErr.required(`${pp}.containerPort`));
    else if (!isValidPortNum(p.containerPort))
      errs.push(fieldErr.invalid(`${pp}.containerPort`, p.containerPort, PORT_RANGE_MSG));
    if (p.hostPort !== undefined && p.hostPort !== 0 && !isValidPortNum(p.hostPort))
      errs.push(fieldErr.invalid(`${pp}.hostPort`, p.hostPort, PORT_RANGE_MSG));
    const proto = p.protocol;
    if (proto === undefined || proto === '') errs.push(fieldErr.required(`${pp}.protocol`));
    else if (!PROTOCOLS.includes(str(proto)))
      errs.push(fieldErr.notSupported(`${pp}.protocol`, proto, PROTOCOLS));
    if (isInt(p.hostPort) && p.hostPort > 0) {
      const key = `${str(p.hostIP)}/${p.hostPort}/${str(proto)}`;
      if (ctx.hostPorts.has(key))
        errs.push(fieldErr.duplicate(`${pp}.hostPort`, `${p.hostPort}/${str(proto)}`));
      ctx.hostPorts.add(key);
    }
  });
  validateEnv(c.env, `${path}.env`, errs);
  validateEnvFrom(c.envFrom, `${path}.envFrom`, errs);
  // volume mounts
  const mountPaths = new Set<string>();
  recs(c.volumeMounts).forEach((m, i) => {
    const mp = `${path}.volumeMounts[${i}]`;
    const vn = str(m.name);
    if (vn === '') errs.push(fieldErr.required(`${mp}.name`));
    else if (!ctx.volumes.has(vn)) errs.push(fieldErr.notFound(`${mp}.name`, vn));
    const mountPath = str(m.mountPath);
    if (mountPath === '') errs.push(fieldErr.required(`${mp}.mountPath`));
    else {
      if (mountPaths.has(mountPath))
        errs.push(fieldErr.invalid(`${mp}.mountPath`, mountPath, 'must be unique'));
      mountPaths.add(mountPath);
    }
    const sub = str(m.subPath);
    if (sub !== '' && (sub.startsWith('/') || sub.split('/').includes('..')))
      errs.push(
        fieldErr.invalid(
          `${mp}.subPath`,
          sub,
          sub.startsWith('/') ? 'must be a relative path' : "must not contain '..'",
        ),
      );
    if (
      m.mountPropagation !== undefined &&
      !['None', 'HostToContainer', 'Bidirectional'].includes(str(m.mountPropagation))
    )
      errs.push(
        fieldErr.notSupported(`${mp}.mountPropagation`, m.mountPropagation, [
          'Bidirectional',
          'HostToContainer',
          'None',
        ]),
      );
  });
  const pull = c.imagePullPolicy;
  if (pull === undefined || pull === '') errs.push(fieldErr.required(`${path}.imagePullPolicy`));
  else if (!PULL_POLICIES.includes(str(pull)))
    errs.push(fieldErr.notSupported(`${path}.imagePullPolicy`, pull, PULL_POLICIES));
  const tmp = c.terminationMessagePolicy;
  if (tmp === undefined || tmp === '') errs.push(fieldErr.required(`${path}.terminationMessagePolicy`));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError')
    errs.push(
      fieldErr.notSupported(`${path}.terminationMessagePolicy`, tmp, ['File', 'FallbackToLogsOnError']),
    );
  validateResourceRequirements(c.resources, `${path}.resources`, errs);
  const sc = rec(c.securityContext);
  if (sc) validateSecurityContextIds(sc, `${path}.securityContext`, errs);
}

function validateSecurityContextIds(sc: Obj, path: string, errs: FieldError[]): void {
  for (const k of ['runAsUser', 'runAsGroup', 'fsGroup']) {
    const v = sc[k];
    if (isInt(v) && (v < 0 || v > 2147483647))
      errs.push(fieldErr.invalid(`${path}.${k}`, v, 'must be between 0 and 2147483647, inclusive'));
  }
}

function validateVolumes(volumes: unknown, path: string, errs: FieldError[]): Set<string> {
  const names = new Set<string>();
  recs(volumes).forEach((v, i) => {
    const vp = `${path}[${i}]`;
    const name = str(v.name);
    if (name === '') errs.push(fieldErr.required(`${vp}.name`));
    else {
      for (const m of isDNS1123Label(name)) errs.push(fieldErr.invalid(`${vp}.name`, name, m));
      if (names.has(name)) errs.push(fieldErr.duplicate(`${vp}.name`, name));
      names.add(name);
    }
    const sources = VOLUME_SOURCES.filter((k) => v[k] !== undefined && v[k] !== null);
    if (sources.length === 0) {
      errs.push(fieldErr.required(vp, 'must specify a volume type'));
      return;
    }
    if (sources.length > 1) {
      errs.push(fieldErr.forbidden(`${vp}.${sources[1] ?? ''}`, 'may not specify more than 1 volume type'));
      return;
    }
    validateVolumeSource(v, vp, errs);
  });
  return names;
}

function validateDefaultMode(mode: unknown, path: string, errs: FieldError[]): void {
  if (isInt(mode) && (mode < 0 || mode > 0o777))
    errs.push(fieldErr.invalid(path, mode, 'must be a number between 0 and 0777 (octal), both inclusive'));
}

function validateKeyToPaths(items: unknown, path: string, errs: FieldError[]): void {
  recs(items).forEach((it, i) => {
    const ip = `${path}[${i}]`;
    if (str(it.key) === '') errs.push(fieldErr.required(`${ip}.key`));
    const p = str(it.path);
    if (p === '') errs.push(fieldErr.required(`${ip}.path`));
    else if (p.startsWith('/')) errs.push(fieldErr.invalid(`${ip}.path`, p, 'must be a relative path'));
    else if (p.split('/').includes('..'))
      errs.push(fieldErr.invalid(`${ip}.path`, p, "must not contain '..'"));
    validateDefaultMode(it.mode, `${ip}.mode`, errs);
  });
}

/** The per-source checks for a volume (also used by PersistentVolume sources). */
export function validateVolumeSource(v: Obj, vp: string, errs: FieldError[]): void {
  const hostPath = rec(v.hostPath);
  if (hostPath) {
    if (str(hostPath.path) === '') errs.push(fieldErr.required(`${vp}.hostPath.path`));
    if (
      hostPath.type !== undefined &&
      hostPath.type !== null &&
      !HOST_PATH_TYPES.includes(str(hostPath.type))
    )
      errs.push(fieldErr.notSupported(`${vp}.hostPath.type`, hostPath.type, HOST_PATH_TYPES));
  }
  const emptyDir = rec(v.emptyDir);
  if (emptyDir) {
    if (
      emptyDir.medium !== undefined &&
      !['', 'Memory', 'HugePages'].includes(str(emptyDir.medium)) &&
      !str(emptyDir.medium).startsWith('HugePages-')
    )
      errs.push(fieldErr.notSupported(`${vp}.emptyDir.medium`, emptyDir.medium, ['', 'Memory', 'HugePages']));
    if (emptyDir.sizeLimit !== undefined) {
      const q = validateQuantity(emptyDir.sizeLimit, `${vp}.emptyDir.sizeLimit`, errs);
      if (q && q.nanos < 0n)
        errs.push(fieldErr.invalid(`${vp}.emptyDir.sizeLimit`, formatQuantity(q), NONNEGATIVE_MSG));
    }
  }
  const secret = rec(v.secret);
  if (secret) {
    const sn = str(secret.secretName);
    if (sn === '') errs.push(fieldErr.required(`${vp}.secret.secretName`));
    else
      for (const m of isDNS1123Subdomain(sn)) errs.push(fieldErr.invalid(`${vp}.secret.secretName`, sn, m));
    validateDefaultMode(secret.defaultMode, `${vp}.secret.defaultMode`, errs);
    validateKeyToPaths(secret.items, `${vp}.secret.items`, errs);
  }
  const cm = rec(v.configMap);
  if (cm) {
    const n = str(cm.name);
    if (n === '') errs.push(fieldErr.required(`${vp}.configMap.name`));
    else for (const m of isDNS1123Subdomain(n)) errs.push(fieldErr.invalid(`${vp}.configMap.name`, n, m));
    validateDefaultMode(cm.defaultMode, `${vp}.configMap.defaultMode`, errs);
    validateKeyToPaths(cm.items, `${vp}.configMap.items`, errs);
  }
  const pvc = rec(v.persistentVolumeClaim);
  if (pvc && str(pvc.claimName) === '') errs.push(fieldErr.required(`${vp}.persistentVolumeClaim.claimName`));
  const nfs = rec(v.nfs);
  if (nfs) {
    if (str(nfs.server) === '') errs.push(fieldErr.required(`${vp}.nfs.server`));
    const p = str(nfs.path);
    if (p === '') errs.push(fieldErr.required(`${vp}.nfs.path`));
    else if (!p.startsWith('/')) errs.push(fieldErr.invalid(`${vp}.nfs.path`, p, 'must be an absolute path'));
  }
  const da = rec(v.downwardAPI);
  if (da) validateDefaultMode(da.defaultMode, `${vp}.downwardAPI.defaultMode`, errs);
  const projected = rec(v.projected);
  if (projected) validateDefaultMode(projected.defaultMode, `${vp}.projected.defaultMode`, errs);
  const csi = rec(v.csi);
  if (csi && str(csi.driver) === '') errs.push(fieldErr.required(`${vp}.csi.driver`));
  const local = rec(v.local);
  if (local && str(local.path) === '') errs.push(fieldErr.required(`${vp}.local.path`));
  const image = rec(v.image);
  if (image && str(image.reference) === '') errs.push(fieldErr.required(`${vp}.image.reference`));
}

function validateTolerations(tols: unknown, path: string, errs: FieldError[]): void {
  recs(tols).forEach((t, i) => {
    const tp = `${path}[${i}]`;
    const key = str(t.key);
    if (key !== '') for (const m of isQualifiedName(key)) errs.push(fieldErr.invalid(`${tp}.key`, key, m));
    const op = t.operator === undefined ? 'Equal' : str(t.operator);
    if (key === '' && op !== 'Exists')
      errs.push(
        fieldErr.invalid(
          `${tp}.operator`,
          op,
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute')
      errs.push(
        fieldErr.invalid(
          `${tp}.effect`,
          t.effect ?? '',
          "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ),
      );
    if (op === 'Equal') {
      for (const m of isLabelValue(str(t.value))) errs.push(fieldErr.invalid(`${tp}.value`, t.value, m));
    } else if (op === 'Exists') {
      if (str(t.value) !== '')
        errs.push(fieldErr.invalid(`${tp}.operator`, t, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(fieldErr.notSupported(`${tp}.operator`, op, ['Equal', 'Exists']));
    }
    if (t.effect !== undefined && t.effect !== '' && !TOLERATION_EFFECTS.includes(str(t.effect)))
      errs.push(fieldErr.notSupported(`${tp}.effect`, t.effect, TOLERATION_EFFECTS));
  });
}

/** ValidatePodSpec: field paths below `path` (e.g. 'spec' or 'spec.template.spec'). */
export function validatePodSpec(
  s: Obj | undefined,
  path: string,
  opts: PodSpecValidationOptions = {},
): FieldError[] {
  const errs: FieldError[] = [];
  if (!s) {
    errs.push(fieldErr.required(path));
    return errs;
  }
  const volumes = validateVolumes(s.volumes, `${path}.volumes`, errs);
  for (const v of opts.extraVolumes ?? []) volumes.add(v);
  const ctx: ContainerContext = { volumes, names: new Set(), hostPorts: new Set() };
  recs(s.initContainers).forEach((c, i) =>
    validateContainer(c, `${path}.initContainers[${i}]`, errs, ctx, 'init'),
  );
  const containers = recs(s.containers);
  if (containers.length === 0) errs.push(fieldErr.required(`${path}.containers`));
  containers.forEach((c, i) => validateContainer(c, `${path}.containers[${i}]`, errs, ctx, 'container'));
  recs(s.ephemeralContainers).forEach((c, i) => {
    const n = str(c.name);
    if (n === '') errs.push(fieldErr.required(`${path}.ephemeralContainers[${i}].name`));
    else if (ctx.names.has(n)) errs.push(fieldErr.duplicate(`${path}.ephemeralContainers[${i}].name`, n));
  });

  const rp = s.restartPolicy;
  if (rp === undefined || rp === '') errs.push(fieldErr.required(`${path}.restartPolicy`));
  else if (!RESTART_POLICIES.includes(str(rp)))
    errs.push(fieldErr.notSupported(`${path}.restartPolicy`, rp, RESTART_POLICIES));
  const dp = s.dnsPolicy;
  if (dp === undefined || dp === '') errs.push(fieldErr.required(`${path}.dnsPolicy`));
  else if (!DNS_POLICIES.includes(str(dp)))
    errs.push(fieldErr.notSupported(`${path}.dnsPolicy`, dp, DNS_POLICIES));
  if (dp === 'None' && !rec(s.dnsConfig))
    errs.push(fieldErr.required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));

  if (s.hostNetwork === true) {
    for (const key of ['initContainers', 'containers']) {
      recs(s[key]).forEach((c, i) => {
        recs(c.ports).forEach((p, j) => {
          if ((p.hostPort ?? 0) !== (p.containerPort ?? 0))
            errs.push(
              fieldErr.invalid(
                `${path}.${key}[${i}].ports[${j}].hostPort`,
                p.hostPort ?? 0,
                'must match `containerPort` when `hostNetwork` is true',
              ),
            );
        });
      });
    }
  }
  validateLabels(s.nodeSelector, `${path}.nodeSelector`, errs);
  for (const k of ['serviceAccountName', 'nodeName']) {
    const v = str(s[k]);
    if (v !== '') for (const m of isDNS1123Subdomain(v)) errs.push(fieldErr.invalid(`${path}.${k}`, v, m));
  }
  for (const k of ['hostname', 'subdomain']) {
    const v = str(s[k]);
    if (v !== '') for (const m of isDNS1123Label(v)) errs.push(fieldErr.invalid(`${path}.${k}`, v, m));
  }
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds !== null) {
    const v = s.activeDeadlineSeconds;
    if (!isInt(v) || v < 1 || v > 2147483647)
      errs.push(
        fieldErr.invalid(`${path}.activeDeadlineSeconds`, v, 'must be between 1 and 2147483647, inclusive'),
      );
  }
  validateNonnegative(s.terminationGracePeriodSeconds, `${path}.terminationGracePeriodSeconds`, errs);
  const psc = rec(s.securityContext);
  if (psc) validateSecurityContextIds(psc, `${path}.securityContext`, errs);
  recs(s.imagePullSecrets).forEach((ps, i) => {
    if (str(ps.name) === '') errs.push(fieldErr.required(`${path}.imagePullSecrets[${i}].name`));
  });
  validateTolerations(s.tolerations, `${path}.tolerations`, errs);
  const pcn = str(s.priorityClassName);
  if (pcn !== '')
    for (const m of isDNS1123Subdomain(pcn)) errs.push(fieldErr.invalid(`${path}.priorityClassName`, pcn, m));
  recs(s.readinessGates).forEach((g, i) => {
    for (const m of isQualifiedName(str(g.conditionType)))
      errs.push(fieldErr.invalid(`${path}.readinessGates[${i}].conditionType`, g.conditionType, m));
  });
  recs(s.topologySpreadConstraints).forEach((t, i) => {
    const tp = `${path}.topologySpreadConstraints[${i}]`;
    if (!isInt(t.maxSkew) || t.maxSkew <= 0)
      errs.push(fieldErr.invalid(`${tp}.maxSkew`, t.maxSkew, 'must be greater than zero'));
    if (str(t.topologyKey) === '') errs.push(fieldErr.required(`${tp}.topologyKey`, 'can not be empty'));
    const w = t.whenUnsatisfiable;
    if (w !== 'DoNotSchedule' && w !== 'ScheduleAnyway')
      errs.push(
        fieldErr.notSupported(`${tp}.whenUnsatisfiable`, w ?? '', ['DoNotSchedule', 'ScheduleAnyway']),
      );
  });
  recs(s.hostAliases).forEach((h, i) => {
    const ip = str(h.ip);
    if (ip === '') errs.push(fieldErr.required(`${path}.hostAliases[${i}].ip`));
  });
  if (s.resources !== undefined) validateResourceRequirements(s.resources, `${path}.resources`, errs, true);
  // The owner's own restriction (Deployment: Always; Job: OnFailure or Never) comes last, as upstream
  // checks it after the pod template itself.
  const allowed = opts.restartPolicies;
  if (allowed && !allowed.includes(str(rp)))
    errs.push(fieldErr.notSupported(`${path}.restartPolicy`, rp ?? '', allowed));
  return errs;
}

/** ValidatePodTemplateSpec: the template's labels and annotations, then its pod spec. */
export function validatePodTemplateSpec(
  t: unknown,
  path: string,
  opts: PodSpecValidationOptions = {},
): FieldError[] {
  const tmpl = rec(t);
  if (!tmpl) return [fieldErr.required(path)];
  const errs: FieldError[] = [];
  const meta = rec(tmpl.metadata) ?? {};
  validateLabels(meta.labels, `${path}.metadata.labels`, errs);
  validateAnnotations(meta.annotations, `${path}.metadata.annotations`, errs);
  errs.push(...validatePodSpec(rec(tmpl.spec), `${path}.spec`, { ...opts, template: true }));
  return errs;
}

/** The spec of a pod template, for table cells. */
export function templateSpecOf(obj: unknown): Obj | undefined {
  return rec(rec(rec(rec(obj)?.spec)?.template)?.spec);
}
