// The generic REST store: one implementation of every verb for every described kind, with the
// per-kind strategy hooks, the status and scale subresources, deletion semantics (finalizers,
// graceful deletion, propagation), dry runs, field validation and version conversion.
import { KindCache } from './admission/access.js';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify as yamlStringify } from 'yaml';
import type { KubeObject } from '../api/meta.js';
import { apiVersionOf, isPlainObject, parseApiVersion } from '../api/meta.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  fieldErr,
  forbidden,
  gone,
  internalError,
  invalid,
  notAcceptable,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
  StatusError,
  type FieldError,
  type Status,
} from '../api/errors.js';
import type { SchemaRegistry } from '../api/schema.js';
import type { ResourceDescription } from '../api/types.js';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  InvalidInputError,
  KeyExistsError,
  KeyNotFoundError,
} from '../storage/errors.js';
import type { KeyValue, Store } from '../storage/types.js';
import {
  notifyCommitted,
  runAdmission,
  runValidation,
  type AdmissionPlugin,
  type AdmissionRequest,
} from './admission.js';
import { decodeJson, decodeObjectBody, decodeYaml, type ParsedBody } from './body.js';
import { protoNameOfSchemaRef } from './protobuf/decode.js';
import {
  decodeContinue,
  encodeContinue,
  fieldValue,
  parseDryRun,
  parseFieldValidation,
  parseListOptions,
  parseResourceVersionNumber,
  type FieldValidation,
  type ListOptions,
} from './list-options.js';
import {
  cloneObject,
  dropEmptyMetadata,
  encodeForStorage,
  generateName,
  getPath,
  nowTimestamp,
  qualifiedResource,
  sameContent,
  setPath,
  specChanged,
  toServed,
  toStorage,
  withResourceVersion,
} from './objects.js';
import { applyPatchBody, patchTypeOf, type PatchType } from './patch-dispatch.js';
import {
  applyServerSide,
  managerOrUserAgent,
  updateManagedFields,
  validateFieldManager,
  validatePatchOptions,
} from './patch/index.js';
import type { RequestInfo, UserInfo } from './request-info.js';
import type { CreateHandler } from './reviews.js';
import type { Allocator } from './service-allocator.js';
import { storageKey, storagePrefix, verbsOf, type ResourceRegistry } from './resource-registry.js';
import {
  buildTable,
  negotiateOutput,
  partialObjectMetadata,
  type IncludeObject,
  type NegotiatedOutput,
} from './table.js';
import { pruneUnknownFields } from './unknown-fields.js';
import { typeMismatch } from './type-check.js';
import { bindPod, evictPod, type PodStorage } from './pod-subresources.js';
import {
  uniqueFieldErrors,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from '../api/validation/objectmeta.js';
import { WatchCache } from './watch-cache.js';
import { serveWatch } from './watch.js';

export interface Reply {
  readonly status: number;
  /** A JSON string already, or a value to serialise. */
  readonly body: string | object;
  readonly contentType?: string;
  readonly warnings?: readonly string[];
}

export interface RestRequest {
  readonly info: RequestInfo;
  readonly desc: ResourceDescription;
  readonly user: UserInfo;
  readonly query: URLSearchParams;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: () => Promise<Buffer>;
}

export interface RestDeps {
  readonly store: Store;
  readonly registry: ResourceRegistry;
  readonly schemas: SchemaRegistry;
  readonly admission: readonly AdmissionPlugin[];
  readonly watchCache: WatchCache;
  /** Bookmark interval for watches (ms). */
  readonly bookmarkIntervalMs: number;
  /** Per-watcher cap on unsent bytes before the watcher is closed. */
  readonly watchBufferLimitBytes: number;
  /** Allocation of cluster-unique values (Service IPs and node ports), keyed 'group/Kind'. */
  readonly allocators: Readonly<Record<string, Allocator>>;
  /** Never-stored kinds answered by a handler, keyed 'group/Kind'. */
  readonly createHandlers: Readonly<Record<string, CreateHandler>>;
}

const NAMESPACE_TERMINATING_PHASE = 'Terminating';
const FINALIZER_ORPHAN = 'orphan';
const FINALIZER_FOREGROUND = 'foregroundDeletion';
const GENERATE_NAME_RETRIES = 8;

function successStatus(details: Record<string, unknown>): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}

function statusFrom(code: number, reason: Status['reason'], message: string): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
}

/** Maps storage errors to API statuses for one resource and name. */
export function mapStorageError(err: unknown, desc: ResourceDescription, name: string): StatusError {
  if (err instanceof StatusError) return err;
  const qr = qualifiedResource(desc);
  if (err instanceof KeyExistsError) return alreadyExists(qr, name);
  if (err instanceof KeyNotFoundError) return notFound(qr, name);
  if (err instanceof ConflictError) return conflict(qr, name, OPTIMISTIC_LOCK_MESSAGE);
  if (err instanceof InvalidInputError) return notFound(qr, name);
  if (err instanceof InvalidInputError) return notFound(qr, name);
  if (err instanceof CompactedError)
    return gone(`too old resource version: ${err.requested} (${err.compacted})`);
  if (err instanceof FutureRevisionError)
    return new StatusError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `Timeout: Too large resource version: ${err.requested}, current: ${err.current}`,
      reason: 'Timeout',
      details: {
        causes: [{ reason: 'ResourceVersionTooLarge', message: `Too large resource version` }],
        retryAfterSeconds: 1,
      },
      code: 504,
    });
  return internalError(err);
}

interface DecodedWrite {
  obj: KubeObject;
  warnings: string[];
}

export class RestHandler {
  /** Namespaces, read on every create (upstream's NamespaceLifecycle reads its informer's cache). */
  private namespaces: KindCache | undefined;

  constructor(private readonly deps: RestDeps) {}

  close(): void {
    this.namespaces?.close();
    this.namespaces = undefined;
  }

  /** The protobuf message of a kind this server serves (for protobuf request bodies). */
  readonly protoMessageFor = (apiVersion: string, kind: string): string | undefined => {
    if (kind === 'DeleteOptions') return 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions';
    if (apiVersion === 'autoscaling/v1' && kind === 'Scale') return 'k8s.io.api.autoscaling.v1.Scale';
    const { group, version } = parseApiVersion(apiVersion);
    const d = this.deps.registry.byKind(group, kind, version);
    return d ? protoNameOfSchemaRef(d.schemaRef) : undefined;
  };

