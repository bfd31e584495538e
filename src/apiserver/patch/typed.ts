// Values walked with their structural schema, the way server-side apply sees them: which maps are
// structs (named fields) or granular maps, which lists are atomic, sets or keyed maps, and the
// operations apply is built from (the field set of a value, merging, comparing, removing paths).
import type { JsonObject, JsonValue } from '../../api/meta.js';
import { isPlainObject } from '../../api/meta.js';
import type { Schema, SchemaRegistry } from '../../api/schema.js';
import type { FieldPath, PathElement } from './fieldpath.js';
import { FieldSet, fieldElement, keyElement, pathString, valueElement } from './fieldpath.js';

export type Atom =
  | { readonly kind: 'scalar'; readonly type?: 'string' | 'number' | 'boolean' }
  | {
      readonly kind: 'list';
      readonly atomic: boolean;
      readonly keys: readonly string[];
      readonly elem: Schema | undefined;
    }
  | {
      readonly kind: 'map';
      readonly atomic: boolean;
      /** Named fields (a struct); undefined for a plain map. */
      readonly fields: Readonly<Record<string, Schema>> | undefined;
      /** The type of keys that are not named fields; undefined when such keys are not allowed. */
      readonly elem: Schema | undefined | 'deduced';
    }
  | { readonly kind: 'deduced' };

/** Key defaults upstream declares in its OpenAPI but a schema may lack (ports' protocol is "TCP"). */
const KNOWN_KEY_DEFAULTS: Readonly<Record<string, Readonly<Record<string, JsonValue>>>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.EndpointPort': { protocol: 'TCP' },
  'io.k8s.api.discovery.v1.EndpointPort': { protocol: 'TCP' },
};

/**
 * Fields that are plain (non-pointer) structs in upstream's Go types, for schemas that do not carry
 * upstream's `default: {}` marker: such fields are present in an empty object, which decides
 * whether a create records them as owned nodes ("." in FieldsV1).
 */
const VALUE_STRUCT_FIELDS = new Set([
  'metadata',
  'spec',
  'status',
  'template',
  'strategy',
  'updateStrategy',
  'jobTemplate',
]);
/** Exceptions by "Definition.field": pointers despite the name, and plain structs by other names. */
const POINTER_STRUCT_FIELDS = new Set(['io.k8s.api.core.v1.ReplicationControllerSpec.template']);
const VALUE_STRUCT_FIELDS_BY_PARENT = new Set([
  'io.k8s.api.core.v1.PersistentVolumeClaimSpec.resources',
  'io.k8s.api.core.v1.Container.resources',
  'io.k8s.api.core.v1.EphemeralContainer.resources',
]);

function isValueStructByName(parentRef: string | undefined, name: string): boolean {
  const qualified = `${parentRef ?? ''}.${name}`;
  if (POINTER_STRUCT_FIELDS.has(qualified)) return false;
  return VALUE_STRUCT_FIELDS.has(name) || VALUE_STRUCT_FIELDS_BY_PARENT.has(qualified);
}

/** Guards the zero-value construction against self-referencing definitions. */
const MAX_EMPTY_DEPTH = 16;

export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(readonly errors: readonly string[]) {
    super(errors.length === 1 ? errors[0]! : `errors:\n  ${errors.join('\n  ')}`);
  }
}

const SCALAR_TYPES = new Set(['string', 'integer', 'number', 'boolean']);

function ext<K extends keyof Schema>(
  prop: Schema | undefined,
  resolved: Schema | undefined,
  key: K,
): Schema[K] {
  return prop?.[key] ?? resolved?.[key];
}

/** A computed atom and the resolved schema it was computed from. */
interface CachedAtom {
  readonly atom: Atom;
  readonly resolved: Schema;
}

/** Atoms by registry, so that every write does not work out the same shapes again. */
const ATOMS_BY_REGISTRY = new WeakMap<SchemaRegistry, WeakMap<Schema, CachedAtom>>();

export class TypedContext {
  private readonly atoms: WeakMap<Schema, CachedAtom>;

  constructor(readonly schemas: SchemaRegistry) {
    let atoms = ATOMS_BY_REGISTRY.get(schemas);
    if (!atoms) {
      atoms = new WeakMap();
      ATOMS_BY_REGISTRY.set(schemas, atoms);
    }
    this.atoms = atoms;
  }

