// Object plumbing shared by the REST handlers: storage encoding (no resourceVersion inside the
// stored bytes; it is the revision), version conversion, timestamps, names and field paths.
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../api/meta.js';
import { isPlainObject } from '../api/meta.js';
import type { QualifiedResource } from '../api/errors.js';
import type { ResourceDescription } from '../api/types.js';

export function qualifiedResource(desc: ResourceDescription): QualifiedResource {
  return { group: desc.group, resource: desc.plural };
}

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function nowTimestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** upstream's SimpleNameGenerator: the base (cut to leave room) plus five random characters. */
export function generateName(base: string): string {
  const maxBase = 63 - 5;
  const prefix = base.length > maxBase ? base.slice(0, maxBase) : base;
  const bytes = randomBytes(5);
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[bytes[i]! % GENERATE_ALPHABET.length];
  return prefix + suffix;
}

/** The stored form: apiVersion, kind and metadata first (so readers can splice the revision in), no resourceVersion. */
export function encodeForStorage(obj: KubeObject): string {
  const { apiVersion, kind, metadata, ...rest } = obj;
  const { resourceVersion: _rv, selfLink: _sl, ...meta } = metadata;
  return JSON.stringify({ apiVersion, kind, metadata: meta, ...rest });
}

const META_OPEN = '"metadata":{';

/**
 * Stored JSON with metadata.resourceVersion added, without parsing: the stored form always has
 * apiVersion, kind, then metadata, so the first `"metadata":{` is the object's own.
 */
export function withResourceVersion(stored: string, rv: number): string {
  const at = stored.indexOf(META_OPEN);
  if (at < 0 || at > 512) {
    const obj = JSON.parse(stored) as KubeObject;
    obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: String(rv) };
    return JSON.stringify(obj);
  }
  const insertAt = at + META_OPEN.length;
  const empty = stored[insertAt] === '}';
  return `${stored.slice(0, insertAt)}"resourceVersion":"${rv}"${empty ? '' : ','}${stored.slice(insertAt)}`;
}

export function toServed(desc: ResourceDescription, storageObj: KubeObject): KubeObject {
  return desc.conversion ? desc.conversion.fromStorage(storageObj) : storageObj;
}

export function toStorage(desc: ResourceDescription, servedObj: KubeObject): KubeObject {
  return desc.conversion ? desc.conversion.toStorage(servedObj) : servedObj;
}

/**
 * A deep copy of an API object. Objects here are JSON data (plain objects, arrays, primitives), which
 * a direct walk copies several times faster than structuredClone; anything else found inside (a Date,
 * a Map) still goes through structuredClone.
 */
export function cloneObject<T>(obj: T): T {
  return copyJsonLike(obj) as T;
}

function copyJsonLike(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out: unknown[] = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copyJsonLike(v[i]);
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) out[k] = copyJsonLike(src[k]);
  return out;
}

/** Reads a dotted path ('.spec.replicas' or 'spec.replicas'). */
export function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const seg of path.replace(/^\./, '').split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.replace(/^\./, '').split('.');
  let cur: Record<string, unknown> = obj;
  for (let i = 0; i < segs.length - 1; i++) {
    const next = cur[segs[i]!];
    if (isPlainObject(next)) cur = next;
    else {
      const created: Record<string, unknown> = {};
      cur[segs[i]!] = created;
      cur = created;
    }
  }
  cur[segs[segs.length - 1]!] = value;
}

/**
 * Whether two objects serialise to the same JSON up to key order: keys holding undefined count as
 * absent, an undefined array element as null. Compared in place, without building strings (this
 * runs on every update to spot no-op writes).
 */
export function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameContent(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b) || Array.isArray(b)) return false;
    let defined = 0;
    for (const k in a) {
      if (!Object.hasOwn(a, k) || a[k] === undefined) continue;
      defined++;
      if (b[k] === undefined || !Object.hasOwn(b, k) || !sameContent(a[k], b[k])) return false;
    }
    for (const k in b) if (Object.hasOwn(b, k) && b[k] !== undefined) defined--;
    return defined === 0;
  }
  if (Array.isArray(b) || isPlainObject(b)) return false;
  return (JSON.stringify(a) ?? 'null') === (JSON.stringify(b) ?? 'null');
}

/** Everything but metadata and status: a change here bumps metadata.generation. */
export function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): Record<string, unknown> => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return rest;
  };
  return !sameContent(strip(a), strip(b));
}

/** upstream's path segment rule for names used in storage keys. */
export function pathSegmentProblems(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const out: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) out.push(`may not contain '${bad}'`);
  return out;
}

/** Go's omitempty on ObjectMeta: empty label, annotation, finalizer and owner lists are not kept. */
export function dropEmptyMetadata(meta: KubeObject['metadata']): void {
  const m = meta as Record<string, unknown>;
  for (const key of ['labels', 'annotations', 'finalizers', 'ownerReferences', 'managedFields']) {
    const v = m[key];
    if (v === null || (Array.isArray(v) && v.length === 0)) delete m[key];
    else if (isPlainObject(v) && Object.keys(v).length === 0) delete m[key];
  }
}
