// A version served by conversion runs the storage version's strategy: the API server hands the
// served object to the strategy, which converts it, applies the storage version's behaviour and
// writes the result back in place. Validation runs on the converted object, so field paths are
// those of the storage version (as upstream's validation of its internal types reports them).
import type { KubeObject } from '../meta.js';
import type { Strategy, VersionConversion } from '../types.js';

type Conversion = Pick<VersionConversion, 'toStorage' | 'fromStorage'>;

function replaceContents(target: KubeObject, source: KubeObject): void {
  for (const k of Object.keys(target)) if (!(k in source)) delete target[k];
  Object.assign(target, source);
}

function inPlace(obj: KubeObject, conv: Conversion, f: (storageObj: KubeObject) => void): void {
  const s = conv.toStorage(obj);
  f(s);
  replaceContents(obj, conv.fromStorage(s));
}

/**
 * The strategy of a served version: its own defaults first (they differ between versions), then
 * everything else done by the storage version's strategy through the conversion.
 */
export function servedStrategy(
  storage: Strategy,
  conv: Conversion,
  servedDefault?: (obj: KubeObject) => void,
): Strategy {
  return {
    default(obj) {
      servedDefault?.(obj);
      if (storage.default) inPlace(obj, conv, (s) => storage.default?.(s));
    },
    prepareForCreate(obj) {
      if (storage.prepareForCreate) inPlace(obj, conv, (s) => storage.prepareForCreate?.(s));
    },
    prepareForUpdate(obj, old) {
      if (storage.prepareForUpdate)
        inPlace(obj, conv, (s) => storage.prepareForUpdate?.(s, conv.toStorage(old)));
    },
    validate(obj) {
      return storage.validate?.(conv.toStorage(obj)) ?? [];
    },
    validateUpdate(obj, old) {
      return storage.validateUpdate?.(conv.toStorage(obj), conv.toStorage(old)) ?? [];
    },
    prepareForStatusUpdate(obj, old) {
      if (storage.prepareForStatusUpdate)
        inPlace(obj, conv, (s) => storage.prepareForStatusUpdate?.(s, conv.toStorage(old)));
    },
    validateStatusUpdate(obj, old) {
      return storage.validateStatusUpdate?.(conv.toStorage(obj), conv.toStorage(old)) ?? [];
    },
    gracePeriodSeconds(obj, requested) {
      return storage.gracePeriodSeconds
        ? storage.gracePeriodSeconds(conv.toStorage(obj), requested)
        : undefined;
    },
  };
}
