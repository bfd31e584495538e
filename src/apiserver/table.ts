// Server-side printing: meta.k8s.io/v1 Table and PartialObjectMetadata(List) responses, negotiated
// through the Accept header's `as`, `g` and `v` parameters as kube-apiserver does.
import type { KubeObject } from '../api/meta.js';
import type { CellValue, ResourceDescription, TableColumn } from '../api/types.js';

/** Upstream's HumanDuration: the compact ages kubectl shows ("5s", "3m20s", "2d4h", "3y"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 192) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** The age column value of an object (creationTimestamp relative to now). */
export function ageOf(obj: KubeObject, now: Date): string {
  const ts = obj.metadata.creationTimestamp;
  if (!ts) return '<unknown>';
  return humanDuration(now.getTime() - Date.parse(ts));
}

export const DEFAULT_COLUMNS: readonly TableColumn[] = [
  {
    name: 'Name',
    type: 'string',
    format: 'name',
    description: 'Name must be unique within a namespace; it identifies the object.',
    priority: 0,
    cell: (obj) => obj.metadata.name ?? '',
  },
  {
    name: 'Age',
    type: 'string',
    description: 'Time since the object was created, from metadata.creationTimestamp.',
    priority: 0,
    cell: (obj, now) => ageOf(obj, now),
  },
];

export type OutputAs = 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList';

export interface NegotiatedOutput {
  /** undefined: the object (or list) itself. */
  readonly as?: OutputAs;
  readonly version?: 'v1' | 'v1beta1';
  /** The Content-Type of the response. */
  readonly contentType: string;
}

interface MediaRange {
  readonly type: string;
  readonly params: Record<string, string>;
}

export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  return accept.split(',').map((part) => {
    const [type, ...rest] = part.split(';');
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
    }
    return { type: (type ?? '').trim().toLowerCase(), params };
  });
}

/**
 * Chooses the representation for a get/list/watch. The first acceptable range wins; unknown `as`
 * forms are skipped so that the plain object serves as the fallback (kubectl always lists one).
 * Returns undefined when nothing acceptable is offered (406).
 */
export function negotiateOutput(accept: string | undefined, list: boolean): NegotiatedOutput | undefined {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return { contentType: 'application/json' };
  let plainAcceptable = false;
  let yaml = false;
  for (const r of ranges) {
    const jsonish = r.type === 'application/json' || r.type === '*/*' || r.type === 'application/*';
    if (r.params.as) {
      if (!jsonish || r.type !== 'application/json') continue;
      const g = r.params.g;
      const v = r.params.v;
      if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
      const as = r.params.as;
      if (as === 'Table')
        return { as: 'Table', version: v, contentType: `application/json;as=Table;v=${v};g=meta.k8s.io` };
      if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') {
        const real: OutputAs = list ? 'PartialObjectMetadataList' : 'PartialObjectMetadata';
        return { as: real, version: v, contentType: `application/json;as=${real};v=${v};g=meta.k8s.io` };
      }
      continue;
    }
    if (jsonish) {
      plainAcceptable = true;
      break;
    }
    if (r.type === 'application/yaml') {
      yaml = true;
      break;
    }
    if (r.type === 'application/vnd.kubernetes.protobuf' || r.type === 'application/cbor') continue;
  }
  if (plainAcceptable) return { contentType: 'application/json' };
  if (yaml) return { contentType: 'application/yaml' };
  return undefined;
}

export function partialObjectMetadata(obj: KubeObject, version = 'v1'): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function columnsOf(desc: ResourceDescription): readonly TableColumn[] {
  return desc.tableColumns && desc.tableColumns.length ? desc.tableColumns : DEFAULT_COLUMNS;
}

function cellOf(col: TableColumn, obj: KubeObject, now: Date): CellValue {
  try {
    return col.cell(obj, now);
  } catch {
    return '<error>';
  }
}

export interface TableOptions {
  readonly includeObject: IncludeObject;
  readonly noHeaders?: boolean;
  readonly version: string;
}

export function buildTable(
  desc: ResourceDescription,
  objects: readonly KubeObject[],
  listMeta: { resourceVersion?: string; continue?: string; remainingItemCount?: number },
  opts: TableOptions,
): Record<string, unknown> {
  const cols = columnsOf(desc);
  const now = new Date();
  const table: Record<string, unknown> = {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata: listMeta,
  };
  if (!opts.noHeaders)
    table.columnDefinitions = cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description,
      priority: c.priority,
    }));
  table.rows = objects.map((obj) => {
    const row: Record<string, unknown> = { cells: cols.map((c) => cellOf(c, obj, now)) };
    if (opts.includeObject === 'Object') row.object = obj;
    else if (opts.includeObject === 'Metadata') row.object = partialObjectMetadata(obj, opts.version);
    return row;
  });
  return table;
}
