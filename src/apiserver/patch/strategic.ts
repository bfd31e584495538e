// Strategic merge patch as kube-apiserver applies it (apimachinery's strategicpatch, with parallel
// deletion lists merged and unmatched nulls ignored). The schema supplies each field's patch
// strategy and merge key; fields it does not describe behave as in a JSON merge patch.
import { badRequest } from '../../api/errors.js';
import type { StatusError } from '../../api/errors.js';
import type { JsonObject, JsonValue } from '../../api/meta.js';
import { isPlainObject } from '../../api/meta.js';
import type { Schema, SchemaRegistry } from '../../api/schema.js';
import { genericUnprocessable, goFormat, goTypeName, unknownError } from './status.js';
import { cloneObject } from '../objects.js';

const DIRECTIVE = '$patch';
const REPLACE = 'replace';
const MERGE = 'merge';
const DELETE = 'delete';
const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
const RETAIN_KEYS_STRATEGY = 'retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

const ERR_BAD_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const ERR_BAD_RETAIN_KEYS = 'invalid patch format of retainKeys';
const ERR_BAD_SET_ELEMENT_ORDER = 'invalid patch format of setElementOrder list';
const ERR_NO_LIST_OF_LISTS = 'lists of lists are not supported';

/** Where an error goes: 400, 422 (upstream's generic message) or 500 with the text. */
class SmpError extends Error {
  constructor(
    message: string,
    readonly kind: 'bad-request' | 'unprocessable' | 'internal',
  ) {
    super(message);
  }
}

const internal = (m: string): SmpError => new SmpError(m, 'internal');

function toStatus(e: SmpError): StatusError {
  switch (e.kind) {
    case 'bad-request':
      return badRequest(e.message);
    case 'unprocessable':
      return genericUnprocessable(e.message);
    case 'internal':
      return unknownError(e.message);
  }
}

/** The schema context of a map: the structural schema lookups answer from (undefined: none). */
interface Meta {
  readonly schemas: SchemaRegistry;
  readonly schema: Schema | undefined;
  readonly name: string;
}

interface FieldMeta {
  sub: Meta;
  strategies: string[];
  mergeKey: string;
}

function fieldSchemaOf(meta: Meta, key: string): Schema | undefined {
  const s = meta.schema;
  if (!s) return undefined;
  const prop = s.properties?.[key];
  if (prop) return prop;
  if (isPlainObject(s.additionalProperties)) return s.additionalProperties;
  return undefined;
}

function patchMetaOf(
  prop: Schema | undefined,
  resolved: Schema | undefined,
): { strategies: string[]; mergeKey: string } {
  const strategy = prop?.['x-kubernetes-patch-strategy'] ?? resolved?.['x-kubernetes-patch-strategy'];
  const mergeKey = prop?.['x-kubernetes-patch-merge-key'] ?? resolved?.['x-kubernetes-patch-merge-key'] ?? '';
  return { strategies: strategy ? strategy.split(',') : [], mergeKey };
}

function lookupStruct(meta: Meta, key: string): FieldMeta {
  const prop = fieldSchemaOf(meta, key);
  const resolved = prop ? meta.schemas.resolve(prop) : undefined;
  return {
    sub: { schemas: meta.schemas, schema: resolved, name: prop?.$ref ?? key },
    ...patchMetaOf(prop, resolved),
  };
}

function lookupSlice(meta: Meta, key: string): FieldMeta {
  const prop = fieldSchemaOf(meta, key);
  const resolved = prop ? meta.schemas.resolve(prop) : undefined;
  const items = resolved?.items;
  const itemsResolved = items ? meta.schemas.resolve(items) : undefined;
  return {
    sub: { schemas: meta.schemas, schema: itemsResolved, name: items?.$ref ?? key },
    ...patchMetaOf(prop, resolved),
  };
}

/** The strategy other than retainKeys (upstream's extractRetainKeysPatchStrategy). */
function mainStrategy(strategies: string[]): string {
  if (strategies.length === 0) return '';
  if (strategies.length === 1) return strategies[0] === RETAIN_KEYS_STRATEGY ? '' : strategies[0]!;
  if (strategies.length === 2) {
    if (strategies[0] === RETAIN_KEYS_STRATEGY) return strategies[1]!;
    if (strategies[1] === RETAIN_KEYS_STRATEGY) return strategies[0]!;
  }
  throw internal(`unexpected patch strategy: ${goFormat(strategies)}`);
}

