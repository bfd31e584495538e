import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  QUANTITY_FORMAT_ERROR,
  QUANTITY_SUFFIX_ERROR,
  addQuantity,
  canonicalQuantity,
  compareQuantity,
  formatQuantity,
  parseQuantity,
  quantityMilliValue,
  quantityValue,
} from './quantity.js';

test('canonical forms match resource.Quantity.String()', () => {
  const cases: [string | number, string][] = [
    ['100m', '100m'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['0.5', '500m'],
    ['.5', '500m'],
    ['1', '1'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['2k', '2k'],
    ['1M', '1M'],
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Ki', '512'],
    ['512Ki', '512Ki'],
    ['1e3', '1e3'],
    ['1E6', '1e6'],
    ['12e2', '1200'],
    ['0', '0'],
    ['0Mi', '0'],
    ['1n', '1n'],
    ['0.1n', '1n'],
    ['1.1Ki', '1126400m'],
    ['-1', '-1'],
    [2, '2'],
    [0.25, '250m'],
    ['+5', '5'],
  ];
  for (const [input, want] of cases) assert.equal(formatQuantity(parseQuantity(input)), want, String(input));
});

test('malformed quantities fail with upstream messages', () => {
  assert.throws(() => parseQuantity('abc'), { message: QUANTITY_FORMAT_ERROR });
  assert.throws(() => parseQuantity('1.2.3'), { message: QUANTITY_FORMAT_ERROR });
  assert.throws(() => parseQuantity('1Gb'), { message: QUANTITY_FORMAT_ERROR });
  assert.throws(() => parseQuantity('1kk'), { message: QUANTITY_SUFFIX_ERROR });
  assert.throws(() => parseQuantity('.'), { message: QUANTITY_FORMAT_ERROR });
  assert.throws(() => parseQuantity(''));
});

test('compare, add, values', () => {
  assert.equal(compareQuantity(parseQuantity('1'), parseQuantity('1000m')), 0);
  assert.equal(compareQuantity(parseQuantity('1Gi'), parseQuantity('1G')), 1);
  assert.equal(compareQuantity(parseQuantity('100m'), parseQuantity('0.2')), -1);
  assert.equal(formatQuantity(addQuantity(parseQuantity('500m'), parseQuantity('1500m'))), '2');
  assert.equal(quantityMilliValue(parseQuantity('1.5')), 1500);
  assert.equal(quantityValue(parseQuantity('1500m')), 2);
  assert.equal(quantityValue(parseQuantity('1Ki')), 1024);
  assert.equal(canonicalQuantity('2000Mi'), '2000Mi');
  assert.equal(canonicalQuantity('nope'), 'nope');
});
