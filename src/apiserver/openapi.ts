// OpenAPI documents built from the schema registry and the served resources: v2 (/openapi/v2,
// one document) and v3 (/openapi/v3 index plus one document per group-version). kubectl reads them
// for explain, for client-side apply's patch metadata, and to learn that the server validates fields
// (it looks for the fieldValidation parameter on the PATCH operation of the kind's path).
import { createHash } from 'node:crypto';
import type { Schema, SchemaRegistry } from '../api/schema.js';
import type { ResourceDescription } from '../api/types.js';
import { verbsOf, type ResourceRegistry } from './resource-registry.js';
import type { CachedDoc } from './discovery.js';
import { supportsStrategicMerge } from './patch/index.js';
import { encodeOpenApiV2 } from './openapi-v2-proto.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const STATUS_REF = `${META}.Status`;
const DELETE_OPTIONS_REF = `${META}.DeleteOptions`;
const PATCH_REF = `${META}.Patch`;
const WATCH_EVENT_REF = `${META}.WatchEvent`;
const SCALE_REF = 'io.k8s.api.autoscaling.v1.Scale';

type Json = { [key: string]: unknown };

interface Param {
  readonly name: string;
  readonly in: 'query' | 'path';
  readonly description: string;
  readonly type: 'string' | 'boolean' | 'integer';
  readonly required?: boolean;
}

const P = {
  name: { name: 'name', in: 'path', description: 'name of the object', type: 'string', required: true },
  namespace: {
    name: 'namespace',
    in: 'path',
    description: 'object name and auth scope, such as for teams and projects',
    type: 'string',
    required: true,
  },
  pretty: { name: 'pretty', in: 'query', description: 'If true, the output is indented.', type: 'string' },
  dryRun: {
    name: 'dryRun',
    in: 'query',
    description: 'Set to All to run every stage of the request without persisting anything.',
    type: 'string',
  },
  fieldManager: {
    name: 'fieldManager',
    in: 'query',
    description: 'The name of the actor making the change, recorded in managedFields.',
    type: 'string',
  },
  fieldValidation: {
    name: 'fieldValidation',
    in: 'query',
    description: 'How to treat unknown or duplicate fields: Ignore, Warn or Strict.',
    type: 'string',
  },
  force: {
    name: 'force',
    in: 'query',
    description: 'For apply requests: take ownership of conflicting fields.',
    type: 'boolean',
  },
  gracePeriodSeconds: {
    name: 'gracePeriodSeconds',
    in: 'query',
    description: 'Seconds before the object is deleted; zero deletes at once.',
    type: 'integer',
  },
  propagationPolicy: {
    name: 'propagationPolicy',
    in: 'query',
    description: 'How dependents are treated: Orphan, Background or Foreground.',
    type: 'string',
  },
  orphanDependents: {
    name: 'orphanDependents',
    in: 'query',
    description: 'Deprecated: use propagationPolicy.',
    type: 'boolean',
  },
  labelSelector: {
    name: 'labelSelector',
    in: 'query',
    description: 'Restrict the returned objects by their labels.',
    type: 'string',
  },
  fieldSelector: {
    name: 'fieldSelector',
    in: 'query',
    description: 'Restrict the returned objects by their fields.',
    type: 'string',
  },
  limit: {
    name: 'limit',
    in: 'query',
    description: 'The maximum number of items in one response.',
    type: 'integer',
  },
  continue: {
    name: 'continue',
    in: 'query',
    description: 'The token from a previous response, to fetch the next chunk.',
    type: 'string',
  },
  resourceVersion: {
    name: 'resourceVersion',
    in: 'query',
    description: 'Which version of the data the request may be served from.',
    type: 'string',
  },
  resourceVersionMatch: {
    name: 'resourceVersionMatch',
    in: 'query',
    description: 'How resourceVersion applies to a list: Exact or NotOlderThan.',
    type: 'string',
  },
  timeoutSeconds: {
    name: 'timeoutSeconds',
    in: 'query',
    description: 'Time limit for the list or watch call.',
    type: 'integer',
  },
  watch: {
    name: 'watch',
    in: 'query',
    description: 'Watch for changes instead of listing.',
    type: 'boolean',
  },
  allowWatchBookmarks: {
    name: 'allowWatchBookmarks',
    in: 'query',
    description: 'Ask for BOOKMARK events during a watch.',
    type: 'boolean',
  },
  sendInitialEvents: {
    name: 'sendInitialEvents',
    in: 'query',
    description: 'Start a watch with the current state as ADDED events.',
    type: 'boolean',
  },
} satisfies Record<string, Param>;

