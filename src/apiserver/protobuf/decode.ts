// Decoding Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf) into the JSON form
// of the same object, so request bodies from kubectl's typed clients go through the same path as
// JSON ones. The envelope is the 4-byte magic "k8s\0" and a runtime.Unknown message carrying the
// apiVersion/kind and the raw message; field facts come from fields.json (scripts/gen-proto-fields.ts).
//
// Proto2 as Kubernetes generates it sends non-pointer fields even when empty, so empty strings and
// zero timestamps are dropped (they mean "unset" in the Go types). Zero numbers and false are kept
// (pointer fields such as replicas may carry them on purpose) except in the non-pointer omitempty
// fields listed below, which upstream's JSON never shows when zero. Members embedded inline in the
// Go types (IngressRule's IngressRuleValue, Volume's VolumeSource …) are nested messages on the
// wire but flat in JSON.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProtoReader, utf8, WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT } from './wire.js';

type FieldFact = [name: string, type: number, repeated: number, typeName?: string];
interface MessageFact {
  readonly map?: 1;
  readonly f: Readonly<Record<string, FieldFact>>;
}

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const RELATIVE_JSON = join('src', 'apiserver', 'protobuf', 'fields.json');

function factsPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'fields.json');
  if (existsSync(beside)) return beside;
  let dir = here;
  for (let i = 0; i < 7; i++) {
    const candidate = join(dir, RELATIVE_JSON);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`protobuf: cannot find ${RELATIVE_JSON} from ${here}`);
}

let facts: Readonly<Record<string, MessageFact>> | undefined;
function messages(): Readonly<Record<string, MessageFact>> {
  facts ??= JSON.parse(readFileSync(factsPath(), 'utf8')) as Record<string, MessageFact>;
  return facts;
}

export class ProtobufDecodeError extends Error {
  override readonly name = 'ProtobufDecodeError';
}

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const TIME = `${META}.Time`;
const MICRO_TIME = `${META}.MicroTime`;
const DURATION = `${META}.Duration`;
const FIELDS_V1 = `${META}.FieldsV1`;
const INT_OR_STRING = 'k8s.io.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'k8s.io.apimachinery.pkg.api.resource.Quantity';
const RAW_EXTENSION = 'k8s.io.apimachinery.pkg.runtime.RawExtension';
const UNKNOWN = 'k8s.io.apimachinery.pkg.runtime.Unknown';
const OBJECT_META = `${META}.ObjectMeta`;

/** Pointer strings where "" differs from unset. */
const KEEP_EMPTY_STRINGS = new Set([
  'k8s.io.api.core.v1.PersistentVolumeClaimSpec.storageClassName',
  'k8s.io.api.core.v1.PersistentVolumeSpec.storageClassName',
]);

const CORE = 'k8s.io.api.core.v1';

/**
 * Non-pointer bool and integer fields tagged omitempty: Go decodes a zero into them exactly as an
 * absent field and JSON-encodes neither, so `kubectl create deployment` (whose protobuf body carries
 * `stdin: false`, `hostPort: 0`, `minReadySeconds: 0` …) is stored as upstream stores it, and its
 * ReplicaSets' templates compare equal to what `kubectl rollout undo` writes back.
 */
const DROP_ZERO_SCALARS = new Set([
  ...['Container', 'EphemeralContainerCommon'].flatMap((m) =>
    ['stdin', 'stdinOnce', 'tty'].map((f) => `${CORE}.${m}.${f}`),
  ),
  `${CORE}.ContainerPort.hostPort`,
  ...['hostNetwork', 'hostPID', 'hostIPC'].map((f) => `${CORE}.PodSpec.${f}`),
  `${CORE}.VolumeMount.readOnly`,
  ...['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'].map(
    (f) => `${CORE}.Probe.${f}`,
  ),
  `${CORE}.ServicePort.nodePort`,
  `${CORE}.ServiceSpec.publishNotReadyAddresses`,
  `${CORE}.ServiceSpec.healthCheckNodePort`,
  `${CORE}.NodeSpec.unschedulable`,
  `${CORE}.ReplicationControllerSpec.minReadySeconds`,
  ...[
    'PersistentVolumeClaimVolumeSource',
    'NFSVolumeSource',
    'GCEPersistentDiskVolumeSource',
    'AWSElasticBlockStoreVolumeSource',
    'ISCSIVolumeSource',
    'ISCSIPersistentVolumeSource',
    'RBDVolumeSource',
    'RBDPersistentVolumeSource',
    'CephFSVolumeSource',
    'CephFSPersistentVolumeSource',
    'FCVolumeSource',
    'AzureFileVolumeSource',
    'AzureFilePersistentVolumeSource',
  ].map((m) => `${CORE}.${m}.readOnly`),
  `${CORE}.GCEPersistentDiskVolumeSource.partition`,
  `${CORE}.AWSElasticBlockStoreVolumeSource.partition`,
  ...['DeploymentSpec', 'ReplicaSetSpec', 'DaemonSetSpec', 'StatefulSetSpec'].flatMap((m) =>
    ['apps.v1', 'extensions.v1beta1'].map((g) => `k8s.io.api.${g}.${m}.minReadySeconds`),
  ),
  'k8s.io.api.apps.v1.DeploymentSpec.paused',
  'k8s.io.api.extensions.v1beta1.DeploymentSpec.paused',
  'k8s.io.api.networking.v1.ServiceBackendPort.number',
  'k8s.io.api.scheduling.v1.PriorityClass.globalDefault',
]);

