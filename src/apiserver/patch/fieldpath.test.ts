import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../api/meta.js';
import type { FieldPath } from './fieldpath.js';
import {
  FieldSet,
  fieldElement,
  fieldsV1Contains,
  fieldsV1Overlaps,
  indexElement,
  isCanonicalFieldsV1,
  keyElement,
  parseElement,
  pathString,
  serializeElement,
  valueElement,
} from './fieldpath.js';

const f = fieldElement;

describe('FieldSet', () => {
  const fieldsV1: JsonObject = {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:template': {
        'f:spec': {
          'f:containers': {
            'k:{"name":"nginx"}': {
              '.': {},
              'f:image': {},
              'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
            },
          },
        },
      },
    },
    'f:metadata2': {},
  };

  it('reads and writes FieldsV1, "." marking nodes owned with their children', () => {
    const set = FieldSet.fromFieldsV1(fieldsV1);
    assert.equal(set.has([f('metadata'), f('labels')]), true);
    assert.equal(set.has([f('metadata')]), false);
    assert.equal(set.has([f('spec'), f('replicas')]), true);
    assert.equal(
      set.has([f('spec'), f('template'), f('spec'), f('containers'), keyElement([['name', 'nginx']])]),
      true,
    );
    const expected: JsonObject = structuredClone(fieldsV1);
    assert.deepEqual(set.toFieldsV1(), expected);
  });

  it('sorts fields, then keys, then values, then indices, and keys by their fields', () => {
    const set = new FieldSet();
    set.insert([f('b')]);
    set.insert([f('a')]);
    set.insert([valueElement('x')]);
    set.insert([
      keyElement([
        ['protocol', 'TCP'],
        ['containerPort', 80],
      ]),
    ]);
    assert.deepEqual(Object.keys(set.toFieldsV1()), [
      'f:a',
      'f:b',
      'k:{"containerPort":80,"protocol":"TCP"}',
      'v:"x"',
    ]);
  });

  it('prints paths as upstream does in conflict messages', () => {
    assert.equal(
      pathString([f('spec'), f('containers'), keyElement([['name', 'nginx']]), f('image')]),
      '.spec.containers[name="nginx"].image',
    );
    assert.equal(
      pathString([f('metadata'), f('finalizers'), valueElement('a')]),
      '.metadata.finalizers[="a"]',
    );
  });

  it('parses path elements back', () => {
    for (const s of ['f:a', 'k:{"containerPort":80,"protocol":"TCP"}', 'v:"x"', 'i:3']) {
      assert.equal(serializeElement(parseElement(s)!), s);
    }
    assert.equal(parseElement('z:whatever'), undefined);
  });

  it('computes unions, intersections and differences', () => {
    const a = FieldSet.fromPaths([[f('x'), f('y')], [f('z')]]);
    const b = FieldSet.fromPaths([[f('x'), f('y')], [f('w')]]);
    assert.deepEqual(a.union(b).paths().map(pathString), ['.w', '.z', '.x.y']);
    assert.deepEqual(a.intersection(b).paths().map(pathString), ['.x.y']);
    assert.deepEqual(a.difference(b).paths().map(pathString), ['.z']);
    const parent = FieldSet.fromPaths([[f('x')]]);
    assert.deepEqual(
      a.difference(parent).paths().map(pathString),
      ['.z', '.x.y'],
      'members do not remove children',
    );
    assert.deepEqual(a.recursiveDifference(parent).paths().map(pathString), ['.z']);
    assert.equal(a.difference(a).empty(), true);
  });
});

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSet(rnd: () => number): FieldSet {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const element = (): FieldPath[number] => {
    const r = rnd();
    if (r < 0.6) return fieldElement(pick(['a', 'b', 'spec', 'status', 'x.y', 'ünï', '<&>']));
    if (r < 0.8)
      return keyElement([
        ['name', pick(['web', 'db', 'a<b'])],
        ...(rnd() < 0.5 ? [['port', 80] as const] : []),
      ]);
    if (r < 0.9) return valueElement(pick(['v1', 2, true, 'a&b']));
    return indexElement(Math.floor(rnd() * 3));
  };
  const paths: FieldPath[] = [];
  const n = Math.floor(rnd() * 12);
  for (let i = 0; i < n; i++) paths.push(Array.from({ length: 1 + Math.floor(rnd() * 4) }, element));
  return FieldSet.fromPaths(paths);
}

function pathKeys(s: FieldSet): string[] {
  return s.paths().map(pathString);
}

describe('canonical FieldsV1', () => {
  it('holds for what toFieldsV1 writes, and decoding it gives the same set back', () => {
    const rnd = random(7);
    for (let i = 0; i < 500; i++) {
      const set = randomSet(rnd);
      const raw = set.toFieldsV1();
      assert.ok(isCanonicalFieldsV1(raw), JSON.stringify(raw));
      assert.equal(JSON.stringify(FieldSet.fromFieldsV1(raw).toFieldsV1()), JSON.stringify(raw));
    }
  });

  it('is refused for anything toFieldsV1 would write differently', () => {
    const notCanonical: JsonObject[] = [
      { 'f:b': {}, 'f:a': {} },
      { 'k:{"name":"a"}': {}, 'f:z': {} },
      { 'f:a': { '.': {} } },
      { 'f:a': { 'f:b': {}, '.': {} } },
      { '.': {}, 'f:a': {} },
      { 'f:a': { '.': { x: {} }, 'f:b': {} } },
      { 'k:{"port":80,"name":"a"}': {} },
      { 'k:{"name": "a"}': {} },
      { 'v:1.0': {} },
      { 'i:01': {} },
      { 'z:unknown': {} },
      { 'f:a': true },
      { 'k:not json': {} },
      { nocolon: {} },
    ];
    for (const raw of notCanonical) assert.equal(isCanonicalFieldsV1(raw), false, JSON.stringify(raw));
    assert.equal(isCanonicalFieldsV1(undefined), false);
    assert.equal(isCanonicalFieldsV1({}), true);
  });

  it('answers overlap and containment as the set operations do', () => {
    const rnd = random(11);
    for (let i = 0; i < 500; i++) {
      const a = randomSet(rnd);
      const b = randomSet(rnd);
      const raw = a.toFieldsV1();
      const overlap = !a.intersection(b).empty();
      assert.equal(a.overlaps(b), overlap);
      assert.equal(fieldsV1Overlaps(raw, b), overlap);
      assert.equal(fieldsV1Contains(raw, b), b.difference(a).empty());
      const part = FieldSet.fromPaths(a.paths().filter(() => rnd() < 0.5));
      assert.equal(fieldsV1Contains(raw, part), true, `${pathKeys(part).join()} in ${pathKeys(a).join()}`);
    }
  });
});
