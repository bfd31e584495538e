// core/v1 Event. Events are written by every component, so upstream keeps the old, lenient rules
// for this version ("legacy" validation only: namespace agreement and, for new-style events with
// eventTime, the reporting fields); the stricter rules apply to events.k8s.io/v1 (events-v1.ts),
// which is stored as this kind.
import { fieldErr, type FieldError } from '../errors.js';
import { isPlainObject, type KubeObject } from '../meta.js';
import type { CellValue, ResourceDescription, TableColumn } from '../types.js';
import { validateImmutableField } from '../validation/immutable.js';
import { byteLength, isDNS1123Subdomain, isQualifiedName } from '../validation/names.js';
import { formatAge } from './age.js';
import { field, strField } from './columns.js';

export const REPORTING_INSTANCE_LENGTH_LIMIT = 128;
export const ACTION_LENGTH_LIMIT = 128;
export const REASON_LENGTH_LIMIT = 128;
export const NOTE_LENGTH_LIMIT = 1024;

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function isSet(v: unknown): boolean {
  return typeof v === 'string' && v !== '';
}

/**
 * Upstream's legacyValidateEvent. `reportingField` names the reporting-controller field in the
 * request's version: reportingComponent in v1, reportingController in events.k8s.io.
 */
export function legacyValidateEvent(ev: KubeObject, reportingField: string): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = ev.metadata.namespace ?? '';
  const involvedNamespace = strField(ev, 'involvedObject', 'namespace');
  if (!isSet(ev.eventTime)) {
    // Old-style events: the event lives in its object's namespace ("default" for cluster objects).
    if (involvedNamespace === '') {
      if (namespace !== '' && namespace !== 'default') {
        errs.push(
          fieldErr.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace'),
        );
      }
    } else if (namespace !== involvedNamespace) {
      errs.push(
        fieldErr.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace'),
      );
    }
  } else {
    if (involvedNamespace === '' && namespace !== 'default' && namespace !== 'kube-system') {
      errs.push(
        fieldErr.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace'),
      );
    }
    const controller = str(ev.reportingComponent);
    if (controller === '') errs.push(fieldErr.required(reportingField, ''));
    for (const msg of isQualifiedName(controller))
      errs.push(fieldErr.invalid(reportingField, controller, msg));
    const instance = str(ev.reportingInstance);
    if (instance === '') errs.push(fieldErr.required('reportingInstance', ''));
    if (byteLength(instance) > REPORTING_INSTANCE_LENGTH_LIMIT) {
      errs.push(
        fieldErr.invalid(
          'reportingInstance',
          '',
          `can have at most ${REPORTING_INSTANCE_LENGTH_LIMIT} characters`,
        ),
      );
    }
    const action = str(ev.action);
    if (action === '') errs.push(fieldErr.required('action', ''));
    if (byteLength(action) > ACTION_LENGTH_LIMIT) {
      errs.push(fieldErr.invalid('action', '', `can have at most ${ACTION_LENGTH_LIMIT} characters`));
    }
    const reason = str(ev.reason);
    if (reason === '') errs.push(fieldErr.required('reason', ''));
    if (byteLength(reason) > REASON_LENGTH_LIMIT) {
      errs.push(fieldErr.invalid('reason', '', `can have at most ${REASON_LENGTH_LIMIT} characters`));
    }
    if (byteLength(str(ev.message)) > NOTE_LENGTH_LIMIT) {
      errs.push(fieldErr.invalid('message', '', `can have at most ${NOTE_LENGTH_LIMIT} characters`));
    }
  }
  for (const msg of isDNS1123Subdomain(namespace)) errs.push(fieldErr.invalid('namespace', namespace, msg));
  return errs;
}

// ---- table ----

function sinceOrUnknown(ts: unknown, now: Date): string {
  return formatAge(typeof ts === 'string' ? ts : undefined, now);
}

function firstSeen(ev: KubeObject, now: Date): string {
  return isSet(ev.firstTimestamp)
    ? sinceOrUnknown(ev.firstTimestamp, now)
    : sinceOrUnknown(ev.eventTime, now);
}

function lastSeen(ev: KubeObject, now: Date): string {
  const series = field(ev, 'series');
  if (isPlainObject(series)) return sinceOrUnknown(series.lastObservedTime, now);
  return isSet(ev.lastTimestamp) ? sinceOrUnknown(ev.lastTimestamp, now) : firstSeen(ev, now);
}

function count(ev: KubeObject): number {
  const series = field(ev, 'series');
  if (isPlainObject(series) && typeof series.count === 'number') return series.count;
  // Singleton events written through events.k8s.io carry no count.
  return typeof ev.count === 'number' && ev.count !== 0 ? ev.count : 1;
}

function target(ev: KubeObject): string {
  const kind = strField(ev, 'involvedObject', 'kind').toLowerCase();
  const name = strField(ev, 'involvedObject', 'name');
  return name === '' ? kind : `${kind}/${name}`;
}

function source(ev: KubeObject): string {
  const component = strField(ev, 'source', 'component') || str(ev.reportingComponent);
  const host = strField(ev, 'source', 'host') || str(ev.reportingInstance);
  return host === '' ? component : `${component}, ${host}`;
}

