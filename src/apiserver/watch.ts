// The HTTP side of a watch: a chunked stream of {"type","object"} JSON lines fed by the shared
// watch cache, filtered per watcher (namespace, selectors, name), with bookmarks, the initial
// state as ADDED events when asked, timeouts, and a cap on unsent bytes so a slow client is cut
// off instead of buffering without bound.
import type { KubeObject } from '../api/meta.js';
import { gone, internalError, StatusError, type Status } from '../api/errors.js';
import { CompactedError } from '../storage/errors.js';
import { createLogger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import { fieldValue, parseResourceVersionNumber, type ListOptions } from './list-options.js';
import { toServed } from './objects.js';
import { storagePrefix } from './resource-registry.js';
import type { RestDeps, RestRequest } from './rest.js';
import { buildTable, negotiateOutput, partialObjectMetadata, type NegotiatedOutput } from './table.js';
import { decodeStored, type DecodedEvent } from './watch-cache.js';
import { notAcceptable } from '../api/errors.js';

const log = createLogger('apiserver.watch');
const watchersGauge = metrics.gauge('apiserver_registered_watchers', 'Open API watches, by resource.');
const watchEventsCounter = metrics.counter('apiserver_watch_events_total', 'Watch events sent, by resource.');
const slowWatchersCounter = metrics.counter(
  'apiserver_watch_slow_terminations_total',
  'Watches closed because the client did not keep up.',
);

/** A busy watch stream is written at most this often (see scheduleFlush). */
const MIN_FLUSH_INTERVAL_MS = 2;
const MIN_REQUEST_TIMEOUT_S = 1800;

/**
 * The bytes of the last burst of lines a watcher flushed. Watchers of the same resource with the
 * same output flush the very same line strings in the same turn of the event loop, so the first
 * joins and encodes them and the others write the same buffer.
 */
let lastBurst: { lines: readonly string[]; bytes: Buffer } | undefined;

function burstBytes(lines: readonly string[]): Buffer {
  const last = lastBurst;
  if (last && last.lines.length === lines.length && last.lines.every((l, i) => l === lines[i]))
    return last.bytes;
  const bytes = Buffer.from(lines.length === 1 ? lines[0]! : lines.join(''), 'utf8');
  lastBurst = { lines, bytes };
  return bytes;
}
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export async function serveWatch(deps: RestDeps, r: RestRequest, opts: ListOptions): Promise<void> {
  const { desc, info, res, req } = r;
  const out: NegotiatedOutput | undefined = negotiateOutput(req.headers.accept, false);
  if (!out) throw notAcceptable('only the following media types are accepted: application/json');
  const base = storagePrefix(desc);
  const prefix = desc.namespaced && info.namespace !== '' ? `${base}${info.namespace}/` : base;
  const filtered = !opts.labelSelector.empty || !opts.fieldSelector.empty;
  const served = (obj: KubeObject): KubeObject => toServed(desc, obj);
  const matches = (obj: KubeObject): boolean =>
    !filtered ||
    (opts.labelSelector.matches(obj.metadata.labels) &&
      opts.fieldSelector.matches((f) => fieldValue(desc, served(obj), f)));

  // Where to start.
  const rvParam = opts.resourceVersion ?? '';
  const initialEvents = opts.sendInitialEvents ?? (rvParam === '' || rvParam === '0');
  let startAfter: number;
  let initial: KubeObject[] = [];
  if (initialEvents) {
    let list;
    try {
      list = await deps.store.list(prefix);
    } catch (err) {
      throw err instanceof StatusError ? err : internalError(err);
    }
    startAfter = list.revision;
    for (const kv of list.items) {
      const obj = decodeStored(kv.value, kv.modRevision);
      if (matches(obj)) initial.push(obj);
    }
    if (rvParam !== '' && rvParam !== '0') {
      const min = parseResourceVersionNumber(rvParam);
      if (min > startAfter) startAfter = Math.max(startAfter, min);
    }
  } else if (rvParam === '' || rvParam === '0') {
    startAfter = await deps.store.currentRevision();
  } else {
    startAfter = parseResourceVersionNumber(rvParam);
  }
  const compacted = await deps.store.compactedRevision();

  res.writeHead(200, {
    'Content-Type':
      out.as === undefined ? 'application/json;stream=watch' : `${out.contentType};stream=watch`,
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();

  const resourceLabel = { resource: desc.group ? `${desc.plural}.${desc.group}` : desc.plural };
  watchersGauge.inc(resourceLabel);
  let closed = false;
  let lastRevision = startAfter;
  const timers: NodeJS.Timeout[] = [];
  let cancel: (() => void) | undefined;

  const finish = (): void => {
    if (closed) return;
    closed = true;
    watchersGauge.dec(resourceLabel);
    for (const t of timers) clearTimeout(t);
    cancel?.();
    if (!res.writableEnded) res.end();
  };
  req.on('close', finish);
  res.on('close', finish);
  res.on('error', finish);

  /** The object's JSON; with `ev`, obj is ev.object and the event's shared encodings are used. */
  const objectJson = (type: WatchType, obj: KubeObject, ev?: DecodedEvent): string => {
    if (out.as === 'Table') {
      if (type === 'BOOKMARK' || type === 'ERROR') return JSON.stringify(obj);
      const table = buildTable(
        desc,
        [served(obj)],
        { resourceVersion: obj.metadata.resourceVersion },
        {
          includeObject:
            r.query.get('includeObject') === 'Object'
              ? 'Object'
              : r.query.get('includeObject') === 'None'
                ? 'None'
                : 'Metadata',
          version: out.version ?? 'v1',
        },
      );
      return JSON.stringify(table);
    }
    if (out.as === 'PartialObjectMetadata') {
      if (type === 'ERROR') return JSON.stringify(obj);
      return JSON.stringify(partialObjectMetadata(obj, out.version));
    }
    if (type === 'BOOKMARK' || type === 'ERROR') return JSON.stringify(obj);
    if (ev) {
      if (!desc.conversion) return ev.json;
      const cachedJson = ev.encoded.get('json');
      if (cachedJson !== undefined) return cachedJson;
      const json = JSON.stringify(served(ev.object));
      ev.encoded.set('json', json);
      return json;
    }
    return JSON.stringify(served(obj));
  };

  // Lines are coalesced and written once per turn of the event loop: one socket write per watcher
  // per burst of events instead of one per event.
  let pending: string[] = [];
  let flushScheduled = false;
  let lastFlushAt = 0;
  // At most one write per watcher every MIN_FLUSH_INTERVAL_MS: an idle stream's event goes out on the
  // next turn, a busy one's events share a write (each write is a syscall, and on TLS a record).
  const scheduleFlush = (): void => {
    if (flushScheduled) return;
    flushScheduled = true;
    const wait = lastFlushAt + MIN_FLUSH_INTERVAL_MS - performance.now();
    if (wait > 0) setTimeout(flush, wait);
    else setImmediate(flush);
  };
  const flush = (): void => {
    flushScheduled = false;
    lastFlushAt = performance.now();
    if (closed || pending.length === 0) return;
    const chunk = burstBytes(pending);
    watchEventsCounter.inc(resourceLabel, pending.length);
    pending = [];
    res.write(chunk);
    if (res.writableLength > deps.watchBufferLimitBytes) {
      slowWatchersCounter.inc(resourceLabel);
      log.warn('closing a watch that does not keep up', {
        resource: resourceLabel.resource,
        buffered: res.writableLength,
      });
      finish();
    }
  };
  const queueLine = (line: string): void => {
    pending.push(line);
    scheduleFlush();
  };
  const send = (type: WatchType, obj: KubeObject, ev?: DecodedEvent): void => {
    if (closed) return;
    pending.push(`{"type":"${type}","object":${objectJson(type, obj, ev)}}\n`);
    scheduleFlush();
  };

  /** An unfiltered JSON event: the shared line, no parse. */
  const sendEvent = (type: WatchType, ev: DecodedEvent): void => {
    if (closed) return;
    let line = ev.encoded.get(`line:${type}`);
    if (line === undefined) {
      line = `{"type":"${type}","object":${desc.conversion ? objectJson(type, ev.object, ev) : ev.json}}\n`;
      ev.encoded.set(`line:${type}`, line);
    }
    queueLine(line);
  };

  const sendError = (status: Status): void => {
    if (closed) return;
    flush();
    res.write(`{"type":"ERROR","object":${JSON.stringify(status)}}\n`);
    finish();
  };

  const bookmark = (annotations?: Record<string, string>): void => {
    const rv = Math.max(lastRevision, deps.watchCache.lastRevision(base));
    const meta: Record<string, unknown> = { resourceVersion: String(rv) };
    if (annotations) meta.annotations = annotations;
    const kind = out.as === 'PartialObjectMetadata' ? 'PartialObjectMetadata' : desc.kind;
    const apiVersion =
      out.as === 'PartialObjectMetadata'
        ? `meta.k8s.io/${out.version ?? 'v1'}`
        : desc.group
          ? `${desc.group}/${desc.version}`
          : desc.version;
    send('BOOKMARK', { kind, apiVersion, metadata: meta });
  };

  if (!initialEvents && startAfter < compacted) {
    sendError(gone(`too old resource version: ${startAfter} (${compacted})`).status);
    return;
  }

  for (const obj of initial) send('ADDED', obj);
  initial = [];
  if (opts.sendInitialEvents && opts.allowWatchBookmarks) bookmark({ [INITIAL_EVENTS_END]: 'true' });
  if (closed) return;

  const onEvents = (events: readonly DecodedEvent[]): void => {
    for (const ev of events) {
      if (closed) return;
      if (ev.revision <= lastRevision) continue;
      lastRevision = ev.revision;
      if (!ev.key.startsWith(prefix)) continue;
      if (!filtered) {
        if (out.as === undefined) sendEvent(ev.type, ev);
        else send(ev.type, ev.object, ev);
        continue;
      }
      const now = ev.type !== 'DELETED' && matches(ev.object);
      const before = ev.prev !== undefined && matches(ev.prev);
      if (now && !before) send('ADDED', ev.object, ev);
      else if (now && before) send('MODIFIED', ev.object, ev);
      else if (!now && before) {
        const last = { ...ev.prev, metadata: { ...ev.prev.metadata, resourceVersion: String(ev.revision) } };
        send('DELETED', last);
      }
    }
  };
  try {
    const sub = deps.watchCache.subscribe(base, startAfter, {
      onEvents,
      onError: (err) => {
        if (err instanceof CompactedError)
          sendError(gone(`too old resource version: ${err.requested} (${err.compacted})`).status);
        else sendError(internalError(err).status);
      },
    });
    cancel = () => sub.cancel();
  } catch (err) {
    sendError(internalError(err).status);
    return;
  }
  if (closed) {
    cancel?.();
    return;
  }

  const timeoutS = opts.timeoutSeconds ?? MIN_REQUEST_TIMEOUT_S * (1 + Math.random());
  const t = setTimeout(finish, Math.max(0, timeoutS * 1000));
  timers.push(t);
  if (opts.allowWatchBookmarks) {
    const tick = (): void => {
      if (closed) return;
      bookmark();
      const next = setTimeout(tick, deps.bookmarkIntervalMs);
      timers.splice(1, 1, next);
    };
    timers.push(setTimeout(tick, deps.bookmarkIntervalMs));
  }
}
