import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSchedulerConfig, resolveProfiles, SchedulerConfigError } from './config.js';

describe('scheduler configuration', () => {
  it('resolves the default profile like upstream (filter order and score weights)', () => {
    const [p] = resolveProfiles();
    assert.equal(p!.schedulerName, 'default-scheduler');
    assert.deepEqual(
      p!.plugins.filter.map((x) => x.name),
      [
        'NodeUnschedulable',
        'NodeName',
        'TaintToleration',
        'NodeAffinity',
        'NodePorts',
        'NodeResourcesFit',
        'VolumeBinding',
        'PodTopologySpread',
        'InterPodAffinity',
      ],
    );
    assert.deepEqual(Object.fromEntries(p!.plugins.score.map((x) => [x.name, x.weight])), {
      TaintToleration: 3,
      NodeAffinity: 2,
      NodeResourcesFit: 1,
      PodTopologySpread: 2,
      InterPodAffinity: 2,
      NodeResourcesBalancedAllocation: 1,
      ImageLocality: 1,
    });
    assert.deepEqual(
      p!.plugins.postFilter.map((x) => x.name),
      ['DefaultPreemption'],
    );
    assert.deepEqual(
      p!.plugins.bind.map((x) => x.name),
      ['DefaultBinder'],
    );
  });

  it('parses profiles with disabled and re-weighted plugins and plugin args', () => {
    const cfg = parseSchedulerConfig(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
profiles:
  - schedulerName: default-scheduler
  - schedulerName: no-spread
    plugins:
      score:
        disabled:
          - name: PodTopologySpread
        enabled:
          - name: NodeResourcesFit
            weight: 5
      postFilter:
        disabled:
          - name: '*'
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: MostAllocated
`);
    const [def, custom] = resolveProfiles(cfg);
    assert.equal(def!.percentageOfNodesToScore, 30);
    assert.equal(custom!.schedulerName, 'no-spread');
    assert.equal(
      custom!.plugins.score.find((x) => x.name === 'PodTopologySpread'),
      undefined,
    );
    assert.equal(custom!.plugins.score.find((x) => x.name === 'NodeResourcesFit')?.weight, 5);
    assert.equal(custom!.plugins.postFilter.length, 0);
    assert.ok(custom!.plugins.filter.some((x) => x.name === 'PodTopologySpread'));
    assert.deepEqual(custom!.pluginConfig.get('NodeResourcesFit'), {
      scoringStrategy: { type: 'MostAllocated' },
    });
  });

  it('reports every problem with its field path', () => {
    const bad = `
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 120
bogus: 1
profiles:
  - schedulerName: a
    plugins:
      filter:
        enabled:
          - name: NoSuchPlugin
  - schedulerName: a
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: Fastest
`;
    assert.throws(
      () => parseSchedulerConfig(bad),
      (err: unknown) => {
        assert.ok(err instanceof SchedulerConfigError);
        assert.deepEqual(err.errors, [
          'unknown field "bogus"',
          'percentageOfNodesToScore: Invalid value: 120: not in valid range [0-100]',
          'profiles[0].plugins.filter.enabled[0].name: Invalid value: "NoSuchPlugin": plugin does not exist',
          'profiles[1].schedulerName: Duplicate value: "a"',
          'profiles[1].pluginConfig[0].args.scoringStrategy.type: Unsupported value: "Fastest": supported values: "LeastAllocated", "MostAllocated"',
        ]);
        return true;
      },
    );
  });

  it('rejects a plugin enabled at a point it does not implement, and malformed YAML', () => {
    assert.throws(
      () =>
        parseSchedulerConfig(
          'profiles:\n  - plugins:\n      bind:\n        enabled:\n          - name: NodeName\n',
        ),
      /profiles\[0\]\.plugins\.bind\.enabled\[0\]\.name: Invalid value: "NodeName": plugin does not extend bind/,
    );
    assert.throws(() => parseSchedulerConfig('profiles: [\n'), /couldn't decode scheduler configuration/);
  });
});
