// Field paths and sets of them, as server-side apply records ownership (the FieldsV1 format of
// metadata.managedFields): "f:<name>" for a field of a map, "k:{...}" for an item of a keyed list,
// "v:<json>" for an item of a set, "i:<n>" for a position; "." marks a node that is owned itself
// and also has owned children.
import type { JsonObject, JsonValue } from '../../api/meta.js';
import { isPlainObject } from '../../api/meta.js';

export type PathElement =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'key'; readonly fields: ReadonlyArray<readonly [string, JsonValue]> }
  | { readonly kind: 'value'; readonly value: JsonValue }
  | { readonly kind: 'index'; readonly index: number };

export type FieldPath = readonly PathElement[];

export function fieldElement(name: string): PathElement {
  return { kind: 'field', name };
}

/** A keyed-list item; the key fields are kept sorted by name, as upstream keeps them. */
export function keyElement(fields: ReadonlyArray<readonly [string, JsonValue]>): PathElement {
  const sorted = [...fields].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { kind: 'key', fields: sorted };
}

export function valueElement(value: JsonValue): PathElement {
  return { kind: 'value', value };
}

export function indexElement(index: number): PathElement {
  return { kind: 'index', index };
}

/** JSON the way the Go encoder writes it: no spaces, and <, > and & escaped. */
export function goJson(value: JsonValue): string {
  const json = JSON.stringify(value);
  if (!GO_ESCAPED.test(json)) return json;
  return json.replace(GO_ESCAPED_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
const GO_ESCAPED = /[<>&\u2028\u2029]/;
const GO_ESCAPED_ALL = /[<>&\u2028\u2029]/g;

function keyObjectJson(fields: ReadonlyArray<readonly [string, JsonValue]>): string {
  return `{${fields.map(([n, v]) => `${goJson(n)}:${goJson(v)}`).join(',')}}`;
}

/** The FieldsV1 key of a path element. */
export function serializeElement(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `f:${pe.name}`;
    case 'key':
      return `k:${keyObjectJson(pe.fields)}`;
    case 'value':
      return `v:${goJson(pe.value)}`;
    case 'index':
      return `i:${pe.index}`;
  }
}

export class FieldPathParseError extends Error {
  override readonly name = 'FieldPathParseError';
}

/** Parses a FieldsV1 key; returns undefined for prefixes this version does not know (upstream skips them). */
export function parseElement(s: string): PathElement | undefined {
  const colon = s.indexOf(':');
  if (colon < 0) throw new FieldPathParseError(`unable to parse path element: ${JSON.stringify(s)}`);
  const prefix = s.slice(0, colon);
  const rest = s.slice(colon + 1);
  switch (prefix) {
    case 'f':
      return fieldElement(rest);
    case 'k': {
      const parsed: unknown = JSON.parse(rest);
      if (!isPlainObject(parsed))
        throw new FieldPathParseError(`expected key object in ${JSON.stringify(s)}`);
      return keyElement(Object.entries(parsed as JsonObject));
    }
    case 'v':
      return valueElement(JSON.parse(rest) as JsonValue);
    case 'i': {
      const n = Number(rest);
      if (!Number.isInteger(n)) throw new FieldPathParseError(`invalid index in ${JSON.stringify(s)}`);
      return indexElement(n);
    }
    default:
      return undefined;
  }
}

/** How upstream prints a value inside a path: JSON. */
function valueString(v: JsonValue): string {
  return goJson(v);
}

/** One element as upstream prints it in messages: `.name`, `[name="nginx"]`, `[="a"]`, `[0]`. */
export function elementString(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `.${pe.name}`;
    case 'key':
      return `[${pe.fields.map(([n, v]) => `${n}=${valueString(v)}`).join(',')}]`;
    case 'value':
      return `[=${valueString(pe.value)}]`;
    case 'index':
      return `[${pe.index}]`;
  }
}

export function pathString(path: FieldPath): string {
  return path.map(elementString).join('');
}

const KIND_ORDER = { field: 0, key: 1, value: 2, index: 3 } as const;

