import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nodeMemory } from './cri-backend.js';

describe('node memory from /proc/meminfo', () => {
  test('the working set is what is not available (page cache counts as available)', () => {
    const meminfo = [
      'MemTotal:        8048576 kB',
      'MemFree:          512000 kB',
      'MemAvailable:    6048576 kB',
      'Buffers:          100000 kB',
      'Cached:          5000000 kB',
    ].join('\n');
    assert.deepEqual(nodeMemory(meminfo), { total: 8048576 * 1024, available: 6048576 * 1024 });
  });

  test('MemFree when the kernel has no MemAvailable; nothing from what is not meminfo', () => {
    assert.deepEqual(nodeMemory('MemTotal: 1000 kB\nMemFree: 250 kB'), { total: 1024000, available: 256000 });
    assert.equal(nodeMemory(''), undefined);
  });
});
