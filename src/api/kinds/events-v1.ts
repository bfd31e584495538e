// events.k8s.io/v1 Event: the newer shape of the same objects as core/v1 Event. Upstream stores
// both in one place, so this version is served by converting to and from core/v1 (renamed fields:
// regarding ↔ involvedObject, note ↔ message, reportingController ↔ reportingComponent, and the
// deprecated* fields ↔ their core names). Validation is upstream's strict event validation, run
// on the core/v1 shape as upstream runs it on its internal type — hence core field names in paths.
import type { KubeObject } from '../meta.js';
import type { ResourceDescription, VersionConversion } from '../types.js';
import { uniqueFieldErrors, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.js';
import { semanticEqual } from '../validation/immutable.js';
import { strField } from './columns.js';
import {
  eventColumns,
  immutableEventChecks,
  legacyValidateEvent,
  strictEventChecks,
  validateSeries,
} from './event.js';

/** events.k8s.io/v1 field → core/v1 field, for the fields whose names differ. */
const RENAMED: ReadonlyArray<readonly [string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];
const SHARED = ['action', 'eventTime', 'reason', 'related', 'reportingInstance', 'series', 'type'] as const;

export function eventsV1ToCore(obj: KubeObject): KubeObject {
  const out: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata: structuredClone(obj.metadata) };
  for (const [from, to] of RENAMED) if (obj[from] !== undefined) out[to] = structuredClone(obj[from]);
  for (const name of SHARED) if (obj[name] !== undefined) out[name] = structuredClone(obj[name]);
  // The core shape requires involvedObject; an events.k8s.io event without regarding has an empty one.
  if (out.involvedObject === undefined) out.involvedObject = {};
  return out;
}

export function coreToEventsV1(obj: KubeObject): KubeObject {
  const out: KubeObject = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: structuredClone(obj.metadata),
  };
  for (const [to, from] of RENAMED) if (obj[from] !== undefined) out[to] = structuredClone(obj[from]);
  for (const name of SHARED) if (obj[name] !== undefined) out[name] = structuredClone(obj[name]);
  return out;
}

export const eventsV1Conversion: VersionConversion = {
  storageGroup: '',
  storageVersion: 'v1',
  toStorage: eventsV1ToCore,
  fromStorage: coreToEventsV1,
};

export const eventsV1EventResource: ResourceDescription = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  schemaRef: 'io.k8s.api.events.v1.Event',
  conversion: eventsV1Conversion,
  tableColumns: eventColumns(eventsV1ToCore),
  fieldSelectors: {
    'regarding.kind': (o) => strField(o, 'regarding', 'kind'),
    'regarding.namespace': (o) => strField(o, 'regarding', 'namespace'),
    'regarding.name': (o) => strField(o, 'regarding', 'name'),
    'regarding.uid': (o) => strField(o, 'regarding', 'uid'),
    'regarding.apiVersion': (o) => strField(o, 'regarding', 'apiVersion'),
    'regarding.resourceVersion': (o) => strField(o, 'regarding', 'resourceVersion'),
    'regarding.fieldPath': (o) => strField(o, 'regarding', 'fieldPath'),
    reason: (o) => strField(o, 'reason'),
    reportingController: (o) => strField(o, 'reportingController'),
    type: (o) => strField(o, 'type'),
  },
  strategy: {
    validate(obj) {
      const ev = eventsV1ToCore(obj);
      return uniqueFieldErrors([
        ...legacyValidateEvent(ev, 'reportingController'),
        ...validateObjectMeta(ev.metadata, { namespaced: true, standardFinalizers: true }),
        ...strictEventChecks(ev),
      ]);
    },
    validateUpdate(obj, old) {
      const ev = eventsV1ToCore(obj);
      const prev = eventsV1ToCore(old);
      const errs = [
        ...legacyValidateEvent(ev, 'reportingController'),
        ...validateObjectMetaUpdate(ev.metadata, prev.metadata, 'metadata', {
          standardFinalizers: true,
        }),
      ];
      if (!semanticEqual(ev.series, prev.series)) errs.push(...validateSeries(ev));
      errs.push(...immutableEventChecks(ev, prev));
      return uniqueFieldErrors(errs);
    },
  },
};
