// A container's environment as kubelet builds it: envFrom sources first, then env entries in
// order, each value expanded against the variables defined before it ($(VAR), $$ escapes);
// values from the downward API (fieldRef, resourceFieldRef) and from ConfigMaps and Secrets
// (through the PodObjectSource callback). Command and args are expanded the same way.
import { cpus, totalmem } from 'node:os';
import type {
  ConfigMap,
  Container,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  ResourceFieldSelector,
  Secret,
} from '../../api/generated/types.js';
import { parseQuantity } from '../../api/quantity.js';

/** Where the runtime gets the API objects a pod refers to (the agent backs this with its informers or GETs). */
export interface PodObjectSource {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /** The claim behind a persistentVolumeClaim volume (undefined when it does not exist). */
  persistentVolumeClaim?(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  /** The volume a bound claim names. */
  persistentVolume?(name: string): Promise<PersistentVolume | undefined>;
  /**
   * The service environment variables for a pod (KUBERNETES_SERVICE_HOST, FOO_SERVICE_PORT, …),
   * as kubelet derives them from the services of the pod's namespace and the default
   * kubernetes service (when spec.enableServiceLinks is not false, only the latter).
   */
  serviceEnvironment?(pod: Pod): Promise<Record<string, string>>;
  /** A token for a projected serviceAccountToken volume; undefined when none can be had. */
  serviceAccountToken?(
    pod: Pod,
    audience: string | undefined,
    expirationSeconds: number,
  ): Promise<string | undefined>;
}

/** The node's capacity, used for resourceFieldRef on a container without a limit. */
export interface NodeCapacity {
  milliCPU: number;
  memoryBytes: number;
}

export function hostCapacity(): NodeCapacity {
  return { milliCPU: cpus().length * 1000, memoryBytes: totalmem() };
}

/** A reference that cannot be resolved: kubelet reports CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

/** Expands $(VAR) from `vars`; $$ is a literal $; unknown references stay as written. */
export function expandVars(input: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close > 0) {
        const name = input.slice(i + 2, close);
        const v = vars.get(name);
        out += v ?? `$(${name})`;
        i = close;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

export function milliCPU(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  const n = parseQuantity(q).nanos;
  return Number((n + 999_999n) / 1_000_000n);
}

export function bytesOf(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  const n = parseQuantity(q).nanos;
  return Number((n + 999_999_999n) / 1_000_000_000n);
}

/** The value a resourceFieldRef names, as kubelet computes it (rounded up in units of divisor). */
export function resourceFieldValue(
  pod: Pod,
  self: Container | undefined,
  sel: ResourceFieldSelector,
  capacity: NodeCapacity,
): string {
  const container = sel.containerName
    ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
        (c) => c.name === sel.containerName,
      )
    : self;
  if (!container)
    throw new ContainerConfigError(`resourceFieldRef: no container ${sel.containerName ?? ''} in the pod`);
  const [kind, resource] = sel.resource.split('.') as [string, string | undefined];
  if (kind !== 'limits' && kind !== 'requests')
    throw new ContainerConfigError(`resourceFieldRef: unsupported resource ${sel.resource}`);
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  // A divisor left out reaches the node as the zero Quantity ("0"): kubelet reads zero as 1.
  const given = parseQuantity(sel.divisor ?? '1').nanos;
  const divisor = given === 0n ? parseQuantity('1').nanos : given;
  if (divisor < 0n)
    throw new ContainerConfigError(`resourceFieldRef ${sel.resource}: divisor must be positive`);
  let nanos: bigint;
  if (resource === 'cpu') {
    const q = kind === 'limits' ? limits.cpu : (requests.cpu ?? limits.cpu);
    nanos =
      q !== undefined
        ? parseQuantity(q).nanos
        : kind === 'limits'
          ? BigInt(capacity.milliCPU) * 1_000_000n
          : 0n;
  } else if (resource === 'memory') {
    const q = kind === 'limits' ? limits.memory : (requests.memory ?? limits.memory);
    nanos =
      q !== undefined
        ? parseQuantity(q).nanos
        : kind === 'limits'
          ? BigInt(capacity.memoryBytes) * 1_000_000_000n
          : 0n;
  } else if (resource === 'ephemeral-storage') {
    const q = kind === 'limits' ? limits['ephemeral-storage'] : requests['ephemeral-storage'];
    nanos = q !== undefined ? parseQuantity(q).nanos : 0n;
  } else {
    throw new ContainerConfigError(`resourceFieldRef: unsupported resource ${sel.resource}`);
  }
  return String((nanos + divisor - 1n) / divisor);
}

export interface PodRuntimeFacts {
  podIP?: string;
  podIPs?: string[];
  hostIP: string;
  nodeName: string;
}

/** The value of a downward API fieldRef. */
export function fieldRefValue(pod: Pod, fieldPath: string, facts: PodRuntimeFacts): string {
  const md = pod.metadata;
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (keyed) {
    const map = keyed[1] === 'labels' ? md.labels : md.annotations;
    return map?.[keyed[2] ?? ''] ?? '';
  }
  const formatMap = (m: Record<string, string> | undefined): string =>
    Object.entries(m ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n');
  switch (fieldPath) {
    case 'metadata.name':
      return md.name ?? '';
    case 'metadata.namespace':
      return md.namespace ?? '';
    case 'metadata.uid':
      return md.uid ?? '';
    case 'metadata.labels':
      return formatMap(md.labels);
    case 'metadata.annotations':
      return formatMap(md.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? facts.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return facts.hostIP;
    case 'status.hostIPs':
      return facts.hostIP;
    case 'status.podIP':
      return facts.podIP ?? '';
    case 'status.podIPs':
      return (facts.podIPs ?? (facts.podIP ? [facts.podIP] : [])).join(',');
    default:
      throw new ContainerConfigError(`unsupported fieldRef ${fieldPath}`);
  }
}

function decodeSecretValue(s: Secret, key: string): string | undefined {
  const v = s.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

function configMapValue(cm: ConfigMap, key: string): string | undefined {
  const v = cm.data?.[key];
  if (v !== undefined) return v;
  const b = cm.binaryData?.[key];
  return b === undefined ? undefined : Buffer.from(b, 'base64').toString('utf8');
}

/** The container's environment, in order, as name/value pairs (later duplicates win at exec). */
export async function buildEnv(
  pod: Pod,
  container: Container,
  facts: PodRuntimeFacts,
  source: PodObjectSource,
  capacity: NodeCapacity = hostCapacity(),
): Promise<Array<{ key: string; value: string }>> {
  const ns = pod.metadata.namespace ?? 'default';
  const vars = new Map<string, string>();
  const order: string[] = [];
  const set = (k: string, v: string): void => {
    if (!vars.has(k)) order.push(k);
    vars.set(k, v);
  };
  // Service variables come first: the container's own env and envFrom override them.
  if (source.serviceEnvironment)
    for (const [k, v] of Object.entries(await source.serviceEnvironment(pod))) set(k, v);
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const name = from.configMapRef.name ?? '';
      const cm = await source.configMap(ns, name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) set(prefix + k, v);
    } else if (from.secretRef) {
      const name = from.secretRef.name ?? '';
      const s = await source.secret(ns, name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      for (const k of Object.keys(s.data ?? {})) set(prefix + k, decodeSecretValue(s, k) ?? '');
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined || !e.valueFrom) {
      set(e.name, expandVars(e.value ?? '', vars));
      continue;
    }
    const vf = e.valueFrom;
    if (vf.fieldRef) set(e.name, fieldRefValue(pod, vf.fieldRef.fieldPath, facts));
    else if (vf.resourceFieldRef)
      set(e.name, resourceFieldValue(pod, container, vf.resourceFieldRef, capacity));
    else if (vf.configMapKeyRef) {
      const ref = vf.configMapKeyRef;
      const cm = await source.configMap(ns, ref.name ?? '');
      const v = cm ? configMapValue(cm, ref.key) : undefined;
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(
          cm
            ? `couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`
            : `configmap "${ref.name}" not found`,
        );
      }
      set(e.name, v);
    } else if (vf.secretKeyRef) {
      const ref = vf.secretKeyRef;
      const s = await source.secret(ns, ref.name ?? '');
      const v = s ? decodeSecretValue(s, ref.key) : undefined;
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(
          s ? `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}` : `secret "${ref.name}" not found`,
        );
      }
      set(e.name, v);
    } else {
      throw new ContainerConfigError(`env ${e.name}: unsupported valueFrom`);
    }
  }
  return order.map((k) => ({ key: k, value: vars.get(k) ?? '' }));
}

/** Command and args with $(VAR) references expanded from the container's environment. */
export function expandCommand(
  container: Container,
  env: ReadonlyArray<{ key: string; value: string }>,
): { command: string[]; args: string[] } {
  const vars = new Map(env.map((e) => [e.key, e.value]));
  return {
    command: (container.command ?? []).map((c) => expandVars(c, vars)),
    args: (container.args ?? []).map((a) => expandVars(a, vars)),
  };
}
