// The OpenAPI v2 document in protobuf, as gnostic's openapi.v2.Document (the encoding kube-apiserver
// serves for `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`). kubectl asks for
// nothing else when it validates a kind its OpenAPI v3 lookup does not cover — a `kind: List` file,
// for one — so without it `kubectl apply -f list.yaml` fails. Values with no fixed protobuf shape
// (defaults, enums, examples, x- extensions) travel as YAML text in gnostic's Any.yaml, as gnostic
// writes them; kube-openapi reads them back from there.
import { stringify } from 'yaml';

type Json = Record<string, unknown>;

/** Field numbers of the gnostic OpenAPIv2.proto messages written here. */
const F = {
  document: { swagger: 1, info: 2, paths: 8, definitions: 9, security: 12, securityDefinitions: 13 },
  info: { title: 1, version: 2, description: 3 },
  named: { name: 1, value: 2 },
  any: { yaml: 2 },
  paths: { path: 2 },
  pathItem: { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8, parameters: 9, ext: 10 },
  operation: {
    tags: 1,
    summary: 2,
    description: 3,
    operationId: 5,
    produces: 6,
    consumes: 7,
    parameters: 8,
    responses: 9,
    schemes: 10,
    deprecated: 11,
    ext: 13,
  },
  parametersItem: { parameter: 1, jsonReference: 2 },
  parameter: { body: 1, nonBody: 2 },
  body: { description: 1, name: 2, in: 3, required: 4, schema: 5 },
  nonBody: { header: 1, formData: 2, query: 3, path: 4 },
  responses: { code: 1 },
  responseValue: { response: 1 },
  response: { description: 1, schema: 2 },
  schemaItem: { schema: 1 },
  securityDefinitionsItem: { apiKey: 2 },
  apiKey: { type: 1, name: 2, in: 3, description: 4 },
  schema: {
    ref: 1,
    format: 2,
    title: 3,
    description: 4,
    default: 5,
    multipleOf: 6,
    maximum: 7,
    exclusiveMaximum: 8,
    minimum: 9,
    exclusiveMinimum: 10,
    maxLength: 11,
    minLength: 12,
    pattern: 13,
    maxItems: 14,
    minItems: 15,
    uniqueItems: 16,
    maxProperties: 17,
    minProperties: 18,
    required: 19,
    enum: 20,
    additionalProperties: 21,
    type: 22,
    items: 23,
    allOf: 24,
    properties: 25,
    discriminator: 26,
    readOnly: 27,
    example: 30,
    ext: 31,
  },
  additionalProperties: { schema: 1, boolean: 2 },
  list: { value: 1 },
} as const;

/** The non-body parameter sub-schemas share their first fields but not their numbering. */
const NON_BODY_FIELDS = {
  query: { required: 1, in: 2, description: 3, name: 4, type: 6, format: 7, uniqueItems: 20 },
  path: { required: 1, in: 2, description: 3, name: 4, type: 5, format: 6, uniqueItems: 19 },
  header: { required: 1, in: 2, description: 3, name: 4, type: 5, format: 6, uniqueItems: 19 },
  formData: { required: 1, in: 2, description: 3, name: 4, type: 6, format: 7, uniqueItems: 20 },
} as const;

/** A protobuf message under construction: fields appended in order, nested messages as bytes. */
class Writer {
  private readonly parts: Buffer[] = [];

  private varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.parts.push(Buffer.from(bytes));
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  bytes(field: number, data: Buffer): this {
    this.key(field, 2);
    this.varint(data.length);
    this.parts.push(data);
    return this;
  }

  string(field: number, value: unknown): this {
    if (typeof value === 'string' && value !== '') this.bytes(field, Buffer.from(value, 'utf8'));
    return this;
  }

  strings(field: number, values: unknown): this {
    if (Array.isArray(values))
      for (const v of values) if (typeof v === 'string') this.bytes(field, Buffer.from(v));
    return this;
  }

  bool(field: number, value: unknown): this {
    if (value === true) {
      this.key(field, 0);
      this.varint(1);
    }
    return this;
  }

  int64(field: number, value: unknown): this {
    if (typeof value === 'number' && Number.isInteger(value) && value !== 0) {
      this.key(field, 0);
      this.varint(value);
    }
    return this;
  }

