// Field ownership (metadata.managedFields) and server-side apply, following upstream's field
// manager: every write records which manager set which fields; apply merges a configuration into
// the live object, refuses (409) to change fields others own unless forced, and removes fields the
// applier stopped setting when nobody else owns them.
import { badRequest } from '../../api/errors.js';
import type { StatusCause } from '../../api/errors.js';
import type { JsonObject, JsonValue, KubeObject, ManagedFieldsEntry } from '../../api/meta.js';
import { isPlainObject } from '../../api/meta.js';
import type { Schema, SchemaRegistry } from '../../api/schema.js';
import type { FieldPath } from './fieldpath.js';
import {
  FieldSet,
  fieldElement,
  fieldsV1Contains,
  fieldsV1Overlaps,
  isCanonicalFieldsV1,
  pathString,
} from './fieldpath.js';
import { applyConflict, sortedJson, unknownError } from './status.js';
import type { Comparison } from './typed.js';
import {
  TypedContext,
  ValidationError,
  compareTyped,
  ensureNamedFieldsAreMembers,
  jsonEqual,
  mergeTyped,
  removeItems,
  toFieldSet,
} from './typed.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Upstream keeps at most this many Update entries; older ones are folded into one. */
export const MAX_UPDATE_MANAGERS = 10;
const ANCIENT_CHANGES = 'ancient-changes';
const BEFORE_FIRST_APPLY = 'before-first-apply';
const CURRENT_OPERATION = '\u0000current-operation';

interface ManagerInfo {
  manager: string;
  operation: 'Apply' | 'Update' | undefined;
  apiVersion: string;
  subresource: string;
}

/**
 * A manager's fields. One decoded from a canonical FieldsV1 object (what this server writes) keeps
 * that object and is decoded only when a write must take fields from it: most writes touch one or
 * two managers' fields, and decoding and re-encoding every entry on every write was most of the
 * bookkeeping's cost. Immutable: a changed set is a new VersionedSet.
 */
class VersionedSet {
  private decoded: FieldSet | undefined;

  private constructor(
    readonly apiVersion: string,
    readonly applied: boolean,
    set: FieldSet | undefined,
    /** The canonical FieldsV1 this set was read from, while it is unchanged. */
    private readonly raw: JsonObject | undefined,
  ) {
    this.decoded = set;
  }

  static of(set: FieldSet, apiVersion: string, applied: boolean): VersionedSet {
    return new VersionedSet(apiVersion, applied, set, undefined);
  }

  /** Throws, as decoding does, when the FieldsV1 object holds a key that does not parse. */
  static decode(fieldsV1: JsonValue | undefined, apiVersion: string, applied: boolean): VersionedSet {
    if (isCanonicalFieldsV1(fieldsV1)) return new VersionedSet(apiVersion, applied, undefined, fieldsV1);
    return new VersionedSet(apiVersion, applied, FieldSet.fromFieldsV1(fieldsV1), undefined);
  }

  get set(): FieldSet {
    this.decoded ??= FieldSet.fromFieldsV1(this.raw);
    return this.decoded;
  }

  withSet(set: FieldSet): VersionedSet {
    return VersionedSet.of(set, this.apiVersion, this.applied);
  }

  asApplied(applied: boolean): VersionedSet {
    return applied === this.applied
      ? this
      : new VersionedSet(this.apiVersion, applied, this.decoded, this.raw);
  }

  empty(): boolean {
    return this.raw ? Object.keys(this.raw).length === 0 : this.set.empty();
  }

  overlaps(other: FieldSet): boolean {
    return this.raw ? fieldsV1Overlaps(this.raw, other) : this.set.overlaps(other);
  }

  contains(other: FieldSet): boolean {
    return this.raw ? fieldsV1Contains(this.raw, other) : other.difference(this.set).empty();
  }

  /** The FieldsV1 object: the one it was read from when the set has not changed since. */
  toFieldsV1(): JsonObject {
    return this.raw ?? this.set.toFieldsV1();
  }
}

/** Decoded managedFields: sets and times by manager identifier. */
class Managed {
  readonly fields = new Map<string, VersionedSet>();
  readonly times = new Map<string, string>();
  readonly info = new Map<string, ManagerInfo>();

  clone(): Managed {
    const m = new Managed();
    for (const [k, v] of this.fields) m.fields.set(k, v);
    for (const [k, v] of this.times) m.times.set(k, v);
    for (const [k, v] of this.info) m.info.set(k, v);
    return m;
  }
}

