// JSON patch (RFC 6902) with the behaviour of the library kube-apiserver uses (evanphx/json-patch
// v4): negative indices count from the end, "replace" of a missing object key adds it, "test"
// treats a missing key and null alike. A patch that is not a list of operations is 400; an
// operation that does not apply is 422 with upstream's fixed message.
import { badRequest } from '../../api/errors.js';
import type { JsonObject, JsonValue } from '../../api/meta.js';
import { isPlainObject } from '../../api/meta.js';
import { genericUnprocessable, jsonTypeName, requestEntityTooLargeMessage } from './status.js';
import { jsonEqual } from './typed.js';
import { cloneObject } from '../objects.js';

/** Upstream's limit on the operations of one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

type Container = JsonObject | JsonValue[];

class OpError extends Error {}

function decodeToken(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Go's strconv.Atoi: optional sign, decimal digits. */
function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new OpError(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  return Number(s);
}

function isContainer(v: JsonValue | undefined): v is Container {
  return Array.isArray(v) || isPlainObject(v);
}

/** The container that holds the last token of path, and that token; undefined when the path is missing. */
function findObject(root: Container, path: string): { con: Container; key: string } | undefined {
  const split = path.split('/');
  if (split.length < 2) return undefined;
  let doc: Container = root;
  for (const part of split.slice(1, -1)) {
    const next = get(doc, decodeToken(part), true);
    if (!isContainer(next)) return undefined;
    doc = next;
  }
  return { con: doc, key: decodeToken(split[split.length - 1]!) };
}

/** Reads key; for arrays an invalid index throws, for objects a missing key is undefined. */
function get(con: Container, key: string, quiet = false): JsonValue | undefined {
  if (!Array.isArray(con)) return Object.hasOwn(con, key) ? con[key] : undefined;
  let idx: number;
  try {
    idx = atoi(key);
  } catch (e) {
    if (quiet) return undefined;
    throw e;
  }
  if (idx < 0) {
    if (idx < -con.length) {
      if (quiet) return undefined;
      throw new OpError(`Unable to access invalid index: ${idx}: invalid index referenced`);
    }
    idx += con.length;
  }
  if (idx >= con.length) {
    if (quiet) return undefined;
    throw new OpError(`Unable to access invalid index: ${idx}: invalid index referenced`);
  }
  return con[idx];
}

function add(con: Container, key: string, val: JsonValue): void {
  if (!Array.isArray(con)) {
    con[key] = val;
    return;
  }
  if (key === '-') {
    con.push(val);
    return;
  }
  let idx: number;
  try {
    idx = atoi(key);
  } catch (e) {
    throw new OpError(`value was not a proper array index: '${key}': ${(e as Error).message}`);
  }
  const size = con.length + 1;
  if (idx >= size) throw new OpError(`Unable to access invalid index: ${idx}: invalid index referenced`);
  if (idx < 0) {
    if (idx < -size) throw new OpError(`Unable to access invalid index: ${idx}: invalid index referenced`);
    idx += size;
  }
  con.splice(idx, 0, val);
}

function remove(con: Container, key: string): void {
  if (!Array.isArray(con)) {
    if (!Object.hasOwn(con, key))
      throw new OpError(`Unable to remove nonexistent key: ${key}: missing value`);
    delete con[key];
    return;
  }
  let idx = atoi(key);
  if (idx >= con.length)
    throw new OpError(`Unable to access invalid index: ${idx}: invalid index referenced`);
  if (idx < 0) {
    if (idx < -con.length)
      throw new OpError(`Unable to access invalid index: ${idx}: invalid index referenced`);
    idx += con.length;
  }
  con.splice(idx, 1);
}

function set(con: Container, key: string, val: JsonValue): void {
  if (!Array.isArray(con)) {
    con[key] = val;
    return;
  }
  let idx = atoi(key);
  if (idx < 0) idx += con.length;
  con[idx] = val;
}

function stringField(op: JsonObject, field: 'path' | 'from', name: string): string {
  const v = op[field];
  if (v === undefined || v === null) {
    throw new OpError(`${name} operation failed to decode ${field}: missing value`);
  }
  if (typeof v !== 'string') {
    throw new OpError(
      `${name} operation failed to decode ${field}: json: cannot unmarshal ${jsonTypeName(v)} into Go value of type string`,
    );
  }
  return v;
}

function valueOf(op: JsonObject): JsonValue {
  return op.value === undefined ? null : structuredClone(op.value);
}

/**
 * Applies an RFC 6902 patch to a copy of doc. `ops` is the decoded request body.
 * Errors are StatusErrors as kube-apiserver returns them.
 */
