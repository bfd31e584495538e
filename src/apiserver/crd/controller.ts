// The CRD controller inside the API server: watches CustomResourceDefinitions in the store and
// keeps the served resources in step with them, as upstream's apiextensions-apiserver does with its
// naming, establishing and finalizing controllers:
//   - names are checked against the other CRDs of the group (NamesAccepted, status.acceptedNames);
//   - an accepted CRD's served versions are registered (discovery and OpenAPI follow the
//     registry), then Established is set, so `kubectl wait --for condition=established` returns
//     once the resource is usable;
//   - a CRD being deleted stops being served, its objects are deleted, then its cleanup finalizer
//     is removed and the CRD goes away.
// Level-triggered: every event only enqueues the CRD's name; reconcile re-reads the store.
import type { KubeObject } from '../../api/meta.js';
import { isPlainObject } from '../../api/meta.js';
import type { SchemaRegistry } from '../../api/schema.js';
import type { ResourceDescription } from '../../api/types.js';
import {
  CUSTOM_RESOURCE_CLEANUP_FINALIZER,
  crdConditions,
  crdGroup,
  customResourceDefinitionResource,
  namesOf,
  type CrdCondition,
  type CrdNames,
} from '../../api/kinds/custom-resource-definition.js';
import { ConflictError, KeyNotFoundError } from '../../storage/errors.js';
import type { Store, Watch } from '../../storage/types.js';
import { createLogger } from '../../util/log.js';
import { encodeForStorage, nowTimestamp, sameContent } from '../objects.js';
import { storagePrefix, type ResourceRegistry } from '../resource-registry.js';
import { buildCrdResources } from './resource.js';

const log = createLogger('apiserver.crd');
const RETRY_MS = 500;

export interface CrdControllerOptions {
  readonly store: Store;
  readonly registry: ResourceRegistry;
  readonly schemas: SchemaRegistry;
}

interface Served {
  readonly fingerprint: string;
  readonly descriptions: readonly ResourceDescription[];
  readonly definitions: readonly string[];
}

interface Stored {
  readonly obj: KubeObject;
  readonly modRevision: number;
}

