// The registry of named schemas the API server validates against and serves as OpenAPI.
// Built-in definitions come from src/api/generated/definitions.json (written by
// scripts/gen-schemas.ts); CustomResourceDefinitions add and remove their own at run time.
//
// Locating the JSON: tsc does not copy .json files into dist/, so the module looks for
// `generated/definitions.json` beside itself first (running from src/ with a TS loader, or a
// build that copies it) and otherwise walks up to the repository root and reads
// src/api/generated/definitions.json from there (running from dist/src/api/). The committed file
// is thus the single copy, and no build step has to remember to copy it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Schema, SchemaRegistry } from './schema.js';

const RELATIVE_JSON = join('src', 'api', 'generated', 'definitions.json');

/** The path of the generated definitions file, wherever this module runs from. */
export function definitionsPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'generated', 'definitions.json');
  if (existsSync(beside)) return beside;
  let dir = here;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, RELATIVE_JSON);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`schema registry: cannot find ${RELATIVE_JSON} from ${here}`);
}

/** Follows a chain of $ref this many times at most; deeper chains mean a cycle. */
const MAX_REF_DEPTH = 32;

export class DefinitionRegistry implements SchemaRegistry {
  private readonly defs: Map<string, Schema>;

  constructor(definitions: Readonly<Record<string, Schema>> = {}) {
    this.defs = new Map(Object.entries(definitions));
  }

  /** Loads the generated built-in definitions from disk. */
  static loadBuiltin(path: string = definitionsPath()): DefinitionRegistry {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`schema registry: ${path} does not hold an object of definitions`);
    }
    return new DefinitionRegistry(parsed as Record<string, Schema>);
  }

  get(name: string): Schema | undefined {
    return this.defs.get(name);
  }

  resolve(schema: Schema): Schema {
    let current = schema;
    for (let i = 0; i < MAX_REF_DEPTH; i++) {
      if (current.$ref === undefined) return current;
      const next = this.defs.get(current.$ref);
      if (next === undefined) throw new Error(`schema registry: unknown definition ${current.$ref}`);
      current = next;
    }
    throw new Error(`schema registry: $ref chain too deep (a cycle?) starting at ${schema.$ref ?? '?'}`);
  }

  names(): Iterable<string> {
    return this.defs.keys();
  }

  set(name: string, schema: Schema): void {
    this.defs.set(name, schema);
  }

  delete(name: string): void {
    this.defs.delete(name);
  }

  get size(): number {
    return this.defs.size;
  }
}

let builtin: DefinitionRegistry | undefined;

/**
 * The registry of built-in definitions, loaded once per process. Callers that add CRD schemas
 * should layer them in a registry of their own (or accept that they share this one).
 */
export function builtinSchemas(): SchemaRegistry {
  builtin ??= DefinitionRegistry.loadBuiltin();
  return builtin;
}