/** The identifier upstream keys managers by: the entry without time and fields (and, for Apply, version). */
function identifier(info: ManagerInfo): string {
  // Memoized: JSON.stringify of every entry on every write showed in profiles. The cache key joins
  // the parts with NUL, which no part holds in practice; one that does is not cached.
  const key = `${info.manager}\u0000${info.operation ?? ''}\u0000${info.apiVersion}\u0000${info.subresource}`;
  const hit = IDENTIFIERS.get(key);
  if (hit !== undefined) return hit;
  const id = identifierOf(info);
  if (key.split('\u0000').length === 4) {
    if (IDENTIFIERS.size >= IDENTIFIERS_MAX) IDENTIFIERS.clear();
    IDENTIFIERS.set(key, id);
  }
  return id;
}
const IDENTIFIERS = new Map<string, string>();
const IDENTIFIERS_MAX = 1024;

function identifierOf(info: ManagerInfo): string {
  const o: JsonObject = {};
  if (info.manager) o.manager = info.manager;
  if (info.operation) o.operation = info.operation;
  if (info.apiVersion && info.operation !== 'Apply') o.apiVersion = info.apiVersion;
  if (info.subresource) o.subresource = info.subresource;
  return JSON.stringify(o);
}

function decodeManaged(entries: unknown): Managed {
  const m = new Managed();
  if (entries === undefined || entries === null) return m;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  for (const raw of entries) {
    if (!isPlainObject(raw)) throw new Error('managedFields entries must be objects');
    const e = raw as ManagedFieldsEntry;
    const op = e.operation === 'Apply' || e.operation === 'Update' ? e.operation : undefined;
    if (e.operation !== undefined && op === undefined)
      throw new Error(`invalid operation ${JSON.stringify(e.operation)}`);
    const info: ManagerInfo = {
      manager: typeof e.manager === 'string' ? e.manager : '',
      operation: op,
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '',
      subresource: typeof e.subresource === 'string' ? e.subresource : '',
    };
    const id = identifier(info);
    m.fields.set(id, VersionedSet.decode(e.fieldsV1, info.apiVersion, op === 'Apply'));
    m.info.set(id, info);
    if (typeof e.time === 'string') m.times.set(id, e.time);
  }
  return m;
}

function timeSeconds(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function encodeManaged(m: Managed): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  for (const [id, vs] of m.fields) {
    const info = m.info.get(id) ?? { manager: '', operation: undefined, apiVersion: '', subresource: '' };
    const e: ManagedFieldsEntry = {};
    if (info.manager) e.manager = info.manager;
    const op = vs.applied ? 'Apply' : info.operation;
    if (op) e.operation = op;
    const apiVersion = vs.apiVersion || info.apiVersion;
    if (apiVersion) e.apiVersion = apiVersion;
    const t = m.times.get(id);
    if (t) e.time = t;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = vs.toFieldsV1();
    if (info.subresource) e.subresource = info.subresource;
    out.push(e);
  }
  const str = (a: string | undefined, b: string | undefined): number =>
    (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
  out.sort(
    (p, q) =>
      str(p.operation, q.operation) ||
      timeSeconds(p.time) - timeSeconds(q.time) ||
      str(p.manager, q.manager) ||
      str(p.apiVersion, q.apiVersion) ||
      str(p.subresource, q.subresource),
  );
  return out;
}

/** Upstream's time: RFC 3339 in UTC, whole seconds. */
export function managedFieldsTime(now: Date): string {
  const seconds = Math.floor(now.getTime() / 1000);
  if (seconds !== lastTime.seconds) {
    lastTime = { seconds, text: new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') };
  }
  return lastTime.text;
}
/** Writes within one second share their time: formatting it anew for each was visible in profiles. */
let lastTime = { seconds: Number.NaN, text: '' };

/** Metadata the system maintains, never recorded as owned. */
const STRIP_SET = FieldSet.fromPaths([
  [fieldElement('apiVersion')],
  [fieldElement('kind')],
  [fieldElement('metadata')],
  ...[
    'name',
    'namespace',
    'creationTimestamp',
    'selfLink',
    'uid',
    'clusterName',
    'generation',
    'managedFields',
    'resourceVersion',
  ].map((f) => [fieldElement('metadata'), fieldElement(f)]),
]);

function resetSet(paths: readonly (readonly string[])[] | undefined): FieldSet | undefined {
  if (!paths || paths.length === 0) return undefined;
  return FieldSet.fromPaths(paths.map((p) => p.map(fieldElement)));
}

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/**
 * The schema of a whole object: its definition, with apiVersion, kind and metadata declared even
 * where a (custom resource) definition leaves them out; no definition at all means untyped.
 */
function rootSchema(schemas: SchemaRegistry, schemaRef: string): Schema {
  const def = schemas.get(schemaRef);
  const typedMeta = schemas.get(OBJECT_META) !== undefined;
  const metadata: Schema = typedMeta
    ? { $ref: OBJECT_META, default: {} }
    : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, default: {} };
  const base: Schema = def
    ? schemas.resolve(def)
    : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const cached = def ? ROOTS.get(def) : undefined;
  if (cached && cached.base === base && cached.typedMeta === typedMeta) return cached.root;
  const root: Schema = {
    ...base,
    type: 'object',
    properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata, ...base.properties },
  };
  if (def) ROOTS.set(def, { base, typedMeta, root });
  return root;
}