function valueRank(v: JsonValue): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 2;
  if (typeof v === 'boolean') return 3;
  if (Array.isArray(v)) return 4;
  if (v === null) return 6;
  return 5;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A total order over JSON values, as upstream sorts set items: numbers, strings, booleans, lists, maps, null. */
export function compareValues(a: JsonValue, b: JsonValue): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return cmpStr(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i]!, b[i]!);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      const c = cmpStr(ka[i]!, kb[i]!);
      if (c !== 0) return c;
      const d = compareValues(a[ka[i]!]!, b[kb[i]!]!);
      if (d !== 0) return d;
    }
    return ka.length - kb.length;
  }
  return 0;
}

export function compareElements(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
  switch (a.kind) {
    case 'field':
      return cmpStr(a.name, (b as { name: string }).name);
    case 'key': {
      const bf = (b as { fields: ReadonlyArray<readonly [string, JsonValue]> }).fields;
      for (let i = 0; ; i++) {
        if (i >= a.fields.length && i >= bf.length) return 0;
        if (i >= a.fields.length) return -1;
        if (i >= bf.length) return 1;
        const c = cmpStr(a.fields[i]![0], bf[i]![0]);
        if (c !== 0) return c;
        const d = compareValues(a.fields[i]![1], bf[i]![1]);
        if (d !== 0) return d;
      }
    }
    case 'value':
      return compareValues(a.value, (b as { value: JsonValue }).value);
    case 'index':
      return a.index - (b as { index: number }).index;
  }
}

interface ChildNode {
  readonly pe: PathElement;
  readonly set: FieldSet;
}

/** A set of field paths stored as a tree: the members of a node and its children's sets. */
export class FieldSet {
  readonly members = new Map<string, PathElement>();
  readonly children = new Map<string, ChildNode>();

  static fromPaths(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: FieldPath): void {
    if (path.length === 0) return;
    const last = path[path.length - 1]!;
    path
      .slice(0, -1)
      .reduce<FieldSet>((node, pe) => node.descend(pe), this)
      .members.set(serializeElement(last), last);
  }

  /** The child set under pe, created when missing. */
  descend(pe: PathElement): FieldSet {
    return this.descendKeyed(serializeElement(pe), pe);
  }

  /** descend, for a caller that has the serialized element at hand already. */
  descendKeyed(k: string, pe: PathElement): FieldSet {
    let child = this.children.get(k);
    if (!child) {
      child = { pe, set: new FieldSet() };
      this.children.set(k, child);
    }
    return child.set;
  }

  has(path: FieldPath): boolean {
    if (path.length === 0) return false;
    const node = path
      .slice(0, -1)
      .reduce<FieldSet | undefined>((n, pe) => n?.children.get(serializeElement(pe))?.set, this);
    return node !== undefined && node.members.has(serializeElement(path[path.length - 1]!));
  }

  hasMember(pe: PathElement): boolean {
    return this.members.has(serializeElement(pe));
  }

  /** The paths under pe, relative to it (empty when there are none). */
  withPrefix(pe: PathElement): FieldSet {
    return this.children.get(serializeElement(pe))?.set ?? new FieldSet();
  }

