// Request bodies: size limit, content types, a JSON parser that reports duplicate keys (which
// JSON.parse silently resolves) and YAML, so that fieldValidation can refuse or warn about them.
import type { IncomingMessage } from 'node:http';
import { parseDocument } from 'yaml';
import { badRequest, requestEntityTooLarge, unsupportedMediaType } from '../api/errors.js';
import { decodeProtobuf, PROTOBUF_CONTENT_TYPE } from './protobuf/decode.js';

export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_REQUEST_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw requestEntityTooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw requestEntityTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

export interface ParsedBody {
  readonly value: unknown;
  /** Paths of keys that appeared more than once ("metadata.name"). */
  readonly duplicates: readonly string[];
}

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
}

function describeChar(c: string | undefined): string {
  if (c === undefined) return 'unexpected end of JSON input';
  return `invalid character ${JSON.stringify(c).replace(/^"|"$/g, "'")}`;
}

/** JSON.parse with the positions of duplicate object keys recorded. */
export function parseJsonDetectingDuplicates(text: string): ParsedBody {
  const duplicates: string[] = [];
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (what: string): never => {
    const c = text[i];
    throw new JsonSyntaxError(
      c === undefined ? 'unexpected end of JSON input' : `${describeChar(c)} ${what}`,
    );
  };
  const str = (): string => {
    const start = i + 1;
    let j = start;
    let escaped = false;
    for (;;) {
      if (j >= n) {
        i = n;
        fail('in string literal');
      }
      const c = text.charCodeAt(j);
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c < 32) {
        i = j;
        fail('in string literal');
      }
      j++;
    }
    i = j + 1;
    if (!escaped) return text.slice(start, j);
    try {
      return JSON.parse(text.slice(start - 1, j + 1)) as string;
    } catch {
      i = start;
      throw new JsonSyntaxError('invalid escape in string literal');
    }
  };
  const value = (path: string): unknown => {
    ws();
    const c = text[i];
    switch (c) {
      case '{': {
        i++;
        const obj: Record<string, unknown> = {};
        ws();
        if (text[i] === '}') {
          i++;
          return obj;
        }
        for (;;) {
          ws();
          if (text[i] !== '"') fail('looking for beginning of object key string');
          const key = str();
          ws();
          if (text[i] !== ':') fail('after object key');
          i++;
          const childPath = path === '' ? key : `${path}.${key}`;
          const v = value(childPath);
          if (Object.prototype.hasOwnProperty.call(obj, key)) duplicates.push(childPath);
          if (key === '__proto__')
            Object.defineProperty(obj, key, {
              value: v,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          else obj[key] = v;
          ws();
          const d = text[i];
          if (d === ',') {
            i++;
            continue;
          }
          if (d === '}') {
            i++;
            return obj;
          }
          fail('after object key:value pair');
        }
      }

      case '[': {
        i++;
        const arr: unknown[] = [];
        ws();
        if (text[i] === ']') {
          i++;
          return arr;
        }
        for (;;) {
          arr.push(value(`${path}[${arr.length}]`));
          ws();
          const d = text[i];
          if (d === ',') {
            i++;
            continue;
          }
          if (d === ']') {
            i++;
            return arr;
          }
          fail('after array element');
        }
      }

      case '"':
        return str();
      case 't':
        if (text.startsWith('true', i)) {
          i += 4;
          return true;
        }
        return fail("in literal true (expecting 'r')");
      case 'f':
        if (text.startsWith('false', i)) {
          i += 5;
          return false;
        }
        return fail("in literal false (expecting 'a')");
      case 'n':
        if (text.startsWith('null', i)) {
          i += 4;
          return null;
        }
        return fail("in literal null (expecting 'u')");
      case undefined:
        return fail('looking for beginning of value');
      default: {
        const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
        if (!m) return fail('looking for beginning of value');
        i += m[0].length;
        return Number(m[0]);
      }
    }
  };
  const result = value('');
  ws();
  if (i < n) fail('after top-level value');
  return { value: result, duplicates };
}

export function parseYamlDetectingDuplicates(text: string): ParsedBody {
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, version: '1.2' });
  if (doc.errors.length) throw new JsonSyntaxError(`yaml: ${doc.errors[0]!.message}`);
  const duplicates: string[] = [];
  // Walk the YAML AST to find repeated keys in the same mapping.
  const walk = (node: unknown, path: string): void => {
    if (node && typeof node === 'object' && 'items' in node && Array.isArray(node.items)) {
      const items = (node as { items: unknown[] }).items;
      const seen = new Set<string>();
      items.forEach((item, idx) => {
        if (item && typeof item === 'object' && 'key' in item && 'value' in item) {
          const keyNode = (item as { key: unknown }).key;
          const key =
            keyNode && typeof keyNode === 'object' && 'value' in keyNode
              ? String(keyNode.value)
              : String(keyNode);
          const childPath = path === '' ? key : `${path}.${key}`;
          if (seen.has(key)) duplicates.push(childPath);
          seen.add(key);
          walk((item as { value: unknown }).value, childPath);
        } else walk(item, `${path}[${idx}]`);
      });
    }
  };
  walk(doc.contents, '');
  return { value: doc.toJS({ maxAliasCount: 100 }) as unknown, duplicates };
}

export type BodyFormat = 'json' | 'yaml';

/** The media type without parameters, lower-cased. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Names the protobuf message of an apiVersion/kind, for protobuf bodies. */
export type ProtoMessageResolver = (apiVersion: string, kind: string) => string | undefined;

/** Parses a create/update body per its Content-Type; malformed input is a 400 with the parser's words. */
export function decodeObjectBody(
  raw: Buffer,
  contentType: string | undefined,
  protoMessage?: ProtoMessageResolver,
): ParsedBody {
  const mt = mediaType(contentType);
  if (mt === PROTOBUF_CONTENT_TYPE && protoMessage) {
    try {
      return { value: decodeProtobuf(raw, protoMessage).object, duplicates: [] };
    } catch (err) {
      throw badRequest(`error decoding body: ${(err as Error).message}`);
    }
  }
  const text = raw.toString('utf8');
  if (mt === '' || mt === 'application/json' || mt === '*/*') return decodeJson(text);
  if (mt === 'application/yaml' || mt === 'application/x-yaml' || mt === 'text/yaml') return decodeYaml(text);
  throw unsupportedMediaType(contentType ?? '');
}

export function decodeJson(text: string): ParsedBody {
  try {
    return parseJsonDetectingDuplicates(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

export function decodeYaml(text: string): ParsedBody {
  try {
    return parseYamlDetectingDuplicates(text);
  } catch (err) {
    throw badRequest(`error converting YAML to JSON: ${(err as Error).message}`);
  }
}
