import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeNode, makePod } from '../../testing/builders.js';
import { onlyPlugin, testCluster } from '../../testing/framework.js';
import { normalizedImageName } from './index.js';

const MB = 1024 * 1024;

describe('ImageLocality', () => {
  it('normalizes image names with the implicit :latest tag', () => {
    assert.equal(normalizedImageName('nginx'), 'nginx:latest');
    assert.equal(normalizedImageName('nginx:1.27'), 'nginx:1.27');
    assert.equal(normalizedImageName('localhost:5000/app'), 'localhost:5000/app:latest');
    assert.equal(normalizedImageName('app@sha256:abc'), 'app@sha256:abc');
  });

  it('scores nodes that have the image by size and spread', () => {
    const c = testCluster(
      [makeNode('has', { images: [{ names: ['big:1'], sizeBytes: 500 * MB }] }), makeNode('none')],
      [],
      onlyPlugin('ImageLocality'),
    );
    const s = c.scoreAll(makePod('p', { image: 'big:1' }));
    // 500 MB × (1 of 2 nodes) = 250 MB; (250 − 23) / (1000 − 23) × 100 = 23.
    assert.equal(s.get('has'), 23);
    assert.equal(s.get('none'), 0);
  });
});