  resolve(prop: Schema | undefined): Schema | undefined {
    return prop ? this.schemas.resolve(prop) : undefined;
  }

  /** The shape a field of this (unresolved, as declared) schema has. */
  atom(prop: Schema | undefined): Atom {
    if (!prop) return { kind: 'deduced' };
    // An atom depends on the schema and what its $ref resolves to; a definition replaced since (a
    // CRD updated) resolves to another object, and the atom is computed again.
    const resolved = this.schemas.resolve(prop);
    const cached = this.atoms.get(prop);
    if (cached && cached.resolved === resolved) return cached.atom;
    const atom = this.computeAtom(prop, resolved);
    this.atoms.set(prop, { atom, resolved });
    return atom;
  }

  private computeAtom(prop: Schema, r: Schema): Atom {
    if (r['x-kubernetes-int-or-string']) return { kind: 'scalar' };
    if (r.type && SCALAR_TYPES.has(r.type)) {
      return {
        kind: 'scalar',
        type: r.type === 'string' ? 'string' : r.type === 'boolean' ? 'boolean' : 'number',
      };
    }
    if (r.type === 'array' || r.items) {
      const listType = ext(prop, r, 'x-kubernetes-list-type');
      let atomic = true;
      let keys: readonly string[] = [];
      if (listType !== undefined) {
        if (listType === 'set') atomic = false;
        else if (listType === 'map') {
          atomic = false;
          keys = ext(prop, r, 'x-kubernetes-list-map-keys') ?? [];
        }
      } else {
        const strategy = ext(prop, r, 'x-kubernetes-patch-strategy');
        if (strategy === 'merge' || strategy === 'merge,retainKeys' || strategy === 'retainKeys,merge') {
          atomic = false;
          const mk = ext(prop, r, 'x-kubernetes-patch-merge-key');
          if (mk) keys = [mk];
        }
      }
      return { kind: 'list', atomic, keys, elem: r.items };
    }
    const preserve = r['x-kubernetes-preserve-unknown-fields'] === true;
    const hasProps = r.properties !== undefined && Object.keys(r.properties).length > 0;
    const ap = r.additionalProperties;
    if (r.type === 'object' || hasProps || ap !== undefined || preserve) {
      if (!hasProps && (ap === undefined || ap === true || ap === false) && !isPlainObject(ap)) {
        if (ap === false && !preserve) return { kind: 'map', atomic: false, fields: {}, elem: undefined };
        return { kind: 'deduced' };
      }
      const atomic = ext(prop, r, 'x-kubernetes-map-type') === 'atomic';
      let elem: Schema | undefined | 'deduced';
      if (isPlainObject(ap)) elem = ap;
      else if (ap === true || preserve) elem = 'deduced';
      else elem = hasProps ? undefined : 'deduced';
      return { kind: 'map', atomic, fields: hasProps ? r.properties : undefined, elem };
    }
    return { kind: 'deduced' };
  }

  /** The atom for a value: deduced types take their shape from the value. */
  atomFor(prop: Schema | undefined, value: JsonValue | undefined): Atom {
    const a = this.atom(prop);
    if (a.kind !== 'deduced') return a;
    if (Array.isArray(value)) return { kind: 'list', atomic: true, keys: [], elem: undefined };
    if (isPlainObject(value)) return { kind: 'map', atomic: false, fields: undefined, elem: 'deduced' };
    return { kind: 'scalar' };
  }

  /** The declared schema of a key of a map atom; 'unknown' when the key is not allowed. */
  fieldSchema(atom: Atom & { kind: 'map' }, key: string): Schema | undefined | 'unknown' {
    const f = atom.fields?.[key];
    if (f) return f;
    if (atom.elem === 'deduced') return undefined;
    if (atom.elem) return atom.elem;
    return 'unknown';
  }

  isNamedField(atom: Atom, key: string): boolean {
    return atom.kind === 'map' && atom.fields !== undefined && Object.hasOwn(atom.fields, key);
  }

  private keyDefault(atom: Atom & { kind: 'list' }, key: string): JsonValue | undefined {
    if (!atom.elem) return undefined;
    const r = this.schemas.resolve(atom.elem);
    const d = r.properties?.[key]?.default;
    if (d !== undefined && !isPlainObject(d) && !Array.isArray(d)) return d;
    const ref = atom.elem.$ref;
    return ref ? KNOWN_KEY_DEFAULTS[ref]?.[key] : undefined;
  }