  double(field: number, value: unknown): this {
    if (typeof value === 'number' && value !== 0) {
      this.key(field, 1);
      const b = Buffer.alloc(8);
      b.writeDoubleLE(value);
      this.parts.push(b);
    }
    return this;
  }

  message(field: number, inner: Writer): this {
    return this.bytes(field, inner.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** gnostic's Any: the value as YAML text. */
function anyOf(value: unknown): Writer {
  return new Writer().string(F.any.yaml, stringify(value));
}

function named(name: string, value: Writer): Writer {
  return new Writer().string(F.named.name, name).message(F.named.value, value);
}

function vendorExtensions(w: Writer, field: number, obj: Json): void {
  for (const [k, v] of Object.entries(obj)) if (k.startsWith('x-')) w.message(field, named(k, anyOf(v)));
}

function schemaMessage(s: Json): Writer {
  const f = F.schema;
  const w = new Writer()
    .string(f.ref, s.$ref)
    .string(f.format, s.format)
    .string(f.title, s.title)
    .string(f.description, s.description);
  if (s.default !== undefined) w.message(f.default, anyOf(s.default));
  w.double(f.multipleOf, s.multipleOf)
    .double(f.maximum, s.maximum)
    .bool(f.exclusiveMaximum, s.exclusiveMaximum)
    .double(f.minimum, s.minimum)
    .bool(f.exclusiveMinimum, s.exclusiveMinimum)
    .int64(f.maxLength, s.maxLength)
    .int64(f.minLength, s.minLength)
    .string(f.pattern, s.pattern)
    .int64(f.maxItems, s.maxItems)
    .int64(f.minItems, s.minItems)
    .bool(f.uniqueItems, s.uniqueItems)
    .int64(f.maxProperties, s.maxProperties)
    .int64(f.minProperties, s.minProperties)
    .strings(f.required, s.required);
  if (Array.isArray(s.enum)) for (const e of s.enum) w.message(f.enum, anyOf(e));
  if (isObject(s.additionalProperties))
    w.message(
      f.additionalProperties,
      new Writer().message(F.additionalProperties.schema, schemaMessage(s.additionalProperties)),
    );
  else if (typeof s.additionalProperties === 'boolean')
    w.bytes(f.additionalProperties, booleanMember(s.additionalProperties));
  if (typeof s.type === 'string') w.message(f.type, new Writer().string(F.list.value, s.type));
  else if (Array.isArray(s.type)) w.message(f.type, new Writer().strings(F.list.value, s.type));
  if (isObject(s.items)) w.message(f.items, new Writer().message(F.list.value, schemaMessage(s.items)));
  else if (Array.isArray(s.items)) {
    const items = new Writer();
    for (const i of s.items) if (isObject(i)) items.message(F.list.value, schemaMessage(i));
    w.message(f.items, items);
  }
  if (Array.isArray(s.allOf)) for (const a of s.allOf) if (isObject(a)) w.message(f.allOf, schemaMessage(a));
  if (isObject(s.properties)) {
    const props = new Writer();
    for (const [name, p] of Object.entries(s.properties))
      if (isObject(p)) props.message(F.list.value, named(name, schemaMessage(p)));
    w.message(f.properties, props);
  }
  w.string(f.discriminator, s.discriminator).bool(f.readOnly, s.readOnly);
  if (s.example !== undefined) w.message(f.example, anyOf(s.example));
  vendorExtensions(w, f.ext, s);
  return w;
}

/** AdditionalPropertiesItem{boolean}: a oneof member is written even when false (its presence is the information). */
function booleanMember(value: boolean): Buffer {
  return Buffer.from([(F.additionalProperties.boolean << 3) | 0, value ? 1 : 0]);
}

function parameterMessage(p: Json): Writer {
  if (p.in === 'body') {
    const body = new Writer()
      .string(F.body.description, p.description)
      .string(F.body.name, p.name)
      .string(F.body.in, p.in)
      .bool(F.body.required, p.required);
    if (isObject(p.schema)) body.message(F.body.schema, schemaMessage(p.schema));
    return new Writer().message(F.parameter.body, body);
  }
  const where = p.in === 'path' || p.in === 'header' || p.in === 'formData' ? p.in : 'query';
  const fields = NON_BODY_FIELDS[where];
  const sub = new Writer()
    .bool(fields.required, p.required)
    .string(fields.in, p.in)
    .string(fields.description, p.description)
    .string(fields.name, p.name)
    .string(fields.type, p.type)
    .string(fields.format, p.format)
    .bool(fields.uniqueItems, p.uniqueItems);
  return new Writer().message(F.parameter.nonBody, new Writer().message(F.nonBody[where], sub));
}

function parametersItems(w: Writer, field: number, params: unknown): void {
  if (!Array.isArray(params)) return;
  for (const p of params)
    if (isObject(p)) w.message(field, new Writer().message(F.parametersItem.parameter, parameterMessage(p)));
}

function operationMessage(op: Json): Writer {
  const f = F.operation;
  const w = new Writer()
    .strings(f.tags, op.tags)
    .string(f.summary, op.summary)
    .string(f.description, op.description)
    .string(f.operationId, op.operationId)
    .strings(f.produces, op.produces)
    .strings(f.consumes, op.consumes);
  parametersItems(w, f.parameters, op.parameters);
  if (isObject(op.responses)) {
    const responses = new Writer();
    for (const [code, r] of Object.entries(op.responses)) {
      if (!isObject(r)) continue;
      const response = new Writer().string(F.response.description, r.description);
      if (isObject(r.schema))
        response.message(
          F.response.schema,
          new Writer().message(F.schemaItem.schema, schemaMessage(r.schema)),
        );
      responses.message(
        F.responses.code,
        named(code, new Writer().message(F.responseValue.response, response)),
      );
    }
    w.message(f.responses, responses);
  }
  w.strings(f.schemes, op.schemes).bool(f.deprecated, op.deprecated);
  vendorExtensions(w, f.ext, op);
  return w;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

function pathItemMessage(item: Json): Writer {
  const w = new Writer();
  for (const m of METHODS) {
    const op = item[m];
    if (isObject(op)) w.message(F.pathItem[m], operationMessage(op));
  }
  parametersItems(w, F.pathItem.parameters, item.parameters);
  vendorExtensions(w, F.pathItem.ext, item);
  return w;
}

/** Encodes a Swagger 2.0 document (as the JSON the server serves) as gnostic's openapi.v2.Document. */
export function encodeOpenApiV2(doc: Json): Buffer {
  const d = F.document;
  const w = new Writer().string(d.swagger, doc.swagger);
  if (isObject(doc.info))
    w.message(
      d.info,
      new Writer()
        .string(F.info.title, doc.info.title)
        .string(F.info.version, doc.info.version)
        .string(F.info.description, doc.info.description),
    );
  if (isObject(doc.paths)) {
    const paths = new Writer();
    for (const [path, item] of Object.entries(doc.paths))
      if (isObject(item)) paths.message(F.paths.path, named(path, pathItemMessage(item)));
    w.message(d.paths, paths);
  }
  if (isObject(doc.definitions)) {
    const defs = new Writer();
    for (const [name, s] of Object.entries(doc.definitions))
      if (isObject(s)) defs.message(F.list.value, named(name, schemaMessage(s)));
    w.message(d.definitions, defs);
  }
  if (Array.isArray(doc.security))
    for (const req of doc.security) {
      if (!isObject(req)) continue;
      const r = new Writer();
      for (const [name, scopes] of Object.entries(req))
        r.message(F.list.value, named(name, new Writer().strings(F.list.value, scopes)));
      w.message(d.security, r);
    }
  if (isObject(doc.securityDefinitions)) {
    const defs = new Writer();
    for (const [name, s] of Object.entries(doc.securityDefinitions)) {
      if (!isObject(s) || s.type !== 'apiKey') continue;
      const apiKey = new Writer()
        .string(F.apiKey.type, s.type)
        .string(F.apiKey.name, s.name)
        .string(F.apiKey.in, s.in)
        .string(F.apiKey.description, s.description);
      defs.message(F.list.value, named(name, new Writer().message(F.securityDefinitionsItem.apiKey, apiKey)));
    }
    w.message(d.securityDefinitions, defs);
  }
  return w.finish();
}