const LIST_PARAMS: Param[] = [
  P.allowWatchBookmarks,
  P.continue,
  P.fieldSelector,
  P.labelSelector,
  P.limit,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
  P.watch,
];
const WRITE_PARAMS: Param[] = [P.dryRun, P.fieldManager, P.fieldValidation];
const DELETE_PARAMS: Param[] = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

function camel(s: string): string {
  return s
    .split(/[.-]/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

function groupTag(group: string): string {
  if (group === '') return 'Core';
  return camel(group.replace(/\.k8s\.io$/, '').replace(/\.kubernetes\.io$/, ''));
}

interface Operation {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  readonly action: string;
  readonly id: string;
  readonly description: string;
  readonly params: readonly Param[];
  readonly bodyRef?: string;
  readonly patch?: boolean;
  /** The patch content types accepted (all of PATCH_TYPES when absent). */
  readonly patchTypes?: readonly string[];
  readonly responseRef: string;
  readonly gvk: { group: string; version: string; kind: string };
}

interface PathItem {
  readonly path: string;
  readonly params: readonly Param[];
  readonly ops: Operation[];
}

/** Every path and operation a description serves (the facts; v2 and v3 render them differently). */
function pathsOf(d: ResourceDescription, schemas: SchemaRegistry): PathItem[] {
  // Custom resources do not take strategic merge patches, and kubectl reads that from here.
  const patchTypes = supportsStrategicMerge(d.schemaRef, schemas)
    ? PATCH_TYPES
    : PATCH_TYPES.filter((t) => t !== 'application/strategic-merge-patch+json');
  const verbs = new Set<string>(verbsOf(d));
  const root = d.group === '' ? `/api/${d.version}` : `/apis/${d.group}/${d.version}`;
  const gvk = { group: d.group, version: d.version, kind: d.kind };
  const tag = `${groupTag(d.group)}${camel(d.version)}`;
  const scope = d.namespaced ? 'Namespaced' : '';
  const listRef = `${d.schemaRef}List`;
  const collection = d.namespaced ? `${root}/namespaces/{namespace}/${d.plural}` : `${root}/${d.plural}`;
  const nsParams = d.namespaced ? [P.namespace, P.pretty] : [P.pretty];
  const items: PathItem[] = [];

  const collOps: Operation[] = [];
  if (verbs.has('list'))
    collOps.push({
      method: 'get',
      action: 'list',
      id: `list${tag}${scope}${d.kind}`,
      description: `list or watch objects of kind ${d.kind}`,
      params: LIST_PARAMS,
      responseRef: listRef,
      gvk,
    });
  if (verbs.has('create'))
    collOps.push({
      method: 'post',
      action: 'post',
      id: `create${tag}${scope}${d.kind}`,
      description: `create a ${d.kind}`,
      params: WRITE_PARAMS,
      bodyRef: d.schemaRef,
      responseRef: d.schemaRef,
      gvk,
    });
  if (verbs.has('deletecollection'))
    collOps.push({
      method: 'delete',
      action: 'deletecollection',
      id: `deleteCollection${tag}${scope}${d.kind}`,
      description: `delete a collection of ${d.kind}`,
      params: [...DELETE_PARAMS, ...LIST_PARAMS.filter((p) => p !== P.watch)],
      bodyRef: DELETE_OPTIONS_REF,
      responseRef: STATUS_REF,
      gvk,
    });
  if (collOps.length) items.push({ path: collection, params: nsParams, ops: collOps });

  const itemOps: Operation[] = [];
  const itemParams = [P.name, ...nsParams];
  if (verbs.has('get'))
    itemOps.push({
      method: 'get',
      action: 'get',
      id: `read${tag}${scope}${d.kind}`,
      description: `read the specified ${d.kind}`,
      params: [],
      responseRef: d.schemaRef,
      gvk,
    });
  if (verbs.has('update'))
    itemOps.push({
      method: 'put',
      action: 'put',
      id: `replace${tag}${scope}${d.kind}`,
      description: `replace the specified ${d.kind}`,
      params: WRITE_PARAMS,
      bodyRef: d.schemaRef,
      responseRef: d.schemaRef,
      gvk,
    });
  if (verbs.has('patch'))
    itemOps.push({
      method: 'patch',
      action: 'patch',
      id: `patch${tag}${scope}${d.kind}`,
      description: `partially update the specified ${d.kind}`,
      params: [...WRITE_PARAMS, P.force],
      bodyRef: PATCH_REF,
      patch: true,
      patchTypes,
      responseRef: d.schemaRef,
      gvk,
    });
  if (verbs.has('delete'))
    itemOps.push({
      method: 'delete',
      action: 'delete',
      id: `delete${tag}${scope}${d.kind}`,
      description: `delete a ${d.kind}`,
      params: DELETE_PARAMS,
      bodyRef: DELETE_OPTIONS_REF,
      responseRef: STATUS_REF,
      gvk,
    });
  if (itemOps.length) items.push({ path: `${collection}/{name}`, params: itemParams, ops: itemOps });

  const sub = (name: string, ref: string, subGvk: Operation['gvk']): void => {
    const what = `${name} of the specified ${d.kind}`;
    const suffix = camel(name);
    items.push({
      path: `${collection}/{name}/${name}`,
      params: itemParams,
      ops: [
        {
          method: 'get',
          action: 'get',
          id: `read${tag}${scope}${d.kind}${suffix}`,
          description: `read ${what}`,
          params: [],
          responseRef: ref,
          gvk: subGvk,
        },
        {
          method: 'put',
          action: 'put',
          id: `replace${tag}${scope}${d.kind}${suffix}`,
          description: `replace ${what}`,
          params: WRITE_PARAMS,
          bodyRef: ref,
          responseRef: ref,
          gvk: subGvk,
        },
        {
          method: 'patch',
          action: 'patch',
          id: `patch${tag}${scope}${d.kind}${suffix}`,
          description: `partially update ${what}`,
          params: [...WRITE_PARAMS, P.force],
          bodyRef: PATCH_REF,
          patch: true,
          // The parent's: kubectl picks the patch type from whichever PATCH path of the kind it
          // meets first, so every one of them must tell the same story.
          patchTypes,
          responseRef: ref,
          gvk: subGvk,
        },
      ],
    });
  };
  if (d.subresources?.status) sub('status', d.schemaRef, gvk);
  if (d.subresources?.scale) sub('scale', SCALE_REF, { group: 'autoscaling', version: 'v1', kind: 'Scale' });

  if (d.namespaced && verbs.has('list'))
    items.push({
      path: `${root}/${d.plural}`,
      params: [P.pretty],
      ops: [
        {
          method: 'get',
          action: 'list',
          id: `list${tag}${d.kind}ForAllNamespaces`,
          description: `list or watch objects of kind ${d.kind}`,
          params: LIST_PARAMS,
          responseRef: listRef,
          gvk,
        },
      ],
    });
  return items;
}

/** Rewrites bare $ref names to a document's form; a $ref with siblings becomes allOf, as upstream's v3 does. */
function rewriteRefs(schema: Schema, prefix: string, wrapSiblings: boolean): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$ref') continue;
    if (k === 'properties' && v && typeof v === 'object') {
      const props: Json = {};
      for (const [pk, pv] of Object.entries(v as Record<string, Schema>))
        props[pk] = rewriteRefs(pv, prefix, wrapSiblings);
      out[k] = props;
    } else if ((k === 'items' || k === 'additionalProperties') && v && typeof v === 'object') {
      out[k] = rewriteRefs(v as Schema, prefix, wrapSiblings);
    } else out[k] = v;
  }
  if (schema.$ref !== undefined) {
    const ref = `${prefix}${schema.$ref}`;
    if (wrapSiblings && Object.keys(out).length > 0) out.allOf = [{ $ref: ref }];
    else out.$ref = ref;
  }
  return out;
}

