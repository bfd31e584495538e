import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from './flags.js';
import { parseDuration, parseKubeletArgs } from './kubelet-args.js';

describe('--kubelet-arg', () => {
  it('reads the settings the node agent understands', () => {
    assert.deepEqual(
      parseKubeletArgs('agent', [
        'pod-manifest-path=/etc/k8ts/manifests',
        'eviction-hard=memory.available<200Mi,nodefs.available<5%',
        'image-gc-high-threshold=0',
        'image-gc-low-threshold=0',
        'minimum-image-ttl-duration=0s',
        '--image-gc-period=1m30s',
      ]),
      {
        staticPodPath: '/etc/k8ts/manifests',
        evictionHard: 'memory.available<200Mi,nodefs.available<5%',
        imageGC: { highThresholdPercent: 0, lowThresholdPercent: 0, minAgeMs: 0, periodMs: 90_000 },
      },
    );
    assert.deepEqual(parseKubeletArgs('agent', []), {});
  });

  it('refuses what it does not understand, as a usage error', () => {
    assert.throws(
      () => parseKubeletArgs('server', ['max-pods=10']),
      /server: --kubelet-arg: unsupported kubelet setting "max-pods"/,
    );
    assert.throws(
      () => parseKubeletArgs('agent', ['eviction-hard=memory.free<1Gi']),
      /unsupported eviction signal memory.free/,
    );
    assert.throws(
      () => parseKubeletArgs('agent', ['image-gc-low-threshold=90']),
      /LowThresholdPercent 90 can not be higher than HighThresholdPercent 85/,
    );
    assert.throws(() => parseKubeletArgs('agent', ['image-gc-period=soon']), UsageError);
    assert.throws(() => parseKubeletArgs('agent', ['novalue']), /expected KEY=VALUE/);
  });

  it('parses Go durations', () => {
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h0m5s'), 3_605_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('5'), undefined);
  });
});
