// The patch machinery against the generated built-in definitions (src/api/generated/), so that the
// shapes the generator emits keep working with strategic merge and server-side apply.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject, KubeObject } from '../../api/meta.js';
import { DefinitionRegistry } from '../../api/schema-registry.js';
import { StatusError } from '../../api/errors.js';
import {
  applyServerSide,
  applyStrategicMergePatch,
  supportsStrategicMerge,
  updateManagedFields,
} from './index.js';

const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';

function load(): DefinitionRegistry | undefined {
  try {
    return DefinitionRegistry.loadBuiltin();
  } catch {
    return undefined;
  }
}

const schemas = load();

function deployment(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'web', image: 'nginx:1', ports: [{ containerPort: 80, protocol: 'TCP' }] }],
        },
      },
    },
  };
}

describe('patching with the generated built-in definitions', { skip: schemas === undefined }, () => {
  it('strategic-merges containers by name and ports by containerPort', () => {
    const out = applyStrategicMergePatch(
      deployment() as unknown as JsonObject,
      {
        spec: {
          template: {
            spec: {
              containers: [{ name: 'web', image: 'nginx:2', ports: [{ containerPort: 443 }] }],
            },
          },
        },
      },
      { schemaRef: DEPLOYMENT, schemas: schemas! },
    );
    const c = (
      (((out.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[]
    )[0]!;
    assert.equal(c.image, 'nginx:2');
    assert.deepEqual(
      (c.ports as JsonObject[]).map((p) => p.containerPort),
      [443, 80],
    );
    assert.equal(supportsStrategicMerge(DEPLOYMENT, schemas!), true);
  });

  it('records managedFields and detects apply conflicts', () => {
    const created = updateManagedFields({
      old: undefined,
      updated: deployment(),
      manager: 'kubectl-client-side-apply',
      operation: 'Update',
      apiVersion: 'apps/v1',
      schemaRef: DEPLOYMENT,
      schemas: schemas!,
      now: new Date('2026-01-01T00:00:00Z'),
    });
    created.metadata.uid = 'u';
    const fields = created.metadata.managedFields?.[0]?.fieldsV1 as JsonObject;
    assert.ok(
      (
        (((fields['f:spec'] as JsonObject)['f:template'] as JsonObject)['f:spec'] as JsonObject)[
          'f:containers'
        ] as JsonObject
      )['k:{"name":"web"}'],
    );
    try {
      applyServerSide({
        live: created,
        applied: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web', namespace: 'default' },
          spec: { replicas: 3 },
        },
        manager: 'fleet',
        force: false,
        schemaRef: DEPLOYMENT,
        schemas: schemas!,
        apiVersion: 'apps/v1',
        now: new Date('2026-01-01T00:01:00Z'),
      });
      assert.fail('expected a conflict');
    } catch (e) {
      assert.ok(e instanceof StatusError);
      assert.equal(
        e.message,
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
      );
    }
  });
});