function collectRefs(schema: Schema, into: Set<string>, schemas: SchemaRegistry): void {
  const visit = (s: Schema | undefined): void => {
    if (!s) return;
    if (s.$ref !== undefined && !into.has(s.$ref)) {
      into.add(s.$ref);
      visit(schemas.get(s.$ref));
    }
    if (s.properties) for (const p of Object.values(s.properties)) visit(p);
    if (s.items) visit(s.items);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') visit(s.additionalProperties);
  };
  visit(schema);
}

function withGvk(schema: Schema, gvks: readonly { group: string; version: string; kind: string }[]): Schema {
  const existing = schema['x-kubernetes-group-version-kind'] ?? [];
  const missing = gvks.filter(
    (g) => !existing.some((e) => e.group === g.group && e.version === g.version && e.kind === g.kind),
  );
  if (missing.length === 0) return schema;
  return { ...schema, 'x-kubernetes-group-version-kind': [...existing, ...missing] };
}

/** The definitions a set of resources needs, closed over $ref, with GVK extensions ensured. */
function definitionsFor(
  resources: readonly ResourceDescription[],
  schemas: SchemaRegistry,
): Map<string, Schema> {
  const names = new Set<string>();
  const gvksByName = new Map<string, { group: string; version: string; kind: string }[]>();
  const addGvk = (name: string, gvk: { group: string; version: string; kind: string }): void => {
    const list = gvksByName.get(name) ?? [];
    list.push(gvk);
    gvksByName.set(name, list);
  };
  const roots = [STATUS_REF, DELETE_OPTIONS_REF, PATCH_REF, WATCH_EVENT_REF];
  for (const d of resources) {
    roots.push(d.schemaRef, `${d.schemaRef}List`);
    addGvk(d.schemaRef, { group: d.group, version: d.version, kind: d.kind });
    if (schemas.get(`${d.schemaRef}List`))
      addGvk(`${d.schemaRef}List`, { group: d.group, version: d.version, kind: `${d.kind}List` });
    if (d.subresources?.scale) roots.push(SCALE_REF);
  }
  for (const r of roots) {
    const s = schemas.get(r);
    if (s) {
      names.add(r);
      collectRefs(s, names, schemas);
    }
  }
  const out = new Map<string, Schema>();
  for (const name of [...names].sort()) {
    const s = schemas.get(name);
    if (!s) continue;
    const gvks = gvksByName.get(name);
    out.set(name, gvks ? withGvk(s, gvks) : s);
  }
  // A kind without a registered schema still gets an entry, so that explain and validation find it.
  for (const d of resources)
    if (!out.has(d.schemaRef))
      out.set(d.schemaRef, {
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
        'x-kubernetes-group-version-kind': [{ group: d.group, version: d.version, kind: d.kind }],
      });
  return out;
}