export function applyJsonPatch(doc: JsonValue, ops: unknown): JsonValue {
  if (ops === null) return cloneObject(doc);
  if (!Array.isArray(ops)) {
    throw badRequest(`json: cannot unmarshal ${jsonTypeName(ops)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of ops) {
    if (op !== null && !isPlainObject(op)) {
      throw badRequest(
        `json: cannot unmarshal ${jsonTypeName(op)} into Go value of type jsonpatch.Operation`,
      );
    }
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw requestEntityTooLargeMessage(
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`,
    );
  }
  if (!isContainer(doc)) throw genericUnprocessable('the document is not an object or array');
  let root: Container = cloneObject(doc);
  try {
    for (const raw of ops as Array<JsonObject | null>) {
      const op: JsonObject = raw ?? {};
      const kind = typeof op.op === 'string' ? op.op : 'unknown';
      switch (kind) {
        case 'add': {
          const path = stringField(op, 'path', 'add');
          const found = findObject(root, path);
          if (!found)
            throw new OpError(`add operation does not apply: doc is missing path: "${path}": missing value`);
          try {
            add(found.con, found.key, valueOf(op));
          } catch (e) {
            throw new OpError(`error in add for path: '${path}': ${(e as Error).message}`);
          }
          break;
        }
        case 'remove': {
          const path = stringField(op, 'path', 'remove');
          const found = findObject(root, path);
          if (!found)
            throw new OpError(
              `remove operation does not apply: doc is missing path: "${path}": missing value`,
            );
          try {
            remove(found.con, found.key);
          } catch (e) {
            throw new OpError(`error in remove for path: '${path}': ${(e as Error).message}`);
          }
          break;
        }
        case 'replace': {
          const path = stringField(op, 'path', 'replace');
          if (path === '') {
            const v = valueOf(op);
            if (!isContainer(v)) throw new OpError('replace operation value must be object or array');
            root = v;
            break;
          }
          const found = findObject(root, path);
          if (!found)
            throw new OpError(
              `replace operation does not apply: doc is missing path: ${path}: missing value`,
            );
          try {
            get(found.con, found.key);
          } catch {
            throw new OpError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
          }
          set(found.con, found.key, valueOf(op));
          break;
        }
        case 'move': {
          const from = stringField(op, 'from', 'move');
          const src = findObject(root, from);
          if (!src)
            throw new OpError(
              `move operation does not apply: doc is missing from path: ${from}: missing value`,
            );
          let val: JsonValue | undefined;
          try {
            val = get(src.con, src.key);
            remove(src.con, src.key);
          } catch (e) {
            throw new OpError(`error in move for path: '${src.key}': ${(e as Error).message}`);
          }
          const path = stringField(op, 'path', 'move');
          const dst = findObject(root, path);
          if (!dst)
            throw new OpError(
              `move operation does not apply: doc is missing destination path: ${path}: missing value`,
            );
          try {
            add(dst.con, dst.key, val ?? null);
          } catch (e) {
            throw new OpError(`error in move for path: '${path}': ${(e as Error).message}`);
          }
          break;
        }
        case 'copy': {
          const from = stringField(op, 'from', 'copy');
          const src = findObject(root, from);
          if (!src)
            throw new OpError(
              `copy operation does not apply: doc is missing from path: ${from}: missing value`,
            );
          let val: JsonValue | undefined;
          try {
            val = get(src.con, src.key);
          } catch (e) {
            throw new OpError(`error in copy for from: '${from}': ${(e as Error).message}`);
          }
          const path = stringField(op, 'path', 'copy');
          const dst = findObject(root, path);
          if (!dst)
            throw new OpError(
              `copy operation does not apply: doc is missing destination path: ${path}: missing value`,
            );
          try {
            add(dst.con, dst.key, val === undefined ? null : structuredClone(val));
          } catch (e) {
            throw new OpError(`error while adding value during copy: ${(e as Error).message}`);
          }
          break;
        }
        case 'test': {
          const path = stringField(op, 'path', 'test');
          const expected = op.value;
          if (path === '') {
            if (!jsonEqual(root, expected ?? null))
              throw new OpError(`testing value ${path} failed: test failed`);
            break;
          }
          const found = findObject(root, path);
          if (!found)
            throw new OpError(`test operation does not apply: is missing path: ${path}: missing value`);
          let actual: JsonValue | undefined;
          try {
            actual = get(found.con, found.key);
          } catch (e) {
            throw new OpError(`error in test for path: '${path}': ${(e as Error).message}`);
          }
          if (actual === undefined || actual === null) {
            if (expected === undefined || expected === null) break;
            throw new OpError(`testing value ${path} failed: test failed`);
          }
          if (expected === undefined || !jsonEqual(actual, expected)) {
            throw new OpError(`testing value ${path} failed: test failed`);
          }
          break;
        }
        default:
          throw new OpError(`Unexpected kind: ${kind}`);
      }
    }
  } catch (e) {
    if (e instanceof OpError) throw genericUnprocessable(e.message);
    throw e;
  }
  return root;
}