/**
 * Root schemas by definition, built from what it resolved to and whether ObjectMeta was known: the
 * same root object each time lets the typed walk reuse the shapes it worked out for it.
 */
const ROOTS = new WeakMap<Schema, { base: Schema; typedMeta: boolean; root: Schema }>();

/** A write's request of the typed machinery, shared by updates and applies. */
class Engine {
  readonly ctx: TypedContext;
  readonly root: Schema;
  readonly reset: FieldSet | undefined;

  constructor(
    schemas: SchemaRegistry,
    schemaRef: string,
    readonly apiVersion: string,
    readonly kind: string,
    readonly subresource: string,
    readonly now: Date,
    resetFields: readonly (readonly string[])[] | undefined,
  ) {
    this.ctx = new TypedContext(schemas);
    this.root = rootSchema(schemas, schemaRef);
    this.reset = resetSet(resetFields);
  }

  filter(set: FieldSet): FieldSet {
    return this.reset ? set.recursiveDifference(this.reset) : set;
  }

  emptyObject(): JsonObject {
    return { apiVersion: this.apiVersion, kind: this.kind, ...this.ctx.emptyValue(this.root) };
  }

  compare(lhs: JsonValue, rhs: JsonValue): Comparison {
    const c = compareTyped(this.ctx, lhs, rhs, this.root);
    if (!this.reset) return c;
    return {
      added: c.added.recursiveDifference(this.reset),
      removed: c.removed.recursiveDifference(this.reset),
      modified: c.modified.recursiveDifference(this.reset),
    };
  }

  /**
   * Upstream's Updater.update: fields the change touches leave other managers (409 unless forced),
   * removed fields leave everyone, empty managers are dropped.
   */
  reconcile(live: JsonValue, next: JsonValue, m: Managed, workflow: string, force: boolean): Comparison {
    const cmp = this.compare(live, next);
    this.takeFields(cmp, cmp.modified.union(cmp.added), m, workflow, force);
    return cmp;
  }

  /** reconcile with the comparison made; `unaffected` names an entry known to come out as it is. */
  takeFields(
    cmp: Comparison,
    changed: FieldSet,
    m: Managed,
    workflow: string,
    force: boolean,
    unaffected?: string,
  ): void {
    const conflicts = new Map<string, FieldSet>();
    for (const [id, vs] of m.fields) {
      if (id === workflow || id === unaffected || !vs.overlaps(changed)) continue;
      conflicts.set(id, vs.set.intersection(changed));
    }
    if (!force && conflicts.size > 0) throw new ApplyConflicts(conflicts, m);
    for (const [id, c] of conflicts) {
      const vs = m.fields.get(id)!;
      m.fields.set(id, vs.withSet(vs.set.difference(c)));
    }
    // A set that shares no path with the removed ones keeps its paths: it is left as it is.
    if (!cmp.removed.empty()) {
      for (const [id, vs] of m.fields)
        if (id !== workflow && id !== unaffected && vs.overlaps(cmp.removed))
          m.fields.set(id, vs.withSet(vs.set.difference(cmp.removed)));
    }
    for (const [id, vs] of [...m.fields]) if (vs.empty()) m.fields.delete(id);
  }

