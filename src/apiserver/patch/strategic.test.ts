import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../api/errors.js';
import type { JsonObject, JsonValue } from '../../api/meta.js';
import { applyStrategicMergePatch, supportsStrategicMerge } from './index.js';
import { CONFIGMAP, CRONTAB, DEPLOYMENT, FixtureRegistry } from './test-schemas.js';

const schemas = new FixtureRegistry();
const ctx = { schemaRef: DEPLOYMENT, schemas };

function live(): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'nginx',
      namespace: 'default',
      labels: { app: 'nginx' },
      finalizers: ['a', 'b', 'c'],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'nginx' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx:1.25',
              args: ['--a'],
              ports: [
                { containerPort: 80, protocol: 'TCP' },
                { containerPort: 8080, protocol: 'TCP' },
              ],
              env: [{ name: 'A', value: '1' }],
            },
            { name: 'sidecar', image: 'busybox' },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          restartPolicy: 'Always',
        },
      },
    },
  };
}

function get(doc: JsonValue, path: string): JsonValue | undefined {
  let cur: JsonValue | undefined = doc;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[Number(p)] : cur[p];
  }
  return cur;
}

const containers = (doc: JsonValue): JsonObject[] =>
  get(doc, 'spec.template.spec.containers') as JsonObject[];
const names = (list: JsonValue | undefined): JsonValue[] =>
  (list as JsonObject[]).map((c) => c.name ?? c.containerPort ?? null);

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, `expected a StatusError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('applyStrategicMergePatch: patches kubectl apply computes', () => {
  it('changes an image, keeping the other containers and fields', () => {
    const patch = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }],
            containers: [{ image: 'nginx:1.26', name: 'nginx' }],
          },
        },
      },
    };
    const doc = live();
    const out = applyStrategicMergePatch(doc, patch, ctx);
    assert.deepEqual(doc, live(), 'input untouched');
    const [nginx, sidecar] = containers(out);
    assert.equal(nginx!.image, 'nginx:1.26');
    assert.deepEqual(nginx!.env, [{ name: 'A', value: '1' }]);
    assert.equal(nginx!.ports && (nginx!.ports as JsonValue[]).length, 2);
    assert.deepEqual(sidecar, { name: 'sidecar', image: 'busybox' });
    assert.equal(get(out, 'spec.replicas'), 2);
    assert.deepEqual(get(out, 'metadata.annotations'), {
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    });
  });

  it('adds a container where $setElementOrder puts it', () => {
    const out = applyStrategicMergePatch(
      live(),
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'metrics' }, { name: 'sidecar' }],
              containers: [{ image: 'prom', name: 'metrics' }],
            },
          },
        },
      },
      ctx,
    );
    assert.deepEqual(names(containers(out)), ['nginx', 'metrics', 'sidecar']);
  });

  it('puts new items first when no order is given (plain kubectl patch)', () => {
    const out = applyStrategicMergePatch(
      live(),
      { spec: { template: { spec: { containers: [{ name: 'metrics', image: 'prom' }] } } } },
      ctx,
    );
    assert.deepEqual(names(containers(out)), ['metrics', 'nginx', 'sidecar']);
  });

  it('removes a container with $patch: delete', () => {
    const out = applyStrategicMergePatch(
      live(),
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'nginx' }],
              containers: [{ $patch: 'delete', name: 'sidecar' }],
            },
          },
        },
      },
      ctx,
    );
    assert.deepEqual(names(containers(out)), ['nginx']);
  });

  it('adds an env var to a container, in order', () => {
    const out = applyStrategicMergePatch(
      live(),
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }],
              containers: [
                {
                  '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }],
                  env: [{ name: 'B', value: '2' }],
                  name: 'nginx',
                },
              ],
            },
          },
        },
      },
      ctx,
    );
    assert.deepEqual(containers(out)[0]!.env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
  });

  it('removes a port by its merge key', () => {
    const out = applyStrategicMergePatch(
      live(),
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }],
              containers: [
                {
                  '$setElementOrder/ports': [{ containerPort: 80 }],
                  name: 'nginx',
                  ports: [{ $patch: 'delete', containerPort: 8080 }],
                },
              ],
            },
          },
        },
      },
      ctx,
    );
    assert.deepEqual(containers(out)[0]!.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  });

  it('switches the strategy to Recreate with $retainKeys, dropping rollingUpdate', () => {
    const out = applyStrategicMergePatch(
      live(),
      { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } },
      ctx,
    );
    assert.deepEqual(get(out, 'spec.strategy'), { type: 'Recreate' });
  });

  it('switches back to RollingUpdate with $retainKeys', () => {
    const doc = live();
    (doc.spec as JsonObject).strategy = { type: 'Recreate' };
    const out = applyStrategicMergePatch(
      doc,
      {
        spec: {
          strategy: {
            $retainKeys: ['rollingUpdate', 'type'],
            rollingUpdate: { maxSurge: 1 },
            type: 'RollingUpdate',
          },
        },
      },
      ctx,
    );
    assert.deepEqual(get(out, 'spec.strategy'), { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } });
  });

  it('replaces a volume source under merge,retainKeys', () => {
    const out = applyStrategicMergePatch(
      live(),
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/volumes': [{ name: 'data' }],
              volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' }, name: 'data' }],
            },
          },
        },
      },
      ctx,
    );
    assert.deepEqual(get(out, 'spec.template.spec.volumes'), [{ name: 'data', configMap: { name: 'cfg' } }]);
  });

  it('removes a label with null', () => {
    const out = applyStrategicMergePatch(live(), { metadata: { labels: { app: null, tier: 'web' } } }, ctx);
    assert.deepEqual(get(out, 'metadata.labels'), { tier: 'web' });
  });
});

describe('applyStrategicMergePatch: directives and strategies', () => {
  it('unions primitive lists with strategy merge, new items first', () => {
    const out = applyStrategicMergePatch(live(), { metadata: { finalizers: ['d', 'b'] } }, ctx);
    assert.deepEqual(get(out, 'metadata.finalizers'), ['d', 'a', 'b', 'c']);
  });

  it('orders a primitive list by $setElementOrder', () => {
    const out = applyStrategicMergePatch(
      live(),
      { metadata: { '$setElementOrder/finalizers': ['a', 'b', 'c', 'd'], finalizers: ['d'] } },
      ctx,
    );
    assert.deepEqual(get(out, 'metadata.finalizers'), ['a', 'b', 'c', 'd']);
  });

  it('deletes from a primitive list with $deleteFromPrimitiveList', () => {
    const out = applyStrategicMergePatch(
      live(),
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'] } },
      ctx,
    );
    assert.deepEqual(get(out, 'metadata.finalizers'), ['a', 'c']);
  });

  it('replaces lists that have no strategy', () => {
    const out = applyStrategicMergePatch(
      live(),
      { spec: { template: { spec: { containers: [{ name: 'nginx', args: ['--b'] }] } } } },
      ctx,
    );
    assert.deepEqual(containers(out)[0]!.args, ['--b']);
  });

  it('replaces a whole map with $patch: replace', () => {
    const out = applyStrategicMergePatch(
      live(),
      { spec: { template: { metadata: { labels: { $patch: 'replace', role: 'x' } } } } },
      ctx,
    );
    assert.deepEqual(get(out, 'spec.template.metadata.labels'), { role: 'x' });
  });

  it('empties a map with $patch: delete', () => {
    const out = applyStrategicMergePatch(live(), { metadata: { labels: { $patch: 'delete' } } }, ctx);
    assert.deepEqual(get(out, 'metadata.labels'), {});
  });

  it('replaces a whole merging list with a $patch: replace item', () => {
    const out = applyStrategicMergePatch(
      live(),
      { spec: { template: { spec: { containers: [{ name: 'solo', image: 'x' }, { $patch: 'replace' }] } } } },
      ctx,
    );
    assert.deepEqual(containers(out), [{ name: 'solo', image: 'x' }]);
  });

  it('merges fields the schema does not describe like a merge patch', () => {
    const doc = live();
    (doc.spec as JsonObject).extra = { a: 1, list: [1, 2] };
    const out = applyStrategicMergePatch(doc, { spec: { extra: { b: 2, list: [3] } } }, ctx);
    assert.deepEqual(get(out, 'spec.extra'), { a: 1, list: [3], b: 2 });
  });

  it('drops directives and nulls from values it adds', () => {
    const doc = live();
    delete (doc.spec as JsonObject).strategy;
    const out = applyStrategicMergePatch(
      doc,
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } },
      ctx,
    );
    assert.deepEqual(get(out, 'spec.strategy'), { type: 'Recreate' });
  });

  it('works on kinds without lists (ConfigMap)', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } };
    const out = applyStrategicMergePatch(
      cm,
      { data: { a: null, c: '3' } },
      { schemaRef: CONFIGMAP, schemas },
    );
    assert.deepEqual(out.data, { b: '2', c: '3' });
  });
});

describe('applyStrategicMergePatch: errors', () => {
  it('answers 400 for $retainKeys that is not a list or misses a patched key', () => {
    let err = statusOf(() =>
      applyStrategicMergePatch(live(), { spec: { strategy: { $retainKeys: 'type' } } }, ctx),
    );
    assert.equal(err.code, 400);
    assert.equal(err.message, 'invalid patch format of retainKeys');
    err = statusOf(() =>
      applyStrategicMergePatch(
        live(),
        { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: 1 } } } },
        ctx,
      ),
    );
    assert.equal(err.message, 'invalid patch format of retainKeys');
  });

  it('answers 400 for a malformed $setElementOrder or $deleteFromPrimitiveList key', () => {
    let err = statusOf(() => applyStrategicMergePatch(live(), { metadata: { $setElementOrder: [] } }, ctx));
    assert.equal(err.code, 400);
    assert.equal(err.message, 'invalid patch format of setElementOrder list');
    err = statusOf(() =>
      applyStrategicMergePatch(live(), { metadata: { $deleteFromPrimitiveList: ['a'] } }, ctx),
    );
    assert.equal(err.message, 'invalid patch format of primitive list');
  });

  it('answers 500 with the message for an item without its merge key', () => {
    const err = statusOf(() =>
      applyStrategicMergePatch(
        live(),
        { spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
        ctx,
      ),
    );
    assert.equal(err.code, 500);
    assert.equal(err.reason, undefined);
    assert.equal(err.message, 'map: map[image:x] does not contain declared merge key: name');
  });

  it('answers 500 for an unknown $patch directive and for $patch: merge in a list', () => {
    let err = statusOf(() =>
      applyStrategicMergePatch(live(), { metadata: { labels: { $patch: 'frob', a: '1' } } }, ctx),
    );
    assert.equal(err.message, 'unknown patch type: frob in map: map[$patch:frob a:1]');
    err = statusOf(() =>
      applyStrategicMergePatch(
        live(),
        { spec: { template: { spec: { containers: [{ $patch: 'merge', name: 'x' }] } } } },
        ctx,
      ),
    );
    assert.equal(err.message, 'merging lists cannot yet be specified in the patch');
  });

  it('answers 422 for lists of lists', () => {
    const doc = live();
    (doc.metadata as JsonObject).finalizers = [['x']];
    const err = statusOf(() => applyStrategicMergePatch(doc, { metadata: { finalizers: [['y']] } }, ctx));
    assert.equal(err.code, 422);
    assert.equal((err.cause as Error).message, 'lists of lists are not supported');
  });
});

describe('supportsStrategicMerge', () => {
  it('is true for built-in kinds and false for custom resources or unknown schemas', () => {
    assert.equal(supportsStrategicMerge(DEPLOYMENT, schemas), true);
    assert.equal(supportsStrategicMerge(CONFIGMAP, schemas), true);
    assert.equal(supportsStrategicMerge(CRONTAB, schemas), false);
    assert.equal(supportsStrategicMerge('io.k8s.api.nope.v1.Nothing', schemas), false);
  });
});