/** Members embedded with `json:",inline"` in the Go types: their fields belong to the parent in JSON. */
const INLINE_MEMBERS = new Set([
  `${CORE}.Probe.handler`,
  `${CORE}.Volume.volumeSource`,
  `${CORE}.PersistentVolumeSpec.persistentVolumeSource`,
  `${CORE}.EphemeralContainer.ephemeralContainerCommon`,
  ...[
    'ConfigMapEnvSource',
    'ConfigMapKeySelector',
    'ConfigMapProjection',
    'ConfigMapVolumeSource',
    'SecretEnvSource',
    'SecretKeySelector',
    'SecretProjection',
  ].map((m) => `${CORE}.${m}.localObjectReference`),
  ...['networking.v1', 'networking.v1beta1', 'extensions.v1beta1'].map(
    (g) => `k8s.io.api.${g}.IngressRule.ingressRuleValue`,
  ),
  ...['v1', 'v1beta1', 'v1alpha1'].flatMap((v) => [
    `k8s.io.api.admissionregistration.${v}.NamedRuleWithOperations.ruleWithOperations`,
    `k8s.io.api.admissionregistration.${v}.RuleWithOperations.rule`,
  ]),
]);

/** The proto message name of an OpenAPI definition name ('io.k8s.api.core.v1.Pod' → 'k8s.io.api.core.v1.Pod'). */
export function protoNameOfSchemaRef(schemaRef: string): string {
  return schemaRef.startsWith('io.k8s.') ? `k8s.io.${schemaRef.slice('io.k8s.'.length)}` : schemaRef;
}

function formatTime(seconds: number, nanos: number, micro: boolean): string {
  const d = new Date(seconds * 1000);
  const base = d.toISOString().slice(0, 19);
  if (!micro) return `${base}Z`;
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

/** Go's time.Duration.String(). */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e9) {
    if (n < 1e3) out = `${n}ns`;
    else if (n < 1e6) out = `${n / 1e3}µs`;
    else out = `${n / 1e6}ms`;
  } else {
    const h = Math.floor(n / 3.6e12);
    n -= h * 3.6e12;
    const m = Math.floor(n / 6e10);
    n -= m * 6e10;
    const s = n / 1e9;
    out = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  }
  return neg ? `-${out}` : out;
}

function scalar(r: ProtoReader, type: number, wire: number): unknown {
  switch (type) {
    case 8:
      return r.varint() !== 0;
    case 3:
    case 18:
    case 16:
      if (type === 18) {
        const v = r.varint();
        return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
      }
      if (type === 16) return Number(r.fixed64().getBigInt64(0, true));
      return r.int64();
    case 5:
    case 17: {
      const v = r.int64();
      if (type === 17) return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
      return v | 0;
    }
    case 4:
    case 13:
    case 14:
      return r.varint();
    case 1:
      return r.fixed64().getFloat64(0, true);
    case 2: {
      const bits = r.fixed32();
      const dv = new DataView(new ArrayBuffer(4));
      dv.setUint32(0, bits, true);
      return dv.getFloat32(0, true);
    }
    case 6:
      return Number(r.fixed64().getBigUint64(0, true));
    case 7:
      return r.fixed32();
    case 15:
      return r.fixed32() | 0;
    case 9:
      return utf8.decode(r.bytes());
    case 12:
      return Buffer.from(r.bytes()).toString('base64');
    default:
      r.skip(wire);
      return undefined;
  }
}

function isPackable(type: number): boolean {
  return type !== 9 && type !== 12 && type !== 11 && type !== 10;
}

function decodeMessage(name: string, bytes: Uint8Array, depth: number): unknown {
  if (depth > 100) throw new ProtobufDecodeError('protobuf: nesting too deep');
  const fact = messages()[name];
  if (!fact) throw new ProtobufDecodeError(`protobuf: unknown message type ${name}`);
  const r = new ProtoReader(bytes);
  const obj: Record<string, unknown> = {};
  while (!r.done()) {
    const { field, wire } = r.tag();
    const f = fact.f[String(field)];
    if (!f) {
      r.skip(wire);
      continue;
    }
    const [fname, type, repeated, typeName] = f;
    let value: unknown;
    if (type === 11) {
      if (wire !== WIRE_BYTES) throw new ProtobufDecodeError(`protobuf: bad wire type for ${name}.${fname}`);
      value = decodeMessage(typeName!, r.bytes(), depth + 1);
    } else if (repeated && wire === WIRE_BYTES && isPackable(type)) {
      const pr = new ProtoReader(r.bytes());
      const arr = (obj[fname] as unknown[] | undefined) ?? [];
      const elementWire =
        type === 1 || type === 6 || type === 16
          ? WIRE_FIXED64
          : type === 2 || type === 7 || type === 15
            ? WIRE_FIXED32
            : WIRE_VARINT;
      while (!pr.done()) arr.push(scalar(pr, type, elementWire));
      obj[fname] = arr;
      continue;
    } else value = scalar(r, type, wire);
    if (repeated) {
      const arr = (obj[fname] as unknown[] | undefined) ?? [];
      arr.push(value);
      obj[fname] = arr;
    } else obj[fname] = value;
  }
  return finish(name, fact, obj);
}