  empty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.set.empty()) return false;
    return true;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, c] of this.children) out.children.set(k, { pe: c.pe, set: c.set.clone() });
    return out;
  }

  union(other: FieldSet): FieldSet {
    const out = this.clone();
    for (const [k, pe] of other.members) out.members.set(k, pe);
    for (const [k, c] of other.children) {
      const mine = out.children.get(k);
      out.children.set(k, { pe: c.pe, set: mine ? mine.set.union(c.set) : c.set.clone() });
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const theirs = other.children.get(k);
      if (!theirs) continue;
      const sub = c.set.intersection(theirs.set);
      if (!sub.empty()) out.children.set(k, { pe: c.pe, set: sub });
    }
    return out;
  }

  /** Removes the paths of other; like upstream, other's members do not remove this set's deeper paths. */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const theirs = other.children.get(k);
      const sub = theirs ? c.set.difference(theirs.set) : c.set.clone();
      if (!sub.empty()) out.children.set(k, { pe: c.pe, set: sub });
    }
    return out;
  }

  /** Removes the paths of other and everything below other's members. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      if (other.members.has(k)) continue;
      const theirs = other.children.get(k);
      const sub = theirs ? c.set.recursiveDifference(theirs.set) : c.set.clone();
      if (!sub.empty()) out.children.set(k, { pe: c.pe, set: sub });
    }
    return out;
  }

  private sortedMembers(): PathElement[] {
    return [...this.members.values()].sort(compareElements);
  }

  private sortedChildren(): ChildNode[] {
    return [...this.children.values()]
      .filter((c) => !c.set.empty())
      .sort((a, b) => compareElements(a.pe, b.pe));
  }

  /** Every path, in upstream's order: a node's members first, then its children's paths. */
  paths(prefix: FieldPath = []): FieldPath[] {
    const out: FieldPath[] = [];
    for (const pe of this.sortedMembers()) out.push([...prefix, pe]);
    for (const c of this.sortedChildren()) out.push(...c.set.paths([...prefix, c.pe]));
    return out;
  }

  /** The FieldsV1 object. */
  toFieldsV1(): JsonObject {
    const out: JsonObject = {};
    // The maps are keyed by serializeElement of their elements, so the keys are reused as they are.
    const entries: Array<{ key: string; pe: PathElement; member: boolean; child?: FieldSet }> = [];
    const byKey = new Map<string, { key: string; pe: PathElement; member: boolean; child?: FieldSet }>();
    for (const [key, pe] of this.members) {
      const e = { key, pe, member: true };
      byKey.set(key, e);
      entries.push(e);
    }
    for (const [key, c] of this.children) {
      if (c.set.empty()) continue;
      const e = byKey.get(key);
      if (e) e.child = c.set;
      else entries.push({ key, pe: c.pe, member: false, child: c.set });
    }
    entries.sort((a, b) => compareElements(a.pe, b.pe));
    for (const e of entries) {
      if (e.child) {
        const inner = e.child.toFieldsV1();
        out[e.key] = e.member ? { '.': {}, ...inner } : inner;
      } else {
        out[e.key] = {};
      }
    }
    return out;
  }

  /** Whether the two sets share a path (their intersection is not empty), without building it. */
  overlaps(other: FieldSet): boolean {
    const [small, large] = this.members.size <= other.members.size ? [this, other] : [other, this];
    for (const k of small.members.keys()) if (large.members.has(k)) return true;
    for (const [k, c] of this.children) {
      const theirs = other.children.get(k);
      if (theirs && c.set.overlaps(theirs.set)) return true;
    }
    return false;
  }

  static fromFieldsV1(obj: JsonValue | undefined): FieldSet {
    const set = new FieldSet();
    if (!isPlainObject(obj)) return set;
    readInto(set, obj);
    return set;
  }
}

function readInto(set: FieldSet, obj: JsonObject): void {
  for (const [key, value] of Object.entries(obj)) {
    if (key === '.') continue;
    const pe = parseElementCached(key);
    if (!pe) continue;
    const inner = isPlainObject(value) ? value : {};
    const childKeys = Object.keys(inner);
    const isMember = childKeys.length === 0 || childKeys.includes('.');
    if (isMember) set.members.set(pe.key, pe.pe);
    if (childKeys.some((k) => k !== '.')) readInto(set.descendKeyed(pe.key, pe.pe), inner);
  }
}

/** A parsed FieldsV1 key and its canonical serialization (equal to the key when it is canonical). */
interface ParsedKey {
  readonly pe: PathElement;
  readonly key: string;
}

/**
 * Parsed non-field keys by their text. The same keys ("k:{\"name\":\"web\"}", condition types,
 * ports) come back in every stored object, and parsing them (JSON, sorting, re-serializing) was
 * most of decoding; elements are immutable, so sharing them is safe. Bounded: cleared when full.
 */
const PARSED_KEYS = new Map<string, ParsedKey | null>();
const PARSED_KEYS_MAX = 4096;

