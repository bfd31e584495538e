import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeNode, makePod } from '../../testing/builders.js';
import { onlyPlugin, testCluster } from '../../testing/framework.js';

const MSG = "node(s) didn't match Pod's node affinity/selector";

describe('NodeAffinity', () => {
  const nodes = [
    makeNode('a', { labels: { zone: 'a', cores: '8', disk: 'ssd' } }),
    makeNode('b', { labels: { zone: 'b', cores: '32' } }),
    makeNode('c', { labels: { zone: 'c' } }),
  ];

  it('filters on nodeSelector', () => {
    const c = testCluster(nodes, [], onlyPlugin('NodeAffinity'));
    const r = c.filterAll(makePod('p', { nodeSelector: { zone: 'b' } }));
    assert.deepEqual(Object.fromEntries(r), { a: MSG, b: '', c: MSG });
  });

  it('filters on required terms: ORed terms, ANDed expressions, Gt, DoesNotExist and matchFields', () => {
    const c = testCluster(nodes, [], onlyPlugin('NodeAffinity'));
    const pod = makePod('p', {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['16'] }] },
              {
                matchExpressions: [{ key: 'disk', operator: 'DoesNotExist' }],
                matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }],
              },
            ],
          },
        },
      },
    });
    const r = c.filterAll(pod);
    assert.deepEqual(Object.fromEntries(r), { a: MSG, b: '', c: '' });
  });

  it('scores preferred terms by weight, normalized to 100', () => {
    const c = testCluster(nodes, [], onlyPlugin('NodeAffinity'));
    const pod = makePod('p', {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 20,
              preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
            },
            {
              weight: 80,
              preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
            },
          ],
        },
      },
    });
    const s = c.scoreAll(pod);
    assert.deepEqual(Object.fromEntries(s), { a: 25, b: 100, c: 0 });
  });
});