  strip(m: Managed, id: string): void {
    const vs = m.fields.get(id);
    if (!vs) return;
    const set = vs.set.difference(STRIP_SET);
    if (set.empty()) m.fields.delete(id);
    else m.fields.set(id, vs.withSet(set));
  }

  /** An Update by manager: what changed from old to next becomes (also) its. */
  update(old: JsonValue, next: JsonValue, m: Managed, manager: string): void {
    const info: ManagerInfo = {
      manager,
      operation: 'Update',
      apiVersion: this.apiVersion,
      subresource: this.subresource,
    };
    const id = identifier(info);
    const cmp = this.compare(old, next);
    const changed = cmp.modified.union(cmp.added);
    const unaffected = this.ownEntryUnaffected(cmp, changed, m.fields.get(id)) ? id : undefined;
    this.takeFields(cmp, changed, m, CURRENT_OPERATION, true, unaffected);
    // Upstream's set of the operation: nothing minus removed, plus modified and added.
    const set = this.filter(changed);
    m.fields.set(CURRENT_OPERATION, VersionedSet.of(set, this.apiVersion, false));
    this.strip(m, CURRENT_OPERATION);
    const current = m.fields.get(CURRENT_OPERATION);
    m.fields.delete(CURRENT_OPERATION);
    if (current) {
      const previous = m.fields.get(id);
      // The manager's entry is keyed by its version, so an unchanged union is the previous set.
      let merged: VersionedSet;
      if (!previous) merged = VersionedSet.of(current.set, this.apiVersion, false);
      else if (previous.contains(current.set)) merged = previous.asApplied(false);
      else merged = VersionedSet.of(current.set.union(previous.set), this.apiVersion, false);
      m.fields.set(id, merged);
      m.info.set(id, info);
      m.times.set(id, managedFieldsTime(this.now));
    }
    this.capManagers(m);
  }

  /**
   * Whether an Update leaves the writer's own entry as it was. The entry first loses the changed
   * and removed fields, like everyone's, then gets back the changed ones that are not system
   * metadata: when it held all of those already and loses nothing else (a lease renewal, a repeated
   * status update), that is the entry it had, which then needs no decoding nor encoding.
   */
  private ownEntryUnaffected(cmp: Comparison, changed: FieldSet, own: VersionedSet | undefined): boolean {
    if (!own) return false;
    const regained = changed.difference(STRIP_SET);
    return (
      own.contains(regained) && !own.overlaps(changed.intersection(STRIP_SET)) && !own.overlaps(cmp.removed)
    );
  }

  /** Removes what the applier no longer applies, unless someone else (or the new config) owns it. */
  prune(merged: JsonValue, m: Managed, lastSet: FieldSet | undefined): JsonValue {
    if (!lastSet || lastSet.empty()) return merged;
    const ensure = (s: FieldSet): FieldSet => ensureNamedFieldsAreMembers(this.ctx, s, this.root);
    const fieldSet = (v: JsonValue | undefined): FieldSet =>
      v === undefined ? new FieldSet() : toFieldSet(this.ctx, v, this.root, false);
    const last = ensure(lastSet);
    let pruned = removeItems(this.ctx, merged, last, this.root);
    let managed = new FieldSet();
    for (const vs of m.fields.values()) managed = managed.union(vs.set);
    const mergedSet = ensure(fieldSet(merged));
    pruned = removeItems(
      this.ctx,
      merged,
      mergedSet.difference(ensure(fieldSet(pruned)).union(ensure(managed))),
      this.root,
    );
    const dangling = mergedSet.difference(ensure(fieldSet(pruned))).intersection(last);
    return removeItems(this.ctx, merged, dangling, this.root) ?? {};
  }

  /** Upstream's structured apply: returns the new object, or undefined when nothing changes. */
  apply(
    live: JsonObject,
    config: JsonObject,
    m: Managed,
    manager: string,
    force: boolean,
  ): JsonObject | undefined {
    const info: ManagerInfo = {
      manager,
      operation: 'Apply',
      apiVersion: this.apiVersion,
      subresource: this.subresource,
    };
    const id = identifier(info);
    const lastSet = m.fields.get(id)?.set;
    const merged = mergeTyped(this.ctx, live, config, this.root);
    const set = this.filter(toFieldSet(this.ctx, config, this.root, false));
    m.fields.set(id, VersionedSet.of(set, this.apiVersion, true));
    m.info.set(id, info);
    const pruned = this.prune(merged, m, lastSet) as JsonObject;
    this.reconcile(live, pruned, m, id, force);
    this.strip(m, id);
    const noop = jsonEqual(live, pruned);
    if (!noop) m.times.set(id, managedFieldsTime(this.now));
    this.capManagers(m);
    return noop ? undefined : pruned;
  }

