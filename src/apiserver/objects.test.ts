import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cloneObject, sameContent } from './objects.js';

/** The rule sameContent implements, spelled out the slow way: JSON with sorted keys. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

test('sameContent ignores key order and undefined keys, and sees every other difference', () => {
  assert.ok(sameContent({ a: 1, b: { c: [1, 'x'] } }, { b: { c: [1, 'x'] }, a: 1 }));
  assert.ok(sameContent({ a: 1, gone: undefined }, { a: 1 }));
  assert.ok(sameContent([undefined], [null]));
  assert.ok(!sameContent({ a: 1 }, { a: 1, b: null }));
  assert.ok(!sameContent({ a: [1, 2] }, { a: [2, 1] }));
  assert.ok(!sameContent({ a: '1' }, { a: 1 }));
  assert.ok(!sameContent([], {}));
  assert.ok(!sameContent({ a: { b: 1 } }, { a: { b: 1, c: 2 } }));
});

test('sameContent agrees with comparing sorted-key JSON on random objects', () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const leaves: unknown[] = [0, 1, -0, '', 'a', '1', true, false, null, undefined, NaN];
  const gen = (depth: number): unknown => {
    const pick = rnd(depth > 2 ? 1 : 3);
    if (pick === 0) return leaves[rnd(leaves.length)];
    if (pick === 1) return Array.from({ length: rnd(3) }, () => gen(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = rnd(4); i > 0; i--) o[['a', 'b', 'c'][rnd(3)]!] = gen(depth + 1);
    return o;
  };
  let equal = 0;
  for (let i = 0; i < 5000; i++) {
    const a = gen(0);
    const b = rnd(2) === 0 ? gen(0) : structuredClone(a);
    const want = canonical(a) === canonical(b);
    if (want) equal++;
    assert.equal(sameContent(a, b), want, `${canonical(a)} vs ${canonical(b)}`);
  }
  assert.ok(equal > 100 && equal < 4900, `a mix of equal and different pairs (${equal} equal)`);
});

test('cloneObject copies JSON data deeply, like structuredClone, sharing nothing', () => {
  const original = {
    a: [1, { b: 'x', c: null, d: undefined }],
    e: { f: { g: [true, 0, -1.5, ''] } },
    when: new Date(0),
  };
  const copy = cloneObject(original);
  assert.deepEqual(copy, structuredClone(original));
  assert.ok('d' in (copy.a[1] as object), 'keys holding undefined are kept');
  assert.notEqual(copy.a, original.a);
  assert.notEqual(copy.a[1], original.a[1]);
  assert.notEqual(copy.e.f.g, original.e.f.g);
  assert.ok(copy.when instanceof Date && copy.when !== original.when);
  (copy.e.f.g as unknown[]).push('more');
  assert.equal(original.e.f.g.length, 4);
});
