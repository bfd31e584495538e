// The small part of the Reflect metadata API that @peculiar/x509's dependency injection container
// (tsyringe) needs at load time. It must be imported before @peculiar/x509. If a full polyfill such as
// reflect-metadata is already installed, it is left alone.
type MetadataMap = Map<unknown, unknown>;

const store = new WeakMap<object, Map<PropertyKey | undefined, MetadataMap>>();

function table(target: object, property: PropertyKey | undefined, create: boolean): MetadataMap | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let map = byProperty.get(property);
  if (!map && create) {
    map = new Map();
    byProperty.set(property, map);
  }
  return map;
}

function getOwnMetadata(key: unknown, target: object, property?: PropertyKey): unknown {
  return table(target, property, false)?.get(key);
}

function hasOwnMetadata(key: unknown, target: object, property?: PropertyKey): boolean {
  return table(target, property, false)?.has(key) ?? false;
}

function getMetadata(key: unknown, target: object, property?: PropertyKey): unknown {
  for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
    if (hasOwnMetadata(key, t, property)) return getOwnMetadata(key, t, property);
  }
  return undefined;
}

function hasMetadata(key: unknown, target: object, property?: PropertyKey): boolean {
  for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
    if (hasOwnMetadata(key, t, property)) return true;
  }
  return false;
}

function defineMetadata(key: unknown, value: unknown, target: object, property?: PropertyKey): void {
  table(target, property, true)?.set(key, value);
}

function metadata(key: unknown, value: unknown) {
  return (target: object, property?: PropertyKey): void => defineMetadata(key, value, target, property);
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R['getMetadata'] !== 'function') {
  Object.assign(R, { getMetadata, getOwnMetadata, hasMetadata, hasOwnMetadata, defineMetadata, metadata });
}

export {};