  /** The path element of a list item; throws a message (without path) when it has none. */
  itemElement(atom: Atom & { kind: 'list' }, item: JsonValue): PathElement {
    if (atom.keys.length > 0) {
      if (item === null) throw new Error('associative list with keys may not have a null element');
      if (!isPlainObject(item)) throw new Error('associative list with keys may not have non-map elements');
      const obj = item;
      const fields: Array<[string, JsonValue]> = [];
      for (const k of atom.keys) {
        if (Object.hasOwn(obj, k) && obj[k] !== undefined) fields.push([k, obj[k]!]);
        else {
          const d = this.keyDefault(atom, k);
          if (d === undefined) {
            throw new Error(
              `associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`,
            );
          }
          fields.push([k, d]);
        }
      }
      return keyElement(fields);
    }
    if (item === null) throw new Error('associative list without keys has an element that is a null');
    if (isPlainObject(item) || Array.isArray(item)) {
      throw new Error('associative list without keys has an element that is a map type');
    }
    return valueElement(item);
  }

  /** A field of a struct in an empty object: present (zero struct) or absent. */
  private presentInEmpty(
    prop: Schema,
    parentRef: string | undefined,
    name: string,
    required: boolean,
    depth: number,
  ): JsonValue | undefined {
    const r = this.schemas.resolve(prop);
    const isStruct = r.properties !== undefined && Object.keys(r.properties).length > 0;
    const d = prop.default;
    const valueStruct =
      isStruct &&
      (isPlainObject(d)
        ? Object.keys(d).length === 0
        : d === undefined && isValueStructByName(parentRef, name));
    if (valueStruct && depth < MAX_EMPTY_DEPTH) return this.emptyValue(prop, depth + 1);
    if (!required) return undefined;
    if (r['x-kubernetes-int-or-string']) return 0;
    switch (r.type) {
      case 'string':
        return '';
      case 'integer':
      case 'number':
        return 0;
      case 'boolean':
        return false;
      case 'array':
      case 'object':
      case undefined:
        return null;
    }
  }

  /** The zero value of a struct as the Go types serialize it. */
  emptyValue(prop: Schema, depth = 0): JsonObject {
    const r = this.schemas.resolve(prop);
    const out: JsonObject = {};
    const required = new Set(r.required ?? []);
    for (const [name, p] of Object.entries(r.properties ?? {})) {
      if (name === 'apiVersion' || name === 'kind') continue;
      const v = this.presentInEmpty(p, prop.$ref, name, required.has(name), depth);
      if (v !== undefined) out[name] = v;
    }
    return out;
  }
}

function deepEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
export { deepEqual as jsonEqual };

/**
 * Equal JSON values with no undefined anywhere inside. A stricter test than deepEqual: the typed
 * walk reports a key holding undefined on both sides as added, so such values must still be walked.
 */
function sameDefinedJson(a: JsonValue, b: JsonValue): boolean {
  if (a === undefined || b === undefined) return false;
  if (a === b) return typeof a !== 'object' || a === null || noUndefinedInside(a);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameDefinedJson(a[i]!, b[i]!)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !sameDefinedJson(a[k]!, b[k]!)) return false;
  return true;
}

function noUndefinedInside(v: JsonValue): boolean {
  if (v === undefined) return false;
  if (Array.isArray(v)) return v.every(noUndefinedInside);
  if (isPlainObject(v)) {
    for (const k in v) if (Object.hasOwn(v, k) && !noUndefinedInside(v[k]!)) return false;
  }
  return true;
}

function scalarTypeError(atom: Atom & { kind: 'scalar' }, v: JsonValue): string | undefined {
  if (v === null || !atom.type) return undefined;
  if (isPlainObject(v) || Array.isArray(v))
    return `expected ${atom.type === 'number' ? 'numeric (int or float)' : atom.type}, got ${Array.isArray(v) ? 'list' : 'map'}`;
  if (atom.type === 'string' && typeof v !== 'string') return `expected string, got ${JSON.stringify(v)}`;
  if (atom.type === 'number' && typeof v !== 'number')
    return `expected numeric (int or float), got ${JSON.stringify(v)}`;
  if (atom.type === 'boolean' && typeof v !== 'boolean') return `expected boolean, got ${JSON.stringify(v)}`;
  return undefined;
}

