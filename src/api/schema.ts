// The structural schema of API types, as OpenAPI v2/v3 describe it, with the x-kubernetes-*
// extensions that kubectl and the patch machinery read. Built-in definitions are generated
// (scripts/gen-schemas.ts → src/api/generated/) from upstream's facts; CRDs add their own at run time.
import type { JsonValue } from './meta.js';

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface Schema {
  type?: SchemaType;
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: JsonValue[];
  default?: JsonValue;
  /** A definition name, without any '#/definitions/' prefix: 'io.k8s.api.core.v1.PodSpec'. */
  $ref?: string;
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
  'x-kubernetes-patch-merge-key'?: string;
  /** 'merge', 'retainKeys', or 'merge,retainKeys'. */
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  /** Discriminated unions: the discriminator field and the member fields it selects between. */
  'x-kubernetes-unions'?: JsonValue[];
}

/** Named definitions (the OpenAPI "definitions" / "components.schemas" map). */
export interface SchemaRegistry {
  get(name: string): Schema | undefined;
  /** Follows $ref (repeatedly) to the schema it names; returns the schema itself when it has none. */
  resolve(schema: Schema): Schema;
  names(): Iterable<string>;
  /** Adds or replaces a definition (CRDs do this at run time). */
  set(name: string, schema: Schema): void;
  delete(name: string): void;
}