function v3Param(p: Param): Json {
  const out: Json = {
    name: p.name,
    in: p.in,
    description: p.description,
    schema: { type: p.type, uniqueItems: true },
  };
  if (p.required) out.required = true;
  return out;
}

function v2Param(p: Param): Json {
  const out: Json = { name: p.name, in: p.in, description: p.description, type: p.type, uniqueItems: true };
  if (p.required) out.required = true;
  return out;
}

const OUTPUT_TYPES = ['application/json', 'application/yaml'];

function v3Operation(op: Operation, ref: (n: string) => string): Json {
  const responseContent: Json = {};
  for (const t of OUTPUT_TYPES) responseContent[t] = { schema: { $ref: ref(op.responseRef) } };
  const out: Json = {
    tags: [op.id],
    description: op.description,
    operationId: op.id,
    responses: {
      '200': { description: 'OK', content: responseContent },
      '401': { description: 'Unauthorized' },
    },
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': op.gvk,
  };
  if (op.params.length) out.parameters = op.params.map(v3Param);
  if (op.bodyRef) {
    const content: Json = {};
    for (const t of op.patch ? (op.patchTypes ?? PATCH_TYPES) : ['*/*'])
      content[t] = { schema: { $ref: ref(op.bodyRef) } };
    out.requestBody = { content, required: op.method !== 'delete' };
  }
  if (op.method === 'post')
    out.responses = {
      ...(out.responses as Json),
      '201': { description: 'Created', content: responseContent },
    };
  return out;
}

function v2Operation(op: Operation): Json {
  const params: Json[] = [];
  if (op.bodyRef)
    params.push({
      name: 'body',
      in: 'body',
      required: op.method !== 'delete',
      schema: { $ref: `#/definitions/${op.bodyRef}` },
    });
  params.push(...op.params.map(v2Param));
  const out: Json = {
    description: op.description,
    consumes: op.patch ? (op.patchTypes ?? PATCH_TYPES) : ['*/*'],
    produces: OUTPUT_TYPES,
    schemes: ['https'],
    tags: [op.id],
    operationId: op.id,
    responses: {
      '200': { description: 'OK', schema: { $ref: `#/definitions/${op.responseRef}` } },
      '401': { description: 'Unauthorized' },
    },
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': op.gvk,
  };
  if (params.length) out.parameters = params;
  return out;
}

function hashOf(body: string): string {
  return createHash('sha512').update(body).digest('hex').toUpperCase();
}

/**
 * The media types of the OpenAPI v2 document in protobuf (gnostic's openapi.v2.Document): clients
 * (kubectl among them) ask with the historical '@' spelling, which Go's MIME parser refuses in a
 * Content-Type, so the answer is labelled with the '.' spelling, as kube-openapi does.
 */
export const OPENAPI_V2_PROTOBUF_TYPES = [
  'application/com.github.proto-openapi.spec.v2@v1.0+protobuf',
  'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
];
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