/** parseElement with its canonical key; undefined for unknown prefixes, throws like parseElement. */
function parseElementCached(key: string): ParsedKey | undefined {
  if (key.startsWith('f:')) return { pe: fieldElement(key.slice(2)), key };
  const hit = PARSED_KEYS.get(key);
  if (hit !== undefined) return hit ?? undefined;
  const pe = parseElement(key);
  const parsed = pe ? { pe, key: serializeElement(pe) } : null;
  if (PARSED_KEYS.size >= PARSED_KEYS_MAX) PARSED_KEYS.clear();
  PARSED_KEYS.set(key, parsed);
  return parsed ?? undefined;
}

function parsesCanonically(key: string): PathElement | undefined {
  let parsed: ParsedKey | undefined;
  try {
    parsed = parseElementCached(key);
  } catch {
    return undefined;
  }
  return parsed && parsed.key === key ? parsed.pe : undefined;
}

/**
 * Whether a FieldsV1 object is exactly what FieldSet.toFieldsV1 writes for the set it decodes to:
 * canonical keys in upstream's order, "." only first and only beside children, no empty nodes. For
 * such an object the paths can be read off the keys directly, and it can be written back unchanged
 * when its set did not change, without decoding it into a FieldSet and encoding it again.
 */
export function isCanonicalFieldsV1(raw: JsonValue | undefined): raw is JsonObject {
  return isPlainObject(raw) && canonicalNode(raw, false);
}

function canonicalNode(node: JsonObject, member: boolean): boolean {
  const keys = Object.keys(node);
  let from = 0;
  if (keys[0] === '.') {
    // Written only first, as {}, for a member that also has children (a lone "." is written as {}).
    const dot = node['.'];
    if (!member || keys.length < 2 || !isPlainObject(dot) || hasKeys(dot)) return false;
    from = 1;
  }
  let previousKey: string | undefined;
  let previous: PathElement | undefined;
  for (let i = from; i < keys.length; i++) {
    const key = keys[i]!;
    const value = node[key];
    if (!isPlainObject(value)) return false;
    if (key.startsWith('f:')) {
      // Fields sort first, by name: their keys compare as their names do.
      if (previousKey !== undefined && (previous !== undefined || previousKey >= key)) return false;
      previousKey = key;
    } else {
      const pe = parsesCanonically(key);
      if (!pe) return false;
      if (previousKey !== undefined) {
        const before = previous ?? fieldElement(previousKey.slice(2));
        if (compareElements(before, pe) >= 0) return false;
      }
      previousKey = key;
      previous = pe;
    }
    const inner = Object.keys(value);
    if (inner.length === 0) continue;
    if (!canonicalNode(value, inner[0] === '.')) return false;
  }
  return true;
}

function hasKeys(o: JsonObject): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return true;
  return false;
}

function firstKey(o: JsonObject): string | undefined {
  for (const k in o) if (Object.hasOwn(o, k)) return k;
  return undefined;
}

/** In a canonical FieldsV1 node, whether the value under a key marks the key itself as a path. */
function isMemberValue(v: JsonObject): boolean {
  const k = firstKey(v);
  return k === undefined || k === '.';
}

function childNode(raw: JsonObject, key: string): JsonObject | undefined {
  if (!Object.hasOwn(raw, key)) return undefined;
  const v = raw[key];
  return isPlainObject(v) ? v : undefined;
}

/** For a canonical FieldsV1 object (isCanonicalFieldsV1): whether it shares a path with the set. */
export function fieldsV1Overlaps(raw: JsonObject, set: FieldSet): boolean {
  for (const k of set.members.keys()) {
    const v = childNode(raw, k);
    if (v && isMemberValue(v)) return true;
  }
  for (const [k, c] of set.children) {
    const v = childNode(raw, k);
    if (v && fieldsV1Overlaps(v, c.set)) return true;
  }
  return false;
}

/** For a canonical FieldsV1 object (isCanonicalFieldsV1): whether it holds every path of the set. */
export function fieldsV1Contains(raw: JsonObject, set: FieldSet): boolean {
  for (const k of set.members.keys()) {
    const v = childNode(raw, k);
    if (!v || !isMemberValue(v)) return false;
  }
  for (const [k, c] of set.children) {
    if (c.set.empty()) continue;
    const v = childNode(raw, k);
    if (!v || !fieldsV1Contains(v, c.set)) return false;
  }
  return true;
}