function finish(name: string, fact: MessageFact, obj: Record<string, unknown>): unknown {
  switch (name) {
    case TIME:
    case MICRO_TIME: {
      const seconds = typeof obj.seconds === 'number' ? obj.seconds : 0;
      const nanos = typeof obj.nanos === 'number' ? obj.nanos : 0;
      if (obj.seconds === undefined && obj.nanos === undefined) return undefined;
      return formatTime(seconds, nanos, name === MICRO_TIME);
    }
    case DURATION:
      return goDuration(typeof obj.duration === 'number' ? obj.duration : 0);
    case INT_OR_STRING:
      return obj.type === 1 ? (obj.strVal ?? '') : (obj.intVal ?? 0);
    case QUANTITY:
      return obj.string ?? '0';
    case RAW_EXTENSION:
    case FIELDS_V1:
      return rawJson(obj.raw ?? obj.Raw);
    case UNKNOWN:
      return undefined;
  }
  if (name.endsWith('.JSON') && Object.keys(fact.f).length === 1 && fact.f['1']?.[0] === 'raw')
    return rawJson(obj.raw);
  // Wrappers of a string list (ExtraValue, Verbs …) marshal as the list itself.
  const fieldNames = Object.values(fact.f);
  if (
    fieldNames.length === 1 &&
    fieldNames[0]![0] === 'items' &&
    fieldNames[0]![2] === 1 &&
    fieldNames[0]![1] !== 11
  )
    return obj.items ?? [];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    const member = `${name}.${k}`;
    if (v === '' && !KEEP_EMPTY_STRINGS.has(member)) continue;
    if (name === OBJECT_META && k === 'generation' && v === 0) continue;
    if ((v === 0 || v === false) && DROP_ZERO_SCALARS.has(member)) continue;
    if (INLINE_MEMBERS.has(member) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      Object.assign(out, v);
      continue;
    }
    out[k] = v;
  }
  // Map fields arrive as repeated entry messages: turn them into objects.
  for (const f of Object.values(fact.f)) {
    const [fname, type, repeated, typeName] = f;
    if (type !== 11 || !repeated || !typeName) continue;
    const entryFact = messages()[typeName];
    if (!entryFact?.map) continue;
    const entries = out[fname] as { key?: unknown; value?: unknown }[] | undefined;
    if (!entries) continue;
    const m: Record<string, unknown> = {};
    const valueType = entryFact.f['2']?.[1];
    for (const e of entries)
      m[typeof e.key === 'string' || typeof e.key === 'number' ? String(e.key) : ''] =
        e.value ?? (valueType === 9 ? '' : valueType === 12 ? '' : undefined);
    out[fname] = m;
  }
  return out;
}

function rawJson(raw: unknown): unknown {
  if (typeof raw !== 'string') return undefined;
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export interface DecodedProtobuf {
  readonly apiVersion: string;
  readonly kind: string;
  readonly object: Record<string, unknown>;
}

/**
 * Decodes a protobuf-encoded object. `messageFor` names the proto message of an apiVersion/kind
 * (undefined when the server does not serve it).
 */
export function decodeProtobuf(
  body: Uint8Array,
  messageFor: (apiVersion: string, kind: string) => string | undefined,
): DecodedProtobuf {
  if (body.length < 4 || !PROTOBUF_MAGIC.equals(Buffer.from(body.subarray(0, 4))))
    throw new ProtobufDecodeError('provided object is not protobuf: missing the "k8s\\x00" prefix');
  // runtime.Unknown: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType.
  const r = new ProtoReader(body, 4);
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array();
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_BYTES) {
      const tm = new ProtoReader(r.bytes());
      while (!tm.done()) {
        const t = tm.tag();
        if (t.field === 1 && t.wire === WIRE_BYTES) apiVersion = utf8.decode(tm.bytes());
        else if (t.field === 2 && t.wire === WIRE_BYTES) kind = utf8.decode(tm.bytes());
        else tm.skip(t.wire);
      }
    } else if (field === 2 && wire === WIRE_BYTES) raw = r.bytes();
    else r.skip(wire);
  }
  const message = messageFor(apiVersion, kind);
  if (!message || !messages()[message])
    throw new ProtobufDecodeError(`no kind "${kind}" is registered for version "${apiVersion}"`);
  const object = (decodeMessage(message, raw, 0) ?? {}) as Record<string, unknown>;
  return { apiVersion, kind, object: { apiVersion, kind, ...object } };
}