/**
 * Event columns in upstream's order. `view` turns the served object into the core/v1 shape, so
 * events.k8s.io/v1 reuses the same columns.
 */
export function eventColumns(view: (obj: KubeObject) => KubeObject): TableColumn[] {
  const col = (
    name: string,
    priority: number,
    description: string,
    cell: (ev: KubeObject, now: Date) => CellValue,
    format?: string,
  ): TableColumn => ({
    name,
    type: 'string',
    description,
    priority,
    ...(format ? { format } : {}),
    cell: (obj, now) => cell(view(obj), now),
  });
  return [
    col('Last Seen', 0, 'How long ago the event last occurred.', lastSeen),
    col('Type', 0, 'Normal or Warning.', (ev) => str(ev.type)),
    col('Reason', 0, 'Why the event happened, as a short CamelCase word.', (ev) => str(ev.reason)),
    col('Object', 0, 'The object the event is about, as kind/name.', target),
    col('Subobject', 1, 'The part of the object the event is about, such as one container.', (ev) =>
      strField(ev, 'involvedObject', 'fieldPath'),
    ),
    col('Source', 1, 'The component, and host, that reported the event.', source),
    col('Message', 0, 'What happened.', (ev) => str(ev.message).trim()),
    col('First Seen', 1, 'How long ago the event first occurred.', firstSeen),
    col('Count', 1, 'How many times the event occurred.', count),
    col('Name', 1, 'The name of the event object.', (ev) => ev.metadata.name ?? '', 'name'),
  ];
}

/** Field selectors of core/v1 events (upstream's ToSelectableFields). */
export const coreEventFieldSelectors: Readonly<Record<string, (obj: KubeObject) => string | undefined>> = {
  'involvedObject.kind': (o) => strField(o, 'involvedObject', 'kind'),
  'involvedObject.namespace': (o) => strField(o, 'involvedObject', 'namespace'),
  'involvedObject.name': (o) => strField(o, 'involvedObject', 'name'),
  'involvedObject.uid': (o) => strField(o, 'involvedObject', 'uid'),
  'involvedObject.apiVersion': (o) => strField(o, 'involvedObject', 'apiVersion'),
  'involvedObject.resourceVersion': (o) => strField(o, 'involvedObject', 'resourceVersion'),
  'involvedObject.fieldPath': (o) => strField(o, 'involvedObject', 'fieldPath'),
  reason: (o) => str(o.reason),
  reportingComponent: (o) => str(o.reportingComponent),
  source: (o) => strField(o, 'source', 'component') || str(o.reportingComponent),
  type: (o) => str(o.type),
};

export const eventResource: ResourceDescription = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  schemaRef: 'io.k8s.api.core.v1.Event',
  tableColumns: eventColumns((obj) => obj),
  fieldSelectors: coreEventFieldSelectors,
  strategy: {
    validate: (obj) => legacyValidateEvent(obj, 'reportingComponent'),
    validateUpdate: (obj) => legacyValidateEvent(obj, 'reportingComponent'),
  },
};

/** The checks upstream adds for events written through events.k8s.io (on the core/v1 shape). */
export function strictEventChecks(ev: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateSeries(ev));
  if (!isSet(ev.eventTime)) errs.push(fieldErr.required('eventTime', ''));
  const type = str(ev.type);
  if (type !== 'Normal' && type !== 'Warning')
    errs.push(fieldErr.invalid('type', '', `has invalid value: ${type}`));
  if (isSet(ev.firstTimestamp)) errs.push(fieldErr.invalid('firstTimestamp', '', 'needs to be unset'));
  if (isSet(ev.lastTimestamp)) errs.push(fieldErr.invalid('lastTimestamp', '', 'needs to be unset'));
  if (typeof ev.count === 'number' && ev.count !== 0)
    errs.push(fieldErr.invalid('count', '', 'needs to be unset'));
  if (strField(ev, 'source', 'component') !== '' || strField(ev, 'source', 'host') !== '') {
    errs.push(fieldErr.invalid('source', '', 'needs to be unset'));
  }
  return errs;
}

export function validateSeries(ev: KubeObject): FieldError[] {
  const series = field(ev, 'series');
  if (!isPlainObject(series)) return [];
  const errs: FieldError[] = [];
  if (typeof series.count !== 'number' || series.count < 2)
    errs.push(fieldErr.invalid('series.count', '', 'should be at least 2'));
  if (!isSet(series.lastObservedTime)) errs.push(fieldErr.required('series.lastObservedTime', ''));
  return errs;
}

/** The fields an events.k8s.io update may not change (on the core/v1 shape), in upstream's order. */
export function immutableEventChecks(ev: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const name of [
    'involvedObject',
    'reason',
    'message',
    'source',
    'firstTimestamp',
    'lastTimestamp',
    'count',
    'type',
    'action',
    'related',
    'reportingComponent',
    'reportingInstance',
  ]) {
    // Upstream names the reporting controller field by its internal name here.
    const path = name === 'reportingComponent' ? 'reportingController' : name;
    errs.push(...validateImmutableField(ev[name], old[name], path));
  }
  return errs;
}