/**
 * The set of paths a value sets. With strict, unknown fields, type mismatches, keyless or
 * duplicate list items are errors (upstream refuses such an applied object); otherwise they are
 * tolerated (stored objects are trusted).
 */
export function toFieldSet(
  ctx: TypedContext,
  value: JsonValue,
  prop: Schema | undefined,
  strict: boolean,
): FieldSet {
  const set = new FieldSet();
  const errors: string[] = [];
  const walk = (v: JsonValue, p: Schema | undefined, path: FieldPath): void => {
    const atom = ctx.atomFor(p, v);
    if (atom.kind === 'scalar' || atom.kind === 'deduced') {
      if (strict && atom.kind === 'scalar') {
        const e = scalarTypeError(atom, v);
        if (e) errors.push(`${pathString(path)}: ${e}`);
      }
      set.insert(path);
      return;
    }
    if (atom.kind === 'list') {
      if (v !== null && !Array.isArray(v)) {
        if (strict) errors.push(`${pathString(path)}: expected list, got ${JSON.stringify(v)}`);
        set.insert(path);
        return;
      }
      if (atom.atomic) {
        set.insert(path);
        return;
      }
      if (v === null) return;
      const seen = new Set<string>();
      v.forEach((item, i) => {
        let pe: PathElement;
        try {
          pe = ctx.itemElement(atom, item);
        } catch (err) {
          if (strict) errors.push(`${pathString(path)}: element ${i}: ${(err as Error).message}`);
          return;
        }
        const child = [...path, pe];
        const k = pathString([pe]);
        if (seen.has(k)) {
          if (strict) errors.push(`${pathString(path)}: duplicate entries for key ${k}`);
          return;
        }
        seen.add(k);
        walk(item, atom.elem, child);
        set.insert(child);
      });
      return;
    }
    // map
    if (v !== null && !isPlainObject(v)) {
      if (strict) errors.push(`${pathString(path)}: expected map, got ${JSON.stringify(v)}`);
      set.insert(path);
      return;
    }
    if (atom.atomic) {
      set.insert(path);
      return;
    }
    if (v === null) return;
    for (const [key, val] of Object.entries(v)) {
      const fs = ctx.fieldSchema(atom, key);
      const child = [...path, fieldElement(key)];
      if (fs === 'unknown') {
        if (strict) {
          errors.push(`${pathString(child)}: field not declared in schema`);
          continue;
        }
        walk(val, undefined, child);
        set.insert(child);
        continue;
      }
      walk(val, fs, child);
      if (
        val === null ||
        (isPlainObject(val) && Object.keys(val).length === 0) ||
        !ctx.isNamedField(atom, key)
      ) {
        set.insert(child);
      }
    }
  };
  walk(value, prop, []);
  if (errors.length > 0) throw new ValidationError(errors);
  return set;
}

/** Adds, as members, the named (struct) fields that have owned children. */
export function ensureNamedFieldsAreMembers(
  ctx: TypedContext,
  set: FieldSet,
  prop: Schema | undefined,
): FieldSet {
  const out = new FieldSet();
  const atom = ctx.atom(prop);
  for (const [k, pe] of set.members) out.members.set(k, pe);
  for (const [k, child] of set.children) {
    let childProp: Schema | undefined;
    if (child.pe.kind === 'field') {
      if (atom.kind === 'map') {
        const fs = ctx.fieldSchema(atom, child.pe.name);
        childProp = fs === 'unknown' ? undefined : fs;
        if (ctx.isNamedField(atom, child.pe.name)) out.members.set(k, child.pe);
      }
    } else if (atom.kind === 'list') {
      childProp = atom.elem;
    }
    out.children.set(k, { pe: child.pe, set: ensureNamedFieldsAreMembers(ctx, child.set, childProp) });
  }
  return out;
}

interface ListIndex {
  order: PathElement[];
  keys: string[];
  byKey: Map<string, JsonValue>;
}

function indexList(
  ctx: TypedContext,
  atom: Atom & { kind: 'list' },
  list: readonly JsonValue[] | undefined,
): ListIndex {
  const idx: ListIndex = { order: [], keys: [], byKey: new Map() };
  for (const item of list ?? []) {
    let pe: PathElement;
    try {
      pe = ctx.itemElement(atom, item);
    } catch {
      continue;
    }
    const k = pathString([pe]);
    if (idx.byKey.has(k)) continue;
    idx.byKey.set(k, item);
    idx.order.push(pe);
    idx.keys.push(k);
  }
  return idx;
}