  async handle(r: RestRequest): Promise<Reply | undefined> {
    const { info, desc } = r;
    const verbs = verbsOf(r.desc);
    const sub = info.subresource;
    const isPod = desc.group === '' && desc.kind === 'Pod';
    if ((sub === 'binding' || sub === 'eviction') && isPod) {
      if (info.verb !== 'create') throw methodNotAllowed();
      return this.podSubresource(r, sub);
    }
    if (
      sub !== '' &&
      sub !== 'status' &&
      sub !== 'scale' &&
      !(sub === 'finalize' && desc.kind === 'Namespace' && desc.group === '')
    )
      throw notFoundResource();
    if (sub === 'status' && !desc.subresources?.status) throw notFoundResource();
    if (sub === 'scale' && !desc.subresources?.scale) throw notFoundResource();
    if (info.extraParts.length) throw notFoundResource();
    if (!desc.namespaced && info.namespace !== '' && !(desc.kind === 'Namespace' && desc.group === ''))
      throw notFoundResource();
    const method = r.req.method ?? 'GET';
    switch (info.verb) {
      case 'get':
        if (!verbs.includes('get')) throw methodNotAllowed();
        if (sub === 'scale') return this.getScale(r);
        return this.get(r);
      case 'list':
        if (sub !== '') throw methodNotAllowed();
        if (!verbs.includes('list')) throw methodNotAllowed();
        return this.list(r);
      case 'watch':
        if (!verbs.includes('watch')) throw methodNotAllowed();
        await serveWatch(this.deps, r, parseListOptions(desc, withNameSelector(r)));
        return undefined;
      case 'create':
        if (info.name !== '' || !verbs.includes('create')) throw methodNotAllowed();
        return this.create(r);
      case 'update':
        if (info.name === '' || !verbs.includes('update')) throw methodNotAllowed();
        if (sub === 'scale') return this.updateScale(r);
        return this.update(r);
      case 'patch':
        if (info.name === '' || !verbs.includes('patch')) throw methodNotAllowed();
        return this.patch(r);
      case 'delete':
        if (sub !== '' || !verbs.includes('delete')) throw methodNotAllowed();
        return this.delete(r);
      case 'deletecollection':
        if (sub !== '' || !verbs.includes('deletecollection')) throw methodNotAllowed();
        return this.deleteCollection(r);
      default:
        void method;
        throw methodNotAllowed();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // pods/binding and pods/eviction

  private async podSubresource(r: RestRequest, sub: 'binding' | 'eviction'): Promise<Reply> {
    const raw = await r.body();
    const body = raw.length
      ? decodeObjectBody(raw, r.req.headers['content-type'], this.protoMessageFor).value
      : {};
    const storage: PodStorage = {
      store: this.deps.store,
      pods: r.desc,
      pdbs: this.deps.registry.byKind('policy', 'PodDisruptionBudget', 'v1'),
      read: (d, ns, name) => this.read(d, ns, name),
      decode: (d, kv) => this.decode(d, kv),
      deletePod: async (ns, name, options) => {
        const opts = deleteOptionsFrom(options, new URLSearchParams());
        await this.deleteOne(r, ns, name, opts);
      },
    };
    const { namespace, name } = r.info;
    const status =
      sub === 'binding'
        ? await bindPod(storage, namespace, name, body, parseDryRun(r.query, 'CreateOptions'))
        : await evictPod(storage, namespace, name, body);
    return { status: status.code, body: status };
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  private key(desc: ResourceDescription, ns: string, name: string): string {
    return storageKey(desc, ns, name);
  }

  private async read(desc: ResourceDescription, ns: string, name: string): Promise<KeyValue> {
    let kv: KeyValue | undefined;
    try {
      kv = await this.deps.store.get(this.key(desc, ns, name));
    } catch (err) {
      throw mapStorageError(err, desc, name);
    }
    if (!kv) throw notFound(qualifiedResource(desc), name);
    return kv;
  }

  private decode(desc: ResourceDescription, kv: KeyValue): KubeObject {
    const obj = JSON.parse(kv.value) as KubeObject;
    obj.metadata = obj.metadata ?? {};
    obj.metadata.resourceVersion = String(kv.modRevision);
    return toServed(desc, obj);
  }

  private output(r: RestRequest, list: boolean): NegotiatedOutput {
    const out = negotiateOutput(r.req.headers.accept, list);
    if (!out)
      throw notAcceptable(`only the following media types are accepted: application/json, application/yaml`);
    return out;
  }

  private render(
    r: RestRequest,
    status: number,
    obj: KubeObject,
    stored?: KeyValue,
    warnings?: string[],
  ): Reply {
    const out = this.output(r, false);
    if (out.as === 'Table') {
      const table = buildTable(
        r.desc,
        [obj],
        { resourceVersion: obj.metadata.resourceVersion },
        {
          includeObject: includeObjectOf(r.query),
          version: out.version ?? 'v1',
        },
      );
      return { status, body: table, contentType: out.contentType, warnings };
    }
    if (out.as === 'PartialObjectMetadata')
      return {
        status,
        body: partialObjectMetadata(obj, out.version),
        contentType: out.contentType,
        warnings,
      };
    if (out.contentType === 'application/yaml')
      return { status, body: yamlStringify(obj), contentType: out.contentType, warnings };
    const body =
      stored && !r.desc.conversion
        ? withResourceVersion(stored.value, stored.modRevision)
        : JSON.stringify(obj);
    return { status, body, contentType: 'application/json', warnings };
  }

  private async get(r: RestRequest): Promise<Reply> {
    const { desc, info } = r;
    const kv = await this.read(desc, info.namespace, info.name);
    const out = negotiateOutput(r.req.headers.accept, false);
    if (out && out.as === undefined && out.contentType === 'application/json' && !desc.conversion)
      return {
        status: 200,
        body: withResourceVersion(kv.value, kv.modRevision),
        contentType: 'application/json',
        warnings: deprecation(desc),
      };
    return this.render(r, 200, this.decode(desc, kv), kv, deprecation(desc));
  }

  private async list(r: RestRequest): Promise<Reply> {
    const { desc, info } = r;
    const opts = parseListOptions(desc, r.query);
    const page = await this.listObjects(desc, info.namespace, opts);
    const out = this.output(r, true);
    const listMeta: Record<string, unknown> = { resourceVersion: String(page.revision) };
    if (page.continueToken) listMeta.continue = page.continueToken;
    if (page.remaining !== undefined && page.remaining > 0) listMeta.remainingItemCount = page.remaining;
    const warnings = deprecation(desc);
    if (out.as === 'Table') {
      const objs = page.items.map((kv) => this.decode(desc, kv));
      const table = buildTable(desc, objs, listMeta, {
        includeObject: includeObjectOf(r.query),
        version: out.version ?? 'v1',
      });
      return { status: 200, body: table, contentType: out.contentType, warnings };
    }
    if (out.as === 'PartialObjectMetadataList') {
      return {
        status: 200,
        body: {
          kind: 'PartialObjectMetadataList',
          apiVersion: `meta.k8s.io/${out.version ?? 'v1'}`,
          metadata: listMeta,
          items: page.items.map((kv) => partialObjectMetadata(this.decode(desc, kv), out.version)),
        },
        contentType: out.contentType,
        warnings,
      };
    }
    const apiVersion = apiVersionOf(desc.group, desc.version);
    if (out.contentType === 'application/yaml') {
      const list = {
        apiVersion,
        kind: `${desc.kind}List`,
        metadata: listMeta,
        items: page.items.map((kv) => this.decode(desc, kv)),
      };
      return { status: 200, body: yamlStringify(list), contentType: out.contentType, warnings };
    }
    const items = desc.conversion
      ? page.items.map((kv) => JSON.stringify(this.decode(desc, kv)))
      : page.items.map((kv) => withResourceVersion(kv.value, kv.modRevision));
    const body = `{"kind":${JSON.stringify(`${desc.kind}List`)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":${JSON.stringify(listMeta)},"items":[${items.join(',')}]}`;
    return { status: 200, body, contentType: 'application/json', warnings };
  }

  /** A list read with selectors, paging and resourceVersion semantics; items are raw stored values. */
  async listObjects(
    desc: ResourceDescription,
    namespace: string,
    opts: ListOptions,
  ): Promise<{ items: KeyValue[]; revision: number; continueToken?: string; remaining?: number }> {
    const base = storagePrefix(desc);
    const prefix = desc.namespaced && namespace !== '' ? `${base}${namespace}/` : base;
    let revision: number | undefined;
    let after: string | undefined;
    if (opts.continueToken) {
      const c = decodeContinue(opts.continueToken);
      revision = c.revision;
      after = base + c.after;
      if (!after.startsWith(prefix))
        throw badRequest('continue key is not valid: key is outside the requested range');
    } else if (
      opts.resourceVersion !== undefined &&
      opts.resourceVersion !== '' &&
      opts.resourceVersion !== '0'
    ) {
      const rv = parseResourceVersionNumber(opts.resourceVersion);
      const exact =
        opts.resourceVersionMatch === 'Exact' || (opts.resourceVersionMatch === undefined && opts.limit > 0);
      const current = await this.deps.store.currentRevision();
      if (rv > current) throw mapStorageError(new FutureRevisionError(rv, current), desc, '');
      if (exact) revision = rv;
    }
    const filtered = !opts.labelSelector.empty || !opts.fieldSelector.empty;
    const matches = (kv: KeyValue): boolean => {
      if (!filtered) return true;
      const obj = this.decode(desc, kv);
      return (
        opts.labelSelector.matches(obj.metadata.labels) &&
        opts.fieldSelector.matches((f) => fieldValue(desc, obj, f))
      );
    };
    const items: KeyValue[] = [];
    let more = false;
    let remaining = 0;
    let lastKey: string | undefined;
    for (;;) {
      const want = opts.limit > 0 ? Math.max(opts.limit - items.length, filtered ? 100 : 0) : 0;
      let res;
      try {
        res = await this.deps.store.list(prefix, { limit: want || undefined, after, revision });
      } catch (err) {
        if (err instanceof CompactedError) {
          if (opts.continueToken)
            throw gone(
              'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
            );
          throw gone(`The resourceVersion for the provided list is too old.`);
        }
        throw mapStorageError(err, desc, '');
      }
      revision = res.revision;
      for (const kv of res.items) {
        lastKey = kv.key;
        if (!matches(kv)) continue;
        items.push(kv);
        if (opts.limit > 0 && items.length >= opts.limit) break;
      }
      const consumedAll = lastKey === res.items[res.items.length - 1]?.key;
      if (opts.limit > 0 && items.length >= opts.limit) {
        more = res.more || !consumedAll;
        remaining = consumedAll
          ? res.remaining
          : res.remaining + res.items.length - res.items.findIndex((kv) => kv.key === lastKey) - 1;
        break;
      }
      if (!res.more || res.items.length === 0) break;
      after = res.items[res.items.length - 1]!.key;
    }
    const out: { items: KeyValue[]; revision: number; continueToken?: string; remaining?: number } = {
      items,
      revision: revision ?? 0,
    };
    if (more && lastKey) {
      out.continueToken = encodeContinue(out.revision, lastKey.slice(base.length));
      if (!filtered) out.remaining = remaining;
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Writes: decoding, validation, admission

  private async decodeWrite(
    r: RestRequest,
    optionsKind: string,
    expectKind: string,
    expectApiVersion: string,
  ): Promise<DecodedWrite> {
    const raw = await r.body();
    const ct = r.req.headers['content-type'];
    const fv = parseFieldValidation(r.query, optionsKind);
    const parsed = decodeObjectBody(raw, ct, this.protoMessageFor);
    return this.checkDecoded(parsed, fv, r.desc, expectKind, expectApiVersion, true);
  }

  private checkDecoded(
    parsed: ParsedBody,
    fv: FieldValidation,
    desc: ResourceDescription,
    expectKind: string,
    expectApiVersion: string,
    wrapStrict: boolean,
    schemaRef = desc.schemaRef,
  ): DecodedWrite {
    const value = parsed.value;
    if (!isPlainObject(value)) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(value)}'`);
    const obj = value as KubeObject;
    if (obj.apiVersion === undefined || obj.apiVersion === '') obj.apiVersion = expectApiVersion;
    if (obj.kind === undefined || obj.kind === '') obj.kind = expectKind;
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string')
      throw badRequest('apiVersion and kind must be strings');
    if (obj.apiVersion !== expectApiVersion) {
      const expected = parseApiVersion(expectApiVersion);
      const got = parseApiVersion(obj.apiVersion);
      if (got.group !== expected.group || !this.deps.registry.hasGroupVersion(got.group, got.version))
        throw badRequest(
          `the API version in the data (${obj.apiVersion}) does not match the expected API version (${expectApiVersion})`,
        );
      // Another served version of the same group: convert through storage.
      const other = this.deps.registry.byKind(got.group, obj.kind, got.version);
      if (!other)
        throw badRequest(
          `the API version in the data (${obj.apiVersion}) does not match the expected API version (${expectApiVersion})`,
        );
      const stored = toStorage(other, obj);
      const converted = toServed(desc, stored);
      Object.assign(obj, converted);
    }
    if (obj.kind !== expectKind)
      throw badRequest(
        `${obj.kind} in version "${parseApiVersion(expectApiVersion).version}" cannot be handled as a ${expectKind}: no kind "${obj.kind}" is registered for version "${expectApiVersion}"`,
      );
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (!isPlainObject(obj.metadata))
      throw badRequest(
        `${expectKind} in version "${parseApiVersion(expectApiVersion).version}" cannot be handled as a ${expectKind}: metadata must be an object`,
      );
    const warnings: string[] = [];
    const mismatch = typeMismatch(obj, schemaRef, this.deps.schemas);
    if (mismatch)
      throw badRequest(
        `${expectKind} in version "${parseApiVersion(expectApiVersion).version}" cannot be handled as a ${expectKind}: ${mismatch}`,
      );
    const unknown = pruneUnknownFields(obj, schemaRef, this.deps.schemas);
    if (fv !== 'Ignore') {
      const problems = [
        ...parsed.duplicates.map((p) => `duplicate field "${p}"`),
        ...unknown.map((p) => `unknown field "${p}"`),
      ];
      if (problems.length) {
        if (fv === 'Strict') {
          const msg = `strict decoding error: ${problems.join(', ')}`;
          throw badRequest(
            wrapStrict
              ? `${expectKind} in version "${parseApiVersion(expectApiVersion).version}" cannot be handled as a ${expectKind}: ${msg}`
              : msg,
          );
        }
        warnings.push(...problems);
      }
    }
    return { obj, warnings };
  }

  /** Metadata checks with the kind's name rule (upstream's ValidateObjectMeta), before the strategy's. */
  private validateMeta(desc: ResourceDescription, obj: KubeObject): FieldError[] {
    return validateObjectMeta(obj.metadata, { namespaced: desc.namespaced, nameRule: desc.nameRule });
  }

  private async checkNamespace(desc: ResourceDescription, ns: string, name: string): Promise<void> {
    if (!desc.namespaced) return;
    const nsDesc = this.deps.registry.byKind('', 'Namespace', 'v1');
    if (!nsDesc) return;
    const key = storageKey(nsDesc, '', ns);
    this.namespaces ??= new KindCache(this.deps.store, nsDesc, (value) => JSON.parse(value) as KubeObject);
    // A miss is looked up in the store: with etcd the cache may not have seen a namespace just created.
    let nsObj = await this.namespaces.get(key);
    if (!nsObj) {
      const kv = await this.deps.store.get(key);
      if (!kv) throw notFound({ group: '', resource: 'namespaces' }, ns);
      nsObj = JSON.parse(kv.value) as KubeObject;
    }
    const phase = isPlainObject(nsObj.status) ? nsObj.status.phase : undefined;
    if (nsObj.metadata.deletionTimestamp || phase === NAMESPACE_TERMINATING_PHASE)
      throw forbidden(
        qualifiedResource(desc),
        name,
        `unable to create new content in namespace ${ns} because it is being terminated`,
      );
  }

  private admissionRequest(
    r: RestRequest,
    operation: AdmissionRequest['operation'],
    name: string,
    object: KubeObject | undefined,
    oldObject: KubeObject | undefined,
    dryRun: boolean,
  ): AdmissionRequest {
    return {
      operation,
      resource: r.desc,
      subresource: r.info.subresource,
      namespace: r.info.namespace,
      name,
      object,
      oldObject,
      user: r.user,
      dryRun,
    };
  }

  private async create(r: RestRequest): Promise<Reply> {
    const { desc, info } = r;
    const dryRun = parseDryRun(r.query, 'CreateOptions');
    const decoded = await this.decodeWrite(
      r,
      'CreateOptions',
      desc.kind,
      apiVersionOf(desc.group, desc.version),
    );
    const obj = decoded.obj;
    const handler = this.deps.createHandlers[`${desc.group}/${desc.kind}`];
    if (handler) {
      if (desc.namespaced) obj.metadata.namespace = info.namespace;
      const answered = await handler(obj, { user: r.user, namespace: info.namespace, desc, req: r.req });
      return { status: 201, body: answered, warnings: decoded.warnings };
    }
    const reply = await this.createObject(r, obj, dryRun);
    return { ...reply, warnings: [...decoded.warnings, ...(reply.warnings ?? [])] };
  }

  /** The create path after decoding (shared by POST and server-side apply of a new object). */
  private async createObject(
    r: RestRequest,
    input: KubeObject,
    dryRun: boolean,
    track = true,
  ): Promise<Reply> {
    const { desc, info } = r;
    const fmErrs = validateFieldManager(r.query.get('fieldManager') ?? undefined);
    if (fmErrs.length) throw invalid('CreateOptions', 'meta.k8s.io', '', fmErrs);
    const obj = input;
    const meta = obj.metadata;
    if (desc.namespaced) {
      if (meta.namespace && info.namespace && meta.namespace !== info.namespace)
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      if (!meta.namespace) meta.namespace = info.namespace;
    } else delete meta.namespace;
    if (meta.resourceVersion)
      throw statusFrom(500, '', 'resourceVersion should not be set on objects to be created');
    const generated = !meta.name && !!meta.generateName;
    if (generated) meta.name = generateName(meta.generateName!);
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (this.hasSpec(desc)) meta.generation = 1;
    else delete meta.generation;
    // Kinds whose strategy prepares creates decide about status themselves (a Node keeps the status
    // its kubelet registers with); for the rest, status is the server's to write.
    if (desc.subresources?.status && !desc.strategy?.prepareForCreate) delete obj.status;
    // Upstream's order: defaults, mutating admission (namespace lifecycle first), the strategy's
    // prepare and validate, validating admission, then allocation of what the kind needs.
    const st = desc.strategy;
    st?.default?.(obj);
    const name = meta.name ?? '';
    await this.checkNamespace(desc, meta.namespace ?? '', name);
    // Upstream records the managed fields before mutating admission and the create strategy:
    // what admission adds (a token volume, a priority) is nobody's.
    // (updateManagedFields copies what it changes: obj itself is left as it is.)
    const managed = track ? this.trackManagedFields(r, undefined, obj).metadata.managedFields : undefined;
    const adm = this.admissionRequest(r, 'CREATE', name, obj, undefined, dryRun);
    await runAdmission(this.deps.admission, adm);
    st?.prepareForCreate?.(obj);
    dropEmptyMetadata(obj.metadata);
    const errs = uniqueFieldErrors([...this.validateMeta(desc, obj), ...(st?.validate?.(obj) ?? [])]);
    if (errs.length) throw invalid(desc.kind, desc.group, obj.metadata.name ?? '', errs);
    await runValidation(this.deps.admission, adm);
    if (track) {
      if (managed?.length) obj.metadata.managedFields = managed;
      else delete obj.metadata.managedFields;
    }
    await this.deps.allocators[`${desc.group}/${desc.kind}`]?.beforeCreate(obj, dryRun);
    if (dryRun) return this.render(r, 201, obj, undefined, deprecation(desc));
    const storageObj = toStorage(desc, obj);
    for (let attempt = 0; ; attempt++) {
      const key = this.key(desc, obj.metadata.namespace ?? '', obj.metadata.name!);
      try {
        const value = encodeForStorage(storageObj);
        const kv = await this.deps.store.create(key, value);
        obj.metadata.resourceVersion = String(kv.modRevision);
        notifyCommitted(this.deps.admission, { ...adm, name: obj.metadata.name!, object: obj }, false);
        return this.render(r, 201, obj, kv, deprecation(desc));
      } catch (err) {
        if (err instanceof KeyExistsError && generated && attempt < GENERATE_NAME_RETRIES) {
          const fresh = generateName(obj.metadata.generateName!);
          obj.metadata.name = fresh;
          storageObj.metadata.name = fresh;
          continue;
        }
        throw mapStorageError(err, desc, obj.metadata.name!);
      }
    }
  }

  private hasSpec(desc: ResourceDescription): boolean {
    const s = this.deps.schemas.get(desc.schemaRef);
    return !!s?.properties?.spec;
  }

  private async update(r: RestRequest): Promise<Reply> {
    const { desc, info } = r;
    const dryRun = parseDryRun(r.query, 'UpdateOptions');
    const decoded = await this.decodeWrite(
      r,
      'UpdateOptions',
      desc.kind,
      apiVersionOf(desc.group, desc.version),
    );
    const obj = decoded.obj;
    if (obj.metadata.name && obj.metadata.name !== info.name)
      throw badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${info.name})`,
      );
    obj.metadata.name = info.name;
    if (desc.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== info.namespace)
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      obj.metadata.namespace = info.namespace;
    }
    const reply = await this.updateObject(r, () => obj, dryRun, obj.metadata.resourceVersion || undefined);
    return { ...reply, warnings: [...decoded.warnings, ...(reply.warnings ?? [])] };
  }

  /**
   * The read-modify-write loop of every update: `produce` gets the current object (served version)
   * and returns the desired one. Without a precondition, a racing write makes it retry.
   */
  private async updateObject(
    r: RestRequest,
    produce: (current: KubeObject) => KubeObject,
    dryRun: boolean,
    precondition: string | undefined,
    track = true,
  ): Promise<Reply> {
    const { desc, info } = r;
    const qr = qualifiedResource(desc);
    if (track) {
      const fmErrs = validateFieldManager(r.query.get('fieldManager') ?? undefined);
      if (fmErrs.length)
        throw invalid(info.verb === 'patch' ? 'PatchOptions' : 'UpdateOptions', 'meta.k8s.io', '', fmErrs);
    }
    for (let attempt = 0; attempt < 16; attempt++) {
      const kv = await this.read(desc, info.namespace, info.name);
      const current = this.decode(desc, kv);
      const desired = produce(cloneObject(current));
      const wantRv =
        precondition ??
        (desired.metadata.resourceVersion !== current.metadata.resourceVersion
          ? desired.metadata.resourceVersion
          : undefined);
      if (wantRv && wantRv !== String(kv.modRevision)) throw conflict(qr, info.name, OPTIMISTIC_LOCK_MESSAGE);
      // Mutating admission sees the object as sent (defaulted); the strategy then carries over
      // what the client may not change and validates; validating admission sees the result.
      if (info.subresource === '') desc.strategy?.default?.(desired);
      await runAdmission(
        this.deps.admission,
        this.admissionRequest(r, 'UPDATE', info.name, desired, current, dryRun),
      );
      let next = this.prepareUpdate(r, desired, current);
      if (sameContent(stripRv(next), stripRv(current)))
        return this.render(r, 200, current, kv, deprecation(desc));
      if (track) next = this.trackManagedFields(r, current, next);
      if (sameContent(stripRv(next), stripRv(current)))
        return this.render(r, 200, current, kv, deprecation(desc));
      await runValidation(
        this.deps.admission,
        this.admissionRequest(r, 'UPDATE', info.name, next, current, dryRun),
      );
      await this.deps.allocators[`${desc.group}/${desc.kind}`]?.beforeUpdate(next, current, dryRun);
      const finalizing =
        !!next.metadata.deletionTimestamp &&
        !next.metadata.finalizers?.length &&
        !namespaceFinalizersPending(desc, next);
      if (dryRun) return this.render(r, 200, next, undefined, deprecation(desc));
      const key = this.key(desc, info.namespace, info.name);
      try {
        const committed = this.admissionRequest(r, 'UPDATE', info.name, next, current, false);
        if (finalizing) {
          await this.deps.store.delete(key, kv.modRevision);
          notifyCommitted(this.deps.admission, committed, true);
          return this.render(r, 200, next, undefined, deprecation(desc));
        }
        const stored = await this.deps.store.update(
          key,
          encodeForStorage(toStorage(desc, next)),
          kv.modRevision,
        );
        next.metadata.resourceVersion = String(stored.modRevision);
        notifyCommitted(this.deps.admission, committed, false);
        return this.render(r, 200, next, stored, deprecation(desc));
      } catch (err) {
        if (err instanceof ConflictError && !wantRv) continue;
        if (err instanceof KeyNotFoundError && !wantRv) continue;
        throw mapStorageError(err, desc, info.name);
      }
    }
    throw conflict(qr, info.name, OPTIMISTIC_LOCK_MESSAGE);
  }

  /** Carries over what a client may not change, applies the strategy and validates. */
  private prepareUpdate(r: RestRequest, desired: KubeObject, current: KubeObject): KubeObject {
    const { desc, info } = r;
    const st = desc.strategy;
    let next: KubeObject;
    if (info.subresource === 'status') {
      next = cloneObject(current);
      if (desired.status === undefined) delete next.status;
      else next.status = desired.status;
      st?.prepareForStatusUpdate?.(next, current);
    } else if (info.subresource === 'finalize') {
      next = cloneObject(current);
      const spec = isPlainObject(desired.spec) ? desired.spec : {};
      next.spec = { ...(isPlainObject(current.spec) ? current.spec : {}), finalizers: spec.finalizers ?? [] };
    } else {
      next = desired;
      if (desc.subresources?.status) {
        if (current.status === undefined) delete next.status;
        else next.status = current.status;
      }
      st?.default?.(next);
      st?.prepareForUpdate?.(next, current);
    }
    const m = next.metadata;
    const c = current.metadata;
    m.name = c.name;
    if (desc.namespaced) m.namespace = c.namespace;
    else delete m.namespace;
    m.uid = c.uid;
    m.creationTimestamp = c.creationTimestamp;
    if (c.deletionTimestamp) m.deletionTimestamp = c.deletionTimestamp;
    else delete m.deletionTimestamp;
    if (c.deletionGracePeriodSeconds !== undefined)
      m.deletionGracePeriodSeconds = c.deletionGracePeriodSeconds;
    else delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    if (c.generation !== undefined) {
      m.generation = c.generation;
      if ((info.subresource === '' || info.subresource === 'scale') && specChanged(next, current))
        m.generation = c.generation + 1;
    } else delete m.generation;
    m.resourceVersion = c.resourceVersion;
    dropEmptyMetadata(m);
    const own =
      info.subresource === 'status'
        ? (st?.validateStatusUpdate?.(next, current) ?? [])
        : info.subresource === ''
          ? (st?.validateUpdate?.(next, current) ?? st?.validate?.(next) ?? [])
          : [];
    const errs = uniqueFieldErrors([...validateObjectMetaUpdate(next.metadata, current.metadata), ...own]);
    if (errs.length) throw invalid(desc.kind, desc.group, info.name, errs);
    return next;
  }

  private async patch(r: RestRequest): Promise<Reply> {
    const { desc, info } = r;
    const dryRun = parseDryRun(r.query, 'PatchOptions');
    const fv = parseFieldValidation(r.query, 'PatchOptions');
    const type = patchTypeOf(r.req.headers['content-type']);
    const raw = (await r.body()).toString('utf8');
    const parsed = type === 'apply' ? decodeYaml(raw) : decodeJson(raw);
    if (parsed.value === null || parsed.value === undefined)
      throw badRequest('the body of the request was empty');
    const warnings: string[] = [];
    if (parsed.duplicates.length && fv !== 'Ignore') {
      const problems = parsed.duplicates.map((p) => `duplicate field "${p}"`);
      if (fv === 'Strict') throw badRequest(`strict decoding error: ${problems.join(', ')}`);
      warnings.push(...problems);
    }
    if (type === 'apply') return this.applyPatch(r, parsed, fv, dryRun, warnings);
    const optionsError = validatePatchOptions(type, {
      fieldManager: r.query.get('fieldManager') ?? undefined,
      force: forceParam(r.query),
    });
    if (optionsError) throw optionsError;
    const patchPrecondition = preconditionInPatch(type, parsed.value);
    const isScale = info.subresource === 'scale';
    const reply = await this.updateObject(
      r,
      (current) => {
        const base = isScale ? this.scaleOf(desc, current) : current;
        const patched = this.runPatch(
          type,
          base,
          parsed.value,
          isScale ? 'io.k8s.api.autoscaling.v1.Scale' : desc.schemaRef,
        );
        const mismatch = typeMismatch(
          patched,
          isScale ? 'io.k8s.api.autoscaling.v1.Scale' : desc.schemaRef,
          this.deps.schemas,
        );
        if (mismatch) throw badRequest(mismatch);
        const unknown = pruneUnknownFields(
          patched,
          isScale ? 'io.k8s.api.autoscaling.v1.Scale' : desc.schemaRef,
          this.deps.schemas,
        ).map((p) => `unknown field "${p}"`);
        if (fv !== 'Ignore') {
          if (unknown.length) {
            if (fv === 'Strict') throw badRequest(`strict decoding error: ${unknown.join(', ')}`);
            for (const u of unknown) if (!warnings.includes(u)) warnings.push(u);
          }
        }
        if (!isPlainObject(patched.metadata)) patched.metadata = {};
        if (isScale) return this.applyScale(desc, current, patched);
        patched.apiVersion = current.apiVersion;
        patched.kind = current.kind;
        return patched;
      },
      dryRun,
      patchPrecondition,
    );
    if (isScale) {
      const obj =
        typeof reply.body === 'string' ? (JSON.parse(reply.body) as KubeObject) : (reply.body as KubeObject);
      return {
        status: reply.status,
        body: this.scaleOf(desc, obj),
        warnings: [...warnings, ...(reply.warnings ?? [])],
      };
    }
    return { ...reply, warnings: [...warnings, ...(reply.warnings ?? [])] };
  }

  private runPatch(
    type: Exclude<PatchType, 'apply'>,
    current: KubeObject,
    patch: unknown,
    schemaRef: string,
  ): KubeObject {
    try {
      return applyPatchBody(type, current, patch, { schemaRef, schemas: this.deps.schemas });
    } catch (err) {
      if (err instanceof StatusError) throw err;
      throw badRequest(err instanceof Error ? err.message : String(err));
    }
  }

  private async applyPatch(
    r: RestRequest,
    parsed: ParsedBody,
    fv: FieldValidation,
    dryRun: boolean,
    warnings: string[],
  ): Promise<Reply> {
    const { desc, info } = r;
    const fieldManager = r.query.get('fieldManager') ?? undefined;
    const force = forceParam(r.query);
    const optionsError = validatePatchOptions('apply', { fieldManager, force });
    if (optionsError) throw optionsError;
    if (!isPlainObject(parsed.value)) throw badRequest('the body of the request was not a YAML object');
    const applied = parsed.value as KubeObject;
    if (!isPlainObject(applied.metadata)) applied.metadata = {};
    if (applied.metadata.name && applied.metadata.name !== info.name)
      throw badRequest(
        `the name of the object (${applied.metadata.name}) does not match the name on the URL (${info.name})`,
      );
    if (desc.namespaced && applied.metadata.namespace && applied.metadata.namespace !== info.namespace)
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    const apiVersion = apiVersionOf(desc.group, desc.version);
    const isScale = info.subresource === 'scale';
    const schemaRef = isScale ? 'io.k8s.api.autoscaling.v1.Scale' : desc.schemaRef;
    const resetFields = this.resetFieldsFor(desc, info.subresource);
    const ssa = (live: KubeObject | undefined): KubeObject =>
      applyServerSide({
        live,
        applied,
        manager: fieldManager!,
        force: force ?? false,
        schemaRef,
        schemas: this.deps.schemas,
        apiVersion: isScale ? 'autoscaling/v1' : apiVersion,
        now: new Date(),
        subresource: info.subresource || undefined,
        resetFields,
      }).object;
    const exists = await this.deps.store.get(this.key(desc, info.namespace, info.name));
    if (!exists) {
      if (info.subresource !== '') throw notFound(qualifiedResource(desc), info.name);
      const created = ssa(undefined);
      created.metadata = { ...created.metadata, name: info.name };
      const reply = await this.createObject(r, created, dryRun, false);
      return { ...reply, warnings: [...warnings, ...(reply.warnings ?? [])] };
    }
    const reply = await this.updateObject(
      r,
      (current) => {
        const live = isScale ? this.scaleOf(desc, current) : current;
        const next = ssa(live);
        if (isScale) return this.applyScale(desc, current, next);
        next.metadata.resourceVersion = applied.metadata.resourceVersion || current.metadata.resourceVersion;
        return next;
      },
      dryRun,
      applied.metadata.resourceVersion || undefined,
      false,
    );
    void fv;
    if (isScale) {
      const obj =
        typeof reply.body === 'string' ? (JSON.parse(reply.body) as KubeObject) : (reply.body as KubeObject);
      return {
        status: reply.status,
        body: this.scaleOf(desc, obj),
        warnings: [...warnings, ...(reply.warnings ?? [])],
      };
    }
    return { ...reply, warnings: [...warnings, ...(reply.warnings ?? [])] };
  }

  /** Fields an endpoint resets, which managedFields must not record (status on the main resource). */
  private resetFieldsFor(desc: ResourceDescription, subresource: string): (readonly string[])[] | undefined {
    if (subresource === '' && desc.subresources?.status) return [['status']];
    if (subresource === 'status') return [['spec']];
    return undefined;
  }

  /** Records the write in metadata.managedFields, as upstream's field manager does. */
  private trackManagedFields(r: RestRequest, old: KubeObject | undefined, updated: KubeObject): KubeObject {
    if (r.info.subresource === 'scale' || r.info.subresource === 'finalize') return updated;
    const { desc } = r;
    return updateManagedFields({
      old,
      updated,
      manager: managerOrUserAgent(r.query.get('fieldManager') ?? undefined, r.req.headers['user-agent']),
      operation: 'Update',
      apiVersion: apiVersionOf(desc.group, desc.version),
      subresource: r.info.subresource || undefined,
      schemaRef: desc.schemaRef,
      schemas: this.deps.schemas,
      now: new Date(),
      resetFields: this.resetFieldsFor(desc, r.info.subresource),
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Scale

  private scaleOf(desc: ResourceDescription, obj: KubeObject): KubeObject {
    const scale = desc.subresources!.scale!;
    const spec = getPath(obj, scale.specReplicasPath);
    const status = getPath(obj, scale.statusReplicasPath);
    let selector: string | undefined;
    if (scale.selectorFor) selector = scale.selectorFor(obj);
    else if (scale.labelSelectorPath) {
      const v = getPath(obj, scale.labelSelectorPath);
      if (typeof v === 'string') selector = v;
    }
    const statusOut: Record<string, unknown> = { replicas: typeof status === 'number' ? status : 0 };
    if (selector) statusOut.selector = selector;
    const meta: Record<string, unknown> = {
      name: obj.metadata.name,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    };
    if (obj.metadata.namespace) meta.namespace = obj.metadata.namespace;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: meta,
      spec: { replicas: typeof spec === 'number' ? spec : 0 },
      status: statusOut,
    };
  }

  private applyScale(desc: ResourceDescription, current: KubeObject, scale: KubeObject): KubeObject {
    const spec = isPlainObject(scale.spec) ? scale.spec : {};
    const replicas = spec.replicas;
    if (
      replicas !== undefined &&
      (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
    )
      throw invalid('Scale', 'autoscaling', current.metadata.name ?? '', [
        fieldErr.invalid('spec.replicas', replicas, 'must be greater than or equal to 0'),
      ]);
    const next = cloneObject(current);
    setPath(next, desc.subresources!.scale!.specReplicasPath, replicas ?? 0);
    if (scale.metadata.resourceVersion) next.metadata.resourceVersion = scale.metadata.resourceVersion;
    return next;
  }

  private async getScale(r: RestRequest): Promise<Reply> {
    const kv = await this.read(r.desc, r.info.namespace, r.info.name);
    return { status: 200, body: this.scaleOf(r.desc, this.decode(r.desc, kv)) };
  }

  private async updateScale(r: RestRequest): Promise<Reply> {
    const { desc, info } = r;
    const dryRun = parseDryRun(r.query, 'UpdateOptions');
    const fv = parseFieldValidation(r.query, 'UpdateOptions');
    const parsed = decodeObjectBody(await r.body(), r.req.headers['content-type'], this.protoMessageFor);
    const decoded = this.checkDecoded(
      parsed,
      fv,
      desc,
      'Scale',
      'autoscaling/v1',
      true,
      'io.k8s.api.autoscaling.v1.Scale',
    );
    const scale = decoded.obj;
    if (scale.metadata.name && scale.metadata.name !== info.name)
      throw badRequest(
        `the name of the object (${scale.metadata.name}) does not match the name on the URL (${info.name})`,
      );
    const reply = await this.updateObject(
      r,
      (current) => this.applyScale(desc, current, scale),
      dryRun,
      scale.metadata.resourceVersion || undefined,
    );
    const obj =
      typeof reply.body === 'string' ? (JSON.parse(reply.body) as KubeObject) : (reply.body as KubeObject);
    return {
      status: reply.status,
      body: this.scaleOf(desc, obj),
      warnings: [...decoded.warnings, ...(reply.warnings ?? [])],
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Deletes

  private async deleteOptions(r: RestRequest): Promise<DeleteOptions> {
    const raw = await r.body();
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      const parsed = decodeObjectBody(
        raw,
        r.req.headers['content-type'] || 'application/json',
        this.protoMessageFor,
      ).value;
      if (isPlainObject(parsed)) body = parsed;
    }
    return deleteOptionsFrom(body, r.query);
  }

  private async delete(r: RestRequest): Promise<Reply> {
    const opts = await this.deleteOptions(r);
    const { obj, deleted } = await this.deleteOne(r, r.info.namespace, r.info.name, opts);
    if (!deleted || this.returnsDeletedObject(r.desc))
      return this.render(r, 200, obj, undefined, deprecation(r.desc));
    const details: Record<string, unknown> = { name: r.info.name };
    if (r.desc.group) details.group = r.desc.group;
    details.kind = r.desc.plural;
    details.uid = obj.metadata.uid;
    return { status: 200, body: successStatus(details), warnings: deprecation(r.desc) };
  }

  private returnsDeletedObject(desc: ResourceDescription): boolean {
    return (
      desc.strategy?.gracePeriodSeconds !== undefined || (desc.group === '' && desc.kind === 'Namespace')
    );
  }

  /** Deletes (or starts deleting) one object; returns its last state and whether it is gone. */
  async deleteOne(
    r: RestRequest,
    namespace: string,
    name: string,
    opts: DeleteOptions,
  ): Promise<{ obj: KubeObject; deleted: boolean }> {
    const { desc } = r;
    const qr = qualifiedResource(desc);
    for (let attempt = 0; attempt < 16; attempt++) {
      const kv = await this.read(desc, namespace, name);
      const current = this.decode(desc, kv);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== current.metadata.uid)
        throw conflict(
          qr,
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`,
        );
      if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)
        throw conflict(
          qr,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`,
        );
      const adm = this.admissionRequest(
        { ...r, info: { ...r.info, namespace, name } },
        'DELETE',
        name,
        undefined,
        current,
        opts.dryRun,
      );
      await runValidation(this.deps.admission, adm);

      const next = cloneObject(current);
      if (!current.metadata.deletionTimestamp && !opts.dryRun) desc.strategy?.prepareForDelete?.(next);
      const m = next.metadata;
      const finalizers = new Set(m.finalizers ?? []);
      const policy =
        opts.propagationPolicy ??
        (opts.orphanDependents === true
          ? 'Orphan'
          : opts.orphanDependents === false
            ? 'Background'
            : undefined);
      if (policy === 'Orphan') {
        finalizers.add(FINALIZER_ORPHAN);
        finalizers.delete(FINALIZER_FOREGROUND);
      } else if (policy === 'Foreground') {
        finalizers.add(FINALIZER_FOREGROUND);
        finalizers.delete(FINALIZER_ORPHAN);
      } else if (policy === 'Background') {
        finalizers.delete(FINALIZER_ORPHAN);
        finalizers.delete(FINALIZER_FOREGROUND);
      }
      // Those two only make sense when there is something to wait for; upstream adds them regardless.
      const nowTs = nowTimestamp();
      let keep = false;
      const isNamespace = desc.group === '' && desc.kind === 'Namespace';
      if (isNamespace) {
        const spec = isPlainObject(next.spec) ? next.spec : {};
        const specFinalizers = Array.isArray(spec.finalizers) ? spec.finalizers : [];
        if (specFinalizers.length > 0 || finalizers.size > 0) {
          keep = true;
          next.status = {
            ...(isPlainObject(next.status) ? next.status : {}),
            phase: NAMESPACE_TERMINATING_PHASE,
          };
        }
      }
      if (finalizers.size > 0) keep = true;
      const grace = desc.strategy?.gracePeriodSeconds?.(current, opts.gracePeriodSeconds);
      if (!keep && grace !== undefined && grace > 0) {
        // Graceful deletion: the node agent deletes for real once the pod has stopped.
        const existingGrace = current.metadata.deletionGracePeriodSeconds;
        if (current.metadata.deletionTimestamp && existingGrace !== undefined && existingGrace <= grace)
          return { obj: current, deleted: false };
        m.deletionTimestamp = nowTimestamp(new Date(Date.now() + grace * 1000));
        m.deletionGracePeriodSeconds = grace;
        keep = true;
      } else if (keep) {
        if (!m.deletionTimestamp) m.deletionTimestamp = nowTs;
        if (m.deletionGracePeriodSeconds === undefined) m.deletionGracePeriodSeconds = 0;
      }
      const key = this.key(desc, namespace, name);
      if (keep) {
        m.finalizers = [...finalizers];
        if (m.finalizers.length === 0) delete m.finalizers;
        if (sameContent(next, current)) return { obj: current, deleted: false };
        if (opts.dryRun) return { obj: next, deleted: false };
        try {
          const stored = await this.deps.store.update(
            key,
            encodeForStorage(toStorage(desc, next)),
            kv.modRevision,
          );
          next.metadata.resourceVersion = String(stored.modRevision);
          notifyCommitted(this.deps.admission, adm, false);
          return { obj: next, deleted: false };
        } catch (err) {
          if ((err instanceof ConflictError || err instanceof KeyNotFoundError) && !pre?.resourceVersion)
            continue;
          throw mapStorageError(err, desc, name);
        }
      }
      if (opts.dryRun) return { obj: current, deleted: true };
      try {
        const res = await this.deps.store.delete(key, kv.modRevision);
        current.metadata.resourceVersion = String(res.revision);
        notifyCommitted(this.deps.admission, adm, true);
        return { obj: current, deleted: true };
      } catch (err) {
        if (err instanceof ConflictError && !pre?.resourceVersion) continue;
        throw mapStorageError(err, desc, name);
      }
    }
    throw conflict(qr, name, OPTIMISTIC_LOCK_MESSAGE);
  }

  private async deleteCollection(r: RestRequest): Promise<Reply> {
    const { desc, info } = r;
    const opts = await this.deleteOptions(r);
    const listOpts = parseListOptions(desc, r.query);
    const page = await this.listObjects(desc, info.namespace, {
      ...listOpts,
      limit: 0,
      continueToken: undefined,
      resourceVersion: undefined,
      resourceVersionMatch: undefined,
    });
    const items: KubeObject[] = [];
    for (const kv of page.items) {
      const obj = this.decode(desc, kv);
      try {
        const res = await this.deleteOne(r, obj.metadata.namespace ?? '', obj.metadata.name ?? '', opts);
        items.push(res.obj);
      } catch (err) {
        if (err instanceof StatusError && err.code === 404) continue;
        throw err;
      }
    }
    return {
      status: 200,
      body: {
        kind: `${desc.kind}List`,
        apiVersion: apiVersionOf(desc.group, desc.version),
        metadata: { resourceVersion: String(page.revision) },
        items,
      },
      warnings: deprecation(desc),
    };
  }
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun: boolean;
}

function stripRv(o: KubeObject): KubeObject {
  const { resourceVersion: _rv, ...meta } = o.metadata;
  return { ...o, metadata: meta };
}

function namespaceFinalizersPending(desc: ResourceDescription, obj: KubeObject): boolean {
  if (desc.group !== '' || desc.kind !== 'Namespace') return false;
  const spec = isPlainObject(obj.spec) ? obj.spec : {};
  return Array.isArray(spec.finalizers) && spec.finalizers.length > 0;
}

function preconditionInPatch(type: PatchType, patch: unknown): string | undefined {
  if (type === 'json' || !isPlainObject(patch)) return undefined;
  const meta = patch.metadata;
  if (isPlainObject(meta) && typeof meta.resourceVersion === 'string' && meta.resourceVersion !== '')
    return meta.resourceVersion;
  return undefined;
}

function forceParam(q: URLSearchParams): boolean | undefined {
  const v = q.get('force');
  if (v === null) return undefined;
  return v === 'true' || v === '1';
}

function includeObjectOf(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

export function deprecation(desc: ResourceDescription): string[] {
  const w = desc.conversion?.deprecationWarning;
  return w ? [w] : [];
}

/** Adds metadata.name=NAME to the field selector for watches addressed to one object. */
function withNameSelector(r: RestRequest): URLSearchParams {
  if (r.info.name === '') return r.query;
  const q = new URLSearchParams(r.query);
  const fs = q.get('fieldSelector');
  const pin = `metadata.name=${r.info.name}`;
  q.set('fieldSelector', fs ? `${fs},${pin}` : pin);
  return q;
}

export function notFoundResource(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server could not find the requested resource',
    reason: 'NotFound',
    details: {},
    code: 404,
  });
}

export function methodNotAllowed(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server does not allow this method on the requested resource',
    reason: 'MethodNotAllowed',
    details: {},
    code: 405,
  });
}

/** DeleteOptions from a request body (or an Eviction's deleteOptions) and the query, validated. */
export function deleteOptionsFrom(body: Record<string, unknown>, q: URLSearchParams): DeleteOptions {
  const grace = q.get('gracePeriodSeconds');
  const opts: DeleteOptions = {
    gracePeriodSeconds:
      typeof body.gracePeriodSeconds === 'number'
        ? body.gracePeriodSeconds
        : grace !== null && grace !== ''
          ? Number(grace)
          : undefined,
    propagationPolicy:
      (typeof body.propagationPolicy === 'string' ? body.propagationPolicy : q.get('propagationPolicy')) ??
      undefined,
    orphanDependents:
      typeof body.orphanDependents === 'boolean'
        ? body.orphanDependents
        : q.get('orphanDependents') !== null
          ? q.get('orphanDependents') === 'true'
          : undefined,
    preconditions: isPlainObject(body.preconditions) ? body.preconditions : undefined,
    dryRun: parseDryRun(q, 'DeleteOptions') || (Array.isArray(body.dryRun) && body.dryRun.includes('All')),
  };
  const errs: FieldError[] = [];
  if (
    opts.gracePeriodSeconds !== undefined &&
    (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)
  )
    errs.push(
      fieldErr.invalid('gracePeriodSeconds', opts.gracePeriodSeconds, 'must be greater than or equal to 0'),
    );
  if (
    opts.propagationPolicy !== undefined &&
    !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)
  )
    errs.push(
      fieldErr.notSupported('propagationPolicy', opts.propagationPolicy, [
        'Foreground',
        'Background',
        'Orphan',
        'nil',
      ]),
    );
  if (opts.propagationPolicy !== undefined && opts.orphanDependents !== undefined)
    errs.push(
      fieldErr.invalid(
        'propagationPolicy',
        opts.propagationPolicy,
        'orphanDependents and deletionPropagation cannot be both set',
      ),
    );
  if (errs.length) throw invalid('DeleteOptions', 'meta.k8s.io', '', errs);
  return opts;
}
