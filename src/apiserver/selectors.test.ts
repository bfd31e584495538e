import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';

test('label selectors match as upstream', () => {
  const l = { app: 'web', tier: 'front', n: '5' };
  const cases: [string, boolean][] = [
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app in (web, db)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['n>4', true],
    ['n<4', false],
    ['', true],
  ];
  for (const [sel, want] of cases) assert.equal(parseLabelSelector(sel).matches(l), want, sel);
});

test('label selector errors use upstream sentences', () => {
  assert.throws(() => parseLabelSelector('test-label=====name1'), {
    message: "unable to parse requirement: found '==', expected: identifier",
  });
  assert.throws(() => parseLabelSelector('env IN (a)'), {
    message: "unable to parse requirement: found 'IN', expected: in, notin, =, ==, !=, gt, lt",
  });
  assert.throws(() => parseLabelSelector('a=b c=d'), {
    message: "found 'c', expected: ',' or 'end of string'",
  });
  assert.throws(() => parseLabelSelector('a in b'), {
    message: "unable to parse requirement: found 'b', expected: '('",
  });
  assert.throws(() => parseLabelSelector('a=b,'), { message: "found '', expected: identifier after ','" });
});

test('field selectors', () => {
  const supported = (f: string): boolean => f === 'metadata.name' || f === 'status.phase';
  const s = parseFieldSelector('metadata.name=a,status.phase!=Running', supported);
  const get = (v: Record<string, string>) => (f: string) => v[f];
  assert.equal(s.matches(get({ 'metadata.name': 'a', 'status.phase': 'Pending' })), true);
  assert.equal(s.matches(get({ 'metadata.name': 'a', 'status.phase': 'Running' })), false);
  assert.throws(() => parseFieldSelector('foo=bar', supported), {
    message: 'field label not supported: foo',
  });
  assert.throws(() => parseFieldSelector('foo', supported), {
    message: "invalid selector: 'foo'; can't understand 'foo'",
  });
  assert.equal(
    parseFieldSelector('metadata.name=a\\,b', supported).matches(get({ 'metadata.name': 'a,b' })),
    true,
  );
});