export class CrdController {
  private readonly prefix = storagePrefix(customResourceDefinitionResource);
  private readonly served = new Map<string, Served>();
  private readonly pending = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private watch: Watch | undefined;
  private running = false;
  private draining: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: CrdControllerOptions) {}

  /** Lists, serves every established CRD, then watches. Resolves once the first pass is done. */
  async start(): Promise<void> {
    const revision = await this.resync();
    await this.drain();
    this.startWatch(revision);
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    this.watch = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Waits until every queued CRD has been reconciled (tests use it). */
  async idle(): Promise<void> {
    while (this.pending.size > 0 || this.running) await this.drain();
  }

  private async resync(): Promise<number> {
    const res = await this.opts.store.list(this.prefix);
    const names = new Set<string>();
    for (const kv of res.items) names.add(kv.key.slice(this.prefix.length));
    for (const name of this.served.keys()) names.add(name);
    for (const name of names) this.enqueue(name);
    return res.revision;
  }

  private startWatch(revision: number): void {
    if (this.stopped) return;
    this.watch = this.opts.store.watch(
      this.prefix,
      { afterRevision: revision },
      {
        onEvents: (events) => {
          for (const ev of events) this.enqueue(ev.kv.key.slice(this.prefix.length));
          void this.drain();
        },
        onError: (err) => {
          if (this.stopped) return;
          log.warn('CRD watch ended; relisting', { error: err.message });
          this.watch = undefined;
          this.later(async () => {
            const rev = await this.resync();
            void this.drain();
            this.startWatch(rev);
          });
        },
      },
    );
  }

  private later(fn: () => Promise<void>): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn().catch((err: unknown) => log.error('CRD controller retry failed', { error: err }));
    }, RETRY_MS);
    this.timers.add(t);
  }

  private enqueue(name: string): void {
    if (name !== '') this.pending.add(name);
  }

  /** Runs reconciles one at a time until the queue is empty. */
  private drain(): Promise<void> {
    if (this.running) return this.draining;
    this.running = true;
    this.draining = (async () => {
      try {
        while (this.pending.size > 0 && !this.stopped) {
          const name = this.pending.values().next().value as string;
          this.pending.delete(name);
          try {
            await this.reconcile(name);
          } catch (err) {
            log.warn('CRD reconcile failed; will retry', {
              crd: name,
              error: err instanceof Error ? err.message : String(err),
            });
            this.later(async () => {
              this.enqueue(name);
              await this.drain();
            });
          }
        }
      } finally {
        this.running = false;
      }
    })();
    return this.draining;
  }

  private async read(name: string): Promise<Stored | undefined> {
    const kv = await this.opts.store.get(this.prefix + name);
    if (!kv) return undefined;
    return { obj: JSON.parse(kv.value) as KubeObject, modRevision: kv.modRevision };
  }

  private async reconcile(name: string): Promise<void> {
    const current = await this.read(name);
    if (!current) {
      this.unserve(name);
      // Names it held may now be free for a CRD that was refused them.
      await this.requeueUnaccepted();
      return;
    }
    const crd = current.obj;
    if (crd.metadata.deletionTimestamp) {
      await this.finalize(name, current);
      return;
    }
    const names = namesOf(isPlainObject(crd.spec) ? crd.spec.names : undefined);
    const conflict = await this.namesConflict(name, crdGroup(crd), names);
    if (!conflict) this.serve(name, crd);
    else this.unserve(name);
    await this.writeStatus(current, names, conflict);
  }

  private async requeueUnaccepted(): Promise<void> {
    const res = await this.opts.store.list(this.prefix);
    for (const kv of res.items) {
      const crd = JSON.parse(kv.value) as KubeObject;
      if (!crdConditions(crd).some((c) => c.type === 'NamesAccepted' && c.status === 'True'))
        this.enqueue(kv.key.slice(this.prefix.length));
    }
  }

  /** Another CRD of the same group already uses one of these names (upstream's naming controller). */
  private async namesConflict(name: string, group: string, names: CrdNames): Promise<string | undefined> {
    const res = await this.opts.store.list(this.prefix);
    for (const kv of res.items) {
      const otherName = kv.key.slice(this.prefix.length);
      if (otherName === name) continue;
      const other = JSON.parse(kv.value) as KubeObject;
      if (crdGroup(other) !== group) continue;
      const st = isPlainObject(other.status) ? other.status : {};
      if (!isPlainObject(st.acceptedNames)) continue;
      const accepted = namesOf(st.acceptedNames);
      const used = new Set(
        [accepted.plural, accepted.singular, ...accepted.shortNames].filter((x) => x !== ''),
      );
      for (const n of [names.plural, names.singular, ...names.shortNames])
        if (used.has(n)) return `"${n}" is already in use`;
      if (names.kind !== '' && (names.kind === accepted.kind || names.kind === accepted.listKind))
        return `"${names.kind}" is already in use`;
      if (names.listKind !== '' && (names.listKind === accepted.kind || names.listKind === accepted.listKind))
        return `"${names.listKind}" is already in use`;
    }
    return undefined;
  }

  private serve(name: string, crd: KubeObject): void {
    const fingerprint = JSON.stringify(crd.spec ?? {});
    const existing = this.served.get(name);
    if (existing?.fingerprint === fingerprint) return;
    const old = existing;
    const { descriptions, definitions } = buildCrdResources(crd, this.opts.schemas);
    if (old) {
      for (const d of old.descriptions) {
        const stillServed = descriptions.some(
          (n) => n.group === d.group && n.version === d.version && n.plural === d.plural,
        );
        if (!stillServed) this.opts.registry.remove(d.group, d.version, d.plural);
      }
      for (const def of old.definitions) if (!definitions.includes(def)) this.opts.schemas.delete(def);
    }
    for (const d of descriptions) this.opts.registry.add(d);
    this.served.set(name, { fingerprint, descriptions, definitions });
    log.info('serving custom resource', {
      crd: name,
      versions: descriptions.map((d) => d.version),
    });
  }

  private unserve(name: string): void {
    const s = this.served.get(name);
    if (!s) return;
    for (const d of s.descriptions) this.opts.registry.remove(d.group, d.version, d.plural);
    for (const def of s.definitions) this.opts.schemas.delete(def);
    this.served.delete(name);
    log.info('stopped serving custom resource', { crd: name });
  }

  private async writeStatus(current: Stored, names: CrdNames, conflict: string | undefined): Promise<void> {
    const crd = structuredClone(current.obj);
    const status = isPlainObject(crd.status) ? crd.status : {};
    const now = nowTimestamp();
    const previous = crdConditions(crd);
    const wasEstablished = previous.some((c) => c.type === 'Established' && c.status === 'True');
    const conditions: CrdCondition[] = previous.filter(
      (c) => c.type !== 'NamesAccepted' && c.type !== 'Established',
    );
    const set = (c: CrdCondition): void => {
      const before = previous.find((p) => p.type === c.type);
      const lastTransitionTime =
        before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : now;
      conditions.push({ ...c, lastTransitionTime });
    };
    const acceptedNames: Record<string, unknown> = {
      plural: names.plural,
      singular: names.singular,
      kind: names.kind,
      listKind: names.listKind,
    };
    if (names.shortNames.length) acceptedNames.shortNames = names.shortNames;
    if (names.categories.length) acceptedNames.categories = names.categories;
    if (conflict) {
      set({ type: 'NamesAccepted', status: 'False', reason: 'NameConflict', message: conflict });
      if (wasEstablished)
        set({
          type: 'Established',
          status: 'True',
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
        });
      else
        set({
          type: 'Established',
          status: 'False',
          reason: 'NotAccepted',
          message: 'not all names are accepted',
        });
    } else {
      set({ type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' });
      set({
        type: 'Established',
        status: 'True',
        reason: 'InitialNamesAccepted',
        message: 'the initial names have been accepted',
      });
      status.acceptedNames = acceptedNames;
    }
    if (!isPlainObject(status.acceptedNames)) status.acceptedNames = { plural: '', kind: '' };
    status.conditions = conditions;
    if (!Array.isArray(status.storedVersions)) status.storedVersions = [];
    crd.status = status;
    if (sameContent(crd.status, current.obj.status)) return;
    try {
      await this.opts.store.update(
        this.prefix + (crd.metadata.name ?? ''),
        encodeForStorage(crd),
        current.modRevision,
      );
    } catch (err) {
      // A newer version arrives through the watch and is reconciled again.
      if (err instanceof ConflictError || err instanceof KeyNotFoundError) return;
      throw err;
    }
  }

  /** Deletion: stop serving, delete every object of the kind, then release the CRD. */
  private async finalize(name: string, current: Stored): Promise<void> {
    const crd = current.obj;
    const descriptions = this.served.get(name)?.descriptions;
    this.unserve(name);
    const finalizers = crd.metadata.finalizers ?? [];
    if (!finalizers.includes(CUSTOM_RESOURCE_CLEANUP_FINALIZER)) {
      if (finalizers.length === 0) await this.deleteKey(current);
      return;
    }
    const group = crdGroup(crd);
    const plural = namesOf(isPlainObject(crd.spec) ? crd.spec.names : undefined).plural;
    const prefix = descriptions?.[0] ? storagePrefix(descriptions[0]) : `/registry/${group}/${plural}/`;
    const objects = await this.opts.store.list(prefix);
    for (const kv of objects.items) {
      try {
        await this.opts.store.delete(kv.key);
      } catch (err) {
        if (!(err instanceof KeyNotFoundError)) throw err;
      }
    }
    if (objects.items.length)
      log.info('deleted custom resources', { crd: name, count: objects.items.length });
    const next = structuredClone(crd);
    const remaining = finalizers.filter((f) => f !== CUSTOM_RESOURCE_CLEANUP_FINALIZER);
    if (remaining.length === 0) {
      await this.deleteKey(current);
      return;
    }
    next.metadata.finalizers = remaining;
    try {
      await this.opts.store.update(this.prefix + name, encodeForStorage(next), current.modRevision);
    } catch (err) {
      if (err instanceof ConflictError || err instanceof KeyNotFoundError) return;
      throw err;
    }
  }

  private async deleteKey(current: Stored): Promise<void> {
    try {
      await this.opts.store.delete(this.prefix + (current.obj.metadata.name ?? ''), current.modRevision);
    } catch (err) {
      if (err instanceof ConflictError || err instanceof KeyNotFoundError) return;
      throw err;
    }
  }
}
