// Test helpers for the kinds: run an object through defaulting, conversion to the storage
// version, create preparation and validation, as the API server would on a create.
import { readFileSync, readdirSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { fieldErrorMessage, type FieldError } from '../errors.js';
import { isPlainObject, type KubeObject } from '../meta.js';
import type { ResourceDescription } from '../types.js';
import { workloadResources } from './workloads.js';

export function describe(apiVersion: string, kind: string): ResourceDescription | undefined {
  return workloadResources.find(
    (d) => (d.group === '' ? d.version : `${d.group}/${d.version}`) === apiVersion && d.kind === kind,
  );
}

export function storageDescription(d: ResourceDescription): ResourceDescription {
  const c = d.conversion;
  if (!c) return d;
  const s = workloadResources.find(
    (x) => x.group === c.storageGroup && x.version === c.storageVersion && x.kind === d.kind && !x.conversion,
  );
  if (!s) throw new Error(`no storage version for ${d.kind}`);
  return s;
}

export interface CreateResult {
  readonly stored: KubeObject;
  readonly errors: readonly FieldError[];
  readonly messages: readonly string[];
}

/** Default, prepare and validate in the served version, then convert to the storage version. */
export function simulateCreate(input: KubeObject, namespace = 'default'): CreateResult {
  const d = describe(input.apiVersion, input.kind);
  if (!d) throw new Error(`unknown kind ${input.apiVersion} ${input.kind}`);
  let obj = structuredClone(input);
  obj.metadata = obj.metadata ?? {};
  if (d.namespaced && !obj.metadata.namespace) obj.metadata.namespace = namespace;
  obj.metadata.uid = obj.metadata.uid ?? '3f1c2a9e-0000-4000-8000-000000000001';
  obj.metadata.creationTimestamp = obj.metadata.creationTimestamp ?? '2026-01-01T00:00:00Z';
  // As the API server does it: the served version's strategy (which, for a version served by
  // conversion, runs the storage version's behaviour), then conversion to the storage version.
  d.strategy?.default?.(obj);
  d.strategy?.prepareForCreate?.(obj);
  const errors = d.strategy?.validate?.(obj) ?? [];
  if (d.conversion) obj = d.conversion.toStorage(obj);
  return { stored: obj, errors, messages: errors.map(fieldErrorMessage) };
}

/** Validation messages for an object already in its storage version, after defaulting. */
export function validationMessages(input: KubeObject): string[] {
  return simulateCreate(input).messages.slice();
}

export const TESTDATA = new URL('../../../../src/api/kinds/testdata/', import.meta.url);

export function loadFixture(name: string): KubeObject[] {
  const text = readFileSync(new URL(name, TESTDATA), 'utf8');
  return parseAllDocuments(text, { uniqueKeys: false }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(doc.errors[0]?.message ?? 'YAML error');
    const v: unknown = doc.toJS();
    if (!isPlainObject(v)) throw new Error('not an object');
    return v as KubeObject;
  });
}

export function fixtureNames(): string[] {
  return readdirSync(TESTDATA)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}
