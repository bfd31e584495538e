// Static pods, as the kubelet's file source makes them (pkg/kubelet/config/file.go and common.go):
// a manifest is one Pod (YAML or JSON; of a multi-document file only the first document counts),
// named `<name>-<nodeName>`, namespace `default` unless it says otherwise, bound to this node, its
// UID the hash of what the file says (so an edited file is a new pod), and annotated with where it
// came from. The API server gets a mirror pod of it (mirror-pods.ts); the pod itself runs whether
// or not the API server is there.
import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { fieldErrorMessage } from '../../api/errors.js';
import type { Pod, Toleration } from '../../api/generated/types.js';
import { defaultPod, validatePod } from '../../api/kinds/pod.js';
import { isDNS1123Subdomain } from '../../api/kinds/util.js';
import { isPlainObject } from '../../api/meta.js';

export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';
export const CONFIG_SEEN_ANNOTATION = 'kubernetes.io/config.seen';
export const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const FILE_SOURCE = 'file';
export const API_SOURCE = 'api';

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ManifestError';
  }
}

/** The first document of a manifest file, as a plain object. */
export function parseManifest(text: string, file: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (trimmed === '') throw new ManifestError(file, 'the file is empty');
  let value: unknown;
  if (trimmed.startsWith('{')) {
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      throw new ManifestError(file, `invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else {
    // Only the first document counts, as with upstream's YAML-to-JSON.
    const docs = parseAllDocuments(trimmed, { uniqueKeys: true });
    const doc = Array.isArray(docs) ? docs[0] : undefined;
    if (!doc) throw new ManifestError(file, 'the file has no document');
    if (doc.errors.length > 0) throw new ManifestError(file, `invalid YAML: ${doc.errors[0]!.message}`);
    value = doc.toJS();
  }
  if (!isPlainObject(value)) throw new ManifestError(file, 'a manifest must be a Pod object');
  return value;
}

/** Stable JSON (sorted keys) so the hash depends on what the manifest says, not how it is laid out. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isPlainObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** The static pod's UID and config.hash: what the manifest says, for this node, from this file. */
export function staticPodHash(manifest: Record<string, unknown>, nodeName: string, file: string): string {
  return createHash('md5')
    .update(canonicalJson(manifest))
    .update('\0')
    .update(nodeName)
    .update('\0')
    .update(file)
    .digest('hex');
}

/** Upstream names a static pod after its node so the same manifest on two nodes gives two pods. */
export function staticPodName(name: string, nodeName: string): string {
  return `${name}-${nodeName.toLowerCase()}`;
}

/**
 * The pod a manifest describes on this node: named, bound, hashed, annotated, tolerating every
 * NoExecute taint (node problems must not evict it), defaulted and validated as the API server
 * would. Throws ManifestError when it is not a valid pod.
 */
export function staticPodFromManifest(
  manifest: Record<string, unknown>,
  nodeName: string,
  file: string,
  now: Date = new Date(),
): Pod {
  if (manifest.kind !== 'Pod')
    throw new ManifestError(file, `expected kind "Pod", got ${JSON.stringify(manifest.kind)}`);
  if (manifest.apiVersion !== 'v1')
    throw new ManifestError(file, `expected apiVersion "v1", got ${JSON.stringify(manifest.apiVersion)}`);
  const metadata = isPlainObject(manifest.metadata) ? manifest.metadata : {};
  const baseName = typeof metadata.name === 'string' ? metadata.name : '';
  if (baseName === '') throw new ManifestError(file, 'metadata.name: Required value: name is required');
  const hash = staticPodHash(manifest, nodeName, file);
  const pod = structuredClone(manifest) as unknown as Pod;
  const name = staticPodName(baseName, nodeName);
  for (const problem of isDNS1123Subdomain(name))
    throw new ManifestError(file, `metadata.name: Invalid value: ${JSON.stringify(name)}: ${problem}`);
  pod.metadata = {
    ...pod.metadata,
    name,
    namespace:
      typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : 'default',
    uid: hash,
    annotations: {
      ...pod.metadata?.annotations,
      [CONFIG_HASH_ANNOTATION]: hash,
      [CONFIG_SOURCE_ANNOTATION]: FILE_SOURCE,
      [CONFIG_SEEN_ANNOTATION]: now.toISOString(),
    },
  };
  delete pod.metadata.resourceVersion;
  delete pod.metadata.generateName;
  delete pod.metadata.deletionTimestamp;
  pod.spec = { ...pod.spec, containers: pod.spec?.containers ?? [], nodeName };
  const tolerateNoExecute: Toleration = { operator: 'Exists', effect: 'NoExecute' };
  const tolerations = pod.spec.tolerations ?? [];
  if (!tolerations.some((t) => t.operator === 'Exists' && t.key === undefined && t.effect === 'NoExecute'))
    pod.spec.tolerations = [...tolerations, tolerateNoExecute];
  defaultPod(pod);
  const errs = validatePod(pod);
  if (errs.length > 0)
    throw new ManifestError(file, `invalid pod: ${errs.map(fieldErrorMessage).join('; ')}`);
  pod.status = { phase: 'Pending' };
  return pod;
}

export function isStaticPod(pod: Pod): boolean {
  const source = pod.metadata.annotations?.[CONFIG_SOURCE_ANNOTATION];
  return source !== undefined && source !== API_SOURCE;
}

export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata.annotations?.[CONFIG_MIRROR_ANNOTATION] !== undefined;
}

/**
 * The mirror pod the API server gets for a static pod: the same pod without its UID or status,
 * marked with the static pod's hash and owned by the node (so it goes when the node goes).
 */
export function mirrorPodFor(staticPod: Pod, node: { name: string; uid: string }): Pod {
  const hash = staticPod.metadata.annotations?.[CONFIG_HASH_ANNOTATION] ?? staticPod.metadata.uid ?? '';
  const metadata = structuredClone(staticPod.metadata);
  delete metadata.uid;
  delete metadata.resourceVersion;
  metadata.annotations = { ...metadata.annotations, [CONFIG_MIRROR_ANNOTATION]: hash };
  metadata.ownerReferences = [
    { apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true },
  ];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(staticPod.spec) };
}

/** Whether mirror is the current mirror of staticPod (same hash, not being deleted). */
export function isMirrorOf(mirror: Pod, staticPod: Pod): boolean {
  return (
    mirror.metadata.deletionTimestamp === undefined &&
    mirror.metadata.annotations?.[CONFIG_MIRROR_ANNOTATION] ===
      staticPod.metadata.annotations?.[CONFIG_HASH_ANNOTATION]
  );
}

/**
 * The pod as the runtime knows it: a mirror pod stands for its static pod, whose UID is the hash
 * the mirror carries (what the node's API needs to find a static pod's containers for logs and exec).
 */
export function runtimePodOf(pod: Pod): Pod {
  const hash = pod.metadata.annotations?.[CONFIG_MIRROR_ANNOTATION];
  return hash ? { ...pod, metadata: { ...pod.metadata, uid: hash } } : pod;
}
