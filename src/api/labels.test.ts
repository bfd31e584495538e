import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLabelSelector, labelSelectorMatches } from './labels.js';

test('label selectors: nil selects nothing, empty selects everything, terms are ANDed', () => {
  const labels = { app: 'web', tier: 'front' };
  assert.equal(labelSelectorMatches(undefined, labels), false);
  assert.equal(labelSelectorMatches({}, labels), true);
  assert.equal(labelSelectorMatches({}, undefined), true);
  const sel = compileLabelSelector({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['front', 'edge'] },
      { key: 'canary', operator: 'DoesNotExist' },
    ],
  });
  assert.equal(sel(labels), true);
  assert.equal(sel({ ...labels, canary: 'yes' }), false);
  assert.equal(sel({ app: 'web', tier: 'back' }), false);
  assert.equal(
    labelSelectorMatches({ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['1'] }] }, {}),
    true,
  );
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'x', operator: 'Exists' }] }, {}), false);
  assert.equal(
    labelSelectorMatches({ matchExpressions: [{ key: 'x', operator: 'Bogus' }] }, { x: '1' }),
    false,
  );
});
