// Table columns and small readers shared by the kinds in this folder.
import type { KubeObject } from '../meta.js';
import { isPlainObject } from '../meta.js';
import type { TableColumn } from '../types.js';
import { formatAge } from './age.js';

export const nameColumn: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: "The object's name, unique among objects of its kind in a namespace.",
  priority: 0,
  cell: (obj) => obj.metadata.name ?? '',
};

export const ageColumn: TableColumn = {
  name: 'Age',
  type: 'string',
  description: 'How long ago the object was created.',
  priority: 0,
  cell: (obj, now) => formatAge(obj.metadata.creationTimestamp, now),
};

/** Upstream's "Created At" column of roles: the creation time in RFC 3339, UTC, seconds precision. */
export const createdAtColumn: TableColumn = {
  name: 'Created At',
  type: 'date',
  description: 'When the object was created.',
  priority: 0,
  cell: (obj) => {
    const ts = obj.metadata.creationTimestamp;
    if (!ts) return '0001-01-01T00:00:00Z';
    const t = Date.parse(ts);
    return Number.isNaN(t) ? ts : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  },
};

export type Obj = Record<string, unknown>;

export function field(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

export function strField(obj: unknown, ...path: string[]): string {
  const v = field(obj, ...path);
  return typeof v === 'string' ? v : '';
}

export function objField(obj: unknown, ...path: string[]): Obj | undefined {
  const v = field(obj, ...path);
  return isPlainObject(v) ? v : undefined;
}

export function arrField(obj: unknown, ...path: string[]): unknown[] {
  const v = field(obj, ...path);
  return Array.isArray(v) ? v : [];
}

export function countKeys(v: unknown): number {
  return isPlainObject(v) ? Object.keys(v).length : 0;
}

/** The object's top-level map at `key`, created when absent. */
export function ensureObj(obj: KubeObject | Obj, key: string): Obj {
  const existing = (obj as Obj)[key];
  if (isPlainObject(existing)) return existing;
  const created: Obj = {};
  (obj as Obj)[key] = created;
  return created;
}