type GoKind = 'map' | 'slice' | 'string' | 'int64' | 'float64' | 'bool' | 'nil';

function goKind(v: JsonValue | undefined): GoKind {
  if (v === undefined || v === null) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (isPlainObject(v)) return 'map';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  return Number.isInteger(v) ? 'int64' : 'float64';
}

const isMap = (v: JsonValue | undefined): v is JsonObject => isPlainObject(v);

function errNoMergeKey(m: JsonObject, key: string): SmpError {
  return internal(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
}

function errBadArgType(expected: 'slice' | 'map', actual: JsonValue | undefined): SmpError {
  const e = expected === 'slice' ? '[]interface {}' : 'map[string]interface {}';
  return internal(`expected a ${e}, but received a ${goTypeName(actual)}`);
}

/** Go's == on decoded JSON scalars (maps and lists never compare equal here). */
function scalarEq(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (goKind(a) !== goKind(b)) return false;
  if (a === null || typeof a !== 'object') return a === b;
  return false;
}

/**
 * Values the patch puts in place as they are: directives and nulls removed, as decoding the result
 * into the API type drops them upstream.
 */
function clean(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(clean);
  if (isMap(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === null) continue;
      if (k === DIRECTIVE || k === RETAIN_KEYS_DIRECTIVE) continue;
      if (k.startsWith(`${SET_ELEMENT_ORDER}/`) || k.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`)) continue;
      out[k] = clean(x);
    }
    return out;
  }
  return v;
}

function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    if (prefix === DELETE_FROM_PRIMITIVE_LIST) throw new SmpError(ERR_BAD_PRIMITIVE_LIST, 'bad-request');
    if (prefix === SET_ELEMENT_ORDER) throw new SmpError(ERR_BAD_SET_ELEMENT_ORDER, 'bad-request');
    throw internal(`fail to find unknown prefix ${JSON.stringify(prefix)} in ${s}\n`);
  }
  return s.slice(slash + 1);
}

function handleDirectiveInMergeMap(directive: JsonValue | undefined, patch: JsonObject): JsonObject {
  if (directive === REPLACE) {
    delete patch[DIRECTIVE];
    return clean(patch) as JsonObject;
  }
  if (directive === DELETE) return {};
  throw internal(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
}

function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS_DIRECTIVE)) return;
  const list = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];
  if (!Array.isArray(list)) throw new SmpError(ERR_BAD_RETAIN_KEYS, 'bad-request');
  const keep = new Set(list.filter((x): x is string => typeof x === 'string'));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) throw new SmpError(ERR_BAD_RETAIN_KEYS, 'bad-request');
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** The common element kind of the lists; errors as upstream's sliceElementType. */
function sliceElementKind(...lists: ReadonlyArray<readonly JsonValue[]>): GoKind {
  let prev: GoKind | undefined;
  for (const l of lists) {
    for (const v of l) {
      const k = goKind(v);
      if (prev === undefined) {
        prev = k;
        if (k === 'slice') throw new SmpError(ERR_NO_LIST_OF_LISTS, 'unprocessable');
      } else if (prev !== k) {
        throw internal(`list element types are not identical: ${goFormat(lists.map((x) => [...x]))}`);
      }
    }
  }
  if (prev === undefined) throw internal('no elements in any of the given slices');
  return prev;
}

function findMapByKey(list: readonly JsonValue[], key: string, value: JsonValue): number {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (!isMap(v)) throw internal(`value for key ${i} is not a map.`);
    if (Object.hasOwn(v, key) && scalarEq(v[key], value)) return i;
  }
  return -1;
}

function indexIn(list: readonly JsonValue[], item: JsonValue, mergeKey: string, kind: GoKind): number {
  const val = (x: JsonValue): JsonValue | undefined =>
    kind === 'map' ? (isMap(x) ? x[mergeKey] : undefined) : x;
  const target = val(item);
  for (let i = 0; i < list.length; i++) if (scalarEq(val(list[i]!), target)) return i;
  return -1;
}

function validateMergeKeyInLists(mergeKey: string, ...lists: ReadonlyArray<readonly JsonValue[]>): void {
  for (const l of lists) {
    for (const item of l) {
      if (!isMap(item)) throw errBadArgType('map', item);
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
  }
}

function normalizeSliceOrder(
  toSort: JsonValue[],
  order: readonly JsonValue[],
  mergeKey: string,
  kind: GoKind,
): JsonValue[] {
  let items = toSort;
  let toDelete: JsonValue[] = [];
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, toSort, order);
    items = toSort.filter((v) => !(isMap(v) && v[DIRECTIVE] === DELETE));
    toDelete = toSort.filter((v) => isMap(v) && v[DIRECTIVE] === DELETE);
  }
  const ranked = items.map((v, i) => ({ v, i, r: indexIn(order, v, mergeKey, kind) }));
  ranked.sort((a, b) => {
    const ra = a.r < 0 ? Number.MAX_SAFE_INTEGER : a.r;
    const rb = b.r < 0 ? Number.MAX_SAFE_INTEGER : b.r;
    return ra !== rb ? ra - rb : a.i - b.i;
  });
  return [...ranked.map((x) => x.v), ...toDelete];
}

/** Interleaves server-only items (left) into patch items (right) by their place in the live list. */
function mergeSortedSlice(
  left: JsonValue[],
  right: JsonValue[],
  serverOrder: readonly JsonValue[],
  mergeKey: string,
  kind: GoKind,
): JsonValue[] {
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]!);
    else if (j >= right.length) out.push(left[i++]!);
    else {
      const li = indexIn(serverOrder, left[i]!, mergeKey, kind);
      const ri = indexIn(serverOrder, right[j]!, mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]!);
      else out.push(right[j++]!);
    }
  }
  return out;
}

function normalizeElementOrder(
  patch: JsonValue[],
  serverOnly: JsonValue[],
  patchOrder: readonly JsonValue[],
  serverOrder: readonly JsonValue[],
  mergeKey: string,
  kind: GoKind,
): JsonValue[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

function partitionPrimitives(
  list: readonly JsonValue[],
  by: readonly JsonValue[],
): [JsonValue[], JsonValue[]] {
  const inPatch: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  for (const v of list) (by.some((b) => scalarEq(b, v)) ? inPatch : serverOnly).push(v);
  return [inPatch, serverOnly];
}

function partitionMaps(
  list: readonly JsonValue[],
  by: readonly JsonValue[],
  mergeKey: string,
): [JsonValue[], JsonValue[]] {
  const inPatch: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  for (const v of list) {
    if (!isMap(v)) throw errBadArgType('map', v);
    if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    (findMapByKey(by, mergeKey, v[mergeKey]!) >= 0 ? inPatch : serverOnly).push(v);
  }
  return [inPatch, serverOnly];
}

function dedupeScalars(list: JsonValue[]): JsonValue[] {
  const out: JsonValue[] = [];
  for (const v of list) if (!out.some((x) => scalarEq(x, v))) out.push(v);
  return out;
}

function mergeSlice(
  original: JsonValue[],
  patch: JsonValue[],
  meta: Meta,
  mergeKey: string,
  isDeleteList: boolean,
): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);
  let merged: JsonValue[];
  let orig = original;
  let pat = patch;
  if (kind !== 'map') {
    if (isDeleteList) return orig.filter((v) => !pat.some((d) => scalarEq(d, v)));
    merged = dedupeScalars([...orig, ...pat.map(clean)]);
  } else {
    if (mergeKey === '') throw internal(`cannot merge lists without merge key for ${meta.name}`);
    // Directives in the items: deletions, replacement of the whole list.
    const plain: JsonValue[] = [];
    let replace = false;
    for (const v of pat) {
      const m = v as JsonObject;
      if (!Object.hasOwn(m, DIRECTIVE)) {
        plain.push(v);
        continue;
      }
      const d = m[DIRECTIVE];
      if (d === DELETE) {
        if (!Object.hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
        const mv = m[mergeKey]!;
        for (;;) {
          const idx = findMapByKey(orig, mergeKey, mv);
          if (idx < 0) break;
          orig = [...orig.slice(0, idx), ...orig.slice(idx + 1)];
        }
      } else if (d === REPLACE) {
        replace = true;
      } else if (d === MERGE) {
        throw internal('merging lists cannot yet be specified in the patch');
      } else {
        throw internal(`unknown patch type: ${goFormat(d)} in map: ${goFormat(m)}`);
      }
    }
    if (replace) {
      orig = plain.map(clean);
      pat = [];
    } else {
      pat = plain;
    }
    merged = [...orig];
    for (const v of pat) {
      const m = v as JsonObject;
      if (!Object.hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
      const idx = findMapByKey(merged, mergeKey, m[mergeKey]!);
      if (idx >= 0) merged[idx] = mergeMap(merged[idx] as JsonObject, m, meta);
      else merged.push(clean(m));
    }
  }
  const [patchItems, serverOnly] =
    mergeKey === '' ? partitionPrimitives(merged, pat) : partitionMaps(merged, pat, mergeKey);
  return normalizeElementOrder(patchItems, serverOnly, pat, orig, mergeKey, kind);
}

function mergeSliceHandler(
  original: JsonValue,
  patch: JsonValue,
  meta: Meta,
  strategy: string,
  mergeKey: string,
  isDeleteList: boolean,
): JsonValue[] {
  if (!Array.isArray(original)) throw errBadArgType('slice', original);
  if (!Array.isArray(patch)) throw errBadArgType('slice', patch);
  if (strategy === MERGE) return mergeSlice(original, patch, meta, mergeKey, isDeleteList);
  return patch.map(clean);
}

function validatePatchWithSetOrderList(
  patchList: readonly JsonValue[],
  setOrder: readonly JsonValue[],
  mergeKey: string,
): void {
  if (setOrder.length === 0 || patchList.length === 0) return;
  let nonDelete: readonly JsonValue[] = patchList;
  if (mergeKey !== '') {
    nonDelete = patchList.filter((v) => {
      if (!isMap(v)) throw errBadArgType('map', v);
      return v[DIRECTIVE] !== DELETE;
    });
  }
  let pi = 0;
  let si = 0;
  while (pi < nonDelete.length && si < setOrder.length) {
    const p = nonDelete[pi]!;
    if (isMap(p) && Object.hasOwn(p, DIRECTIVE)) {
      pi++;
      continue;
    }
    let equal: boolean;
    if (mergeKey === '') equal = scalarEq(p, setOrder[si]);
    else {
      const s = setOrder[si]!;
      if (!isMap(p)) throw errBadArgType('map', p);
      if (!isMap(s)) throw errBadArgType('map', s);
      if (!Object.hasOwn(p, mergeKey)) throw errNoMergeKey(p, mergeKey);
      if (!Object.hasOwn(s, mergeKey)) throw errNoMergeKey(s, mergeKey);
      equal = scalarEq(p[mergeKey], s[mergeKey]);
    }
    if (equal) pi++;
    si++;
  }
  if (pi < nonDelete.length && si >= setOrder.length) {
    throw internal(
      `The order in patch list:\n${goFormat([...patchList])}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat([...setOrder])}\n`,
    );
  }
}

function mergePatchIntoOriginal(original: JsonObject, patch: JsonObject, meta: Meta): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const setOrder = patch[key];
    delete patch[key];
    if (!Array.isArray(setOrder)) throw errBadArgType('slice', setOrder);
    const originalKey = extractKey(key, SET_ELEMENT_ORDER);
    const foundOriginal = Object.hasOwn(original, originalKey);
    const foundPatch = Object.hasOwn(patch, originalKey);
    let originalList: JsonValue[] = [];
    let patchList: JsonValue[] = [];
    if (foundOriginal) {
      const v = original[originalKey];
      if (!Array.isArray(v)) throw errBadArgType('slice', v);
      originalList = v;
    }
    if (foundPatch) {
      const v = patch[originalKey];
      if (!Array.isArray(v)) throw errBadArgType('slice', v);
      patchList = v;
    }
    const fm = lookupSlice(meta, originalKey);
    const strategy = mainStrategy(fm.strategies);
    validatePatchWithSetOrderList(patchList, setOrder, fm.mergeKey);
    let merged: JsonValue[];
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && foundPatch) merged = patchList.map(clean);
    else if (foundOriginal && foundPatch)
      merged = mergeSliceHandler(originalList, patchList, fm.sub, strategy, fm.mergeKey, false);
    else continue;
    const [patchItems, serverOnly] =
      fm.mergeKey === ''
        ? partitionPrimitives(merged, setOrder)
        : partitionMaps(merged, setOrder, fm.mergeKey);
    const kind = sliceElementKind(originalList, patchList);
    original[originalKey] = normalizeElementOrder(
      patchItems,
      serverOnly,
      setOrder,
      originalList,
      fm.mergeKey,
      kind,
    );
    delete patch[originalKey];
  }
}

function mergeMap(originalIn: JsonObject | undefined, patch: JsonObject, meta: Meta): JsonObject {
  if (Object.hasOwn(patch, DIRECTIVE)) return handleDirectiveInMergeMap(patch[DIRECTIVE], patch);
  const original: JsonObject = originalIn ?? {};
  applyRetainKeys(original, patch);
  mergePatchIntoOriginal(original, patch, meta);
  for (const [rawKey, patchV] of Object.entries(patch)) {
    let k = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      const noPrefix = extractKey(rawKey, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
      if (noPrefix.length > 0) k = noPrefix;
    }
    if (patchV === null) {
      delete original[k];
      continue;
    }
    if (!Object.hasOwn(original, k)) {
      if (!isDeleteList) original[k] = clean(patchV);
      continue;
    }
    const cur = original[k];
    const ok = goKind(cur);
    if (ok !== goKind(patchV)) {
      if (!isDeleteList) original[k] = clean(patchV);
      continue;
    }
    if (ok === 'map') {
      const fm = lookupStruct(meta, k);
      const strategy = mainStrategy(fm.strategies);
      original[k] =
        strategy === REPLACE ? clean(patchV) : mergeMap(cur as JsonObject, patchV as JsonObject, fm.sub);
    } else if (ok === 'slice') {
      const fm = lookupSlice(meta, k);
      const strategy = mainStrategy(fm.strategies);
      original[k] = mergeSliceHandler(cur!, patchV, fm.sub, strategy, fm.mergeKey, isDeleteList);
    } else {
      original[k] = patchV;
    }
  }
  return original;
}

export interface StrategicContext {
  /** The definition of the object's type: 'io.k8s.api.apps.v1.Deployment'. */
  schemaRef: string;
  schemas: SchemaRegistry;
}

/**
 * Applies a strategic merge patch to a copy of doc. Errors are StatusErrors in upstream's form:
 * malformed directives are 400, lists of lists 422, anything else 500 with the message.
 */
export function applyStrategicMergePatch(
  doc: JsonObject,
  patch: JsonObject,
  ctx: StrategicContext,
): JsonObject {
  const def = ctx.schemas.get(ctx.schemaRef);
  const meta: Meta = {
    schemas: ctx.schemas,
    schema: def ? ctx.schemas.resolve(def) : undefined,
    name: ctx.schemaRef,
  };
  try {
    return mergeMap(cloneObject(doc), cloneObject(patch), meta);
  } catch (e) {
    if (e instanceof SmpError) throw toStatus(e);
    throw e;
  }
}

/** Definition names of the built-in API types (custom resources are named after their group). */
const BUILTIN_PREFIXES = [
  'io.k8s.api.',
  'io.k8s.apimachinery.',
  'io.k8s.kube-aggregator.',
  'io.k8s.apiextensions-apiserver.',
];

/**
 * Whether strategic merge patch is served for objects of this schema. Upstream serves it for
 * built-in types only; custom resources answer 415.
 */
export function supportsStrategicMerge(schemaRef: string, schemas: SchemaRegistry): boolean {
  const def = schemas.get(schemaRef);
  if (!def) return false;
  if (def['x-kubernetes-preserve-unknown-fields'] === true) return false;
  return BUILTIN_PREFIXES.some((p) => schemaRef.startsWith(p));
}
