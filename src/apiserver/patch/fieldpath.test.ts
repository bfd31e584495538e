import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../api/meta.js';
import {
  FieldSet,
  fieldElement,
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