  /** Folds the oldest Update entries into "ancient-changes" entries, one per version. */
  capManagers(m: Managed): void {
    let count = 0;
    for (const [id, vs] of m.fields) if (id !== CURRENT_OPERATION && !vs.applied) count++;
    if (count <= MAX_UPDATE_MANAGERS) return;
    const updaters = [...m.fields.entries()]
      .filter(([id, vs]) => id !== CURRENT_OPERATION && !vs.applied)
      .map(([id]) => id);
    if (updaters.length <= MAX_UPDATE_MANAGERS) return;
    updaters.sort(
      (a, b) => timeSeconds(m.times.get(a)) - timeSeconds(m.times.get(b)) || (a < b ? -1 : a > b ? 1 : 0),
    );
    const firstOfVersion = new Map<string, string>();
    let length = updaters.length;
    for (let i = 0; i < updaters.length && length > MAX_UPDATE_MANAGERS; i++) {
      const id = updaters[i]!;
      const vs = m.fields.get(id)!;
      const version = vs.apiVersion;
      const bucketInfo: ManagerInfo = {
        manager: ANCIENT_CHANGES,
        operation: 'Update',
        apiVersion: version,
        subresource: '',
      };
      const bucket = identifier(bucketInfo);
      const first = firstOfVersion.get(version);
      if (first === undefined) {
        firstOfVersion.set(version, id);
        continue;
      }
      if (!m.fields.has(bucket)) {
        const s = m.fields.get(first)!;
        m.fields.delete(first);
        m.fields.set(bucket, s);
        m.info.set(bucket, bucketInfo);
      }
      m.fields.set(bucket, VersionedSet.of(vs.set.union(m.fields.get(bucket)!.set), vs.apiVersion, false));
      m.fields.delete(id);
      length--;
      const t = m.times.get(id);
      if (t) m.times.set(bucket, t);
    }
  }
}

class ApplyConflicts extends Error {
  constructor(
    readonly sets: Map<string, FieldSet>,
    readonly managed: Managed,
  ) {
    super('apply conflicts');
  }

  list(): Array<{ id: string; path: FieldPath }> {
    const out: Array<{ id: string; path: FieldPath }> = [];
    for (const id of [...this.sets.keys()].sort())
      for (const path of this.sets.get(id)!.paths()) out.push({ id, path });
    return out;
  }

  without(allowed: FieldSet): ApplyConflicts {
    const sets = new Map<string, FieldSet>();
    for (const [id, s] of this.sets) {
      const rest = FieldSet.fromPaths(s.paths().filter((p) => !allowed.has(p)));
      if (!rest.empty()) sets.set(id, rest);
    }
    return new ApplyConflicts(sets, this.managed);
  }