export class OpenApiCache {
  private generation = -1;
  private v2: CachedDoc | undefined;
  private v2Proto: CachedDoc | undefined;
  private v3Index: CachedDoc | undefined;
  private v3Docs = new Map<string, CachedDoc>();

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly schemas: SchemaRegistry,
    private readonly versionString: string,
  ) {}

  /** Drop everything (schemas changed without a registry change). */
  invalidate(): void {
    this.generation = -1;
  }

  private fresh(): void {
    if (this.generation !== this.registry.generation) {
      this.v2 = undefined;
      this.v2Proto = undefined;
      this.v3Index = undefined;
      this.v3Docs = new Map();
      this.generation = this.registry.generation;
    }
  }

  /** The group-versions, as v3 path keys: 'api/v1', 'apis/apps/v1'. */
  private gvKeys(): { key: string; group: string; version: string }[] {
    const out: { key: string; group: string; version: string }[] = [];
    for (const g of this.registry.groups())
      for (const v of g.versions)
        out.push({ key: g.name === '' ? `api/${v}` : `apis/${g.name}/${v}`, group: g.name, version: v });
    return out;
  }

  /** /openapi/v3/api/v1 or /openapi/v3/apis/G/V (key without the leading /openapi/v3/). */
  v3Document(key: string): CachedDoc | undefined {
    this.fresh();
    const hit = this.v3Docs.get(key);
    if (hit) return hit;
    const gv = this.gvKeys().find((g) => g.key === key);
    if (!gv) return undefined;
    const resources = this.registry.inGroupVersion(gv.group, gv.version);
    const ref = (n: string): string => `#/components/schemas/${n}`;
    const paths: Json = {};
    for (const d of resources)
      for (const item of pathsOf(d, this.schemas)) {
        const entry: Json = { parameters: item.params.map(v3Param) };
        for (const op of item.ops) entry[op.method] = v3Operation(op, ref);
        paths[item.path] = entry;
      }
    const schemas: Json = {};
    for (const [name, s] of definitionsFor(resources, this.schemas))
      schemas[name] = rewriteRefs(s, '#/components/schemas/', true);
    const body = JSON.stringify({
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: this.versionString },
      paths,
      components: {
        schemas,
        securitySchemes: {
          BearerToken: {
            type: 'apiKey',
            description: 'Bearer token authentication',
            name: 'authorization',
            in: 'header',
          },
        },
      },
    });
    const doc = { body, etag: `"${hashOf(body)}"` };
    this.v3Docs.set(key, doc);
    return doc;
  }

  v3IndexDoc(): CachedDoc {
    this.fresh();
    if (this.v3Index) return this.v3Index;
    const paths: Json = {};
    for (const gv of this.gvKeys()) {
      const doc = this.v3Document(gv.key)!;
      paths[gv.key] = { serverRelativeURL: `/openapi/v3/${gv.key}?hash=${doc.etag.slice(1, -1)}` };
    }
    const body = JSON.stringify({ paths });
    this.v3Index = { body, etag: `"${hashOf(body)}"` };
    return this.v3Index;
  }

  v2Document(): CachedDoc {
    this.fresh();
    if (this.v2) return this.v2;
    const resources = this.registry.all();
    const paths: Json = {};
    for (const d of resources)
      for (const item of pathsOf(d, this.schemas)) {
        const entry: Json = { parameters: item.params.map(v2Param) };
        for (const op of item.ops) entry[op.method] = v2Operation(op);
        paths[item.path] = entry;
      }
    const definitions: Json = {};
    for (const [name, s] of definitionsFor(resources, this.schemas))
      definitions[name] = rewriteRefs(s, '#/definitions/', false);
    const body = JSON.stringify({
      swagger: '2.0',
      info: { title: 'Kubernetes', version: this.versionString },
      paths,
      definitions,
      securityDefinitions: {
        BearerToken: {
          type: 'apiKey',
          name: 'authorization',
          in: 'header',
          description: 'Bearer token authentication',
        },
      },
      security: [{ BearerToken: [] }],
    });
    this.v2 = { body, etag: `"${hashOf(body)}"` };
    return this.v2;
  }

  /** The same document as v2Document, in protobuf. */
  v2ProtoDocument(): CachedDoc {
    const json = this.v2Document();
    if (this.v2Proto) return this.v2Proto;
    const body = encodeOpenApiV2(JSON.parse(String(json.body)) as Json);
    // The JSON document's ETag serves both, as kube-openapi's does: the response varies by Accept.
    this.v2Proto = { body, etag: json.etag };
    return this.v2Proto;
  }
}
