import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAge, humanDuration } from './age.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test('HumanDuration thresholds', () => {
  const cases: [number, string][] = [
    [-2 * S, '<invalid>'],
    [-1 * S, '0s'],
    [-500, '0s'],
    [0, '0s'],
    [5 * S, '5s'],
    [119 * S, '119s'],
    [2 * M, '2m'],
    [3 * M + 20 * S, '3m20s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M + 30 * S, '10m'],
    [179 * M, '179m'],
    [3 * H, '3h'],
    [3 * H + 5 * M, '3h5m'],
    [8 * H + 30 * M, '8h'],
    [47 * H, '47h'],
    [2 * D, '2d'],
    [2 * D + 4 * H, '2d4h'],
    [8 * D, '8d'],
    [729 * D, '729d'],
    [730 * D, '2y'],
    [2 * 365 * D + 10 * D, '2y10d'],
    [8 * 365 * D, '8y'],
    [20 * 365 * D + 100 * D, '20y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
});

test('formatAge renders relative to now, <unknown> without a timestamp', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  assert.equal(formatAge('2024-05-01T11:59:55Z', now), '5s');
  assert.equal(formatAge('2024-04-29T08:00:00Z', now), '2d4h');
  assert.equal(formatAge(undefined, now), '<unknown>');
  assert.equal(formatAge(null, now), '<unknown>');
  assert.equal(formatAge('garbage', now), '<unknown>');
  assert.equal(formatAge('2024-05-01T12:00:10Z', now), '<invalid>');
});
