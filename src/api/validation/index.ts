// Generic validation shared by every kind: names and labels, object metadata, schema conformance
// (unknown fields and value types) and immutable fields.
export * from './immutable.js';
export * from './names.js';
export * from './objectmeta.js';
export * from './schema-walk.js';
export * from './selector.js';
export * from './generic.js';