/**
 * Walks two values together the way upstream's merge does, calling leaf for scalars, atomic and
 * empty values, and node for the maps and lists it descends into. Returns the merged value
 * (undefined when there is none), where a leaf's value is what leaf returns.
 */
function zip(
  ctx: TypedContext,
  lhs: JsonValue | undefined,
  rhs: JsonValue | undefined,
  prop: Schema | undefined,
  path: FieldPath,
  leaf: (l: JsonValue | undefined, r: JsonValue | undefined, path: FieldPath) => JsonValue | undefined,
  node: (l: JsonValue | undefined, r: JsonValue | undefined, path: FieldPath) => void,
  skipSame = false,
): JsonValue | undefined {
  const la = ctx.atomFor(prop, lhs ?? rhs);
  const ra = ctx.atomFor(prop, rhs ?? lhs);
  if (la.kind !== ra.kind && lhs !== undefined && rhs !== undefined) return leaf(lhs, rhs, path);
  const atom = rhs !== undefined ? ra : la;
  if (atom.kind === 'scalar' || atom.kind === 'deduced') return leaf(lhs, rhs, path);
  if (atom.kind === 'list') {
    const l = Array.isArray(lhs) ? lhs : undefined;
    const r = Array.isArray(rhs) ? rhs : undefined;
    if ((lhs !== undefined && lhs !== null && !l) || (rhs !== undefined && rhs !== null && !r))
      return leaf(lhs, rhs, path);
    const emptyPromote = (!l || l.length === 0) && (!r || r.length === 0);
    if (atom.atomic || emptyPromote) return leaf(lhs, rhs, path);
    const out = zipList(ctx, atom, l, r, path, leaf, node, skipSame);
    node(lhs, rhs, path);
    return out.length > 0 ? out : undefined;
  }
  const l = isPlainObject(lhs) ? lhs : undefined;
  const r = isPlainObject(rhs) ? rhs : undefined;
  if ((lhs !== undefined && lhs !== null && !l) || (rhs !== undefined && rhs !== null && !r))
    return leaf(lhs, rhs, path);
  const emptyPromote = (!l || Object.keys(l).length === 0) && (!r || Object.keys(r).length === 0);
  if (atom.atomic || emptyPromote) return leaf(lhs, rhs, path);
  const out: JsonObject = {};
  const visit = (key: string): void => {
    const lv = l?.[key];
    const rv = r?.[key];
    // A comparison learns nothing from equal values (no leaf or node would record a difference),
    // and a plain equality test is far cheaper than the typed walk: a status update leaves spec be.
    if (skipSame && lv !== undefined && rv !== undefined && sameDefinedJson(lv, rv)) return;
    const fs = ctx.fieldSchema(atom, key);
    const v = zip(
      ctx,
      lv,
      rv,
      fs === 'unknown' ? undefined : fs,
      [...path, fieldElement(key)],
      leaf,
      node,
      skipSame,
    );
    if (v !== undefined) out[key] = v;
  };
  for (const key of Object.keys(l ?? {})) visit(key);
  for (const key of Object.keys(r ?? {})) if (!l || !Object.hasOwn(l, key)) visit(key);
  node(lhs, rhs, path);
  return Object.keys(out).length > 0 ? out : undefined;
}

