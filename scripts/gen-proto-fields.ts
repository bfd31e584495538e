// Generates src/apiserver/protobuf/fields.json: for every Kubernetes API protobuf message, its
// field numbers, names, wire types and message types. These are wire-format facts that let the
// API server decode the protobuf request bodies kubectl's typed clients send
// (Content-Type: application/vnd.kubernetes.protobuf).
//
// Source of the facts: the compressed FileDescriptorProtos that Go's protobuf runtime embeds in
// every Kubernetes client binary; the kubectl on PATH (or the path given) has all of them.
//   node dist/scripts/gen-proto-fields.js [/path/to/kubectl]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, constants } from 'node:zlib';
import { ProtoReader, utf8, WIRE_BYTES, WIRE_VARINT } from '../src/apiserver/protobuf/wire.js';

type FieldFact = [name: string, type: number, repeated: number, typeName?: string];
interface MessageFact {
  map?: 1;
  f: Record<string, FieldFact>;
}

const WANTED_PREFIXES = [
  'k8s.io/api/',
  'k8s.io/apimachinery/',
  'k8s.io/kube-aggregator/',
  'k8s.io/apiextensions-apiserver/',
];

function readField(bytes: Uint8Array): {
  name: string;
  number: number;
  label: number;
  type: number;
  typeName: string;
} {
  const r = new ProtoReader(bytes);
  const out = { name: '', number: 0, label: 1, type: 0, typeName: '' };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_BYTES) out.name = utf8.decode(r.bytes());
    else if (field === 3 && wire === WIRE_VARINT) out.number = r.varint();
    else if (field === 4 && wire === WIRE_VARINT) out.label = r.varint();
    else if (field === 5 && wire === WIRE_VARINT) out.type = r.varint();
    else if (field === 6 && wire === WIRE_BYTES) out.typeName = utf8.decode(r.bytes()).replace(/^\./, '');
    else r.skip(wire);
  }
  return out;
}

function isMapEntry(options: Uint8Array): boolean {
  const r = new ProtoReader(options);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 7 && wire === WIRE_VARINT) return r.varint() === 1;
    r.skip(wire);
  }
  return false;
}

function readMessage(bytes: Uint8Array, scope: string, out: Record<string, MessageFact>): void {
  const r = new ProtoReader(bytes);
  let name = '';
  const fields: FieldFact[] = [];
  const numbers: number[] = [];
  const nested: Uint8Array[] = [];
  let map = false;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_BYTES) name = utf8.decode(r.bytes());
    else if (field === 2 && wire === WIRE_BYTES) {
      const f = readField(r.bytes());
      const fact: FieldFact = [f.name, f.type, f.label === 3 ? 1 : 0];
      if (f.typeName) fact.push(f.typeName);
      fields.push(fact);
      numbers.push(f.number);
    } else if (field === 3 && wire === WIRE_BYTES) nested.push(r.bytes());
    else if (field === 7 && wire === WIRE_BYTES) map = isMapEntry(r.bytes());
    else r.skip(wire);
  }
  const full = `${scope}.${name}`;
  const fact: MessageFact = { f: {} };
  if (map) fact.map = 1;
  fields.forEach((f, i) => (fact.f[String(numbers[i])] = f));
  out[full] = fact;
  for (const n of nested) readMessage(n, full, out);
}

function readFile(bytes: Uint8Array, out: Record<string, MessageFact>): string | undefined {
  const r = new ProtoReader(bytes);
  let name = '';
  let pkg = '';
  const messages: Uint8Array[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_BYTES) name = utf8.decode(r.bytes());
    else if (field === 2 && wire === WIRE_BYTES) pkg = utf8.decode(r.bytes());
    else if (field === 4 && wire === WIRE_BYTES) messages.push(r.bytes());
    else r.skip(wire);
  }
  if (!WANTED_PREFIXES.some((p) => name.startsWith(p))) return undefined;
  for (const m of messages) readMessage(m, pkg, out);
  return name;
}

function main(): void {
  const binary =
    process.argv[2] ?? execFileSync('sh', ['-c', 'readlink -f "$(command -v kubectl)"']).toString().trim();
  const buf = readFileSync(binary);
  const out: Record<string, MessageFact> = {};
  const files = new Set<string>();
  for (let i = buf.indexOf(0x1f); i >= 0 && i < buf.length - 3; i = buf.indexOf(0x1f, i + 1)) {
    if (buf[i + 1] !== 0x8b || buf[i + 2] !== 0x08) continue;
    let inflated: Buffer;
    try {
      inflated = gunzipSync(buf.subarray(i, Math.min(buf.length, i + 4_000_000)), {
        finishFlush: constants.Z_SYNC_FLUSH,
      });
    } catch {
      continue;
    }
    // A FileDescriptorProto starts with field 1 (its name), a .proto path.
    if (inflated[0] !== 0x0a) continue;
    const head = utf8.decode(inflated.subarray(0, 200));
    if (!head.includes('.proto')) continue;
    try {
      const name = readFile(inflated, out);
      if (name) files.add(name);
    } catch {
      continue;
    }
  }
  const sorted: Record<string, MessageFact> = {};
  for (const k of Object.keys(out).sort()) sorted[k] = out[k]!;
  const target = join('src', 'apiserver', 'protobuf', 'fields.json');
  writeFileSync(target, JSON.stringify(sorted) + '\n');
  process.stderr.write(`${target}: ${Object.keys(sorted).length} messages from ${files.size} files\n`);
}

main();