  toStatus(): ReturnType<typeof applyConflict> {
    const items = this.list();
    const print = (id: string): string => {
      const info = this.managed.info.get(id);
      let s = JSON.stringify(info?.manager ?? id);
      if (info?.subresource) s = `${s} with subresource ${JSON.stringify(info.subresource)}`;
      if (info?.operation === 'Update') s = `${s} using ${info.apiVersion}`;
      return s;
    };
    const causes: StatusCause[] = items.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${print(c.id)}`,
      field: pathString(c.path),
    }));
    let message: string;
    if (items.length === 1) {
      message = `Apply failed with 1 conflict: conflict with ${print(items[0]!.id)}: ${pathString(items[0]!.path)}`;
    } else {
      const lines: string[] = [];
      for (const id of [...this.sets.keys()].sort()) {
        lines.push(`conflicts with ${print(id)}:`);
        for (const c of items) if (c.id === id) lines.push(`- ${pathString(c.path)}`);
      }
      message = `Apply failed with ${items.length} conflicts: ${lines.join('\n')}`;
    }
    return applyConflict(message, causes);
  }
}

function withoutManagedFields(obj: KubeObject | JsonObject): JsonObject {
  const copy = structuredClone(obj) as JsonObject;
  const meta = copy.metadata;
  if (isPlainObject(meta)) delete meta.managedFields;
  return copy;
}

/**
 * The object without metadata.managedFields: new top-level and metadata objects, everything else
 * shared with `obj` (a deep copy of every written object, managedFields and all, was a visible
 * share of the API server's CPU). For updates, whose typed comparison only reads.
 */
function shallowWithoutManagedFields(obj: KubeObject | JsonObject): JsonObject {
  const copy = { ...obj } as JsonObject;
  const meta = copy.metadata;
  if (isPlainObject(meta)) {
    const { managedFields: _dropped, ...rest } = meta;
    copy.metadata = rest;
  }
  return copy;
}

function setManagedFields(obj: JsonObject, entries: ManagedFieldsEntry[]): void {
  if (!isPlainObject(obj.metadata)) obj.metadata = {};
  const meta = obj.metadata;
  if (entries.length > 0) meta.managedFields = entries as unknown as JsonValue;
  else delete meta.managedFields;
}

function annotationsOf(obj: JsonObject): JsonObject | undefined {
  const meta = obj.metadata;
  if (!isPlainObject(meta)) return undefined;
  const a = meta.annotations;
  return isPlainObject(a) ? a : undefined;
}

function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === 'string' ? apiVersion : '';
  const slash = av.indexOf('/');
  const group = slash < 0 ? '' : av.slice(0, slash);
  const version = slash < 0 ? av : av.slice(slash + 1);
  return `${group}/${version}, Kind=${typeof kind === 'string' ? kind : ''}`;
}

function expectedKind(schemas: SchemaRegistry, schemaRef: string, apiVersion: string): string | undefined {
  const gvks = schemas.get(schemaRef)?.['x-kubernetes-group-version-kind'];
  if (!gvks) return undefined;
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return gvks.find((g) => g.group === group && g.version === version)?.kind ?? gvks[0]?.kind;
}

/**
 * Drops null map entries: upstream turns the merged value back into the API type, where null means
 * unset (and the empty object's null placeholders vanish the same way).
 */
function dropNulls(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isPlainObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

export interface UpdateManagedFieldsInput {
  old: KubeObject | undefined;
  updated: KubeObject;
  manager: string;
  operation: 'Update';
  /** The version of the request: 'apps/v1'. */
  apiVersion: string;
  subresource?: string;
  schemaRef: string;
  schemas: SchemaRegistry;
  now: Date;
  /** Field paths this endpoint resets (upstream's reset fields: ['status'] for the main resource). */
  resetFields?: readonly (readonly string[])[];
}

/**
 * Records a create, update or patch in managedFields, as upstream's field manager does on every
 * write. managedFields sent with the object replace the stored ones (not for subresources); an
 * existing object without managedFields stays untracked until someone applies. The result shares
 * all but its top level and metadata with `updated`, which the caller hands over.
 */
export function updateManagedFields(input: UpdateManagedFieldsInput): KubeObject {
  const subresource = input.subresource ?? '';
  const next = shallowWithoutManagedFields(input.updated);
  let managed: Managed | undefined;
  if (!subresource) {
    try {
      const fromRequest = decodeManaged(input.updated.metadata?.managedFields);
      if (fromRequest.fields.size > 0) managed = fromRequest;
    } catch {
      managed = undefined;
    }
  }
  try {
    managed ??= decodeManaged(input.old?.metadata?.managedFields);
  } catch {
    return next as unknown as KubeObject;
  }
  if (managed.fields.size === 0 && input.old?.metadata?.uid) return next as unknown as KubeObject;
  const engine = new Engine(
    input.schemas,
    input.schemaRef,
    input.apiVersion,
    input.updated.kind,
    subresource,
    input.now,
    input.resetFields,
  );
  try {
    const old = input.old ? shallowWithoutManagedFields(input.old) : engine.emptyObject();
    engine.update(old, next, managed, input.manager);
  } catch {
    return next as unknown as KubeObject;
  }
  setManagedFields(next, encodeManaged(managed));
  return next as unknown as KubeObject;
}

export interface ApplyServerSideInput {
  live: KubeObject | undefined;
  applied: KubeObject;
  manager: string;
  force: boolean;
  schemaRef: string;
  schemas: SchemaRegistry;
  /** The version of the request: 'apps/v1'. */
  apiVersion: string;
  now: Date;
  subresource?: string;
  /** Field paths this endpoint resets (upstream's reset fields). */
  resetFields?: readonly (readonly string[])[];
}

/**
 * Server-side apply of `applied` (the decoded apply patch) onto `live` (undefined: create). The
 * result still needs defaulting and validation, as upstream defaults after applying.
 */
export function applyServerSide(input: ApplyServerSideInput): { object: KubeObject } {
  const applied = input.applied as unknown as JsonObject;
  const kind =
    expectedKind(input.schemas, input.schemaRef, input.apiVersion) ?? input.live?.kind ?? input.applied.kind;
  if (applied.apiVersion !== input.apiVersion || applied.kind !== kind) {
    throw badRequest(`invalid object type: ${gvkString(applied.apiVersion, applied.kind)}`);
  }
  const appliedMeta = isPlainObject(applied.metadata) ? applied.metadata : {};
  if (appliedMeta.managedFields !== undefined && appliedMeta.managedFields !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }
  const engine = new Engine(
    input.schemas,
    input.schemaRef,
    input.apiVersion,
    kind,
    input.subresource ?? '',
    input.now,
    input.resetFields,
  );
  const config = structuredClone(applied);
  try {
    toFieldSet(engine.ctx, config, engine.root, true);
  } catch (e) {
    if (e instanceof ValidationError) {
      const ns = typeof appliedMeta.namespace === 'string' ? appliedMeta.namespace : '';
      const name = typeof appliedMeta.name === 'string' ? appliedMeta.name : '';
      throw unknownError(
        `failed to create typed patch object (${ns}/${name}; ${gvkString(applied.apiVersion, applied.kind)}): ${e.message}`,
      );
    }
    throw e;
  }
  let stored: Managed;
  try {
    stored = decodeManaged(input.live?.metadata?.managedFields);
  } catch (e) {
    throw unknownError(`failed to decode managed fields: ${(e as Error).message}`);
  }
  const liveValue = input.live ? withoutManagedFields(input.live) : engine.emptyObject();

  const run = (force: boolean): { object: JsonObject | undefined; managed: Managed } => {
    const m = stored.clone();
    if (m.fields.size === 0) engine.update(engine.emptyObject(), liveValue, m, BEFORE_FIRST_APPLY);
    return { object: engine.apply(liveValue, config, m, input.manager, force), managed: m };
  };

  let result: { object: JsonObject | undefined; managed: Managed };
  try {
    result = run(input.force);
  } catch (e) {
    if (!(e instanceof ApplyConflicts)) throw e;
    if (input.manager !== 'kubectl') throw e.toStatus();
    const allowed = allowedFromLastApplied(engine, liveValue);
    if (!allowed) throw e.toStatus();
    const rest = e.without(allowed);
    if (rest.sets.size > 0) throw rest.toStatus();
    result = run(true);
  }

  const object = dropNulls(result.object ?? liveValue) as JsonObject;
  const ann = annotationsOf(object);
  if (
    input.manager === 'kubectl' &&
    typeof ann?.[LAST_APPLIED_ANNOTATION] === 'string' &&
    ann[LAST_APPLIED_ANNOTATION] !== ''
  ) {
    ann[LAST_APPLIED_ANNOTATION] = buildLastApplied(applied);
  }
  setManagedFields(object, encodeManaged(result.managed));
  return { object: object as unknown as KubeObject };
}

/** The fields of the client-side apply annotation that still match the live object. */
function allowedFromLastApplied(engine: Engine, live: JsonObject): FieldSet | undefined {
  const raw = annotationsOf(live)?.[LAST_APPLIED_ANNOTATION];
  if (typeof raw !== 'string' || raw === '') return undefined;
  let last: JsonValue;
  try {
    last = JSON.parse(raw) as JsonValue;
  } catch {
    return undefined;
  }
  if (!isPlainObject(last)) return undefined;
  let set: FieldSet;
  try {
    set = toFieldSet(engine.ctx, last, engine.root, true);
  } catch {
    return undefined;
  }
  const cmp = compareTyped(engine.ctx, last, live, engine.root);
  return set.difference(cmp.modified).difference(cmp.added).difference(cmp.removed);
}

/** The annotation kubectl would write for this configuration (without the annotation itself). */
function buildLastApplied(applied: JsonObject): string {
  const copy = structuredClone(applied);
  const ann = annotationsOf(copy);
  if (ann) {
    delete ann[LAST_APPLIED_ANNOTATION];
    if (Object.keys(ann).length === 0) delete (copy.metadata as JsonObject).annotations;
  }
  return sortedJson(copy);
}