function zipList(
  ctx: TypedContext,
  atom: Atom & { kind: 'list' },
  lhs: readonly JsonValue[] | undefined,
  rhs: readonly JsonValue[] | undefined,
  path: FieldPath,
  leaf: (l: JsonValue | undefined, r: JsonValue | undefined, path: FieldPath) => JsonValue | undefined,
  node: (l: JsonValue | undefined, r: JsonValue | undefined, path: FieldPath) => void,
  skipSame: boolean,
): JsonValue[] {
  const out: JsonValue[] = [];
  const L = indexList(ctx, atom, lhs);
  const R = indexList(ctx, atom, rhs);
  const shared = R.keys.filter((k) => L.byKey.has(k));
  let sharedPos = 0;
  let nextShared: string | undefined = shared[sharedPos++];
  const mergedRhs = new Set<string>();
  const item = (k: string, pe: PathElement): void => {
    const lv = L.byKey.get(k);
    const rv = R.byKey.get(k);
    if (skipSame && lv !== undefined && rv !== undefined && sameDefinedJson(lv, rv)) return;
    const v = zip(ctx, lv, rv, atom.elem, [...path, pe], leaf, node, skipSame);
    if (v !== undefined) out.push(v);
  };
  let li = 0;
  let ri = 0;
  while (li < L.keys.length || ri < R.keys.length) {
    if (li < L.keys.length && ri < R.keys.length) {
      const lk = L.keys[li]!;
      if (lk === R.keys[ri]) {
        mergedRhs.add(lk);
        item(lk, L.order[li]!);
        li++;
        ri++;
        nextShared = shared[sharedPos++];
        continue;
      }
      if (R.byKey.has(lk) && nextShared !== undefined && nextShared !== lk) {
        li++;
        continue;
      }
    }
    if (li < L.keys.length) {
      const lk = L.keys[li]!;
      if (!R.byKey.has(lk)) {
        item(lk, L.order[li]!);
        li++;
        continue;
      }
      if (mergedRhs.has(lk)) {
        li++;
        continue;
      }
    }
    if (ri < R.keys.length) {
      const rk = R.keys[ri]!;
      mergedRhs.add(rk);
      item(rk, R.order[ri]!);
      ri++;
      if (nextShared === rk) nextShared = shared[sharedPos++];
    }
  }
  return out;
}

/** Structured merge of an applied configuration (rhs) into a live object (lhs). */
export function mergeTyped(
  ctx: TypedContext,
  lhs: JsonValue,
  rhs: JsonValue,
  prop: Schema | undefined,
): JsonValue {
  const out = zip(
    ctx,
    lhs,
    rhs,
    prop,
    [],
    (l, r) => (r !== undefined ? structuredClone(r) : l !== undefined ? structuredClone(l) : undefined),
    () => undefined,
  );
  return out ?? {};
}

export interface Comparison {
  added: FieldSet;
  removed: FieldSet;
  modified: FieldSet;
}

/**
 * What changed from lhs to rhs, by path. skipEqual (the default) leaves equal values unwalked; the
 * full walk gives the same answer, slower (tests compare the two).
 */
export function compareTyped(
  ctx: TypedContext,
  lhs: JsonValue,
  rhs: JsonValue,
  prop: Schema | undefined,
  skipEqual = true,
): Comparison {
  const c: Comparison = { added: new FieldSet(), removed: new FieldSet(), modified: new FieldSet() };
  zip(
    ctx,
    lhs,
    rhs,
    prop,
    [],
    (l, r, path) => {
      if (l === undefined) c.added.insert(path);
      else if (r === undefined) c.removed.insert(path);
      else if (!deepEqual(l, r)) c.modified.insert(path);
      return undefined;
    },
    (l, r, path) => {
      if (l === undefined) c.added.insert(path);
      else if (r === undefined) c.removed.insert(path);
    },
    skipEqual,
  );
  return c;
}

/** The value without the paths of the set (and everything below them). */
export function removeItems(
  ctx: TypedContext,
  value: JsonValue,
  toRemove: FieldSet,
  prop: Schema | undefined,
): JsonValue | undefined {
  const atom = ctx.atomFor(prop, value);
  if (atom.kind === 'list') {
    if (!Array.isArray(value) || value.length === 0 || atom.atomic) return value;
    const items: JsonValue[] = [];
    for (const item of value) {
      let pe: PathElement;
      try {
        pe = ctx.itemElement(atom, item);
      } catch {
        items.push(item);
        continue;
      }
      if (toRemove.hasMember(pe)) continue;
      const sub = toRemove.withPrefix(pe);
      if (!sub.empty()) {
        const v = removeItems(ctx, item, sub, atom.elem);
        if (v !== undefined) items.push(v);
        continue;
      }
      items.push(item);
    }
    return items.length > 0 ? items : undefined;
  }
  if (atom.kind === 'map') {
    if (!isPlainObject(value) || Object.keys(value).length === 0 || atom.atomic) return value;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const pe = fieldElement(k);
      if (toRemove.hasMember(pe)) continue;
      const sub = toRemove.withPrefix(pe);
      if (!sub.empty()) {
        const fs = ctx.fieldSchema(atom, k);
        const nv = removeItems(ctx, v, sub, fs === 'unknown' ? undefined : fs);
        if (nv !== undefined) out[k] = nv;
        continue;
      }
      out[k] = v;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value;
}
